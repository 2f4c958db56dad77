package generator

import (
	"bytes"
	"fmt"
	"go/build/constraint"
	"go/parser"
	"go/token"
	"io/fs"
	"path"
	"regexp"
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

// serviceTag is true in every copy and false in svcgen's own tree:
// `//go:build !service` keeps a file (a test of svcgen's against ogen output
// it keeps for the purpose) out of every service.
const serviceTag = "service"

// platformCopy is one platform file as a service gets it.
type platformCopy struct {
	src string // path in the platform tree, e.g. cache/cache.go
	out string // path in the service, e.g. internal/platform/cache/cache.go
}

// platformFiles lists the files of a feature's platform packages that a
// service with the given features gets (its build constraints hold): the
// files of each package's directory and its testdata. known are the names
// a constraint may use after no_: every feature of the catalog.
func platformFiles(fsys fs.FS, f *Feature, enabled func(string) bool, known map[string]bool) ([]platformCopy, error) {
	var out []platformCopy
	for _, pkg := range f.Packages {
		err := fs.WalkDir(fsys, pkg, func(p string, e fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if e.IsDir() {
				// A package is its directory, its testdata and the data
				// folders it embeds (compress/dict: no .go files); a
				// subpackage is listed on its own (compress/dictbuild).
				if p != pkg && path.Base(p) != "testdata" && !strings.Contains(p, "/testdata/") && hasGo(fsys, p) {
					return fs.SkipDir
				}
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

// hasGo says whether dir holds .go files: a Go package of its own.
func hasGo(fsys fs.FS, dir string) bool {
	m, _ := fs.Glob(fsys, dir+"/*.go")
	return len(m) > 0
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
		if tag == serviceTag {
			return true
		}
		feature, isWithout := strings.CutPrefix(tag, withoutTag)
		if !isWithout || !known[feature] {
			if bad == nil {
				bad = fmt.Errorf("%s: build tag %q is not no_<feature> of a known feature: a platform file's constraint may only name the features it needs (//go:build !no_tracing) or service (//go:build !service: never copied)", name, tag)
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
// constraint dropped, the explain paragraphs dropped unless the service was
// made with --explain, imports of other platform packages pointed at the
// service's module, svcgen's header on top.
func copyPlatformGo(name string, src []byte, module, header string, explain bool) ([]byte, error) {
	if expr, next, err := buildLine(src); err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	} else if expr != nil {
		src = bytes.TrimLeft(src[next:], "\n")
	}
	if !explain {
		src = dropExplain(src)
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

// platformJobs are the copies of the enabled features' platform packages,
// as render jobs with nothing to execute; renderAll formats them with the
// templates. A package that several features list (periodic: matview and
// partition) is copied once.
func platformJobs(c *Catalog, d *Data, dirs []*Feature) ([]renderJob, error) {
	known := map[string]bool{}
	for name := range c.features {
		known[name] = true
	}
	enabled := func(name string) bool { return d.features[name] }
	var jobs []renderJob
	copied := map[string]bool{} // packages named by several features go once
	for _, f := range dirs {
		copies, err := platformFiles(c.platform, f, enabled, known)
		if err != nil {
			return nil, err
		}
		for _, pc := range copies {
			if copied[pc.out] {
				continue
			}
			copied[pc.out] = true
			content, err := fs.ReadFile(c.platform, pc.src)
			if err != nil {
				return nil, err
			}
			src := "platform/" + pc.src
			if strings.HasSuffix(pc.src, ".go") {
				if content, err = copyPlatformGo(src, content, d.Module, d.Header, d.Explain); err != nil {
					return nil, err
				}
			}
			jobs = append(jobs, renderJob{out: pc.out, source: src, content: content, data: d})
		}
	}
	return jobs, nil
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

// dropExplain removes the explain paragraphs of a platform file: a comment
// paragraph whose first line is "// Explain NAME: ..." (the anchor that
// `svcgen new --explain` services keep, and the README links to), with the
// empty comment line before it. A template writes the same with
// {{if .Explain}}.
func dropExplain(src []byte) []byte {
	lines := bytes.SplitAfter(src, []byte("\n"))
	out := make([][]byte, 0, len(lines))
	for i := 0; i < len(lines); i++ {
		t := bytes.TrimSpace(lines[i])
		if !explainLine.Match(t) {
			out = append(out, lines[i])
			continue
		}
		if n := len(out); n > 0 && string(bytes.TrimSpace(out[n-1])) == "//" {
			out = out[:n-1]
		}
		for i+1 < len(lines) {
			next := bytes.TrimSpace(lines[i+1])
			if !bytes.HasPrefix(next, []byte("//")) || string(next) == "//" {
				break
			}
			i++
		}
	}
	return bytes.Join(out, nil)
}

var explainLine = regexp.MustCompile(`^// Explain [a-z0-9-]+: `)
