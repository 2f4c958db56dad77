package audit

import (
	"errors"
	"fmt"
	"go/ast"
	"go/constant"
	"go/parser"
	"go/token"
	"go/types"
	"os"
	"reflect"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"github.com/jingyugao/rowserrcheck/passes/rowserr"
	"github.com/ryanrolds/sqlclosecheck/pkg/analyzer"
	"golang.org/x/tools/go/analysis"
	"golang.org/x/tools/go/types/typeutil"
	"golang.org/x/tools/imports"
)

// The resources check runs the analyzers golangci-lint users know, as
// they are: sqlclosecheck (rows and statements of database/sql, sqlx and
// pgx never closed) and rowserrcheck (rows.Err never checked after the
// loop), and rewords their findings.
var (
	closeAnalyzer   = analyzer.NewAnalyzer()
	rowsErrAnalyzer = rowserr.NewAnalyzer("github.com/jmoiron/sqlx", "github.com/jackc/pgx/v5", "github.com/jackc/pgx/v4")
)

// resourceMessage rewords a finding of the resources analyzers; "" drops
// it (sqlclosecheck's "Close should use defer" is style, not a leak).
func resourceMessage(a *analysis.Analyzer, msg string) string {
	switch {
	case a == closeAnalyzer && strings.Contains(msg, "not closed"):
		return "rows or statement never closed (sqlclosecheck): it holds its connection until the garbage collector finds it; defer Close() after the error check"
	case a == rowsErrAnalyzer && strings.Contains(msg, "rows.Err"):
		return "rows.Err() not checked after the loop (rowserrcheck): an error mid-iteration reads as fewer rows"
	}
	return ""
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
func (ix *index) funcs(pass *analysis.Pass) []fn {
	var out []fn
	for _, f := range pass.Files {
		for _, d := range f.Decls {
			fd, ok := d.(*ast.FuncDecl)
			if !ok || fd.Body == nil {
				continue
			}
			out = append(out, fn{decl: fd, typ: fd.Type, body: fd.Body, name: fd.Name.Name,
				handler: ix.isHandler(pass.TypesInfo, fd.Recv, fd.Name.Name, fd.Type)})
			ast.Inspect(fd.Body, func(n ast.Node) bool {
				if fl, ok := n.(*ast.FuncLit); ok {
					out = append(out, fn{decl: fd, typ: fl.Type, body: fl.Body, name: fd.Name.Name + " (func literal)",
						handler: ix.isHandler(pass.TypesInfo, nil, "", fl.Type)})
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

// poolOpen is a call that opens a DB pool.
type poolOpen struct {
	name  string
	pos   token.Pos
	kind  string
	dsnOK bool
}

// poolOpens finds the calls that open a DB pool.
func poolOpens(info *types.Info, files []*ast.File) []poolOpen {
	var opens []poolOpen
	for _, f := range files {
		ast.Inspect(f, func(n ast.Node) bool {
			call, ok := n.(*ast.CallExpr)
			if !ok {
				return true
			}
			switch {
			case calleeIs(info, call, "database/sql", "Open", "OpenDB"):
				opens = append(opens, poolOpen{name: "sql." + typeutil.Callee(info, call).Name(), pos: call.Pos(), kind: "sql"})
			case calleeIs(info, call, "github.com/jmoiron/sqlx", "Open", "Connect", "ConnectContext", "MustOpen", "MustConnect"):
				// sqlx.DB embeds *sql.DB: the same Set* calls limit it.
				opens = append(opens, poolOpen{name: "sqlx." + typeutil.Callee(info, call).Name(), pos: call.Pos(), kind: "sql"})
			case calleeIs(info, call, "github.com/jackc/pgx/v5/pgxpool", "New"):
				ok := false
				if len(call.Args) == 2 {
					if tv, has := info.Types[call.Args[1]]; has && tv.Value != nil && tv.Value.Kind() == constant.String {
						ok = strings.Contains(constant.StringVal(tv.Value), "pool_max_conns")
					}
				}
				opens = append(opens, poolOpen{name: "pgxpool.New", pos: call.Pos(), kind: "pgxdsn", dsnOK: ok})
			case calleeIs(info, call, "github.com/jackc/pgx/v5/pgxpool", "NewWithConfig"):
				opens = append(opens, poolOpen{name: "pgxpool.NewWithConfig", pos: call.Pos(), kind: "pgx"})
			}
			return true
		})
	}
	return opens
}

func runDBPool(pass *analysis.Pass, ix *index) {
	info := pass.TypesInfo
	set := map[string]bool{}
	stmts := openStmts(info, pass.Files)
	for _, f := range pass.Files {
		ast.Inspect(f, func(n ast.Node) bool {
			switch n := n.(type) {
			case *ast.CallExpr:
				if calleeIs(info, n, "database/sql", "SetMaxOpenConns", "SetMaxIdleConns", "SetConnMaxLifetime", "SetConnMaxIdleTime") {
					set[typeutil.Callee(info, n).Name()] = true
				} else if c, ok := typeutil.Callee(info, n).(*types.Func); ok {
					// A helper of the module's that sets them (sqlpool.Configure).
					for _, m := range ix.setters[c] {
						set[m] = true
					}
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
	for _, o := range poolOpens(info, pass.Files) {
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
		if len(missing) == 0 {
			continue
		}
		var fixes []analysis.SuggestedFix
		if st, ok := stmts[o.pos]; ok && o.kind != "pgxdsn" {
			fixes = fixPool(o.kind, st, set)
		}
		ix.report(pass, o.pos, fmt.Sprintf("%s without %s in package %s: %s", o.name, strings.Join(missing, ", "), pass.Pkg.Name(), note), fixes...)
	}
}

func runTimeouts(pass *analysis.Pass, ix *index) {
	info := pass.TypesInfo
	rep := func(pos token.Pos, format string, args ...any) {
		ix.report(pass, pos, fmt.Sprintf(format, args...))
	}
	ctxCache := map[*ast.FuncDecl][2]map[types.Object]bool{}
	srvT := setsServerTimeout(info, pass.Files)
	for _, f := range ix.funcs(pass) {
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
				case isNamed(t, "net/http", "Server") && !hasKey(n, "ReadHeaderTimeout") && !hasKey(n, "ReadTimeout") && !srvT:
					// net/http reads the headers under ReadTimeout when
					// ReadHeaderTimeout is zero: either one is enough.
					var missing []string
					for _, k := range []string{"ReadHeaderTimeout", "ReadTimeout", "WriteTimeout", "IdleTimeout"} {
						if !hasKey(n, k) {
							missing = append(missing, k)
						}
					}
					ix.report(pass, n.Pos(), fmt.Sprintf("http.Server without %s: slow clients hold connections open (Slowloris)", strings.Join(missing, ", ")), fixServer(n))
				}
			case *ast.SelectorExpr:
				if v, ok := info.Uses[n.Sel].(*types.Var); ok && v.Pkg() != nil && v.Pkg().Path() == "net/http" && v.Name() == "DefaultClient" {
					rep(n.Pos(), "http.DefaultClient has no timeout")
				}
			case *ast.CallExpr:
				ix.timeoutCall(pass, n, f, bg, req, hasDeadline, srvT, rep)
			}
		})
	}
}

// setsServerTimeout reports whether the files assign ReadTimeout or
// ReadHeaderTimeout to a field of net/http's Server, or set ReadTimeout
// in a fiber.Config literal.
func setsServerTimeout(info *types.Info, files []*ast.File) bool {
	found := false
	for _, f := range files {
		ast.Inspect(f, func(n ast.Node) bool {
			switch n := n.(type) {
			case *ast.AssignStmt:
				for _, l := range n.Lhs {
					if sel, ok := ast.Unparen(l).(*ast.SelectorExpr); ok && oneOf(sel.Sel.Name, "ReadTimeout", "ReadHeaderTimeout") {
						if v, ok := info.Uses[sel.Sel].(*types.Var); ok && v.IsField() && v.Pkg() != nil && v.Pkg().Path() == "net/http" {
							found = true
						}
					}
				}
			case *ast.CompositeLit:
				if t := info.TypeOf(n); t != nil && isFramework(t, "fiber", "Config") && hasKey(n, "ReadTimeout") {
					found = true
				}
			}
			return !found
		})
	}
	return found
}

// isFramework reports whether t (through a pointer) is the named type
// name of the router r (as routerOf names it).
func isFramework(t types.Type, r, name string) bool {
	if p, ok := types.Unalias(t).(*types.Pointer); ok {
		t = p.Elem()
	}
	n, ok := types.Unalias(t).(*types.Named)
	return ok && n.Obj().Pkg() != nil && routerOf(n.Obj().Pkg().Path()) == r && n.Obj().Name() == name
}

// frameworkServe names a router's own way to serve that runs an
// http.Server with no timeouts: echo's e.Start (unless the package sets
// e.Server's timeouts), gin's r.Run, fiber's app.Listen without a
// ReadTimeout in its fiber.Config.
func frameworkServe(info *types.Info, call *ast.CallExpr, srvT bool) string {
	fn, ok := typeutil.Callee(info, call).(*types.Func)
	if !ok || fn.Type().(*types.Signature).Recv() == nil {
		return ""
	}
	recv := fn.Type().(*types.Signature).Recv().Type()
	switch {
	case isFramework(recv, "echo", "Echo") && oneOf(fn.Name(), "Start", "StartTLS", "StartAutoTLS") && !srvT:
		return "echo's e." + fn.Name() + " serves on an http.Server with no timeouts: set e.Server.ReadHeaderTimeout, ReadTimeout, WriteTimeout and IdleTimeout first, or serve e from your own http.Server"
	case isFramework(recv, "gin", "Engine") && oneOf(fn.Name(), "Run", "RunTLS"):
		return "gin's r." + fn.Name() + " is http.ListenAndServe, with no timeouts: serve r from an http.Server with ReadHeaderTimeout, ReadTimeout, WriteTimeout and IdleTimeout"
	case isFramework(recv, "fiber", "App") && oneOf(fn.Name(), "Listen", "ListenTLS") && !srvT:
		return "fiber's app." + fn.Name() + " with no ReadTimeout in its fiber.Config: slow clients hold connections open"
	}
	return ""
}

func (ix *index) timeoutCall(pass *analysis.Pass, call *ast.CallExpr, f fn, bg, req map[types.Object]bool, hasDeadline, srvT bool, rep func(token.Pos, string, ...any)) {
	info := pass.TypesInfo
	if msg := frameworkServe(info, call, srvT); msg != "" {
		rep(call.Pos(), "%s", msg)
		return
	}
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
	if rt.kind == kindNone || rt.kind == kindORM {
		c := callee(info, call)
		if _, ok := ix.rt[c]; c == nil || !ok {
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
	case f.handler && !ix.visible.Deadline && !hasDeadline && (isRequestContext(info, a) || (id != nil && req[info.ObjectOf(id)])):
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
func (ix *index) roundTripName(info *types.Info, call *ast.CallExpr, readOnly bool) string {
	rt := classify(info, call)
	switch rt.kind {
	case kindSQL, kindPgx, kindORM:
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
	if c := callee(info, call); c != nil {
		rt, ok := ix.rt[c]
		if readOnly && ok && rt.Read {
			return c.Name() + " (reads the DB)"
		}
		if !readOnly && ok {
			return c.Name() + " (makes a DB/Redis round trip)"
		}
	}
	return ""
}

func runBatch(pass *analysis.Pass, ix *index) {
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
				if name := ix.roundTripName(info, m, false); name != "" {
					line := pass.Fset.Position(loop.Pos()).Line
					ix.report(pass, m.Pos(), fmt.Sprintf("%s inside the loop at line %d: one round trip per iteration (N+1)", name, line))
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

func runCache(pass *analysis.Pass, ix *index) {
	if ix.visible.Cache {
		return
	}
	info := pass.TypesInfo
	for _, f := range ix.funcs(pass) {
		if !f.handler {
			continue
		}
		own(f.body, func(n ast.Node) {
			if call, ok := n.(*ast.CallExpr); ok {
				if name := ix.roundTripName(info, call, true); name != "" {
					ix.report(pass, call.Pos(), fmt.Sprintf("handler %s reads the DB on every request (%s) and the service has no cache layer", f.name, name))
				}
			}
		})
	}
}

// largeStruct is the size from which a struct allocated per request counts
// for the pooling check.
const largeStruct = 256

func runPooling(pass *analysis.Pass, ix *index) {
	info := pass.TypesInfo
	for _, f := range ix.funcs(pass) {
		if !f.handler {
			continue
		}
		if ix.visible.SyncPool {
			continue
		}
		rep := func(pos token.Pos, what string) {
			ix.report(pass, pos, fmt.Sprintf("%s allocated on every request in handler %s, and the service has no sync.Pool", what, f.name))
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

func runGoroutines(pass *analysis.Pass, ix *index) {
	info := pass.TypesInfo
	seen := map[token.Pos]bool{}
	for _, f := range ix.funcs(pass) {
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
				ix.report(pass, g.Pos(), fmt.Sprintf("goroutine started in handler %s with no way to stop it (no context, Done channel, WaitGroup or errgroup): it outlives the request and is cut off at shutdown", f.name))
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

// wireTags are the struct tag keys that make a struct's field order part
// of an encoding (JSON key order, YAML documents, columns): --fix leaves
// such structs alone unless --fix-wire.
var wireTags = []string{"json", "db", "yaml", "xml", "toml", "bson", "msgpack", "protobuf", "boil", "gorm", "mapstructure", "avro", "cbor", "csv", "bun", "pg"}

// alignment reports a fieldalignment diagnostic, skipping generated files
// (their generator owns the layout) and, unless all, structs whose
// reordering saves no bytes (fieldalignment's pointer-bytes notes), with a
// suggested fix that keeps the fields' comments when it is safe to make.
func alignment(pass *analysis.Pass, ix *index, d analysis.Diagnostic, all, fixWire bool) {
	pos := pass.Fset.Position(d.Pos)
	if ix.generated[pos.Filename] {
		return
	}
	saved := 0
	if m := sizeRe.FindStringSubmatch(d.Message); m != nil {
		a, _ := strconv.Atoi(m[1])
		b, _ := strconv.Atoi(m[2])
		saved = a - b
	}
	if saved == 0 && !all {
		return
	}
	msg := d.Message
	if saved > 0 {
		msg += fmt.Sprintf("; reordering saves %d bytes per value", saved)
	}
	fix, note := alignmentFix(pass, d, saved, fixWire)
	if fix != nil {
		ix.report(pass, d.Pos, msg, *fix)
		return
	}
	ix.report(pass, d.Pos, msg+note)
}

// alignmentFix is the reordering of the struct at d.Pos that keeps its
// comments, or why there is none ("; --fix leaves it alone: ...").
func alignmentFix(pass *analysis.Pass, d analysis.Diagnostic, saved int, fixWire bool) (*analysis.SuggestedFix, string) {
	if len(d.SuggestedFixes) == 0 || len(d.SuggestedFixes[0].TextEdits) != 1 {
		return nil, ""
	}
	var file *ast.File
	for _, f := range pass.Files {
		if f.FileStart <= d.Pos && d.Pos < f.FileEnd {
			file = f
		}
	}
	if file == nil {
		return nil, ""
	}
	st, parent := structAt(file, d.Pos)
	if st == nil {
		return nil, ""
	}
	name := "struct"
	why := ""
	ts, isSpec := parent.(*ast.TypeSpec)
	switch {
	case isSpec && ts.Assign.IsValid():
		name, why = ts.Name.Name, "it is a type alias, which must stay identical to the type it names"
	case !isSpec:
		why = "it is an anonymous struct, identical only to structs with the same field order"
	case wireTagged(st):
		name, why = ts.Name.Name, "its tags put it on the wire (json/db/yaml/...), where the field order is the encoding's order"
	default:
		name = ts.Name.Name
	}
	if why != "" && !fixWire {
		return nil, "; --fix leaves it alone: " + why + " (--fix-wire reorders it)"
	}
	src, err := readFile(pass, pass.Fset.Position(d.Pos).Filename)
	if err != nil {
		return nil, ""
	}
	text, ok := reorderKeepingComments(pass.Fset, file, st, d.SuggestedFixes[0].TextEdits[0].NewText, src)
	if !ok {
		return nil, "; --fix leaves it alone: it cannot carry every comment of the struct over"
	}
	return &analysis.SuggestedFix{
		Message:   fmt.Sprintf("reordered the fields of %s (%d bytes per value saved; comments kept)", name, saved),
		TextEdits: []analysis.TextEdit{{Pos: st.Pos(), End: st.End(), NewText: text}},
	}, ""
}

// structAt finds the struct type at pos and its parent node.
func structAt(f *ast.File, pos token.Pos) (*ast.StructType, ast.Node) {
	var st *ast.StructType
	var parent ast.Node
	var stack []ast.Node
	ast.Inspect(f, func(n ast.Node) bool {
		if st != nil {
			return false
		}
		if n == nil {
			stack = stack[:len(stack)-1]
			return false
		}
		if s, ok := n.(*ast.StructType); ok && s.Pos() == pos {
			st = s
			if len(stack) > 0 {
				parent = stack[len(stack)-1]
			}
			return false
		}
		stack = append(stack, n)
		return true
	})
	return st, parent
}

func wireTagged(st *ast.StructType) bool {
	for _, f := range st.Fields.List {
		if f.Tag == nil {
			continue
		}
		tag, err := strconv.Unquote(f.Tag.Value)
		if err != nil {
			return true
		}
		for _, k := range wireTags {
			if _, ok := reflect.StructTag(tag).Lookup(k); ok {
				return true
			}
		}
	}
	return false
}

// reorderKeepingComments writes the struct in the order fieldalignment
// chose (its suggested text, which drops comments), moving each field's
// own source lines, doc and line comments with it. It declines (false)
// when a comment belongs to no field, fields share a line, or a field
// declares several names.
func reorderKeepingComments(fset *token.FileSet, file *ast.File, st *ast.StructType, suggested, src []byte) ([]byte, bool) {
	e, err := parser.ParseExpr(string(suggested))
	if err != nil {
		return nil, false
	}
	newSt, ok := e.(*ast.StructType)
	if !ok {
		return nil, false
	}
	key := func(f *ast.Field) string {
		if len(f.Names) == 1 {
			return f.Names[0].Name
		}
		return types.ExprString(f.Type)
	}
	tf := fset.File(st.Pos())
	line := func(p token.Pos) int { return tf.Line(p) }
	owned := map[*ast.CommentGroup]bool{}
	segs := map[string][]byte{}
	prevEnd := line(st.Fields.Opening)
	for _, f := range st.Fields.List {
		if len(f.Names) > 1 {
			return nil, false
		}
		from, to := f.Pos(), f.End()
		if f.Doc != nil {
			from = f.Doc.Pos()
			owned[f.Doc] = true
		}
		if f.Comment != nil {
			to = f.Comment.End()
			owned[f.Comment] = true
		}
		l0, l1 := line(from), line(to)
		if l0 <= prevEnd || l1 >= line(st.Fields.Closing) {
			return nil, false
		}
		prevEnd = l1
		a := tf.Offset(tf.LineStart(l0))
		b := tf.Offset(tf.LineStart(l1+1)) - 1
		k := key(f)
		if _, dup := segs[k]; dup {
			return nil, false
		}
		segs[k] = src[a:b]
	}
	open := line(st.Fields.Opening)
	for _, g := range file.Comments {
		if g.Pos() > st.Fields.Opening && g.End() < st.Fields.Closing && !owned[g] && line(g.Pos()) != open {
			return nil, false
		}
	}
	// The opening line stays as it is, a comment after the brace included.
	var b strings.Builder
	b.Write(src[tf.Offset(st.Pos()) : tf.Offset(tf.LineStart(open+1))-1])
	b.WriteString("\n")
	if len(newSt.Fields.List) != len(segs) {
		return nil, false
	}
	for _, f := range newSt.Fields.List {
		seg, ok := segs[key(f)]
		if !ok {
			return nil, false
		}
		b.Write(seg)
		b.WriteString("\n")
	}
	b.WriteString("}")
	return []byte(b.String()), true
}

// fileFix is one text edit of --fix, with the line it starts on and what
// it changes, for the summary.
type fileFix struct {
	path       string
	start, end int
	text       []byte
	line       int
	desc       string
}

// applyFixes applies the edits, file by file, last edit first, keeping
// each file's content from before the first change in orig. Edits that
// overlap one already applied wait for the next pass. It returns the
// edits applied.
func applyFixes(fixes []fileFix, orig map[string][]byte) ([]fileFix, error) {
	byFile := map[string][]fileFix{}
	for _, f := range fixes {
		byFile[f.path] = append(byFile[f.path], f)
	}
	paths := make([]string, 0, len(byFile))
	for p := range byFile {
		paths = append(paths, p)
	}
	sort.Strings(paths)
	var applied []fileFix
	for _, path := range paths {
		fs := byFile[path]
		sort.SliceStable(fs, func(i, j int) bool { return fs[i].start > fs[j].start })
		src, err := os.ReadFile(path)
		if err != nil {
			return applied, err
		}
		st, err := os.Stat(path)
		if err != nil {
			return applied, err
		}
		if _, ok := orig[path]; !ok {
			orig[path] = append([]byte(nil), src...)
		}
		last := len(src) + 1
		var done []fileFix
		for _, f := range fs {
			if f.end > last || f.start > f.end || f.end > len(src) || (f.start == f.end && f.start == last) {
				continue // overlapping edits: the next pass gets them
			}
			src = append(src[:f.start:f.start], append(append([]byte{}, f.text...), src[f.end:]...)...)
			last = f.start
			done = append(done, f)
		}
		out, err := imports.Process(path, src, nil)
		if err != nil {
			return applied, fmt.Errorf("%s: %w", path, err)
		}
		if err := os.WriteFile(path, out, st.Mode().Perm()); err != nil {
			return applied, err
		}
		for k := len(done) - 1; k >= 0; k-- {
			applied = append(applied, done[k])
		}
	}
	return applied, nil
}

// restore writes back the files as they were before --fix.
func restore(orig map[string][]byte) error {
	var errs []error
	for path, b := range orig {
		st, err := os.Stat(path)
		mode := os.FileMode(0o644)
		if err == nil {
			mode = st.Mode().Perm()
		}
		if err := os.WriteFile(path, b, mode); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
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
				if calleeIs(info, call, "database/sql", "Open", "OpenDB") || calleeIs(info, call, "github.com/jackc/pgx/v5/pgxpool", "NewWithConfig") ||
					calleeIs(info, call, "github.com/jmoiron/sqlx", "Open", "Connect", "ConnectContext", "MustOpen", "MustConnect") {
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
func fixPool(kind string, st openStmt, set map[string]bool) []analysis.SuggestedFix {
	var target string
	var at token.Pos
	switch kind {
	case "sql":
		id, ok := st.assign.Lhs[0].(*ast.Ident)
		if !ok || id.Name == "_" {
			return nil
		}
		target, at = id.Name, st.assign.End()
		if ifs, ok := st.next.(*ast.IfStmt); ok && ifs.Init == nil {
			at = ifs.End()
		}
	case "pgx":
		call := ast.Unparen(st.assign.Rhs[0]).(*ast.CallExpr)
		if len(call.Args) != 2 {
			return nil
		}
		id, ok := ast.Unparen(call.Args[1]).(*ast.Ident)
		if !ok {
			return nil
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
		return nil
	}
	text := "\n" + strings.Join(lines, "\n")
	if kind == "pgx" {
		text = strings.Join(lines, "\n") + "\n"
	}
	return []analysis.SuggestedFix{{Message: "added " + strings.Join(lines, ", "),
		TextEdits: []analysis.TextEdit{{Pos: at, End: at, NewText: []byte(text)}}}}
}

// fixServer adds ReadHeaderTimeout: 5 * time.Second to an http.Server
// literal; the other timeouts depend on the workload (streaming, uploads)
// and stay advice.
func fixServer(lit *ast.CompositeLit) analysis.SuggestedFix {
	at, text := lit.Rbrace, "ReadHeaderTimeout: 5 * time.Second"
	if n := len(lit.Elts); n > 0 {
		at, text = lit.Elts[n-1].End(), ", "+text
	}
	return analysis.SuggestedFix{Message: "added ReadHeaderTimeout: 5 * time.Second to the http.Server",
		TextEdits: []analysis.TextEdit{{Pos: at, End: at, NewText: []byte(text)}}}
}
