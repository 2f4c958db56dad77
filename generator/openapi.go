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
// OpenTelemetry feature comes in only with svcgen's otel feature.
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
}

func (e *SpecError) Error() string {
	var b strings.Builder
	b.WriteString(e.File)
	if e.Line > 0 {
		fmt.Fprintf(&b, ":%d:%d", e.Line, e.Column)
	}
	b.WriteString(": ")
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
// ogen options svcgen sets and ogen's version.
func apiKey(spec []byte, otel bool, skip []string) string {
	h := sha256.New()
	h.Write(spec)
	fmt.Fprintf(h, "\x00otel=%t\x00skip=%q\x00ogen=%s", otel, skip, ogenVersion())
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
	skipped  []string
	// security are the SecurityHandler's methods, when the spec has
	// security schemes.
	security []Operation
	// skippedAt locates what ogen skipped, in skip order.
	skippedAt []position
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
func runOgen(specFile string, spec []byte, otel bool, skip []string) (*ogenOutput, error) {
	out := &ogenOutput{}
	parsed, err := ogen.Parse(spec)
	if err != nil {
		return nil, specError(specFile, spec, err)
	}
	opts := gen.Options{}
	opts.Parser.File = location.NewFile(path.Base(specFile), specFile, spec)
	opts.Generator.Features = ogenFeatures(otel)
	opts.Generator.IgnoreNotImplemented = skip
	opts.Generator.NotImplementedHook = func(name string, err error) {
		if slices.Contains(skip, name) || slices.Contains(skip, "all") {
			out.skipped = append(out.skipped, innermost(err))
		}
	}
	core, logs := observer.New(zap.InfoLevel)
	opts.Logger = zap.New(core)
	g, err := gen.NewGenerator(parsed, opts)
	if err != nil {
		se := specError(specFile, spec, err)
		if se.Unsupported != "" && se.Line == 0 && !slices.Contains(skip, se.Unsupported) {
			// ogen's not-implemented errors carry no position, but it logs
			// one when it skips: find it by skipping once.
			if out, _ := runOgen(specFile, spec, otel, append(slices.Clone(skip), se.Unsupported)); out != nil && len(out.skippedAt) > 0 {
				se.Line, se.Column = out.skippedAt[0].line, out.skippedAt[0].col
			}
		}
		return nil, se
	}
	for _, e := range logs.All() {
		for _, f := range e.Context {
			if f.Key != "at" {
				continue
			}
			var l, c int
			if i := strings.LastIndex(f.String, ":"); i > 0 {
				if j := strings.LastIndex(f.String[:i], ":"); j >= 0 {
					l, _ = strconv.Atoi(f.String[j+1 : i])
					c, _ = strconv.Atoi(f.String[i+1:])
				}
			}
			out.skippedAt = append(out.skippedAt, position{line: l, col: c})
		}
	}
	for i, at := range out.skippedAt {
		if i < len(out.skipped) && at.line > 0 {
			out.skipped[i] = fmt.Sprintf("%s:%d:%d: skipped: %s", specFile, at.line, at.col, out.skipped[i])
		}
	}
	fs := &memFS{files: map[string][]byte{}}
	if err := g.WriteSource(fs, "api"); err != nil {
		return nil, fmt.Errorf("ogen could not write the server for %s: %w", specFile, err)
	}
	out.files = fs.files
	if err := out.readInterfaces(); err != nil {
		return nil, err
	}
	return out, nil
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
	out.ops = ops
	return nil
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
