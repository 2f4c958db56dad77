package audit

import (
	"fmt"
	"go/ast"
	"go/constant"
	"go/token"
	"go/types"
	"os"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"golang.org/x/tools/go/analysis"
	"golang.org/x/tools/go/analysis/passes/fieldalignment"
	"golang.org/x/tools/go/packages"
	"golang.org/x/tools/go/types/typeutil"
	"golang.org/x/tools/imports"
)

// alignmentAnalyzer is the fieldalignment analyzer, run as it is.
var alignmentAnalyzer = fieldalignment.Analyzer

// analyzers returns the eight checks as analyzers bound to s, whose index
// lets them see across the service's packages.
func (s *service) analyzers() []*analysis.Analyzer {
	mk := func(name, doc string, run func(*analysis.Pass)) *analysis.Analyzer {
		return &analysis.Analyzer{Name: name, Doc: doc, Run: func(p *analysis.Pass) (any, error) { run(p); return nil, nil }}
	}
	return []*analysis.Analyzer{
		mk("dbpool", "sql.Open, sql.OpenDB, pgxpool.New and pgxpool.NewWithConfig without connection limits and lifetimes set in the same package", s.runDBPool),
		mk("timeouts", "DB, Redis and HTTP calls without a deadline; http.Client without Timeout; http.Server without ReadHeaderTimeout", s.runTimeouts),
		mk("batch", "a DB query or Redis command inside a loop (N+1)", s.runBatch),
		mk("cache", "read handlers hitting the DB in a service with no cache layer", s.runCache),
		mk("pooling", "per-request buffers and large structs in handlers of a service with no sync.Pool", s.runPooling),
		mk("router", "third-party routers instead of http.ServeMux + ogen", s.runRouter),
		alignmentAnalyzer,
		mk("goroutines", "goroutines started in handlers with no context, Done channel or WaitGroup", s.runGoroutines),
	}
}

// fn is one function body: a declaration or a literal.
type fn struct {
	decl    *ast.FuncDecl // the enclosing declaration
	typ     *ast.FuncType
	body    *ast.BlockStmt
	name    string
	handler bool
}

// funcs lists every function of the pass, literals included.
func (s *service) funcs(pass *analysis.Pass) []fn {
	var out []fn
	for _, f := range pass.Files {
		for _, d := range f.Decls {
			fd, ok := d.(*ast.FuncDecl)
			if !ok || fd.Body == nil {
				continue
			}
			out = append(out, fn{decl: fd, typ: fd.Type, body: fd.Body, name: fd.Name.Name,
				handler: s.isHandler(pass.TypesInfo, fd.Recv, fd.Name.Name, fd.Type)})
			ast.Inspect(fd.Body, func(n ast.Node) bool {
				if fl, ok := n.(*ast.FuncLit); ok {
					out = append(out, fn{decl: fd, typ: fl.Type, body: fl.Body, name: fd.Name.Name + " (func literal)",
						handler: s.isHandler(pass.TypesInfo, nil, "", fl.Type)})
				}
				return true
			})
		}
	}
	return out
}

// own inspects a body without descending into function literals (funcs
// lists them separately).
func own(body ast.Node, f func(ast.Node)) {
	ast.Inspect(body, func(n ast.Node) bool {
		if _, ok := n.(*ast.FuncLit); ok && n != body {
			return false
		}
		if n != nil {
			f(n)
		}
		return true
	})
}

func (s *service) runDBPool(pass *analysis.Pass) {
	info := pass.TypesInfo
	type open struct {
		name  string
		pos   token.Pos
		kind  string
		dsnOK bool
	}
	var opens []open
	set := map[string]bool{}
	stmts := openStmts(info, pass.Files)
	for _, f := range pass.Files {
		ast.Inspect(f, func(n ast.Node) bool {
			switch n := n.(type) {
			case *ast.CallExpr:
				switch {
				case calleeIs(info, n, "database/sql", "Open", "OpenDB"):
					opens = append(opens, open{name: "sql." + typeutil.Callee(info, n).Name(), pos: n.Pos(), kind: "sql"})
				case calleeIs(info, n, "github.com/jackc/pgx/v5/pgxpool", "New"):
					ok := false
					if len(n.Args) == 2 {
						if tv, has := info.Types[n.Args[1]]; has && tv.Value != nil && tv.Value.Kind() == constant.String {
							ok = strings.Contains(constant.StringVal(tv.Value), "pool_max_conns")
						}
					}
					opens = append(opens, open{name: "pgxpool.New", pos: n.Pos(), kind: "pgxdsn", dsnOK: ok})
				case calleeIs(info, n, "github.com/jackc/pgx/v5/pgxpool", "NewWithConfig"):
					opens = append(opens, open{name: "pgxpool.NewWithConfig", pos: n.Pos(), kind: "pgx"})
				case calleeIs(info, n, "database/sql", "SetMaxOpenConns", "SetMaxIdleConns", "SetConnMaxLifetime", "SetConnMaxIdleTime"):
					set[typeutil.Callee(info, n).Name()] = true
				}
			case *ast.AssignStmt:
				for _, l := range n.Lhs {
					sel, ok := ast.Unparen(l).(*ast.SelectorExpr)
					if !ok {
						continue
					}
					if v, ok := info.Uses[sel.Sel].(*types.Var); ok && v.IsField() && v.Pkg() != nil &&
						strings.HasPrefix(v.Pkg().Path(), "github.com/jackc/pgx/") {
						set[v.Name()] = true
					}
				}
			}
			return true
		})
	}
	for _, o := range opens {
		s.uses.DB = true
		var missing []string
		note := ""
		switch o.kind {
		case "sql":
			for _, m := range []string{"SetMaxOpenConns", "SetMaxIdleConns"} {
				if !set[m] {
					missing = append(missing, m)
				}
			}
			if !set["SetConnMaxLifetime"] && !set["SetConnMaxIdleTime"] {
				missing = append(missing, "SetConnMaxLifetime/SetConnMaxIdleTime")
			}
			note = "database/sql defaults to unlimited open connections, 2 idle ones and no lifetime"
		case "pgxdsn":
			if !o.dsnOK {
				missing = append(missing, "MaxConns (pool_max_conns in a constant DSN, or pgxpool.NewWithConfig)")
			}
			note = "pgxpool defaults to max(4, GOMAXPROCS) connections"
		case "pgx":
			if !set["MaxConns"] {
				missing = append(missing, "MaxConns")
			}
			if !set["MaxConnLifetime"] && !set["MaxConnIdleTime"] {
				missing = append(missing, "MaxConnLifetime/MaxConnIdleTime")
			}
			note = "pgxpool defaults to max(4, GOMAXPROCS) connections"
		}
		if len(missing) > 0 {
			fd := s.report(pass.Fset, "dbpool", o.pos, fmt.Sprintf("%s without %s in package %s: %s", o.name, strings.Join(missing, ", "), pass.Pkg.Name(), note))
			if st, ok := stmts[o.pos]; ok && o.kind != "pgxdsn" {
				s.fixPool(pass.Fset, o.kind, st, set, fd)
			}
		}
	}
}

func (s *service) runTimeouts(pass *analysis.Pass) {
	info := pass.TypesInfo
	rep := func(pos token.Pos, format string, args ...any) {
		s.report(pass.Fset, "timeouts", pos, fmt.Sprintf(format, args...))
	}
	ctxCache := map[*ast.FuncDecl][2]map[types.Object]bool{}
	for _, f := range s.funcs(pass) {
		vars, ok := ctxCache[f.decl]
		if !ok {
			bg, req := ctxVars(info, f.decl.Body)
			vars = [2]map[types.Object]bool{bg, req}
			ctxCache[f.decl] = vars
		}
		bg, req := vars[0], vars[1]
		hasDeadline := callsDeadline(info, f.body)
		own(f.body, func(n ast.Node) {
			switch n := n.(type) {
			case *ast.CompositeLit:
				t := info.TypeOf(n)
				switch {
				case isNamed(t, "net/http", "Client") && !hasKey(n, "Timeout"):
					rep(n.Pos(), "http.Client without Timeout: a slow or silent server holds the caller (and its goroutine) forever")
				case isNamed(t, "net/http", "Server") && !hasKey(n, "ReadHeaderTimeout"):
					var missing []string
					for _, k := range []string{"ReadHeaderTimeout", "ReadTimeout", "WriteTimeout", "IdleTimeout"} {
						if !hasKey(n, k) {
							missing = append(missing, k)
						}
					}
					fd := s.report(pass.Fset, "timeouts", n.Pos(), fmt.Sprintf("http.Server without %s: slow clients hold connections open (Slowloris)", strings.Join(missing, ", ")))
					s.fixServer(pass.Fset, n, fd)
				}
			case *ast.SelectorExpr:
				if v, ok := info.Uses[n.Sel].(*types.Var); ok && v.Pkg() != nil && v.Pkg().Path() == "net/http" && v.Name() == "DefaultClient" {
					rep(n.Pos(), "http.DefaultClient has no timeout")
				}
			case *ast.CallExpr:
				s.timeoutCall(pass, n, f, bg, req, hasDeadline, rep)
			}
		})
	}
}

func (s *service) timeoutCall(pass *analysis.Pass, call *ast.CallExpr, f fn, bg, req map[types.Object]bool, hasDeadline bool, rep func(token.Pos, string, ...any)) {
	info := pass.TypesInfo
	switch {
	case calleeIs(info, call, "net/http", "ListenAndServe", "ListenAndServeTLS") && isPkgFunc(typeutil.Callee(info, call), "net/http", typeutil.Callee(info, call).Name()):
		rep(call.Pos(), "http.%s serves with no timeouts: use an http.Server with ReadHeaderTimeout, ReadTimeout, WriteTimeout and IdleTimeout", typeutil.Callee(info, call).Name())
		return
	case calleeIs(info, call, "net/http", "NewRequest") && isPkgFunc(typeutil.Callee(info, call), "net/http", "NewRequest"):
		rep(call.Pos(), "http.NewRequest has no context, so the request has no deadline: use http.NewRequestWithContext")
		return
	}
	rt := classify(info, call)
	name := rt.name
	ctxArg := rt.ctxArg
	if rt.kind == kindNone {
		c := typeutil.StaticCallee(info, call)
		if c == nil || !s.dbFuncs[c] {
			return
		}
		sig := c.Type().(*types.Signature)
		if sig.Params().Len() == 0 || !isNamed(sig.Params().At(0).Type(), "context", "Context") {
			return
		}
		name, ctxArg = c.Name()+" (makes a DB/Redis round trip)", true
	}
	switch {
	case rt.noCtx && rt.kind == kindSQL:
		rep(call.Pos(), "%s takes no context, so the query has no deadline: use %sContext with a context.WithTimeout", name, strings.TrimSuffix(name[strings.LastIndex(name, ".")+1:], ""))
		return
	case rt.noCtx && rt.kind == kindHTTP:
		if strings.HasPrefix(name, "http.") {
			rep(call.Pos(), "%s uses http.DefaultClient, which has no timeout", name)
		} else {
			rep(call.Pos(), "%s sends a request without a context: use http.NewRequestWithContext and Do", name)
		}
		return
	}
	if !ctxArg || len(call.Args) == 0 {
		return
	}
	a := ast.Unparen(call.Args[0])
	id, _ := a.(*ast.Ident)
	switch {
	case isBackground(info, a) || (id != nil && bg[info.ObjectOf(id)]):
		rep(call.Pos(), "%s gets context.Background()/TODO(): no deadline; derive it from the caller's context with context.WithTimeout", name)
	case f.handler && !s.deadlineMiddleware && !hasDeadline && (isRequestContext(info, a) || (id != nil && req[info.ObjectOf(id)])):
		rep(call.Pos(), "%s gets the request's context, which has no deadline of its own (no context.WithTimeout in %s, no deadline middleware)", name, f.name)
	}
}

func hasKey(lit *ast.CompositeLit, key string) bool {
	for _, e := range lit.Elts {
		if kv, ok := e.(*ast.KeyValueExpr); ok {
			if id, ok := kv.Key.(*ast.Ident); ok && id.Name == key {
				return true
			}
		}
	}
	return false
}

// roundTripName names a call that makes a DB or Redis round trip, directly
// or through the service's own functions; "" otherwise.
func (s *service) roundTripName(info *types.Info, call *ast.CallExpr, readOnly bool) string {
	rt := classify(info, call)
	switch rt.kind {
	case kindSQL, kindPgx:
		if !readOnly || rt.read {
			return rt.name
		}
		return ""
	case kindRedis:
		if !readOnly {
			return rt.name
		}
		return ""
	}
	if c := typeutil.StaticCallee(info, call); c != nil {
		if readOnly && s.readFuncs[c] {
			return c.Name() + " (reads the DB)"
		}
		if !readOnly && s.dbFuncs[c] {
			return c.Name() + " (makes a DB/Redis round trip)"
		}
	}
	return ""
}

func (s *service) runBatch(pass *analysis.Pass) {
	info := pass.TypesInfo
	var walk func(n ast.Node, loop ast.Node)
	walk = func(n ast.Node, loop ast.Node) {
		ast.Inspect(n, func(m ast.Node) bool {
			switch m := m.(type) {
			case *ast.ForStmt:
				if m == n {
					return true
				}
				for _, x := range []ast.Node{m.Init, m.Cond, m.Post} {
					if x != nil {
						walk(x, loop)
					}
				}
				inner := ast.Node(m)
				if m.Cond == nil {
					inner = nil // for {}: a worker loop, not N+1
				}
				walk(m.Body, inner)
				return false
			case *ast.RangeStmt:
				if m == n {
					return true
				}
				walk(m.X, loop)
				walk(m.Body, m)
				return false
			case *ast.CallExpr:
				if loop == nil {
					return true
				}
				if name := s.roundTripName(info, m, false); name != "" {
					line := pass.Fset.Position(loop.Pos()).Line
					s.report(pass.Fset, "batch", m.Pos(), fmt.Sprintf("%s inside the loop at line %d: one round trip per iteration (N+1)", name, line))
				}
			}
			return true
		})
	}
	for _, f := range pass.Files {
		for _, d := range f.Decls {
			if fd, ok := d.(*ast.FuncDecl); ok && fd.Body != nil {
				walk(fd.Body, nil)
			}
		}
	}
}

func (s *service) runCache(pass *analysis.Pass) {
	if s.uses.Cache {
		return
	}
	info := pass.TypesInfo
	for _, f := range s.funcs(pass) {
		if !f.handler {
			continue
		}
		own(f.body, func(n ast.Node) {
			if call, ok := n.(*ast.CallExpr); ok {
				if name := s.roundTripName(info, call, true); name != "" {
					s.report(pass.Fset, "cache", call.Pos(), fmt.Sprintf("handler %s reads the DB on every request (%s) and the service has no cache layer", f.name, name))
				}
			}
		})
	}
}

// largeStruct is the size from which a struct allocated per request counts
// for the pooling check.
const largeStruct = 256

func (s *service) runPooling(pass *analysis.Pass) {
	info := pass.TypesInfo
	for _, f := range s.funcs(pass) {
		if !f.handler {
			continue
		}
		s.handlers++
		if s.uses.SyncPool {
			continue
		}
		rep := func(pos token.Pos, what string) {
			s.report(pass.Fset, "pooling", pos, fmt.Sprintf("%s allocated on every request in handler %s, and the service has no sync.Pool", what, f.name))
		}
		own(f.body, func(n ast.Node) {
			switch n := n.(type) {
			case *ast.CallExpr:
				if id, ok := ast.Unparen(n.Fun).(*ast.Ident); ok && len(n.Args) > 0 {
					if b, ok := info.Uses[id].(*types.Builtin); ok {
						t := info.TypeOf(n.Args[0])
						switch {
						case b.Name() == "make" && isByteSlice(t):
							rep(n.Pos(), "make([]byte)")
						case b.Name() == "new" && isNamed(t, "bytes", "Buffer"):
							rep(n.Pos(), "a bytes.Buffer")
						}
					}
				}
				if calleeIs(info, n, "bytes", "NewBuffer", "NewBufferString") {
					rep(n.Pos(), "a bytes.Buffer")
				}
			case *ast.CompositeLit:
				t := info.TypeOf(n)
				if isNamed(t, "bytes", "Buffer") {
					rep(n.Pos(), "a bytes.Buffer")
				} else if st, ok := t.Underlying().(*types.Struct); ok && st.NumFields() > 0 {
					if size := pass.TypesSizes.Sizeof(t); size >= largeStruct {
						rep(n.Pos(), fmt.Sprintf("a %d-byte %s", size, types.TypeString(t, types.RelativeTo(pass.Pkg))))
					}
				}
			case *ast.ValueSpec:
				if n.Type != nil && len(n.Values) == 0 && isNamed(info.TypeOf(n.Type), "bytes", "Buffer") {
					rep(n.Pos(), "a bytes.Buffer")
				}
			}
		})
	}
}

func isByteSlice(t types.Type) bool {
	if t == nil {
		return false
	}
	sl, ok := t.Underlying().(*types.Slice)
	if !ok {
		return false
	}
	b, ok := sl.Elem().Underlying().(*types.Basic)
	return ok && b.Kind() == types.Byte
}

func (s *service) runRouter(pass *analysis.Pass) {
	for _, f := range pass.Files {
		for _, imp := range f.Imports {
			path, _ := strconv.Unquote(imp.Path.Value)
			for _, r := range routers {
				if strings.HasPrefix(path, r.prefix) {
					s.report(pass.Fset, "router", imp.Pos(), fmt.Sprintf("imports %s (%s): a third-party router in place of http.ServeMux + ogen", r.name, path))
				}
			}
		}
	}
}

func (s *service) runGoroutines(pass *analysis.Pass) {
	info := pass.TypesInfo
	seen := map[token.Pos]bool{}
	for _, f := range s.funcs(pass) {
		if !f.handler {
			continue
		}
		bg, _ := ctxVars(info, f.decl.Body)
		ast.Inspect(f.body, func(n ast.Node) bool {
			g, ok := n.(*ast.GoStmt)
			if !ok || seen[g.Pos()] {
				return true
			}
			seen[g.Pos()] = true
			if !stoppable(info, g.Call, bg) {
				s.report(pass.Fset, "goroutines", g.Pos(), fmt.Sprintf("goroutine started in handler %s with no way to stop it (no context, Done channel, WaitGroup or errgroup): it outlives the request and is cut off at shutdown", f.name))
			}
			return true
		})
	}
}

// stoppable reports whether a go statement's call can be stopped or waited
// for: it uses a context (not Background/TODO), calls a Done method, or
// uses a sync.WaitGroup or errgroup.Group.
func stoppable(info *types.Info, call *ast.CallExpr, bg map[types.Object]bool) bool {
	found := false
	ast.Inspect(call, func(n ast.Node) bool {
		switch n := n.(type) {
		case *ast.Ident:
			obj := info.ObjectOf(n)
			v, ok := obj.(*types.Var)
			if !ok || bg[obj] {
				return true
			}
			t := v.Type()
			if isNamed(t, "context", "Context") || isNamed(t, "sync", "WaitGroup") || isNamed(t, "golang.org/x/sync/errgroup", "Group") {
				found = true
			}
		case *ast.SelectorExpr:
			if n.Sel.Name == "Done" {
				found = true
			}
		case *ast.CallExpr:
			if isBackground(info, n) {
				return false
			}
		}
		return !found
	})
	return found
}

var sizeRe = regexp.MustCompile(`has size (\d+).* optimal size is (\d+)`)

// alignment records a fieldalignment diagnostic, skipping generated files
// (their generator owns the layout), with the fix for --fix.
func (s *service) alignment(p *packages.Package, d analysis.Diagnostic) {
	if s.generated[p.Fset.Position(d.Pos).Filename] {
		return
	}
	saved := 0
	if m := sizeRe.FindStringSubmatch(d.Message); m != nil {
		a, _ := strconv.Atoi(m[1])
		b, _ := strconv.Atoi(m[2])
		saved = a - b
	}
	msg := d.Message
	if saved > 0 {
		msg += fmt.Sprintf("; reordering saves %d bytes per value", saved)
	}
	fd := s.report(p.Fset, "alignment", d.Pos, msg)
	fd.BytesSaved = saved
	s.bytesSaved += saved
	if len(d.SuggestedFixes) == 0 {
		return
	}
	fd.Fixable = true
	for _, e := range d.SuggestedFixes[0].TextEdits {
		start, end := p.Fset.Position(e.Pos), p.Fset.Position(e.End)
		s.fixes = append(s.fixes, fileFix{path: start.Filename, start: start.Offset, end: end.Offset, text: e.NewText})
	}
}

// fileFix is one text edit of --fix.
type fileFix struct {
	path       string
	start, end int
	text       []byte
}

// applyFixes applies the edits, file by file, last edit first.
func applyFixes(fixes []fileFix) error {
	byFile := map[string][]fileFix{}
	for _, f := range fixes {
		byFile[f.path] = append(byFile[f.path], f)
	}
	for path, fs := range byFile {
		sort.Slice(fs, func(i, j int) bool { return fs[i].start > fs[j].start })
		src, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		st, err := os.Stat(path)
		if err != nil {
			return err
		}
		last := len(src) + 1
		for _, f := range fs {
			if f.end > last || f.start > f.end || f.end > len(src) {
				continue // overlapping edits: the next --fix run gets them
			}
			src = append(src[:f.start:f.start], append(append([]byte{}, f.text...), src[f.end:]...)...)
			last = f.start
		}
		out, err := imports.Process(path, src, nil)
		if err != nil {
			return fmt.Errorf("%s: %w", path, err)
		}
		if err := os.WriteFile(path, out, st.Mode().Perm()); err != nil {
			return err
		}
	}
	return nil
}

// openStmt is the statement that opens a pool, and the one after it.
type openStmt struct {
	assign *ast.AssignStmt
	next   ast.Stmt
}

// openStmts maps the position of each pool-opening call that is the right
// side of an assignment in a block to that assignment: where --fix adds
// the missing limits.
func openStmts(info *types.Info, files []*ast.File) map[token.Pos]openStmt {
	out := map[token.Pos]openStmt{}
	for _, f := range files {
		ast.Inspect(f, func(n ast.Node) bool {
			b, ok := n.(*ast.BlockStmt)
			if !ok {
				return true
			}
			for i, st := range b.List {
				as, ok := st.(*ast.AssignStmt)
				if !ok || len(as.Rhs) != 1 {
					continue
				}
				call, ok := ast.Unparen(as.Rhs[0]).(*ast.CallExpr)
				if !ok {
					continue
				}
				if calleeIs(info, call, "database/sql", "Open", "OpenDB") || calleeIs(info, call, "github.com/jackc/pgx/v5/pgxpool", "NewWithConfig") {
					var next ast.Stmt
					if i+1 < len(b.List) {
						next = b.List[i+1]
					}
					out[call.Pos()] = openStmt{assign: as, next: next}
				}
			}
			return true
		})
	}
	return out
}

// Limits --fix writes: the review's numbers, which are also the presets'
// dbpool defaults.
var poolLimits = []struct{ kind, key, code string }{
	{"sql", "SetMaxOpenConns", "%s.SetMaxOpenConns(25)"},
	{"sql", "SetMaxIdleConns", "%s.SetMaxIdleConns(25)"},
	{"sql", "SetConnMaxLifetime", "%s.SetConnMaxLifetime(5 * time.Minute)"},
	{"sql", "SetConnMaxIdleTime", "%s.SetConnMaxIdleTime(10 * time.Minute)"},
	{"pgx", "MaxConns", "%s.MaxConns = 25"},
	{"pgx", "MaxConnLifetime", "%s.MaxConnLifetime = 5 * time.Minute"},
	{"pgx", "MaxConnIdleTime", "%s.MaxConnIdleTime = 10 * time.Minute"},
}

// fixPool adds the missing limits: after `db, err := sql.Open(...)` (and
// its error check), or before `pgxpool.NewWithConfig(ctx, cfg)`.
func (s *service) fixPool(fset *token.FileSet, kind string, st openStmt, set map[string]bool, fd *Finding) {
	if fd.File == "" {
		return
	}
	var target string
	var at token.Pos
	switch kind {
	case "sql":
		id, ok := st.assign.Lhs[0].(*ast.Ident)
		if !ok || id.Name == "_" {
			return
		}
		target, at = id.Name, st.assign.End()
		if ifs, ok := st.next.(*ast.IfStmt); ok && ifs.Init == nil {
			at = ifs.End()
		}
	case "pgx":
		call := ast.Unparen(st.assign.Rhs[0]).(*ast.CallExpr)
		if len(call.Args) != 2 {
			return
		}
		id, ok := ast.Unparen(call.Args[1]).(*ast.Ident)
		if !ok {
			return
		}
		target, at = id.Name, st.assign.Pos()
	}
	var lines []string
	for _, l := range poolLimits {
		if l.kind == kind && !set[l.key] {
			lines = append(lines, fmt.Sprintf(l.code, target))
		}
	}
	if len(lines) == 0 {
		return
	}
	text := "\n" + strings.Join(lines, "\n")
	if kind == "pgx" {
		text = strings.Join(lines, "\n") + "\n"
	}
	p := fset.Position(at)
	fd.Fixable = true
	s.fixes = append(s.fixes, fileFix{path: p.Filename, start: p.Offset, end: p.Offset, text: []byte(text)})
}

// fixServer adds ReadHeaderTimeout: 5 * time.Second to an http.Server
// literal; the other timeouts depend on the workload (streaming, uploads)
// and stay advice.
func (s *service) fixServer(fset *token.FileSet, lit *ast.CompositeLit, fd *Finding) {
	if fd.File == "" {
		return
	}
	at, text := lit.Rbrace, "ReadHeaderTimeout: 5 * time.Second"
	if n := len(lit.Elts); n > 0 {
		at, text = lit.Elts[n-1].End(), ", "+text
	}
	p := fset.Position(at)
	fd.Fixable = true
	s.fixes = append(s.fixes, fileFix{path: p.Filename, start: p.Offset, end: p.Offset, text: []byte(text)})
}
