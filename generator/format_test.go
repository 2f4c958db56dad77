package generator

import (
	"context"
	"os"
	"strings"
	"testing"

	"golang.org/x/tools/imports"

	"github.com/svcgen/svcgen/internal/golden"
)

// TestFormatGoFastPath: every Go file of every preset must be exactly what
// goimports makes of it, whichever path formatGo took.
func TestFormatGoFastPath(t *testing.T) {
	c, err := LoadCatalog("")
	if err != nil {
		t.Fatal(err)
	}
	var cases []Options
	for _, p := range c.Presets() {
		cases = append(cases, goldenOptions(p.Name))
		o := goldenOptions(p.Name)
		o.Features = []string{"-profiling", "-pgo", "-pprof"}
		cases = append(cases, o)
	}
	bare := goldenOptions("hot-path")
	bare.Features = []string{"-observability", "-metrics", "-timeouts", "-pool", "-profiling", "-pgo", "-pprof"}
	cases = append(cases, bare)
	userSpec, err := os.ReadFile("../testdata/specs/matchmaking.yaml")
	if err != nil {
		t.Fatal(err)
	}
	user := goldenOptions("read-heavy")
	user.Spec = "matchmaking.yaml"
	cases = append(cases, user)
	for _, o := range cases {
		before := fallbacks.count()
		var spec []byte
		if o.Spec != "" {
			spec = userSpec
		}
		res, err := Generate(context.Background(), Request{Catalog: c, Options: o, Spec: spec})
		if err != nil {
			t.Fatal(err)
		}
		// Templates must render exact imports: imports.Process runs the go
		// command in the working directory, so its result can depend on
		// where svcgen runs (a broken go.mod there changes it).
		if paths := fallbacks.since(before); len(paths) != 0 {
			t.Errorf("%s %v: %v needed imports.Process; give their templates exact imports", o.Preset, o.Features, paths)
		}
		for _, f := range res.Files {
			if !strings.HasSuffix(f.Path, ".go") || strings.HasPrefix(f.Path, apiDir+"/") {
				continue
			}
			want, err := imports.Process(f.Path, f.Content, &imports.Options{Comments: true, TabIndent: true, TabWidth: 8})
			if err != nil {
				t.Fatalf("%s: %v", f.Path, err)
			}
			if string(want) != string(f.Content) {
				t.Errorf("%s %v: %s is not what goimports makes of it:\n%s", o.Preset, o.Features, f.Path, golden.Diff(f.Path, want, f.Content))
			}
		}
	}
}

func TestAssumedName(t *testing.T) {
	for path, want := range map[string]string{
		"github.com/jackc/pgx/v5":          "pgx",
		"gopkg.in/yaml.v3":                 "yaml",
		"github.com/aymanbagabas/go-udiff": "udiff",
		"github.com/go-faster/jx":          "jx",
		"net/http":                         "http",
		"github.com/grafana/pyroscope-go":  "pyroscope",
		"github.com/prometheus/client_golang/prometheus/promhttp": "promhttp",
	} {
		if got := assumedName(path); got != want {
			t.Errorf("assumedName(%q) = %q, want %q", path, got, want)
		}
	}
}
