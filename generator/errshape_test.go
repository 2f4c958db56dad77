package generator

import (
	"strings"
	"testing"
)

// errSpec is a one-operation spec whose error responses are given.
func errSpec(responses, schemas string) string {
	return `openapi: 3.0.3
info: {title: t, version: "1"}
paths:
  /things/{id}:
    get:
      operationId: getThing
      parameters:
        - {name: id, in: path, required: true, schema: {type: integer}}
      responses:
        "200":
          description: ok
          content:
            application/json:
              schema: {type: object, properties: {id: {type: integer}}}
` + responses + `
components:
  schemas:
` + schemas
}

func TestErrorShape(t *testing.T) {
	for _, tc := range []struct {
		name, responses, schemas string
		status, typ, literal     string
		contentType              string
	}{
		{
			name: "code and message",
			responses: `        default:
          description: error
          content: {application/json: {schema: {$ref: "#/components/schemas/Error"}}}`,
			schemas: `    Error:
      type: object
      required: [code, message]
      properties: {code: {type: integer, format: int32}, message: {type: string}}`,
			status: "api.ErrorStatusCode", typ: "api.Error", literal: "api.Error{Code: int32(status), Message: msg}",
			contentType: "application/json",
		},
		{
			name: "optional fields with other names",
			responses: `        default:
          description: error
          content: {application/json: {schema: {$ref: "#/components/schemas/Error"}}}`,
			schemas: `    Error:
      type: object
      properties: {fault_message: {type: string}, ok: {type: boolean}, error_code: {type: integer}}`,
			status: "api.ErrorStatusCode", typ: "api.Error", literal: "api.Error{FaultMessage: api.NewOptString(msg), ErrorCode: api.NewOptInt(status)}",
			contentType: "application/json",
		},
		{
			name: "problem+json",
			responses: `        default:
          description: problem
          content: {application/problem+json: {schema: {$ref: "#/components/schemas/Problem"}}}`,
			schemas: `    Problem:
      type: object
      required: [type, title, status]
      properties: {type: {type: string}, title: {type: string}, status: {type: integer, format: int32}, detail: {type: string}}`,
			status: "api.ProblemStatusCode", typ: "api.Problem",
			literal:     "api.Problem{Title: http.StatusText(status), Status: int32(status), Detail: api.NewOptString(msg)}",
			contentType: "application/problem+json",
		},
		{
			name: "a string",
			responses: `        default:
          description: error
          content: {application/json: {schema: {$ref: "#/components/schemas/Error"}}}`,
			schemas: `    Error: {type: string}`,
			status:  "api.ErrorStatusCode", typ: "api.Error", literal: "api.Error(msg)",
			contentType: "application/json",
		},
		{
			name: "free-form, not an object",
			responses: `        default:
          description: error
          content: {application/json: {schema: {$ref: "#/components/schemas/Error"}}}`,
			schemas: `    Error: {description: anything}`,
			status:  "api.ErrorStatusCode", typ: "api.Error", literal: "api.Error(jx.Raw(apierr.Body(status, msg)))",
			contentType: "application/json",
		},
		{
			name: "no default, two error responses share a schema",
			responses: `        "400":
          description: bad
          content: {application/json: {schema: {$ref: "#/components/schemas/Oops"}}}
        "404":
          description: missing
          content: {application/json: {schema: {$ref: "#/components/schemas/Oops"}}}
        "409":
          description: conflict
          content: {application/json: {schema: {$ref: "#/components/schemas/Other"}}}`,
			schemas: `    Oops:
      type: object
      required: [message]
      properties: {message: {type: string}, status: {type: integer}}
    Other: {type: object, properties: {reason: {type: string}}}`,
			typ: "api.Oops", literal: "api.Oops{Message: msg, Status: api.NewOptInt(status)}",
			contentType: "application/json",
		},
		{
			name: "no error schema at all",
			responses: `        "404":
          description: missing`,
			schemas: `    Unused: {type: string}`,
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			spec := errSpec(tc.responses, tc.schemas)
			og, err := runOgen("openapi.yaml", []byte(spec), false, nil)
			if err != nil {
				t.Fatal(err)
			}
			sh, err := errorShape(og, []byte(spec))
			if err != nil {
				t.Fatal(err)
			}
			if sh.StatusType != tc.status || sh.Type != tc.typ || sh.Literal != tc.literal {
				t.Errorf("shape %+v\nwant status %q, type %q, literal %q", sh, tc.status, tc.typ, tc.literal)
			}
			if tc.typ != "" && (!sh.Encodes || sh.ContentType != tc.contentType) {
				t.Errorf("encodes %v, content type %q; want true, %q", sh.Encodes, sh.ContentType, tc.contentType)
			}
			if tc.typ == "" && !strings.Contains(sh.Source, "svcgen's default") {
				t.Errorf("source %q, want svcgen's default", sh.Source)
			}
		})
	}
}
