package generator

import (
	"bytes"
	"fmt"
	"go/build/constraint"
	"go/parser"
	"go/token"
	"io/fs"
	"path"
	"strconv"
	"strings"
)

// platformModule is the import path of svcgen's platform packages in its
// own module (platform/): copies in a service import
// <module>/internal/platform/... instead.
const platformModule = "github.com/svcgen/svcgen/platform/"

// platformDir is where the copies go in a service.
const platformDir = "internal/platform/"

// withoutTag is the build tag a platform file puts in its constraint to say
// it is for services without a feature: `//go:build no_tracing` is copied
// only when tracing is off, `//go:build !no_tracing` only when it is on.
const withoutTag = "no_"

// platformCopy is one platform file as a service gets it.
type platformCopy struct {
	src string // path in the platform tree, e.g. cache/cache.go
	out string // path in the service, e.g. internal/platform/cache/cache.go
}

// platformFiles lists the files of a feature's platform packages that a
// service with the given features gets (its build constraints hold), every
// file of each package's tree. known are the names a constraint may use
// after no_: every feature of the catalog.
func platformFiles(fsys fs.FS, f *Feature, enabled func(string) bool, known map[string]bool) ([]platformCopy, error) {
	var out []platformCopy
	for _, pkg := range f.Packages {
		err := fs.WalkDir(fsys, pkg, func(p string, e fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if e.IsDir() {
				return nil
			}
			if strings.HasSuffix(p, ".go") {
				src, err := fs.ReadFile(fsys, p)
				if err != nil {
					return err
				}
				ok, err := platformWanted("platform/"+p, src, enabled, known)
				if err != nil {
					return err
				}
				if !ok {
					return nil
				}
			}
			out = append(out, platformCopy{src: p, out: platformDir + p})
			return nil
		})
		if err != nil {
			return nil, fmt.Errorf("templates/%s/feature.yaml: packages: %s: %w", f.dir, pkg, err)
		}
	}
	return out, nil
}

// platformWanted evaluates a file's //go:build line against the service's
// features. A file without one is always copied.
func platformWanted(name string, src []byte, enabled func(string) bool, known map[string]bool) (bool, error) {
	expr, _, err := buildLine(src)
	if err != nil || expr == nil {
		return true, err
	}
	var bad error
	ok := expr.Eval(func(tag string) bool {
		feature, isWithout := strings.CutPrefix(tag, withoutTag)
		if !isWithout || !known[feature] {
			if bad == nil {
				bad = fmt.Errorf("%s: build tag %q is not no_<feature> of a known feature: a platform file's constraint may only name the features it needs (//go:build !no_tracing)", name, tag)
			}
			return false
		}
		return !enabled(feature)
	})
	return ok, bad
}

// buildLine finds a file's //go:build constraint: the expression and the
// byte offset where the line after it starts.
func buildLine(src []byte) (constraint.Expr, int, error) {
	off := 0
	for off < len(src) {
		end := bytes.IndexByte(src[off:], '\n')
		if end < 0 {
			end = len(src) - off
		}
		line := strings.TrimSpace(string(src[off : off+end]))
		next := off + end + 1
		switch {
		case line == "":
		case constraint.IsGoBuild(line):
			expr, err := constraint.Parse(line)
			return expr, next, err
		case strings.HasPrefix(line, "//"):
		default:
			return nil, 0, nil
		}
		off = next
	}
	return nil, 0, nil
}

// copyPlatformGo turns a platform file into the service's copy: the build
// constraint dropped, imports of other platform packages pointed at the
// service's module, svcgen's header on top.
func copyPlatformGo(name string, src []byte, module, header string) ([]byte, error) {
	if expr, next, err := buildLine(src); err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	} else if expr != nil {
		src = bytes.TrimLeft(src[next:], "\n")
	}
	f, err := parser.ParseFile(token.NewFileSet(), name, src, parser.ImportsOnly|parser.ParseComments)
	if err != nil {
		return nil, err
	}
	var b bytes.Buffer
	b.WriteString(header)
	b.WriteString("\n\n")
	last := 0
	for _, im := range f.Imports {
		p, err := strconv.Unquote(im.Path.Value)
		if err != nil {
			return nil, err
		}
		rest, ok := strings.CutPrefix(p, platformModule)
		if !ok {
			if p == "github.com/svcgen/svcgen" || strings.HasPrefix(p, "github.com/svcgen/svcgen/") {
				return nil, fmt.Errorf("%s imports %s: platform code may import only other platform packages of svcgen (github.com/svcgen/svcgen/platform/...), which services get copies of", name, p)
			}
			continue
		}
		start, end := int(im.Path.Pos())-1, int(im.Path.End())-1
		b.Write(src[last:start])
		b.WriteString(strconv.Quote(path.Join(module, platformDir, rest)))
		last = end
	}
	b.Write(src[last:])
	return b.Bytes(), nil
}

// addPlatform adds the copies of the enabled features' platform packages.
func addPlatform(g *assembly, c *Catalog, d *Data, dirs []*Feature) error {
	known := map[string]bool{}
	for name := range c.features {
		known[name] = true
	}
	enabled := func(name string) bool { return d.features[name] }
	for _, f := range dirs {
		copies, err := platformFiles(c.platform, f, enabled, known)
		if err != nil {
			return err
		}
		for _, pc := range copies {
			content, err := fs.ReadFile(c.platform, pc.src)
			if err != nil {
				return err
			}
			tmpl := "platform/" + pc.src
			if strings.HasSuffix(pc.src, ".go") {
				raw, err := copyPlatformGo(tmpl, content, d.Module, d.Header)
				if err != nil {
					return err
				}
				if content, err = formatGo(pc.out, raw, nil); err != nil {
					return &FormatError{Err: err, Path: pc.out, Template: tmpl, Source: raw}
				}
			}
			g.add(File{Path: pc.out, Template: tmpl, Content: content, Class: Generated})
		}
	}
	return nil
}

// checkPackages refuses a feature.yaml naming a platform package that is
// not a directory of svcgen's platform tree.
func checkPackages(fsys fs.FS, file string, data []byte, f *Feature) error {
	for _, pkg := range f.Packages {
		if pkg == "" || pkg != path.Clean(pkg) || strings.HasPrefix(pkg, "../") {
			return fmt.Errorf("%s:%d: packages: %q is not a directory name under platform/ (for example cache)", file, keyLine(data, "packages"), pkg)
		}
		if st, err := fs.Stat(fsys, pkg); err != nil || !st.IsDir() {
			return fmt.Errorf("%s:%d: packages: platform/%s does not exist: create the package there or remove %q from the list", file, keyLine(data, "packages"), pkg, pkg)
		}
	}
	return nil
}
