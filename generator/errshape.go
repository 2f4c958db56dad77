package generator

import (
	"bytes"
	"fmt"
	"go/ast"
	"go/parser"
	"go/printer"
	"go/token"
	"reflect"
	"sort"
	"strconv"
	"strings"
	"unicode"

	"gopkg.in/yaml.v3"
)

// ErrorShape is how the service answers an error, read from ogen's output
// and the spec, never assumed: the Go type of the spec's error body and how
// to fill it from a status and a message. The generated
// internal/handler/errors.go is rendered from it.
type ErrorShape struct {
	// StatusType is the type ogen's Handler.NewError returns, without the
	// star ("api.ErrorStatusCode"); "" when ogen generated no NewError (the
	// spec has no default error response shared by every operation).
	StatusType string
	// StatusExtra are the StatusType fields beside StatusCode and Response
	// (response headers); they are left zero.
	StatusExtra []string
	// Type is the Go type of the error body ("api.Error"); "" when the spec
	// names no error schema svcgen can fill: the service then answers
	// svcgen's own {"code":N,"message":"..."}.
	Type string
	// Literal is a Go expression of Type built from the variables status
	// (int) and msg (string).
	Literal string
	// Encodes is true when Type has ogen's Encode(*jx.Encoder) method, so
	// the platform's own errors (404, 405, 413, 431, bad requests) can be
	// written in the same shape.
	Encodes bool
	// ContentType is the media type of the spec's error response.
	ContentType string
	// Filled describes, for the comments, which fields carry what, e.g.
	// `code: the status, message: the message`; empty when nothing is set.
	Filled string
	// Source says where the shape comes from, for the comments: "the
	// shared default response", "#/components/schemas/Problem (3 error
	// responses)", or "svcgen's default (the spec has no error schema)".
	Source string
}

// goDecls indexes the top-level declarations of ogen's package.
type goDecls struct {
	fset  *token.FileSet
	types map[string]ast.Expr        // type name -> its type expression
	funcs map[string]bool            // top-level function names
	meths map[string]map[string]bool // receiver type -> method names
}

func indexDecls(files map[string][]byte) (*goDecls, error) {
	d := &goDecls{fset: token.NewFileSet(), types: map[string]ast.Expr{}, funcs: map[string]bool{}, meths: map[string]map[string]bool{}}
	names := sortedKeys(files)
	for _, name := range names {
		if !strings.HasSuffix(name, ".go") {
			continue
		}
		f, err := parser.ParseFile(d.fset, name, files[name], parser.SkipObjectResolution)
		if err != nil {
			return nil, fmt.Errorf("reading ogen's %s: %w", name, err)
		}
		for _, decl := range f.Decls {
			switch x := decl.(type) {
			case *ast.GenDecl:
				for _, s := range x.Specs {
					if ts, ok := s.(*ast.TypeSpec); ok {
						d.types[ts.Name.Name] = ts.Type
					}
				}
			case *ast.FuncDecl:
				if x.Recv == nil {
					d.funcs[x.Name.Name] = true
					continue
				}
				recv := x.Recv.List[0].Type
				if st, ok := recv.(*ast.StarExpr); ok {
					recv = st.X
				}
				if id, ok := recv.(*ast.Ident); ok {
					if d.meths[id.Name] == nil {
						d.meths[id.Name] = map[string]bool{}
					}
					d.meths[id.Name][x.Name.Name] = true
				}
			}
		}
	}
	return d, nil
}

func (d *goDecls) src(e ast.Expr) string {
	var b bytes.Buffer
	_ = printer.Fprint(&b, d.fset, e)
	return b.String()
}

// errorShape derives the service's error answer from ogen's output and
// the spec.
func errorShape(og *ogenOutput, spec []byte) (ErrorShape, error) {
	decls, err := indexDecls(og.files)
	if err != nil {
		return ErrorShape{}, err
	}
	sh := ErrorShape{ContentType: "application/json"}
	var body string // the body type's name in package api
	if statusType := newErrorType(decls); statusType != "" {
		sh.StatusType = "api." + statusType
		sh.Source = "the default response every operation shares"
		if st, ok := decls.types[statusType].(*ast.StructType); ok {
			for _, f := range st.Fields.List {
				for _, n := range f.Names {
					switch n.Name {
					case "StatusCode":
					case "Response":
						if id, ok := f.Type.(*ast.Ident); ok {
							body = id.Name
						}
					default:
						sh.StatusExtra = append(sh.StatusExtra, n.Name)
					}
				}
			}
		}
		if ct := defaultContentType(spec); ct != "" {
			sh.ContentType = ct
		}
	} else if name, ct, n := commonErrorSchema(spec); name != "" {
		if t := ogenTypeName(decls, name); t != "" {
			body = t
			sh.Source = fmt.Sprintf("#/components/schemas/%s, the schema of %d error response(s) of the spec", name, n)
			sh.ContentType = ct
		}
	}
	if body == "" {
		sh.Source = "svcgen's default {\"code\",\"message\"} (the spec names no error schema)"
		if sh.StatusType != "" {
			return sh, fmt.Errorf("ogen's %s has no Response field", sh.StatusType)
		}
		return sh, nil
	}
	sh.Type = "api." + body
	sh.Literal, sh.Filled = literalFor(decls, body)
	sh.Encodes = decls.meths[body]["Encode"]
	if sh.Source == "" {
		sh.Source = "#/components/schemas/" + body
	}
	return sh, nil
}

// newErrorType is the type ogen's Handler.NewError returns (without the
// star), "" when the Handler has no NewError.
func newErrorType(d *goDecls) string {
	it, ok := d.types["Handler"].(*ast.InterfaceType)
	if !ok {
		return ""
	}
	for _, m := range it.Methods.List {
		ft, ok := m.Type.(*ast.FuncType)
		if !ok || len(m.Names) == 0 || m.Names[0].Name != "NewError" || ft.Results == nil || len(ft.Results.List) != 1 {
			continue
		}
		if st, ok := ft.Results.List[0].Type.(*ast.StarExpr); ok {
			if id, ok := st.X.(*ast.Ident); ok {
				return id.Name
			}
		}
	}
	return ""
}

// ogenTypeName finds the Go type ogen declared for a component schema.
func ogenTypeName(d *goDecls, schema string) string {
	var b strings.Builder
	up := true
	for _, r := range schema {
		if !unicode.IsLetter(r) && !unicode.IsDigit(r) {
			up = true
			continue
		}
		if up {
			r = unicode.ToUpper(r)
			up = false
		}
		b.WriteRune(r)
	}
	for _, cand := range []string{b.String(), schema} {
		if _, ok := d.types[cand]; ok {
			return cand
		}
	}
	return ""
}

// fieldRole says what an error body field carries, by its JSON name.
func fieldRole(json string) string {
	k := strings.ToLower(strings.NewReplacer("_", "", "-", "").Replace(json))
	switch k {
	case "code", "status", "statuscode", "errorcode", "httpstatus", "httpcode":
		return "status"
	case "message", "msg", "detail", "details", "description", "error", "errormessage", "faultmessage", "reason", "errordescription":
		return "message"
	case "title":
		return "title"
	}
	return ""
}

// literalFor builds a Go expression of api.<name> from status and msg.
func literalFor(d *goDecls, name string) (lit, filled string) {
	zero := "*new(api." + name + ")"
	switch t := d.types[name].(type) {
	case *ast.Ident:
		switch t.Name {
		case "string":
			return "api." + name + "(msg)", "the body: the message"
		}
	case *ast.SelectorExpr:
		if d.src(t) == "jx.Raw" {
			return "api." + name + "(jx.Raw(apierr.Body(status, msg)))", `the body: {"code","message"}`
		}
	case *ast.MapType:
		if d.src(t) == "map[string]jx.Raw" {
			return "api." + name + `{"code": jx.Raw(strconv.Itoa(status)), "message": jx.Raw(strconv.Quote(msg))}`, "code: the status, message: the message"
		}
	case *ast.StructType:
		var parts, desc []string
		done := map[string]bool{}
		for _, f := range t.Fields.List {
			if len(f.Names) != 1 || f.Tag == nil {
				continue
			}
			tag, err := strconv.Unquote(f.Tag.Value)
			if err != nil {
				continue
			}
			json, _, _ := strings.Cut(reflect.StructTag(tag).Get("json"), ",")
			role := fieldRole(json)
			if role == "" || done[role] {
				continue
			}
			var src string
			switch role {
			case "status":
				src = "status"
			case "message":
				src = "msg"
			case "title":
				src = "http.StatusText(status)"
			}
			expr, ok := fill(d, f.Type, role, src)
			if !ok {
				continue
			}
			done[role] = true
			parts = append(parts, f.Names[0].Name+": "+expr)
			what := map[string]string{"status": "the status", "message": "the message", "title": "the status text"}[role]
			desc = append(desc, json+": "+what)
		}
		return "api." + name + "{" + strings.Join(parts, ", ") + "}", strings.Join(desc, ", ")
	}
	return zero, ""
}

// basics are the Go types a status or a message converts to, by ogen's
// name for them in Opt/Nil wrappers.
var basics = map[string]string{
	"String": "string", "Int": "int", "Int8": "int8", "Int16": "int16", "Int32": "int32", "Int64": "int64",
	"Uint": "uint", "Uint8": "uint8", "Uint16": "uint16", "Uint32": "uint32", "Uint64": "uint64",
	"Float32": "float32", "Float64": "float64",
}

// fill converts src (the status, an int, or a string) to a field of type
// t; ok is false when the field's type takes neither.
func fill(d *goDecls, t ast.Expr, role, src string) (string, bool) {
	id, ok := t.(*ast.Ident)
	if !ok {
		return "", false
	}
	wantString := role != "status"
	conv := func(goType string) (string, bool) {
		isString := goType == "string"
		if isString != wantString {
			return "", false
		}
		if isString || goType == "int" {
			return src, true
		}
		return goType + "(" + src + ")", true
	}
	if _, declared := d.types[id.Name]; !declared {
		return conv(id.Name) // a predeclared type
	}
	for _, prefix := range []string{"OptNil", "Opt", "Nil"} {
		base, found := strings.CutPrefix(id.Name, prefix)
		if !found {
			continue
		}
		goType, ok := basics[base]
		if !ok || !d.funcs["New"+id.Name] {
			return "", false
		}
		v, ok := conv(goType)
		if !ok {
			return "", false
		}
		return "api.New" + id.Name + "(" + v + ")", true
	}
	return "", false
}

// errorResponses walks the spec's operations and calls f for each error
// response (default, 4XX, 5XX and 4xx/5xx codes) with its key and node,
// $refs to #/components/responses resolved.
func errorResponses(spec []byte, f func(op, code string, resp *yaml.Node)) {
	var doc yaml.Node
	if yaml.Unmarshal(spec, &doc) != nil || len(doc.Content) == 0 {
		return
	}
	root := doc.Content[0]
	responses := mapValue(mapValue(root, "components"), "responses")
	paths := mapValue(root, "paths")
	if paths == nil {
		return
	}
	for i := 0; i+1 < len(paths.Content); i += 2 {
		item := paths.Content[i+1]
		for _, m := range httpMethods {
			op := mapValue(item, m)
			if op == nil {
				continue
			}
			rs := mapValue(op, "responses")
			if rs == nil {
				continue
			}
			for j := 0; j+1 < len(rs.Content); j += 2 {
				code := rs.Content[j].Value
				if code != "default" && !strings.HasPrefix(code, "4") && !strings.HasPrefix(code, "5") {
					continue
				}
				r := rs.Content[j+1]
				if ref := mapValue(r, "$ref"); ref != nil {
					r = mapValue(responses, strings.TrimPrefix(ref.Value, "#/components/responses/"))
				}
				if r != nil {
					f(strings.ToUpper(m)+" "+paths.Content[i].Value, code, r)
				}
			}
		}
	}
}

// jsonMedia returns the first JSON media type of a response and its
// component schema name ("" when the schema is inline).
func jsonMedia(r *yaml.Node) (ct, schema string) {
	content := mapValue(r, "content")
	if content == nil {
		return "", ""
	}
	for i := 0; i+1 < len(content.Content); i += 2 {
		mt := content.Content[i].Value
		base, _, _ := strings.Cut(mt, ";")
		if base != "application/json" && !strings.HasSuffix(base, "+json") {
			continue
		}
		if ref := mapValue(mapValue(content.Content[i+1], "schema"), "$ref"); ref != nil {
			name, ok := strings.CutPrefix(ref.Value, "#/components/schemas/")
			if ok {
				return mt, name
			}
		}
		return mt, ""
	}
	return "", ""
}

// defaultContentType is the media type of the spec's default responses.
func defaultContentType(spec []byte) string {
	var ct string
	errorResponses(spec, func(_, code string, r *yaml.Node) {
		if code == "default" && ct == "" {
			ct, _ = jsonMedia(r)
		}
	})
	return ct
}

// commonErrorSchema finds the component schema most of the spec's error
// responses use (default responses first on a tie), with its media type
// and how many responses use it.
func commonErrorSchema(spec []byte) (name, ct string, n int) {
	type count struct {
		ct       string
		n        int
		defaults int
	}
	counts := map[string]*count{}
	errorResponses(spec, func(_, code string, r *yaml.Node) {
		mt, s := jsonMedia(r)
		if s == "" {
			return
		}
		c := counts[s]
		if c == nil {
			c = &count{ct: mt}
			counts[s] = c
		}
		c.n++
		if code == "default" {
			c.defaults++
		}
	})
	names := make([]string, 0, len(counts))
	for k := range counts {
		names = append(names, k)
	}
	sort.Slice(names, func(i, j int) bool {
		a, b := counts[names[i]], counts[names[j]]
		if a.n != b.n {
			return a.n > b.n
		}
		if a.defaults != b.defaults {
			return a.defaults > b.defaults
		}
		return names[i] < names[j]
	})
	if len(names) == 0 {
		return "", "", 0
	}
	c := counts[names[0]]
	return names[0], c.ct, c.n
}
