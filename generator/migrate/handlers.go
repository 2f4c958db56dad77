package migrate

import (
	"go/ast"
	"go/token"
	"go/types"
	"net/http"
	"sort"
	"strconv"

	"golang.org/x/tools/go/types/typeutil"
)

// parents maps every node of f to its parent.
func parents(f *ast.File) map[ast.Node]ast.Node {
	m := map[ast.Node]ast.Node{}
	var stack []ast.Node
	ast.Inspect(f, func(n ast.Node) bool {
		if n == nil {
			stack = stack[:len(stack)-1]
			return false
		}
		if len(stack) > 0 {
			m[n] = stack[len(stack)-1]
		}
		stack = append(stack, n)
		return true
	})
	return m
}

func (s *service) off(p token.Pos) int { return s.fset.Position(p).Offset }

func (fs *fileState) insert(s *service, at token.Pos, text string) {
	o := s.off(at)
	fs.edits = append(fs.edits, edit{start: o, end: o, text: text})
}

func (fs *fileState) replaceRange(s *service, from, to token.Pos, text string) {
	fs.edits = append(fs.edits, edit{start: s.off(from), end: s.off(to), text: text})
}

// convertHandlers rewrites the echo and gin handlers the routes use into
// http.HandlerFuncs, in place: the team's code stays where it was, with
// c.Param becoming r.PathValue, c.Bind/ShouldBindJSON decodeJSON and
// c.JSON writeJSON. (An adapter around the old handlers would keep echo
// or gin in the module and every handler's body unchanged; rewriting them
// leaves plain net/http the next reader needs no router docs for.)
func (s *service) convertHandlers() {
	fns := make([]*types.Func, 0, len(s.converted))
	for fn := range s.converted {
		fns = append(fns, fn)
	}
	sort.Slice(fns, func(i, j int) bool { return fns[i].Pos() < fns[j].Pos() })
	for _, fn := range fns {
		s.convertHandler(fn)
	}
}

func (s *service) convertHandler(fn *types.Func) {
	fd := s.decls[fn]
	fs := s.declFile[fd]
	info := fs.pkg.TypesInfo
	sig := fn.Type().(*types.Signature)
	var kind Router
	switch {
	case sig.Params().Len() == 1 && sig.Results().Len() == 1 && isNamed(sig.Params().At(0).Type(), "github.com/labstack/echo/v4", "Context"):
		kind = Echo
	case sig.Params().Len() == 1 && sig.Results().Len() == 0 && isNamed(derefType(sig.Params().At(0).Type()), "github.com/gin-gonic/gin", "Context"):
		kind = Gin
	default:
		s.problem(fd.Pos(), "the handler "+fn.Name()+" has neither echo's func(echo.Context) error nor gin's func(*gin.Context) shape",
			"give it one of those shapes or make it an http.HandlerFunc by hand, then run migrate again")
		return
	}
	outside := false
	for _, p := range s.pkgs {
		for id, obj := range p.TypesInfo.Uses {
			if obj == fn && !s.routeUses[id] {
				s.problem(id.Pos(), "the handler "+fn.Name()+" is used outside a route registration",
					"call it through the router (httptest) instead, or convert this use by hand, then run migrate again")
				outside = true
			}
		}
	}
	if outside {
		return
	}
	param := sig.Params().At(0)
	w, r := "w", "r"
	ast.Inspect(fd.Body, func(n ast.Node) bool {
		if id, ok := n.(*ast.Ident); ok {
			if id.Name == "w" {
				w = "rw"
			}
			if id.Name == "r" {
				r = "req"
			}
		}
		return true
	})
	fs.replaceRange(s, fd.Type.Params.Pos(), fd.Type.End(), "("+w+" http.ResponseWriter, "+r+" *http.Request)")
	par := parents(fs.file)
	ok := true
	ast.Inspect(fd.Body, func(n ast.Node) bool {
		id, isID := n.(*ast.Ident)
		if !isID || info.Uses[id] != param || !ok {
			return true
		}
		if !s.convertUse(fs, kind, id, par, w, r) {
			ok = false
		}
		return true
	})
	if kind == Echo && ok {
		s.convertReturns(fs, fd, w)
	}
}

// convertUse rewrites one use of the handler's context.
func (s *service) convertUse(fs *fileState, kind Router, id *ast.Ident, par map[ast.Node]ast.Node, w, r string) bool {
	info := fs.pkg.TypesInfo
	fail := func(n ast.Node) bool {
		s.problem(n.Pos(), "`"+oneLine(fs.text(s, n))+"` uses the "+string(kind)+" context in a way migrate does not convert",
			"rewrite it with the *http.Request and http.ResponseWriter by hand, then run migrate again")
		return false
	}
	sel, isSel := par[id].(*ast.SelectorExpr)
	if !isSel {
		if call, ok := par[id].(*ast.CallExpr); ok && kind == Gin {
			if sig, ok := info.TypeOf(call.Fun).(*types.Signature); ok {
				for i, a := range call.Args {
					if a == id && i < sig.Params().Len() && isNamed(sig.Params().At(i).Type(), "context", "Context") {
						fs.replace(s, id, r+".Context()")
						return true
					}
				}
			}
		}
		return fail(par[id])
	}
	call, isCall := par[sel].(*ast.CallExpr)
	if !isCall || call.Fun != sel {
		// gin's fields.
		switch {
		case kind == Gin && sel.Sel.Name == "Request":
			fs.replace(s, sel, r)
			return true
		case kind == Gin && sel.Sel.Name == "Writer":
			fs.replace(s, sel, w)
			return true
		}
		return fail(sel)
	}
	head := func(text string) bool {
		fs.replaceRange(s, call.Pos(), call.Lparen+1, text)
		return true
	}
	n := len(call.Args)
	switch name := sel.Sel.Name; {
	case name == "Param" && n == 1:
		return head(r + ".PathValue(")
	case (kind == Echo && name == "QueryParam" || kind == Gin && name == "Query") && n == 1:
		return head(r + ".URL.Query().Get(")
	case kind == Gin && name == "GetHeader" && n == 1:
		return head(r + ".Header.Get(")
	case kind == Echo && name == "Request" && n == 0:
		fs.replace(s, call, r)
		return true
	case kind == Echo && name == "Response" && n == 0:
		if outer, ok := par[call].(*ast.SelectorExpr); ok && outer.Sel.Name == "Writer" {
			fs.replace(s, outer, w)
			return true
		}
		fs.replace(s, call, w)
		return true
	case (kind == Echo && name == "Bind" || kind == Gin && (name == "ShouldBindJSON" || name == "ShouldBind")) && n == 1:
		if kind == Echo {
			s.note(call.Pos(), "c.Bind is now decodeJSON: it reads the JSON body only (echo's Bind also filled path and query parameters into tagged fields)")
		}
		fs.helpers["decodeJSON"] = true
		return head("decodeJSON(" + r + ", ")
	case (name == "JSON" || kind == Gin && name == "AbortWithStatusJSON") && n == 2:
		fs.helpers["writeJSON"] = true
		return head("writeJSON(" + w + ", ")
	case (kind == Echo && name == "NoContent" || kind == Gin && (name == "Status" || name == "AbortWithStatus")) && n == 1:
		return head(w + ".WriteHeader(")
	case name == "String" && n == 2:
		fs.helpers["writeText"] = true
		return head("writeText(" + w + ", ")
	}
	return fail(call)
}

// echoErrors are echo's predefined errors and the status each answers.
var echoErrors = map[string]int{"ErrNotFound": 404, "ErrBadRequest": 400, "ErrUnauthorized": 401, "ErrForbidden": 403,
	"ErrMethodNotAllowed": 405, "ErrConflict": 409, "ErrInternalServerError": 500, "ErrUnsupportedMediaType": 415,
	"ErrTooManyRequests": 429, "ErrServiceUnavailable": 503}

// convertReturns turns an echo handler's error results into responses
// written the way echo's default error handler writes them.
func (s *service) convertReturns(fs *fileState, fd *ast.FuncDecl, w string) {
	info := fs.pkg.TypesInfo
	ast.Inspect(fd.Body, func(n ast.Node) bool {
		if _, ok := n.(*ast.FuncLit); ok {
			return false
		}
		ret, ok := n.(*ast.ReturnStmt)
		if !ok || len(ret.Results) != 1 {
			return true
		}
		res := ret.Results[0]
		// The function's last statement needs no bare return after it.
		last := len(fd.Body.List) > 0 && fd.Body.List[len(fd.Body.List)-1] == ret
		strip := func() { fs.replaceRange(s, ret.Pos(), res.Pos(), "") }
		after := func() {
			if !last {
				fs.insert(s, ret.End(), "\nreturn")
			}
		}
		if id, ok := res.(*ast.Ident); ok && id.Name == "nil" {
			if last {
				fs.replace(s, ret, "")
			} else {
				fs.replace(s, ret, "return")
			}
			return true
		}
		if call, ok := res.(*ast.CallExpr); ok {
			if sel, ok := call.Fun.(*ast.SelectorExpr); ok {
				if id, ok := sel.X.(*ast.Ident); ok && types.Identical(info.TypeOf(id), fdParamType(info, fd)) {
					strip()
					after()
					return true
				}
			}
			if pkg, name := callee(info, call); routerImports[pkg] == Echo && name == "NewHTTPError" && len(call.Args) >= 1 && len(call.Args) <= 2 {
				fs.helpers["writeError"] = true
				strip()
				fs.replaceRange(s, call.Pos(), call.Lparen+1, "writeError("+w+", ")
				if len(call.Args) == 1 {
					fs.insert(s, call.Rparen, ", http.StatusText("+fs.text(s, call.Args[0])+")")
				}
				after()
				return true
			}
		}
		if sel, ok := res.(*ast.SelectorExpr); ok {
			if pn, ok := info.Uses[identOf(sel.X)].(*types.PkgName); ok && routerImports[pn.Imported().Path()] == Echo {
				if code, ok := echoErrors[sel.Sel.Name]; ok {
					fs.helpers["writeError"] = true
					text := "writeError(" + w + ", " + statusConst(code) + ", " + strconv.Quote(http.StatusText(code)) + ")"
					if !last {
						text += "\nreturn"
					}
					fs.replace(s, ret, text)
					return true
				}
			}
		}
		fs.helpers["handleError"] = true
		strip()
		fs.insert(s, res.Pos(), "handleError("+w+", ")
		fs.insert(s, res.End(), ")")
		after()
		return true
	})
}

func identOf(e ast.Expr) *ast.Ident {
	id, _ := e.(*ast.Ident)
	return id
}

func fdParamType(info *types.Info, fd *ast.FuncDecl) types.Type {
	return info.TypeOf(fd.Type.Params.List[0].Type)
}

var statusNames = map[int]string{200: "StatusOK", 201: "StatusCreated", 204: "StatusNoContent", 400: "StatusBadRequest", 401: "StatusUnauthorized",
	403: "StatusForbidden", 404: "StatusNotFound", 405: "StatusMethodNotAllowed", 409: "StatusConflict", 415: "StatusUnsupportedMediaType",
	429: "StatusTooManyRequests", 500: "StatusInternalServerError", 503: "StatusServiceUnavailable"}

func statusConst(code int) string {
	if n, ok := statusNames[code]; ok {
		return "http." + n
	}
	return strconv.Itoa(code)
}

// paramAccess rewrites chi.URLParam(r, k) and mux.Vars(r)[k] to
// r.PathValue(k) in every function of fs.
func (s *service) paramAccess(fs *fileState) {
	info := fs.pkg.TypesInfo
	par := parents(fs.file)
	ast.Inspect(fs.file, func(n ast.Node) bool {
		if sel, ok := n.(*ast.SelectorExpr); ok {
			// gin.H and echo.Map are map[string]any.
			if pn, ok := info.Uses[identOf(sel.X)].(*types.PkgName); ok {
				r := routerImports[pn.Imported().Path()]
				if r == Gin && sel.Sel.Name == "H" || r == Echo && sel.Sel.Name == "Map" {
					fs.replace(s, sel, "map[string]any")
				}
			}
			return true
		}
		call, ok := n.(*ast.CallExpr)
		if !ok {
			return true
		}
		pkg, name := callee(info, call)
		switch r := routerImports[pkg]; {
		case r == Chi && name == "URLParam" && len(call.Args) == 2:
			fs.replace(s, call, fs.text(s, call.Args[0])+".PathValue("+fs.text(s, call.Args[1])+")")
		case r == Gorilla && name == "Vars" && len(call.Args) == 1:
			req := fs.text(s, call.Args[0])
			if ix, ok := par[call].(*ast.IndexExpr); ok && ix.X == call {
				fs.replace(s, ix, req+".PathValue("+fs.text(s, ix.Index)+")")
				return true
			}
			as, ok := par[call].(*ast.AssignStmt)
			if !ok || len(as.Lhs) != 1 || as.Tok != token.DEFINE {
				s.problem(call.Pos(), "mux.Vars is used as a whole map", "read each variable with r.PathValue(\"name\") by hand, then run migrate again")
				return true
			}
			v := info.Defs[identOf(as.Lhs[0])]
			var uses []*ast.IndexExpr
			bad := false
			for id, obj := range info.Uses {
				if obj != v || v == nil {
					continue
				}
				if ix, ok := par[id].(*ast.IndexExpr); ok && ix.X == id {
					uses = append(uses, ix)
				} else {
					bad = true
				}
			}
			if bad || v == nil {
				s.problem(call.Pos(), "the map mux.Vars returns is used other than by indexing", "read each variable with r.PathValue(\"name\") by hand, then run migrate again")
				return true
			}
			fs.replace(s, as, "")
			for _, ix := range uses {
				fs.replace(s, ix, req+".PathValue("+fs.text(s, ix.Index)+")")
			}
		}
		return true
	})
}

// dropAdapters removes the local functions that adapted a net/http
// middleware to gin once nothing else calls them.
func (s *service) dropAdapters() {
	for fn := range s.adapters {
		fd := s.decls[fn]
		fs := s.declFile[fd]
		used := false
		for _, p := range s.pkgs {
			for id, obj := range p.TypesInfo.Uses {
				if obj == fn && !s.covered(fs, id.Pos()) {
					used = true
				}
			}
		}
		if used {
			continue
		}
		from := fd.Pos()
		if fd.Doc != nil {
			from = fd.Doc.Pos()
		}
		fs.replaceRange(s, from, fd.End(), "")
	}
}

// covered says whether pos lies inside an edit of a file.
func (s *service) covered(skip *fileState, pos token.Pos) bool {
	f := s.fset.File(pos)
	if f == nil {
		return false
	}
	for _, fs := range s.files {
		if s.fset.File(fs.file.Pos()) != f {
			continue
		}
		o := s.off(pos)
		for _, e := range fs.edits {
			if o >= e.start && o < e.end {
				return true
			}
		}
	}
	return false
}

// leftovers reports every use of a router package the rewrite does not
// replace: the file would still import it.
func (s *service) leftovers() {
	for _, fs := range s.sortedFiles() {
		info := fs.pkg.TypesInfo
		ast.Inspect(fs.file, func(n ast.Node) bool {
			sel, ok := n.(*ast.SelectorExpr)
			if !ok {
				return true
			}
			pn, ok := info.Uses[identOf(sel.X)].(*types.PkgName)
			if !ok {
				return true
			}
			ip := pn.Imported().Path()
			if _, router := routerImports[ip]; !router && ip != echoMiddleware {
				return true
			}
			if s.covered(fs, sel.Pos()) {
				return true
			}
			what := "`" + oneLine(fs.text(s, sel)) + "` stays: migrate does not convert it"
			if fn, ok := typeutil.Callee(info, &ast.CallExpr{Fun: sel}).(*types.Func); ok && fn != nil {
				what = "`" + oneLine(fs.text(s, sel)) + "` (" + ip + ") has no conversion"
			}
			s.problem(sel.Pos(), what, "replace it with its net/http equivalent by hand, then run migrate again")
			return true
		})
	}
}
