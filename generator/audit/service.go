package audit

import (
	"go/ast"
	"go/token"
	"go/types"
	"path/filepath"
	"sort"
	"strings"

	"golang.org/x/tools/go/analysis"
	"golang.org/x/tools/go/packages"
	"golang.org/x/tools/go/types/typeutil"
)

// service is the audit of one service in progress: the index the
// analyzers share (computed over all its packages first), then their
// findings.
type service struct {
	dir  string
	pkgs []*packages.Package
	// own holds the service's packages, to tell its functions from
	// its dependencies'.
	own map[*types.Package]bool
	// dbFuncs are the service's functions that make a DB or Redis round
	// trip, directly or through other functions of the service (static
	// calls only); readFuncs those that read from the DB.
	dbFuncs, readFuncs map[*types.Func]bool
	// ogenHandlers are the Handler interfaces of ogen-generated packages.
	ogenHandlers []*types.Interface
	// deadlineMiddleware is true when the service wraps its handlers in a
	// deadline (http.TimeoutHandler, chi's middleware.Timeout, or its own
	// middleware that calls context.WithTimeout/WithDeadline).
	deadlineMiddleware bool
	handlers           int
	// generated holds the files with a "Code generated ... DO NOT EDIT."
	// header: their findings belong to their generator and are not
	// reported (as golangci-lint does by default).
	generated  map[string]bool
	uses       Uses
	findings   map[string][]Finding
	bytesSaved int
	fixes      []fileFix
}

func newService(dir string, pkgs []*packages.Package) *service {
	if abs, err := filepath.Abs(dir); err == nil {
		dir = abs
	}
	s := &service{dir: dir, pkgs: pkgs, own: map[*types.Package]bool{},
		dbFuncs: map[*types.Func]bool{}, readFuncs: map[*types.Func]bool{}, findings: map[string][]Finding{}}
	s.generated = map[string]bool{}
	for _, p := range pkgs {
		if p.Types != nil {
			s.own[p.Types] = true
		}
		for _, f := range p.Syntax {
			if ast.IsGenerated(f) {
				s.generated[p.Fset.Position(f.FileStart).Filename] = true
			}
		}
	}
	s.index()
	return s
}

// checkTable is the checks in report order, with their hints.
var checkTable = []struct {
	id, title, hint string
}{
	{"dbpool", "DB pool config", "svcgen feature dbpool: internal/platform/dbpool opens pgxpool with the preset's MaxConns, MinConns, MaxConnLifetime and MaxConnIdleTime (`svcgen adopt` adds it); for database/sql call SetMaxOpenConns, SetMaxIdleConns, SetConnMaxLifetime and SetConnMaxIdleTime after sql.Open"},
	{"timeouts", "context timeouts", "svcgen feature timeouts: internal/platform/timeout runs every operation under a deadline with DB and cache budgets; feature servemux: internal/platform/server sets the http.Server timeouts; give every http.Client a Timeout"},
	{"batch", "batch operations", "svcgen feature batch: one query for N ids (= ANY($1)), pgx.Batch or COPY for writes, Redis pipelines; no round trip inside a loop"},
	{"cache", "caching", "svcgen feature cache3: L1 in-process, L2 Redis, L3 Postgres with singleflight on misses, in front of the read handlers"},
	{"pooling", "memory pooling", "svcgen feature pool: internal/platform/pool holds typed sync.Pools for scratch buffers and hot structs, reset on Put, never escaping the request"},
	{"router", "ServeMux + ogen", "svcgen features ogen + servemux: typed ogen handlers on a stdlib http.ServeMux instead of chi, gorilla/mux, gin or echo"},
	{"alignment", "struct alignment", "`svcgen audit --fix` reorders the fields (fieldalignment's fix; it drops field comments, review the diff); generated services pass fieldalignment in `make lint`"},
	{"goroutines", "goroutines stoppable", "start background work from the service's lifecycle (the generated main's context and graceful shutdown), not from a handler; if a handler must, pass it a context and track it with a sync.WaitGroup or errgroup"},
}

func emptyChecks() []Check {
	var out []Check
	for _, c := range checkTable {
		out = append(out, Check{ID: c.id, Title: c.title, Status: NotApplicable, Hint: c.hint})
	}
	return out
}

// checks turns the findings into the eight results.
func (s *service) checks() []Check {
	out := emptyChecks()
	for i := range out {
		c := &out[i]
		fs := s.findings[c.ID]
		sort.Slice(fs, func(i, j int) bool {
			if fs[i].File != fs[j].File {
				return fs[i].File < fs[j].File
			}
			if fs[i].Line != fs[j].Line {
				return fs[i].Line < fs[j].Line
			}
			return fs[i].Column < fs[j].Column
		})
		c.Findings, c.Count = fs, len(fs)
		applicable := true
		switch c.ID {
		case "dbpool":
			applicable = s.uses.DB
		case "cache":
			applicable = s.uses.DB || len(s.readFuncs) > 0 || len(fs) > 0
		case "pooling", "goroutines":
			applicable = s.handlers > 0 || len(fs) > 0
		case "alignment":
			c.BytesSaved = s.bytesSaved
		}
		switch {
		case len(fs) > 0:
			c.Status = Fail
		case applicable:
			c.Status = Pass
		}
	}
	return out
}

// report records a finding of check id at pos.
func (s *service) report(fset *token.FileSet, id string, pos token.Pos, msg string) *Finding {
	p := fset.Position(pos)
	if s.generated[p.Filename] {
		return &Finding{}
	}
	rel, err := filepath.Rel(s.dir, p.Filename)
	if err != nil {
		rel = p.Filename
	}
	s.findings[id] = append(s.findings[id], Finding{File: filepath.ToSlash(rel), Line: p.Line, Column: p.Column, Message: msg})
	return &s.findings[id][len(s.findings[id])-1]
}

// run runs every analyzer on every package and returns the mechanical
// fixes found.
func (s *service) run() []fileFix {
	as := s.analyzers()
	for _, p := range s.pkgs {
		if p.TypesInfo == nil || p.Types == nil {
			continue
		}
		runAnalyzers(p, as, func(a *analysis.Analyzer, d analysis.Diagnostic) {
			if a == alignmentAnalyzer {
				s.alignment(p, d)
				return
			}
			s.report(p.Fset, a.Name, d.Pos, d.Message)
		})
	}
	return s.fixes
}

// runAnalyzers is a small go/analysis driver: it runs each analyzer and
// its requirements once on pkg, without facts (none of ours use them).
func runAnalyzers(pkg *packages.Package, as []*analysis.Analyzer, report func(*analysis.Analyzer, analysis.Diagnostic)) {
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
		pass := &analysis.Pass{
			Analyzer:          a,
			Fset:              pkg.Fset,
			Files:             pkg.Syntax,
			OtherFiles:        pkg.OtherFiles,
			Pkg:               pkg.Types,
			TypesInfo:         pkg.TypesInfo,
			TypesSizes:        pkg.TypesSizes,
			ResultOf:          resultOf,
			Report:            func(d analysis.Diagnostic) { report(a, d) },
			ImportObjectFact:  func(types.Object, analysis.Fact) bool { return false },
			ImportPackageFact: func(*types.Package, analysis.Fact) bool { return false },
			ExportObjectFact:  func(types.Object, analysis.Fact) {},
			ExportPackageFact: func(analysis.Fact) {},
			AllObjectFacts:    func() []analysis.ObjectFact { return nil },
			AllPackageFacts:   func() []analysis.PackageFact { return nil },
		}
		if pass.TypesSizes == nil {
			pass.TypesSizes = types.SizesFor("gc", "amd64")
		}
		r, err := a.Run(pass)
		if err != nil {
			r = nil
		}
		results[a] = r
		return r
	}
	for _, a := range as {
		run(a)
	}
}

// index computes what the analyzers need to know about the whole service.
func (s *service) index() {
	calls := map[*types.Func][]*types.Func{}
	for _, p := range s.pkgs {
		if p.TypesInfo == nil {
			continue
		}
		info := p.TypesInfo
		for path := range p.Imports {
			s.noteImport(path)
		}
		for _, id := range sortedUses(info) {
			if obj := info.Uses[id]; obj != nil && obj.Pkg() != nil && obj.Pkg().Path() == "sync" && obj.Name() == "Pool" {
				s.uses.SyncPool = true
			}
		}
		if p.Types != nil && importsPrefix(p, "github.com/ogen-go/ogen") {
			if obj, ok := p.Types.Scope().Lookup("Handler").(*types.TypeName); ok {
				if it, ok := obj.Type().Underlying().(*types.Interface); ok {
					s.ogenHandlers = append(s.ogenHandlers, it)
				}
			}
		}
		for _, f := range p.Syntax {
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
					rt := classify(info, call)
					switch {
					case rt.kind == kindSQL || rt.kind == kindPgx || rt.kind == kindRedis:
						s.dbFuncs[fn] = true
						if rt.read {
							s.readFuncs[fn] = true
						}
					default:
						if c := typeutil.StaticCallee(info, call); c != nil && s.own[c.Pkg()] {
							calls[fn] = append(calls[fn], c)
						}
					}
					return true
				})
			}
			ast.Inspect(f, func(n ast.Node) bool {
				switch n := n.(type) {
				case *ast.SelectorExpr:
					if isPkgFunc(info.Uses[n.Sel], "net/http", "TimeoutHandler") ||
						(isPkgFuncPrefix(info.Uses[n.Sel], "github.com/go-chi/chi") && n.Sel.Name == "Timeout") {
						s.deadlineMiddleware = true
					}
				case *ast.FuncDecl:
					if n.Body != nil && isMiddleware(info, n.Type) && callsDeadline(info, n.Body) {
						s.deadlineMiddleware = true
					}
				case *ast.FuncLit:
					if isMiddleware(info, n.Type) && callsDeadline(info, n.Body) {
						s.deadlineMiddleware = true
					}
				}
				return true
			})
		}
	}
	// Propagate through the service's own static calls to a fixed point.
	for changed := true; changed; {
		changed = false
		for fn, cs := range calls {
			for _, c := range cs {
				if s.dbFuncs[c] && !s.dbFuncs[fn] {
					s.dbFuncs[fn], changed = true, true
				}
				if s.readFuncs[c] && !s.readFuncs[fn] {
					s.readFuncs[fn], changed = true, true
				}
			}
		}
	}
}

func sortedUses(info *types.Info) []*ast.Ident {
	out := make([]*ast.Ident, 0, len(info.Uses))
	for id := range info.Uses {
		out = append(out, id)
	}
	return out
}

func importsPrefix(p *packages.Package, prefix string) bool {
	for path := range p.Imports {
		if strings.HasPrefix(path, prefix) {
			return true
		}
	}
	return false
}

// routers are the third-party routers the router check reports.
var routers = []struct{ prefix, name string }{
	{"github.com/go-chi/chi", "chi"},
	{"github.com/gorilla/mux", "gorilla/mux"},
	{"github.com/gin-gonic/gin", "gin"},
	{"github.com/labstack/echo", "echo"},
	{"github.com/julienschmidt/httprouter", "httprouter"},
	{"github.com/gofiber/fiber", "fiber"},
}

// cacheLibs are imports that count as a cache layer.
var cacheLibs = []string{
	"github.com/redis/go-redis", "github.com/go-redis/redis", "github.com/dgraph-io/ristretto",
	"github.com/hashicorp/golang-lru", "github.com/patrickmn/go-cache", "github.com/allegro/bigcache",
	"github.com/coocood/freecache", "github.com/maypok86/otter", "github.com/jellydator/ttlcache",
	"github.com/eko/gocache", "github.com/viccon/sturdyc", "github.com/valkey-io/valkey-go",
}

func (s *service) noteImport(path string) {
	for _, r := range routers {
		if strings.HasPrefix(path, r.prefix) && !containsStr(s.uses.Routers, r.name) {
			s.uses.Routers = append(s.uses.Routers, r.name)
			sort.Strings(s.uses.Routers)
		}
	}
	if strings.HasPrefix(path, "github.com/ogen-go/ogen") {
		s.uses.Ogen = true
	}
	for _, c := range cacheLibs {
		if strings.HasPrefix(path, c) {
			s.uses.Cache = true
		}
	}
}

func containsStr(ss []string, s string) bool {
	for _, x := range ss {
		if x == s {
			return true
		}
	}
	return false
}

// isHandler reports whether a function is an HTTP handler: it takes an
// http.ResponseWriter, or it is a method implementing an ogen Handler.
func (s *service) isHandler(info *types.Info, recv *ast.FieldList, name string, ft *ast.FuncType) bool {
	if ft.Params != nil {
		for _, f := range ft.Params.List {
			if isNamed(info.TypeOf(f.Type), "net/http", "ResponseWriter") {
				return true
			}
		}
	}
	if recv == nil || len(recv.List) == 0 || len(s.ogenHandlers) == 0 {
		return false
	}
	t := info.TypeOf(recv.List[0].Type)
	if t == nil {
		return false
	}
	if _, ok := t.(*types.Pointer); !ok {
		t = types.NewPointer(t)
	}
	for _, it := range s.ogenHandlers {
		for i := 0; i < it.NumMethods(); i++ {
			if it.Method(i).Name() == name && types.Implements(t, it) {
				return true
			}
		}
	}
	return false
}
