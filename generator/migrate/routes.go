package migrate

import (
	"go/ast"
	"go/constant"
	"go/token"
	"go/types"
	"net/http"
	"regexp"
	"strconv"
	"strings"

	"golang.org/x/tools/go/types/typeutil"
)

// group is a router value: the root router, a chi Route/Group/With, an
// echo or gin Group, a gorilla Subrouter. Its routes get its prefix and
// its middleware, outermost first.
type group struct {
	prefix string
	mws    []string
	root   bool
}

func (g *group) child(prefix string) *group {
	return &group{prefix: joinPath(g.prefix, prefix), mws: append([]string(nil), g.mws...)}
}

// rctx is the conversion of one function that builds a router.
type rctx struct {
	s      *service
	fs     *fileState
	kind   Router
	mux    string
	groups map[types.Object]*group
	// top is the middleware the root router uses: the chain around the mux.
	top []string
}

func (c *rctx) info() *types.Info { return c.fs.pkg.TypesInfo }

// callee returns the package path and name of the function or method call
// calls, "" when it is not a static call.
func callee(info *types.Info, call *ast.CallExpr) (string, string) {
	fn, ok := typeutil.Callee(info, call).(*types.Func)
	if !ok || fn.Pkg() == nil {
		return "", ""
	}
	return fn.Pkg().Path(), fn.Name()
}

// ctorRouter says which router call constructs, if any.
func ctorRouter(info *types.Info, call *ast.CallExpr) (Router, string) {
	pkg, name := callee(info, call)
	r, ok := routerImports[pkg]
	if !ok {
		return "", ""
	}
	switch {
	case r == Chi && (name == "NewRouter" || name == "NewMux"),
		r == Gorilla && name == "NewRouter",
		r == Echo && name == "New",
		r == Gin && (name == "New" || name == "Default"):
		if _, isMethod := call.Fun.(*ast.SelectorExpr); isMethod {
			if sig, ok := info.TypeOf(call.Fun).(*types.Signature); ok && sig.Recv() != nil {
				return "", ""
			}
		}
		return r, name
	}
	return "", ""
}

// routers finds the functions of fs that construct a router and converts
// them.
func (s *service) routers(fs *fileState) {
	info := fs.pkg.TypesInfo
	for _, d := range fs.file.Decls {
		fd, ok := d.(*ast.FuncDecl)
		if !ok || fd.Body == nil {
			continue
		}
		var found *ast.CallExpr
		ast.Inspect(fd.Body, func(n ast.Node) bool {
			if call, ok := n.(*ast.CallExpr); ok && found == nil {
				if r, _ := ctorRouter(info, call); r != "" {
					found = call
				}
			}
			return found == nil
		})
		if found == nil {
			continue
		}
		top := false
		for _, st := range fd.Body.List {
			if as, ok := st.(*ast.AssignStmt); ok && len(as.Rhs) == 1 && as.Rhs[0] == found && len(as.Lhs) == 1 {
				top = true
			}
		}
		r, _ := ctorRouter(info, found)
		if !top {
			s.problem(found.Pos(), "the "+string(r)+" router is built outside a plain `x := "+exprName(found)+"` statement of "+fd.Name.Name,
				"assign it to a variable at the top level of the function that registers the routes, then run migrate again")
			continue
		}
		c := &rctx{s: s, fs: fs, kind: r, groups: map[types.Object]*group{}}
		c.block(fd.Body.List, true)
	}
}

func exprName(call *ast.CallExpr) string {
	if sel, ok := call.Fun.(*ast.SelectorExpr); ok {
		if id, ok := sel.X.(*ast.Ident); ok {
			return id.Name + "." + sel.Sel.Name + "()"
		}
	}
	return "router()"
}

// block converts a statement list. At the top level each converted
// statement is replaced in place; inside a chi Route or Group closure the
// lines are returned for the statement that replaces the closure.
func (c *rctx) block(list []ast.Stmt, top bool) []string {
	var out []string
	for _, st := range list {
		lines, touched := c.stmt(st, top)
		switch {
		case top && touched:
			c.fs.replace(c.s, st, strings.Join(lines, "\n"))
		case touched:
			out = append(out, lines...)
		case !top:
			out = append(out, c.fs.text(c.s, st))
		}
	}
	return out
}

// mentions says whether n uses one of the router values.
func (c *rctx) mentions(n ast.Node) bool {
	found := false
	ast.Inspect(n, func(m ast.Node) bool {
		if id, ok := m.(*ast.Ident); ok {
			if _, ok := c.groups[c.info().Uses[id]]; ok {
				found = true
			}
		}
		return !found
	})
	return found
}

func (c *rctx) groupOf(e ast.Expr) *group {
	id, ok := e.(*ast.Ident)
	if !ok {
		return nil
	}
	obj := c.info().Uses[id]
	if obj == nil {
		obj = c.info().Defs[id]
	}
	return c.groups[obj]
}

func (c *rctx) unsupported(n ast.Node) {
	c.s.problem(n.Pos(), "`"+oneLine(c.fs.text(c.s, n))+"` uses the "+string(c.kind)+" router in a way migrate does not convert",
		"rewrite it with http.ServeMux by hand (https://pkg.go.dev/net/http#ServeMux), or remove it, then run migrate again")
}

func oneLine(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	if len(s) > 80 {
		s = s[:77] + "..."
	}
	return s
}

func (c *rctx) stmt(st ast.Stmt, top bool) ([]string, bool) {
	info := c.info()
	switch st := st.(type) {
	case *ast.BlockStmt:
		inner := c.block(st.List, top)
		if top {
			return nil, false
		}
		return append(append([]string{"{"}, inner...), "}"), true
	case *ast.AssignStmt:
		if len(st.Lhs) == 1 && len(st.Rhs) == 1 {
			if call, ok := st.Rhs[0].(*ast.CallExpr); ok {
				if r, name := ctorRouter(info, call); r != "" {
					id, ok := st.Lhs[0].(*ast.Ident)
					if !ok || st.Tok != token.DEFINE {
						c.unsupported(st)
						return nil, false
					}
					c.groups[info.Defs[id]] = &group{root: true}
					c.mux = id.Name
					switch r {
					case Echo:
						c.s.note(st.Pos(), "a path no route matches now gets ServeMux's plain-text 404 (or 405 with Allow), not echo's JSON {\"message\": ...}")
					case Gin:
						c.s.note(st.Pos(), "a known path with another method now gets 405 with an Allow header (gin answered 404); unmatched paths get ServeMux's plain-text 404")
					}
					if r == Gin && name == "Default" {
						c.top = append(c.top, c.helper("logRequests"), c.helper("recoverPanics"))
						c.s.note(st.Pos(), "gin.Default's Logger and Recovery are now the net/http middleware logRequests and recoverPanics")
					}
					return []string{id.Name + " := http.NewServeMux()"}, true
				}
				if g := c.derive(call); g != nil {
					id, ok := st.Lhs[0].(*ast.Ident)
					if ok && st.Tok == token.DEFINE {
						c.groups[info.Defs[id]] = g
						return nil, true
					}
				}
			}
			if sel, ok := st.Lhs[0].(*ast.SelectorExpr); ok && c.kind == Echo {
				if g := c.groupOf(sel.X); g != nil && g.root {
					switch sel.Sel.Name {
					case "HideBanner", "HidePort", "Debug":
						return nil, true
					}
				}
			}
		}
	case *ast.ExprStmt:
		call, ok := st.X.(*ast.CallExpr)
		if !ok {
			break
		}
		if pkg, name := callee(info, call); routerImports[pkg] == Gin && name == "SetMode" {
			return nil, true
		}
		base, links := chain(call)
		if base != nil {
			if g := c.groupOf(base); g != nil {
				if lines, ok := c.call(g, links); ok {
					return lines, true
				}
				return nil, false
			}
		}
	case *ast.ReturnStmt:
		if len(st.Results) == 1 {
			if g := c.groupOf(st.Results[0]); g != nil && g.root {
				return []string{"return " + wrap(c.top, c.mux)}, true
			}
		}
	}
	if c.mentions(st) {
		c.unsupported(st)
	}
	return nil, false
}

// derive returns the group a router-deriving call makes: an echo or gin
// Group, a gorilla PathPrefix(...).Subrouter(), a chi With.
func (c *rctx) derive(call *ast.CallExpr) *group {
	base, links := chain(call)
	if base == nil {
		return nil
	}
	g := c.groupOf(base)
	if g == nil {
		return nil
	}
	switch {
	case (c.kind == Echo || c.kind == Gin) && len(links) == 1 && links[0].name == "Group" && len(links[0].call.Args) >= 1:
		p, ok := c.str(links[0].call.Args[0])
		if !ok {
			return nil
		}
		pat, ok := c.pattern(links[0].call.Args[0], p)
		if !ok {
			return nil
		}
		ng := g.child(pat)
		for _, a := range links[0].call.Args[1:] {
			m, ok := c.middleware(a)
			if !ok {
				return nil
			}
			ng.mws = append(ng.mws, m)
		}
		return ng
	case c.kind == Gorilla && len(links) == 2 && links[0].name == "PathPrefix" && links[1].name == "Subrouter" && len(links[0].call.Args) == 1:
		p, ok := c.str(links[0].call.Args[0])
		if !ok {
			return nil
		}
		pat, ok := c.pattern(links[0].call.Args[0], p)
		if !ok {
			return nil
		}
		return g.child(pat)
	case c.kind == Chi && len(links) == 1 && links[0].name == "With":
		ng := g.child("")
		for _, a := range links[0].call.Args {
			m, ok := c.middleware(a)
			if !ok {
				return nil
			}
			ng.mws = append(ng.mws, m)
		}
		return ng
	}
	return nil
}

type link struct {
	call *ast.CallExpr
	name string
}

// chain splits a.B(x).C(y) into a and [B(x), C(y)].
func chain(e ast.Expr) (*ast.Ident, []link) {
	var links []link
	for {
		call, ok := e.(*ast.CallExpr)
		if !ok {
			break
		}
		sel, ok := call.Fun.(*ast.SelectorExpr)
		if !ok {
			return nil, nil
		}
		links = append([]link{{call: call, name: sel.Sel.Name}}, links...)
		e = sel.X
	}
	id, _ := e.(*ast.Ident)
	return id, links
}

var chiMethods = map[string]string{"Get": "GET", "Post": "POST", "Put": "PUT", "Patch": "PATCH", "Delete": "DELETE",
	"Head": "HEAD", "Options": "OPTIONS", "Connect": "CONNECT", "Trace": "TRACE"}

var upperMethods = map[string]string{"GET": "GET", "POST": "POST", "PUT": "PUT", "PATCH": "PATCH", "DELETE": "DELETE",
	"HEAD": "HEAD", "OPTIONS": "OPTIONS", "CONNECT": "CONNECT", "TRACE": "TRACE"}

// call converts one router call statement on group g.
func (c *rctx) call(g *group, links []link) ([]string, bool) {
	first := links[0]
	args := first.call.Args
	stmt := first.call
	if len(links) > 0 {
		stmt = links[len(links)-1].call
	}
	switch c.kind {
	case Chi:
		if first.name == "With" && len(links) == 2 {
			ng := g.child("")
			for _, a := range args {
				m, ok := c.middleware(a)
				if !ok {
					return nil, false
				}
				ng.mws = append(ng.mws, m)
			}
			return c.call(ng, links[1:])
		}
		if len(links) != 1 {
			break
		}
		switch name := first.name; {
		case name == "Use":
			return nil, c.use(g, args)
		case chiMethods[name] != "" && len(args) == 2:
			return c.route(stmt, chiMethods[name], args[0], g, nil, args[1], true)
		case (name == "Method" || name == "MethodFunc") && len(args) == 3:
			m, ok := c.str(args[0])
			if !ok || upperMethods[strings.ToUpper(m)] == "" {
				break
			}
			return c.route(stmt, strings.ToUpper(m), args[1], g, nil, args[2], name == "MethodFunc")
		case (name == "Handle" || name == "HandleFunc") && len(args) == 2:
			return c.route(stmt, "", args[0], g, nil, args[1], name == "HandleFunc")
		case (name == "Route" || name == "Group") && len(args) >= 1:
			fl, ok := args[len(args)-1].(*ast.FuncLit)
			if !ok || len(fl.Type.Params.List) != 1 || len(fl.Type.Params.List[0].Names) != 1 {
				break
			}
			ng := g.child("")
			if name == "Route" {
				p, ok := c.str(args[0])
				if !ok {
					return nil, false
				}
				pat, ok := c.pattern(args[0], p)
				if !ok {
					return nil, false
				}
				ng = g.child(pat)
			}
			c.groups[c.info().Defs[fl.Type.Params.List[0].Names[0]]] = ng
			before := len(c.s.res.Problems)
			lines := c.block(fl.Body.List, false)
			return lines, len(c.s.res.Problems) == before
		case name == "Mount" && len(args) == 2:
			p, ok := c.str(args[0])
			if !ok {
				break
			}
			pat, ok := c.pattern(args[0], p)
			if !ok {
				return nil, false
			}
			full := joinPath(g.prefix, pat)
			inner := "http.StripPrefix(" + strconv.Quote(full) + ", " + c.fs.text(c.s, args[1]) + ")"
			c.s.note(stmt.Pos(), "Mount(%q) is now the subtree pattern %q with http.StripPrefix; a request to %s itself is redirected to %s/", p, full+"/", full, full)
			return []string{c.mux + ".Handle(" + strconv.Quote(full+"/") + ", " + wrap(g.mws, inner) + ")"}, true
		case name == "NotFound" && len(args) == 1:
			c.s.note(stmt.Pos(), "NotFound is now the catch-all pattern \"/\"")
			return []string{c.mux + ".Handle(\"/\", " + wrap(g.mws, "http.HandlerFunc("+c.fs.text(c.s, args[0])+")") + ")"}, true
		}
	case Gorilla:
		switch name := first.name; {
		case name == "Use" && len(links) == 1:
			return nil, c.use(g, args)
		case (name == "HandleFunc" || name == "Handle") && len(args) == 2:
			var methods []string
			for _, l := range links[1:] {
				switch l.name {
				case "Methods":
					for _, a := range l.call.Args {
						m, ok := c.str(a)
						if !ok || upperMethods[strings.ToUpper(m)] == "" {
							c.unsupported(l.call)
							return nil, false
						}
						methods = append(methods, strings.ToUpper(m))
					}
				case "Name":
					c.s.note(l.call.Pos(), "the route name %s is dropped: ServeMux has no named routes (build URLs with fmt or url.JoinPath)", c.fs.text(c.s, l.call.Args[0]))
				default:
					c.s.problem(l.call.Pos(), "the route matcher ."+l.name+"(...) has no ServeMux pattern equivalent",
						"check it inside the handler (r.URL.Query(), r.Header, r.Host) by hand, then run migrate again")
					return nil, false
				}
			}
			if len(methods) == 0 {
				methods = []string{""}
			}
			var out []string
			for _, m := range methods {
				lines, ok := c.route(stmt, m, args[0], g, nil, args[1], name == "HandleFunc")
				if !ok {
					return nil, false
				}
				out = append(out, lines...)
			}
			return out, true
		}
	case Echo, Gin:
		if len(links) != 1 {
			break
		}
		name := first.name
		switch {
		case name == "Use":
			return nil, c.use(g, args)
		case upperMethods[name] != "" && len(args) >= 2:
			if c.kind == Echo {
				return c.route(stmt, name, args[0], g, args[2:], args[1], true)
			}
			return c.route(stmt, name, args[0], g, args[1:len(args)-1], args[len(args)-1], true)
		case name == "Any" && len(args) >= 2:
			if c.kind == Echo {
				return c.route(stmt, "", args[0], g, args[2:], args[1], true)
			}
			return c.route(stmt, "", args[0], g, args[1:len(args)-1], args[len(args)-1], true)
		case name == "Handle" && c.kind == Gin && len(args) >= 3:
			m, ok := c.str(args[0])
			if !ok || upperMethods[m] == "" {
				break
			}
			return c.route(stmt, m, args[1], g, args[2:len(args)-1], args[len(args)-1], true)
		}
	}
	c.unsupported(stmt)
	return nil, false
}

// use adds middleware to g: around the whole mux for the root router.
func (c *rctx) use(g *group, args []ast.Expr) bool {
	for _, a := range args {
		m, ok := c.middleware(a)
		if !ok {
			return false
		}
		if g.root {
			c.top = append(c.top, m)
		} else {
			g.mws = append(g.mws, m)
		}
	}
	return true
}

// middleware converts one middleware expression to a
// func(http.Handler) http.Handler.
func (c *rctx) middleware(e ast.Expr) (string, bool) {
	info := c.info()
	switch c.kind {
	case Chi, Gorilla:
		if c.usesRouter(e) {
			break
		}
		return c.fs.text(c.s, e), true
	case Echo:
		call, ok := e.(*ast.CallExpr)
		if !ok {
			break
		}
		pkg, name := callee(info, call)
		switch {
		case routerImports[pkg] == Echo && name == "WrapMiddleware" && len(call.Args) == 1:
			return c.fs.text(c.s, call.Args[0]), true
		case pkg == echoMiddleware && name == "Logger" && len(call.Args) == 0:
			c.s.note(e.Pos(), "middleware.Logger() is now logRequests (log/slog: method, path, status, duration)")
			return c.helper("logRequests"), true
		case pkg == echoMiddleware && name == "Recover" && len(call.Args) == 0:
			c.s.note(e.Pos(), "middleware.Recover() is now recoverPanics (answers 500 and logs the panic)")
			return c.helper("recoverPanics"), true
		}
	case Gin:
		call, ok := e.(*ast.CallExpr)
		if !ok {
			break
		}
		pkg, name := callee(info, call)
		switch {
		case routerImports[pkg] == Gin && name == "Logger" && len(call.Args) == 0:
			c.s.note(e.Pos(), "gin.Logger() is now logRequests (log/slog: method, path, status, duration)")
			return c.helper("logRequests"), true
		case routerImports[pkg] == Gin && name == "Recovery" && len(call.Args) == 0:
			c.s.note(e.Pos(), "gin.Recovery() is now recoverPanics (answers 500 and logs the panic)")
			return c.helper("recoverPanics"), true
		}
		if fn, ok := typeutil.Callee(info, call).(*types.Func); ok && len(call.Args) == 1 && c.s.decls[fn] != nil && isNetHTTPMiddleware(info.TypeOf(call.Args[0])) {
			// A local adapter of a net/http middleware: the middleware itself.
			c.s.adapters[fn] = true
			return c.fs.text(c.s, call.Args[0]), true
		}
	}
	c.s.problem(e.Pos(), "the middleware `"+oneLine(c.fs.text(c.s, e))+"` is "+string(c.kind)+"-specific",
		"rewrite it as a func(http.Handler) http.Handler (net/http middleware), use that in its place, then run migrate again")
	return "", false
}

func (c *rctx) usesRouter(n ast.Node) bool {
	found := false
	ast.Inspect(n, func(m ast.Node) bool {
		if sel, ok := m.(*ast.SelectorExpr); ok {
			if id, ok := sel.X.(*ast.Ident); ok {
				if pn, ok := c.info().Uses[id].(*types.PkgName); ok {
					if _, ok := routerImports[pn.Imported().Path()]; ok {
						found = true
					}
				}
			}
		}
		return !found
	})
	return found
}

// isNetHTTPMiddleware says whether t is func(http.Handler) http.Handler.
func isNetHTTPMiddleware(t types.Type) bool {
	sig, ok := t.Underlying().(*types.Signature)
	if !ok || sig.Params().Len() != 1 || sig.Results().Len() != 1 {
		return false
	}
	return isNamed(sig.Params().At(0).Type(), "net/http", "Handler") && isNamed(sig.Results().At(0).Type(), "net/http", "Handler")
}

func isNamed(t types.Type, pkg, name string) bool {
	n, ok := types.Unalias(t).(*types.Named)
	return ok && n.Obj().Pkg() != nil && n.Obj().Pkg().Path() == pkg && n.Obj().Name() == name
}

func (c *rctx) helper(name string) string {
	c.fs.helpers[name] = true
	return name
}

// str is the constant string value of e.
func (c *rctx) str(e ast.Expr) (string, bool) {
	tv, ok := c.info().Types[e]
	if !ok || tv.Value == nil || tv.Value.Kind() != constant.String {
		c.s.problem(e.Pos(), "`"+oneLine(c.fs.text(c.s, e))+"` is not a constant string", "make the route path (or method) a constant, then run migrate again")
		return "", false
	}
	return constant.StringVal(tv.Value), true
}

// pattern converts a router path to ServeMux wildcards, or reports why not.
func (c *rctx) pattern(at ast.Expr, p string) (string, bool) {
	if p == "" {
		return "", true
	}
	segs := strings.Split(p, "/")
	for i, seg := range segs {
		switch {
		case (c.kind == Echo || c.kind == Gin) && strings.HasPrefix(seg, ":"):
			if !isIdent(seg[1:]) {
				c.s.problem(at.Pos(), "the path parameter "+strconv.Quote(seg)+" in "+strconv.Quote(p)+" is not a Go identifier", "rename it (letters, digits, _), then run migrate again")
				return "", false
			}
			segs[i] = "{" + seg[1:] + "}"
		case strings.Contains(seg, "*"):
			c.s.problem(at.Pos(), "the wildcard route "+strconv.Quote(p)+" has no exact ServeMux equivalent",
				"register it by hand as a subtree pattern (\"/prefix/\") or a trailing wildcard (\"/prefix/{rest...}\") and read r.PathValue(\"rest\"), then run migrate again")
			return "", false
		case strings.Contains(seg, "{"):
			if !strings.HasPrefix(seg, "{") || !strings.HasSuffix(seg, "}") {
				c.s.problem(at.Pos(), "the path segment "+strconv.Quote(seg)+" of "+strconv.Quote(p)+" mixes text and a parameter; ServeMux wildcards are whole segments",
					"make the parameter a whole segment (or parse the segment in the handler), then run migrate again")
				return "", false
			}
			name := seg[1 : len(seg)-1]
			if i := strings.IndexByte(name, ':'); i >= 0 {
				c.s.problem(at.Pos(), "the regexp parameter "+strconv.Quote(seg)+" in "+strconv.Quote(p)+" cannot be expressed by ServeMux",
					"use {"+name[:i]+"} and check the value in the handler (answer 404 when it does not match "+strconv.Quote(name[i+1:])+"), then run migrate again")
				return "", false
			}
			if !isIdent(name) {
				c.s.problem(at.Pos(), "the path parameter "+strconv.Quote(seg)+" in "+strconv.Quote(p)+" is not a Go identifier", "rename it (letters, digits, _), then run migrate again")
				return "", false
			}
		}
	}
	return strings.Join(segs, "/"), true
}

func isIdent(s string) bool {
	if s == "" {
		return false
	}
	for i, r := range s {
		if !(r == '_' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || i > 0 && r >= '0' && r <= '9') {
			return false
		}
	}
	return true
}

func joinPath(prefix, p string) string {
	switch {
	case p == "":
		return prefix
	case prefix == "":
		return p
	case p == "/":
		return prefix
	}
	return strings.TrimSuffix(prefix, "/") + "/" + strings.TrimPrefix(p, "/")
}

// route emits the ServeMux registration of one route.
func (c *rctx) route(stmt *ast.CallExpr, method string, pathExpr ast.Expr, g *group, mwExprs []ast.Expr, handler ast.Expr, isFunc bool) ([]string, bool) {
	// A route left alone still counts as the handler's registration.
	switch h := ast.Unparen(handler).(type) {
	case *ast.SelectorExpr:
		c.s.routeUses[h.Sel] = true
	case *ast.Ident:
		c.s.routeUses[h] = true
	}
	p, ok := c.str(pathExpr)
	if !ok {
		return nil, false
	}
	pat, ok := c.pattern(pathExpr, p)
	if !ok {
		return nil, false
	}
	full := joinPath(g.prefix, pat)
	if full == "" {
		full = "/"
	}
	if strings.HasSuffix(full, "/") {
		// The routers match a trailing slash exactly; ServeMux would take
		// it for a whole subtree.
		full += "{$}"
	}
	mws := append([]string(nil), g.mws...)
	for _, e := range mwExprs {
		m, ok := c.middleware(e)
		if !ok {
			return nil, false
		}
		mws = append(mws, m)
	}
	var fn *types.Func
	switch h := ast.Unparen(handler).(type) {
	case *ast.SelectorExpr:
		fn, _ = c.info().Uses[h.Sel].(*types.Func)
		c.s.routeUses[h.Sel] = true
	case *ast.Ident:
		fn, _ = c.info().Uses[h].(*types.Func)
		c.s.routeUses[h] = true
	}
	if c.kind == Echo || c.kind == Gin {
		if fn == nil || c.s.decls[fn] == nil {
			c.s.problem(handler.Pos(), "the handler `"+oneLine(c.fs.text(c.s, handler))+"` is not a function or method declared in this module",
				"make it a named function or method of the service, then run migrate again")
			return nil, false
		}
		c.s.converted[fn] = true
	}
	hname := oneLine(c.fs.text(c.s, handler))
	if _, ok := handler.(*ast.FuncLit); ok {
		hname = "(func literal)"
	}
	if fn != nil {
		hname = fn.Name()
		if sig, ok := fn.Type().(*types.Signature); ok && sig.Recv() != nil {
			if n, ok := types.Unalias(derefType(sig.Recv().Type())).(*types.Named); ok {
				hname = n.Obj().Name() + "." + fn.Name()
			}
		}
	}
	c.s.res.Routes = append(c.s.res.Routes, Route{Method: method, Pattern: full, Handler: hname, At: c.s.at(stmt.Pos()), fn: fn})
	key := full
	if method != "" {
		key = method + " " + full
	}
	h := c.fs.text(c.s, handler)
	if len(mws) == 0 {
		if isFunc {
			return []string{c.mux + ".HandleFunc(" + strconv.Quote(key) + ", " + h + ")"}, true
		}
		return []string{c.mux + ".Handle(" + strconv.Quote(key) + ", " + h + ")"}, true
	}
	if isFunc {
		h = "http.HandlerFunc(" + h + ")"
	}
	return []string{c.mux + ".Handle(" + strconv.Quote(key) + ", " + wrap(mws, h) + ")"}, true
}

func derefType(t types.Type) types.Type {
	if p, ok := t.(*types.Pointer); ok {
		return p.Elem()
	}
	return t
}

// wrap is mws[0](mws[1](...(inner))): the first middleware runs first.
func wrap(mws []string, inner string) string {
	for i := len(mws) - 1; i >= 0; i-- {
		inner = mws[i] + "(" + inner + ")"
	}
	return inner
}

// conflicts registers every route on a fresh ServeMux, as the migrated
// service will: a pattern it would panic on is a problem before anything
// is written.
func (s *service) conflicts() {
	mux := http.NewServeMux()
	noop := http.HandlerFunc(func(http.ResponseWriter, *http.Request) {})
	at := map[string]string{}
	for _, r := range s.res.Routes {
		key := r.Pattern
		if r.Method != "" {
			key = r.Method + " " + r.Pattern
		}
		func() {
			defer func() {
				if v := recover(); v != nil {
					s.res.Problems = append(s.res.Problems, Problem{At: r.At, What: "ServeMux would panic on the route " + strconv.Quote(key) + ": " + conflictText(stringOf(v), at),
						Fix: "the router resolved this overlap by registration order or priority; make the patterns distinct (or merge the handlers), then run migrate again"})
				}
			}()
			mux.Handle(key, noop)
			at[key] = r.At
		}()
	}
}

var (
	conflictWith = regexp.MustCompile(`conflicts with pattern "([^"]+)"`)
	conflictLike = regexp.MustCompile(`like "([^"]+)"`)
)

// conflictText shortens ServeMux's panic message to the other route, where
// it is, and a path both match.
func conflictText(msg string, at map[string]string) string {
	m := conflictWith.FindStringSubmatch(msg)
	if m == nil {
		first, _, _ := strings.Cut(msg, "\n")
		return strings.TrimPrefix(first, "http: ")
	}
	out := "it conflicts with " + strconv.Quote(m[1])
	if a := at[m[1]]; a != "" {
		out += " (" + a + ")"
	}
	if l := conflictLike.FindStringSubmatch(msg); l != nil {
		out += ": both match " + strconv.Quote(l[1]) + " and neither is more specific"
	}
	return out
}

func stringOf(v any) string {
	if e, ok := v.(error); ok {
		return e.Error()
	}
	if s, ok := v.(string); ok {
		return s
	}
	return "panic"
}
