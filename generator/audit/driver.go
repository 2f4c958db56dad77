package audit

import (
	"bytes"
	"encoding/gob"
	"fmt"
	"go/types"
	"os"
	"reflect"
	"sort"

	"golang.org/x/tools/go/analysis"
	"golang.org/x/tools/go/packages"
)

// driver is a small go/analysis driver for the packages of one service:
// it runs the analyzers and their requirements on each package after the
// packages it imports, keeping the facts in memory between them as
// go vet keeps them in files. A fact is encoded and decoded with gob on
// its way (as go vet does), and a package sees only the facts of the
// packages it imports, directly or not.
type driver struct {
	objFacts map[objFactKey]analysis.Fact
	pkgFacts map[pkgFactKey]analysis.Fact
	// deps are, per package, the service's packages it imports, directly
	// or not, itself included.
	deps map[*types.Package]map[*types.Package]bool
}

type objFactKey struct {
	a   *analysis.Analyzer
	obj types.Object
	t   reflect.Type
}

type pkgFactKey struct {
	a   *analysis.Analyzer
	pkg *types.Package
	t   reflect.Type
}

// diagnostic is a diagnostic of one analyzer on one package.
type diagnostic struct {
	analyzer *analysis.Analyzer
	pkg      *packages.Package
	analysis.Diagnostic
}

// analyzeService runs the analyzers on pkgs in dependency order and
// returns their diagnostics and, per package, the index of Facts.
func analyzeService(pkgs []*packages.Package, as []*analysis.Analyzer) ([]diagnostic, map[*packages.Package]*index, []error) {
	d := &driver{objFacts: map[objFactKey]analysis.Fact{}, pkgFacts: map[pkgFactKey]analysis.Fact{},
		deps: map[*types.Package]map[*types.Package]bool{}}
	var diags []diagnostic
	var errs []error
	indexes := map[*packages.Package]*index{}
	for _, p := range dependencyOrder(pkgs) {
		if p.Types == nil || p.TypesInfo == nil {
			continue
		}
		deps := map[*types.Package]bool{p.Types: true}
		for _, imp := range p.Imports {
			if imp.Types != nil {
				for q := range d.deps[imp.Types] {
					deps[q] = true
				}
			}
		}
		d.deps[p.Types] = deps
		results := map[*analysis.Analyzer]any{}
		var run func(a *analysis.Analyzer) any
		run = func(a *analysis.Analyzer) any {
			if r, ok := results[a]; ok {
				return r
			}
			resultOf := map[*analysis.Analyzer]any{}
			for _, req := range a.Requires {
				resultOf[req] = run(req)
			}
			r, err := safeRun(a, d.pass(a, p, resultOf, func(diag analysis.Diagnostic) {
				diags = append(diags, diagnostic{analyzer: a, pkg: p, Diagnostic: diag})
			}))
			if err != nil {
				errs = append(errs, fmt.Errorf("%s: %w", p.PkgPath, err))
			}
			results[a] = r
			return r
		}
		for _, a := range as {
			run(a)
		}
		if ix, ok := run(Facts).(*index); ok {
			indexes[p] = ix
		}
	}
	return diags, indexes, errs
}

// dependencyOrder sorts pkgs so that each comes after the ones it
// imports; ties by path.
func dependencyOrder(pkgs []*packages.Package) []*packages.Package {
	in := map[*packages.Package]bool{}
	for _, p := range pkgs {
		in[p] = true
	}
	sorted := append([]*packages.Package(nil), pkgs...)
	sort.Slice(sorted, func(i, j int) bool { return sorted[i].PkgPath < sorted[j].PkgPath })
	seen := map[*packages.Package]bool{}
	var out []*packages.Package
	var visit func(p *packages.Package)
	visit = func(p *packages.Package) {
		if seen[p] || !in[p] {
			return
		}
		seen[p] = true
		paths := make([]string, 0, len(p.Imports))
		for path := range p.Imports {
			paths = append(paths, path)
		}
		sort.Strings(paths)
		for _, path := range paths {
			visit(p.Imports[path])
		}
		out = append(out, p)
	}
	for _, p := range sorted {
		visit(p)
	}
	return out
}

func (d *driver) pass(a *analysis.Analyzer, p *packages.Package, resultOf map[*analysis.Analyzer]any, report func(analysis.Diagnostic)) *analysis.Pass {
	var module *analysis.Module
	if p.Module != nil {
		module = &analysis.Module{Path: p.Module.Path, Version: p.Module.Version, GoVersion: p.Module.GoVersion}
	}
	deps := d.deps[p.Types]
	pass := &analysis.Pass{
		Analyzer:   a,
		Fset:       p.Fset,
		Files:      p.Syntax,
		OtherFiles: p.OtherFiles,
		Pkg:        p.Types,
		TypesInfo:  p.TypesInfo,
		TypesSizes: p.TypesSizes,
		TypeErrors: p.TypeErrors,
		Module:     module,
		ResultOf:   resultOf,
		Report:     report,
		ReadFile:   os.ReadFile,
		ImportObjectFact: func(obj types.Object, ptr analysis.Fact) bool {
			f, ok := d.objFacts[objFactKey{a, obj, reflect.TypeOf(ptr)}]
			if ok && obj.Pkg() != nil && deps[obj.Pkg()] {
				reflect.ValueOf(ptr).Elem().Set(reflect.ValueOf(f).Elem())
				return true
			}
			return false
		},
		ImportPackageFact: func(pkg *types.Package, ptr analysis.Fact) bool {
			f, ok := d.pkgFacts[pkgFactKey{a, pkg, reflect.TypeOf(ptr)}]
			if ok && deps[pkg] {
				reflect.ValueOf(ptr).Elem().Set(reflect.ValueOf(f).Elem())
				return true
			}
			return false
		},
		ExportObjectFact: func(obj types.Object, f analysis.Fact) {
			if obj.Pkg() != p.Types {
				panic(fmt.Sprintf("%s: fact %T exported for %s of another package", a.Name, f, obj))
			}
			d.objFacts[objFactKey{a, obj, reflect.TypeOf(f)}] = recode(f)
		},
		ExportPackageFact: func(f analysis.Fact) {
			d.pkgFacts[pkgFactKey{a, p.Types, reflect.TypeOf(f)}] = recode(f)
		},
		AllObjectFacts: func() []analysis.ObjectFact {
			var out []analysis.ObjectFact
			for k, f := range d.objFacts {
				if k.a == a && k.obj.Pkg() != nil && deps[k.obj.Pkg()] {
					out = append(out, analysis.ObjectFact{Object: k.obj, Fact: f})
				}
			}
			return out
		},
		AllPackageFacts: func() []analysis.PackageFact {
			var out []analysis.PackageFact
			for k, f := range d.pkgFacts {
				if k.a == a && deps[k.pkg] {
					out = append(out, analysis.PackageFact{Package: k.pkg, Fact: f})
				}
			}
			return out
		},
	}
	if pass.TypesSizes == nil {
		pass.TypesSizes = types.SizesFor("gc", "amd64")
	}
	return pass
}

// recode passes a fact through gob, as go vet's fact files do: a fact
// that does not survive the trip fails here, not only under go vet.
func recode(f analysis.Fact) analysis.Fact {
	var buf bytes.Buffer
	if err := gob.NewEncoder(&buf).Encode(f); err != nil {
		panic(fmt.Sprintf("encoding fact %T: %v", f, err))
	}
	out := reflect.New(reflect.TypeOf(f).Elem()).Interface().(analysis.Fact)
	if err := gob.NewDecoder(&buf).Decode(out); err != nil {
		panic(fmt.Sprintf("decoding fact %T: %v", f, err))
	}
	return out
}

// safeRun runs an analyzer; a panic in it (third-party analyzers meet
// code their authors did not) costs that analyzer's findings, not the
// audit.
func safeRun(a *analysis.Analyzer, pass *analysis.Pass) (r any, err error) {
	defer func() {
		if p := recover(); p != nil {
			r, err = nil, fmt.Errorf("%s: %v", a.Name, p)
		}
	}()
	return a.Run(pass)
}
