package generator

import (
	"bytes"
	"fmt"
	"io/fs"
	"path"
	"strings"
	"text/template"

	"github.com/Masterminds/sprig/v3"
)

// FormatError is a Go output that does not parse after rendering: a
// template bug. Source keeps the unformatted text for inspection.
type FormatError struct {
	Err      error
	Path     string
	Template string
	Source   []byte
}

func (e *FormatError) Error() string {
	return fmt.Sprintf("%s (from %s): the rendered Go does not compile: %v", e.Path, e.Template, e.Err)
}

func (e *FormatError) Unwrap() error { return e.Err }

// funcs are the template functions: sprig's, plus a few of ours.
func funcs() template.FuncMap {
	f := sprig.TxtFuncMap()
	f["snake"] = snakeCase
	f["goQuote"] = func(s string) string { return fmt.Sprintf("%q", s) }
	f["line"] = linePlaceholder
	return f
}

// outputPath maps a template path (relative to its feature folder) to the
// output path: placeholders replaced, .tmpl dropped.
func outputPath(rel string, d *Data) string {
	rel = strings.TrimSuffix(rel, ".tmpl")
	parts := strings.Split(rel, "/")
	for i, p := range parts {
		p = strings.ReplaceAll(p, "__name__", d.Name)
		if d.Op != nil {
			p = strings.ReplaceAll(p, "__op__", d.Op.File)
		}
		if d.Client != nil {
			p = strings.ReplaceAll(p, "__client__", d.Client.Name)
		}
		if strings.HasPrefix(p, "_dot_") {
			p = "." + strings.TrimPrefix(p, "_dot_")
		}
		parts[i] = p
	}
	return strings.Join(parts, "/")
}

// renderer executes templates from one template tree.
type renderer struct {
	fsys  fs.FS
	funcs template.FuncMap
}

// execute runs one template file; skip is true when it rendered to only
// white space (a file made conditional on a feature). Go is formatted later,
// once every file of its package is known (see renderAll).
func (r *renderer) execute(tmplPath string, d *Data) (content []byte, skip bool, err error) {
	src, err := fs.ReadFile(r.fsys, tmplPath)
	if err != nil {
		return nil, false, err
	}
	if !strings.HasSuffix(tmplPath, ".tmpl") {
		return src, false, nil
	}
	t, err := template.New("templates/" + tmplPath).Funcs(r.funcs).Funcs(template.FuncMap{"include": r.include}).Option("missingkey=error").Parse(string(src))
	if err != nil {
		return nil, false, err
	}
	var b bytes.Buffer
	if err := t.Execute(&b, d); err != nil {
		return nil, false, err
	}
	if len(bytes.TrimSpace(b.Bytes())) == 0 {
		return nil, true, nil
	}
	return b.Bytes(), false, nil
}

// include renders another template of the tree (path from the templates
// root, e.g. "observability/deploy/observability/rules.yml.tmpl") with d, so
// two outputs can carry the same text (pipe it to indent to nest it).
func (r *renderer) include(tmplPath string, d *Data) (string, error) {
	b, _, err := r.execute(tmplPath, d)
	if err != nil {
		return "", fmt.Errorf("include %s: %w", tmplPath, err)
	}
	return string(b), nil
}

// matchGlob matches a slash path against a pattern where "**" stands for
// any number of path segments.
func matchGlob(pattern, name string) bool {
	pp := strings.Split(pattern, "/")
	np := strings.Split(name, "/")
	var match func(i, j int) bool
	match = func(i, j int) bool {
		for i < len(pp) {
			if pp[i] == "**" {
				for k := j; k <= len(np); k++ {
					if match(i+1, k) {
						return true
					}
				}
				return false
			}
			if j >= len(np) {
				return false
			}
			if ok, _ := path.Match(pp[i], np[j]); !ok {
				return false
			}
			i++
			j++
		}
		return j == len(np)
	}
	return match(0, 0)
}
