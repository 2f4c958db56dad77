package migrate

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// writeModule writes a one-package module with the go.mod (renamed) and
// go.sum of the fixture named.
func writeModule(t *testing.T, fixture, src string) string {
	t.Helper()
	dir := t.TempDir()
	sum, err := os.ReadFile(filepath.Join("..", "..", "testdata", "migrate", fixture, "go.sum"))
	if err != nil {
		t.Fatal(err)
	}
	mod, err := os.ReadFile(filepath.Join("..", "..", "testdata", "migrate", fixture, "go.mod"))
	if err != nil {
		t.Fatal(err)
	}
	_, rest, _ := strings.Cut(string(mod), "\n")
	files := map[string]string{
		"go.mod":  "module example.com/odd\n" + rest,
		"go.sum":  string(sum),
		"main.go": src,
	}
	for name, content := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// TestProblems: what ServeMux or net/http cannot express is reported at
// its line, with what to do, and the plan cannot be applied.
func TestProblems(t *testing.T) {
	cases := []struct {
		name, fixture, src string
		want               []string
	}{
		{"gorilla regexp and matcher", "gorilla", `package main

import (
	"net/http"

	"github.com/gorilla/mux"
)

func get(w http.ResponseWriter, r *http.Request) { _, _ = w.Write([]byte(mux.Vars(r)["id"])) }

func routes() http.Handler {
	r := mux.NewRouter()
	r.HandleFunc("/items/{id:[0-9]+}", get).Methods("GET")
	r.HandleFunc("/search", get).Queries("q", "{q}")
	return r
}

func main() { _ = http.ListenAndServe(":8080", routes()) }
`, []string{
			`main.go:13: the regexp parameter "{id:[0-9]+}"`,
			`main.go:14: the route matcher .Queries(...) has no ServeMux pattern equivalent`,
		}},
		{"echo custom middleware and direct handler call", "echo", `package main

import (
	"net/http"

	"github.com/labstack/echo/v4"
)

func hello(c echo.Context) error { return c.String(http.StatusOK, "hi") }

func auth(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error { return next(c) }
}

func routes() http.Handler {
	e := echo.New()
	e.Use(auth)
	e.GET("/hello", hello)
	e.GET("/files/*", hello)
	return e
}

var direct = hello

func main() { _ = http.ListenAndServe(":8080", routes()) }
`, []string{
			"main.go:17: the middleware `auth` is echo-specific",
			`main.go:19: the wildcard route "/files/*"`,
			"main.go:23: the handler hello is used outside a route registration",
		}},
		{"gin handler context escapes", "gin", `package main

import (
	"net/http"

	"github.com/gin-gonic/gin"
)

func keep(c *gin.Context) {}

func show(c *gin.Context) {
	keep(c)
	c.JSON(http.StatusOK, gin.H{"ok": true})
}

func routes() http.Handler {
	r := gin.New()
	r.GET("/show", show)
	return r
}

func main() { _ = http.ListenAndServe(":8080", routes()) }
`, []string{
			"main.go:12: `keep(c)` uses the gin context in a way migrate does not convert",
			"main.go:9: `gin.Context` stays: migrate does not convert it",
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			dir := writeModule(t, tc.fixture, tc.src)
			res, err := Plan(context.Background(), dir)
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, p := range res.Problems {
				got = append(got, p.String())
			}
			all := strings.Join(got, "\n")
			for _, w := range tc.want {
				if !strings.Contains(all, w) {
					t.Errorf("no problem %q in:\n%s", w, all)
				}
			}
			for _, p := range res.Problems {
				if p.Fix == "" {
					t.Errorf("%s: says no fix", p)
				}
			}
			before, _ := os.ReadFile(filepath.Join(dir, "main.go"))
			if _, err := Apply(context.Background(), res, ApplyOptions{AllowDirty: true}); err == nil {
				t.Fatal("Apply wrote a plan with problems")
			}
			after, _ := os.ReadFile(filepath.Join(dir, "main.go"))
			if string(before) != string(after) {
				t.Error("main.go changed although the plan has problems")
			}
			if _, err := os.Stat(filepath.Join(dir, SpecPath)); err == nil {
				t.Error("the spec was written although the plan has problems")
			}
		})
	}
}

// TestApplyRollsBack: a rewrite that does not type-check is undone, the
// spec draft removed, and the replaced file kept in a backup.
func TestApplyRollsBack(t *testing.T) {
	dir := t.TempDir()
	orig := "package main\n\nfunc main() {}\n"
	for name, content := range map[string]string{"go.mod": "module example.com/rb\n\ngo 1.26.0\n", "main.go": orig} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	res := &Result{Dir: dir, Spec: []byte("openapi: 3.0.3\n"),
		Changes: []Change{
			{Path: "main.go", Old: []byte(orig), New: []byte("package main\n\nfunc main() { undefined() }\n")},
			{Path: "httpjson.go", New: []byte("package main\n")},
		}}
	_, err := Apply(context.Background(), res, ApplyOptions{AllowDirty: true})
	var be *BuildError
	if !errors.As(err, &be) || !strings.Contains(be.Error(), "undefined") {
		t.Fatalf("Apply: %v, want a BuildError naming undefined", err)
	}
	if b, _ := os.ReadFile(filepath.Join(dir, "main.go")); string(b) != orig {
		t.Errorf("main.go not restored:\n%s", b)
	}
	for _, p := range []string{"httpjson.go", SpecPath} {
		if _, err := os.Stat(filepath.Join(dir, p)); err == nil {
			t.Errorf("%s left behind after the rollback", p)
		}
	}
	matches, _ := filepath.Glob(filepath.Join(dir, ".svcgen", "backup", "*", "main.go"))
	if len(matches) != 1 {
		t.Errorf("backups of main.go: %v, want one", matches)
	}
}
