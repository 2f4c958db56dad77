package generator

import (
	"encoding/json"
	"reflect"
	"slices"
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
	// Every parameter has a default in its feature's feature.yaml: a preset
	// may leave out any of them, or its whole params block.
	s.Required = slices.DeleteFunc(s.Required, func(r string) bool { return r == "params" })
	if p, ok := s.Properties.Get("params"); ok {
		optional(p)
	}
	return marshalSchema(s)
}

// FeatureSchema is the JSON Schema of a feature folder's feature.yaml; its
// params block (the feature's defaults) has a preset's params shape.
func (c *Catalog) FeatureSchema() ([]byte, error) {
	s := reflector().Reflect(&Feature{})
	s.ID = "https://github.com/svcgen/svcgen/schema/feature.schema.json"
	s.Title = "svcgen feature"
	for _, list := range []string{"requires", "conflicts"} {
		if p, ok := s.Properties.Get(list); ok {
			p.Items = &jsonschema.Schema{Type: "string", Enum: toAny(c.featureNames())}
		}
	}
	// Only the base folder has output that stays svcgen's inside a scaffold glob.
	s.Required = slices.DeleteFunc(s.Required, func(r string) bool { return r == "generated" })
	if p, ok := s.Properties.Get("params"); ok {
		optional(p)
	}
	return marshalSchema(s)
}

// optional drops the required lists of a schema and everything under it.
func optional(s *jsonschema.Schema) {
	if s == nil {
		return
	}
	s.Required = nil
	if s.Properties != nil {
		for pair := s.Properties.Oldest(); pair != nil; pair = pair.Next() {
			optional(pair.Value)
		}
	}
	optional(s.Items)
	optional(s.AdditionalProperties)
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
