package generator

import (
	"fmt"
	"io/fs"
	"path"
	"reflect"
	"regexp"
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
	pf, err := c.packageFiles(f)
	if err != nil {
		return nil, err
	}
	out = append(out, pf...)
	slices.Sort(out)
	return out, nil
}

// packageFiles are the output paths of a feature's platform packages; a
// file its build constraint keeps for some services only says which
// ("internal/platform/cache/notrace.go (without tracing)").
func (c *Catalog) packageFiles(f *Feature) ([]string, error) {
	var out []string
	for _, pkg := range f.Packages {
		entries, err := fs.ReadDir(c.platform, pkg)
		if err != nil {
			return nil, fmt.Errorf("platform/%s: %w", pkg, err)
		}
		for _, e := range entries {
			if e.IsDir() {
				continue
			}
			p := platformDir + pkg + "/" + e.Name()
			if strings.HasSuffix(e.Name(), ".go") {
				src, err := fs.ReadFile(c.platform, pkg+"/"+e.Name())
				if err != nil {
					return nil, err
				}
				expr, _, err := buildLine(src)
				if err != nil {
					return nil, fmt.Errorf("platform/%s/%s: %w", pkg, e.Name(), err)
				}
				if expr != nil {
					in := func(without bool) func(string) bool {
						return func(tag string) bool { return tag == serviceTag || without }
					}
					if !expr.Eval(in(false)) && !expr.Eval(in(true)) {
						continue // !service: svcgen's own tests only
					}
					p += " (" + constraintWords(expr.String()) + ")"
				}
			}
			out = append(out, p)
		}
	}
	return out, nil
}

// constraintWords says a platform file's constraint in words:
// "!no_tracing" is "with tracing", "no_tracing" is "without tracing".
func constraintWords(expr string) string {
	r := strings.NewReplacer("!"+withoutTag, "with ", withoutTag, "without ", "&&", "and", "||", "or", "!"+serviceTag, "svcgen's tree only")
	return r.Replace(expr)
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
	// Templates of other folders their files table selects by the feature.
	for _, other := range c.all() {
		for _, r := range other.Files {
			if other != f && r.When != nil && (slices.Contains(r.When.Features, f.Name) || slices.Contains(r.When.Without, f.Name)) {
				rel := strings.TrimPrefix(r.Path, "ops/")
				out = append(out, outputPath(rel, placeholders))
			}
		}
	}
	// Platform files of other features' packages kept or left out by it.
	byName := regexp.MustCompile(`\bwith(out)? ` + regexp.QuoteMeta(f.Name) + `\b`)
	for _, other := range c.all() {
		if other == f {
			continue
		}
		pf, err := c.packageFiles(other)
		if err != nil {
			return nil, err
		}
		for _, p := range pf {
			if byName.MatchString(p) {
				out = append(out, p)
			}
		}
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
