package generator

import (
	"encoding/json"
	"reflect"
	"strings"

	"github.com/invopop/jsonschema"
)

// JSONSchema describes a duration as it is written in YAML.
func (Duration) JSONSchema() *jsonschema.Schema {
	return &jsonschema.Schema{
		Type:        "string",
		Pattern:     `^([0-9]+(\.[0-9]+)?(ns|us|µs|ms|s|m|h))+$`,
		Description: "A duration such as 50ms, 5s or 10m.",
	}
}

// PresetSchema is the JSON Schema of a preset file, with the features this
// catalog knows as an enum.
func (c *Catalog) PresetSchema() ([]byte, error) {
	s := reflector().Reflect(&Preset{})
	s.ID = "https://github.com/svcgen/svcgen/schema/preset.schema.json"
	s.Title = "svcgen preset"
	if p, ok := s.Properties.Get("features"); ok {
		p.Items = &jsonschema.Schema{Type: "string", Enum: toAny(c.featureNames())}
	}
	if p, ok := s.Properties.Get("starter"); ok {
		p.Enum = toAny(c.starterNames())
	}
	return marshalSchema(s)
}

// AnswersSchema is the JSON Schema of an answers file (--answers).
func (c *Catalog) AnswersSchema() ([]byte, error) {
	s := reflector().Reflect(&Options{})
	s.ID = "https://github.com/svcgen/svcgen/schema/answers.schema.json"
	s.Title = "svcgen answers"
	names := c.featureNames()
	if p, ok := s.Properties.Get("features"); ok {
		p.Items = &jsonschema.Schema{Type: "string", Pattern: `^[+-]?(` + strings.Join(names, "|") + `)$`,
			Description: "+feature adds a feature to the preset's, -feature removes one."}
	}
	if p, ok := s.Properties.Get("name"); ok {
		p.Pattern = nameRe.String()
		p.MaxLength = ptr(uint64(63))
	}
	for _, port := range []string{"http_port", "admin_port"} {
		if p, ok := s.Properties.Get(port); ok {
			p.Minimum, p.Maximum = json.Number("1"), json.Number("65535")
		}
	}
	return marshalSchema(s)
}

func ptr[T any](v T) *T { return &v }

func reflector() *jsonschema.Reflector {
	r := &jsonschema.Reflector{FieldNameTag: "yaml", ExpandedStruct: true, DoNotReference: true}
	// The doc comments of the Go types become the descriptions.
	_ = r.AddGoComments("github.com/svcgen/svcgen/generator", "./")
	r.Namer = func(t reflect.Type) string { return t.Name() }
	return r
}

func marshalSchema(s *jsonschema.Schema) ([]byte, error) {
	out, err := json.MarshalIndent(s, "", "  ")
	return append(out, '\n'), err
}

func toAny(s []string) []any {
	out := make([]any, len(s))
	for i, v := range s {
		out[i] = v
	}
	return out
}
