package generator

import (
	"context"
	"strings"
	"testing"

	"golang.org/x/tools/imports"
)

// TestFormatGoFastPath: every Go file of every preset must be exactly what
// goimports makes of it, whichever path formatGo took.
func TestFormatGoFastPath(t *testing.T) {
	c, err := LoadCatalog("")
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range c.Presets() {
		res, err := Generate(context.Background(), Request{Catalog: c, Options: goldenOptions(p.Name)})
		if err != nil {
			t.Fatal(err)
		}
		fast := 0
		for _, f := range res.Files {
			if !strings.HasSuffix(f.Path, ".go") || strings.HasPrefix(f.Path, apiDir+"/") {
				continue
			}
			want, err := imports.Process(f.Path, f.Content, &imports.Options{Comments: true, TabIndent: true, TabWidth: 8})
			if err != nil {
				t.Fatalf("%s: %v", f.Path, err)
			}
			if string(want) != string(f.Content) {
				t.Errorf("%s/%s is not what goimports makes of it:\n%s", p.Name, f.Path, firstDiff(string(want), string(f.Content)))
			}
			if importsExact(f.Content) {
				fast++
			}
		}
		t.Logf("%s: %d Go files formatted without a go env call", p.Name, fast)
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
