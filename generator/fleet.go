package generator

import (
	"encoding/json"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"sort"
	"strings"

	"github.com/invopop/jsonschema"
)

// The statuses of a service in a fleet check.
const (
	StatusUpToDate     = "up-to-date"    // regen would change nothing
	StatusDrift        = "drift"         // regen would change files, cleanly
	StatusConflictRisk = "conflict-risk" // regen would conflict, refuse a hand edit or not compile
	StatusError        = "error"         // the service could not be checked
)

// CheckReport is the JSON document of `svcgen check --json`: the drift
// report of a fleet. Its schema is published as schema/check.schema.json.
type CheckReport struct {
	// Svcgen is the version of svcgen that checked the services.
	Svcgen string `json:"svcgen"`
	// Services are the services checked, in the order given (a fleet
	// directory's services sorted by path).
	Services []ServiceCheck `json:"services"`
	// Summary counts the services by status and by recorded svcgen version.
	Summary CheckSummary `json:"summary"`
}

// ServiceCheck is what a regen of one service would do.
type ServiceCheck struct {
	// Path is the service's directory as given or found under a fleet directory.
	Path string `json:"path"`
	// Name is the service's name, from its manifest.
	Name string `json:"name,omitempty"`
	// Module is the service's Go module path, from its manifest.
	Module string `json:"module,omitempty"`
	// Recorded is the svcgen version that last generated the service.
	Recorded string `json:"recorded,omitempty"`
	// Preset is the preset the service was generated from.
	Preset string `json:"preset,omitempty"`
	// Error says why the service could not be checked (status error).
	Error string `json:"error,omitempty"`
	// Status is up-to-date, drift, conflict-risk or error.
	Status string `json:"status" jsonschema:"enum=up-to-date,enum=drift,enum=conflict-risk,enum=error"`
	// TypeCheckSkipped says why the service was not type-checked as the
	// regen would leave it, when it could not be.
	TypeCheckSkipped string `json:"type_check_skipped,omitempty"`
	// Features are the enabled features.
	Features []string `json:"features,omitempty"`
	// Pending are the files a regen would change, by ownership class
	// (generated, merged, scaffold; manifest for .svcgen.yaml).
	Pending []ClassChanges `json:"pending"`
	// Conflicts are the merged files whose three-way merge would conflict:
	// the team edited lines svcgen changes too (predicted by the merge
	// regen runs, in memory).
	Conflicts []ConflictFile `json:"conflicts"`
	// HandEdited are generated files edited by hand that svcgen would
	// rewrite: regen refuses them until the edit moves or --overwrite.
	HandEdited []string `json:"hand_edited"`
	// Findings are why the service would not compile after the regen,
	// implementations serving no operation and unresolved conflict markers.
	Findings []Finding `json:"findings"`
	// Changes are Pending's files in the order the regen plan lists them
	// (for svcgen check's text output).
	Changes []FileChange `json:"-"`
	// Changed is the number of files a regen would write or remove.
	Changed int `json:"changed"`
	// TidyPending is true when go mod tidy did not finish after the last regen.
	TidyPending bool `json:"tidy_pending"`
	// RegenPending is true when an interrupted regen waits to be completed.
	RegenPending bool `json:"regen_pending"`
}

// ClassChanges are the pending changes of one ownership class.
type ClassChanges struct {
	// Class is generated, merged, scaffold or manifest.
	Class string `json:"class"`
	// Files are the files of the class a regen would change.
	Files []FileChange `json:"files"`
	// Count is len(Files).
	Count int `json:"count"`
}

// FileChange is one file a regen would change.
type FileChange struct {
	// Path is relative to the service.
	Path string `json:"path"`
	// Action is created, updated, merged, conflict, removed or hand-edited.
	Action string `json:"action"`
	// Note says why, when there is more to say.
	Note string `json:"note,omitempty"`
}

// ConflictFile is a merged file a regen would write with conflict markers.
type ConflictFile struct {
	// Path is relative to the service.
	Path string `json:"path"`
	// Hunks is the number of conflicting hunks.
	Hunks int `json:"hunks"`
}

// CheckSummary counts a fleet check.
type CheckSummary struct {
	// Versions counts the services by the svcgen version they record.
	Versions map[string]int `json:"versions"`
	// Services is the number of services checked.
	Services int `json:"services"`
	// UpToDate, Drift, ConflictRisk and Error count the services by status.
	UpToDate     int `json:"up_to_date"`
	Drift        int `json:"drift"`
	ConflictRisk int `json:"conflict_risk"`
	Error        int `json:"error"`
}

// ActionWord is the word reports use for an action.
func ActionWord(a Action) string {
	switch a {
	case Create:
		return "created"
	case Update, Overwrite:
		return "updated"
	case Merge:
		return "merged"
	case Conflict:
		return "conflict"
	case Keep, Deleted:
		return "skipped"
	case Orphan:
		return "orphaned"
	case Remove:
		return "removed"
	case HandEdit:
		return "hand-edited"
	}
	return "unchanged"
}

// ClassOrder is the order reports list the ownership classes in.
var ClassOrder = []string{string(Generated), string(Merged), string(Scaffold), "manifest"}

// GroupByClass groups file changes by class, in ClassOrder, each class's
// files sorted by path; classes without files are left out.
func GroupByClass(byClass map[string][]FileChange) []ClassChanges {
	out := []ClassChanges{}
	for _, c := range ClassOrder {
		if fs := byClass[c]; len(fs) > 0 {
			sort.Slice(fs, func(i, j int) bool { return fs[i].Path < fs[j].Path })
			out = append(out, ClassChanges{Class: c, Files: fs, Count: len(fs)})
		}
	}
	for c, fs := range byClass {
		if !slices.Contains(ClassOrder, c) && len(fs) > 0 {
			out = append(out, ClassChanges{Class: c, Files: fs, Count: len(fs)})
		}
	}
	return out
}

// Summarize fills r.Summary from r.Services.
func (r *CheckReport) Summarize() {
	s := CheckSummary{Versions: map[string]int{}, Services: len(r.Services)}
	for _, sc := range r.Services {
		switch sc.Status {
		case StatusUpToDate:
			s.UpToDate++
		case StatusDrift:
			s.Drift++
		case StatusConflictRisk:
			s.ConflictRisk++
		default:
			s.Error++
		}
		if sc.Recorded != "" {
			s.Versions[sc.Recorded]++
		}
	}
	r.Summary = s
}

// FindServices returns the directories under root holding a .svcgen.yaml,
// sorted; root itself when it holds one. It does not descend into a
// service, nor into .git, .svcgen, vendor or node_modules.
func FindServices(root string) ([]string, error) {
	var out []string
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.IsDir() {
			return nil
		}
		switch d.Name() {
		case ".git", ".svcgen", "vendor", "node_modules", "testdata":
			if p != root {
				return filepath.SkipDir
			}
		}
		if _, err := os.Stat(filepath.Join(p, ManifestPath)); err == nil {
			out = append(out, p)
			return filepath.SkipDir
		}
		return nil
	})
	sort.Strings(out)
	return out, err
}

// ExpandServices turns the arguments of check and fleet upgrade into
// service directories: a directory with a .svcgen.yaml is a service, any
// other directory is a fleet whose services are found under it.
func ExpandServices(args []string) ([]string, error) {
	var out []string
	for _, a := range args {
		st, err := os.Stat(a)
		if err != nil {
			return nil, err
		}
		if !st.IsDir() {
			return nil, fmt.Errorf("%s is not a directory: pass a service's directory or a directory holding services", a)
		}
		if _, err := os.Stat(filepath.Join(a, ManifestPath)); err == nil {
			out = append(out, a)
			continue
		}
		found, err := FindServices(a)
		if err != nil {
			return nil, err
		}
		if len(found) == 0 {
			return nil, fmt.Errorf("%s holds no service: no %s in it or below it (bring a service under svcgen with svcgen adopt)", a, ManifestPath)
		}
		out = append(out, found...)
	}
	return out, nil
}

// Fleet is a fleet file: the services of a fleet in rollout waves. The
// first wave is the canary: a later wave upgrades only once every service
// of the waves before it is up to date on its default branch.
type Fleet struct {
	// Waves are upgraded in this order.
	Waves []Wave `yaml:"waves"`
	// file is where the fleet file was read from.
	file string
}

// Wave is one step of a rollout.
type Wave struct {
	// Name is how --wave selects it (canary, main, ...).
	Name string `yaml:"name"`
	// Services are service directories or glob patterns, relative to the
	// fleet file's directory; a directory without a .svcgen.yaml is
	// searched for services.
	Services []string `yaml:"services"`
	// dirs are the services, resolved.
	dirs []string
}

// ReadFleet reads and resolves a fleet file. Errors name the file, line
// and field.
func ReadFleet(file string) (*Fleet, error) {
	data, err := os.ReadFile(file)
	if err != nil {
		return nil, err
	}
	f := &Fleet{file: file}
	if err := decodeStrict(file, data, f); err != nil {
		return nil, err
	}
	if len(f.Waves) == 0 {
		return nil, fmt.Errorf("%s: no waves: list them under waves:, the canary first (- name: canary\\n  services: [services/a])", file)
	}
	lines := seqLines(data, "waves")
	line := func(i int) int {
		if l, ok := lines[i]; ok {
			return l
		}
		return 1
	}
	base := filepath.Dir(file)
	seen := map[string]string{}
	names := map[string]bool{}
	for i := range f.Waves {
		w := &f.Waves[i]
		switch {
		case w.Name == "":
			return nil, fmt.Errorf("%s:%d: waves[%d] has no name: give it one (name: canary) for --wave to select it", file, line(i), i)
		case names[w.Name]:
			return nil, fmt.Errorf("%s:%d: wave %q is named twice: wave names must be unique", file, line(i), w.Name)
		case len(w.Services) == 0:
			return nil, fmt.Errorf("%s:%d: wave %q lists no services: add their directories under services:, relative to %s", file, line(i), w.Name, base)
		}
		names[w.Name] = true
		for _, pat := range w.Services {
			matches, err := filepath.Glob(filepath.Join(base, pat))
			if err != nil {
				return nil, fmt.Errorf("%s:%d: wave %q: bad pattern %q: %v", file, line(i), w.Name, pat, err)
			}
			if len(matches) == 0 {
				return nil, fmt.Errorf("%s:%d: wave %q: %q matches nothing under %s: fix the path (relative to the fleet file)", file, line(i), w.Name, pat, base)
			}
			dirs, err := ExpandServices(matches)
			if err != nil {
				return nil, fmt.Errorf("%s:%d: wave %q: %w", file, line(i), w.Name, err)
			}
			for _, d := range dirs {
				d = filepath.Clean(d)
				if other, ok := seen[d]; ok {
					if other == w.Name {
						continue
					}
					return nil, fmt.Errorf("%s:%d: %s is in wave %q and in wave %q: a service belongs to one wave", file, line(i), d, other, w.Name)
				}
				seen[d] = w.Name
				w.dirs = append(w.dirs, d)
			}
		}
	}
	return f, nil
}

// Wave returns the services of the named wave and those of the waves
// before it.
func (f *Fleet) Wave(name string) (dirs, before []string, err error) {
	var names []string
	for _, w := range f.Waves {
		if w.Name == name {
			return w.dirs, before, nil
		}
		names = append(names, w.Name)
		before = append(before, w.dirs...)
	}
	return nil, nil, fmt.Errorf("%s has no wave %q: its waves are %s", f.file, name, strings.Join(names, ", "))
}

// All returns every service of the fleet, wave after wave.
func (f *Fleet) All() []string {
	var out []string
	for _, w := range f.Waves {
		out = append(out, w.dirs...)
	}
	return out
}

// WaveNames are the names of the waves, in rollout order.
func (f *Fleet) WaveNames() []string {
	var out []string
	for _, w := range f.Waves {
		out = append(out, w.Name)
	}
	return out
}

// CheckSchema is the JSON Schema of `svcgen check --json`, published as
// schema/check.schema.json.
func CheckSchema() ([]byte, error) {
	return reflectSchema(&CheckReport{}, "check.schema.json", "svcgen check --json report")
}

// UpgradeSchema is the JSON Schema of `svcgen fleet upgrade --json`,
// published as schema/fleet-upgrade.schema.json.
func UpgradeSchema() ([]byte, error) {
	return reflectSchema(&UpgradeReport{}, "fleet-upgrade.schema.json", "svcgen fleet upgrade report")
}

func reflectSchema(v any, name, title string) ([]byte, error) {
	r := &jsonschema.Reflector{ExpandedStruct: true, DoNotReference: true}
	// The doc comments become the descriptions (found when run from this
	// package's directory, as its test does).
	_ = r.AddGoComments("github.com/svcgen/svcgen/generator", "./")
	r.Namer = func(t reflect.Type) string { return t.Name() }
	s := r.Reflect(v)
	s.ID = jsonschema.ID("https://github.com/svcgen/svcgen/schema/" + name)
	s.Title = title
	out, err := json.MarshalIndent(s, "", "  ")
	return append(out, '\n'), err
}
