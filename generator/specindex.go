package generator

import (
	"fmt"
	"slices"
	"strings"

	"gopkg.in/yaml.v3"
)

// httpMethods are the operation keys of an OpenAPI path item.
var httpMethods = []string{"get", "put", "post", "delete", "options", "head", "patch", "trace"}

// specIndex locates the constructs of a spec by line and column: ogen
// reports where it skipped something, the index says what that place is
// (the YAML path to it) and which operations it belongs to.
type specIndex struct {
	// at maps a line:col to the path of the node that starts there (a
	// mapping and its first key share a place: the mapping wins).
	at map[position][]string
	// ops are the spec's operations (paths only), in document order.
	ops []specOp
	// root is the document's top-level mapping.
	root *yaml.Node
	// users maps a component ("#/components/schemas/Pet") to the
	// operations that use it, directly or through other components;
	// built on first use.
	users map[string][]int
}

// specOp is one operation of the spec.
type specOp struct {
	// ID is its operationId ("" when it has none).
	ID string
	// Method is upper case; Path the path template.
	Method, Path string
	// node is the operation's mapping; item its path item's.
	node, item *yaml.Node
}

// String names the operation as warnings do: "operation addPet (POST
// /pet)", or "operation POST /pet" without an operationId.
func (op specOp) String() string {
	if op.ID == "" {
		return fmt.Sprintf("operation %s %s", op.Method, op.Path)
	}
	return fmt.Sprintf("operation %s (%s %s)", op.ID, op.Method, op.Path)
}

// newSpecIndex indexes spec; it returns nil when the document is not YAML
// or JSON that yaml.v3 reads (ogen's own error then says why).
func newSpecIndex(spec []byte) *specIndex {
	var doc yaml.Node
	if err := yaml.Unmarshal(spec, &doc); err != nil || doc.Kind != yaml.DocumentNode || len(doc.Content) == 0 {
		return nil
	}
	x := &specIndex{at: map[position][]string{}, root: doc.Content[0]}
	x.walk(x.root, nil)
	if paths := mapValue(x.root, "paths"); paths != nil {
		for i := 0; i+1 < len(paths.Content); i += 2 {
			route, item := paths.Content[i].Value, paths.Content[i+1]
			for j := 0; j+1 < len(item.Content); j += 2 {
				m := item.Content[j].Value
				if !slices.Contains(httpMethods, m) {
					continue
				}
				op := item.Content[j+1]
				id := ""
				if v := mapValue(op, "operationId"); v != nil {
					id = v.Value
				}
				x.ops = append(x.ops, specOp{ID: id, Method: strings.ToUpper(m), Path: route, node: op, item: item})
			}
		}
	}
	return x
}

func (x *specIndex) walk(n *yaml.Node, p []string) {
	pos := position{line: n.Line, col: n.Column}
	if _, ok := x.at[pos]; !ok {
		x.at[pos] = p
	}
	switch n.Kind {
	case yaml.MappingNode:
		for i := 0; i+1 < len(n.Content); i += 2 {
			k := n.Content[i]
			cp := append(slices.Clip(p), k.Value)
			kp := position{line: k.Line, col: k.Column}
			if _, ok := x.at[kp]; !ok {
				x.at[kp] = cp
			}
			x.walk(n.Content[i+1], cp)
		}
	case yaml.SequenceNode:
		for i, c := range n.Content {
			x.walk(c, append(slices.Clip(p), fmt.Sprint(i)))
		}
	}
}

// docRoot parses a YAML document and returns its top node, nil when data
// is not YAML or empty.
func docRoot(data []byte) *yaml.Node {
	var root yaml.Node
	if yaml.Unmarshal(data, &root) != nil || len(root.Content) == 0 {
		return nil
	}
	return root.Content[0]
}

// mapValue is the value of key in mapping n, nil when absent.
func mapValue(n *yaml.Node, key string) *yaml.Node {
	if n == nil || n.Kind != yaml.MappingNode {
		return nil
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i].Value == key {
			return n.Content[i+1]
		}
	}
	return nil
}

// node follows a path from the root.
func (x *specIndex) node(p []string) *yaml.Node {
	n := x.root
	for _, k := range p {
		switch {
		case n == nil:
			return nil
		case n.Kind == yaml.SequenceNode:
			var i int
			if _, err := fmt.Sscan(k, &i); err != nil || i < 0 || i >= len(n.Content) {
				return nil
			}
			n = n.Content[i]
		default:
			n = mapValue(n, k)
		}
	}
	return n
}

// pathAt is the YAML path of the node at line:col, nil when none starts
// there.
func (x *specIndex) pathAt(line, col int) []string {
	return x.at[position{line: line, col: col}]
}

// opsOf returns the operations a place belongs to: the operation around
// it, or for a place inside a component every operation that uses that
// component.
func (x *specIndex) opsOf(p []string) []specOp {
	if len(p) >= 3 && p[0] == "paths" && slices.Contains(httpMethods, p[2]) {
		for _, op := range x.ops {
			if strings.EqualFold(op.Method, p[2]) && op.Path == p[1] {
				return []specOp{op}
			}
		}
	}
	if len(p) >= 3 && p[0] == "components" {
		if x.users == nil {
			x.indexUsers()
		}
		var out []specOp
		for _, i := range x.users[componentRef(p[1], p[2])] {
			out = append(out, x.ops[i])
		}
		return out
	}
	return nil
}

// componentRef is the local $ref of a component.
func componentRef(kind, name string) string {
	name = strings.ReplaceAll(strings.ReplaceAll(name, "~", "~0"), "/", "~1")
	return "#/components/" + kind + "/" + name
}

// indexUsers finds, for every component, the operations that reach it
// through $refs.
func (x *specIndex) indexUsers() {
	x.users = map[string][]int{}
	refs := map[string][]string{} // component -> the components it refers to
	if comps := mapValue(x.root, "components"); comps != nil {
		for i := 0; i+1 < len(comps.Content); i += 2 {
			kind, m := comps.Content[i].Value, comps.Content[i+1]
			for j := 0; j+1 < len(m.Content); j += 2 {
				refs[componentRef(kind, m.Content[j].Value)] = localRefs(m.Content[j+1], nil)
			}
		}
	}
	for i, op := range x.ops {
		seen := map[string]bool{}
		queue := localRefs(op.node, localRefs(mapValue(op.item, "parameters"), nil))
		for len(queue) > 0 {
			r := queue[0]
			queue = queue[1:]
			if seen[r] {
				continue
			}
			seen[r] = true
			x.users[r] = append(x.users[r], i)
			queue = append(queue, refs[r]...)
		}
	}
}

// localRefs appends the "#/components/..." $refs under n to dst.
func localRefs(n *yaml.Node, dst []string) []string {
	if n == nil {
		return dst
	}
	if n.Kind == yaml.MappingNode {
		for i := 0; i+1 < len(n.Content); i += 2 {
			if n.Content[i].Value == "$ref" && strings.HasPrefix(n.Content[i+1].Value, "#/components/") {
				// "#/components/schemas/Pet/properties/x" refers to Pet.
				parts := strings.SplitN(n.Content[i+1].Value, "/", 5)
				if len(parts) >= 4 {
					dst = append(dst, strings.Join(parts[:4], "/"))
				}
			}
		}
	}
	for _, c := range n.Content {
		dst = localRefs(c, dst)
	}
	return dst
}

// opsString names the operations as a warning does.
func opsString(ops []specOp) string {
	switch len(ops) {
	case 0:
		return ""
	case 1:
		return ops[0].String()
	}
	names := make([]string, 0, len(ops))
	for _, op := range ops {
		names = append(names, strings.TrimPrefix(op.String(), "operation "))
	}
	const most = 5
	if len(names) > most {
		names = append(names[:most], fmt.Sprintf("and %d more", len(names)-most))
	}
	return "operations " + strings.Join(names, ", ")
}

// notServed lists what this service does not serve although the spec has
// it: webhooks (ogen's webhook server is not generated) and callbacks
// (ogen ignores them), one warning each at its own place.
func (x *specIndex) notServed(file string) []string {
	var out []string
	if hooks := mapValue(x.root, "webhooks"); hooks != nil {
		for i := 0; i+1 < len(hooks.Content); i += 2 {
			name, item := hooks.Content[i], hooks.Content[i+1]
			for j := 0; j+1 < len(item.Content); j += 2 {
				if k := item.Content[j]; slices.Contains(httpMethods, k.Value) {
					out = append(out, fmt.Sprintf("%s:%d:%d: webhook %s (%s) is not served by this service",
						file, k.Line, k.Column, name.Value, strings.ToUpper(k.Value)))
				}
			}
		}
	}
	for _, op := range x.ops {
		cbs := mapValue(op.node, "callbacks")
		if cbs == nil {
			continue
		}
		id := op.ID
		if id == "" {
			id = op.Method + " " + op.Path
		}
		for i := 0; i+1 < len(cbs.Content); i += 2 {
			k := cbs.Content[i]
			out = append(out, fmt.Sprintf("%s:%d:%d: callback %s of operation %s is not served", file, k.Line, k.Column, k.Value, id))
		}
	}
	return out
}

// candidates finds the schemas that carry a default ogen cannot apply, for
// a skip ogen reports without a place ("complex defaults", "object
// defaults"): the places of the schemas' default keys, in document order.
func (x *specIndex) candidates(name string) [][]string {
	var out [][]string
	var visit func(n *yaml.Node, p []string)
	visit = func(n *yaml.Node, p []string) {
		switch n.Kind {
		case yaml.MappingNode:
			if mapValue(n, "default") != nil && defaultKind(n) == name {
				out = append(out, append(slices.Clip(p), "default"))
			}
			for i := 0; i+1 < len(n.Content); i += 2 {
				visit(n.Content[i+1], append(slices.Clip(p), n.Content[i].Value))
			}
		case yaml.SequenceNode:
			for i, c := range n.Content {
				visit(c, append(slices.Clip(p), fmt.Sprint(i)))
			}
		}
	}
	visit(x.root, nil)
	return out
}

// defaultKind is ogen's name for why a schema's default is not applied,
// "" when it is.
func defaultKind(schema *yaml.Node) string {
	t := mapValue(schema, "type")
	switch {
	case t != nil && t.Value == "object":
		return "object defaults"
	case mapValue(schema, "anyOf") != nil || mapValue(schema, "oneOf") != nil:
		return "complex defaults"
	case t == nil && mapValue(schema, "$ref") == nil && mapValue(schema, "allOf") == nil:
		// A parameter's or header's own default sits beside its schema.
		if mapValue(schema, "schema") != nil || mapValue(schema, "in") != nil {
			return ""
		}
		return "complex defaults"
	}
	return ""
}

// keyPos is the place of the key that ends p (the value's place when p
// ends in a sequence index).
func (x *specIndex) keyPos(p []string) (line, col int) {
	if len(p) == 0 {
		return 0, 0
	}
	parent := x.node(p[:len(p)-1])
	if parent != nil && parent.Kind == yaml.MappingNode {
		for i := 0; i+1 < len(parent.Content); i += 2 {
			if k := parent.Content[i]; k.Value == p[len(p)-1] {
				return k.Line, k.Column
			}
		}
	}
	if n := x.node(p); n != nil {
		return n.Line, n.Column
	}
	return 0, 0
}

// mediaOf finds the media type ct among an operation's own request body
// and responses (a key of their content), nil when it is not there.
func (x *specIndex) mediaOf(op specOp, ct string) *yaml.Node {
	key := func(content *yaml.Node) *yaml.Node {
		if content == nil {
			return nil
		}
		for i := 0; i+1 < len(content.Content); i += 2 {
			if content.Content[i].Value == ct {
				return content.Content[i]
			}
		}
		return nil
	}
	if n := key(mapValue(mapValue(op.node, "requestBody"), "content")); n != nil {
		return n
	}
	if rs := mapValue(op.node, "responses"); rs != nil {
		for i := 0; i+1 < len(rs.Content); i += 2 {
			if n := key(mapValue(rs.Content[i+1], "content")); n != nil {
				return n
			}
		}
	}
	return nil
}
