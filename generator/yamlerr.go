package generator

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"reflect"
	"regexp"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/svcgen/svcgen/presets"
)

var typeErrRe = regexp.MustCompile("^cannot unmarshal (!!\\w+)(?: `(.*)`)? into (\\S+)$")

// typeError rewrites yaml.v3's "cannot unmarshal !!str `eighty` into int"
// at line into what a user can act on: the field (located by its value's
// position in the file), the type it wants and an example to copy:
// `http_port is "eighty": want a whole number, e.g. http_port: 8080`.
// ok is false when msg is not a type error or its value cannot be found.
func typeError(data []byte, v any, line int, msg string) (string, bool) {
	m := typeErrRe.FindStringSubmatch(msg)
	if m == nil {
		return "", false
	}
	tag, text, into := m[1], m[2], m[3]
	doc := docRoot(data)
	if doc == nil {
		return "", false
	}
	t := reflect.TypeOf(v)
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	// The value at line with that tag whose Go type is the one named.
	keys, n := findValue(doc, nil, func(n *yaml.Node, keys []string) bool {
		if n.Line != line || n.ShortTag() != tag || text != "" && n.Value != text {
			return false
		}
		ft := fieldType(t, keys)
		return ft != nil && (ft.String() == into || reflect.PointerTo(ft).Implements(unmarshalerType))
	})
	if n == nil {
		return "", false
	}
	got := fmt.Sprintf("is %s", describeNode(n))
	if len(keys) == 0 {
		ex := "name: inventory-svc"
		if t == reflect.TypeOf(Preset{}) {
			ex = "extends: hot-path"
		}
		return fmt.Sprintf("the file %s: want a mapping of fields (key: value lines), e.g. %s", got, ex), true
	}
	ft := fieldType(t, keys)
	if ft == nil {
		return "", false
	}
	want := kindOf(ft)
	exKeys, exType := keys, ft
	if _, err := strconv.Atoi(keys[len(keys)-1]); err == nil && len(keys) > 1 {
		// An item of a list: the example is the list's.
		exKeys, exType = keys[:len(keys)-1], reflect.SliceOf(ft)
	}
	return fmt.Sprintf("%s %s: want %s, e.g. %s: %s", dotted(keys), got, want, exKeys[len(exKeys)-1], example(exKeys, exType)), true
}

// findValue returns the key path and node of the first value under n (n
// itself included) that match accepts.
func findValue(n *yaml.Node, keys []string, match func(n *yaml.Node, keys []string) bool) ([]string, *yaml.Node) {
	if match(n, keys) {
		return keys, n
	}
	switch n.Kind {
	case yaml.MappingNode:
		for i := 0; i+1 < len(n.Content); i += 2 {
			if k, v := findValue(n.Content[i+1], append(keys[:len(keys):len(keys)], n.Content[i].Value), match); v != nil {
				return k, v
			}
		}
	case yaml.SequenceNode:
		for i, item := range n.Content {
			if k, v := findValue(item, append(keys[:len(keys):len(keys)], strconv.Itoa(i)), match); v != nil {
				return k, v
			}
		}
	}
	return nil, nil
}

// dotted writes a key path as "params.dbpool.max_conns" or "features[1]".
func dotted(keys []string) string {
	var b strings.Builder
	for i, k := range keys {
		if _, err := strconv.Atoi(k); err == nil && i > 0 {
			fmt.Fprintf(&b, "[%s]", k)
			continue
		}
		if i > 0 {
			b.WriteByte('.')
		}
		b.WriteString(k)
	}
	return b.String()
}

func describeNode(n *yaml.Node) string {
	switch n.Kind {
	case yaml.SequenceNode:
		return "a list"
	case yaml.MappingNode:
		return "a mapping"
	}
	return strconv.Quote(n.Value)
}

// fieldType follows a key path through Go types by their yaml tags.
func fieldType(t reflect.Type, keys []string) reflect.Type {
	for _, k := range keys {
		if reflect.PointerTo(t).Implements(unmarshalerType) {
			return nil // a type of its own reading (Duration): no fields
		}
		for t.Kind() == reflect.Pointer {
			t = t.Elem()
		}
		switch t.Kind() {
		case reflect.Struct:
			var next reflect.Type
			for i := range t.NumField() {
				if strings.Split(t.Field(i).Tag.Get("yaml"), ",")[0] == k {
					next = t.Field(i).Type
					break
				}
			}
			if next == nil {
				return nil
			}
			t = next
		case reflect.Map, reflect.Slice:
			t = t.Elem()
		default:
			return nil
		}
	}
	return t
}

var (
	durationType    = reflect.TypeOf(Duration(0))
	unmarshalerType = reflect.TypeOf((*yaml.Unmarshaler)(nil)).Elem()
)

func kindOf(t reflect.Type) string {
	if t == durationType {
		return "a duration"
	}
	switch t.Kind() {
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return "a whole number"
	case reflect.Float32, reflect.Float64:
		return "a number"
	case reflect.Bool:
		return "true or false"
	case reflect.String:
		return "a string"
	case reflect.Slice:
		return "a list of " + strings.TrimPrefix(strings.TrimPrefix(kindOf(t.Elem()), "a "), "an ") + "s"
	}
	return "a mapping"
}

// answerExamples are example values of the answers-file fields.
var answerExamples = map[string]string{
	"name": "inventory-svc", "module": "example.com/inventory-svc", "preset": "hot-path",
	"features": "[+pool, -pgo]", "spec": "api/openapi.yaml", "http_port": "8080", "admin_port": "9090",
	"skip_unsupported": "[all]", "explain": "true",
}

// example is a value for the field at keys: an answers-file example, the
// value svcgen's own presets give it, or one of its type.
func example(keys []string, t reflect.Type) string {
	if len(keys) == 1 {
		if ex, ok := answerExamples[keys[0]]; ok {
			return ex
		}
	}
	if ex := presetExample(keys); ex != "" {
		return ex
	}
	if t == durationType {
		return "50ms"
	}
	switch t.Kind() {
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return "10"
	case reflect.Float32, reflect.Float64:
		return "0.5"
	case reflect.Bool:
		return "true"
	case reflect.String:
		return "text"
	case reflect.Slice:
		return "[" + example(nil, t.Elem()) + "]"
	case reflect.Map:
		return "{name: " + example(nil, t.Elem()) + "}"
	}
	return "{}"
}

// presetExample is the scalar value of keys in the first embedded preset
// that sets it, "" when none does.
func presetExample(keys []string) string {
	if len(keys) == 0 {
		return ""
	}
	files, _ := fs.Glob(presets.FS, "*.yaml")
	for _, f := range files {
		data, err := fs.ReadFile(presets.FS, f)
		if err != nil {
			continue
		}
		n := docRoot(data)
		for _, k := range keys {
			n = mapValue(n, k)
		}
		if n == nil {
			continue
		}
		if n.Kind == yaml.ScalarNode {
			return n.Value
		}
		flow(n)
		if out, err := yaml.Marshal(n); err == nil {
			return strings.TrimSpace(string(out))
		}
	}
	return ""
}

// valueKeys is the key path of the only scalar value at line, "" when
// there is none or more than one.
func valueKeys(data []byte, line int) string {
	doc := docRoot(data)
	if doc == nil {
		return ""
	}
	var found []string
	n := 0
	var walk func(n *yaml.Node, keys []string)
	walk = func(nd *yaml.Node, keys []string) {
		switch nd.Kind {
		case yaml.ScalarNode:
			if nd.Line == line && len(keys) > 0 {
				found = keys
				n++
			}
		case yaml.MappingNode:
			for i := 0; i+1 < len(nd.Content); i += 2 {
				walk(nd.Content[i+1], append(keys[:len(keys):len(keys)], nd.Content[i].Value))
			}
		case yaml.SequenceNode:
			for i, item := range nd.Content {
				walk(item, append(keys[:len(keys):len(keys)], strconv.Itoa(i)))
			}
		}
	}
	walk(doc, nil)
	if n != 1 {
		return ""
	}
	return dotted(found)
}

// flow sets n and everything under it to YAML's one-line flow style.
func flow(n *yaml.Node) {
	n.Style = yaml.FlowStyle
	n.HeadComment, n.LineComment, n.FootComment = "", "", ""
	for _, c := range n.Content {
		flow(c)
	}
}

var yamlLineRe = regexp.MustCompile(`^(?:yaml: )?line (\d+): (.*)$`)

// decodeStrict decodes YAML into v, rejecting unknown fields, and rewrites
// yaml.v3's errors into "file:line: message" with the fix.
func decodeStrict(file string, data []byte, v any) error {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	err := dec.Decode(v)
	if err == nil || errors.Is(err, errIOEOF) {
		return nil
	}
	return yamlError(file, data, v, err)
}

var notFoundRe = regexp.MustCompile(`^field (\S+) not found in type (\S+)$`)

var dupKeyRe = regexp.MustCompile(`^mapping key ".*" already defined at line \d+$`)

// yamlError rewrites a decode error of data into v: "file:line: message",
// with the field, the type it wants and an example for type errors.
func yamlError(file string, data []byte, v any, err error) error {
	var te *yaml.TypeError
	var msgs []string
	if errors.As(err, &te) {
		msgs = te.Errors
	} else {
		msgs = []string{err.Error()}
	}
	var out []string
	for _, m := range msgs {
		m = strings.TrimSpace(m)
		if sm := yamlLineRe.FindStringSubmatch(m); sm != nil {
			line, _ := strconv.Atoi(sm[1])
			msg := sm[2]
			if fm := notFoundRe.FindStringSubmatch(msg); fm != nil {
				msg = fmt.Sprintf("unknown field %q%s", fm[1], suggest(fm[1], yamlFields(fm[2])))
			} else if te, ok := typeError(data, v, line, msg); ok {
				msg = te
			} else if dupKeyRe.MatchString(msg) {
				msg += "; keep one of the two"
			} else if keys := valueKeys(data, line); keys != "" && !strings.HasPrefix(msg, keys) {
				msg = keys + ": " + msg // a value's own error (a duration)
			}
			out = append(out, fmt.Sprintf("%s:%d: %s", file, line, msg))
			continue
		}
		out = append(out, fmt.Sprintf("%s: %s", file, m))
	}
	return errors.New(strings.Join(out, "\n"))
}

// keyLine returns the line of a top-level key, or 1.
func keyLine(data []byte, key string) int {
	if v := mapValue(docRoot(data), key); v != nil {
		return v.Line
	}
	return 1
}

// seqLines returns the line of each item of a top-level sequence.
func seqLines(data []byte, key string) map[int]int {
	return itemLines(mapValue(docRoot(data), key))
}

// itemLines maps each item of a YAML sequence (nil: none) to its line.
func itemLines(seq *yaml.Node) map[int]int {
	out := map[int]int{}
	if seq != nil {
		for j, item := range seq.Content {
			out[j] = item.Line
		}
	}
	return out
}
