package audit

import (
	"fmt"
	"go/ast"
	"go/token"
	"go/types"
	"os"
	"reflect"
	"sort"
	"strconv"
	"strings"

	"golang.org/x/tools/go/analysis"
	"golang.org/x/tools/go/analysis/passes/buildssa"
	"golang.org/x/tools/go/analysis/passes/fieldalignment"
	"golang.org/x/tools/go/analysis/passes/inspect"
	"golang.org/x/tools/go/types/typeutil"
)

// The checks as go/analysis analyzers. Each one runs on one package at a
// time; what a check needs to know across packages (this helper of the
// service queries the DB, that package already imports chi, the service
// has a sync.Pool) travels as facts of [Facts], so `go vet -vettool`,
// gopls, singlechecker and `svcgen audit` report the same findings.
//
// Across packages means across the packages of one module: a function of a
// dependency in another module that happens to query a database is that
// library's business, not a round trip the service wrote.

// Facts computes what the checks share and exports it as facts: which
// functions of the module make a DB or Redis round trip (and which read),
// which set database/sql pool limits, and per package what it and the
// module packages it imports use (sync.Pool, a cache library, a deadline
// middleware, a router, an ogen API). It reports nothing itself.
var Facts = &analysis.Analyzer{
	Name:       "svcgenfacts",
	Doc:        "record the module's DB round trips, pool setters and per-package practices as facts for svcgen's audit checks; reports nothing",
	URL:        "https://github.com/svcgen/svcgen#auditing-and-adopting-existing-services",
	Run:        runFacts,
	FactTypes:  []analysis.Fact{new(RoundTripFact), new(PoolSetterFact), new(PackageFact)},
	ResultType: reflect.TypeOf((*index)(nil)),
}

// RoundTripFact marks a function or method of the module that makes a DB or
// Redis round trip, directly or through other functions of the module; an
// interface method carries it when the interface's only implementation in
// its package does.
type RoundTripFact struct {
	// Read is true when one of the round trips is a query (a read a
	// cache could serve).
	Read bool
}

// AFact marks RoundTripFact as an analysis fact.
func (*RoundTripFact) AFact() {}

func (f *RoundTripFact) String() string {
	if f.Read {
		return "roundtrip(read)"
	}
	return "roundtrip"
}

// PoolSetterFact marks a function of the module that calls *sql.DB's
// SetMaxOpenConns, SetMaxIdleConns, SetConnMaxLifetime or
// SetConnMaxIdleTime (a pool helper such as svcgen adopt's
// sqlpool.Configure).
type PoolSetterFact struct {
	// Methods are the setters it calls, sorted.
	Methods []string
}

// AFact marks PoolSetterFact as an analysis fact.
func (*PoolSetterFact) AFact() {}

func (f *PoolSetterFact) String() string { return "poolsetter(" + strings.Join(f.Methods, ",") + ")" }

// PackageFact is what a package and the packages of its module it imports
// (transitively) use.
type PackageFact struct {
	// Routers are the third-party routers imported by a file that is not
	// generated, sorted.
	Routers []string
	// SyncPool: sync.Pool is used.
	SyncPool bool
	// Cache: a cache library is imported.
	Cache bool
	// Deadline: handlers are wrapped in a deadline (http.TimeoutHandler,
	// chi's middleware.Timeout, or a middleware of the module's that calls
	// context.WithTimeout or WithDeadline).
	Deadline bool
	// OgenAPI is true when this package itself is an ogen API: it imports
	// ogen and declares a Handler interface. Not inherited.
	OgenAPI bool
}

// AFact marks PackageFact as an analysis fact.
func (*PackageFact) AFact() {}

func (f *PackageFact) String() string {
	return fmt.Sprintf("package(routers=%v pool=%v cache=%v deadline=%v ogen=%v)", f.Routers, f.SyncPool, f.Cache, f.Deadline, f.OgenAPI)
}

// stats are what a package has that the checks look at, for the audit's
// statuses (pass, n/a, not recognised); go vet has no use for them.
type stats struct {
	roundTrips, sqlTrips, httpCalls, handlers int
	web, db                                   bool
	apis                                      []string
}

// index is the result of Facts for one package: the facts of the package
// and of the module packages it imports, and the package's own figures.
type index struct {
	module    string
	generated map[string]bool
	// rt holds the round-trip facts of the module's functions visible
	// here; setters the pool-setter facts.
	rt      map[*types.Func]RoundTripFact
	setters map[*types.Func][]string
	// svc is what this package uses itself; imported the union of its
	// module imports' PackageFacts (what it inherits); visible both, the
	// PackageFact it exports.
	svc, imported, visible PackageFact
	ogenHandlers           []*types.Interface
	stats                  stats
}

// modulePath is the module of the package under analysis; without one
// (GOPATH mode), the first element of the package path stands for it.
func modulePath(pass *analysis.Pass) string {
	if pass.Module != nil && pass.Module.Path != "" {
		return pass.Module.Path
	}
	p := pass.Pkg.Path()
	if i := strings.IndexByte(p, '/'); i > 0 {
		return p[:i]
	}
	return p
}

// own reports whether pkg belongs to the module under analysis.
func (ix *index) own(pkg *types.Package) bool {
	if pkg == nil {
		return false
	}
	p := pkg.Path()
	return p == ix.module || strings.HasPrefix(p, ix.module+"/")
}

// withoutTests is pass without its _test.go files: the checks look at the
// code that serves, under go vet (which analyses test variants too) as
// under svcgen audit (which loads no tests).
func withoutTests(pass *analysis.Pass) *analysis.Pass {
	var files []*ast.File
	for _, f := range pass.Files {
		if !strings.HasSuffix(pass.Fset.Position(f.FileStart).Filename, "_test.go") {
			files = append(files, f)
		}
	}
	if len(files) == len(pass.Files) {
		return pass
	}
	p := *pass
	p.Files = files
	return &p
}

func runFacts(pass *analysis.Pass) (any, error) {
	pass = withoutTests(pass)
	ix := &index{module: modulePath(pass), generated: map[string]bool{},
		rt: map[*types.Func]RoundTripFact{}, setters: map[*types.Func][]string{}}
	info := pass.TypesInfo
	for _, f := range pass.Files {
		if isGenerated(f) {
			ix.generated[pass.Fset.Position(f.FileStart).Filename] = true
		}
	}
	for _, of := range pass.AllObjectFacts() {
		fn, ok := of.Object.(*types.Func)
		if !ok || !ix.own(fn.Pkg()) || fn.Pkg() == pass.Pkg {
			continue
		}
		switch f := of.Fact.(type) {
		case *RoundTripFact:
			ix.rt[fn] = *f
		case *PoolSetterFact:
			ix.setters[fn] = f.Methods
		}
	}
	for _, imp := range pass.Pkg.Imports() {
		var f PackageFact
		if !ix.own(imp) || !pass.ImportPackageFact(imp, &f) {
			continue
		}
		ix.imported.merge(f)
		if f.OgenAPI {
			if it := ogenHandler(imp); it != nil {
				ix.ogenHandlers = append(ix.ogenHandlers, it)
			}
		}
	}
	// This package's own practices.
	svc := &ix.svc
	for _, imp := range pass.Pkg.Imports() {
		for _, c := range cacheLibs {
			if strings.HasPrefix(imp.Path(), c) {
				svc.Cache = true
			}
		}
		if strings.HasPrefix(imp.Path(), "github.com/ogen-go/ogen") {
			if it := ogenHandler(pass.Pkg); it != nil {
				svc.OgenAPI = true
				ix.ogenHandlers = append(ix.ogenHandlers, it)
			}
		}
		if routerOf(imp.Path()) != "" {
			ix.stats.web = true
		}
	}
	for _, f := range pass.Files {
		if ix.generated[pass.Fset.Position(f.FileStart).Filename] {
			continue
		}
		for _, imp := range f.Imports {
			path, _ := strconv.Unquote(imp.Path.Value)
			if r := routerOf(path); r != "" && !containsStr(svc.Routers, r) {
				svc.Routers = append(svc.Routers, r)
			}
		}
	}
	sort.Strings(svc.Routers)
	for _, obj := range info.Uses {
		if obj != nil && obj.Pkg() != nil && obj.Pkg().Path() == "sync" && obj.Name() == "Pool" {
			svc.SyncPool = true
			break
		}
	}
	// Round trips and pool setters of the package's functions, then the
	// calls between them.
	calls := map[*types.Func][]*types.Func{}
	local := map[*types.Func]*RoundTripFact{}
	for _, f := range pass.Files {
		for _, decl := range f.Decls {
			fd, ok := decl.(*ast.FuncDecl)
			if !ok || fd.Body == nil {
				continue
			}
			fn, _ := info.Defs[fd.Name].(*types.Func)
			if fn == nil {
				continue
			}
			ast.Inspect(fd.Body, func(n ast.Node) bool {
				call, ok := n.(*ast.CallExpr)
				if !ok {
					return true
				}
				if calleeIs(info, call, "database/sql", "SetMaxOpenConns", "SetMaxIdleConns", "SetConnMaxLifetime", "SetConnMaxIdleTime") {
					if m := typeutil.Callee(info, call).Name(); !containsStr(ix.setters[fn], m) {
						ix.setters[fn] = append(ix.setters[fn], m)
						sort.Strings(ix.setters[fn])
					}
				}
				rt := classify(info, call)
				switch {
				case isDBKind(rt.kind):
					switch rt.kind {
					case kindSQL, kindPgx, kindRedis:
						ix.stats.addAPI(rt.kind)
					}
					if local[fn] == nil {
						local[fn] = &RoundTripFact{}
					}
					local[fn].Read = local[fn].Read || rt.read
					ix.stats.roundTrips++
					if rt.kind != kindRedis {
						ix.stats.sqlTrips++
					}
				case rt.kind == kindHTTP:
					ix.stats.httpCalls++
				default:
					if c := callee(info, call); c != nil && ix.own(c.Pkg()) {
						calls[fn] = append(calls[fn], c)
					}
				}
				return true
			})
		}
		ast.Inspect(f, func(n ast.Node) bool {
			switch n := n.(type) {
			case *ast.SelectorExpr:
				if obj := info.Uses[n.Sel]; obj != nil && obj.Pkg() != nil && obj.Pkg().Path() == "net/http" &&
					oneOf(obj.Name(), "Handle", "HandleFunc", "ServeMux", "NewServeMux") {
					ix.stats.web = true
				}
				if isPkgFunc(info.Uses[n.Sel], "net/http", "TimeoutHandler") ||
					(isPkgFuncPrefix(info.Uses[n.Sel], "github.com/go-chi/chi") && n.Sel.Name == "Timeout") {
					svc.Deadline = true
				}
			case *ast.FuncDecl:
				if n.Body != nil && isMiddleware(info, n.Type) && callsDeadline(info, n.Body) {
					svc.Deadline = true
				}
			case *ast.FuncLit:
				if isMiddleware(info, n.Type) && callsDeadline(info, n.Body) {
					svc.Deadline = true
				}
			}
			return true
		})
	}
	// An interface method of the package stands for the method of the
	// interface's only implementation in the package.
	for _, name := range pass.Pkg.Scope().Names() {
		tn, ok := pass.Pkg.Scope().Lookup(name).(*types.TypeName)
		if !ok || tn.IsAlias() {
			continue
		}
		it, ok := tn.Type().Underlying().(*types.Interface)
		if !ok || it.Empty() || isGeneric(tn) {
			continue
		}
		var impl types.Type
		n := 0
		for _, other := range pass.Pkg.Scope().Names() {
			on, ok := pass.Pkg.Scope().Lookup(other).(*types.TypeName)
			if !ok || on.IsAlias() || types.IsInterface(on.Type()) || isGeneric(on) {
				continue
			}
			var t types.Type = on.Type()
			if !types.Implements(t, it) {
				if t = types.NewPointer(t); !types.Implements(t, it) {
					continue
				}
			}
			n++
			impl = t
		}
		if n != 1 {
			continue
		}
		for i := 0; i < it.NumMethods(); i++ {
			m := it.Method(i)
			if m.Pkg() != pass.Pkg {
				continue
			}
			obj, _, _ := types.LookupFieldOrMethod(impl, true, m.Pkg(), m.Name())
			if c, ok := obj.(*types.Func); ok && ix.own(c.Pkg()) {
				calls[m] = append(calls[m], c)
			}
		}
	}
	for fn, f := range local {
		ix.rt[fn] = *f
	}
	for changed := true; changed; {
		changed = false
		for fn, cs := range calls {
			for _, c := range cs {
				crt, ok := ix.rt[c]
				if !ok {
					continue
				}
				frt, had := ix.rt[fn]
				if !had || (crt.Read && !frt.Read) {
					ix.rt[fn] = RoundTripFact{Read: frt.Read || crt.Read}
					changed = true
				}
			}
		}
	}
	// Export the package's facts, in a stable order.
	var mine []*types.Func
	for fn := range ix.rt {
		if fn.Pkg() == pass.Pkg {
			mine = append(mine, fn)
		}
	}
	for fn := range ix.setters {
		if fn.Pkg() == pass.Pkg {
			if _, ok := ix.rt[fn]; !ok {
				mine = append(mine, fn)
			}
		}
	}
	sort.Slice(mine, func(i, j int) bool { return mine[i].Pos() < mine[j].Pos() })
	for _, fn := range mine {
		if f, ok := ix.rt[fn]; ok {
			pass.ExportObjectFact(fn, &RoundTripFact{Read: f.Read})
		}
		if ms, ok := ix.setters[fn]; ok {
			pass.ExportObjectFact(fn, &PoolSetterFact{Methods: ms})
		}
	}
	ix.visible = *svc
	ix.visible.merge(ix.imported)
	out := ix.visible
	pass.ExportPackageFact(&out)
	// Handlers, counted for the statuses.
	for _, f := range ix.funcs(pass) {
		if f.handler {
			ix.stats.handlers++
			ix.stats.web = true
		}
	}
	for _, o := range poolOpens(info, pass.Files) {
		ix.stats.db = true
		if o.kind == "sql" {
			ix.stats.addAPI(kindSQL)
		} else {
			ix.stats.addAPI(kindPgx)
		}
	}
	return ix, nil
}

func (st *stats) addAPI(api string) {
	if !containsStr(st.apis, api) {
		st.apis = append(st.apis, api)
		sort.Strings(st.apis)
	}
}

// merge adds what o uses to f (OgenAPI is not inherited).
func (f *PackageFact) merge(o PackageFact) {
	for _, r := range o.Routers {
		if !containsStr(f.Routers, r) {
			f.Routers = append(f.Routers, r)
		}
	}
	sort.Strings(f.Routers)
	f.SyncPool = f.SyncPool || o.SyncPool
	f.Cache = f.Cache || o.Cache
	f.Deadline = f.Deadline || o.Deadline
}

// isGeneric reports whether tn declares type parameters (Implements is
// undefined on uninstantiated types).
func isGeneric(tn *types.TypeName) bool {
	n, ok := tn.Type().(*types.Named)
	return ok && n.TypeParams().Len() > 0
}

// ogenHandler is the Handler interface of an ogen API package.
func ogenHandler(pkg *types.Package) *types.Interface {
	if obj, ok := pkg.Scope().Lookup("Handler").(*types.TypeName); ok {
		if it, ok := obj.Type().Underlying().(*types.Interface); ok {
			return it
		}
	}
	return nil
}

// callee is the function a call runs: its static callee, or the interface
// method it calls (which carries a round-trip fact when the interface's
// only implementation in its package makes one).
func callee(info *types.Info, call *ast.CallExpr) *types.Func {
	if c := typeutil.StaticCallee(info, call); c != nil {
		return c
	}
	m, ok := typeutil.Callee(info, call).(*types.Func)
	if !ok || m.Signature().Recv() == nil || !types.IsInterface(m.Signature().Recv().Type()) {
		return nil
	}
	return m
}

// index of the pass, from Facts.
func indexOf(pass *analysis.Pass) *index { return pass.ResultOf[Facts].(*index) }

// report reports a finding at pos unless it is in a generated file (its
// generator owns it, as golangci-lint decides by default) or a test file
// (go vet analyses the test variants of packages too; the audit is about
// the code that serves).
func (ix *index) report(pass *analysis.Pass, pos token.Pos, msg string, fixes ...analysis.SuggestedFix) {
	name := pass.Fset.Position(pos).Filename
	if ix.generated[name] || strings.HasSuffix(name, "_test.go") {
		return
	}
	pass.Report(analysis.Diagnostic{Pos: pos, Message: msg, SuggestedFixes: fixes})
}

// check builds one check's analyzer: it requires Facts (and the analyzers
// named), and runs on the package without its test files.
func check(name, doc string, run func(*analysis.Pass, *index), requires ...*analysis.Analyzer) *analysis.Analyzer {
	return &analysis.Analyzer{
		Name:     name,
		Doc:      doc,
		URL:      "https://github.com/svcgen/svcgen#auditing-and-adopting-existing-services",
		Requires: append([]*analysis.Analyzer{Facts}, requires...),
		Run: func(pass *analysis.Pass) (any, error) {
			run(withoutTests(pass), indexOf(pass))
			return nil, nil
		},
	}
}

// The nine checks, in report order. Each Doc says what it finds, then how
// to fix it (the hint of the audit's report).
var (
	DBPool = check("dbpool", "report database pools opened without connection limits\n\n"+
		"dbpool finds sql.Open, sql.OpenDB, sqlx.Open/Connect/MustConnect without SetMaxOpenConns, SetMaxIdleConns and a "+
		"lifetime or idle time set in the same package (directly or by a function of the module it calls), pgxpool.NewWithConfig "+
		"without MaxConns and MaxConnLifetime/MaxConnIdleTime, and pgxpool.New whose constant DSN has no pool_max_conns.\n\nFix: "+hintOf("dbpool"), runDBPool)
	Timeouts = check("timeouts", "report DB, Redis and HTTP calls without a deadline, and servers and clients without timeouts\n\n"+
		"timeouts finds round trips given context.Background()/TODO() or no context, handlers passing the request's context on "+
		"with no deadline of their own (when no deadline middleware is visible), http.Client without Timeout, http.Server with "+
		"neither ReadHeaderTimeout nor ReadTimeout, http.ListenAndServe, http.NewRequest, echo's e.Start, gin's r.Run, fiber's app.Listen.\n\nFix: "+hintOf("timeouts"), runTimeouts)
	Batch = check("batch", "report a DB query or Redis command inside a loop (N+1)\n\n"+
		"batch finds round trips in for and range loops, directly or through functions and single-implementation interfaces "+
		"of the module (facts carry \"this helper queries\" across packages); for {} worker loops and pipelines are left alone.\n\nFix: "+hintOf("batch"), runBatch)
	Cache = check("cache", "report handlers that read the DB on every request with no cache layer\n\n"+
		"cache finds reads (directly or through the module's functions) in HTTP handlers of a package that neither imports a "+
		"cache library nor imports a package of its module that does.\n\nFix: "+hintOf("cache"), runCache)
	Pooling = check("pooling", "report per-request buffers and large structs allocated in handlers with no sync.Pool\n\n"+
		"pooling finds make([]byte), bytes.Buffer and structs of 256 bytes or more in HTTP handlers of a package where neither it "+
		"nor a package of its module it imports uses sync.Pool.\n\nFix: "+hintOf("pooling"), runPooling)
	Router = check("router", "report third-party routers in place of http.ServeMux + ogen\n\n"+
		"router reports chi, gorilla/mux, gin, echo, httprouter and fiber once, at the first import in the lowest package of "+
		"the module that brings the router in (a package importing one that already does is not reported again).\n\nFix: "+hintOf("router"), runRouter)
	Alignment  = newAlignment(false, false)
	Resources  = check("resources", "report rows and statements never closed and rows.Err never checked\n\nresources runs sqlclosecheck and rowserrcheck as they are, drops sqlclosecheck's style notes and rewords their findings.\n\nFix: "+hintOf("resources"), runResources, buildssa.Analyzer)
	Goroutines = check("goroutines", "report goroutines started in handlers with no way to stop them\n\n"+
		"goroutines finds go statements in HTTP handlers whose call uses no context, Done channel, sync.WaitGroup or errgroup.\n\nFix: "+hintOf("goroutines"), runGoroutines)
)

// Analyzers are the audit's checks, in report order: what svcgen-vet runs
// and `svcgen audit` reports.
var Analyzers = []*analysis.Analyzer{DBPool, Timeouts, Batch, Cache, Pooling, Router, Alignment, Resources, Goroutines}

// analyzersFor are the checks with the alignment options of opts.
func analyzersFor(opts Options) []*analysis.Analyzer {
	if !opts.AlignmentAll && !opts.FixWire {
		return Analyzers
	}
	out := append([]*analysis.Analyzer(nil), Analyzers...)
	for i, a := range out {
		if a == Alignment {
			out[i] = newAlignment(opts.AlignmentAll, opts.FixWire)
		}
	}
	return out
}

func hintOf(id string) string {
	for _, c := range checkTable {
		if c.id == id {
			return c.hint
		}
	}
	return ""
}

// alignmentFlags are the flags of the Alignment analyzer (-alignment.all,
// -alignment.fix-wire under go vet).
var alignmentFlags struct{ all, fixWire bool }

// newAlignment is the alignment check: fieldalignment, run as it is, with
// its findings that save no bytes dropped unless all, and a suggested fix
// that keeps the fields' comments (wire-tagged, alias and anonymous
// structs only with fixWire). Alignment reads its flags instead.
func newAlignment(all, fixWire bool) *analysis.Analyzer {
	a := &analysis.Analyzer{
		Name: "alignment",
		Doc: "report structs whose fields could be reordered to take less memory\n\nalignment runs fieldalignment and keeps its " +
			"findings that save bytes per value (-alignment.all adds the pointer-bytes notes), with a suggested fix that moves " +
			"each field's comments along.\n\nFix: " + hintOf("alignment"),
		URL:      "https://github.com/svcgen/svcgen#auditing-and-adopting-existing-services",
		Requires: []*analysis.Analyzer{Facts, inspect.Analyzer},
	}
	flagged := !all && !fixWire
	a.Run = func(pass *analysis.Pass) (any, error) {
		all, fixWire := all, fixWire
		if flagged {
			all, fixWire = alignmentFlags.all, alignmentFlags.fixWire
		}
		runAlignment(pass, indexOf(pass), all, fixWire)
		return nil, nil
	}
	if flagged {
		a.Flags.BoolVar(&alignmentFlags.all, "all", false, "also report fieldalignment's pointer-bytes notes (same size, less GC scanning)")
		a.Flags.BoolVar(&alignmentFlags.fixWire, "fix-wire", false, "also suggest reordering type aliases, anonymous structs and structs tagged for the wire")
	}
	return a
}

// inner runs a third-party analyzer on pass, its diagnostics handed to
// report instead of the driver.
func inner(a *analysis.Analyzer, pass *analysis.Pass, report func(analysis.Diagnostic)) error {
	p := *pass
	p.Analyzer = a
	p.Report = report
	_, err := a.Run(&p)
	return err
}

func runAlignment(pass *analysis.Pass, ix *index, all, fixWire bool) {
	_ = inner(fieldalignment.Analyzer, pass, func(d analysis.Diagnostic) { alignment(pass, ix, d, all, fixWire) })
}

func runResources(pass *analysis.Pass, ix *index) {
	for _, a := range []*analysis.Analyzer{closeAnalyzer, rowsErrAnalyzer} {
		_ = inner(a, pass, func(d analysis.Diagnostic) {
			if m := resourceMessage(a, d.Message); m != "" {
				ix.report(pass, d.Pos, m)
			}
		})
	}
}

// runRouter reports each router the package's files import, unless a
// package of the module it imports already brings it in.
func runRouter(pass *analysis.Pass, ix *index) {
	type imp struct {
		file string
		spec *ast.ImportSpec
	}
	first := map[string]imp{}
	files := map[string]map[string]bool{}
	for _, f := range pass.Files {
		name := pass.Fset.Position(f.FileStart).Filename
		if ix.generated[name] {
			continue
		}
		for _, spec := range f.Imports {
			path, _ := strconv.Unquote(spec.Path.Value)
			r := routerOf(path)
			if r == "" || containsStr(ix.imported.Routers, r) {
				continue
			}
			if files[r] == nil {
				files[r] = map[string]bool{}
			}
			files[r][name] = true
			if cur, ok := first[r]; !ok || name < cur.file || (name == cur.file && spec.Pos() < cur.spec.Pos()) {
				first[r] = imp{name, spec}
			}
		}
	}
	names := make([]string, 0, len(first))
	for r := range first {
		names = append(names, r)
	}
	sort.Strings(names)
	for _, r := range names {
		im := first[r]
		path, _ := strconv.Unquote(im.spec.Path.Value)
		ix.report(pass, im.spec.Pos(), fmt.Sprintf("uses %s (%s, imported in %d file(s) of package %s): a third-party router in place of http.ServeMux + ogen", r, path, len(files[r]), pass.Pkg.Name()))
	}
}

// readFile reads a file of the pass through the driver when it offers it.
func readFile(pass *analysis.Pass, name string) ([]byte, error) {
	if pass.ReadFile != nil {
		return pass.ReadFile(name)
	}
	return os.ReadFile(name)
}
