package generator

import (
	"bytes"
	"os"
	"strings"
	"testing"

	"github.com/ogen-go/ogen"
	"github.com/ogen-go/ogen/gen"
	"go.uber.org/zap"
)

// processedOgen is runOgen's output (post-processed) for the entity
// starter's spec.
func processedOgen(t *testing.T) map[string][]byte {
	t.Helper()
	spec, err := os.ReadFile("../templates/starters/entity/api/openapi.yaml")
	if err != nil {
		t.Fatal(err)
	}
	out, err := runOgen("openapi.yaml", spec, false, nil)
	if err != nil {
		t.Fatal(err)
	}
	return out.files
}

// runOgenRawF is ogen's output as ogen writes it (OpenTelemetry on or
// off), without postProcessOgen.
func runOgenRawF(spec []byte, otel bool) (map[string][]byte, error) {
	parsed, err := ogen.Parse(spec)
	if err != nil {
		return nil, err
	}
	opts := gen.Options{}
	opts.Generator.Features = ogenFeatures(otel)
	opts.Logger = zap.NewNop()
	g, err := gen.NewGenerator(parsed, opts)
	if err != nil {
		return nil, err
	}
	fs := &memFS{files: map[string][]byte{}}
	if err := g.WriteSource(fs, "api"); err != nil {
		return nil, err
	}
	return fs.files, nil
}

func TestPostProcessOgen(t *testing.T) {
	files := processedOgen(t)
	handlers := string(files["oas_handlers_gen.go"])
	ops := strings.Count(handlers, "func (s *Server) handle")
	if ops == 0 {
		t.Fatal("no handlers in ogen's output")
	}
	if n := strings.Count(handlers, "ctx = h.StartOperation(ctx, w, "); n != ops {
		t.Errorf("%d of %d handlers start the operation hook", n, ops)
	}
	if !strings.Contains(handlers, `h.StartOperation(ctx, w, GetItemOperation, "getItem")`) {
		t.Error("getItem's hook call does not name its operation and operationId")
	}
	if strings.Contains(handlers, "&codeRecorder{") {
		t.Error("a handler still wraps w in codeRecorder, which nothing reads without OpenTelemetry")
	}
	enc := string(files["oas_response_encoders_gen.go"])
	if strings.Contains(enc, "new(jx.Encoder)") || !strings.Contains(enc, "e := getEncoder()\n\tdefer putEncoder(e)") {
		t.Errorf("response encoders are not pooled:\n%s", enc)
	}
	if !strings.Contains(enc, "setRetryAfter(w, code) // svcgen\n\tw.WriteHeader(code)") {
		t.Error("encodeErrorResponse does not set Retry-After before writing the status")
	}
	if strings.Contains(enc, `w.Header().Set("Content-Type", "`) || !strings.Contains(enc, `w.Header()["Content-Type"] = svcgenContentType0`) ||
		!strings.Contains(enc, `svcgenContentType0 = []string{"application/json; charset=utf-8"}`) {
		t.Errorf("response encoders do not share their Content-Type values:\n%s", enc)
	}
	if !bytes.Contains(files["oas_cfg_gen.go"], []byte("Operations         OperationHook")) {
		t.Errorf("serverConfig has no Operations field:\n%s", files["oas_cfg_gen.go"])
	}
	hooks := string(files[ogenHooksFile])
	for _, want := range []string{"type OperationHook interface", "func WithOperationHook(", "func getEncoder()", "func putEncoder(", "func setRetryAfter("} {
		if !strings.Contains(hooks, want) {
			t.Errorf("%s has no %q", ogenHooksFile, want)
		}
	}
}

// TestPostProcessOgenOtel: with ogen's OpenTelemetry on, every handler
// starts the operation hook inside its span and runs ogen's per-request
// instrumentation only when s.cfg.instrumented() (a provider that is not
// a no-op); the hooks file defines instrumented.
func TestPostProcessOgenOtel(t *testing.T) {
	spec, err := os.ReadFile("../templates/starters/entity/api/openapi.yaml")
	if err != nil {
		t.Fatal(err)
	}
	out, err := runOgen("openapi.yaml", spec, true, nil)
	if err != nil {
		t.Fatal(err)
	}
	handlers := string(out.files["oas_handlers_gen.go"])
	ops := strings.Count(handlers, "func (s *Server) handle")
	if ops == 0 {
		t.Fatal("no handlers in ogen's output")
	}
	for _, want := range []string{"if s.cfg.instrumented() {", "ctx = h.StartOperation(ctx, w, ", "ctx, span = s.cfg.Tracer.Start(ctx,", "span := trace.SpanFromContext(ctx)", "return // svcgen: OpenTelemetry off", "return // svcgen: nothing records it"} {
		if n := strings.Count(handlers, want); n != ops {
			t.Errorf("%d of %d handlers have %q", n, ops, want)
		}
	}
	// The hook starts after the guarded block: inside the span when on.
	get := handlers[strings.Index(handlers, "func (s *Server) handleGetItemRequest"):]
	if g, h := strings.Index(get, "if s.cfg.instrumented() {"), strings.Index(get, "h.StartOperation("); g < 0 || h < g {
		t.Error("getItem's operation hook does not start after the OpenTelemetry block")
	}
	hooks := string(out.files[ogenHooksFile])
	if !strings.Contains(hooks, "func (cfg *otelConfig) instrumented() bool") {
		t.Errorf("%s has no instrumented method:\n%s", ogenHooksFile, hooks)
	}
}

// TestShareContentTypes: each constant Content-Type gets one variable,
// used wherever that value is set; a value computed at run time, another
// header and another key stay as they are.
func TestShareContentTypes(t *testing.T) {
	src := []byte(`package api

import "net/http"

func a(w http.ResponseWriter) { w.Header().Set("Content-Type", "application/json; charset=utf-8") }
func b(w http.ResponseWriter) { w.Header().Set("Content-Type", "text/plain") }
func c(rw http.ResponseWriter) { rw.Header().Set("Content-Type", "application/json; charset=utf-8") }
func d(w http.ResponseWriter, ct string) { w.Header().Set("Content-Type", ct) }
func e(w http.ResponseWriter) { w.Header().Set("Access-Control-Expose-Headers", "X-Rate") }
`)
	out, n := shareContentTypes(src)
	if n != 3 {
		t.Fatalf("%d rewrites, want 3:\n%s", n, out)
	}
	for _, want := range []string{
		`w.Header()["Content-Type"] = svcgenContentType0`,
		`w.Header()["Content-Type"] = svcgenContentType1`,
		`rw.Header()["Content-Type"] = svcgenContentType0`,
		`svcgenContentType0 = []string{"application/json; charset=utf-8"}`,
		`svcgenContentType1 = []string{"text/plain"}`,
		`w.Header().Set("Content-Type", ct)`,
		`w.Header().Set("Access-Control-Expose-Headers", "X-Rate")`,
	} {
		if !bytes.Contains(out, []byte(want)) {
			t.Errorf("no %q in:\n%s", want, out)
		}
	}
	if out, n := shareContentTypes([]byte("package api\n\nvar svcgenContentType0 = 1\n\nfunc a(w interface{ Header() map[string][]string }) { w.Header().Set(\"Content-Type\", \"x\") }\n")); n != 0 || bytes.Contains(out, []byte(`["Content-Type"]`)) {
		t.Errorf("a package that declares the name itself was rewritten (%d):\n%s", n, out)
	}
}
