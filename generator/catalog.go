package generator

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/svcgen/svcgen/presets"
	"github.com/svcgen/svcgen/templates"
)

// Template folders that are not features: the starters, and the base every
// service gets.
const (
	startersDir = "starters"
	baseDir     = "base"
	adoptDir    = "adopt"
)

// Catalog is the set of presets and features svcgen knows: the embedded ones
// plus a team's own presets directory.
type Catalog struct {
	presets  map[string]*Preset
	features map[string]*Feature
	starters map[string]*Feature
	// adopt are the packages only svcgen adopt adds (templates/adopt/*):
	// net/http middleware and database/sql pool settings for services
	// that do not run ogen or pgx. They are no feature of a new service.
	adopt map[string]*Feature
	base  *Feature
	tmpl  fs.FS
}

// LoadCatalog reads the embedded presets and features, then the presets in
// dir (when dir is not empty), which may add presets or replace embedded
// ones by name. Errors name file:line and field.
func LoadCatalog(dir string) (*Catalog, error) {
	return loadCatalog(templates.FS, presets.FS, dir)
}

// loadCatalog is LoadCatalog with the embedded trees passed in, for tests.
func loadCatalog(tmpl, presetFS fs.FS, dir string) (*Catalog, error) {
	c := &Catalog{
		presets:  map[string]*Preset{},
		features: map[string]*Feature{},
		starters: map[string]*Feature{},
		adopt:    map[string]*Feature{},
		tmpl:     tmpl,
	}
	if err := c.loadFeatures(); err != nil {
		return nil, err
	}
	if err := c.loadPresets(presetFS, ".", "presets/"); err != nil {
		return nil, err
	}
	if dir != "" {
		st, err := os.Stat(dir)
		if err != nil {
			return nil, fmt.Errorf("--presets-dir: %w", err)
		}
		if !st.IsDir() {
			return nil, fmt.Errorf("--presets-dir: %s is not a directory", dir)
		}
		if err := c.loadPresets(os.DirFS(dir), ".", filepath.ToSlash(dir)+"/"); err != nil {
			return nil, err
		}
	}
	return c, nil
}

func (c *Catalog) loadFeatures() error {
	entries, err := fs.ReadDir(c.tmpl, ".")
	if err != nil {
		return err
	}
	for _, e := range entries {
		if !e.IsDir() {
			continue
		}
		if e.Name() == adoptDir {
			pkgs, err := fs.ReadDir(c.tmpl, adoptDir)
			if err != nil {
				return err
			}
			for _, p := range pkgs {
				if !p.IsDir() {
					continue
				}
				f, err := c.readFeature(path.Join(adoptDir, p.Name()))
				if err != nil {
					return err
				}
				c.adopt[p.Name()] = f
			}
			continue
		}
		if e.Name() == startersDir {
			starters, err := fs.ReadDir(c.tmpl, startersDir)
			if err != nil {
				return err
			}
			for _, s := range starters {
				if !s.IsDir() {
					continue
				}
				f, err := c.readFeature(path.Join(startersDir, s.Name()))
				if err != nil {
					return err
				}
				c.starters[s.Name()] = f
			}
			continue
		}
		f, err := c.readFeature(e.Name())
		if err != nil {
			return err
		}
		if e.Name() == baseDir {
			c.base = f
			continue
		}
		c.features[e.Name()] = f
	}
	if c.base == nil {
		return errors.New("templates: the base folder is missing")
	}
	// A feature may only require or conflict with features that exist.
	for _, f := range c.all() {
		for _, r := range slices.Concat(f.Requires, f.Conflicts) {
			if _, ok := c.features[r]; !ok {
				return fmt.Errorf("templates/%s/feature.yaml: unknown feature %q%s", f.dir, r, suggest(r, c.featureNames()))
			}
		}
	}
	if err := c.checkFiles(); err != nil {
		return err
	}
	return c.checkDefaults()
}

// AdoptPackageNames are the packages of templates/adopt, sorted.
func (c *Catalog) AdoptPackageNames() []string {
	out := make([]string, 0, len(c.adopt))
	for n := range c.adopt {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}

func (c *Catalog) all() []*Feature {
	out := make([]*Feature, 0, len(c.features)+len(c.starters))
	for _, f := range c.features {
		out = append(out, f)
	}
	for _, f := range c.starters {
		out = append(out, f)
	}
	out = append(out, c.base)
	sort.Slice(out, func(i, j int) bool { return out[i].dir < out[j].dir })
	return out
}

func (c *Catalog) readFeature(dir string) (*Feature, error) {
	name := "templates/" + dir + "/feature.yaml"
	data, err := fs.ReadFile(c.tmpl, dir+"/feature.yaml")
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	f := &Feature{Name: path.Base(dir), dir: dir}
	if err := decodeStrict(name, data, f); err != nil {
		return nil, err
	}
	f.defaults = paramsNode(name, data)
	if b, err := fs.ReadFile(c.tmpl, dir+"/explain.md"); err == nil {
		f.Explain = string(b)
	}
	return f, nil
}

func (c *Catalog) loadPresets(fsys fs.FS, dir, prefix string) error {
	entries, err := fs.ReadDir(fsys, dir)
	if err != nil {
		return err
	}
	// Presets that extend others are read after those.
	var pending []string
	seen := map[string]string{} // preset name -> its file
	for _, e := range entries {
		if e.IsDir() || (!strings.HasSuffix(e.Name(), ".yaml") && !strings.HasSuffix(e.Name(), ".yml")) {
			continue
		}
		name := presetFileName(e.Name())
		if other, dup := seen[name]; dup {
			return fmt.Errorf("%s%s: preset %q is also defined in %s%s; keep one of the two files", prefix, e.Name(), name, prefix, other)
		}
		seen[name] = e.Name()
		pending = append(pending, e.Name())
	}
	for len(pending) > 0 {
		var later []string
		for _, file := range pending {
			data, err := fs.ReadFile(fsys, path.Join(dir, file))
			if err != nil {
				return err
			}
			p, waiting, err := c.parsePreset(prefix+file, data)
			if err != nil {
				return err
			}
			if waiting {
				later = append(later, file)
				continue
			}
			c.presets[p.Name] = p
		}
		if len(later) == len(pending) {
			// Every remaining preset extends one that is not read: one
			// that does not exist, or one in a cycle of extends.
			if err := extendsCycle(fsys, dir, prefix, later); err != nil {
				return err
			}
			data, _ := fs.ReadFile(fsys, path.Join(dir, later[0]))
			_, _, err := c.parsePresetFinal(prefix+later[0], data)
			return err
		}
		pending = later
	}
	return nil
}

// presetFileName is the preset name a file gives: "mine.yaml" -> "mine".
func presetFileName(file string) string {
	return strings.TrimSuffix(strings.TrimSuffix(path.Base(file), ".yaml"), ".yml")
}

// extendsCycle reports the first cycle of extends among the files that
// could not be read, with the chain and where each link is written; nil
// when there is none.
func extendsCycle(fsys fs.FS, dir, prefix string, files []string) error {
	type link struct {
		file    string
		extends string
		line    int
	}
	links := map[string]link{}
	for _, f := range files {
		data, err := fs.ReadFile(fsys, path.Join(dir, f))
		if err != nil {
			return err
		}
		var head presetHead
		_ = yaml.Unmarshal(data, &head)
		links[presetFileName(f)] = link{file: prefix + f, extends: head.Extends, line: keyLine(data, "extends")}
	}
	for _, f := range files {
		chain := []string{presetFileName(f)}
		for {
			next := links[chain[len(chain)-1]].extends
			if _, pending := links[next]; !pending {
				break // ends at a preset that does not exist
			}
			if i := slices.Index(chain, next); i >= 0 {
				cycle := append(slices.Clone(chain[i:]), next)
				start := links[cycle[0]]
				if len(cycle) == 2 {
					return fmt.Errorf("%s:%d: preset %q extends itself (%s -> %s); extend another preset, or give it its own starter and features and drop extends",
						start.file, start.line, cycle[0], cycle[0], cycle[0])
				}
				var where []string
				for _, name := range cycle[1 : len(cycle)-1] {
					l := links[name]
					where = append(where, fmt.Sprintf("%s:%d", l.file, l.line))
				}
				return fmt.Errorf("%s:%d: extends cycle: %s (the other links at %s); make one of them extend a preset outside the cycle, or drop its extends",
					start.file, start.line, strings.Join(cycle, " -> "), strings.Join(where, ", "))
			}
			chain = append(chain, next)
		}
	}
	return nil
}

// presetHead is read first to learn what a preset extends.
type presetHead struct {
	Extends string `yaml:"extends"`
}

func (c *Catalog) parsePreset(file string, data []byte) (p *Preset, waiting bool, err error) {
	var head presetHead
	_ = yaml.Unmarshal(data, &head)
	if head.Extends != "" {
		if _, ok := c.presets[head.Extends]; !ok {
			return nil, true, nil
		}
	}
	p, _, err = c.parsePresetFinal(file, data)
	return p, false, err
}

func (c *Catalog) parsePresetFinal(file string, data []byte) (*Preset, bool, error) {
	var head presetHead
	_ = yaml.Unmarshal(data, &head)
	p := &Preset{}
	if head.Extends != "" {
		base, ok := c.presets[head.Extends]
		if !ok {
			line := keyLine(data, "extends")
			return nil, false, fmt.Errorf("%s:%d: extends unknown preset %q%s", file, line, head.Extends, suggest(head.Extends, c.presetNames()))
		}
		cp := *base
		cp.Features = slices.Clone(base.Features)
		cp.Params.Timeouts.Operations = cloneMap(base.Params.Timeouts.Operations)
		cp.Params.Realtime.Origins = slices.Clone(base.Params.Realtime.Origins)
		cp.sources = slices.Clone(base.sources)
		p = &cp
	}
	p.Source = file
	if err := decodeStrict(file, data, p); err != nil {
		return nil, false, err
	}
	if src := paramsNode(file, data); src != nil {
		p.sources = append(p.sources, *src)
	}
	want := presetFileName(file)
	if p.Name == "" || head.Extends != "" && p.Name == c.presets[head.Extends].Name && want != p.Name {
		p.Name = want
	}
	if p.Name != want {
		return nil, false, fmt.Errorf("%s:%d: name %q does not match the file name; rename the file to %s.yaml or the preset to %q", file, keyLine(data, "name"), p.Name, p.Name, want)
	}
	if p.Starter == "" {
		return nil, false, fmt.Errorf("%s: starter is missing; set it to one of: %s", file, strings.Join(c.starterNames(), ", "))
	}
	if _, ok := c.starters[p.Starter]; !ok {
		return nil, false, fmt.Errorf("%s:%d: unknown starter %q%s", file, keyLine(data, "starter"), p.Starter, suggest(p.Starter, c.starterNames()))
	}
	lines := seqLines(data, "features")
	first := map[string]int{}
	for i, f := range p.Features {
		if _, ok := c.features[f]; !ok {
			line := lines[i]
			return nil, false, fmt.Errorf("%s:%d: unknown feature %q%s", file, line, f, suggest(f, c.featureNames()))
		}
		if j, dup := first[f]; dup && lines[i] > 0 {
			return nil, false, fmt.Errorf("%s:%d: feature %q is listed twice (also at line %d); remove one", file, lines[i], f, lines[j])
		}
		first[f] = i
	}
	features, err := c.ResolveFeatures(p, nil)
	if err != nil {
		return nil, false, fmt.Errorf("%s:%d: features: %w", file, keyLine(data, "features"), err)
	}
	if err := p.Params.validate(); err != nil {
		var pe *paramError
		line := keyLine(data, "params")
		if errors.As(err, &pe) {
			line = pathLine(data, pe.Path, keyLine(data, "extends"))
			for _, also := range pe.Also {
				if _, exact := valueLine(data, pe.Path); exact {
					break
				}
				if l, exact := valueLine(data, also); exact {
					line = l
					break
				}
			}
		}
		return nil, false, fmt.Errorf("%s:%d: %w", file, line, err)
	}
	// The preset's params over its features' defaults must make a service
	// that starts.
	if _, err := c.Params(p, features); err != nil {
		return nil, false, err
	}
	return p, false, nil
}

// pathLine returns the line of the value at a dotted path of keys
// ("params.dbpool.min_conns"), or of its deepest ancestor in the file, or
// def when not even the first key is there (a value a preset inherits).
func pathLine(data []byte, dotted string, def int) int {
	line, _ := valueLine(data, dotted)
	if line == 0 {
		return def
	}
	return line
}

// valueLine returns the line of the value at a dotted path and true, or
// the line of its deepest ancestor in the file (0: none) and false.
func valueLine(data []byte, dotted string) (int, bool) {
	n, line := docRoot(data), 0
	if n == nil {
		return 0, false
	}
	for _, key := range strings.Split(dotted, ".") {
		if n = mapValue(n, key); n == nil {
			return line, false
		}
		line = n.Line
	}
	return line, true
}

func cloneMap[K comparable, V any](m map[K]V) map[K]V {
	if m == nil {
		return nil
	}
	out := make(map[K]V, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}

// paramError is a bad preset parameter: Path ("params.dbpool.min_conns")
// locates it in the file.
type paramError struct {
	Path string
	Msg  string
	// Also are the other parameters the fault is about: when Path is not
	// in the file (the preset inherits it), the line of the first of them
	// that is.
	Also []string
}

func (e *paramError) Error() string { return e.Path + " " + e.Msg }

func perr(path, format string, args ...any) error {
	return &paramError{Path: path, Msg: fmt.Sprintf(format, args...)}
}

// negative returns the error for the first of the named values below 0.
func negative[N int | int32 | int64 | Duration](block string, vals ...struct {
	name string
	v    N
}) error {
	for _, x := range vals {
		if x.v < 0 {
			return perr(block+"."+x.name, "is %v: it cannot be negative; use 0 or more", x.v)
		}
	}
	return nil
}

type nv[N int | int32 | int64 | Duration] = struct {
	name string
	v    N
}

// validate checks values that YAML types cannot. Its errors are
// *paramError.
func (p *Params) validate() error {
	if err := negative("params.dbpool", nv[int32]{"max_conns", p.DBPool.MaxConns}, nv[int32]{"min_conns", p.DBPool.MinConns}); err != nil {
		return err
	}
	if p.DBPool.MinConns > p.DBPool.MaxConns && p.DBPool.MaxConns > 0 {
		err := perr("params.dbpool.min_conns", "(%d) is above max_conns (%d): lower min_conns or raise max_conns", p.DBPool.MinConns, p.DBPool.MaxConns)
		err.(*paramError).Also = []string{"params.dbpool.max_conns"}
		return err
	}
	if err := negative("params.pool", nv[int]{"buffer_size", p.Pool.BufferSize}, nv[int]{"max_buffer_size", p.Pool.MaxBufferSize}); err != nil {
		return err
	}
	if p.Pool.MaxBufferSize > 0 && p.Pool.BufferSize > p.Pool.MaxBufferSize {
		err := perr("params.pool.buffer_size", "(%d) is above max_buffer_size (%d): lower buffer_size or raise max_buffer_size", p.Pool.BufferSize, p.Pool.MaxBufferSize)
		err.(*paramError).Also = []string{"params.pool.max_buffer_size"}
		return err
	}
	if err := negative("params.server", nv[int64]{"max_body_bytes", p.Server.MaxBodyBytes}); err != nil {
		return err
	}
	switch p.Partition.Interval {
	case "", "day", "week", "month":
	default:
		return perr("params.partition.interval", "%q: want day, week or month%s",
			p.Partition.Interval, suggest(p.Partition.Interval, []string{"day", "week", "month"}))
	}
	if err := negative("params.partition", nv[int]{"premake", p.Partition.Premake}, nv[int]{"retention", p.Partition.Retention}); err != nil {
		return err
	}
	if err := p.Compression.validate(); err != nil {
		return err
	}
	if err := p.Realtime.validate(); err != nil {
		return err
	}
	if err := negative("params.batch", nv[Duration]{"wait", p.Batch.Wait}); err != nil {
		return err
	}
	return negative("params.batch", nv[int]{"max_batch", p.Batch.MaxBatch}, nv[int]{"copy_chunk", p.Batch.CopyChunk})
}

// Presets returns the presets sorted by name.
func (c *Catalog) Presets() []*Preset {
	out := make([]*Preset, 0, len(c.presets))
	for _, n := range c.presetNames() {
		out = append(out, c.presets[n])
	}
	return out
}

// Preset returns the named preset, or an error listing the known ones (with
// a did-you-mean).
func (c *Catalog) Preset(name string) (*Preset, error) {
	if p, ok := c.presets[name]; ok {
		return p, nil
	}
	return nil, fmt.Errorf("unknown preset %q%s (known: %s)", name, suggest(name, c.presetNames()), strings.Join(c.presetNames(), ", "))
}

// Features returns the features sorted by name.
func (c *Catalog) Features() []*Feature {
	out := make([]*Feature, 0, len(c.features))
	for _, n := range c.featureNames() {
		out = append(out, c.features[n])
	}
	return out
}

// Feature returns the named feature, or an error listing the known ones
// (with a did-you-mean).
func (c *Catalog) Feature(name string) (*Feature, error) {
	if f, ok := c.features[name]; ok {
		return f, nil
	}
	return nil, fmt.Errorf("unknown feature %q%s (known: %s)", name, suggest(name, c.featureNames()), strings.Join(c.featureNames(), ", "))
}

// Starter returns the named starter API (templates/starters/<name>).
func (c *Catalog) Starter(name string) (*Feature, error) {
	if f, ok := c.starters[name]; ok {
		return f, nil
	}
	return nil, fmt.Errorf("unknown starter %q%s (known: %s)", name, suggest(name, c.starterNames()), strings.Join(c.starterNames(), ", "))
}

func (c *Catalog) presetNames() []string  { return sortedKeys(c.presets) }
func (c *Catalog) featureNames() []string { return sortedKeys(c.features) }
func (c *Catalog) starterNames() []string { return sortedKeys(c.starters) }

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// ResolveFeatures applies overrides ("+a", "-b", or "a" meaning "+a") to the
// preset's feature list and closes it over requires; errors name the unknown
// feature with a did-you-mean, a feature both added and removed, a feature
// that cannot go, and conflicts.
func (c *Catalog) ResolveFeatures(preset *Preset, overrides []string) ([]string, error) {
	if err := CheckFeatureFlag(overrides); err != nil {
		return nil, err
	}
	on := map[string]bool{}
	for _, f := range preset.Features {
		on[f] = true
	}
	removed := map[string]bool{}
	for _, raw := range overrides {
		o, add := splitOverride(raw)
		if o == "" {
			continue
		}
		if _, ok := c.features[o]; !ok {
			return nil, fmt.Errorf("unknown feature %q%s (see `svcgen presets show %s` for the features)", o, suggest(o, c.featureNames()), preset.Name)
		}
		on[o] = add
		removed[o] = !add
	}
	wanted := maps.Clone(on)
	// Close over requires, including the base's and the starter's.
	required := map[string]string{}
	var visit func(name, by string) error
	visit = func(name, by string) error {
		if !on[name] && removed[name] {
			return c.cannotRemove(preset, name, by, wanted)
		}
		if _, seen := required[name]; seen && on[name] {
			return nil
		}
		on[name] = true
		required[name] = by
		for _, r := range c.features[name].Requires {
			if err := visit(r, name); err != nil {
				return err
			}
		}
		return nil
	}
	for _, s := range []*Feature{c.base, c.starters[preset.Starter]} {
		if s == nil {
			continue
		}
		for _, r := range s.Requires {
			if err := visit(r, s.dir); err != nil {
				return nil, err
			}
		}
	}
	for _, name := range sortedKeys(on) {
		if on[name] {
			if err := visit(name, name); err != nil {
				return nil, err
			}
		}
	}
	var out []string
	for _, name := range sortedKeys(on) {
		if on[name] {
			out = append(out, name)
		}
	}
	for _, name := range out {
		for _, x := range c.features[name].Conflicts {
			if on[x] {
				return nil, fmt.Errorf("features %q and %q cannot be combined; remove one with --features -%s", name, x, x)
			}
		}
	}
	return out, nil
}

// baseNeeds says, for the features the base template requires, why no
// service can go without them and what can be done instead.
var baseNeeds = map[string]struct{ why, instead string }{
	"ogen": {
		why:     "every service serves its API through ogen's generated server",
		instead: "for a service that serves no API operations, keep ogen and give it an OpenAPI document whose paths are empty (paths: {}): --spec FILE for svcgen new, api/openapi.yaml for regen",
	},
	"servemux": {
		why:     "every service serves its API, /healthz and /readyz on the standard http.ServeMux",
		instead: "nothing replaces it; keep it",
	},
}

// cannotRemove is the error for a removed feature that by needs: another
// feature, the base template or a starter API.
func (c *Catalog) cannotRemove(preset *Preset, name, by string, wanted map[string]bool) error {
	switch {
	case by == baseDir:
		need, ok := baseNeeds[name]
		if !ok {
			need.why, need.instead = "every service is built on it", "keep it"
		}
		return fmt.Errorf("feature %q cannot be removed: %s (the base template needs it); %s", name, need.why, need.instead)
	case by == path.Join(startersDir, BlankStarter):
		return fmt.Errorf("feature %q cannot be removed: the store of a service from its own spec (internal/store) is built on it; keep it", name)
	case strings.HasPrefix(by, startersDir+"/"):
		msg := fmt.Sprintf("feature %q cannot be removed from preset %s: its starter API (%s) is built on it; keep it", name, preset.Name, path.Base(by))
		if blank := c.starters[BlankStarter]; blank != nil && !slices.Contains(blank.Requires, name) {
			msg += ", or generate the service from your own OpenAPI document (svcgen new --spec FILE), which goes without that starter"
		} else {
			msg += " (a service from its own spec needs it too)"
		}
		return errors.New(msg)
	}
	// Every wanted feature that needs it, directly or through another.
	var needs func(f string, seen map[string]bool) bool
	needs = func(f string, seen map[string]bool) bool {
		if seen[f] {
			return false
		}
		seen[f] = true
		for _, r := range c.features[f].Requires {
			if r == name || needs(r, seen) {
				return true
			}
		}
		return false
	}
	var by2 []string
	for _, f := range sortedKeys(wanted) {
		if wanted[f] && f != name && needs(f, map[string]bool{}) {
			by2 = append(by2, f)
		}
	}
	if len(by2) == 0 {
		by2 = []string{by}
	}
	quoted := make([]string, len(by2))
	flags := make([]string, 0, len(by2)+1)
	for i, f := range by2 {
		quoted[i] = strconv.Quote(f)
		flags = append(flags, "-"+f)
	}
	flags = append(flags, "-"+name)
	return fmt.Errorf("feature %q is needed by %s; keep it, or remove those too (%s)", name, strings.Join(quoted, ", "), strings.Join(flags, ","))
}

// splitOverride returns the feature an override names and whether it adds
// it ("+a" and "a" add, "-a" removes).
func splitOverride(raw string) (string, bool) {
	o := strings.TrimSpace(raw)
	switch {
	case strings.HasPrefix(o, "+"):
		return o[1:], true
	case strings.HasPrefix(o, "-"):
		return o[1:], false
	}
	return o, true
}

// CheckFeatureFlag refuses overrides that contradict themselves: a sign
// without a name, or a feature both added and removed.
func CheckFeatureFlag(overrides []string) error {
	given := map[string]bool{}
	for _, raw := range overrides {
		if strings.TrimSpace(raw) == "" {
			continue
		}
		o, add := splitOverride(raw)
		if o == "" {
			return fmt.Errorf("%q names no feature: write +name to add one, -name to remove one", raw)
		}
		if prev, ok := given[o]; ok && prev != add {
			return fmt.Errorf("feature %q is both added (+%s) and removed (-%s): keep the one you mean", o, o, o)
		}
		given[o] = add
	}
	return nil
}

// ParseFeatureFlag splits a --features value "+cache3,-pool" into its items.
func ParseFeatureFlag(s string) []string {
	var out []string
	for _, f := range strings.FieldsFunc(s, func(r rune) bool { return r == ',' || r == ' ' }) {
		out = append(out, f)
	}
	return out
}

var yamlLineRe = regexp.MustCompile(`^(?:yaml: )?line (\d+): (.*)$`)

// decodeStrict decodes YAML into v, rejecting unknown fields, and rewrites
// yaml.v3's errors into "file:line: message" with the fix.
func decodeStrict(file string, data []byte, v any) error {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	err := dec.Decode(v)
	if err == nil || errors.Is(err, errIOEOF) {
		return nil
	}
	return yamlError(file, data, v, err)
}

var notFoundRe = regexp.MustCompile(`^field (\S+) not found in type (\S+)$`)

var dupKeyRe = regexp.MustCompile(`^mapping key ".*" already defined at line \d+$`)

// yamlError rewrites a decode error of data into v: "file:line: message",
// with the field, the type it wants and an example for type errors.
func yamlError(file string, data []byte, v any, err error) error {
	var te *yaml.TypeError
	var msgs []string
	if errors.As(err, &te) {
		msgs = te.Errors
	} else {
		msgs = []string{err.Error()}
	}
	var out []string
	for _, m := range msgs {
		m = strings.TrimSpace(m)
		if sm := yamlLineRe.FindStringSubmatch(m); sm != nil {
			line, _ := strconv.Atoi(sm[1])
			msg := sm[2]
			if fm := notFoundRe.FindStringSubmatch(msg); fm != nil {
				msg = fmt.Sprintf("unknown field %q%s", fm[1], suggest(fm[1], yamlFields(fm[2])))
			} else if te, ok := typeError(data, v, line, msg); ok {
				msg = te
			} else if dupKeyRe.MatchString(msg) {
				msg += "; keep one of the two"
			} else if keys := valueKeys(data, line); keys != "" && !strings.HasPrefix(msg, keys) {
				msg = keys + ": " + msg // a value's own error (a duration)
			}
			out = append(out, fmt.Sprintf("%s:%d: %s", file, line, msg))
			continue
		}
		out = append(out, fmt.Sprintf("%s: %s", file, m))
	}
	return errors.New(strings.Join(out, "\n"))
}

// keyLine returns the line of a top-level key, or 1.
func keyLine(data []byte, key string) int {
	if v := mapValue(docRoot(data), key); v != nil {
		return v.Line
	}
	return 1
}

// seqLines returns the line of each item of a top-level sequence.
func seqLines(data []byte, key string) map[int]int {
	return itemLines(mapValue(docRoot(data), key))
}

// itemLines maps each item of a YAML sequence (nil: none) to its line.
func itemLines(seq *yaml.Node) map[int]int {
	out := map[int]int{}
	if seq != nil {
		for j, item := range seq.Content {
			out[j] = item.Line
		}
	}
	return out
}

// MergeFeatureOverrides adds later feature changes to earlier ones: for each
// feature the last "+name" or "-name" wins. The result is sorted, so
// regenerating with the same change twice records it once.
func MergeFeatureOverrides(earlier, later []string) []string {
	sign := map[string]string{}
	for _, o := range slices.Concat(earlier, later) {
		o = strings.TrimSpace(o)
		switch {
		case o == "":
			continue
		case o[0] == '+' || o[0] == '-':
			sign[o[1:]] = o[:1]
		default:
			sign[o] = "+"
		}
	}
	out := make([]string, 0, len(sign))
	for _, name := range sortedKeys(sign) {
		out = append(out, sign[name]+name)
	}
	return out
}

// validate checks the realtime params a preset sets.
func (r *RealtimeParams) validate() error {
	if r.Path != "" && !strings.HasPrefix(r.Path, "/") {
		return perr("params.realtime.path", "%q: want an absolute path such as /ws", r.Path)
	}
	if err := negative("params.realtime", nv[Duration]{"tick", r.Tick}, nv[Duration]{"ping_interval", r.PingInterval},
		nv[Duration]{"ping_timeout", r.PingTimeout}, nv[Duration]{"write_timeout", r.WriteTimeout},
		nv[Duration]{"presence_interval", r.PresenceInterval}); err != nil {
		return err
	}
	if err := negative("params.realtime", nv[int]{"send_queue", r.SendQueue}); err != nil {
		return err
	}
	return negative("params.realtime", nv[int64]{"max_message_bytes", r.MaxMessageBytes})
}

// validate checks the compression params a preset sets.
func (c *CompressionParams) validate() error {
	modes := []string{"lz4", "zstd-dict"}
	if c.FrameMode != "" && !slices.Contains(modes, c.FrameMode) {
		return perr("params.compression.frame_mode", "%q: want lz4 or zstd-dict%s", c.FrameMode, suggest(c.FrameMode, modes))
	}
	levels := []string{"fastest", "default", "better", "best"}
	if c.ZstdLevel != "" && !slices.Contains(levels, c.ZstdLevel) {
		return perr("params.compression.zstd_level", "%q: want fastest, default, better or best%s", c.ZstdLevel, suggest(c.ZstdLevel, levels))
	}
	if c.GzipLevel < 0 || c.GzipLevel > 9 {
		return perr("params.compression.gzip_level", "%d: want 1 (fastest) to 9 (smallest), or 0 for the default 5", c.GzipLevel)
	}
	return negative("params.compression", nv[int]{"frame_threshold", c.FrameThreshold}, nv[int]{"http_min_bytes", c.HTTPMinBytes})
}
