package generator

import (
	"encoding/json"
	"fmt"
	"math"
	"math/big"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/ogen-go/ogen"
	"github.com/ogen-go/ogen/jsonschema"
	"github.com/ogen-go/ogen/ogenregex"
	"github.com/ogen-go/ogen/openapi"
	"github.com/ogen-go/ogen/openapi/parser"
)

// Probe is a request svcgen synthesized from the spec for one operation:
// valid for the operation's schema, plus requests that violate it. The
// generated API tests (internal/app/api_test.go) send them through the real
// handler chain, and the load scenario of a user spec sends the safe ones.
type Probe struct {
	// Key names the operation: its operationId, or ogen's Go name when the
	// spec has none.
	Key string
	// Name is ogen's Go method name of the operation.
	Name string
	// Method is the HTTP method, upper case.
	Method string
	// Target is the request target: the path with every path parameter
	// filled in and the required query parameters, escaped.
	Target string
	// ContentType is the Content-Type of Body ("" without a body).
	ContentType string
	// Body is the request body ("" for none): for JSON, the required
	// properties only, each with a value valid for its schema.
	Body string
	// Unsure is the reason the request may not be valid for the schema
	// (a pattern no known value matches, a body svcgen cannot build): such
	// a probe only checks routing. "" when the request is valid.
	Unsure string
	// Header are the required header (and cookie) parameters.
	Header []ProbeHeader
	// Invalid are requests that violate the schema, each with the status
	// the service must answer.
	Invalid []ProbeCase
	// Secured is true when every security requirement of the operation
	// needs credentials: without them it answers 401.
	Secured bool
	// Safe is true for a GET without a body that a load scenario may send
	// over and over.
	Safe bool
}

// ProbeHeader is one request header.
type ProbeHeader struct {
	Name  string
	Value string
}

// ProbeCase is a request that violates the operation's schema.
type ProbeCase struct {
	// Name says what is wrong, e.g. "path id not a number".
	Name string
	// Target, ContentType and Body are the request's, as in Probe.
	Target      string
	ContentType string
	Body        string
	// Header are the request's headers.
	Header []ProbeHeader
	// Status is the status the service answers: 400, or 415 for a
	// Content-Type the operation does not accept.
	Status int
}

// probeDepth bounds how deep a synthesized body nests.
const probeDepth = 12

// Probes synthesizes one probe per operation of ops from spec. An
// operation the parser cannot find (it should not happen: ogen parsed the
// same spec) gets a routing-only probe.
func Probes(spec []byte, ops []Operation) []Probe {
	byRoute := map[string]*openapi.Operation{}
	if s, err := ogen.Parse(spec); err == nil {
		if api, err := parser.Parse(s, parser.Settings{InferTypes: true}); err == nil {
			for _, op := range api.Operations {
				byRoute[strings.ToUpper(op.HTTPMethod)+" "+op.Path.String()] = op
			}
		}
	}
	out := make([]Probe, 0, len(ops))
	for _, o := range ops {
		p := Probe{Key: o.OperationID, Name: o.Name, Method: o.Method}
		if p.Key == "" {
			p.Key = o.Name
		}
		if op := byRoute[o.Method+" "+o.Path]; op != nil {
			buildProbe(&p, op)
		} else {
			p.Target = fillPath(o.Path)
			p.Unsure = "operation not found in the parsed spec"
		}
		p.Safe = p.Method == "GET" && p.Body == "" && p.Unsure == ""
		out = append(out, p)
	}
	return out
}

// fillPath puts "1" in every {param} of a path template.
func fillPath(tmpl string) string {
	var b strings.Builder
	for {
		i := strings.IndexByte(tmpl, '{')
		j := strings.IndexByte(tmpl, '}')
		if i < 0 || j < i {
			b.WriteString(tmpl)
			return b.String()
		}
		b.WriteString(tmpl[:i])
		b.WriteString("1")
		tmpl = tmpl[j+1:]
	}
}

// reqParts are the pieces of a request being built.
type reqParts struct {
	path   []string // one per path part: literal or escaped value
	query  []string // name=value, escaped
	header []ProbeHeader
	cookie []string
}

func (r *reqParts) target() string {
	t := strings.Join(r.path, "")
	if len(r.query) > 0 {
		t += "?" + strings.Join(r.query, "&")
	}
	return t
}

func (r *reqParts) headers() []ProbeHeader {
	h := slices.Clone(r.header)
	if len(r.cookie) > 0 {
		h = append(h, ProbeHeader{Name: "Cookie", Value: strings.Join(r.cookie, "; ")})
	}
	return h
}

func (r *reqParts) clone() *reqParts {
	return &reqParts{path: slices.Clone(r.path), query: slices.Clone(r.query), header: slices.Clone(r.header), cookie: slices.Clone(r.cookie)}
}

// buildProbe fills p from the parsed operation.
func buildProbe(p *Probe, op *openapi.Operation) {
	g := &synth{}
	p.Secured = len(op.Security) > 0
	for _, req := range op.Security {
		if len(req.Schemes) == 0 {
			p.Secured = false // an empty requirement: credentials are optional
		}
	}

	r := &reqParts{}
	pathIdx := map[*openapi.Parameter]int{}
	for _, part := range op.Path {
		if !part.IsParam() {
			r.path = append(r.path, part.Raw)
			continue
		}
		pathIdx[part.Param] = len(r.path)
		r.path = append(r.path, "")
	}
	var bads []badCase
	for _, prm := range op.Parameters {
		v, ok := g.param(prm)
		if !ok {
			if prm.Required || prm.In.Path() {
				p.Unsure = g.unsureOr("parameter " + prm.Name + " has no value svcgen can build")
			}
			continue
		}
		switch {
		case prm.In.Path():
			i, ok := pathIdx[prm]
			if !ok {
				for q, j := range pathIdx {
					if q.Name == prm.Name {
						i, ok = j, true
					}
				}
			}
			if ok {
				r.path[i] = url.PathEscape(v)
				if w, what := invalidValue(prm.Schema); w != "" && !hasPrefix(bads, "path") {
					bads = append(bads, badCase{name: "path " + prm.Name + " " + what, mut: func(c *reqParts) { c.path[i] = url.PathEscape(w) }})
				}
			}
		case prm.In.Query():
			if !prm.Required {
				if w, what := invalidValue(prm.Schema); w != "" && !hasPrefix(bads, "query") && isPrimitive(prm.Schema) {
					kv := url.QueryEscape(prm.Name) + "=" + url.QueryEscape(w)
					bads = append(bads, badCase{name: "query " + prm.Name + " " + what, mut: func(c *reqParts) { c.query = append(c.query, kv) }})
				}
				continue
			}
			kvs := g.queryPairs(prm, v)
			if kvs == nil {
				p.Unsure = g.unsureOr("query parameter " + prm.Name + " is an object svcgen cannot encode")
				continue
			}
			at := len(r.query)
			r.query = append(r.query, kvs...)
			n := len(kvs)
			bads = append(bads, badCase{name: "query " + prm.Name + " missing", mut: func(c *reqParts) { c.query = slices.Delete(c.query, at, at+n) }})
			if w, what := invalidValue(prm.Schema); w != "" && isPrimitive(prm.Schema) {
				kv := url.QueryEscape(prm.Name) + "=" + url.QueryEscape(w)
				bads = append(bads, badCase{name: "query " + prm.Name + " " + what, mut: func(c *reqParts) { c.query[at] = kv }})
			}
		case prm.In.Header():
			if !prm.Required {
				continue
			}
			at := len(r.header)
			r.header = append(r.header, ProbeHeader{Name: prm.Name, Value: v})
			bads = append(bads, badCase{name: "header " + prm.Name + " missing", mut: func(c *reqParts) { c.header = slices.Delete(c.header, at, at+1) }})
		case prm.In.Cookie():
			if prm.Required {
				r.cookie = append(r.cookie, prm.Name+"="+url.QueryEscape(v))
			}
		}
	}
	p.Target = r.target()
	p.Header = r.headers()

	// The body: JSON when the operation takes it; a required body of
	// another media type is sent as a routing-only probe.
	var schema *jsonschema.Schema
	jsonCT, bodyRequired := "", false
	if rb := op.RequestBody; rb != nil && len(rb.Content) > 0 {
		bodyRequired = rb.Required
		for _, ct := range sortedKeys(rb.Content) {
			if isJSONMedia(ct) {
				jsonCT, schema = ct, rb.Content[ct].Schema
				break
			}
		}
		switch {
		case jsonCT != "":
			body, ok := g.value(schema, 0)
			if !ok {
				if bodyRequired {
					p.Unsure = g.unsureOr("svcgen cannot build a valid body")
				}
			} else if bodyRequired {
				b, _ := json.Marshal(body)
				p.Body, p.ContentType = string(b), jsonCT
			}
		case bodyRequired:
			p.Unsure = g.unsureOr("the body is not JSON (" + strings.Join(sortedKeys(rb.Content), ", ") + ")")
		}
	}
	if g.unsure != "" && p.Unsure == "" {
		p.Unsure = g.unsure
	}
	if p.Unsure != "" {
		return
	}

	// Invalid variants of the valid request: ogen checks parameters before
	// the body, so each case breaks one thing only.
	for _, b := range bads {
		c := r.clone()
		b.mut(c)
		p.Invalid = append(p.Invalid, ProbeCase{Name: b.name, Target: c.target(), Header: c.headers(), ContentType: p.ContentType, Body: p.Body, Status: 400})
	}
	if jsonCT == "" {
		return
	}
	base := ProbeCase{Target: p.Target, Header: p.Header, ContentType: jsonCT, Status: 400}
	add := func(name, ct, body string, status int) {
		c := base
		c.Name, c.ContentType, c.Body, c.Status = name, ct, body, status
		p.Invalid = append(p.Invalid, c)
	}
	add("body malformed JSON", jsonCT, "{", 400)
	if w := wrongType(schema); w != "" {
		add("body wrong JSON type", jsonCT, w, 400)
	}
	if s := objectSchema(schema); s != nil && len(s.Required) > 0 && p.Body != "" {
		add("body missing required "+s.Required[0], jsonCT, withoutProperty(p.Body, s.Required[0]), 400)
	}
	if bodyRequired {
		add("body missing", jsonCT, "", 400)
	}
	if !slices.ContainsFunc(sortedKeys(op.RequestBody.Content), func(ct string) bool { return strings.Contains(ct, "*") }) {
		body := p.Body
		if body == "" {
			body = "{}"
		}
		add("body wrong Content-Type", "application/x-svcgen-unsupported", body, 415)
	}
}

// badCase is a change to a valid request that breaks its schema.
type badCase struct {
	mut  func(*reqParts)
	name string
}

func hasPrefix(bads []badCase, prefix string) bool {
	return slices.ContainsFunc(bads, func(b badCase) bool { return strings.HasPrefix(b.name, prefix) })
}

// isJSONMedia reports whether a media type is JSON ("application/json",
// "application/problem+json", "application/vnd.x+json").
func isJSONMedia(ct string) bool {
	return ct == "application/json" || strings.HasSuffix(ct, "+json")
}

// isPrimitive reports whether a parameter schema is a single value.
func isPrimitive(s *jsonschema.Schema) bool {
	if s == nil {
		return false
	}
	switch s.Type {
	case jsonschema.String, jsonschema.Integer, jsonschema.Number, jsonschema.Boolean:
		return true
	}
	return false
}

// invalidValue is a parameter value its schema refuses, and what is wrong
// with it; "" when svcgen knows none.
func invalidValue(s *jsonschema.Schema) (string, string) {
	if s == nil {
		return "", ""
	}
	if s.Type == jsonschema.Array && s.Item != nil {
		return invalidValue(s.Item)
	}
	switch {
	case s.Type == jsonschema.Integer || s.Type == jsonschema.Number:
		return "not-a-number", "not a number"
	case s.Type == jsonschema.Boolean:
		return "not-a-bool", "not a boolean"
	case s.Type != jsonschema.String:
		return "", ""
	case len(s.Enum) > 0 && !slices.Contains(s.Enum, any("not-in-enum")):
		return "not-in-enum", "not in the enum"
	}
	switch s.Format {
	case "uuid":
		return "not-a-uuid", "not a uuid"
	case "date", "date-time", "time":
		return "not-a-date", "not a " + s.Format
	case "int", "int8", "int16", "int32", "int64", "uint", "uint8", "uint16", "uint32", "uint64":
		return "not-a-number", "not a number"
	}
	return "", ""
}

// objectSchema returns s when it is a plain object schema.
func objectSchema(s *jsonschema.Schema) *jsonschema.Schema {
	if s != nil && (s.Type == jsonschema.Object || (s.Type == "" && len(s.Properties) > 0)) &&
		len(s.OneOf)+len(s.AnyOf)+len(s.AllOf) == 0 {
		return s
	}
	return nil
}

// wrongType is a JSON value of another type than s wants; "" when s
// accepts several types.
func wrongType(s *jsonschema.Schema) string {
	if s == nil || len(s.OneOf)+len(s.AnyOf) > 0 || s.Nullable {
		return ""
	}
	switch s.Type {
	case jsonschema.Object:
		return "[]"
	case jsonschema.Array, jsonschema.String, jsonschema.Integer, jsonschema.Number, jsonschema.Boolean:
		return "{}"
	case "":
		if len(s.Properties) > 0 || len(s.AllOf) > 0 {
			return "[]"
		}
	}
	return ""
}

// withoutProperty drops one property from a JSON object.
func withoutProperty(body, name string) string {
	var m map[string]json.RawMessage
	if err := json.Unmarshal([]byte(body), &m); err != nil {
		return body
	}
	delete(m, name)
	b, _ := json.Marshal(m)
	return string(b)
}

// synth builds values valid for schemas.
type synth struct {
	// unsure is the first reason a built value may not be valid.
	unsure string
}

func (g *synth) unsureOr(reason string) string {
	if g.unsure != "" {
		return g.unsure
	}
	return reason
}

func (g *synth) doubt(reason string) {
	if g.unsure == "" {
		g.unsure = reason
	}
}

// param is a valid text value of a parameter (an array's items joined
// with commas: its simple/form style).
func (g *synth) param(p *openapi.Parameter) (string, bool) {
	s := p.Schema
	if s == nil && p.Content != nil && p.Content.Media != nil {
		v, ok := g.value(p.Content.Media.Schema, 0)
		if !ok {
			return "", false
		}
		b, _ := json.Marshal(v)
		return string(b), true
	}
	if s == nil {
		return "", false
	}
	if s.Type == jsonschema.Array {
		if s.Item == nil {
			return "", false
		}
		v, ok := g.text(s.Item)
		return v, ok
	}
	if s.Type == jsonschema.Object {
		// Filled by queryPairs from the object's properties.
		return "", true
	}
	return g.text(s)
}

// queryPairs are the escaped name=value pairs of a required query
// parameter; nil when svcgen cannot encode it.
func (g *synth) queryPairs(p *openapi.Parameter, v string) []string {
	s := p.Schema
	if s == nil || s.Type != jsonschema.Object {
		return []string{url.QueryEscape(p.Name) + "=" + url.QueryEscape(v)}
	}
	var out []string
	for _, prop := range s.Properties {
		if !prop.Required && !slices.Contains(s.Required, prop.Name) {
			continue
		}
		pv, ok := g.text(prop.Schema)
		if !ok {
			return nil
		}
		switch {
		case p.Style == openapi.QueryStyleDeepObject:
			out = append(out, url.QueryEscape(p.Name+"["+prop.Name+"]")+"="+url.QueryEscape(pv))
		case p.Style == openapi.QueryStyleForm && p.Explode:
			out = append(out, url.QueryEscape(prop.Name)+"="+url.QueryEscape(pv))
		default:
			return nil
		}
	}
	if len(out) == 0 {
		return nil
	}
	return out
}

// text is a valid value of a primitive schema as parameter text.
func (g *synth) text(s *jsonschema.Schema) (string, bool) {
	v, ok := g.value(s, 0)
	if !ok {
		return "", false
	}
	switch x := v.(type) {
	case string:
		return x, true
	case json.Number:
		return x.String(), true
	case bool:
		return strconv.FormatBool(x), true
	case nil:
		return "", false
	}
	return "", false
}

// value is a JSON value valid for s (string, json.Number, bool, nil,
// []any or an ordered object), or false when svcgen cannot build one.
func (g *synth) value(s *jsonschema.Schema, depth int) (any, bool) {
	if s == nil {
		return map[string]any{}, true
	}
	if depth > probeDepth {
		g.doubt("the schema nests deeper than svcgen builds")
		return nil, false
	}
	if s.ConstSet {
		return s.Const, true
	}
	if len(s.Enum) > 0 {
		for _, e := range s.Enum {
			if e != nil {
				return jsonValue(e), true
			}
		}
		return nil, true
	}
	if len(s.AllOf) > 0 {
		return g.allOf(s, depth)
	}
	if len(s.OneOf) > 0 || len(s.AnyOf) > 0 {
		return g.oneOf(s, depth)
	}
	switch s.Type {
	case jsonschema.Object:
		return g.object(s, depth)
	case jsonschema.Array:
		return g.array(s, depth)
	case jsonschema.String:
		return g.str(s)
	case jsonschema.Integer, jsonschema.Number:
		return g.number(s)
	case jsonschema.Boolean:
		return true, true
	case jsonschema.Null:
		return nil, true
	}
	if len(s.Properties) > 0 || len(s.Required) > 0 {
		return g.object(s, depth)
	}
	if s.Item != nil {
		return g.array(s, depth)
	}
	return map[string]any{}, true // any value
}

// jsonValue converts a value of the parsed spec (enum, const) to one
// json.Marshal writes as the spec does.
func jsonValue(v any) any {
	switch x := v.(type) {
	case json.Number, string, bool:
		return x
	case int64:
		return json.Number(strconv.FormatInt(x, 10))
	case float64:
		return json.Number(strconv.FormatFloat(x, 'g', -1, 64))
	}
	return v
}

// object is an object with the required properties of s.
func (g *synth) object(s *jsonschema.Schema, depth int) (any, bool) {
	o := &orderedObject{}
	required := map[string]bool{}
	for _, r := range s.Required {
		required[r] = true
	}
	for _, prop := range s.Properties {
		if !prop.Required && !required[prop.Name] {
			continue
		}
		v, ok := g.value(prop.Schema, depth+1)
		if !ok {
			return nil, false
		}
		o.set(prop.Name, v)
		delete(required, prop.Name)
	}
	// Required names without a property schema: any value does.
	for _, name := range sortedKeys(required) {
		o.set(name, "x")
	}
	if s.MinProperties != nil && uint64(len(o.keys)) < *s.MinProperties {
		for _, prop := range s.Properties {
			if uint64(len(o.keys)) >= *s.MinProperties {
				break
			}
			if o.has(prop.Name) {
				continue
			}
			if v, ok := g.value(prop.Schema, depth+1); ok {
				o.set(prop.Name, v)
			}
		}
		if uint64(len(o.keys)) < *s.MinProperties {
			g.doubt("minProperties is more than the properties svcgen builds")
		}
	}
	return o, true
}

// allOf merges the objects of every sub-schema.
func (g *synth) allOf(s *jsonschema.Schema, depth int) (any, bool) {
	merged := &orderedObject{}
	var last any
	for _, sub := range s.AllOf {
		v, ok := g.value(sub, depth+1)
		if !ok {
			return nil, false
		}
		o, isObj := v.(*orderedObject)
		if !isObj {
			last = v
			continue
		}
		for i, k := range o.keys {
			merged.set(k, o.vals[i])
		}
	}
	if len(s.Properties) > 0 || s.Type == jsonschema.Object {
		v, ok := g.object(s, depth)
		if !ok {
			return nil, false
		}
		o := v.(*orderedObject)
		for i, k := range o.keys {
			merged.set(k, o.vals[i])
		}
	}
	if len(merged.keys) == 0 && last != nil {
		return last, true
	}
	return merged, true
}

// oneOf builds the first alternative, with the discriminator property
// set to the name that selects it.
func (g *synth) oneOf(s *jsonschema.Schema, depth int) (any, bool) {
	alts := s.OneOf
	if len(alts) == 0 {
		alts = s.AnyOf
	}
	d := s.Discriminator
	if d != nil && len(d.Mapping) > 0 {
		name := sortedKeys(d.Mapping)[0]
		v, ok := g.value(d.Mapping[name], depth+1)
		if !ok {
			return nil, false
		}
		if o, isObj := v.(*orderedObject); isObj {
			o.set(d.PropertyName, name)
		}
		return v, true
	}
	alt := alts[0]
	v, ok := g.value(alt, depth+1)
	if !ok {
		return nil, false
	}
	if d != nil {
		name := string(alt.Ref.Ptr)
		name = name[strings.LastIndexByte(name, '/')+1:]
		if o, isObj := v.(*orderedObject); isObj && name != "" {
			o.set(d.PropertyName, name)
		}
	}
	return v, true
}

// array has MinItems items (at least none).
func (g *synth) array(s *jsonschema.Schema, depth int) (any, bool) {
	n := 0
	if s.MinItems != nil {
		n = int(min(*s.MinItems, 16))
	}
	out := make([]any, 0, n)
	for i := range n {
		item := s.Item
		if i < len(s.Items) {
			item = s.Items[i]
		}
		v, ok := g.value(item, depth+1)
		if !ok {
			return nil, false
		}
		if s.UniqueItems && i > 0 {
			g.doubt("uniqueItems with more than one item")
		}
		out = append(out, v)
	}
	return out, true
}

// formatValues are valid values of string formats.
var formatValues = map[string]string{
	"uuid":          "00000000-0000-4000-8000-000000000001",
	"date":          "2024-01-02",
	"date-time":     "2024-01-02T03:04:05Z",
	"time":          "03:04:05",
	"http-date":     "Tue, 02 Jan 2024 03:04:05 GMT",
	"duration":      "1s",
	"email":         "user@example.com",
	"idn-email":     "user@example.com",
	"hostname":      "example.com",
	"idn-hostname":  "example.com",
	"uri":           "https://example.com/",
	"url":           "https://example.com/",
	"iri":           "https://example.com/",
	"uri-reference": "/x",
	"ip":            "127.0.0.1",
	"ipv4":          "127.0.0.1",
	"ipv6":          "::1",
	"mac":           "00:00:5e:00:53:01",
	"byte":          "eA==",
	"base64":        "eA==",
	"binary":        "x",
	"password":      "x",
	"unix":          "1700000000",
	"unix-seconds":  "1700000000",
	"unix-nano":     "1700000000000000000",
	"unix-micro":    "1700000000000000",
	"unix-milli":    "1700000000000",
	"decimal":       "1",
	"float":         "1",
	"float32":       "1",
	"float64":       "1",
	"double":        "1",
}

// str is a string valid for s: its format's value, a default or example
// that matches its pattern, or x's within its length bounds.
func (g *synth) str(s *jsonschema.Schema) (any, bool) {
	var cands []string
	if s.DefaultSet {
		if d, ok := s.Default.(string); ok {
			cands = append(cands, d)
		}
	}
	for _, e := range s.Examples {
		var v string
		if json.Unmarshal(e, &v) == nil {
			cands = append(cands, v)
		}
	}
	gen := ""
	switch {
	case formatValues[s.Format] != "":
		gen = formatValues[s.Format]
	case strings.HasPrefix(s.Format, "int") || strings.HasPrefix(s.Format, "uint"):
		gen = "1"
	default:
		n := uint64(1)
		if s.MinLength != nil {
			n = max(n, *s.MinLength)
		}
		if s.MaxLength != nil {
			n = min(n, *s.MaxLength)
		}
		gen = strings.Repeat("x", int(min(n, 4096)))
	}
	// A known format's value comes first; otherwise a spec's own value,
	// which is likelier to fit a pattern.
	if formatValues[s.Format] != "" {
		cands = append([]string{gen}, cands...)
	} else {
		cands = append(cands, gen)
	}
	if s.Pattern == "" {
		for _, c := range cands {
			if lengthOK(s, c) {
				return c, true
			}
		}
		return gen, true
	}
	re, err := ogenregex.Compile(s.Pattern)
	if err == nil {
		for _, c := range cands {
			if ok, _ := re.MatchString(c); ok && lengthOK(s, c) {
				return c, true
			}
		}
	}
	g.doubt("no value svcgen knows matches the pattern " + strconv.Quote(s.Pattern))
	return gen, true
}

func lengthOK(s *jsonschema.Schema, v string) bool {
	n := uint64(len([]rune(v)))
	return (s.MinLength == nil || n >= *s.MinLength) && (s.MaxLength == nil || n <= *s.MaxLength)
}

// number is a number within the bounds of s, a multiple of its
// multipleOf.
func (g *synth) number(s *jsonschema.Schema) (any, bool) {
	lo, hi := new(big.Rat), new(big.Rat)
	hasLo, hasHi := parseNum(s.Minimum, lo), parseNum(s.Maximum, hi)
	integer := s.Type == jsonschema.Integer
	// The candidate: 1 when allowed, else the lower bound, else the upper.
	v := big.NewRat(1, 1)
	step := big.NewRat(1, 1)
	if !integer {
		step = big.NewRat(1, 2)
	}
	mult := new(big.Rat)
	if parseNum(s.MultipleOf, mult) && mult.Sign() > 0 {
		step = mult
		v = new(big.Rat).Set(mult)
	}
	if hasLo && (v.Cmp(lo) < 0 || (s.ExclusiveMinimum && v.Cmp(lo) == 0)) {
		v = ceilTo(lo, step, s.ExclusiveMinimum)
	}
	if hasHi && (v.Cmp(hi) > 0 || (s.ExclusiveMaximum && v.Cmp(hi) == 0)) {
		v = floorTo(hi, step, s.ExclusiveMaximum)
	}
	if (hasLo && v.Cmp(lo) < 0) || (hasHi && v.Cmp(hi) > 0) {
		g.doubt("no number svcgen finds fits minimum, maximum and multipleOf")
	}
	if integer || v.IsInt() {
		if !v.IsInt() {
			g.doubt("no integer fits multipleOf")
		}
		return json.Number(new(big.Int).Quo(v.Num(), v.Denom()).String()), true
	}
	f, _ := v.Float64()
	if math.IsInf(f, 0) || math.IsNaN(f) {
		return json.Number("1"), true
	}
	return json.Number(strconv.FormatFloat(f, 'g', -1, 64)), true
}

// ceilTo is the least multiple of step at or above (above when strict) x.
func ceilTo(x, step *big.Rat, strict bool) *big.Rat {
	q := new(big.Rat).Quo(x, step)
	n := new(big.Int).Quo(q.Num(), q.Denom()) // truncated
	if new(big.Rat).SetInt(n).Cmp(q) < 0 || (strict && new(big.Rat).SetInt(n).Cmp(q) == 0) {
		n.Add(n, big.NewInt(1))
	}
	if q.Sign() < 0 && !q.IsInt() {
		n.Sub(n, big.NewInt(1)) // Quo truncates towards zero
		if new(big.Rat).SetInt(n).Cmp(q) < 0 {
			n.Add(n, big.NewInt(1))
		}
	}
	return new(big.Rat).Mul(new(big.Rat).SetInt(n), step)
}

// floorTo is the greatest multiple of step at or below (below when
// strict) x.
func floorTo(x, step *big.Rat, strict bool) *big.Rat {
	neg := new(big.Rat).Neg(x)
	r := ceilTo(neg, step, strict)
	return r.Neg(r)
}

func parseNum(n jsonschema.Num, into *big.Rat) bool {
	if len(n) == 0 {
		return false
	}
	_, ok := into.SetString(string(n))
	return ok
}

// orderedObject is a JSON object that keeps the order properties were
// set in, so a synthesized body is stable across generations.
type orderedObject struct {
	keys []string
	vals []any
}

func (o *orderedObject) has(k string) bool { return slices.Contains(o.keys, k) }

func (o *orderedObject) set(k string, v any) {
	if i := slices.Index(o.keys, k); i >= 0 {
		o.vals[i] = v
		return
	}
	o.keys = append(o.keys, k)
	o.vals = append(o.vals, v)
}

// MarshalJSON writes the object in insertion order.
func (o *orderedObject) MarshalJSON() ([]byte, error) {
	var b strings.Builder
	b.WriteByte('{')
	for i, k := range o.keys {
		if i > 0 {
			b.WriteByte(',')
		}
		kb, _ := json.Marshal(k)
		b.Write(kb)
		b.WriteByte(':')
		vb, err := json.Marshal(o.vals[i])
		if err != nil {
			return nil, fmt.Errorf("property %s: %w", k, err)
		}
		b.Write(vb)
	}
	b.WriteByte('}')
	return []byte(b.String()), nil
}
