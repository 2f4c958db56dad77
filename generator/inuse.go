package generator

import (
	"fmt"
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
)

// PackageFeature names the feature whose platform package or templates
// produce the package folder pkgDir (slash-separated, relative to the service root, such as
// "internal/platform/batch"), or "" when no feature does.
func (c *Catalog) PackageFeature(pkgDir string) string {
	for _, n := range c.featureNames() {
		f := c.features[n]
		if pkg, ok := strings.CutPrefix(pkgDir, platformDir); ok && slices.Contains(f.Packages, pkg) {
			return n
		}
		if st, err := fs.Stat(c.tmpl, path.Join(f.dir, pkgDir)); err == nil && st.IsDir() {
			return n
		}
	}
	return ""
}

// FeaturesInUseError is a regeneration refused because it removes
// generated packages that files which stay (the team's) still import: the
// service would stop compiling.
type FeaturesInUseError struct {
	// Files lists, per feature (or package folder when no feature of the
	// catalog makes it), the files that import its packages.
	Files map[string][]string
	// Keep are the features to keep (--features +f).
	Keep []string
}

func (e *FeaturesInUseError) Error() string {
	msgs := make([]string, 0, len(e.Keep))
	for _, f := range e.Keep {
		msgs = append(msgs, fmt.Sprintf("%s (imported by %s)", f, strings.Join(e.Files[f], ", ")))
	}
	return fmt.Sprintf("this regen removes the packages of %s, which your code still imports; the service would stop compiling. Keep them with --features +%s (beside the other flags), or remove those uses first",
		strings.Join(msgs, "; "), strings.Join(e.Keep, ",+"))
}

// checkRemovedPackages refuses a plan that removes a generated package
// (every file of its folder goes) while a scaffold or unlisted Go file that
// stays imports it.
func checkRemovedPackages(dir string, m Manifest, res Result, p *Plan, c *Catalog) error {
	kept := map[string]bool{}
	for _, f := range res.Files {
		kept[path.Dir(f.Path)] = true
	}
	gone := map[string]bool{} // package folders
	removed := map[string]bool{}
	for _, ch := range p.Changes {
		if ch.Action != Remove {
			continue
		}
		removed[ch.Path] = true
		if ch.Class == Generated && strings.HasSuffix(ch.Path, ".go") && !kept[path.Dir(ch.Path)] {
			gone[path.Dir(ch.Path)] = true
		}
	}
	if len(gone) == 0 {
		return nil
	}
	owned := map[string]bool{} // svcgen renders these anew (generated) or merges them
	for _, f := range m.Files {
		if f.Class != Scaffold {
			owned[f.Path] = true
		}
	}
	prefix := m.Answers.Module + "/"
	fset := token.NewFileSet()
	e := &FeaturesInUseError{Files: map[string][]string{}}
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		rel = filepath.ToSlash(rel)
		if d.IsDir() {
			switch d.Name() {
			case ".git", ".svcgen", "vendor", "node_modules":
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(rel, ".go") || owned[rel] || removed[rel] {
			return nil
		}
		src, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		f, err := parser.ParseFile(fset, rel, src, parser.ImportsOnly)
		if err != nil {
			return nil // the compiler will say what is wrong with it
		}
		for _, is := range f.Imports {
			imp, err := strconv.Unquote(is.Path.Value)
			if err != nil || !strings.HasPrefix(imp, prefix) || !gone[strings.TrimPrefix(imp, prefix)] {
				continue
			}
			name := strings.TrimPrefix(imp, prefix)
			if c != nil {
				if feat := c.PackageFeature(name); feat != "" {
					name = feat
				}
			}
			if !slices.Contains(e.Keep, name) {
				e.Keep = append(e.Keep, name)
			}
			if !slices.Contains(e.Files[name], rel) {
				e.Files[name] = append(e.Files[name], rel)
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	if len(e.Keep) == 0 {
		return nil
	}
	slices.Sort(e.Keep)
	return e
}
