package generator

import (
	"go/ast"
	"go/format"
	"go/parser"
	"go/token"
	"slices"
	"strconv"
	"strings"
	"sync"

	"golang.org/x/tools/imports"
)

// formatGo formats a rendered Go file the way goimports does.
//
// imports.Process starts a `go env` process for every file, which made it
// most of svcgen's generation time. When a file's imports are already exact
// (every import used, every package referenced imported) goimports changes
// nothing but the layout, so go/format gives the same bytes; only files
// whose imports need fixing go through imports.Process. TestFormatGoFastPath
// checks that both paths agree on every template output.
func formatGo(path string, src []byte, siblings map[string]bool) ([]byte, error) {
	if importsExact(src, siblings) {
		if out, err := format.Source(src); err == nil {
			return out, nil
		}
	}
	fallbacks.record(path)
	return imports.Process(path, src, &imports.Options{Comments: true, TabIndent: true, TabWidth: 8})
}

// fallbacks counts the files that needed imports.Process: a test keeps it
// at zero for svcgen's own templates, whose output must not depend on the
// go command or the working directory.
var fallbacks fallbackLog

type fallbackLog struct {
	paths []string
	mu    sync.Mutex
}

func (l *fallbackLog) record(p string) {
	l.mu.Lock()
	l.paths = append(l.paths, p)
	l.mu.Unlock()
}

// since returns the paths recorded after the first n.
func (l *fallbackLog) since(n int) []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return slices.Clone(l.paths[n:])
}

func (l *fallbackLog) count() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.paths)
}

// topLevelNames adds the names src declares at the top level to names.
func topLevelNames(src []byte, names map[string]bool) {
	f, err := parser.ParseFile(token.NewFileSet(), "", src, parser.SkipObjectResolution)
	if err != nil {
		return
	}
	for _, d := range f.Decls {
		switch x := d.(type) {
		case *ast.FuncDecl:
			if x.Recv == nil {
				names[x.Name.Name] = true
			}
		case *ast.GenDecl:
			for _, sp := range x.Specs {
				switch y := sp.(type) {
				case *ast.ValueSpec:
					for _, n := range y.Names {
						names[n.Name] = true
					}
				case *ast.TypeSpec:
					names[y.Name.Name] = true
				}
			}
		}
	}
}

// importsExact reports whether every import of src is used and every
// unresolved package selector has an import, judging import names the way
// goimports guesses them.
func importsExact(src []byte, siblings map[string]bool) bool {
	f, err := parser.ParseFile(token.NewFileSet(), "", src, parser.SkipObjectResolution)
	if err != nil {
		return false
	}
	names := map[string]bool{}
	used := map[string]bool{}
	for _, imp := range f.Imports {
		p, err := strconv.Unquote(imp.Path.Value)
		if err != nil {
			return false
		}
		name := assumedName(p)
		if imp.Name != nil {
			name = imp.Name.Name
		}
		if name == "_" || name == "." {
			continue
		}
		names[name] = true
	}
	// Declared at top level, in a sibling file or locally: identifiers that
	// are not packages.
	declared := map[string]bool{}
	for n := range siblings {
		declared[n] = true
	}
	ast.Inspect(f, func(n ast.Node) bool {
		switch x := n.(type) {
		case *ast.ValueSpec:
			for _, id := range x.Names {
				declared[id.Name] = true
			}
		case *ast.AssignStmt:
			if x.Tok == token.DEFINE {
				for _, l := range x.Lhs {
					if id, ok := l.(*ast.Ident); ok {
						declared[id.Name] = true
					}
				}
			}
		case *ast.FuncType:
			// Parameters and results are in scope; struct field names
			// are not, so *ast.Field is not counted in general.
			for _, fl := range []*ast.FieldList{x.TypeParams, x.Params, x.Results} {
				declareFields(declared, fl)
			}
		case *ast.FuncDecl:
			declareFields(declared, x.Recv)
			if x.Recv == nil {
				declared[x.Name.Name] = true
			}
		case *ast.TypeSpec:
			declared[x.Name.Name] = true
		case *ast.RangeStmt:
			for _, e := range []ast.Expr{x.Key, x.Value} {
				if id, ok := e.(*ast.Ident); ok {
					declared[id.Name] = true
				}
			}
		}
		return true
	})
	exact := true
	ast.Inspect(f, func(n ast.Node) bool {
		sel, ok := n.(*ast.SelectorExpr)
		if !ok {
			return true
		}
		id, ok := sel.X.(*ast.Ident)
		if !ok {
			return true
		}
		switch {
		case names[id.Name] && !declared[id.Name]:
			used[id.Name] = true
		case !declared[id.Name]:
			exact = false // maybe a missing import
		}
		return true
	})
	for n := range names {
		if !used[n] {
			return false
		}
	}
	return exact
}

func declareFields(declared map[string]bool, fl *ast.FieldList) {
	if fl == nil {
		return
	}
	for _, f := range fl.List {
		for _, id := range f.Names {
			declared[id.Name] = true
		}
	}
}

// assumedName is the package name goimports assumes for an import path:
// the last element without a "go-" prefix, a ".vN" or "-go" suffix, and
// skipping a major-version element.
func assumedName(p string) string {
	elems := strings.Split(p, "/")
	last := elems[len(elems)-1]
	if len(elems) > 1 && len(last) > 1 && last[0] == 'v' && isDigits(last[1:]) {
		last = elems[len(elems)-2]
	}
	if i := strings.Index(last, ".v"); i > 0 && isDigits(last[i+2:]) {
		last = last[:i]
	}
	last = strings.TrimPrefix(last, "go-")
	last = strings.TrimSuffix(last, "-go")
	if i := strings.IndexAny(last, ".-"); i >= 0 {
		last = last[:i]
	}
	return last
}

func isDigits(s string) bool {
	if s == "" {
		return false
	}
	for _, r := range s {
		if r < '0' || r > '9' {
			return false
		}
	}
	return true
}
