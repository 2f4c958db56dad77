package migrate

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/tools/go/analysis"
	"golang.org/x/tools/go/analysis/checker"
	"golang.org/x/tools/go/analysis/passes/fieldalignment"
	"golang.org/x/tools/go/packages"
	"gopkg.in/yaml.v3"

	"github.com/svcgen/svcgen/generator"
)

// copyDir copies the fixture src into a new temporary directory.
func copyDir(t *testing.T, src string) string {
	t.Helper()
	dst := t.TempDir()
	err := filepath.WalkDir(src, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		if d.IsDir() {
			return os.MkdirAll(filepath.Join(dst, rel), 0o755)
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(dst, rel), b, 0o644)
	})
	if err != nil {
		t.Fatal(err)
	}
	return dst
}

func goCmd(t *testing.T, dir string, args ...string) string {
	t.Helper()
	cmd := exec.Command("go", args...)
	cmd.Dir = dir
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("go %s in %s: %v\n%s", strings.Join(args, " "), dir, err, out)
	}
	return string(out)
}

// The spec each fixture's routes must draft: path -> methods.
var wantPaths = map[string][]string{
	"/healthz":    {"get"},
	"/items":      {"get", "post"},
	"/items/{id}": {"get", "put", "delete"},
}

// TestFixtures migrates each fixture service: its own tests pass before,
// the router import is gone after, and the same tests, build and vet pass
// after; the drafted spec has every route and ogen accepts it.
func TestFixtures(t *testing.T) {
	if _, err := exec.LookPath("go"); err != nil {
		t.Skip("no go command")
	}
	if testing.Short() {
		t.Skip("builds and tests four services (about a minute)")
	}
	for _, name := range []string{"chi", "gorilla", "echo", "gin"} {
		t.Run(name, func(t *testing.T) {
			dir := copyDir(t, filepath.Join("..", "..", "testdata", "migrate", name))
			before := goCmd(t, dir, "test", "-count=1", "./...")
			t.Logf("before: %s", strings.TrimSpace(before))

			res, err := Plan(context.Background(), dir)
			if err != nil {
				t.Fatal(err)
			}
			for _, p := range res.Problems {
				t.Errorf("problem: %s", p)
			}
			if t.Failed() {
				t.FailNow()
			}
			if res.SpecErr != nil {
				t.Fatalf("ogen refuses the drafted spec: %v\n%s", res.SpecErr, res.Spec)
			}
			if len(res.Routes) != 6 {
				t.Errorf("routes: %+v, want 6", res.Routes)
			}
			if _, err := Apply(context.Background(), res, ApplyOptions{AllowDirty: true, Command: "test"}); err != nil {
				t.Fatalf("apply: %v\n%s", err, res.Diff())
			}
			for _, c := range res.Changes {
				b, err := os.ReadFile(filepath.Join(dir, c.Path))
				if err != nil {
					t.Fatal(err)
				}
				for ip := range routerImports {
					if strings.Contains(string(b), `"`+ip) {
						t.Errorf("%s still imports %s:\n%s", c.Path, ip, b)
					}
				}
			}
			goCmd(t, dir, "build", "./...")
			goCmd(t, dir, "vet", "./...")
			if msgs := fieldAlignment(t, dir); len(msgs) > 0 {
				t.Errorf("fieldalignment:\n%s", strings.Join(msgs, "\n"))
			}
			after := goCmd(t, dir, "test", "-count=1", "./...")
			t.Logf("after: %s", strings.TrimSpace(after))

			spec, err := os.ReadFile(filepath.Join(dir, SpecPath))
			if err != nil {
				t.Fatal(err)
			}
			if err := generator.CheckSpec(SpecPath, spec); err != nil {
				t.Fatalf("ogen: %v", err)
			}
			var doc struct {
				Paths map[string]map[string]struct {
					OperationID string `yaml:"operationId"`
					Parameters  []struct {
						Name   string `yaml:"name"`
						In     string `yaml:"in"`
						Schema struct {
							Type string `yaml:"type"`
						} `yaml:"schema"`
					} `yaml:"parameters"`
					RequestBody map[string]any `yaml:"requestBody"`
					Responses   map[string]any `yaml:"responses"`
				} `yaml:"paths"`
				Components struct {
					Schemas map[string]any `yaml:"schemas"`
				} `yaml:"components"`
			}
			if err := yaml.Unmarshal(spec, &doc); err != nil {
				t.Fatal(err)
			}
			for p, methods := range wantPaths {
				ops, ok := doc.Paths[p]
				if !ok {
					t.Errorf("spec has no path %s:\n%s", p, spec)
					continue
				}
				for _, m := range methods {
					op, ok := ops[m]
					if !ok {
						t.Errorf("spec has no %s %s", m, p)
						continue
					}
					if strings.Contains(p, "{id}") && (len(op.Parameters) != 1 || op.Parameters[0].Name != "id" || op.Parameters[0].In != "path" || op.Parameters[0].Schema.Type != "integer") {
						t.Errorf("%s %s: parameters %+v, want the integer path parameter id", m, p, op.Parameters)
					}
				}
			}
			if len(doc.Paths) != len(wantPaths) {
				t.Errorf("spec paths: %v", doc.Paths)
			}
			create := doc.Paths["/items"]["post"]
			if create.OperationID != "createItem" || create.RequestBody == nil || create.Responses["201"] == nil {
				t.Errorf("POST /items: %+v, want operationId createItem, a request body and a 201", create)
			}
			for _, s := range []string{"Item", "ItemInput"} {
				if doc.Components.Schemas[s] == nil {
					t.Errorf("no schema %s in components", s)
				}
			}
		})
	}
}

// fieldAlignment runs the fieldalignment analyzer on the module in dir.
func fieldAlignment(t *testing.T, dir string) []string {
	t.Helper()
	pkgs, err := packages.Load(&packages.Config{Dir: dir, Mode: packages.LoadAllSyntax}, "./...")
	if err != nil {
		t.Fatal(err)
	}
	g, err := checker.Analyze([]*analysis.Analyzer{fieldalignment.Analyzer}, pkgs, nil)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, r := range g.Roots {
		for _, d := range r.Diagnostics {
			out = append(out, r.Package.Fset.Position(d.Pos).String()+": "+d.Message)
		}
	}
	return out
}
