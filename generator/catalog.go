package generator

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
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
)

// Catalog is the set of presets and features svcgen knows: the embedded ones
// plus a team's own presets directory.
type Catalog struct {
	presets  map[string]*Preset
	features map[string]*Feature
	starters map[string]*Feature
	base     *Feature
	tmpl     fs.FS
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
	return c.checkDefaults()
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
	for _, e := range entries {
		if e.IsDir() || (!strings.HasSuffix(e.Name(), ".yaml") && !strings.HasSuffix(e.Name(), ".yml")) {
			continue
		}
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
			// Every remaining preset extends one that does not exist.
			data, _ := fs.ReadFile(fsys, path.Join(dir, later[0]))
			_, _, err := c.parsePresetFinal(prefix+later[0], data)
			return err
		}
		pending = later
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
	want := strings.TrimSuffix(strings.TrimSuffix(path.Base(file), ".yaml"), ".yml")
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
	for i, f := range p.Features {
		if _, ok := c.features[f]; !ok {
			line := lines[i]
			return nil, false, fmt.Errorf("%s:%d: unknown feature %q%s", file, line, f, suggest(f, c.featureNames()))
		}
	}
	features, err := c.ResolveFeatures(p, nil)
	if err != nil {
		return nil, false, fmt.Errorf("%s: %w", file, err)
	}
	if err := p.Params.validate(); err != nil {
		return nil, false, fmt.Errorf("%s: %w", file, err)
	}
	// The preset's params over its features' defaults must make a service
	// that starts.
	if _, err := c.Params(p, features); err != nil {
		return nil, false, err
	}
	return p, false, nil
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

// validate checks values that YAML types cannot.
func (p *Params) validate() error {
	if p.DBPool.MinConns > p.DBPool.MaxConns && p.DBPool.MaxConns > 0 {
		return fmt.Errorf("params.dbpool.min_conns (%d) is above max_conns (%d)", p.DBPool.MinConns, p.DBPool.MaxConns)
	}
	if p.DBPool.MaxConns < 0 || p.DBPool.MinConns < 0 {
		return errors.New("params.dbpool: connection counts cannot be negative")
	}
	if p.Pool.MaxBufferSize > 0 && p.Pool.BufferSize > p.Pool.MaxBufferSize {
		return fmt.Errorf("params.pool.buffer_size (%d) is above max_buffer_size (%d)", p.Pool.BufferSize, p.Pool.MaxBufferSize)
	}
	if p.Server.MaxBodyBytes < 0 {
		return errors.New("params.server.max_body_bytes cannot be negative")
	}
	switch p.Partition.Interval {
	case "", "day", "week", "month":
	default:
		return fmt.Errorf("params.partition.interval %q: want day, week or month%s",
			p.Partition.Interval, suggest(p.Partition.Interval, []string{"day", "week", "month"}))
	}
	if p.Partition.Premake < 0 || p.Partition.Retention < 0 {
		return errors.New("params.partition: premake and retention cannot be negative")
	}
	if err := p.Compression.validate(); err != nil {
		return err
	}
	if err := p.Realtime.validate(); err != nil {
		return err
	}
	if p.Batch.Wait < 0 || p.Batch.MaxBatch < 0 || p.Batch.CopyChunk < 0 {
		return errors.New("params.batch: wait, max_batch and copy_chunk cannot be negative")
	}
	return nil
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
// feature with a did-you-mean, and conflicts.
func (c *Catalog) ResolveFeatures(preset *Preset, overrides []string) ([]string, error) {
	on := map[string]bool{}
	for _, f := range preset.Features {
		on[f] = true
	}
	removed := map[string]bool{}
	for _, o := range overrides {
		o = strings.TrimSpace(o)
		if o == "" {
			continue
		}
		add := true
		switch o[0] {
		case '+':
			o = o[1:]
		case '-':
			add = false
			o = o[1:]
		}
		if _, ok := c.features[o]; !ok {
			return nil, fmt.Errorf("unknown feature %q%s (see `svcgen presets show %s` for the features)", o, suggest(o, c.featureNames()), preset.Name)
		}
		on[o] = add
		removed[o] = !add
	}
	// Close over requires, including the starter's.
	required := map[string]string{}
	var visit func(name, by string) error
	visit = func(name, by string) error {
		if !on[name] && removed[name] {
			return fmt.Errorf("feature %q is needed by %q; keep it or remove %q too", name, by, by)
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
			if err := visit(r, "the "+s.dir+" template"); err != nil {
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
	return yamlError(file, err)
}

var notFoundRe = regexp.MustCompile(`^field (\S+) not found in type (\S+)$`)

func yamlError(file string, err error) error {
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
	var root yaml.Node
	if yaml.Unmarshal(data, &root) != nil || len(root.Content) == 0 {
		return 1
	}
	m := root.Content[0]
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == key {
			return m.Content[i+1].Line
		}
	}
	return 1
}

// seqLines returns the line of each item of a top-level sequence.
func seqLines(data []byte, key string) map[int]int {
	out := map[int]int{}
	var root yaml.Node
	if yaml.Unmarshal(data, &root) != nil || len(root.Content) == 0 {
		return out
	}
	m := root.Content[0]
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == key {
			for j, item := range m.Content[i+1].Content {
				out[j] = item.Line
			}
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
		return fmt.Errorf("params.realtime.path %q: want an absolute path such as /ws", r.Path)
	}
	if r.Tick < 0 || r.PingInterval < 0 || r.PingTimeout < 0 || r.WriteTimeout < 0 {
		return errors.New("params.realtime: tick, ping_interval, ping_timeout and write_timeout cannot be negative")
	}
	if r.SendQueue < 0 || r.MaxMessageBytes < 0 {
		return errors.New("params.realtime: send_queue and max_message_bytes cannot be negative")
	}
	return nil
}

// validate checks the compression params a preset sets.
func (c *CompressionParams) validate() error {
	modes := []string{"lz4", "zstd-dict"}
	if c.FrameMode != "" && !slices.Contains(modes, c.FrameMode) {
		return fmt.Errorf("params.compression.frame_mode %q: want lz4 or zstd-dict%s", c.FrameMode, suggest(c.FrameMode, modes))
	}
	levels := []string{"fastest", "default", "better", "best"}
	if c.ZstdLevel != "" && !slices.Contains(levels, c.ZstdLevel) {
		return fmt.Errorf("params.compression.zstd_level %q: want fastest, default, better or best%s", c.ZstdLevel, suggest(c.ZstdLevel, levels))
	}
	if c.GzipLevel < 0 || c.GzipLevel > 9 {
		return fmt.Errorf("params.compression.gzip_level %d: want 1 (fastest) to 9 (smallest), or 0 for the default 5", c.GzipLevel)
	}
	if c.FrameThreshold < 0 || c.HTTPMinBytes < 0 {
		return errors.New("params.compression: frame_threshold and http_min_bytes cannot be negative")
	}
	return nil
}
