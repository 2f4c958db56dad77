package generator

import (
	"context"
	"errors"
	"fmt"
	"go/ast"
	"go/parser"
	"go/scanner"
	"go/token"
	"go/types"
	"os"
	"runtime"
	"sort"
	"strings"

	"golang.org/x/tools/go/packages"
)

// loadTree loads the packages of the module in dir, tests included, with
// overlay on top of the files on disk, and type-checks the module's own
// packages from source. The dependencies come from export data in the
// build cache.
//
// go/packages alone would ask the go command for export data of every
// package, the module's too, compiling each package that changed before
// type-checking it again from source; listing the graph first and asking
// for export data of the dependencies only halves the work on every spec
// change (the dependencies' export data does not change with the spec).
func loadTree(ctx context.Context, dir string, overlay map[string][]byte) ([]*packages.Package, error) {
	env := append(os.Environ(), "GOWORK=off", "GOFLAGS=-mod=readonly")
	graph := &packages.Config{
		Context: ctx,
		Mode:    packages.NeedName | packages.NeedFiles | packages.NeedImports | packages.NeedDeps | packages.NeedModule,
		Dir:     dir,
		Tests:   true,
		Overlay: overlay,
		Env:     env,
	}
	roots, err := packages.Load(graph, "./...")
	if err != nil {
		return nil, err
	}
	own := func(p *packages.Package) bool { return p.Module != nil && p.Module.Main }
	external := map[string]bool{}
	var ownPkgs []*packages.Package
	packages.Visit(roots, nil, func(p *packages.Package) {
		if !own(p) {
			return
		}
		ownPkgs = append(ownPkgs, p)
		for _, imp := range p.Imports {
			if !own(imp) && imp.PkgPath != "unsafe" && imp.PkgPath != "C" {
				external[imp.PkgPath] = true
			}
		}
	})
	deps := map[string]*types.Package{}
	if len(external) > 0 {
		paths := make([]string, 0, len(external))
		for p := range external {
			paths = append(paths, p)
		}
		sort.Strings(paths)
		exp := &packages.Config{
			Context: ctx,
			Mode:    packages.NeedName | packages.NeedTypes,
			Dir:     dir,
			Overlay: overlay,
			Env:     env,
		}
		pkgs, err := packages.Load(exp, paths...)
		if err != nil {
			return nil, err
		}
		for _, p := range pkgs {
			for _, e := range p.Errors {
				return nil, errors.New(e.Msg)
			}
			deps[p.PkgPath] = p.Types
		}
	}
	fset := token.NewFileSet()
	sizes := types.SizesFor("gc", runtime.GOARCH)
	done := map[string]bool{}
	var check func(p *packages.Package)
	check = func(p *packages.Package) {
		if done[p.ID] {
			return
		}
		done[p.ID] = true
		for _, imp := range p.Imports {
			if own(imp) {
				check(imp)
			}
		}
		if strings.HasSuffix(p.ID, ".test") && p.Name == "main" {
			return // the go command's generated test main
		}
		p.Fset = fset
		for _, name := range p.GoFiles {
			src, ok := overlay[name]
			if !ok {
				if src, err = os.ReadFile(name); err != nil {
					p.Errors = append(p.Errors, packages.Error{Pos: name, Msg: err.Error(), Kind: packages.ParseError})
					continue
				}
			}
			f, err := parser.ParseFile(fset, name, src, parser.ParseComments|parser.SkipObjectResolution)
			var el scanner.ErrorList
			if errors.As(err, &el) {
				for _, e := range el {
					p.Errors = append(p.Errors, packages.Error{Pos: e.Pos.String(), Msg: e.Msg, Kind: packages.ParseError})
				}
			} else if err != nil {
				p.Errors = append(p.Errors, packages.Error{Pos: name, Msg: err.Error(), Kind: packages.ParseError})
			}
			if f != nil {
				p.Syntax = append(p.Syntax, f)
			}
		}
		p.TypesInfo = &types.Info{
			Types:      map[ast.Expr]types.TypeAndValue{},
			Defs:       map[*ast.Ident]types.Object{},
			Uses:       map[*ast.Ident]types.Object{},
			Selections: map[*ast.SelectorExpr]*types.Selection{},
		}
		conf := &types.Config{
			Sizes: sizes,
			Importer: importerFunc(func(path string) (*types.Package, error) {
				if path == "unsafe" {
					return types.Unsafe, nil
				}
				imp := p.Imports[path]
				switch {
				case imp == nil:
					return nil, fmt.Errorf("package %s is not in the import graph", path)
				case own(imp) && imp.Types != nil:
					return imp.Types, nil
				case own(imp):
					return nil, fmt.Errorf("package %s could not be loaded", path)
				case deps[imp.PkgPath] != nil:
					return deps[imp.PkgPath], nil
				}
				return nil, fmt.Errorf("no export data for %s", path)
			}),
			Error: func(err error) {
				var te types.Error
				if errors.As(err, &te) {
					p.Errors = append(p.Errors, packages.Error{Pos: te.Fset.Position(te.Pos).String(), Msg: te.Msg, Kind: packages.TypeError})
				}
			},
		}
		if p.Module != nil && p.Module.GoVersion != "" {
			conf.GoVersion = "go" + p.Module.GoVersion
		}
		p.Types, _ = conf.Check(p.PkgPath, fset, p.Syntax, p.TypesInfo)
		p.IllTyped = len(p.Errors) > 0
	}
	for _, p := range ownPkgs {
		check(p)
	}
	return roots, nil
}

type importerFunc func(path string) (*types.Package, error)

func (f importerFunc) Import(path string) (*types.Package, error) { return f(path) }
