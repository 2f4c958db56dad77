package generator

import (
	"errors"
	"fmt"
	"io/fs"
	"path"
	"slices"
	"strings"

	"gopkg.in/yaml.v3"
)

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
