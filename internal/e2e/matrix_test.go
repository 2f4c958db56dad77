package e2e

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/svcgen/svcgen/generator"
)

// pgURL and redisURL are the real services the generated tests use.
func pgURL() string {
	if u := os.Getenv("SVCGEN_TEST_PG_URL"); u != "" {
		return u
	}
	return "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable"
}

func redisURL() string {
	if u := os.Getenv("SVCGEN_TEST_REDIS_URL"); u != "" {
		return u
	}
	return "redis://127.0.0.1:6379/0"
}

var (
	faOnce sync.Once
	faPath string
	faErr  error
)

// fieldalignment builds the analyzer once from svcgen's own module.
func fieldalignment(t *testing.T) string {
	t.Helper()
	faOnce.Do(func() {
		dir, err := os.MkdirTemp("", "svcgen-fa-")
		if err != nil {
			faErr = err
			return
		}
		faPath = filepath.Join(dir, "fieldalignment")
		out, err := exec.Command("go", "build", "-o", faPath, "github.com/svcgen/svcgen/internal/tools/fieldalignment").CombinedOutput()
		if err != nil {
			faErr = err
			faPath = string(out)
		}
	})
	if faErr != nil {
		t.Fatalf("building fieldalignment: %v\n%s", faErr, faPath)
	}
	return faPath
}

// GenerateService renders a preset with the engine and writes it to a new
// directory under t.TempDir(), then runs go mod tidy.
func GenerateService(t testing.TB, o generator.Options, spec []byte) string {
	t.Helper()
	c, err := generator.LoadCatalog("")
	if err != nil {
		t.Fatal(err)
	}
	res, err := generator.Generate(context.Background(), generator.Request{Catalog: c, Options: o, Spec: spec})
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(t.TempDir(), o.Name)
	writeTidy(t, dir, res)
	return dir
}

// writeTidy writes res into dir (missing or empty) and runs go mod tidy.
func writeTidy(t testing.TB, dir string, res generator.Result) {
	t.Helper()
	if err := generator.Write(dir, res); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	var progress strings.Builder
	if err := generator.Tidy(ctx, dir, &progress); err != nil {
		t.Fatalf("go mod tidy: %v\n%s", err, progress.String())
	}
}

// run runs a command in dir with the test services in its environment and
// fails the test with its output when it fails.
func run(t *testing.T, dir string, name string, args ...string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "DATABASE_URL="+pgURL(), "REDIS_URL="+redisURL(), "GOFLAGS=-mod=mod")
	start := time.Now()
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("%s %s in %s failed after %v: %v\n%s", name, strings.Join(args, " "), dir, time.Since(start).Round(time.Millisecond), err, out)
	}
	t.Logf("%s %s: ok in %v", name, strings.Join(args, " "), time.Since(start).Round(time.Millisecond))
	return string(out)
}

// lintPackages lists the service's packages for fieldalignment, without
// ogen's output (internal/api, and the platform tests' small ogen server):
// ogen's structs are ogen's, as the service's own `make lint` has it.
func lintPackages(t *testing.T, dir string) []string {
	var out []string
	for _, p := range strings.Fields(run(t, dir, "go", "list", "./...")) {
		if !strings.HasSuffix(p, "/internal/api") && !strings.HasSuffix(p, "/ogentest") {
			out = append(out, p)
		}
	}
	return out
}

// TestMatrix generates every preset and proves the output: go build, go vet,
// fieldalignment, and the service's own tests against the real PostgreSQL
// and Redis; then, on the same tree, the observability pack against a real
// Prometheus server (proveObservability).
func TestMatrix(t *testing.T) {
	c, err := generator.LoadCatalog("")
	if err != nil {
		t.Fatal(err)
	}
	fa := fieldalignment(t)
	sem := make(chan struct{}, max(1, runtime.NumCPU()/2))
	for _, p := range c.Presets() {
		t.Run(p.Name, func(t *testing.T) {
			t.Parallel()
			sem <- struct{}{}
			defer func() { <-sem }()
			name := "matrix-" + p.Name + "-svc"
			o := generator.Options{Name: name, Module: "example.com/" + name, Preset: p.Name}
			dir := GenerateService(t, o, nil)
			prove(t, dir, fa)
			proveObservability(t, dir, o)
		})
	}
	// A real-world spec of the user's: 3.1, tags, path/query/header
	// parameters, enums, allOf/oneOf with a discriminator, several response
	// codes, an operation without operationId, a bearer security scheme.
	t.Run("user-spec", func(t *testing.T) {
		t.Parallel()
		sem <- struct{}{}
		defer func() { <-sem }()
		spec, err := os.ReadFile("../../testdata/specs/matchmaking.yaml")
		if err != nil {
			t.Fatal(err)
		}
		dir := GenerateService(t, generator.Options{Name: "matchmaking-service-go", Module: "example.com/matchmaking", Preset: "read-heavy", Spec: "matchmaking.yaml"}, spec)
		prove(t, dir, fa)
	})
}

// prove builds, vets, lints and tests a generated service.
func prove(t *testing.T, dir, fa string) {
	run(t, dir, "go", "build", "./...")
	run(t, dir, "go", "vet", "./...")
	run(t, dir, fa, lintPackages(t, dir)...)
	out := run(t, dir, "go", "test", "-count=1", "./...")
	if !strings.Contains(out, "ok ") {
		t.Fatalf("the generated service ran no test:\n%s", out)
	}
	t.Logf("go test:\n%s", out)
}
