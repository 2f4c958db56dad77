package audit

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite schema/audit.schema.json")

const fixtures = "../../testdata/audit"

// want is every finding of the legacy fixtures: service, check, file:line.
var want = `
api batch cmd/api/main.go:90
api batch internal/cache/cache.go:50
api dbpool cmd/api/main.go:31
legacy-chi alignment internal/store/store.go:10
legacy-chi batch internal/handlers/handlers.go:30
legacy-chi batch internal/store/store.go:55
legacy-chi cache internal/handlers/handlers.go:23
legacy-chi cache internal/handlers/handlers.go:30
legacy-chi cache internal/handlers/handlers.go:46
legacy-chi dbpool main.go:18
legacy-chi goroutines internal/handlers/handlers.go:59
legacy-chi pooling internal/handlers/handlers.go:37
legacy-chi pooling internal/handlers/handlers.go:51
legacy-chi router internal/handlers/handlers.go:10
legacy-chi router main.go:10
legacy-chi timeouts internal/handlers/handlers.go:30
legacy-chi timeouts internal/handlers/handlers.go:46
legacy-chi timeouts internal/handlers/handlers.go:60
legacy-chi timeouts internal/store/store.go:36
legacy-chi timeouts internal/store/store.go:55
legacy-chi timeouts main.go:22
legacy-chi timeouts main.go:27
worker alignment cmd/worker/main.go:17
worker batch internal/cache/cache.go:50
worker timeouts cmd/worker/main.go:28
worker timeouts cmd/worker/main.go:32
worker timeouts cmd/worker/main.go:40
worker timeouts cmd/worker/main.go:41
`

func TestFixtures(t *testing.T) {
	r, err := Run(context.Background(), []string{fixtures}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	byName := map[string]Service{}
	for _, s := range r.Services {
		byName[s.Name] = s
		if len(s.Errors) > 0 {
			t.Errorf("%s: load errors: %v", s.Name, s.Errors)
		}
		for _, c := range s.Checks {
			for _, f := range c.Findings {
				got = append(got, fmt.Sprintf("%s %s %s:%d", s.Name, c.ID, f.File, f.Line))
			}
		}
	}
	sort.Strings(got)
	if g, w := strings.Join(got, "\n"), strings.TrimSpace(want); g != w {
		t.Errorf("findings:\n%s\nwant:\n%s", g, w)
	}
	// The monorepo is split by cmd/*; the clean generated service passes.
	for name, score := range map[string]float64{"clean-svc": 100, "legacy-chi": 0, "api": 75, "worker": 40} {
		if s, ok := byName[name]; !ok || s.Score != score {
			t.Errorf("%s scores %v, want %v", name, s.Score, score)
		}
	}
	if c := byName["clean-svc"]; c.Findings != 0 || !c.Uses.Ogen || len(c.Uses.Routers) != 0 {
		t.Errorf("clean-svc: %d findings, uses %+v", c.Findings, c.Uses)
	}
	if byName["legacy-chi"].Checks[6].BytesSaved != 16 {
		t.Errorf("legacy-chi alignment saves %d bytes, want 16", byName["legacy-chi"].Checks[6].BytesSaved)
	}
	if r.Fleet.Services != 4 || r.Fleet.Routers != 1 || r.Fleet.TopOffenders[0].Name != "legacy-chi" {
		t.Errorf("fleet: %+v", r.Fleet)
	}
	var md strings.Builder
	if err := r.WriteMarkdown(&md); err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{"DB pool config in 33% (1 of 3) of services that open a DB", "| legacy-chi (", "main.go:18: sql.Open without SetMaxOpenConns"} {
		if !strings.Contains(md.String(), s) {
			t.Errorf("markdown lacks %q", s)
		}
	}
}

// TestFix applies the mechanical fixes to copies of the legacy fixtures:
// field order, pool limits, the server's ReadHeaderTimeout.
func TestFix(t *testing.T) {
	root := t.TempDir()
	for _, s := range []string{"legacy-chi", "mixed-fleet"} {
		if err := os.CopyFS(filepath.Join(root, s), os.DirFS(filepath.Join(fixtures, s))); err != nil {
			t.Fatal(err)
		}
	}
	r, err := Run(context.Background(), []string{root}, Options{Fix: true})
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range r.Services {
		for _, c := range s.Checks {
			for _, f := range c.Findings {
				if f.Fixable {
					t.Errorf("%s: still fixable after --fix: %s:%d: %s", s.Name, f.File, f.Line, f.Message)
				}
			}
			if (c.ID == "alignment" || c.ID == "dbpool") && c.Status == Fail {
				t.Errorf("%s: %s still fails after --fix", s.Name, c.ID)
			}
		}
	}
	for file, want := range map[string]string{
		"legacy-chi/internal/store/store.go": "type Player struct {\n\tName   string\n\tID     int64",
		"legacy-chi/main.go":                 "log.Fatal(err)\n\t}\n\tdb.SetMaxOpenConns(25)\n\tdb.SetMaxIdleConns(25)\n\tdb.SetConnMaxLifetime(5 * time.Minute)\n\tdb.SetConnMaxIdleTime(10 * time.Minute)\n",
		"mixed-fleet/cmd/api/main.go":        "cfg.MaxConns = 20\n\tcfg.MaxConnLifetime = 5 * time.Minute\n\tcfg.MaxConnIdleTime = 10 * time.Minute\n\tpool, err := pgxpool.NewWithConfig(ctx, cfg)",
		"mixed-fleet/cmd/worker/main.go":     `&http.Server{Addr: "127.0.0.1:9091", ReadHeaderTimeout: 5 * time.Second}`,
	} {
		src, err := os.ReadFile(filepath.Join(root, file))
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(string(src), want) {
			t.Errorf("%s lacks %q:\n%s", file, want, src)
		}
	}
}

// TestSchema keeps schema/audit.schema.json in step with the Go types;
// -update rewrites it.
func TestSchema(t *testing.T) {
	got, err := Schema()
	if err != nil {
		t.Fatal(err)
	}
	var v map[string]any
	if err := json.Unmarshal(got, &v); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join("..", "..", "schema", "audit.schema.json")
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./generator/audit -run TestSchema -update)", err)
	}
	if string(want) != string(got) {
		t.Errorf("%s is stale: run go test ./generator/audit -run TestSchema -update", path)
	}
}

// BenchmarkAudit90 audits 90 services: the fixtures copied over and over.
func BenchmarkAudit90(b *testing.B) {
	root := b.TempDir()
	srcs := []string{"legacy-chi", "mixed-fleet", "clean-svc"}
	for i := 0; i < 90; {
		for _, s := range srcs {
			if i == 90 {
				break
			}
			if s == "mixed-fleet" {
				// a monorepo of two services
				if i+2 > 90 {
					s = "legacy-chi"
				} else {
					i++
				}
			}
			dst := filepath.Join(root, fmt.Sprintf("svc-%02d-%s", i, s))
			if err := os.CopyFS(dst, os.DirFS(filepath.Join(fixtures, s))); err != nil {
				b.Fatal(err)
			}
			i++
		}
	}
	b.ResetTimer()
	for range b.N {
		r, err := Run(context.Background(), []string{root}, Options{})
		if err != nil {
			b.Fatal(err)
		}
		if len(r.Services) != 90 {
			b.Fatalf("%d services, want 90", len(r.Services))
		}
	}
}
