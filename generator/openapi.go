package generator

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"go/ast"
	"go/parser"
	"go/printer"
	"go/token"
	"path"
	"regexp"
	"runtime/debug"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"unicode"

	"github.com/ogen-go/ogen"
	"github.com/ogen-go/ogen/gen"
	"github.com/ogen-go/ogen/location"
	"go.uber.org/zap"
	"go.uber.org/zap/zaptest/observer"
)

// apiDir is where ogen's output goes in the service.
const apiDir = "internal/api"

// ogenFeatures are the ogen features a service is generated with. The
// OpenTelemetry feature comes in only with svcgen's tracing feature.
func ogenFeatures(otel bool) *gen.FeatureOptions {
	enable := gen.FeatureSet{gen.PathsServer.Name: {}, gen.OgenUnimplemented.Name: {}}
	disable := gen.FeatureSet{gen.PathsClient.Name: {}, gen.WebhooksClient.Name: {}, gen.WebhooksServer.Name: {}}
	if otel {
		enable[gen.OgenOtel.Name] = struct{}{}
	} else {
		disable[gen.OgenOtel.Name] = struct{}{}
	}
	return &gen.FeatureOptions{Enable: enable, Disable: disable}
}

// SpecError is an invalid or unsupported OpenAPI document. Its message has
// file:line:col; Listing shows the lines around it.
type SpecError struct {
	// Err is ogen's error.
	Err error
	// File is the spec's name as the user gave it.
	File string
	// Listing is the source listing with the fault marked, as ogen prints it.
	Listing string
	// Line and Column locate the fault (0 when unknown).
	Line, Column int
	// Unsupported is ogen's name for a feature it cannot generate (its
	// message to skip it), "" for plain errors.
	Unsupported string
	// Operation names the operations the fault is in, as in "operation
	// addPet (POST /pet)"; "" when it is outside the operations.
	Operation string
}

func (e *SpecError) Error() string {
	var b strings.Builder
	b.WriteString(e.File)
	if e.Line > 0 {
		fmt.Fprintf(&b, ":%d:%d", e.Line, e.Column)
	}
	b.WriteString(": ")
	if e.Operation != "" {
		b.WriteString(e.Operation + ": ")
	}
	msg := innermost(e.Err)
	if e.Unsupported != "" {
		fmt.Fprintf(&b, "ogen cannot generate this yet (%s); fix the spec, or skip it with --skip-unsupported %q (or \"all\")", msg, e.Unsupported)
	} else {
		fmt.Fprintf(&b, "invalid OpenAPI document: %s", msg)
	}
	return b.String()
}

func (e *SpecError) Unwrap() error { return e.Err }

// innermost returns the message of the deepest error in the chain, which is
// the one that says what is wrong; the outer ones only say where ogen was.
func innermost(err error) string {
	msg := err.Error()
	for {
		u := errors.Unwrap(err)
		if u == nil {
			break
		}
		err = u
		var le *location.Error
		if errors.As(err, &le) {
			continue
		}
		msg = err.Error()
	}
	return msg
}

// apiKey identifies everything ogen's output depends on: the spec, the
// ogen options svcgen sets, ogen's version and svcgen's rewrite of it
// (ogenPostVersion).
func apiKey(spec []byte, otel bool, skip []string) string {
	h := sha256.New()
	h.Write(spec)
	fmt.Fprintf(h, "\x00otel=%t\x00skip=%q\x00ogen=%s\x00post=%d", otel, skip, ogenVersion(), ogenPostVersion)
	return hex.EncodeToString(h.Sum(nil))
}

// ogenVersion is the ogen module svcgen was built with.
var ogenVersion = sync.OnceValue(func() string {
	if bi, ok := debug.ReadBuildInfo(); ok {
		for _, d := range bi.Deps {
			if d.Path == "github.com/ogen-go/ogen" {
				if d.Replace != nil {
					return d.Replace.Path + "@" + d.Replace.Version
				}
				return d.Version
			}
		}
	}
	return "unknown"
})

// reuseOgen reads operations from ogen's output of a previous generation.
func reuseOgen(files map[string][]byte) (*ogenOutput, error) {
	out := &ogenOutput{files: files}
	return out, out.readInterfaces()
}

// ogenOutput is ogen's generated package plus the operations it served.
type ogenOutput struct {
	files    map[string][]byte
	ops      []Operation
	newError bool
	// skipped are the warnings of what the service does not serve of the
	// spec: what ogen skipped on request, webhooks and callbacks.
	skipped []string
	// security are the SecurityHandler's methods, when the spec has
	// security schemes.
	security []Operation
	// skips are what ogen skipped (or would skip), located, in ogen's order.
	skips []skip
}

// position is a line and column in the spec.
type position struct{ line, col int }

// memFS collects ogen's files in memory.
type memFS struct {
	files map[string][]byte
	mu    sync.Mutex
}

func (m *memFS) WriteFile(name string, data []byte) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.files[name] = bytes.Clone(data)
	return nil
}

// runOgen generates the server package from spec in memory.
func runOgen(specFile string, spec []byte, otel bool, skipNames []string) (*ogenOutput, error) {
	out := &ogenOutput{}
	index := sync.OnceValue(func() *specIndex { return newSpecIndex(spec) })
	parsed, err := ogen.Parse(spec)
	if err != nil {
		return nil, locateOp(specError(specFile, spec, err), index())
	}
	opts := gen.Options{}
	opts.Parser.File = location.NewFile(path.Base(specFile), specFile, spec)
	opts.Generator.Features = ogenFeatures(otel)
	opts.Generator.IgnoreNotImplemented = skipNames
	core, logs := observer.New(zap.InfoLevel)
	opts.Logger = zap.New(core)
	// ogen calls the hook on every not-implemented error, then, when it
	// skips, logs "Skipping <what>" with the place: the hook's log index
	// pairs the two.
	var hooks []hookCall
	opts.Generator.NotImplementedHook = func(name string, err error) {
		hooks = append(hooks, hookCall{name: name, err: err, log: logs.Len()})
	}
	g, err := gen.NewGenerator(parsed, opts)
	out.skips = locateSkips(hooks, logs.All())
	if err != nil {
		se := specError(specFile, spec, err)
		if se.Unsupported != "" && se.Line == 0 && !slices.Contains(skipNames, se.Unsupported) {
			// ogen's not-implemented errors carry no position, but it logs
			// one when it skips: find it by skipping what it cannot do.
			if again, _ := runOgen(specFile, spec, otel, []string{"all"}); again != nil {
				for i, sk := range again.skips {
					if sk.name == se.Unsupported {
						p := place(i, again.skips, index())
						se.Line, se.Column, se.Operation = p.line, p.col, opsString(p.ops)
						break
					}
				}
			}
		}
		return nil, locateOp(se, index())
	}
	var skipped []skip
	for _, sk := range out.skips {
		if slices.Contains(skipNames, sk.name) || slices.Contains(skipNames, "all") {
			skipped = append(skipped, sk)
		}
	}
	out.skipped = skipWarnings(specFile, skipped, index())
	if len(parsed.Webhooks) > 0 || hasCallbacks(parsed) {
		if x := index(); x != nil {
			out.skipped = append(out.skipped, x.notServed(specFile)...)
		}
	}
	fs := &memFS{files: map[string][]byte{}}
	if err := g.WriteSource(fs, "api"); err != nil {
		return nil, fmt.Errorf("ogen could not write the server for %s: %w", specFile, err)
	}
	if err := postProcessOgen(fs.files); err != nil {
		return nil, fmt.Errorf("%s: %w", specFile, err)
	}
	out.files = fs.files
	if err := out.readInterfaces(); err != nil {
		return nil, err
	}
	return out, nil
}

// hasCallbacks says whether an operation of the spec declares callbacks.
func hasCallbacks(s *ogen.Spec) bool {
	for _, item := range s.Paths {
		if item == nil {
			continue
		}
		for _, op := range []*ogen.Operation{item.Get, item.Put, item.Post, item.Delete, item.Options, item.Head, item.Patch, item.Trace} {
			if op != nil && len(op.Callbacks) > 0 {
				return true
			}
		}
	}
	return false
}

// hookCall is one call of ogen's NotImplementedHook.
type hookCall struct {
	err  error
	name string
	// log is how many entries ogen had logged before the call.
	log int
}

// skip is one construct ogen cannot generate.
type skip struct {
	// name is ogen's name for it, the word --skip-unsupported takes.
	name string
	// msg is ogen's message ("nested objects in form parameters not
	// implemented").
	msg string
	// what is ogen's log of the skip ("Skipping media"), "" when it logs
	// none (a schema's default).
	what string
	// line and col locate it, 0 when ogen gives no place.
	line, col int
	// media are the content types that made ogen skip a whole operation
	// (its unsupported ones, or an event stream).
	media string
}

// locateSkips pairs each hook call with the "Skipping ..." entry ogen
// logged after it and before the next call.
func locateSkips(hooks []hookCall, entries []observer.LoggedEntry) []skip {
	out := make([]skip, 0, len(hooks))
	for i, h := range hooks {
		sk := skip{name: h.name, msg: innermost(h.err)}
		var ct *gen.ErrUnsupportedContentTypes
		switch {
		case errors.As(h.err, &ct) && len(ct.ContentTypes) > 0:
			sk.media = ct.ContentTypes[0]
		case strings.HasPrefix(h.name, "sse "):
			sk.media = "text/event-stream"
		}
		end := len(entries)
		if i+1 < len(hooks) {
			end = hooks[i+1].log
		}
		for _, e := range entries[min(h.log, end):end] {
			if !strings.HasPrefix(e.Message, "Skipping") {
				continue
			}
			for _, f := range e.Context {
				if f.Key == "at" {
					sk.what = e.Message
					sk.line, sk.col = atPosition(f.String)
				}
			}
			if sk.what != "" {
				break
			}
		}
		out = append(out, sk)
	}
	return out
}

// atPosition reads "file:line:col", as ogen logs a place.
func atPosition(at string) (line, col int) {
	i := strings.LastIndex(at, ":")
	if i <= 0 {
		return 0, 0
	}
	j := strings.LastIndex(at[:i], ":")
	if j < 0 {
		return 0, 0
	}
	line, _ = strconv.Atoi(at[j+1 : i])
	col, _ = strconv.Atoi(at[i+1:])
	return line, col
}

// placeDefault locates a skipped schema default, which ogen reports
// without a place: when the spec has as many schemas with such a default
// as ogen skipped, the n-th skip is put at the n-th one's default key.
func placeDefault(i int, all []skip, x *specIndex) skip {
	sk := all[i]
	if sk.line != 0 || x == nil || !strings.HasSuffix(sk.name, " defaults") {
		return sk
	}
	n, nth := 0, -1
	for j, o := range all {
		if o.name == sk.name && o.line == 0 {
			if j == i {
				nth = n
			}
			n++
		}
	}
	if c := x.candidates(sk.name); len(c) == n && nth >= 0 {
		sk.line, sk.col = x.keyPos(c[nth])
		sk.what = "default"
	}
	return sk
}

// placed is a skip with its place in the spec.
type placed struct {
	skip
	// ops are the operations it is in.
	ops []specOp
	// path is the YAML path to it.
	path []string
}

// place locates a skip in the spec: its YAML path, its operations, and
// for a whole operation skipped for its content the media type at fault.
// It places all[i]; all are every skip of the run (to place schema
// defaults by their order).
func place(i int, all []skip, x *specIndex) placed {
	sk := placeDefault(i, all, x)
	p := placed{skip: sk}
	if x == nil || sk.line == 0 {
		return p
	}
	p.path = x.pathAt(sk.line, sk.col)
	p.ops = x.opsOf(p.path)
	if sk.what == "Skipping operation" && sk.media != "" && len(p.ops) == 1 {
		if n := x.mediaOf(p.ops[0], sk.media); n != nil {
			p.line, p.col = n.Line, n.Column
		}
	}
	return p
}

// skipWarnings words each skip as "FILE:LINE:COL: operation <id> (METHOD
// /path): skipped: <what ogen cannot do>; <what is lost>", in the spec's
// order. A construct inside an operation that ogen then skipped whole is
// said once, by the operation's warning.
func skipWarnings(file string, skips []skip, x *specIndex) []string {
	key := func(op specOp) string { return op.Method + " " + op.Path }
	all := make([]placed, 0, len(skips))
	whole := map[string]bool{}
	inner := -1 // the last skip inside an operation, in ogen's order
	for i, sk := range skips {
		p := place(i, skips, x)
		if sk.what != "Skipping operation" {
			inner = len(all)
			all = append(all, p)
			continue
		}
		for _, op := range p.ops {
			whole[key(op)] = true
		}
		// ogen skips an operation for the construct it has just skipped
		// inside it (a path parameter, its only media type): say it there.
		if inner >= 0 && len(p.ops) == 1 && slices.ContainsFunc(all[inner].ops, func(o specOp) bool { return key(o) == key(p.ops[0]) }) {
			p.line, p.col, p.path = all[inner].line, all[inner].col, all[inner].path
		}
		all = append(all, p)
	}
	sort.SliceStable(all, func(i, j int) bool {
		a, b := all[i], all[j]
		return a.line < b.line || a.line == b.line && a.col < b.col
	})
	var out []string
	seen := map[string]bool{}
	for _, p := range all {
		if p.what != "Skipping operation" && len(p.ops) > 0 && !slices.ContainsFunc(p.ops, func(o specOp) bool { return !whole[key(o)] }) {
			continue // said by the operations' own warnings
		}
		var b strings.Builder
		b.WriteString(file)
		if p.line > 0 {
			fmt.Fprintf(&b, ":%d:%d", p.line, p.col)
		}
		b.WriteString(": ")
		if s := opsString(p.ops); s != "" {
			b.WriteString(s + ": ")
		}
		fmt.Fprintf(&b, "skipped: %s; %s", p.msg, lost(p.what, p.path, x))
		if w := b.String(); !seen[w] {
			seen[w] = true
			out = append(out, w)
		}
	}
	return out
}

// lost says what the service loses with a skip.
func lost(what string, p []string, x *specIndex) string {
	after := func(key string) string {
		for i := 0; i+1 < len(p); i++ {
			if p[i] == key {
				return p[i+1]
			}
		}
		return ""
	}
	switch what {
	case "Skipping operation":
		return "the operation is not served"
	case "Skipping webhook":
		return "the webhook is not served"
	case "Skipping security":
		return "the security requirement is not enforced"
	case "Skipping response header":
		if len(p) > 0 {
			return fmt.Sprintf("the response header %s is not sent", p[len(p)-1])
		}
		return "the response header is not sent"
	case "Skipping parameter":
		if n := x.node(p); n != nil && mapValue(n, "name") != nil {
			in := "a"
			if v := mapValue(n, "in"); v != nil {
				in = "the " + v.Value
			}
			return fmt.Sprintf("%s parameter %q is not read", in, mapValue(n, "name").Value)
		}
		return "the parameter is not read"
	case "Skipping media":
		ct := after("content")
		switch {
		case slices.Contains(p, "requestBody") || (len(p) > 1 && p[0] == "components" && p[1] == "requestBodies"):
			return fmt.Sprintf("the request body in %s is not accepted", ct)
		case len(p) > 2 && p[0] == "components" && p[1] == "responses":
			return fmt.Sprintf("the response %s in %s is not sent", p[2], ct)
		case after("responses") != "":
			return fmt.Sprintf("the %s response in %s is not sent", after("responses"), ct)
		}
		return fmt.Sprintf("the content in %s is not handled", ct)
	case "default":
		return "the default value is not applied"
	}
	return "it is left out of the service"
}

// locateOp names the operation a SpecError's place belongs to.
func locateOp(se *SpecError, x *specIndex) *SpecError {
	if se.Line == 0 || x == nil || se.Operation != "" {
		return se
	}
	p := x.pathAt(se.Line, se.Column)
	if p == nil {
		// An error placed inside a scalar (a $ref's value): the key on
		// that line.
		for pos, q := range x.at {
			if pos.line == se.Line && (p == nil || len(q) > len(p)) {
				p = q
			}
		}
	}
	se.Operation = opsString(x.opsOf(p))
	return se
}

// readInterfaces fills ops, newError and security from ogen's files.
func (out *ogenOutput) readInterfaces() error {
	server, ok := out.files["oas_server_gen.go"]
	if !ok {
		return errors.New("ogen produced no oas_server_gen.go")
	}
	all, err := interfaceMethods("oas_server_gen.go", server, func(n string) bool { return strings.HasSuffix(n, "Handler") })
	if err != nil {
		return fmt.Errorf("reading ogen's Handler interface: %w", err)
	}
	var ops []Operation
	for _, op := range all {
		if op.Name == "NewError" {
			out.newError = true
			continue
		}
		ops = append(ops, op)
	}
	if sec, ok := out.files["oas_security_gen.go"]; ok {
		out.security, err = interfaceMethods("oas_security_gen.go", sec, func(n string) bool { return n == "SecurityHandler" })
		if err != nil {
			return fmt.Errorf("reading ogen's SecurityHandler interface: %w", err)
		}
	}
	if router, ok := out.files["oas_router_gen.go"]; ok {
		ids, err := routerOperationIDs(router)
		if err != nil {
			return fmt.Errorf("reading ogen's router: %w", err)
		}
		for i := range ops {
			if id, ok := ids[ops[i].Name]; ok {
				ops[i].OperationID = id
			}
		}
	}
	out.ops = ops
	return nil
}

// routerOperationIDs reads the spec's operationId of each operation from
// ogen's router, which sets them side by side for the route it found:
//
//	r.name = FindPetByIDOperation
//	r.operationID = "find pet by id"
//
// These are the values Route.OperationID returns at run time, whatever
// the operationId's spelling (the doc comments only have it in prose).
func routerOperationIDs(src []byte) (map[string]string, error) {
	f, err := parser.ParseFile(token.NewFileSet(), "oas_router_gen.go", src, parser.SkipObjectResolution)
	if err != nil {
		return nil, err
	}
	ids := map[string]string{}
	field := func(st ast.Stmt, name string) ast.Expr {
		as, ok := st.(*ast.AssignStmt)
		if !ok || len(as.Lhs) != 1 || len(as.Rhs) != 1 {
			return nil
		}
		if sel, ok := as.Lhs[0].(*ast.SelectorExpr); ok && sel.Sel.Name == name {
			return as.Rhs[0]
		}
		return nil
	}
	ast.Inspect(f, func(n ast.Node) bool {
		cc, ok := n.(*ast.CaseClause)
		if !ok {
			return true
		}
		var name string
		for _, st := range cc.Body {
			if e, ok := field(st, "name").(*ast.Ident); ok {
				name = strings.TrimSuffix(e.Name, "Operation")
			}
			if lit, ok := field(st, "operationID").(*ast.BasicLit); ok && name != "" {
				if id, err := strconv.Unquote(lit.Value); err == nil {
					ids[name] = id
				}
			}
		}
		return true
	})
	return ids, nil
}

// specError turns ogen's error into a SpecError with file:line:col.
func specError(file string, spec []byte, err error) *SpecError {
	se := &SpecError{Err: err, File: file}
	var le *location.Error
	if errors.As(err, &le) {
		pos := le.Pos
		se.Line, se.Column = pos.Line, pos.Column
		var b bytes.Buffer
		if location.PrintPrettyError(&b, false, err) {
			se.Listing = b.String()
		}
	}
	var ni *gen.ErrNotImplemented
	var ct *gen.ErrUnsupportedContentTypes
	switch {
	case errors.As(err, &ni):
		se.Unsupported = ni.Name
	case errors.As(err, &ct):
		se.Unsupported = "unsupported content types"
	}
	if se.Line == 0 {
		// YAML syntax errors carry "line N" in their text only.
		if l, c := lineFromText(err.Error()); l > 0 {
			se.Line, se.Column = l, c
		}
	}
	return se
}

// lineFromText finds "line N" or "N:M" in a YAML/JSON error message.
func lineFromText(msg string) (line, col int) {
	var l, c int
	for i := 0; i < len(msg); i++ {
		if n, _ := fmt.Sscanf(msg[i:], "line %d:%d", &l, &c); n >= 1 {
			return l, max(c, 1)
		}
		if n, _ := fmt.Sscanf(msg[i:], "line %d", &l); n == 1 {
			return l, 1
		}
	}
	return 0, 0
}

var (
	implementsRe = regexp.MustCompile(`^\S+ implements (\S+) operation\.$`)
	routeRe      = regexp.MustCompile(`^(GET|PUT|POST|DELETE|OPTIONS|HEAD|PATCH|TRACE) (/\S*)$`)
)

// parseOpDoc reads what ogen's doc comment of a Handler method says of its
// operation: "X implements getItem operation." (or "implements GET /path
// operation." without an operationId), the summary, and "GET /items/{id}"
// on the last line. Reading it from ogen's output, not from its internals,
// serves a fresh render and a reused one alike.
func parseOpDoc(name, doc string) (id, method, route, summary string) {
	paras := strings.Split(strings.TrimSpace(doc), "\n\n")
	if m := implementsRe.FindStringSubmatch(strings.TrimSpace(paras[0])); m != nil {
		id = m[1]
	}
	last := strings.TrimSpace(paras[len(paras)-1])
	if m := routeRe.FindStringSubmatch(last); m != nil {
		method, route = m[1], m[2]
		paras = paras[:len(paras)-1]
	}
	if len(paras) > 1 {
		summary = strings.Join(strings.Fields(paras[1]), " ")
	}
	return id, method, route, summary
}

// interfaceMethods reads the methods of the interfaces named by match in
// one of ogen's files (the Handler and its per-group interfaces in
// oas_server_gen.go, the SecurityHandler in oas_security_gen.go), with
// their parameter and result lists as Go source qualified by the api
// package.
func interfaceMethods(file string, src []byte, match func(name string) bool) ([]Operation, error) {
	fset := token.NewFileSet()
	f, err := parser.ParseFile(fset, file, src, parser.ParseComments)
	if err != nil {
		return nil, err
	}
	var ops []Operation
	for _, d := range f.Decls {
		g, ok := d.(*ast.GenDecl)
		if !ok {
			continue
		}
		for _, s := range g.Specs {
			ts, ok := s.(*ast.TypeSpec)
			if !ok || !match(ts.Name.Name) {
				continue
			}
			it, ok := ts.Type.(*ast.InterfaceType)
			if !ok {
				continue
			}
			for _, m := range it.Methods.List {
				ft, ok := m.Type.(*ast.FuncType)
				if !ok || len(m.Names) == 0 {
					continue // embedded interface: its own methods are listed where it is declared
				}
				qualify(ft)
				op := Operation{
					Name:    m.Names[0].Name,
					File:    snakeCase(m.Names[0].Name),
					Params:  fieldList(fset, ft.Params, true),
					Results: results(fset, ft.Results),
				}
				if m.Doc != nil {
					op.OperationID, op.Method, op.Path, op.Summary = parseOpDoc(op.Name, m.Doc.Text())
				}
				ops = append(ops, op)
			}
		}
	}
	return ops, nil
}

// qualify rewrites the unqualified exported identifiers of a signature
// (the api package's own types) as api.X.
func qualify(ft *ast.FuncType) {
	ast.Inspect(ft, func(n ast.Node) bool {
		switch x := n.(type) {
		case *ast.SelectorExpr:
			return false
		case *ast.Field:
			x.Type = qualifyExpr(x.Type)
		}
		return true
	})
}

func qualifyExpr(e ast.Expr) ast.Expr {
	switch x := e.(type) {
	case *ast.Ident:
		if ast.IsExported(x.Name) {
			return &ast.SelectorExpr{X: ast.NewIdent("api"), Sel: ast.NewIdent(x.Name)}
		}
	case *ast.StarExpr:
		x.X = qualifyExpr(x.X)
	case *ast.ArrayType:
		x.Elt = qualifyExpr(x.Elt)
	case *ast.MapType:
		x.Key = qualifyExpr(x.Key)
		x.Value = qualifyExpr(x.Value)
	}
	return e
}

func fieldList(fset *token.FileSet, fl *ast.FieldList, named bool) string {
	if fl == nil {
		return ""
	}
	var parts []string
	for i, f := range fl.List {
		var b bytes.Buffer
		_ = printer.Fprint(&b, fset, f.Type)
		typ := b.String()
		if !named {
			parts = append(parts, typ)
			continue
		}
		names := make([]string, 0, len(f.Names))
		for _, n := range f.Names {
			names = append(names, n.Name)
		}
		if len(names) == 0 {
			names = []string{fmt.Sprintf("p%d", i)}
		}
		parts = append(parts, strings.Join(names, ", ")+" "+typ)
	}
	return strings.Join(parts, ", ")
}

func results(fset *token.FileSet, fl *ast.FieldList) string {
	if fl == nil || len(fl.List) == 0 {
		return ""
	}
	s := fieldList(fset, fl, false)
	if len(fl.List) == 1 && len(fl.List[0].Names) == 0 {
		return s
	}
	return "(" + s + ")"
}

// snakeCase turns "GetItemByID" into "get_item_by_id".
func snakeCase(s string) string {
	rs := []rune(s)
	var b strings.Builder
	for i, r := range rs {
		if unicode.IsUpper(r) {
			prevLower := i > 0 && (unicode.IsLower(rs[i-1]) || unicode.IsDigit(rs[i-1]))
			nextLower := i > 0 && i+1 < len(rs) && unicode.IsUpper(rs[i-1]) && unicode.IsLower(rs[i+1])
			if prevLower || nextLower {
				b.WriteByte('_')
			}
			b.WriteRune(unicode.ToLower(r))
			continue
		}
		b.WriteRune(r)
	}
	return b.String()
}
