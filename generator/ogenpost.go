package generator

import (
	"bytes"
	"fmt"
	"go/ast"
	"go/format"
	"go/parser"
	"go/token"
	"sort"
	"strings"
)

// ogenHooksFile is the file svcgen adds to ogen's package: the operation
// hook and the pool of response encoders the rewritten code calls.
const ogenHooksFile = "svcgen_hooks.go"

// ogenPostVersion changes whenever postProcessOgen writes something else:
// it is part of apiKey, so regen rewrites the package.
const ogenPostVersion = 4

// postProcessOgen rewrites ogen's server package for the hot path, in
// place. Each rewrite finds ogen's code by its syntax tree and splices text
// at those positions, so the rest of ogen's output stays byte for byte:
//
//   - response encoders take their jx.Encoder from a pool (getEncoder,
//     putEncoder) instead of new(jx.Encoder) and its buffer growth;
//   - each operation handler tells the server's OperationHook
//     (WithOperationHook) which operation the router matched, before
//     decoding its parameters, and runs with the context the hook returns:
//     a deadline and the metrics' operation label without a middleware
//     closure or a second route lookup;
//   - the codeRecorder each handler wraps w in is dropped when nothing
//     reads its status (OpenTelemetry off);
//   - a 503 that encodeErrorResponse writes (the Handler's NewError for an
//     unavailable backend) gets Retry-After where it is written, so no
//     middleware wraps every ResponseWriter to add it.
//   - with OpenTelemetry on, the per-request instrumentation runs only
//     when a provider is not OpenTelemetry's no-op (guardOtel);
//   - a constant Content-Type is one shared header value, not a new one
//     per answer (shareContentTypes).
//
// When ogen's output no longer has the shape a rewrite expects, that
// rewrite is skipped and its file left as ogen wrote it: the encoders stay
// unpooled, a 503 from NewError goes without Retry-After, and the hook runs
// as ogen middleware instead (it sees no ResponseWriter then, so the
// metrics count those requests as operation "unknown"; the deadlines
// hold). A rewrite that would leave the package half done is never applied.
func postProcessOgen(files map[string][]byte) error {
	cfg, ok := files["oas_cfg_gen.go"]
	if !ok {
		return nil // no server: nothing to rewrite
	}
	mode := noHook
	if src, ok := files["oas_handlers_gen.go"]; ok {
		out, n, err := rewriteHandlers(src)
		switch {
		case err != nil && canHookMiddleware(cfg):
			mode = middlewareHook // files["oas_handlers_gen.go"] stays ogen's
		case err != nil:
			return fmt.Errorf("post-processing ogen's oas_handlers_gen.go: %w, and oas_cfg_gen.go has no WithMiddleware to run the operation hook from instead", err)
		case n > 0:
			cfgOut, cerr := addConfigField(cfg)
			if cerr == nil {
				files["oas_handlers_gen.go"], cfg, mode = out, cfgOut, handlerHook
			} else if canHookMiddleware(cfg) {
				mode = middlewareHook
			} else {
				return fmt.Errorf("post-processing ogen's oas_cfg_gen.go: %w", cerr)
			}
		}
	}
	pooled, retry := false, false
	if src, ok := files["oas_response_encoders_gen.go"]; ok {
		if out, n, err := rewriteEncoders(src); err == nil && n > 0 {
			src, pooled = out, true
		}
		if out, ok := addRetryAfter(src); ok {
			src, retry = out, true
		}
		src, _ = shareContentTypes(src)
		files["oas_response_encoders_gen.go"] = src
	}
	if mode == noHook && !pooled && !retry {
		return nil
	}
	files["oas_cfg_gen.go"] = cfg
	otelGuarded := mode == handlerHook && bytes.Contains(files["oas_handlers_gen.go"], []byte("s.cfg.instrumented()"))
	files[ogenHooksFile] = hooksSource(mode, pooled, retry, otelGuarded)
	return nil
}

// How the operation hook reaches ogen's handlers.
const (
	noHook         = iota // no operations
	handlerHook           // spliced into each handleXRequest, with w
	middlewareHook        // ogen's Middleware, without w
)

// canHookMiddleware says whether ogen's config has WithMiddleware, the
// operation hook's fallback.
func canHookMiddleware(cfg []byte) bool {
	return bytes.Contains(cfg, []byte("func WithMiddleware(m ...Middleware) ServerOption"))
}

// splice is one replacement of src[start:end].
type splice struct {
	start, end int
	text       string
}

// applySplices applies non-overlapping splices and gofmts the result.
func applySplices(src []byte, sp []splice) ([]byte, error) {
	sort.Slice(sp, func(i, j int) bool { return sp[i].start < sp[j].start })
	var b bytes.Buffer
	at := 0
	for _, s := range sp {
		b.Write(src[at:s.start])
		b.WriteString(s.text)
		at = s.end
	}
	b.Write(src[at:])
	out, err := format.Source(b.Bytes())
	if err != nil {
		return nil, fmt.Errorf("the rewritten code does not parse: %w", err)
	}
	return out, nil
}

// rewriteEncoders replaces every `e := new(jx.Encoder)` of the response
// encoders with a pooled encoder returned when the function returns (the
// encoder has been written to w by then; ResponseWriter.Write keeps no
// reference to its argument).
func rewriteEncoders(src []byte) ([]byte, int, error) {
	fset := token.NewFileSet()
	f, err := parser.ParseFile(fset, "oas_response_encoders_gen.go", src, parser.ParseComments)
	if err != nil {
		return nil, 0, err
	}
	var sp []splice
	allocs := 0
	ast.Inspect(f, func(n ast.Node) bool {
		switch n := n.(type) {
		case *ast.CallExpr:
			if isNewJxEncoder(n) {
				allocs++
			}
		case *ast.AssignStmt:
			if n.Tok != token.DEFINE || len(n.Lhs) != 1 || len(n.Rhs) != 1 {
				return true
			}
			id, ok := n.Lhs[0].(*ast.Ident)
			call, ok2 := n.Rhs[0].(*ast.CallExpr)
			if !ok || !ok2 || !isNewJxEncoder(call) {
				return true
			}
			sp = append(sp, splice{
				start: fset.Position(n.Pos()).Offset, end: fset.Position(n.End()).Offset,
				text: fmt.Sprintf("%[1]s := getEncoder()\n\tdefer putEncoder(%[1]s)", id.Name),
			})
		}
		return true
	})
	if allocs != len(sp) {
		return nil, 0, fmt.Errorf("%d of %d new(jx.Encoder) calls are not `e := new(jx.Encoder)` statements: the encoder pool does not know this ogen version's response encoders", allocs-len(sp), allocs)
	}
	if len(sp) == 0 {
		if bytes.Contains(src, []byte(`"github.com/go-faster/jx"`)) {
			return nil, 0, fmt.Errorf("the response encoders use jx but none starts with `e := new(jx.Encoder)`: the encoder pool does not know this ogen version's response encoders")
		}
		return src, 0, nil
	}
	n := len(sp)
	// The encoders' other uses of jx: none left, its import goes.
	if uses(f, "jx") == n {
		for _, im := range f.Imports {
			if im.Path.Value == `"github.com/go-faster/jx"` {
				sp = append(sp, splice{start: fset.Position(im.Pos()).Offset, end: fset.Position(im.End()).Offset})
			}
		}
	}
	out, err := applySplices(src, sp)
	return out, n, err
}

func isNewJxEncoder(call *ast.CallExpr) bool {
	fn, ok := call.Fun.(*ast.Ident)
	if !ok || fn.Name != "new" || len(call.Args) != 1 {
		return false
	}
	sel, ok := call.Args[0].(*ast.SelectorExpr)
	if !ok || sel.Sel.Name != "Encoder" {
		return false
	}
	pkg, ok := sel.X.(*ast.Ident)
	return ok && pkg.Name == "jx"
}

// rewriteHandlers adds the operation hook to every (*Server).handleXRequest
// and drops its unused codeRecorder.
func rewriteHandlers(src []byte) ([]byte, int, error) {
	fset := token.NewFileSet()
	f, err := parser.ParseFile(fset, "oas_handlers_gen.go", src, parser.ParseComments)
	if err != nil {
		return nil, 0, err
	}
	off := func(p token.Pos) int { return fset.Position(p).Offset }
	var sp []splice
	n := 0
	for _, d := range f.Decls {
		fn, ok := d.(*ast.FuncDecl)
		if !ok || fn.Recv == nil || fn.Body == nil || !strings.HasPrefix(fn.Name.Name, "handle") || !strings.HasSuffix(fn.Name.Name, "Request") || !isRecv(fn, "Server") {
			continue
		}
		ctxStmt := -1
		for i, st := range fn.Body.List {
			if isDefineCall(st, "ctx", "r", "Context") {
				ctxStmt = i
				break
			}
		}
		traced := false
		if ctxStmt < 0 {
			// OpenTelemetry on: `ctx, span := s.cfg.Tracer.Start(r.Context(), ...)`,
			// then `ctx = contextWithLabeler(ctx, labeler)`: the hook starts
			// after the last, inside the operation's span.
			ctxStmt, traced = otelContextStmt(fn.Body.List), true
		}
		if ctxStmt < 0 {
			return nil, 0, fmt.Errorf("%s: no `ctx := r.Context()` nor `ctx, span := s.cfg.Tracer.Start(r.Context(), ...)` to start the operation hook after", fn.Name.Name)
		}
		name, id, ok := operationContext(fn.Body)
		if !ok {
			return nil, 0, fmt.Errorf("%s: no ogenerrors.OperationContext{Name, ID} or middleware.Request{OperationName, OperationID} literal to name the operation", fn.Name.Name)
		}
		hook := fmt.Sprintf(`
	// svcgen: the server's OperationHook (WithOperationHook) starts the
	// operation: its deadline and its metrics label.
	if h := s.cfg.Operations; h != nil {
		ctx = h.StartOperation(ctx, w, %s, %s)
		defer h.EndOperation(ctx)
	}`, name, id)
		if traced {
			if g, ok := guardOtel(src, off, fn.Body.List, ctxStmt, hook); ok {
				sp = append(sp, g...)
				n++
				continue
			}
		}
		at := off(fn.Body.List[ctxStmt].End())
		sp = append(sp, splice{start: at, end: at, text: hook})
		// statusWriter := &codeRecorder{ResponseWriter: w}; w = statusWriter
		if ctxStmt == 2 && isDefineCall(fn.Body.List[2], "ctx", "r", "Context") && isCodeRecorder(fn.Body.List[0], fn.Body.List[1]) && uses(fn.Body, "statusWriter") == 2 {
			sp = append(sp, splice{start: off(fn.Body.List[0].Pos()), end: off(fn.Body.List[2].Pos())})
		}
		n++
	}
	if n == 0 {
		if bytes.Contains(src, []byte("func (s *Server) handle")) {
			return nil, 0, fmt.Errorf("no (*Server).handleXRequest method found by its syntax: the operation hook does not know this ogen version's handlers")
		}
		return src, 0, nil
	}
	out, err := applySplices(src, sp)
	return out, n, err
}

// guardOtel rewrites an OpenTelemetry-instrumented handler so that ogen's
// per-request OpenTelemetry work (the status recorder, the span and its
// attributes, the labeler, the stopwatch and its metric records) runs only
// when s.cfg.instrumented(): not when both providers are OpenTelemetry's
// no-op ones, where it would cost a dozen allocations for nothing. The
// span the response encoders take is then ctx's own (no-op) span, and
// recordError returns at once. It returns false, changing nothing, when
// the handler does not have the shape it knows:
//
//	statusWriter := &codeRecorder{ResponseWriter: w}
//	w = statusWriter
//	otelAttrs := ...
//	ctx, span := s.cfg.Tracer.Start(r.Context(), ...)
//	defer span.End()
//	labeler := &Labeler{attrs: otelAttrs}
//	ctx = contextWithLabeler(ctx, labeler)
//	startTime := time.Now()
//	defer func() { ... }()
//	var (
//		recordError = func(stage string, err error) { ... }
//		...
func guardOtel(src []byte, off func(token.Pos) int, list []ast.Stmt, labelerStmt int, hook string) ([]splice, bool) {
	if len(list) < 3 || !isCodeRecorder(list[0], list[1]) {
		return nil, false
	}
	stopwatch := -1
	var stopwatchFn *ast.FuncLit
	for i := labelerStmt + 1; i < len(list); i++ {
		if d, ok := list[i].(*ast.DeferStmt); ok {
			if fl, ok := d.Call.Fun.(*ast.FuncLit); ok {
				stopwatch, stopwatchFn = i, fl
				break
			}
		}
	}
	if stopwatch < 0 || stopwatch+1 >= len(list) {
		return nil, false
	}
	// recordError's func literal, in the var block after the stopwatch.
	var record *ast.FuncLit
	if ds, ok := list[stopwatch+1].(*ast.DeclStmt); ok {
		if gd, ok := ds.Decl.(*ast.GenDecl); ok && gd.Tok == token.VAR {
			for _, spec := range gd.Specs {
				vs, ok := spec.(*ast.ValueSpec)
				if ok && len(vs.Names) == 1 && vs.Names[0].Name == "recordError" && len(vs.Values) == 1 {
					record, _ = vs.Values[0].(*ast.FuncLit)
				}
			}
		}
	}
	if record == nil {
		return nil, false
	}
	// The stopwatch's status attributes and metric records have nowhere to
	// go when the span does not record (not sampled) and the meter is a
	// no-op: it returns before building them.
	from, swAt := off(list[0].Pos()), off(stopwatchFn.Body.Lbrace)+1
	text := string(src[from:swAt]) + `
			if !span.IsRecording() && !s.cfg.metered() {
				return // svcgen: nothing records it
			}` + string(src[swAt:off(list[stopwatch].End())])
	for _, r := range [][2]string{
		{"statusWriter := &codeRecorder{", "statusWriter = &codeRecorder{"},
		{"ctx, span := s.cfg.Tracer.Start(r.Context(),", "ctx, span = s.cfg.Tracer.Start(ctx,"},
		{"labeler := &Labeler{", "labeler = &Labeler{"},
	} {
		if strings.Count(text, r[0]) != 1 {
			return nil, false
		}
		text = strings.Replace(text, r[0], r[1], 1)
	}
	guarded := `// svcgen: ogen's per-request OpenTelemetry work runs only when a
	// provider is not OpenTelemetry's no-op (WithTracerProvider,
	// WithMeterProvider); with both no-op the request pays none of it.
	ctx := r.Context()
	span := trace.SpanFromContext(ctx)
	var (
		statusWriter *codeRecorder
		labeler      *Labeler
	)
	if s.cfg.instrumented() {
		` + text + `
	}` + hook
	at := off(record.Body.Lbrace) + 1
	return []splice{
		{start: off(list[0].Pos()), end: off(list[stopwatch].End()), text: guarded},
		{start: at, end: at, text: `
			if labeler == nil || !span.IsRecording() && !s.cfg.metered() {
				return // svcgen: OpenTelemetry off (s.cfg.instrumented), or nothing records it
			}`},
	}, true
}

// otelContextStmt returns the index of the statement after which an
// OpenTelemetry-instrumented handler's ctx is complete: the
// `ctx = contextWithLabeler(ctx, ...)` that follows its
// `ctx, span := s.cfg.Tracer.Start(r.Context(), ...)`, or that Start when no
// labeler follows; -1 without such a Start.
func otelContextStmt(list []ast.Stmt) int {
	start := -1
	for i, st := range list {
		as, ok := st.(*ast.AssignStmt)
		if !ok || len(as.Lhs) == 0 || len(as.Rhs) != 1 {
			continue
		}
		if id, ok := as.Lhs[0].(*ast.Ident); !ok || id.Name != "ctx" {
			continue
		}
		call, ok := as.Rhs[0].(*ast.CallExpr)
		if !ok {
			continue
		}
		switch fun := call.Fun.(type) {
		case *ast.SelectorExpr:
			if as.Tok == token.DEFINE && len(as.Lhs) == 2 && fun.Sel.Name == "Start" && start < 0 {
				start = i
			}
		case *ast.Ident:
			if as.Tok == token.ASSIGN && start >= 0 && fun.Name == "contextWithLabeler" {
				return i
			}
		}
	}
	return start
}

func isRecv(fn *ast.FuncDecl, typ string) bool {
	if len(fn.Recv.List) != 1 {
		return false
	}
	star, ok := fn.Recv.List[0].Type.(*ast.StarExpr)
	if !ok {
		return false
	}
	id, ok := star.X.(*ast.Ident)
	return ok && id.Name == typ
}

// isDefineCall matches `lhs := recv.method()`.
func isDefineCall(st ast.Stmt, lhs, recv, method string) bool {
	as, ok := st.(*ast.AssignStmt)
	if !ok || as.Tok != token.DEFINE || len(as.Lhs) != 1 || len(as.Rhs) != 1 {
		return false
	}
	if id, ok := as.Lhs[0].(*ast.Ident); !ok || id.Name != lhs {
		return false
	}
	call, ok := as.Rhs[0].(*ast.CallExpr)
	if !ok || len(call.Args) != 0 {
		return false
	}
	sel, ok := call.Fun.(*ast.SelectorExpr)
	if !ok || sel.Sel.Name != method {
		return false
	}
	x, ok := sel.X.(*ast.Ident)
	return ok && x.Name == recv
}

// operationContext finds the operation's name and operationId, as source
// text, in the handler's ogenerrors.OperationContext literal (Name, ID) or,
// in a handler without parameters or body, its middleware.Request literal
// (OperationName, OperationID).
func operationContext(body *ast.BlockStmt) (name, id string, ok bool) {
	ast.Inspect(body, func(n ast.Node) bool {
		cl, isLit := n.(*ast.CompositeLit)
		if !isLit || ok {
			return !ok
		}
		sel, isSel := cl.Type.(*ast.SelectorExpr)
		if !isSel {
			return true
		}
		nameKey, idKey := "", ""
		switch pkg, _ := sel.X.(*ast.Ident); {
		case sel.Sel.Name == "OperationContext":
			nameKey, idKey = "Name", "ID"
		case sel.Sel.Name == "Request" && pkg != nil && pkg.Name == "middleware":
			nameKey, idKey = "OperationName", "OperationID"
		default:
			return true
		}
		name, id = "", ""
		for _, el := range cl.Elts {
			kv, isKV := el.(*ast.KeyValueExpr)
			if !isKV {
				continue
			}
			key, _ := kv.Key.(*ast.Ident)
			if key == nil {
				continue
			}
			switch v := kv.Value.(type) {
			case *ast.Ident:
				if key.Name == nameKey {
					name = v.Name
				}
			case *ast.BasicLit:
				if key.Name == idKey && v.Kind == token.STRING {
					id = v.Value
				}
			}
		}
		ok = name != "" && id != ""
		return !ok
	})
	return name, id, ok
}

// isCodeRecorder matches `statusWriter := &codeRecorder{ResponseWriter: w}`
// followed by `w = statusWriter`.
func isCodeRecorder(a, b ast.Stmt) bool {
	as, ok := a.(*ast.AssignStmt)
	if !ok || as.Tok != token.DEFINE || len(as.Lhs) != 1 || len(as.Rhs) != 1 {
		return false
	}
	if id, ok := as.Lhs[0].(*ast.Ident); !ok || id.Name != "statusWriter" {
		return false
	}
	u, ok := as.Rhs[0].(*ast.UnaryExpr)
	if !ok || u.Op != token.AND {
		return false
	}
	cl, ok := u.X.(*ast.CompositeLit)
	if !ok {
		return false
	}
	if t, ok := cl.Type.(*ast.Ident); !ok || t.Name != "codeRecorder" {
		return false
	}
	bs, ok := b.(*ast.AssignStmt)
	if !ok || bs.Tok != token.ASSIGN || len(bs.Lhs) != 1 || len(bs.Rhs) != 1 {
		return false
	}
	l, ok1 := bs.Lhs[0].(*ast.Ident)
	r, ok2 := bs.Rhs[0].(*ast.Ident)
	return ok1 && ok2 && l.Name == "w" && r.Name == "statusWriter"
}

// uses counts the identifiers named name in n.
func uses(n ast.Node, name string) int {
	c := 0
	ast.Inspect(n, func(n ast.Node) bool {
		if id, ok := n.(*ast.Ident); ok && id.Name == name {
			c++
		}
		return true
	})
	return c
}

// addConfigField adds the Operations field to ogen's serverConfig.
func addConfigField(src []byte) ([]byte, error) {
	fset := token.NewFileSet()
	f, err := parser.ParseFile(fset, "oas_cfg_gen.go", src, parser.ParseComments)
	if err != nil {
		return nil, err
	}
	var st *ast.StructType
	ast.Inspect(f, func(n ast.Node) bool {
		if ts, ok := n.(*ast.TypeSpec); ok && ts.Name.Name == "serverConfig" {
			st, _ = ts.Type.(*ast.StructType)
			return false
		}
		return st == nil
	})
	if st == nil {
		return nil, fmt.Errorf("no `type serverConfig struct` to add the operation hook to")
	}
	at := fset.Position(st.Fields.Closing).Offset
	return applySplices(src, []splice{{start: at, end: at, text: "\tOperations OperationHook // svcgen: WithOperationHook\n"}})
}

// addRetryAfter makes encodeErrorResponse set Retry-After on a 503
// before its w.WriteHeader(code); ok is false, and src is returned as it
// is, when there is no such call.
func addRetryAfter(src []byte) (out []byte, ok bool) {
	fset := token.NewFileSet()
	f, err := parser.ParseFile(fset, "oas_response_encoders_gen.go", src, parser.ParseComments)
	if err != nil {
		return src, false
	}
	for _, d := range f.Decls {
		fn, isFn := d.(*ast.FuncDecl)
		if !isFn || fn.Recv != nil || fn.Name.Name != "encodeErrorResponse" || fn.Body == nil {
			continue
		}
		for _, st := range fn.Body.List {
			es, isExpr := st.(*ast.ExprStmt)
			if !isExpr {
				continue
			}
			call, isCall := es.X.(*ast.CallExpr)
			if !isCall || len(call.Args) != 1 {
				continue
			}
			sel, isSel := call.Fun.(*ast.SelectorExpr)
			w, isW := sel.X.(*ast.Ident)
			code, isCode := call.Args[0].(*ast.Ident)
			if !isSel || !isW || !isCode || sel.Sel.Name != "WriteHeader" || w.Name != "w" {
				continue
			}
			at := fset.Position(st.Pos()).Offset
			out, err := applySplices(src, []splice{{start: at, end: at, text: fmt.Sprintf("setRetryAfter(w, %s) // svcgen\n\t", code.Name)}})
			if err != nil {
				return src, false
			}
			return out, true
		}
	}
	return src, false
}

// shareContentTypes makes every `w.Header().Set("Content-Type", "...")`
// with a constant value an assignment of one slice per value, declared
// once in the file: `w.Header()["Content-Type"] = svcgenContentType0`.
// Set allocates a one-string slice and canonicalizes the key on every
// answer; the shared slice is safe because net/http copies the handler's
// header before it writes it (Header.Clone in WriteHeader), Set and Del
// replace a value rather than write into it, and Add appends to a full
// slice, so into a new one. It returns src unchanged, and 0, when there is
// no such call or the result would not parse.
func shareContentTypes(src []byte) ([]byte, int) {
	fset := token.NewFileSet()
	f, err := parser.ParseFile(fset, "oas_response_encoders_gen.go", src, parser.ParseComments)
	if err != nil {
		return src, 0
	}
	var (
		sp     []splice
		values []string              // the Go literals, in order of first use
		vars   = map[string]string{} // literal -> variable
	)
	ast.Inspect(f, func(n ast.Node) bool {
		es, ok := n.(*ast.ExprStmt)
		if !ok {
			return true
		}
		w, lit, ok := setContentType(es)
		if !ok {
			return true
		}
		v, seen := vars[lit]
		if !seen {
			v = fmt.Sprintf("svcgenContentType%d", len(values))
			vars[lit] = v
			values = append(values, lit)
		}
		sp = append(sp, splice{
			start: fset.Position(es.Pos()).Offset, end: fset.Position(es.End()).Offset,
			text: fmt.Sprintf("%s.Header()[\"Content-Type\"] = %s", w, v),
		})
		return false
	})
	if len(sp) == 0 {
		return src, 0
	}
	for _, v := range values {
		if f.Scope.Lookup(vars[v]) != nil {
			return src, 0 // ogen declared the name itself
		}
	}
	var decl strings.Builder
	decl.WriteString("\n// svcgen: the constant Content-Type values the encoders set, one shared\n// slice each (shareContentTypes in svcgen's generator).\nvar (\n")
	for _, v := range values {
		fmt.Fprintf(&decl, "\t%s = []string{%s}\n", vars[v], v)
	}
	decl.WriteString(")\n")
	sp = append(sp, splice{start: len(src), end: len(src), text: decl.String()})
	out, err := applySplices(src, sp)
	if err != nil {
		return src, 0
	}
	return out, len(sp) - 1
}

// setContentType matches `w.Header().Set("Content-Type", "literal")` and
// returns the writer's name and the value's Go literal.
func setContentType(es *ast.ExprStmt) (w, lit string, ok bool) {
	call, isCall := es.X.(*ast.CallExpr)
	if !isCall || len(call.Args) != 2 {
		return "", "", false
	}
	set, isSel := call.Fun.(*ast.SelectorExpr)
	if !isSel || set.Sel.Name != "Set" {
		return "", "", false
	}
	hdr, isCall := set.X.(*ast.CallExpr)
	if !isCall || len(hdr.Args) != 0 {
		return "", "", false
	}
	hsel, isSel := hdr.Fun.(*ast.SelectorExpr)
	if !isSel || hsel.Sel.Name != "Header" {
		return "", "", false
	}
	recv, isIdent := hsel.X.(*ast.Ident)
	key, isKey := call.Args[0].(*ast.BasicLit)
	val, isVal := call.Args[1].(*ast.BasicLit)
	if !isIdent || !isKey || !isVal || key.Kind != token.STRING || val.Kind != token.STRING || key.Value != `"Content-Type"` {
		return "", "", false
	}
	return recv.Name, val.Value, true
}

// hooksSource is the file svcgen adds to ogen's package: the operation
// hook as mode says, the encoder pool, the Retry-After of 503s and, with
// OpenTelemetry on, the no-op checks of guardOtel.
func hooksSource(mode int, pool, retry, otelGuarded bool) []byte {
	var b strings.Builder
	fmt.Fprintf(&b, "// Code generated by svcgen %s. DO NOT EDIT.\n\npackage api\n\nimport (\n", Version)
	if mode != noHook {
		b.WriteString("\t\"context\"\n")
	}
	if mode != noHook || retry {
		b.WriteString("\t\"net/http\"\n")
	}
	if pool {
		b.WriteString("\t\"sync\"\n\n\t\"github.com/go-faster/jx\"\n")
	}
	if mode == middlewareHook {
		b.WriteString("\n\t\"github.com/ogen-go/ogen/middleware\"\n")
	}
	if otelGuarded {
		b.WriteString("\n\tmetricnoop \"go.opentelemetry.io/otel/metric/noop\"\n\ttracenoop \"go.opentelemetry.io/otel/trace/noop\"\n")
	}
	b.WriteString(")\n")
	if otelGuarded {
		b.WriteString(`
// instrumented reports whether ogen's per-request OpenTelemetry work has
// anywhere to go: not when both the tracer and the meter provider are
// OpenTelemetry's no-op ones (WithTracerProvider(tracenoop.NewTracerProvider()),
// WithMeterProvider(metricnoop.NewMeterProvider())). The handlers skip it
// then; an incoming span context still reaches the handler's ctx.
func (cfg *otelConfig) instrumented() bool {
	_, noTrace := cfg.TracerProvider.(tracenoop.TracerProvider)
	return !noTrace || cfg.metered()
}

// metered reports whether the meter provider is not OpenTelemetry's no-op:
// an unsampled request then skips building its metric attributes.
func (cfg *otelConfig) metered() bool {
	_, noMeter := cfg.MeterProvider.(metricnoop.MeterProvider)
	return !noMeter
}
`)
	}
	if mode != noHook {
		b.WriteString(`
// OperationHook is told of every request the router has matched to an
// operation. StartOperation runs before the operation's parameters are
// decoded, with the operation's name and operationId (or ""), and returns
// the context the operation runs with; EndOperation runs with that context
// once the answer is written. w is the writer the answer goes to. Unlike a
// Middleware, the hook costs the request no allocation of its own.
type OperationHook interface {
	StartOperation(ctx context.Context, w http.ResponseWriter, name OperationName, id string) context.Context
	EndOperation(ctx context.Context)
}
`)
	}
	switch mode {
	case handlerHook:
		b.WriteString(`
// WithOperationHook sets the server's OperationHook.
func WithOperationHook(h OperationHook) ServerOption {
	return optionFunc[serverConfig](func(cfg *serverConfig) {
		cfg.Operations = h
	})
}
`)
	case middlewareHook:
		b.WriteString(`
// WithOperationHook sets the server's OperationHook. This ogen output's
// handlers have no place for it: it runs as the server's Middleware (it
// replaces one set with WithMiddleware), once the parameters are decoded,
// and StartOperation gets a nil w.
func WithOperationHook(h OperationHook) ServerOption {
	return WithMiddleware(func(req middleware.Request, next middleware.Next) (middleware.Response, error) {
		req.Context = h.StartOperation(req.Context, nil, req.OperationName, req.OperationID)
		defer h.EndOperation(req.Context)
		return next(req)
	})
}
`)
	}
	if retry {
		b.WriteString(`
// RetryAfter is the Retry-After, in seconds, of the 503 answers the API
// writes from an ErrorStatusCode (the Handler's NewError).
const RetryAfter = "1"

// setRetryAfter sets Retry-After on a 503 that has none.
func setRetryAfter(w http.ResponseWriter, code int) {
	if code == http.StatusServiceUnavailable && w.Header().Get("Retry-After") == "" {
		w.Header().Set("Retry-After", RetryAfter)
	}
}
`)
	}
	if pool {
		b.WriteString(`
// maxPooledEncoder is the largest encoder buffer kept for reuse: one large
// answer does not pin its buffer in the pool.
const maxPooledEncoder = 64 << 10

var encoders = sync.Pool{New: func() any { return new(jx.Encoder) }}

// getEncoder returns an empty encoder from the pool.
func getEncoder() *jx.Encoder { return encoders.Get().(*jx.Encoder) }

// putEncoder returns e to the pool once its bytes are written.
func putEncoder(e *jx.Encoder) {
	if cap(e.Bytes()) > maxPooledEncoder {
		return
	}
	e.Reset()
	encoders.Put(e)
}
`)
	}
	out, err := format.Source([]byte(b.String()))
	if err != nil {
		panic(fmt.Sprintf("svcgen's %s does not parse: %v", ogenHooksFile, err)) // a bug in this file
	}
	return out
}
