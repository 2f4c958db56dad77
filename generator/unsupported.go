package generator

import (
	"fmt"
	"slices"
	"strings"
)

// OgenUnsupported are the names ogen (v1.25) gives what it cannot generate
// yet: the words its errors print and --skip-unsupported (skip_unsupported
// in an answers file) takes, besides "all". TestOgenUnsupportedNames keeps
// the list in step with ogen's source.
var OgenUnsupported = []string{
	"allOf additionalProperties merging",
	"allOf enum merging",
	"allOf with anyOf",
	"allOf with oneOf",
	"allOf with patternProperties",
	"array defaults with free-form items",
	"complex anyOf",
	"complex defaults",
	"complex enum type",
	"complex form schema",
	"complicated reference",
	"discriminator inference",
	"duplicate mapping key",
	"empty schema in request body",
	"empty server variable default",
	"empty uniqueItems",
	"enum format",
	"form content encoding",
	"http security scheme",
	"merge discriminator",
	"multipart form CT aliasing",
	"mutualTLS security",
	"nested arrays in form parameters",
	"nested objects in form parameters",
	"non-primitive enum",
	"object defaults",
	"openIdConnect security",
	"parameter content encoding",
	"pipeDelimited style for object parameters",
	"spaceDelimited style for object parameters",
	"sse server response encoding",
	"sum types with same names",
	"too similar parameter name",
	"tuple array defaults",
	"type-based discrimination with same jxType",
	"unsupported content types",
	"unsupported sum type variant",
	"value-based discriminator",
}

// CheckSkipUnsupported checks one --skip-unsupported value: "all" or one
// of OgenUnsupported. The error lists the valid values.
func CheckSkipUnsupported(name string) error {
	if name == "all" || slices.Contains(OgenUnsupported, name) {
		return nil
	}
	hint := suggest(name, append([]string{"all"}, OgenUnsupported...))
	return fmt.Errorf("%q is not something ogen skips%s; give \"all\", or the name an unsupported-spec error prints, one of:\n  %s",
		name, hint, strings.Join(OgenUnsupported, "\n  "))
}
