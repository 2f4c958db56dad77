package generator

import (
	"bytes"
	"encoding/json"
	"go/parser"
	"go/token"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// entityOgen is ogen's own output for the entity starter's spec.
func entityOgen(t *testing.T, otel bool) map[string][]byte {
	t.Helper()
	spec, err := os.ReadFile("../templates/starters/entity/api/openapi.yaml")
	if err != nil {
		t.Fatal(err)
	}
	files, err := runOgenRawF(spec, otel)
	if err != nil {
		t.Fatal(err)
	}
	return files
}

// TestPostProcessOgenOtelRewrites: with OpenTelemetry on, each handler
// starts the hook inside the tracer's span and keeps the codeRecorder
// ogen's metrics read; the encoders are pooled and 503s get Retry-After.
func TestPostProcessOgenOtelRewrites(t *testing.T) {
	files := entityOgen(t, true)
	if err := postProcessOgen(files); err != nil {
		t.Fatal(err)
	}
	handlers := string(files["oas_handlers_gen.go"])
	ops := strings.Count(handlers, "func (s *Server) handle")
	if n := strings.Count(handlers, "ctx = h.StartOperation(ctx, w, "); ops == 0 || n != ops {
		t.Errorf("%d of %d handlers start the operation hook", n, ops)
	}
	if n := strings.Count(handlers, "&codeRecorder{"); n != ops {
		t.Errorf("%d of %d handlers keep the codeRecorder OpenTelemetry reads", n, ops)
	}
	if i, j := strings.Index(handlers, "ctx, span = s.cfg.Tracer.Start("), strings.Index(handlers, "h.StartOperation("); i < 0 || j < i {
		t.Error("the hook does not start after the span")
	}
	enc := string(files["oas_response_encoders_gen.go"])
	if strings.Contains(enc, "new(jx.Encoder)") || !strings.Contains(enc, "setRetryAfter(w, code)") {
		t.Error("with OpenTelemetry the encoders are not pooled or 503s get no Retry-After")
	}
	// svcgen's module does not require OpenTelemetry, so this package
	// cannot be compiled here: it must at least parse.
	for name, src := range files {
		if _, err := parser.ParseFile(token.NewFileSet(), name, src, 0); err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
}

// TestPostProcessOgenSkipsCleanly: where ogen's output lacks the code a
// rewrite looks for, that rewrite is skipped, its file left as ogen wrote
// it, and the package still builds (the operation hook then runs as ogen
// middleware).
func TestPostProcessOgenSkipsCleanly(t *testing.T) {
	raw := entityOgen(t, false)
	for _, c := range []struct {
		name, file, old, new string
		// unchanged is the file left as ogen wrote it; want and absent are
		// what the result must and must not hold (file: text).
		unchanged    string
		want, absent []string
	}{
		{
			name: "encoder not a define", file: "oas_response_encoders_gen.go", old: "e := new(jx.Encoder)", new: "var e = new(jx.Encoder)",
			want:   []string{"oas_response_encoders_gen.go: setRetryAfter(w, code)", "oas_handlers_gen.go: h.StartOperation(ctx, w, "},
			absent: []string{"oas_response_encoders_gen.go: getEncoder()", ogenHooksFile + ": func getEncoder()"},
		},
		{
			name: "encoders already pooled", file: "oas_response_encoders_gen.go", old: "e := new(jx.Encoder)", new: "e := jx.GetEncoder()",
			absent: []string{ogenHooksFile + ": func getEncoder()"},
		},
		{
			name: "no ctx from the request", file: "oas_handlers_gen.go", old: "ctx := r.Context()", new: "ctx := context.WithoutCancel(r.Context())",
			unchanged: "oas_handlers_gen.go",
			want:      []string{ogenHooksFile + ": return WithMiddleware(func(req middleware.Request", "oas_response_encoders_gen.go: getEncoder()"},
			absent:    []string{"oas_cfg_gen.go: OperationHook"},
		},
		{
			name: "no operation literal", file: "oas_handlers_gen.go", old: "OperationID:", new: "OpID:",
			unchanged: "oas_handlers_gen.go",
			want:      []string{ogenHooksFile + ": return WithMiddleware("},
		},
		{
			name: "no serverConfig", file: "oas_cfg_gen.go", old: "type serverConfig struct", new: "type srvConfig struct",
			unchanged: "oas_handlers_gen.go",
			want:      []string{ogenHooksFile + ": return WithMiddleware("},
		},
		{
			name: "error status not written with w.WriteHeader(code)", file: "oas_response_encoders_gen.go", old: "w.WriteHeader(code)", new: "w.WriteHeader(int(code))",
			want:   []string{"oas_response_encoders_gen.go: getEncoder()"},
			absent: []string{"oas_response_encoders_gen.go: setRetryAfter", ogenHooksFile + ": RetryAfter"},
		},
	} {
		t.Run(c.name, func(t *testing.T) {
			files := map[string][]byte{}
			for name, src := range raw {
				files[name] = bytes.Clone(src)
			}
			if !bytes.Contains(files[c.file], []byte(c.old)) {
				t.Fatalf("%s has no %q: update this test for the ogen version", c.file, c.old)
			}
			files[c.file] = bytes.ReplaceAll(files[c.file], []byte(c.old), []byte(c.new))
			if c.old == "OperationID:" { // and the other literal that names the operation
				files[c.file] = bytes.ReplaceAll(files[c.file], []byte("ogenerrors.OperationContext{"), []byte("ogenerrors.OpContext{"))
			}
			before := bytes.Clone(files[c.unchanged])
			if err := postProcessOgen(files); err != nil {
				t.Fatalf("postProcessOgen: %v", err)
			}
			if c.unchanged != "" && !bytes.Equal(files[c.unchanged], before) {
				t.Errorf("%s was rewritten; want it as ogen wrote it", c.unchanged)
			}
			has := func(fileText string) bool {
				file, text, _ := strings.Cut(fileText, ": ")
				return bytes.Contains(files[file], []byte(text))
			}
			for _, w := range c.want {
				if !has(w) {
					t.Errorf("want %s", w)
				}
			}
			for _, a := range c.absent {
				if has(a) {
					t.Errorf("want no %s", a)
				}
			}
		})
	}
	// A package whose handlers cannot take the hook and whose config has
	// no WithMiddleware either cannot serve the hook at all: that is an
	// error, not a package that does not build.
	files := map[string][]byte{}
	for name, src := range raw {
		files[name] = bytes.Clone(src)
	}
	files["oas_handlers_gen.go"] = bytes.ReplaceAll(files["oas_handlers_gen.go"], []byte("ctx := r.Context()"), []byte("ctx := context.WithoutCancel(r.Context())"))
	files["oas_cfg_gen.go"] = bytes.ReplaceAll(files["oas_cfg_gen.go"], []byte("func WithMiddleware("), []byte("func withMiddleware("))
	if err := postProcessOgen(files); err == nil || !strings.Contains(err.Error(), "oas_handlers_gen.go") {
		t.Errorf("no hook possible: error %v, want one naming oas_handlers_gen.go", err)
	}
}

// TestPostProcessOgenFallbackBuilds compiles the middleware fallback, with
// unpooled encoders and no Retry-After: every skip together still builds.
func TestPostProcessOgenFallbackBuilds(t *testing.T) {
	files := entityOgen(t, false)
	files["oas_handlers_gen.go"] = bytes.ReplaceAll(files["oas_handlers_gen.go"], []byte("ctx := r.Context()"), []byte("ctx := context.WithoutCancel(r.Context())"))
	files["oas_response_encoders_gen.go"] = bytes.ReplaceAll(files["oas_response_encoders_gen.go"], []byte("e := new(jx.Encoder)"), []byte("var e = new(jx.Encoder)"))
	files["oas_response_encoders_gen.go"] = bytes.ReplaceAll(files["oas_response_encoders_gen.go"], []byte("w.WriteHeader(code)"), []byte("w.WriteHeader(int(code))"))
	if err := postProcessOgen(files); err != nil {
		t.Fatal(err)
	}
	buildAPI(t, files)
}

// buildAPI compiles the api package files, through an overlay
// that places them inside this module (so they build against the ogen
// version svcgen uses) without writing into it.
func buildAPI(t *testing.T, files map[string][]byte) {
	t.Helper()
	if testing.Short() {
		t.Skip("builds a package: not in -short")
	}
	mod, err := filepath.Abs("..")
	if err != nil {
		t.Fatal(err)
	}
	tmp := t.TempDir()
	virt := filepath.Join(mod, "internal", "ogenpostcheck")
	overlay := map[string]map[string]string{"Replace": {}}
	for name, src := range files {
		p := filepath.Join(tmp, name)
		if err := os.WriteFile(p, src, 0o644); err != nil {
			t.Fatal(err)
		}
		overlay["Replace"][filepath.Join(virt, name)] = p
	}
	b, _ := json.Marshal(overlay)
	ov := filepath.Join(tmp, "overlay.json")
	if err := os.WriteFile(ov, b, 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("go", "build", "-overlay", ov, "./internal/ogenpostcheck")
	cmd.Dir = mod
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("the rewritten package does not build: %v\n%s", err, out)
	}
}
