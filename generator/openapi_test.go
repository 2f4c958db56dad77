package generator

import (
	"errors"
	"fmt"
	"strings"
	"testing"
)

// at is the line:col of the n-th (1-based) occurrence of marker in spec,
// the column being where marker starts.
func at(t *testing.T, spec, marker string, n int) string {
	t.Helper()
	for i, line := range strings.Split(spec, "\n") {
		if c := strings.Index(line, marker); c >= 0 {
			if n--; n == 0 {
				return fmt.Sprintf("%d:%d", i+1, c+1)
			}
		}
	}
	t.Fatalf("%q not in the spec", marker)
	return ""
}

// formSpec has two form bodies ogen cannot decode (a nested object in a
// form), a default response before them to mislead a naive reader of
// ogen's logs, and a wildcard response ogen cannot serve at all.
const formSpec = `openapi: 3.0.3
info: {title: pets, version: "1"}
paths:
  /pet:
    put:
      operationId: updatePet
      responses:
        default:
          description: Unexpected error
      requestBody:
        content:
          application/json:
            schema: {$ref: '#/components/schemas/Pet'}
          application/x-www-form-urlencoded:
            schema: {$ref: '#/components/schemas/Pet'}
    post:
      operationId: addPet
      requestBody:
        content:
          application/json:
            schema: {$ref: '#/components/schemas/Pet'}
          application/x-www-form-urlencoded:
            schema: {$ref: '#/components/schemas/Pet'}
      responses:
        "200": {description: ok}
  /export:
    get:
      responses:
        "200":
          description: any format
          content:
            "*/*":
              schema: {$ref: '#/components/schemas/Pet'}
components:
  schemas:
    Pet:
      type: object
      properties:
        name: {type: string}
        tags:
          type: array
          items:
            type: object
            properties:
              name: {type: string}
`

func TestSkipWarningsAtTheConstruct(t *testing.T) {
	out, err := runOgen("pets.yaml", []byte(formSpec), false, []string{"all"})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("warnings:\n%s", strings.Join(out.skipped, "\n"))
	var want []string
	for i, op := range []string{"operation updatePet (PUT /pet)", "operation addPet (POST /pet)"} {
		// ogen places a media type at its first key, the schema.
		want = append(want, fmt.Sprintf("pets.yaml:%s: %s: skipped: nested objects in form parameters not implemented; the request body in application/x-www-form-urlencoded is not accepted",
			at(t, formSpec, "schema: {$ref", 2*i+2), op))
	}
	want = append(want, "pets.yaml:"+at(t, formSpec, `"*/*":`, 1)+": operation GET /export: skipped: unsupported content types: [*/*]; the operation is not served")
	for _, w := range want {
		found := false
		for _, got := range out.skipped {
			found = found || got == w
		}
		if !found {
			t.Errorf("missing warning\n%s\nin\n%s", w, strings.Join(out.skipped, "\n"))
		}
	}
	if len(out.skipped) != len(want) {
		t.Errorf("%d warnings, want %d", len(out.skipped), len(want))
	}
}

func TestUnsupportedErrorNamesConstructAndOperation(t *testing.T) {
	_, err := runOgen("pets.yaml", []byte(formSpec), false, nil)
	var se *SpecError
	if !errors.As(err, &se) || se.Unsupported == "" {
		t.Fatalf("want an unsupported-feature SpecError, got %v", err)
	}
	// ogen stops at the first it meets: the wildcard response.
	want := "pets.yaml:" + at(t, formSpec, `"*/*":`, 1) + ": operation GET /export: ogen cannot generate this yet (unsupported content types: [*/*])"
	if !strings.HasPrefix(err.Error(), want) || se.Operation != "operation GET /export" {
		t.Errorf("error %q, want prefix %q", err, want)
	}
}

func TestSkipInComponentNamesItsUsers(t *testing.T) {
	spec := `openapi: 3.0.3
info: {title: pets, version: "1"}
paths:
  /pet:
    put:
      operationId: updatePet
      requestBody: {$ref: '#/components/requestBodies/PetForm'}
      responses:
        "200": {description: ok}
    post:
      operationId: addPet
      requestBody: {$ref: '#/components/requestBodies/PetForm'}
      responses:
        "200": {description: ok}
  /other:
    get:
      operationId: other
      responses:
        "200": {description: ok}
components:
  requestBodies:
    PetForm:
      content:
        application/x-www-form-urlencoded:
          schema:
            type: object
            properties:
              owners:
                type: array
                items:
                  type: object
                  properties:
                    name: {type: string}
`
	out, err := runOgen("pets.yaml", []byte(spec), false, []string{"all"})
	if err != nil {
		t.Fatal(err)
	}
	if len(out.skipped) == 0 {
		t.Fatal("nothing reported")
	}
	// The form is the only body, so ogen skips both operations for it:
	// each is said at the component's media type.
	pos := "pets.yaml:" + at(t, spec, "schema:", 1)
	want := []string{
		pos + ": operation updatePet (PUT /pet): skipped: nested objects in form parameters not implemented; the operation is not served",
		pos + ": operation addPet (POST /pet): skipped: nested objects in form parameters not implemented; the operation is not served",
	}
	if strings.Join(out.skipped, "\n") != strings.Join(want, "\n") {
		t.Errorf("got\n%s\nwant\n%s", strings.Join(out.skipped, "\n"), strings.Join(want, "\n"))
	}
}

func TestSkippedDefaultIsLocated(t *testing.T) {
	spec := `openapi: 3.0.3
info: {title: x, version: "1"}
paths:
  /conn:
    post:
      operationId: testConnection
      requestBody:
        content:
          application/json:
            schema: {$ref: '#/components/schemas/Conn'}
      responses:
        "204": {description: ok}
components:
  schemas:
    Conn:
      type: object
      properties:
        method:
          default: form
          enum: [form, uri]
`
	out, err := runOgen("x.yaml", []byte(spec), false, []string{"all"})
	if err != nil {
		t.Fatal(err)
	}
	want := "x.yaml:" + at(t, spec, "default: form", 1) + ": operation testConnection (POST /conn): skipped: complex defaults not implemented; the default value is not applied"
	if len(out.skipped) != 1 || out.skipped[0] != want {
		t.Errorf("got %q\nwant %q", out.skipped, want)
	}
}

func TestWebhooksAndCallbacksAreReported(t *testing.T) {
	spec := `openapi: 3.1.0
info: {title: x, version: "1"}
paths:
  /subscriptions:
    post:
      operationId: subscribe
      responses:
        "201": {description: subscribed}
      callbacks:
        onEvent:
          '{$request.body#/callbackUrl}':
            post:
              responses:
                "200": {description: ok}
webhooks:
  newPet:
    post:
      operationId: newPetHook
      responses:
        "200": {description: ok}
`
	out, err := runOgen("hooks.yaml", []byte(spec), false, nil)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{
		"hooks.yaml:" + at(t, spec, "onEvent:", 1) + ": callback onEvent of operation subscribe is not served",
		"hooks.yaml:" + at(t, spec, "post:", 3) + ": webhook newPet (POST) is not served by this service",
	}
	got := strings.Join(out.skipped, "\n")
	for _, w := range want {
		if !strings.Contains(got, w) {
			t.Errorf("missing %q in\n%s", w, got)
		}
	}
}

func TestOperationIDAsInTheSpec(t *testing.T) {
	spec := `openapi: 3.0.3
info: {title: x, version: "1"}
paths:
  /pets/{id}:
    get:
      operationId: find pet by id
      parameters:
        - {name: id, in: path, required: true, schema: {type: integer}}
      responses:
        "200": {description: ok}
  /pets:
    get:
      responses:
        "200": {description: ok}
    post:
      operationId: pets.create
      responses:
        "204": {description: ok}
    put:
      operationId: replacePets
      responses:
        "204": {description: ok}
`
	out, err := runOgen("x.yaml", []byte(spec), false, nil)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string][2]string{ // Name -> OperationID, Key
		"FindPetByID": {"find pet by id", "find pet by id"},
		"PetsGet":     {"", "PetsGet"},
		"PetsCreate":  {"pets.create", "pets.create"},
		"ReplacePets": {"replacePets", "replacePets"},
	}
	if len(out.ops) != len(want) {
		t.Fatalf("ops %+v", out.ops)
	}
	for _, op := range out.ops {
		if w := want[op.Name]; op.OperationID != w[0] || op.Key() != w[1] {
			t.Errorf("%s: OperationID %q, Key %q; want %q, %q", op.Name, op.OperationID, op.Key(), w[0], w[1])
		}
	}
	// A reused render reads the same.
	again, err := reuseOgen(out.files)
	if err != nil {
		t.Fatal(err)
	}
	for i, op := range again.ops {
		if op != out.ops[i] {
			t.Errorf("reused %+v, fresh %+v", op, out.ops[i])
		}
	}
}
