package generator

import (
	"fmt"
	"io/fs"
	"path"
	"reflect"
	"slices"
	"strings"
)

// placeholders fills a template path's per-service and per-operation parts
// with placeholders, for listing what a feature writes.
var placeholders = &Data{Name: "<name>", Op: &Operation{File: "<operation>"}}

// FeatureFiles lists the output paths of the templates in the feature's
// folder, sorted, with the service's name and the operation left as the
// placeholders <name> and <operation>.
func (c *Catalog) FeatureFiles(name string) ([]string, error) {
	f, err := c.Feature(name)
	if err != nil {
		return nil, err
	}
	var out []string
	err = fs.WalkDir(c.tmpl, f.dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel := strings.TrimPrefix(p, f.dir+"/")
		if rel == "feature.yaml" || rel == "explain.md" {
			return nil
		}
		out = append(out, outputPath(rel, placeholders))
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("templates/%s: %w", f.dir, err)
	}
	slices.Sort(out)
	return out, nil
}

// FilesMentioning lists the output paths, sorted and each once, of the
// templates outside the feature's folder that change when it is on (they
// test {{if .Feature "name"}}).
func (c *Catalog) FilesMentioning(name string) ([]string, error) {
	f, err := c.Feature(name)
	if err != nil {
		return nil, err
	}
	needle := `Feature "` + f.Name + `"`
	var out []string
	err = fs.WalkDir(c.tmpl, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if p == f.dir {
				return fs.SkipDir
			}
			return nil
		}
		if !strings.Contains(p, "/") || path.Base(p) == "explain.md" || path.Base(p) == "feature.yaml" {
			return nil
		}
		b, err := fs.ReadFile(c.tmpl, p)
		if err != nil {
			return err
		}
		if strings.Contains(string(b), needle) {
			// Drop the folder: base/..., starters/<starter>/... or <feature>/...
			rel := p
			if strings.HasPrefix(rel, startersDir+"/") {
				rel = strings.SplitN(rel, "/", 3)[2]
			} else {
				rel = strings.SplitN(rel, "/", 2)[1]
			}
			rel = strings.TrimPrefix(rel, "ops/")
			out = append(out, outputPath(rel, placeholders))
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("templates: %w", err)
	}
	slices.Sort(out)
	return slices.Compact(out), nil
}

// FeatureParams returns the key under a preset's params: that tunes the
// feature, read from Params' yaml tags, or "" when none does.
func (c *Catalog) FeatureParams(name string) (string, error) {
	f, err := c.Feature(name)
	if err != nil {
		return "", err
	}
	key := f.Name
	if key == "servemux" {
		key = "server"
	}
	t := reflect.TypeFor[Params]()
	for i := range t.NumField() {
		if strings.Split(t.Field(i).Tag.Get("yaml"), ",")[0] == key {
			return key, nil
		}
	}
	return "", nil
}

// PresetsWith returns the names of the presets that list the feature,
// sorted.
func (c *Catalog) PresetsWith(name string) []string {
	var in []string
	for _, p := range c.Presets() {
		if slices.Contains(p.Features, name) {
			in = append(in, p.Name)
		}
	}
	return in
}
