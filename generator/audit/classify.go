package audit

import (
	"go/ast"
	"go/constant"
	"go/types"
	"regexp"
	"strings"

	"golang.org/x/tools/go/types/typeutil"
)

// Kinds of round trip a call makes.
const (
	kindNone  = ""
	kindSQL   = "database/sql"
	kindPgx   = "pgx"
	kindRedis = "redis"
	kindHTTP  = "http"
	// kindORM is a query through an ORM (gorm, sqlboiler's queries): a
	// round trip whose context, if any, travels another way.
	kindORM = "orm"
)

// roundTrip describes a call that leaves the process.
type roundTrip struct {
	kind string
	// name is how a finding names the call: "(*sql.DB).QueryRow".
	name string
	// read is true for queries (Query, QueryRow).
	read bool
	// noCtx is true when the call takes no context at all.
	noCtx bool
	// ctxArg is true when the first argument is the call's context.
	ctxArg bool
}

var sqlMethods = map[string]struct{ read, noCtx bool }{
	"Query": {true, true}, "QueryRow": {true, true}, "Exec": {false, true},
	"QueryContext": {true, false}, "QueryRowContext": {true, false}, "ExecContext": {false, false},
}

// classify tells whether call is a DB, Redis or outbound HTTP round trip.
// It is type-based: the callee's package and receiver decide.
func classify(info *types.Info, call *ast.CallExpr) roundTrip {
	fn, _ := typeutil.Callee(info, call).(*types.Func)
	if fn == nil || fn.Pkg() == nil {
		return roundTrip{}
	}
	path, name := fn.Pkg().Path(), fn.Name()
	sig, _ := fn.Type().(*types.Signature)
	if sig == nil {
		return roundTrip{}
	}
	recvName := ""
	if sig.Recv() != nil {
		recvName = namedName(sig.Recv().Type())
	}
	rt := classifyCall(path, name, recvName, sig)
	if rt.read && writesSQL(info, call) {
		rt.read = false
	}
	if rt.kind == kindRedis {
		// A pipeline queues the command: that is the batch form.
		if sel, ok := ast.Unparen(call.Fun).(*ast.SelectorExpr); ok && strings.Contains(namedName(info.TypeOf(sel.X)), "Pipeline") {
			return roundTrip{}
		}
	}
	return rt
}

// sqlxMethods are the query methods sqlx adds to DB, Tx, Conn, Stmt and
// NamedStmt (and its package functions of the same names); read is false
// for the Exec forms.
var sqlxMethods = map[string]bool{
	"Get": true, "Select": true, "Queryx": true, "QueryRowx": true, "NamedQuery": true,
	"GetContext": true, "SelectContext": true, "QueryxContext": true, "QueryRowxContext": true, "NamedQueryContext": true,
	"NamedExec": false, "MustExec": false, "NamedExecContext": false, "MustExecContext": false,
	// NamedStmt's own forms of the database/sql methods.
	"Query": true, "QueryRow": true, "Exec": false, "QueryContext": true, "QueryRowContext": true, "ExecContext": false,
}

// gormMethods are gorm's finisher methods: the ones that run the query
// the chain built (read is true for the reading ones).
var gormMethods = map[string]bool{
	"First": true, "Take": true, "Last": true, "Find": true, "FindInBatches": true, "Scan": true, "Pluck": true,
	"Count": true, "Row": true, "Rows": true,
	"Create": false, "CreateInBatches": false, "Save": false, "Update": false, "Updates": false,
	"UpdateColumn": false, "UpdateColumns": false, "Delete": false, "Exec": false,
}

// boilMethods are the methods of sqlboiler's queries.Query that run it.
var boilMethods = map[string]bool{
	"Bind": true, "BindP": true, "BindG": true, "Query": true, "QueryRow": true, "QueryContext": true,
	"QueryRowContext": true, "Exec": false, "ExecContext": false,
}

// classifyCall classifies a call by its callee alone.
func classifyCall(path, name, recvName string, sig *types.Signature) roundTrip {
	recvIface := sig.Recv() != nil && types.IsInterface(sig.Recv().Type())
	switch {
	case path == "database/sql" && sig.Recv() != nil && oneOf(recvName, "DB", "Tx", "Conn", "Stmt"):
		m, ok := sqlMethods[name]
		if !ok {
			return roundTrip{}
		}
		return roundTrip{kind: kindSQL, name: "(*sql." + recvName + ")." + name, read: m.read, noCtx: m.noCtx, ctxArg: !m.noCtx}
	case path == "github.com/jmoiron/sqlx":
		read, ok := sqlxMethods[name]
		if !ok || (sig.Recv() == nil && !oneOf(name, "Get", "Select", "GetContext", "SelectContext", "NamedExec", "NamedExecContext", "NamedQuery", "NamedQueryContext", "MustExec", "MustExecContext")) {
			return roundTrip{}
		}
		noCtx := !strings.HasSuffix(name, "Context")
		n := "sqlx." + name
		if sig.Recv() != nil {
			n = "(*sqlx." + recvName + ")." + name
		}
		return roundTrip{kind: kindSQL, name: n, read: read, noCtx: noCtx, ctxArg: !noCtx}
	case strings.HasPrefix(path, "github.com/volatiletech/sqlboiler") && strings.HasSuffix(path, "/queries") && recvName == "Query":
		read, ok := boilMethods[name]
		if !ok {
			return roundTrip{}
		}
		return roundTrip{kind: kindORM, name: "(*queries.Query)." + name, read: read}
	case path == "gorm.io/gorm" && recvName == "DB":
		read, ok := gormMethods[name]
		if !ok {
			return roundTrip{}
		}
		return roundTrip{kind: kindORM, name: "(*gorm.DB)." + name, read: read}
	case recvIface && oneOf(name, "Query", "QueryRow", "Exec", "QueryContext", "QueryRowContext", "ExecContext") && returnsSQL(sig):
		// An executor interface: sqlboiler's boil.ContextExecutor, sqlc's
		// DBTX, a service's own. Its results tell it is database/sql.
		m := sqlMethods[name]
		return roundTrip{kind: kindSQL, name: recvName + "." + name, read: m.read, noCtx: m.noCtx, ctxArg: !m.noCtx}
	case strings.HasPrefix(path, "github.com/jackc/pgx/") && sig.Recv() != nil && oneOf(recvName, "Pool", "Conn", "Tx") &&
		oneOf(name, "Query", "QueryRow", "Exec"):
		pkg := path[strings.LastIndex(path, "/")+1:]
		if strings.HasPrefix(pkg, "v") {
			pkg = "pgx"
		}
		return roundTrip{kind: kindPgx, name: "(" + pkg + "." + recvName + ")." + name, read: name != "Exec", ctxArg: true}
	case isRedisPath(path) && sig.Recv() != nil:
		if sig.Results().Len() != 1 || !strings.HasSuffix(namedName(sig.Results().At(0).Type()), "Cmd") {
			return roundTrip{}
		}
		return roundTrip{kind: kindRedis, name: "redis " + name, read: oneOf(name, "Get", "MGet", "HGet", "HGetAll", "HMGet", "SMembers", "LRange", "ZRange"), ctxArg: true}
	case path == "net/http" && sig.Recv() == nil && oneOf(name, "Get", "Post", "Head", "PostForm"):
		return roundTrip{kind: kindHTTP, name: "http." + name, noCtx: true}
	case path == "net/http" && recvName == "Client" && oneOf(name, "Get", "Post", "Head", "PostForm"):
		return roundTrip{kind: kindHTTP, name: "(*http.Client)." + name, noCtx: true}
	case path == "net/http" && recvName == "Client" && name == "Do":
		return roundTrip{kind: kindHTTP, name: "(*http.Client).Do"}
	case path == "net/http" && sig.Recv() == nil && name == "NewRequestWithContext":
		return roundTrip{kind: kindHTTP, name: "http.NewRequestWithContext", ctxArg: true}
	}
	return roundTrip{}
}

// returnsSQL reports whether a signature's first result is one of
// database/sql's query results.
func returnsSQL(sig *types.Signature) bool {
	if sig.Results().Len() == 0 {
		return false
	}
	t := sig.Results().At(0).Type()
	return isNamed(t, "database/sql", "Rows") || isNamed(t, "database/sql", "Row") || isNamed(t, "database/sql", "Result")
}

// writeSQL matches SQL text that writes (or changes the schema), after
// leading comments and a WITH clause's name.
var writeSQL = regexp.MustCompile(`(?is)^\s*(?:(?:--[^\n]*\n|/\*.*?\*/)\s*)*(?:with\b.*?\b)?(insert|update|delete|merge|upsert|replace|create|drop|alter|truncate|copy|refresh|call|lock|grant|revoke|vacuum)\b`)

// writesSQL reports whether the first constant string argument of call
// is SQL that writes: `INSERT ... RETURNING id` through QueryRow is a
// write, not a read a cache could serve.
func writesSQL(info *types.Info, call *ast.CallExpr) bool {
	for _, a := range call.Args {
		tv, ok := info.Types[a]
		if !ok || tv.Value == nil || tv.Value.Kind() != constant.String {
			continue
		}
		return writeSQL.MatchString(constant.StringVal(tv.Value))
	}
	return false
}

func isRedisPath(p string) bool {
	return strings.HasPrefix(p, "github.com/redis/go-redis/") || strings.HasPrefix(p, "github.com/go-redis/redis")
}

func oneOf(s string, set ...string) bool {
	for _, x := range set {
		if s == x {
			return true
		}
	}
	return false
}

// namedName is the name of t's named type, through one pointer.
func namedName(t types.Type) string {
	if t == nil {
		return ""
	}
	if p, ok := types.Unalias(t).(*types.Pointer); ok {
		t = p.Elem()
	}
	if n, ok := types.Unalias(t).(*types.Named); ok {
		return n.Obj().Name()
	}
	return ""
}

// isNamed reports whether t (through one pointer) is pkg.name.
func isNamed(t types.Type, pkg, name string) bool {
	if t == nil {
		return false
	}
	if p, ok := types.Unalias(t).(*types.Pointer); ok {
		t = p.Elem()
	}
	n, ok := types.Unalias(t).(*types.Named)
	return ok && n.Obj().Pkg() != nil && n.Obj().Pkg().Path() == pkg && n.Obj().Name() == name
}

func isPkgFunc(obj types.Object, pkg, name string) bool {
	fn, ok := obj.(*types.Func)
	return ok && fn.Pkg() != nil && fn.Pkg().Path() == pkg && fn.Name() == name &&
		fn.Type().(*types.Signature).Recv() == nil
}

func isPkgFuncPrefix(obj types.Object, prefix string) bool {
	fn, ok := obj.(*types.Func)
	return ok && fn.Pkg() != nil && strings.HasPrefix(fn.Pkg().Path(), prefix)
}

// calleeIs reports whether call calls the package function pkg.name.
func calleeIs(info *types.Info, call *ast.CallExpr, pkg string, names ...string) bool {
	fn, ok := typeutil.Callee(info, call).(*types.Func)
	if !ok || fn.Pkg() == nil || fn.Pkg().Path() != pkg {
		return false
	}
	return oneOf(fn.Name(), names...)
}

// isBackground reports whether e is context.Background() or context.TODO().
func isBackground(info *types.Info, e ast.Expr) bool {
	call, ok := ast.Unparen(e).(*ast.CallExpr)
	return ok && calleeIs(info, call, "context", "Background", "TODO")
}

// callsDeadline reports whether body calls context.WithTimeout or
// context.WithDeadline (or their Cause forms).
func callsDeadline(info *types.Info, body ast.Node) bool {
	found := false
	ast.Inspect(body, func(n ast.Node) bool {
		if call, ok := n.(*ast.CallExpr); ok && calleeIs(info, call, "context", "WithTimeout", "WithDeadline", "WithTimeoutCause", "WithDeadlineCause") {
			found = true
		}
		return !found
	})
	return found
}

// isMiddleware reports whether a function takes or returns an http.Handler
// or an ogen middleware type.
func isMiddleware(info *types.Info, ft *ast.FuncType) bool {
	for _, fl := range []*ast.FieldList{ft.Params, ft.Results} {
		if fl == nil {
			continue
		}
		for _, f := range fl.List {
			t := info.TypeOf(f.Type)
			if isNamed(t, "net/http", "Handler") || isNamed(t, "net/http", "HandlerFunc") ||
				isNamed(t, "github.com/ogen-go/ogen/middleware", "Next") || isNamed(t, "github.com/ogen-go/ogen/middleware", "Request") ||
				isNamed(t, "github.com/ogen-go/ogen/middleware", "Middleware") {
				return true
			}
		}
	}
	return false
}

// ctxVars finds the function-local variables assigned context.Background()
// or TODO() and never a context with a deadline, and those assigned the
// request's context (r.Context()).
func ctxVars(info *types.Info, body ast.Node) (background, request map[types.Object]bool) {
	bg, dl, req := map[types.Object]bool{}, map[types.Object]bool{}, map[types.Object]bool{}
	mark := func(lhs ast.Expr, rhs ast.Expr) {
		id, ok := ast.Unparen(lhs).(*ast.Ident)
		if !ok {
			return
		}
		obj := info.ObjectOf(id)
		if obj == nil {
			return
		}
		switch {
		case isBackground(info, rhs):
			bg[obj] = true
		case isRequestContext(info, rhs):
			req[obj] = true
		}
		if call, ok := ast.Unparen(rhs).(*ast.CallExpr); ok && calleeIs(info, call, "context", "WithTimeout", "WithDeadline", "WithTimeoutCause", "WithDeadlineCause") {
			dl[obj] = true
		}
	}
	ast.Inspect(body, func(n ast.Node) bool {
		switch n := n.(type) {
		case *ast.AssignStmt:
			if len(n.Lhs) == len(n.Rhs) {
				for i := range n.Lhs {
					mark(n.Lhs[i], n.Rhs[i])
				}
			} else if len(n.Rhs) == 1 {
				mark(n.Lhs[0], n.Rhs[0])
			}
		case *ast.ValueSpec:
			for i := range n.Names {
				if i < len(n.Values) {
					mark(n.Names[i], n.Values[i])
				}
			}
		}
		return true
	})
	for o := range dl {
		delete(bg, o)
		delete(req, o)
	}
	return bg, req
}

// isRequestContext reports whether e is the request's context: r.Context()
// on an *http.Request (echo's c.Request().Context() and gin's
// c.Request.Context() included), a *gin.Context itself (it is a
// context.Context), or fiber's c.UserContext() / c.Context().
func isRequestContext(info *types.Info, e ast.Expr) bool {
	if frameworkCtx(info.TypeOf(e)) == "gin" {
		return true
	}
	call, ok := ast.Unparen(e).(*ast.CallExpr)
	if !ok {
		return false
	}
	sel, ok := ast.Unparen(call.Fun).(*ast.SelectorExpr)
	if !ok {
		return false
	}
	switch {
	case sel.Sel.Name == "Context" && isNamed(info.TypeOf(sel.X), "net/http", "Request"):
		return true
	case oneOf(sel.Sel.Name, "UserContext", "Context") && frameworkCtx(info.TypeOf(sel.X)) == "fiber":
		return true
	}
	return false
}
