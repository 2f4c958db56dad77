package generator

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"slices"
	"sort"
	"strings"

	"github.com/svcgen/svcgen/platform"
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
	// platform is the tree of platform packages (svcgen's platform/).
	platform fs.FS
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
		platform: platform.FS,
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
	if err := checkPackages(c.platform, name, data, f); err != nil {
		return nil, err
	}
	if b, err := fs.ReadFile(c.tmpl, dir+"/explain.md"); err == nil {
		f.Explain = string(b)
	}
	return f, nil
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

func (c *Catalog) presetNames() []string { return sortedKeys(c.presets) }

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
