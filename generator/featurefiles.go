package generator

import (
	"fmt"
	"io/fs"
	"path"
	"slices"
	"strings"

	"gopkg.in/yaml.v3"
)

// FileRule is one entry of a feature folder's files table: when one of the
// folder's templates is rendered, and the class of what it produces.
// A template the table does not list is rendered for every service that
// has the folder, with the class of the folder's globs.
type FileRule struct {
	// Path is the template, relative to the folder
	// ("internal/store/cached.go.tmpl"); it must exist.
	Path string `yaml:"path" json:"path"`
	// When selects the services that get the file; every condition given
	// must hold. Without it the file is always rendered.
	When *FileWhen `yaml:"when,omitempty" json:"when,omitempty"`
	// Class is the ownership class of the file's outputs; empty: the
	// folder's scaffold, merged and generated globs decide.
	Class Class `yaml:"class,omitempty" json:"class,omitempty" jsonschema:"enum=generated,enum=scaffold,enum=merged"`
	// line is where the entry starts in feature.yaml.
	line int
}

// FileWhen is the predicate of a FileRule.
type FileWhen struct {
	// Starter: the service's starter is one of these
	// (templates/starters/<name>).
	Starter []string `yaml:"starter,omitempty" json:"starter,omitempty"`
	// Features: every one of these features is enabled.
	Features []string `yaml:"features,omitempty" json:"features,omitempty"`
	// Without: none of these features is enabled.
	Without []string `yaml:"without,omitempty" json:"without,omitempty"`
	// StarterSpec: api/openapi.yaml is (true) or is not (false) the
	// starter's spec.
	StarterSpec *bool `yaml:"starter_spec,omitempty" json:"starter_spec,omitempty"`
	// Has: every one of these parts of the render is non-empty - explain
	// (svcgen new --explain), probes (requests synthesized from the spec),
	// security (the spec's security schemes), clients (.svcgen.yaml clients).
	Has []string `yaml:"has,omitempty" json:"has,omitempty" jsonschema:"enum=explain,enum=probes,enum=security,enum=clients"`
}

// dataParts are the names FileWhen.Has accepts, with how each is read.
var dataParts = map[string]func(d *Data) bool{
	"explain":  func(d *Data) bool { return d.Explain },
	"probes":   func(d *Data) bool { return len(d.Probes) > 0 },
	"security": func(d *Data) bool { return len(d.Security) > 0 },
	"clients":  func(d *Data) bool { return len(d.Clients) > 0 },
}

// match reports whether the service rendered with d gets the file.
func (w *FileWhen) match(d *Data) bool {
	if w == nil {
		return true
	}
	if len(w.Starter) > 0 && !slices.Contains(w.Starter, d.Starter) {
		return false
	}
	for _, f := range w.Features {
		if !d.has(f) {
			return false
		}
	}
	for _, f := range w.Without {
		if d.has(f) {
			return false
		}
	}
	if w.StarterSpec != nil && *w.StarterSpec != d.StarterSpec {
		return false
	}
	for _, h := range w.Has {
		if !dataParts[h](d) {
			return false
		}
	}
	return true
}

// rule is the files entry of a template (relative to the folder), nil when
// the table does not list it.
func (f *Feature) rule(rel string) *FileRule {
	for i := range f.Files {
		if f.Files[i].Path == rel {
			return &f.Files[i]
		}
	}
	return nil
}

// classOf is the class of an output of this folder: its files entry's
// class, else the first of the folder's own generated, scaffold and merged
// globs that matches the output path; generated when none does. Another
// folder's globs never decide it.
func (f *Feature) classOf(rel, out string) Class {
	if r := f.rule(rel); r != nil && r.Class != "" {
		return r.Class
	}
	for _, g := range []struct {
		globs []string
		class Class
	}{{f.Generated, Generated}, {f.Scaffold, Scaffold}, {f.Merged, Merged}} {
		for _, pat := range g.globs {
			if matchGlob(pat, out) {
				return g.class
			}
		}
	}
	return Generated
}

// checkFiles validates every folder's files table: each entry names a
// template of its folder, once, and its predicate names starters and
// features that exist. Errors name feature.yaml's line.
func (c *Catalog) checkFiles() error {
	folders := c.all()
	for _, n := range c.AdoptPackageNames() {
		folders = append(folders, c.adopt[n])
	}
	for _, f := range folders {
		if err := c.checkFeatureFiles(f); err != nil {
			return err
		}
	}
	return nil
}

func (c *Catalog) checkFeatureFiles(f *Feature) error {
	if len(f.Files) == 0 {
		return nil
	}
	name := "templates/" + f.dir + "/feature.yaml"
	data, err := fs.ReadFile(c.tmpl, f.dir+"/feature.yaml")
	if err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	items := mapValue(docRoot(data), "files")
	starters := c.starterNames()
	features := c.featureNames()
	seen := map[string]int{}
	for i := range f.Files {
		r := &f.Files[i]
		var item *yaml.Node
		if items != nil && i < len(items.Content) {
			item = items.Content[i]
			r.line = item.Line
		}
		at := func(keys ...string) string {
			n := item
			for _, k := range keys {
				if v := mapValue(n, k); v != nil {
					n = v
				}
			}
			line := r.line
			if n != nil {
				line = n.Line
			}
			return fmt.Sprintf("%s:%d", name, line)
		}
		if r.Path == "" {
			return fmt.Errorf("%s: files[%d]: path is missing; give the template's path in %s, e.g. internal/store/cached.go.tmpl", at(), i, path.Join("templates", f.dir))
		}
		if prev, dup := seen[r.Path]; dup {
			return fmt.Errorf("%s: files: %s is listed twice (also at line %d); keep one entry", at("path"), r.Path, prev)
		}
		seen[r.Path] = r.line
		if st, err := fs.Stat(c.tmpl, path.Join(f.dir, r.Path)); err != nil || st.IsDir() {
			return fmt.Errorf("%s: files: %s does not exist in templates/%s; give a template's path relative to the folder, or drop the entry", at("path"), r.Path, f.dir)
		}
		switch r.Class {
		case "", Generated, Scaffold, Merged:
		default:
			return fmt.Errorf("%s: files: %s: unknown class %q; use generated, scaffold or merged", at("class"), r.Path, r.Class)
		}
		w := r.When
		if w == nil {
			continue
		}
		for _, s := range w.Starter {
			if !slices.Contains(starters, s) {
				return fmt.Errorf("%s: files: %s: unknown starter %q%s (templates/starters has %s)", at("when", "starter"), r.Path, s, suggest(s, starters), strings.Join(starters, ", "))
			}
		}
		for key, list := range map[string][]string{"features": w.Features, "without": w.Without} {
			for _, x := range list {
				if !slices.Contains(features, x) {
					return fmt.Errorf("%s: files: %s: when.%s: unknown feature %q%s", at("when", key), r.Path, key, x, suggest(x, features))
				}
			}
		}
		for _, h := range w.Has {
			if dataParts[h] == nil {
				return fmt.Errorf("%s: files: %s: when.has: unknown part %q%s; use %s", at("when", "has"), r.Path, h, suggest(h, sortedKeys(dataParts)), strings.Join(sortedKeys(dataParts), ", "))
			}
		}
	}
	return nil
}

// configParts are the folders among dirs that bring their own settings
// file, internal/config/<name>.go, for the service rendered with d.
func configParts(fsys fs.FS, dirs []*Feature, d *Data) []ConfigPart {
	var out []ConfigPart
	for _, f := range dirs {
		rel := "internal/config/" + f.Name + ".go.tmpl"
		if f.Name != goIdent(f.Name) {
			continue // no Go identifier: no settings type
		}
		if _, err := fs.Stat(fsys, path.Join(f.dir, rel)); err != nil {
			continue
		}
		if r := f.rule(rel); r != nil && !r.When.match(d) {
			continue
		}
		place := "first"
		switch {
		case f.ConfigRank >= 1000:
			place = "nopointers"
		case f.ConfigRank > 0:
			place = "last"
		}
		out = append(out, ConfigPart{Feature: f.Name, Type: f.Name + "Settings", Place: place, rank: f.ConfigRank})
	}
	slices.SortFunc(out, func(a, b ConfigPart) int {
		if a.rank != b.rank {
			return a.rank - b.rank
		}
		return strings.Compare(a.Feature, b.Feature)
	})
	return out
}
