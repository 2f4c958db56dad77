package generator

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"

	udiff "github.com/aymanbagabas/go-udiff"
	"gopkg.in/yaml.v3"
)

// Action is what regeneration does with one file.
type Action string

// The actions of a regeneration plan.
const (
	Unchanged Action = "unchanged" // on disk as svcgen would write it
	Create    Action = "create"    // new in this render (a new operation's stub, a new feature's file)
	Update    Action = "update"    // a generated file svcgen rewrites
	Overwrite Action = "overwrite" // a hand-edited generated file rewritten with --force (the edit is backed up)
	Merge     Action = "merge"     // a merged file whose three-way merge was clean
	Conflict  Action = "conflict"  // a merged file written with conflict markers
	Keep      Action = "keep"      // a scaffold file: the user's, never touched
	Deleted   Action = "deleted"   // the user deleted it; it stays deleted (--restore brings it back)
	Remove    Action = "remove"    // svcgen no longer produces it and it was never edited
	Orphan    Action = "orphan"    // svcgen no longer produces it, but it is the user's now: kept
	HandEdit  Action = "hand-edit" // a generated file edited by hand: regen stops unless --force
)

// Change is the plan for one file.
type Change struct {
	Path   string `json:"path"`
	Class  Class  `json:"class"`
	Action Action `json:"action"`
	// Note says why, for the report.
	Note string `json:"note,omitempty"`
	// Old is the file on disk (nil when missing); New is what will be
	// written (nil when nothing is).
	Old []byte `json:"-"`
	New []byte `json:"-"`
	// Feature is, for an orphan svcgen no longer produces, the feature
	// whose templates made it ("" when unknown or a handler file).
	Feature string `json:"feature,omitempty"`
	// render is the new render of a scaffold file that is kept: what
	// TypeCheckPlan writes instead when the file was never edited and no
	// longer compiles.
	render []byte
}

// writes reports whether applying the change touches the disk.
func (c Change) writes() bool {
	switch c.Action {
	case Create, Update, Overwrite, Merge, Conflict, Remove:
		return true
	}
	return false
}

// RegenOptions change how a plan treats the user's files.
type RegenOptions struct {
	// Overwrite overwrites hand-edited generated files (after backing
	// them up under BackupDir).
	Overwrite bool
	// Restore recreates files the user deleted.
	Restore bool
	// MergeLabel names svcgen's side in conflict markers ("svcgen v1.2.3").
	MergeLabel string
	// Catalog, when set, lets the plan refuse to drop a feature whose
	// packages the team's files still import.
	Catalog *Catalog
}

// Plan is a regeneration worked out in memory: nothing is written until
// Apply.
type Plan struct {
	// Changes are all files svcgen produces or produced, sorted by path.
	Changes []Change `json:"changes"`
	// Manifest is the new .svcgen.yaml, written last.
	Manifest []byte `json:"-"`
	// ManifestChanged is true when the manifest itself changes (a new
	// svcgen version, changed answers).
	ManifestChanged bool `json:"manifest_changed"`
	// Uncommitted are the paths with uncommitted changes in git (set by
	// the caller before Apply): Apply backs up those it changes.
	Uncommitted map[string]bool `json:"-"`
	// Command is the command line recorded in the backup's index.
	Command string `json:"-"`
	// Backup is what Apply saved before writing (nil when nothing needed
	// saving).
	Backup *Backup `json:"-"`
	// prev are the previous manifest's hashes by path.
	prev map[string]string
	// adopted is true for an adopted service, whose handlers are its own.
	adopted bool
}

// Paths returns the paths whose change has the given action.
func (p *Plan) Paths(a Action) []string {
	var out []string
	for _, c := range p.Changes {
		if c.Action == a {
			out = append(out, c.Path)
		}
	}
	return out
}

// Drifts reports whether the change is drift: regen would write or
// remove the file, or refuses the hand edit it would overwrite.
func (c Change) Drifts() bool {
	return c.writes() || c.Action == HandEdit
}

// Drift reports whether applying the plan would change anything on disk:
// the manifest, or a change that Drifts. svcgen check fails on it.
func (p *Plan) Drift() bool {
	if p.ManifestChanged {
		return true
	}
	for _, c := range p.Changes {
		if c.Drifts() {
			return true
		}
	}
	return false
}

// PlanRegen compares a fresh render with the service on disk and decides,
// by ownership class, what happens to every file. It reads dir but writes
// nothing.
func PlanRegen(dir string, m Manifest, res Result, opts RegenOptions) (*Plan, error) {
	if opts.MergeLabel == "" {
		opts.MergeLabel = "svcgen " + Version
	}
	prev := map[string]ManifestFile{}
	for _, f := range m.Files {
		prev[f.Path] = f
	}
	p := &Plan{adopted: m.Adopted != nil}
	rendered := map[string]bool{}
	for _, f := range res.Files {
		rendered[f.Path] = true
		if f.Path == ManifestPath {
			p.Manifest = f.Content
			old, _ := os.ReadFile(filepath.Join(dir, ManifestPath))
			p.ManifestChanged = !bytes.Equal(old, f.Content)
			continue
		}
		c, err := planFile(dir, f, prev, opts)
		if err != nil {
			return nil, err
		}
		p.Changes = append(p.Changes, c)
	}
	// Files svcgen wrote before and produces no more.
	for _, mf := range m.Files {
		if rendered[mf.Path] || adoptedSkip(m, mf) {
			continue
		}
		old, err := readMaybe(filepath.Join(dir, filepath.FromSlash(mf.Path)))
		if err != nil {
			return nil, err
		}
		if old == nil {
			continue
		}
		c := Change{Path: mf.Path, Class: mf.Class, Old: old}
		switch {
		case mf.Class == Scaffold && strings.HasPrefix(mf.Path, "internal/handler/"):
			c.Action, c.Note = Orphan, "its operation is gone from the spec; the file is yours: move what you need and delete it (it stops compiling once its api types are gone)"
		case hashOf(old) == mf.SHA256:
			c.Action = Remove
		default:
			c.Action, c.Note = Orphan, "no longer produced (its feature or operation is gone), but edited: kept; delete it once nothing uses it"
			if opts.Catalog != nil {
				c.Feature = opts.Catalog.PackageFeature(path.Dir(mf.Path))
			}
			if c.Feature != "" {
				c.Note = "feature " + c.Feature + " is off, but you edited this file: kept; delete it once nothing uses it (or keep the feature: --features +" + c.Feature + ")"
			}
		}
		p.Changes = append(p.Changes, c)
	}
	sort.Slice(p.Changes, func(i, j int) bool { return p.Changes[i].Path < p.Changes[j].Path })
	if err := checkRemovedPackages(dir, m, res, p, opts.Catalog); err != nil {
		return nil, err
	}
	p.prev = map[string]string{}
	for _, f := range m.Files {
		p.prev[f.Path] = f.SHA256
	}
	if err := p.recordWritten(dir); err != nil {
		return nil, err
	}
	return p, nil
}

// recordWritten makes the new manifest record, for a scaffold file the
// plan keeps, the hash of what svcgen last wrote (from the previous
// manifest) rather than of the new render it does not write: the hash
// then still says whether the team edited the file.
func (p *Plan) recordWritten(dir string) error {
	if p.Manifest == nil {
		return nil
	}
	want := map[string]string{}
	for _, c := range p.Changes {
		switch {
		case c.Class != Scaffold:
		case c.Action == Keep && p.prev[c.Path] != "":
			want[c.Path] = p.prev[c.Path]
		case c.Action == Update || c.Action == Create:
			want[c.Path] = hashOf(c.New)
		}
	}
	m, err := unmarshalManifest(p.Manifest)
	if err != nil {
		return fmt.Errorf("reading the new manifest: %w", err)
	}
	changed := false
	for i, f := range m.Files {
		if h, ok := want[f.Path]; ok && h != f.SHA256 {
			m.Files[i].SHA256, changed = h, true
		}
	}
	if !changed {
		return nil
	}
	out, err := yaml.Marshal(m)
	if err != nil {
		return err
	}
	p.Manifest = append([]byte(manifestHeader), out...)
	old, _ := os.ReadFile(filepath.Join(dir, ManifestPath))
	p.ManifestChanged = !bytes.Equal(old, p.Manifest)
	return nil
}

func planFile(dir string, f File, prev map[string]ManifestFile, opts RegenOptions) (Change, error) {
	c := Change{Path: f.Path, Class: f.Class}
	old, err := readMaybe(filepath.Join(dir, filepath.FromSlash(f.Path)))
	if err != nil {
		return c, err
	}
	c.Old = old
	mf, known := prev[f.Path]
	internal := strings.HasPrefix(f.Path, BaseDir+"/")
	switch {
	case old == nil && known && !opts.Restore && !internal:
		c.Action, c.Note = Deleted, "you deleted it; --restore brings it back"
		return c, nil
	case old == nil:
		c.Action, c.New = Create, f.Content
		return c, nil
	case bytes.Equal(old, f.Content):
		c.Action = Unchanged
		return c, nil
	}
	if internal {
		c.Action, c.New = Update, f.Content
		return c, nil
	}
	switch f.Class {
	case Scaffold:
		c.Action, c.render = Keep, f.Content
	case Generated:
		edited := !known || hashOf(old) != mf.SHA256
		switch {
		case !edited:
			c.Action, c.New = Update, f.Content
		case opts.Overwrite:
			c.Action, c.New, c.Note = Overwrite, f.Content, "hand edit overwritten; the edited file is saved under "+BackupDir+"/"
		default:
			c.Action, c.New = HandEdit, f.Content
			c.Note = "generated file edited by hand; move the change into a scaffold file (internal/app, internal/handler) or rerun with --force to overwrite it"
		}
	case Merged:
		base, err := readMaybe(filepath.Join(dir, filepath.FromSlash(path.Join(BaseDir, f.Path))))
		if err != nil {
			return c, err
		}
		if base == nil && known && hashOf(old) == mf.SHA256 {
			// A file that was not merged before (an older svcgen had it
			// generated) and was never edited: what is on disk is the base.
			base = old
		}
		var merged []byte
		var conflicts int
		var note string
		if f.Path == "go.mod" {
			merged, conflicts, err = mergeGoMod(old, base, f.Content, opts.MergeLabel)
		} else {
			merged, conflicts, note, err = mergeRegions(f.Path, old, base, f.Content, opts.MergeLabel)
		}
		if err != nil {
			return c, fmt.Errorf("merging %s: %w", f.Path, err)
		}
		switch {
		case conflicts > 0:
			c.Action, c.New = Conflict, merged
			c.Note = fmt.Sprintf("%d conflict(s): resolve the <<<<<<< markers, then regen again", conflicts)
			if note != "" {
				c.Note += "; " + note
			}
		case bytes.Equal(merged, old):
			c.Action = Unchanged
		default:
			c.Action, c.New, c.Note = Merge, merged, note
		}
	}
	return c, nil
}

func readMaybe(p string) ([]byte, error) {
	b, err := os.ReadFile(p)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	return b, err
}

func hashOf(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

// Diff is a unified diff of one change, for --dry-run and hand-edit reports.
func (c Change) Diff() string {
	oldLabel, newLabel := "a/"+c.Path, "b/"+c.Path
	switch {
	case c.Action == Remove:
		return udiff.Unified(oldLabel, "/dev/null", string(c.Old), "")
	case c.Old == nil:
		return udiff.Unified("/dev/null", newLabel, "", string(c.New))
	case c.Action == HandEdit:
		// What the hand edit changed relative to svcgen's version.
		return udiff.Unified("svcgen/"+c.Path, "yours/"+c.Path, string(c.New), string(c.Old))
	}
	return udiff.Unified(oldLabel, newLabel, string(c.Old), string(c.New))
}
