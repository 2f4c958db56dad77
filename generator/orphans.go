package generator

import (
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"strings"
)

// FindUnserved is the team's implementation of an operation the spec no
// longer has: it compiles, but nothing calls it.
const FindUnserved FindingKind = "unserved"

// stubDocRe reads "X implements GET /items/{id}" from a handler's doc
// comment, as svcgen's stubs write it.
var stubDocRe = regexp.MustCompile(`implements ([A-Z]+) (/\S*?)[.:]?(\s|$)`)

// UnservedHandlers finds the team's implementations of operations gone
// from the spec (renamed or removed): a method M of *Handler declared in
// internal/handler/snake(M).go, the file svcgen wrote for the operation,
// that ops (the spec's operations now) no longer have. Such a file still
// compiles, so only this tells that its code serves nothing; while it is
// there, regen and check say so. files overlays the tree on disk (the
// render about to be written), by slash path.
func UnservedHandlers(dir string, ops []Operation, files map[string][]byte) ([]Finding, error) {
	have := map[string]bool{}
	for _, op := range ops {
		have[op.Name] = true
	}
	entries, err := os.ReadDir(filepath.Join(dir, "internal", "handler"))
	if err != nil {
		if os.IsNotExist(err) {
			return nil, nil
		}
		return nil, err
	}
	var out []Finding
	fset := token.NewFileSet()
	for _, e := range entries {
		name := e.Name()
		if e.IsDir() || !strings.HasSuffix(name, ".go") || strings.HasSuffix(name, "_test.go") {
			continue
		}
		rel := path.Join("internal/handler", name)
		src, ok := files[rel]
		if !ok {
			if src, err = os.ReadFile(filepath.Join(dir, "internal", "handler", name)); err != nil {
				return nil, err
			}
		}
		f, err := parser.ParseFile(fset, rel, src, parser.ParseComments|parser.SkipObjectResolution)
		if err != nil {
			continue // the type check reports it
		}
		for _, d := range f.Decls {
			fd, ok := d.(*ast.FuncDecl)
			if !ok || fd.Recv == nil || len(fd.Recv.List) != 1 || !fd.Name.IsExported() || have[fd.Name.Name] {
				continue
			}
			if st, ok := fd.Recv.List[0].Type.(*ast.StarExpr); !ok || !isIdent(st.X, "Handler") {
				continue
			}
			if snakeCase(fd.Name.Name)+".go" != name {
				continue // a helper of the team's, not an operation's file
			}
			if isStub(fd) {
				continue // svcgen's 501 stub, never written: nothing is lost
			}
			pos := fset.Position(fd.Name.Pos())
			fnd := Finding{Kind: FindUnserved, File: rel, Line: pos.Line, Col: pos.Column,
				Msg: fmt.Sprintf("%s implements no operation any more: the spec has no operation named so (renamed or removed); the service builds, but this code serves nothing", fd.Name.Name)}
			fnd.Fix = "delete " + rel + " (move any code you still need elsewhere first)"
			if fd.Doc != nil {
				if m := stubDocRe.FindStringSubmatch(fd.Doc.Text()); m != nil {
					for _, op := range ops {
						if op.Method == m[1] && op.Path == m[2] {
							fnd.Fix = fmt.Sprintf("%s %s is now operation %s, answering 501 from internal/handler/%s.go: move the body of %s there (as method %s), then delete %s",
								op.Method, op.Path, op.Key(), op.File, fd.Name.Name, op.Name, rel)
						}
					}
				}
			}
			out = append(out, fnd)
		}
	}
	return out, nil
}

func isIdent(e ast.Expr, name string) bool {
	id, ok := e.(*ast.Ident)
	return ok && id.Name == name
}

// isStub reports whether a handler method is still svcgen's stub: it only
// returns ht.ErrNotImplemented (after declaring the zero result).
func isStub(fd *ast.FuncDecl) bool {
	if fd.Body == nil || len(fd.Body.List) == 0 || len(fd.Body.List) > 2 {
		return false
	}
	ret, ok := fd.Body.List[len(fd.Body.List)-1].(*ast.ReturnStmt)
	if !ok || len(ret.Results) == 0 {
		return false
	}
	sel, ok := ret.Results[len(ret.Results)-1].(*ast.SelectorExpr)
	return ok && sel.Sel.Name == "ErrNotImplemented"
}

// isStubFile reports whether a handler file holds only svcgen's 501 stubs:
// removing it loses no code, the starter's or the team's.
func isStubFile(src []byte) bool {
	f, err := parser.ParseFile(token.NewFileSet(), "x.go", src, parser.SkipObjectResolution)
	if err != nil {
		return false
	}
	stubs := 0
	for _, d := range f.Decls {
		if fd, ok := d.(*ast.FuncDecl); ok {
			if !isStub(fd) {
				return false
			}
			stubs++
		}
	}
	return stubs > 0
}
