package generator

import (
	"bytes"
	"fmt"
	"sort"
	"strings"

	"gopkg.in/yaml.v3"
)

// responsesOp is one operation of the spec, as its YAML nodes locate it.
type responsesOp struct {
	id, method, path string
	// responses is the operation's responses mapping (nil when it has none).
	responses *yaml.Node
	// line is the line of its responses key (of the method key without one).
	line int
	// def is its default response, nil when it has none.
	def *yaml.Node
}

// responsesOps reads the operations of an OpenAPI document in document order.
func responsesOps(spec []byte) ([]responsesOp, error) {
	var doc yaml.Node
	if err := yaml.Unmarshal(spec, &doc); err != nil {
		return nil, err
	}
	if doc.Kind != yaml.DocumentNode || len(doc.Content) == 0 {
		return nil, fmt.Errorf("not a YAML document")
	}
	paths := mapValue(doc.Content[0], "paths")
	if paths == nil || paths.Kind != yaml.MappingNode {
		return nil, nil
	}
	var ops []responsesOp
	for i := 0; i+1 < len(paths.Content); i += 2 {
		route, item := paths.Content[i].Value, paths.Content[i+1]
		if item.Kind != yaml.MappingNode {
			continue
		}
		for j := 0; j+1 < len(item.Content); j += 2 {
			key, op := item.Content[j], item.Content[j+1]
			if !containsStr(httpMethods, key.Value) || op.Kind != yaml.MappingNode {
				continue
			}
			so := responsesOp{method: strings.ToUpper(key.Value), path: route, line: key.Line}
			if id := mapValue(op, "operationId"); id != nil {
				so.id = id.Value
			}
			for k := 0; k+1 < len(op.Content); k += 2 {
				if op.Content[k].Value == "responses" {
					so.responses, so.line = op.Content[k+1], op.Content[k].Line
				}
			}
			if so.responses != nil {
				so.def = mapValue(so.responses, "default")
			}
			ops = append(ops, so)
		}
	}
	return ops, nil
}

func containsStr(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

// encodeNode is a node's YAML text, indented by two spaces per level.
func encodeNode(n *yaml.Node) string {
	var b bytes.Buffer
	enc := yaml.NewEncoder(&b)
	enc.SetIndent(2)
	if err := enc.Encode(n); err != nil {
		return ""
	}
	_ = enc.Close()
	return b.String()
}

// MissingDefaults finds the operations of spec that lack the default
// response the others share, with the YAML to add under each one's
// responses: (indented to paste as is). The shared default is the one most
// operations have; nil when no operation has one or every one does.
func MissingDefaults(specFile string, spec []byte) ([]Finding, error) {
	ops, err := responsesOps(spec)
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", specFile, err)
	}
	count := map[string]int{}
	node := map[string]*yaml.Node{}
	for _, op := range ops {
		if op.def == nil {
			continue
		}
		text := encodeNode(op.def)
		count[text]++
		node[text] = op.def
	}
	if len(count) == 0 {
		return nil, nil
	}
	texts := make([]string, 0, len(count))
	for t := range count {
		texts = append(texts, t)
	}
	sort.Slice(texts, func(i, j int) bool {
		if count[texts[i]] != count[texts[j]] {
			return count[texts[i]] > count[texts[j]]
		}
		return texts[i] < texts[j]
	})
	shared := node[texts[0]]
	var out []Finding
	for _, op := range ops {
		if op.def != nil {
			continue
		}
		entry := &yaml.Node{Kind: yaml.MappingNode, Content: []*yaml.Node{{Kind: yaml.ScalarNode, Value: "default"}, shared}}
		indent := 0
		if op.responses != nil && op.responses.Kind == yaml.MappingNode && len(op.responses.Content) > 0 {
			indent = op.responses.Content[0].Column - 1
		} else if op.responses != nil {
			indent = op.responses.Column - 1
		}
		var y strings.Builder
		for _, l := range strings.Split(strings.TrimRight(encodeNode(entry), "\n"), "\n") {
			y.WriteString(strings.Repeat(" ", indent) + l + "\n")
		}
		id := op.id
		if id == "" {
			id = op.method + " " + op.path
		}
		out = append(out, Finding{
			Kind: FindDefaultResponse, File: SpecPath, Line: op.line,
			Msg:  fmt.Sprintf("operation %s (%s %s) has no `default` response, which the other operations share: ogen then generates no NewError for the Handler and changes every operation's result type, so every handler stops compiling", id, op.method, op.path),
			Fix:  fmt.Sprintf("add this under the `responses:` of %s (line %d of %s):", id, op.line, specFile),
			YAML: y.String(),
		})
	}
	return out, nil
}

// defaultResponseFindings explains a convenient-errors flip from the new
// spec; without an answer from the spec, one finding says what happened.
func (d *diagnosis) defaultResponseFindings() []Finding {
	spec := stagedContent(d.dir, d.plan, SpecPath)
	fs, err := MissingDefaults(SpecPath, spec)
	if err == nil && len(fs) > 0 {
		return fs
	}
	return []Finding{{
		Kind: FindDefaultResponse, File: SpecPath,
		Msg: "the new spec makes ogen generate no NewError for the Handler (an operation lacks the default response the others share, or none has one), which changes every operation's result type",
		Fix: "give every operation the same `default:` response under its `responses:`",
	}}
}
