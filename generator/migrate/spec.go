package migrate

import (
	"fmt"
	"go/ast"
	"go/constant"
	"go/types"
	"net/http"
	"reflect"
	"sort"
	"strconv"
	"strings"
	"unicode"

	"golang.org/x/tools/go/types/typeutil"
)

// kv and obj keep the spec's keys in the order they are written.
type kv struct {
	v any
	k string
}

type obj []kv

// response is one status a handler answers, with its body type (nil: no
// body; errBody: echo's {"message": ...}).
type response struct {
	body    types.Type
	status  int
	errBody bool
}

type opInfo struct {
	req  types.Type
	resp []response
}

// analyse reads what fd decodes and encodes, with the statuses it writes.
func (s *service) analyse(fd *ast.FuncDecl, info *types.Info) opInfo {
	var op opInfo
	lastStatus := 0
	bare := map[int]bool{}
	add := func(status int, t types.Type, errBody bool) {
		if status == 0 {
			status = http.StatusOK
		}
		for _, r := range op.resp {
			if r.status == status {
				return
			}
		}
		op.resp = append(op.resp, response{status: status, body: t, errBody: errBody})
	}
	status := func(e ast.Expr) int {
		if tv, ok := info.Types[e]; ok && tv.Value != nil {
			if n, ok := constant.Int64Val(tv.Value); ok {
				return int(n)
			}
		}
		return 0
	}
	ast.Inspect(fd.Body, func(n ast.Node) bool {
		call, ok := n.(*ast.CallExpr)
		if !ok {
			return true
		}
		fn, _ := typeutil.Callee(info, call).(*types.Func)
		if fn == nil || fn.Pkg() == nil {
			return true
		}
		pkg, name := fn.Pkg().Path(), fn.Name()
		recv := ""
		if sig, ok := fn.Type().(*types.Signature); ok && sig.Recv() != nil {
			if nt, ok := types.Unalias(derefType(sig.Recv().Type())).(*types.Named); ok {
				recv = nt.Obj().Name()
			}
		}
		argType := func(i int) types.Type {
			if i >= len(call.Args) {
				return nil
			}
			return info.TypeOf(call.Args[i])
		}
		switch r := routerImports[pkg]; {
		case pkg == "encoding/json" && recv == "Decoder" && name == "Decode",
			r == Echo && name == "Bind",
			r == Gin && (name == "ShouldBindJSON" || name == "ShouldBind" || name == "BindJSON"):
			if t := argType(0); t != nil && op.req == nil {
				op.req = derefType(t)
			}
		case pkg == "encoding/json" && recv == "Encoder" && name == "Encode":
			add(lastStatus, argType(0), false)
		case (r == Echo || r == Gin) && (name == "JSON" || name == "AbortWithStatusJSON") && len(call.Args) == 2:
			add(status(call.Args[0]), argType(1), false)
		case (r == Echo && name == "NoContent" || r == Gin && (name == "Status" || name == "AbortWithStatus")) && len(call.Args) == 1:
			if st := status(call.Args[0]); st != 0 {
				bare[st] = true
			}
		case r == Echo && name == "NewHTTPError" && len(call.Args) >= 1:
			if st := status(call.Args[0]); st != 0 {
				add(st, nil, true)
			}
		case pkg == "net/http" && name == "WriteHeader" && len(call.Args) == 1:
			lastStatus = status(call.Args[0])
			if lastStatus != 0 {
				bare[lastStatus] = true
			}
		case pkg == s.pkgOf(fd) && len(call.Args) == 3 && isNamed(argType(0), "net/http", "ResponseWriter"):
			// A local writeJSON(w, status, v).
			if sig, ok := fn.Type().(*types.Signature); ok && sig.Params().Len() == 3 {
				if _, isIface := sig.Params().At(2).Type().Underlying().(*types.Interface); isIface {
					add(status(call.Args[1]), argType(2), false)
				}
			}
		}
		return true
	})
	codes := make([]int, 0, len(bare))
	for c := range bare {
		codes = append(codes, c)
	}
	sort.Ints(codes)
	for _, c := range codes {
		add(c, nil, false)
	}
	sort.SliceStable(op.resp, func(i, j int) bool { return op.resp[i].status < op.resp[j].status })
	return op
}

func (s *service) pkgOf(fd *ast.FuncDecl) string {
	return s.declFile[fd].pkg.PkgPath
}

// schemas turns Go types into JSON Schema components.
type schemas struct {
	names map[string]types.Type
	named map[types.Type]string
	defs  map[string]obj
	order []string
}

func (sc *schemas) of(t types.Type) obj {
	t = types.Unalias(t)
	if isNamed(t, "time", "Time") {
		return obj{{k: "type", v: "string"}, {k: "format", v: "date-time"}}
	}
	if p, ok := t.(*types.Pointer); ok {
		inner := sc.of(p.Elem())
		if len(inner) > 0 && inner[0].k == "$ref" {
			return inner
		}
		return append(inner, kv{k: "nullable", v: true})
	}
	if n, ok := t.(*types.Named); ok {
		if _, isStruct := n.Underlying().(*types.Struct); isStruct {
			return obj{{k: "$ref", v: "#/components/schemas/" + sc.define(n)}}
		}
	}
	switch u := t.Underlying().(type) {
	case *types.Basic:
		switch {
		case u.Info()&types.IsBoolean != 0:
			return obj{{k: "type", v: "boolean"}}
		case u.Kind() == types.Int32 || u.Kind() == types.Int16 || u.Kind() == types.Int8 || u.Kind() == types.Uint8 || u.Kind() == types.Uint16:
			return obj{{k: "type", v: "integer"}, {k: "format", v: "int32"}}
		case u.Info()&types.IsInteger != 0:
			return obj{{k: "type", v: "integer"}, {k: "format", v: "int64"}}
		case u.Kind() == types.Float32:
			return obj{{k: "type", v: "number"}, {k: "format", v: "float"}}
		case u.Info()&types.IsFloat != 0:
			return obj{{k: "type", v: "number"}, {k: "format", v: "double"}}
		case u.Info()&types.IsString != 0:
			return obj{{k: "type", v: "string"}}
		}
	case *types.Slice:
		if b, ok := u.Elem().Underlying().(*types.Basic); ok && b.Kind() == types.Byte {
			return obj{{k: "type", v: "string"}, {k: "format", v: "byte"}}
		}
		return obj{{k: "type", v: "array"}, {k: "items", v: sc.of(u.Elem())}}
	case *types.Array:
		return obj{{k: "type", v: "array"}, {k: "items", v: sc.of(u.Elem())}}
	case *types.Map:
		return obj{{k: "type", v: "object"}, {k: "additionalProperties", v: sc.of(u.Elem())}}
	case *types.Struct:
		return sc.object(u)
	case *types.Interface:
		return obj{}
	}
	return obj{}
}

func (sc *schemas) define(n *types.Named) string {
	if name, ok := sc.named[n]; ok {
		return name
	}
	name := n.Obj().Name()
	if other, ok := sc.names[name]; ok && !types.Identical(other, n) {
		name = n.Obj().Pkg().Name() + name
	}
	sc.names[name], sc.named[n] = n, name
	sc.defs[name] = nil
	sc.defs[name] = sc.object(n.Underlying().(*types.Struct))
	sc.order = append(sc.order, name)
	return name
}

func (sc *schemas) object(st *types.Struct) obj {
	var props obj
	var required []any
	var fields func(st *types.Struct)
	fields = func(st *types.Struct) {
		for i := 0; i < st.NumFields(); i++ {
			f := st.Field(i)
			tag := reflect.StructTag(st.Tag(i)).Get("json")
			name, opts, _ := strings.Cut(tag, ",")
			if name == "-" && opts == "" {
				continue
			}
			if f.Embedded() && name == "" {
				if es, ok := derefType(f.Type()).Underlying().(*types.Struct); ok {
					fields(es)
					continue
				}
			}
			if !f.Exported() {
				continue
			}
			if name == "" {
				name = f.Name()
			}
			schema := sc.of(f.Type())
			if strings.Contains(","+opts+",", ",string,") {
				schema = obj{{k: "type", v: "string"}}
			}
			props = append(props, kv{k: name, v: schema})
			if !strings.Contains(","+opts+",", ",omitempty,") && !strings.Contains(","+opts+",", ",omitzero,") {
				required = append(required, name)
			}
		}
	}
	fields(st)
	out := obj{{k: "type", v: "object"}}
	if len(required) > 0 {
		out = append(out, kv{k: "required", v: required})
	}
	if len(props) > 0 {
		out = append(out, kv{k: "properties", v: props})
	}
	return out
}

// spec drafts the OpenAPI document of the routes.
func (s *service) spec() []byte {
	sc := &schemas{names: map[string]types.Type{}, named: map[types.Type]string{}, defs: map[string]obj{}}
	type pathOps struct {
		path string
		ops  obj
	}
	var paths []*pathOps
	byPath := map[string]*pathOps{}
	usedIDs := map[string]bool{}
	for _, r := range s.res.Routes {
		p := strings.TrimSuffix(r.Pattern, "{$}")
		if p == "" {
			p = "/"
		}
		po := byPath[p]
		if po == nil {
			po = &pathOps{path: p}
			byPath[p] = po
			paths = append(paths, po)
		}
		method := strings.ToLower(r.Method)
		if method == "" {
			method = "get"
			s.res.Notes = append(s.res.Notes, r.At+": the route "+r.Pattern+" answers every method; the spec lists it as get only")
		}
		id := lowerFirst(r.Handler[strings.LastIndexByte(r.Handler, '.')+1:])
		if !isIdent(id) {
			id = method + opName(p)
		}
		if usedIDs[id] {
			id += upperFirst(method) + opName(p)
		}
		usedIDs[id] = true
		op := obj{{k: "operationId", v: id}}
		var ints map[string]bool
		if fd := s.decls[r.fn]; r.fn != nil && fd != nil {
			ints = s.intParams(fd)
		}
		var params []any
		for _, seg := range strings.Split(p, "/") {
			if strings.HasPrefix(seg, "{") && strings.HasSuffix(seg, "}") {
				name := seg[1 : len(seg)-1]
				schema := obj{{k: "type", v: "string"}}
				if ints[name] {
					schema = obj{{k: "type", v: "integer"}, {k: "format", v: "int64"}}
				}
				params = append(params, obj{{k: "name", v: name}, {k: "in", v: "path"}, {k: "required", v: true}, {k: "schema", v: schema}})
			}
		}
		if len(params) > 0 {
			op = append(op, kv{k: "parameters", v: params})
		}
		var info opInfo
		if fd := s.decls[r.fn]; r.fn != nil && fd != nil {
			info = s.analyse(fd, s.declFile[fd].pkg.TypesInfo)
		}
		if info.req != nil && method != "get" && method != "head" && method != "delete" {
			op = append(op, kv{k: "requestBody", v: obj{{k: "required", v: true}, {k: "content", v: obj{{k: "application/json", v: obj{{k: "schema", v: sc.of(info.req)}}}}}}})
		}
		var resps obj
		for _, rs := range info.resp {
			ro := obj{{k: "description", v: statusText(rs.status)}}
			switch {
			case rs.errBody:
				ro = append(ro, kv{k: "content", v: obj{{k: "application/json", v: obj{{k: "schema", v: obj{{k: "type", v: "object"}, {k: "required", v: []any{"message"}}, {k: "properties", v: obj{{k: "message", v: obj{{k: "type", v: "string"}}}}}}}}}}})
			case rs.body != nil:
				ro = append(ro, kv{k: "content", v: obj{{k: "application/json", v: obj{{k: "schema", v: sc.of(rs.body)}}}}})
			}
			resps = append(resps, kv{k: strconv.Itoa(rs.status), v: ro})
		}
		if len(resps) == 0 {
			resps = obj{{k: "default", v: obj{{k: "description", v: "not known from the handler's code: fill in by hand"}}}}
		}
		op = append(op, kv{k: "responses", v: resps})
		po.ops = append(po.ops, kv{k: method, v: op})
	}
	var ps obj
	for _, po := range paths {
		ps = append(ps, kv{k: po.path, v: po.ops})
	}
	doc := obj{
		{k: "openapi", v: "3.0.3"},
		{k: "info", v: obj{{k: "title", v: lastElem(s.module)}, {k: "version", v: "0.1.0"},
			{k: "description", v: "Drafted by svcgen migrate from the routes of " + s.module + "; review the bodies and add the error responses the middleware writes."}}},
		{k: "paths", v: ps},
	}
	if len(sc.order) > 0 {
		sort.Strings(sc.order)
		var defs obj
		for _, n := range sc.order {
			defs = append(defs, kv{k: n, v: sc.defs[n]})
		}
		doc = append(doc, kv{k: "components", v: obj{{k: "schemas", v: defs}}})
	}
	var b strings.Builder
	b.WriteString("# Drafted by svcgen migrate. Review it, then: svcgen adopt --preset P\n")
	emit(&b, doc, 0)
	return []byte(b.String())
}

func statusText(code int) string {
	if t := http.StatusText(code); t != "" {
		return t
	}
	return "status " + strconv.Itoa(code)
}

func lastElem(p string) string { return p[strings.LastIndexByte(p, '/')+1:] }

func lowerFirst(s string) string {
	if s == "" {
		return s
	}
	r := []rune(s)
	r[0] = unicode.ToLower(r[0])
	return string(r)
}

func upperFirst(s string) string {
	if s == "" {
		return s
	}
	r := []rune(s)
	r[0] = unicode.ToUpper(r[0])
	return string(r)
}

func opName(p string) string {
	var b strings.Builder
	for _, seg := range strings.Split(p, "/") {
		seg = strings.Trim(seg, "{}")
		b.WriteString(upperFirst(strings.Map(func(r rune) rune {
			if unicode.IsLetter(r) || unicode.IsDigit(r) {
				return r
			}
			return -1
		}, seg)))
	}
	return b.String()
}

// emit writes v as block YAML at indent.
func emit(b *strings.Builder, v obj, indent int) {
	pad := strings.Repeat("  ", indent)
	for _, e := range v {
		b.WriteString(pad + yamlKey(e.k) + ":")
		emitValue(b, e.v, indent)
	}
}

func emitValue(b *strings.Builder, v any, indent int) {
	pad := strings.Repeat("  ", indent)
	switch x := v.(type) {
	case obj:
		if len(x) == 0 {
			b.WriteString(" {}\n")
			return
		}
		b.WriteString("\n")
		emit(b, x, indent+1)
	case []any:
		if len(x) == 0 {
			b.WriteString(" []\n")
			return
		}
		b.WriteString("\n")
		for _, item := range x {
			if o, ok := item.(obj); ok && len(o) > 0 {
				var inner strings.Builder
				emit(&inner, o, indent+2)
				s := inner.String()
				b.WriteString(pad + "  - " + strings.TrimPrefix(s, pad+"    "))
				continue
			}
			b.WriteString(pad + "  -")
			emitValue(b, item, indent+1)
		}
	case string:
		b.WriteString(" " + yamlString(x) + "\n")
	case bool:
		b.WriteString(" " + strconv.FormatBool(x) + "\n")
	case int:
		b.WriteString(" " + strconv.Itoa(x) + "\n")
	default:
		b.WriteString(" " + yamlString(fmt.Sprint(x)) + "\n")
	}
}

func yamlKey(k string) string {
	if _, err := strconv.Atoi(k); err == nil {
		return strconv.Quote(k)
	}
	return yamlString(k)
}

func yamlString(s string) string {
	plain := s != "" && !strings.ContainsAny(s, ":#{}[],&*!|>'\"%@`\n") && s == strings.TrimSpace(s) &&
		s != "true" && s != "false" && s != "null" && s != "~" && !strings.HasPrefix(s, "-") && !strings.HasPrefix(s, "?")
	if _, err := strconv.ParseFloat(s, 64); err == nil {
		plain = false
	}
	if plain {
		return s
	}
	return strconv.Quote(s)
}

// intParams are the path parameters fd, or a function of the module it
// calls directly, parses with strconv.Atoi, ParseInt or ParseUint: the
// spec types those as integers.
func (s *service) intParams(fd *ast.FuncDecl) map[string]bool {
	out := map[string]bool{}
	s.parsedInts(fd, out)
	info := s.declFile[fd].pkg.TypesInfo
	ast.Inspect(fd.Body, func(n ast.Node) bool {
		if call, ok := n.(*ast.CallExpr); ok {
			if fn, ok := typeutil.Callee(info, call).(*types.Func); ok {
				if callee := s.decls[fn]; callee != nil && callee != fd {
					s.parsedInts(callee, out)
				}
			}
		}
		return true
	})
	return out
}

func (s *service) parsedInts(fd *ast.FuncDecl, out map[string]bool) {
	info := s.declFile[fd].pkg.TypesInfo
	ast.Inspect(fd.Body, func(n ast.Node) bool {
		call, ok := n.(*ast.CallExpr)
		if !ok || len(call.Args) == 0 {
			return true
		}
		if pkg, name := callee(info, call); pkg != "strconv" || (name != "Atoi" && name != "ParseInt" && name != "ParseUint") {
			return true
		}
		if key := paramKey(info, call.Args[0]); key != "" {
			out[key] = true
		}
		return true
	})
}

// paramKey is the name of the path parameter e reads (chi.URLParam(r, k),
// mux.Vars(r)[k], c.Param(k) of echo or gin), "" when it reads none.
func paramKey(info *types.Info, e ast.Expr) string {
	constStr := func(e ast.Expr) string {
		if tv, ok := info.Types[e]; ok && tv.Value != nil && tv.Value.Kind() == constant.String {
			return constant.StringVal(tv.Value)
		}
		return ""
	}
	switch e := ast.Unparen(e).(type) {
	case *ast.IndexExpr:
		if call, ok := e.X.(*ast.CallExpr); ok {
			if pkg, name := callee(info, call); routerImports[pkg] == Gorilla && name == "Vars" {
				return constStr(e.Index)
			}
		}
		if id, ok := e.X.(*ast.Ident); ok && isGorillaVars(info.TypeOf(id)) {
			return constStr(e.Index)
		}
	case *ast.CallExpr:
		pkg, name := callee(info, e)
		switch r := routerImports[pkg]; {
		case r == Chi && name == "URLParam" && len(e.Args) == 2:
			return constStr(e.Args[1])
		case (r == Echo || r == Gin) && name == "Param" && len(e.Args) == 1:
			return constStr(e.Args[0])
		}
	}
	return ""
}

// isGorillaVars says whether t is the map[string]string mux.Vars returns.
func isGorillaVars(t types.Type) bool {
	m, ok := t.(*types.Map)
	return ok && types.Identical(m.Key(), types.Typ[types.String]) && types.Identical(m.Elem(), types.Typ[types.String])
}
