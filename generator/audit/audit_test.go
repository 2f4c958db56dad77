package audit

import (
	"context"
	"encoding/json"
	"fmt"
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"

	"github.com/svcgen/svcgen/internal/golden"
)

const fixtures = "../../testdata/audit"

// ownFixtures are the fixtures only this package's tests read (gorm-shop:
// gorm's finishers in loops and behind the service's own helpers).
const ownFixtures = "testdata"

// wantRe finds the expected findings a fixture marks on its lines:
// `// want: batch timeouts` (a check named twice is two findings).
var wantRe = regexp.MustCompile(`//.*\bwant: ([a-z0-9 ]+)$`)

// finding is one (service, check, file:line) of the precision/recall
// count.
type finding struct{ service, check, loc string }

// wantedFindings reads the want: marks of every fixture. A mark counts
// for each service of its module, except under cmd/<name>/ of a module
// split into services by main package, where it counts for that one.
func wantedFindings(t *testing.T, r *Report) map[finding]int {
	t.Helper()
	want := map[finding]int{}
	for _, root := range []string{fixtures, ownFixtures} {
		if err := wantedIn(root, r, want); err != nil {
			t.Fatal(err)
		}
	}
	return want
}

// wantedIn adds the want: marks of the fixtures under root to want.
func wantedIn(root string, r *Report, want map[finding]int) error {
	return filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(p, ".go") {
			return err
		}
		src, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		for n, line := range strings.Split(string(src), "\n") {
			m := wantRe.FindStringSubmatch(line)
			if m == nil {
				continue
			}
			for _, s := range r.Services {
				rel, err := filepath.Rel(s.Path, p)
				if err != nil || strings.HasPrefix(rel, "..") {
					continue
				}
				rel = filepath.ToSlash(rel)
				if s.Main != "" && strings.HasPrefix(rel, "cmd/") && !strings.HasPrefix(rel, s.Main+"/") {
					continue
				}
				for _, c := range strings.Fields(m[1]) {
					want[finding{s.Name, c, fmt.Sprintf("%s:%d", rel, n+1)}]++
				}
			}
		}
		return nil
	})
}

// TestPrecisionRecall runs the audit on every fixture and compares its
// findings with the fixtures' want: marks, per check. The target is 100%
// precision and 100% recall on the fixtures; the table is logged
// (go test ./generator/audit -run TestPrecisionRecall -v).
func TestPrecisionRecall(t *testing.T) {
	r, err := Run(context.Background(), []string{fixtures, ownFixtures}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	got := map[finding]int{}
	for _, s := range r.Services {
		if len(s.Errors) > 0 {
			t.Errorf("%s: load errors: %v", s.Name, s.Errors)
		}
		for _, c := range s.Checks {
			for _, f := range c.Findings {
				got[finding{s.Name, c.ID, fmt.Sprintf("%s:%d", f.File, f.Line)}]++
			}
		}
	}
	want := wantedFindings(t, r)
	type count struct{ tp, fp, fn int }
	per := map[string]*count{}
	for _, c := range checkTable {
		per[c.id] = &count{}
	}
	var misses []string
	for k, n := range got {
		w := want[k]
		per[k.check].tp += min(n, w)
		if n > w {
			per[k.check].fp += n - w
			misses = append(misses, fmt.Sprintf("unexpected: %s %s %s (x%d)", k.service, k.check, k.loc, n-w))
		}
	}
	for k, w := range want {
		if c, ok := per[k.check]; !ok {
			t.Errorf("want mark names no check: %q at %s %s", k.check, k.service, k.loc)
		} else if n := got[k]; w > n {
			c.fn += w - n
			misses = append(misses, fmt.Sprintf("missed: %s %s %s (x%d)", k.service, k.check, k.loc, w-n))
		}
	}
	sort.Strings(misses)
	pct := func(a, b int) string {
		if b == 0 {
			return "-"
		}
		return fmt.Sprintf("%.0f%%", float64(a)*100/float64(b))
	}
	var tbl strings.Builder
	tbl.WriteString("\n| check | expected | found | true pos. | false pos. | false neg. | precision | recall |\n|---|---:|---:|---:|---:|---:|---:|---:|\n")
	tot := count{}
	for _, c := range checkTable {
		k := per[c.id]
		tot.tp, tot.fp, tot.fn = tot.tp+k.tp, tot.fp+k.fp, tot.fn+k.fn
		fmt.Fprintf(&tbl, "| %s | %d | %d | %d | %d | %d | %s | %s |\n", c.id, k.tp+k.fn, k.tp+k.fp, k.tp, k.fp, k.fn, pct(k.tp, k.tp+k.fp), pct(k.tp, k.tp+k.fn))
	}
	fmt.Fprintf(&tbl, "| all | %d | %d | %d | %d | %d | %s | %s |\n", tot.tp+tot.fn, tot.tp+tot.fp, tot.tp, tot.fp, tot.fn, pct(tot.tp, tot.tp+tot.fp), pct(tot.tp, tot.tp+tot.fn))
	t.Logf("precision and recall on testdata/audit and generator/audit/testdata (%d services):%s", len(r.Services), tbl.String())
	for _, c := range checkTable {
		if k := per[c.id]; k.tp+k.fn == 0 {
			t.Errorf("%s: no fixture marks a finding of this check", c.id)
		}
	}
	if len(misses) > 0 {
		t.Errorf("precision and recall below 100%%:\n%s", strings.Join(misses, "\n"))
	}
}

func TestFixtures(t *testing.T) {
	r, err := Run(context.Background(), []string{fixtures}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	byName := map[string]Service{}
	for _, s := range r.Services {
		byName[s.Name] = s
	}
	// The monorepo is split by cmd/*; the clean generated service passes.
	// Scores count pass over pass + fail + not recognised; n/a is left out.
	for name, score := range map[string]float64{"clean-svc": 100, "legacy-chi": 11.1, "mixed-fleet/cmd/api": 77.8, "mixed-fleet/cmd/worker": 0, "sqlx-echo": 0, "gin-boil": 22.2} {
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
	if w := byName["mixed-fleet/cmd/worker"]; w.Checks[0].Status != NotApplicable || w.Checks[3].Status != NotApplicable {
		t.Errorf("worker (Redis only, no handlers): dbpool %s, cache %s, want n/a", w.Checks[0].Status, w.Checks[3].Status)
	}
	if r.Fleet.Services != 6 || r.Fleet.Routers != 3 || r.Fleet.TopOffenders[0].Name != "sqlx-echo" {
		t.Errorf("fleet: %+v", r.Fleet)
	}
	var md strings.Builder
	if err := r.WriteMarkdown(&md); err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{"DB pool config in 40% of services (2 of 5 applicable; 0 unrecognised; 1 n/a, left out)", "| legacy-chi (", "main.go:18: sql.Open without SetMaxOpenConns"} {
		if !strings.Contains(md.String(), s) {
			t.Errorf("markdown lacks %q", s)
		}
	}
}

// TestFix applies the mechanical fixes to copies of the fixtures: field
// order (comments kept; aliases, anonymous, wire-tagged structs and
// generated files left alone), pool limits, the server's
// ReadHeaderTimeout; in one run to a fixed point, with a summary.
func TestFix(t *testing.T) {
	root := t.TempDir()
	srcs := []string{"legacy-chi", "mixed-fleet", "sqlx-echo", "gin-boil"}
	for _, s := range srcs {
		if err := os.CopyFS(filepath.Join(root, s), os.DirFS(filepath.Join(fixtures, s))); err != nil {
			t.Fatal(err)
		}
	}
	untouched := []string{"sqlx-echo/api/api.gen.go", "sqlx-echo/docs/docs.go", "gin-boil/models/items.go"}
	before := map[string][]byte{}
	for _, f := range untouched {
		before[f], _ = os.ReadFile(filepath.Join(root, f))
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
			if c.ID == "dbpool" && c.Status == Fail {
				t.Errorf("%s: %s still fails after --fix", s.Name, c.ID)
			}
		}
	}
	changes := 0
	for _, m := range r.Fixes {
		if m.Error != "" {
			t.Errorf("%s: %s", m.Path, m.Error)
		}
		changes += len(m.Changes)
		for _, c := range m.Changes {
			t.Logf("%s: %s:%d: %s", filepath.Base(m.Path), c.File, c.Line, c.Change)
		}
	}
	// The report keeps the fleet before the fixes: the pool limits took
	// dbpool from 1 of 4 to 4 of 4 applicable services.
	if r.Before == nil || r.Before.Source != "--fix" {
		t.Fatalf("no before figures: %+v", r.Before)
	}
	if b, a := r.Before.Fleet.Checks[0], r.Fleet.Checks[0]; b.Pass != 1 || b.Applicable != 4 || a.Pass != 4 || a.Applicable != 4 {
		t.Errorf("dbpool before %d of %d, after %d of %d; want 1 of 4, 4 of 4", b.Pass, b.Applicable, a.Pass, a.Applicable)
	}
	if len(r.Fixes) != len(srcs) || changes != 8 {
		t.Errorf("--fix summary: %d module(s), %d change(s), want %d and 8: %+v", len(r.Fixes), changes, len(srcs), r.Fixes)
	}
	for file, want := range map[string]string{
		"legacy-chi/internal/store/store.go": "type Player struct { // want: alignment\n\tName   string\n\tID     int64",
		"legacy-chi/main.go":                 "log.Fatal(err)\n\t}\n\tdb.SetMaxOpenConns(25)\n\tdb.SetMaxIdleConns(25)\n\tdb.SetConnMaxLifetime(5 * time.Minute)\n\tdb.SetConnMaxIdleTime(10 * time.Minute)\n",
		"mixed-fleet/cmd/api/main.go":        "cfg.MaxConns = 20\n\tcfg.MaxConnLifetime = 5 * time.Minute\n\tcfg.MaxConnIdleTime = 10 * time.Minute\n\tpool, err := pgxpool.NewWithConfig(ctx, cfg)",
		"mixed-fleet/cmd/worker/main.go":     `&http.Server{Addr: "127.0.0.1:9091", ReadHeaderTimeout: 5 * time.Second}`,
		"sqlx-echo/main.go":                  "log.Fatal(err)\n\t}\n\tdb.SetMaxOpenConns(25)",
		// A field's doc and line comments move with it.
		"sqlx-echo/api/types.go":        "type filter struct { // want: alignment\n\t// limit caps the page size.\n\tlimit int64\n\t// archived includes archived guilds.\n\tarchived bool\n\t// mine keeps the caller's guilds.\n\tmine bool\n}",
		"gin-boil/internal/api/wire.go": "\t// low is the lowest price in the band.\n\tlow int64\n\t// open is true while the band takes new items.\n\topen bool\n\t// sale marks a discounted band.\n\tsale bool // shown in red\n}",
	} {
		src, err := os.ReadFile(filepath.Join(root, file))
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(string(src), want) {
			t.Errorf("%s lacks %q:\n%s", file, want, src)
		}
	}
	// Left alone: the alias of the generated anonymous struct, the
	// JSON-tagged body, the admin server that has a ReadTimeout.
	for file, want := range map[string]string{
		"sqlx-echo/api/types.go":        "type GuildSummary = struct { // want: alignment\n\tOnline bool  `json:\"online\"`\n\tID     int64 `json:\"id\"`",
		"gin-boil/internal/api/wire.go": "\tFeatured bool   `json:\"featured\"`\n\tPrice    int64  `json:\"price\" binding:\"required\"`",
	} {
		src, _ := os.ReadFile(filepath.Join(root, file))
		if !strings.Contains(string(src), want) {
			t.Errorf("%s was reordered; want %q kept:\n%s", file, want, src)
		}
	}
	if src, _ := os.ReadFile(filepath.Join(root, "sqlx-echo/main.go")); strings.Contains(string(src), "ReadHeaderTimeout:") {
		t.Errorf("sqlx-echo/main.go got a ReadHeaderTimeout next to its ReadTimeout")
	}
	for _, f := range untouched {
		if after, _ := os.ReadFile(filepath.Join(root, f)); string(after) != string(before[f]) {
			t.Errorf("--fix edited the generated %s", f)
		}
	}
	// A fixed point: a second run finds nothing to fix.
	r2, err := Run(context.Background(), []string{root}, Options{Fix: true})
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range r2.Fixes {
		if len(m.Changes) > 0 || m.Error != "" {
			t.Errorf("second --fix on %s: %+v", m.Path, m)
		}
	}
}

// TestFixRollback: a reordering that breaks the build (a test builds the
// struct with an unkeyed literal) is undone, every file restored, and the
// report says why.
func TestFixRollback(t *testing.T) {
	dir := t.TempDir()
	files := map[string]string{
		"go.mod": "module example.com/rollback\n\ngo 1.26.0\n",
		"band.go": `package rollback

import (
	"database/sql"
	"time"
)

// Band is a price band.
type Band struct {
	Open bool
	Low  int64
	Sale bool
}

// Open opens the shop's DB.
func Open() (*sql.DB, error) {
	db, err := sql.Open("postgres", "")
	if err != nil {
		return nil, err
	}
	_ = time.Second
	return db, nil
}
`,
		"band_test.go": `package rollback

import "testing"

func TestBand(t *testing.T) {
	b := Band{true, 10, false}
	if !b.Open {
		t.Fatal(b)
	}
}
`,
	}
	for name, body := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	r, err := Run(context.Background(), []string{dir}, Options{Fix: true})
	if err != nil {
		t.Fatal(err)
	}
	if len(r.Fixes) != 1 || !strings.HasPrefix(r.Fixes[0].Error, "rolled back: the fixed code does not type-check") || len(r.Fixes[0].Changes) != 0 {
		t.Fatalf("fixes: %+v", r.Fixes)
	}
	for name, body := range files {
		if got, _ := os.ReadFile(filepath.Join(dir, name)); string(got) != body {
			t.Errorf("%s not restored:\n%s", name, got)
		}
	}
	var md strings.Builder
	if err := r.WriteMarkdown(&md); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(md.String(), "rolled back: the fixed code does not type-check") {
		t.Errorf("markdown does not say it rolled back:\n%s", md.String())
	}
}

// TestAlignmentAll: pointer-bytes notes (no memory saved) are reported
// only when asked.
func TestAlignmentAll(t *testing.T) {
	dir := filepath.Join(fixtures, "sqlx-echo")
	for _, all := range []bool{false, true} {
		r, err := Run(context.Background(), []string{dir}, Options{AlignmentAll: all})
		if err != nil {
			t.Fatal(err)
		}
		found := false
		for _, f := range r.Services[0].Checks[6].Findings {
			if strings.HasPrefix(f.Message, "pageToken has") {
				found = true
			}
		}
		if found != all {
			t.Errorf("AlignmentAll %v: pageToken reported %v", all, found)
		}
	}
}

// TestRecognition covers what the fixtures do not show line by line: the
// router an import belongs to, the generated-file headers, SQL that
// writes.
func TestRecognition(t *testing.T) {
	for path, want := range map[string]string{
		"github.com/labstack/echo/v4":                     "echo",
		"github.com/labstack/echo/v4/middleware":          "echo",
		"github.com/labstack/echo-contrib/echoprometheus": "",
		"github.com/go-chi/chi/v5/middleware":             "chi",
		"github.com/go-chi/cors":                          "",
		"github.com/gin-contrib/cors":                     "",
		"github.com/gofiber/fiber/v2":                     "fiber",
	} {
		if got := routerOf(path); got != want {
			t.Errorf("routerOf(%q) = %q, want %q", path, got, want)
		}
	}
	for src, want := range map[string]bool{
		"// Code generated by sqlc. DO NOT EDIT.\npackage db\n":                                                     true,
		"// Package api provides x.\n//\n// Code generated by oapi-codegen version v2 DO NOT EDIT.\npackage api\n":  true,
		"// Package docs Code generated by swaggo/swag. DO NOT EDIT\npackage docs\n":                                true,
		"// GENERATED BY THE COMMAND ABOVE; DO NOT EDIT\n// This file was generated by swaggo/swag\npackage docs\n": true,
		"// Package x is hand-written.\npackage x\n\n// Code generated by hand. DO NOT EDIT.\nvar v = 1\n":          false,
	} {
		f, err := parser.ParseFile(token.NewFileSet(), "x.go", src, parser.ParseComments)
		if err != nil {
			t.Fatal(err)
		}
		if got := isGenerated(f); got != want {
			t.Errorf("isGenerated(%q) = %v, want %v", src, got, want)
		}
	}
	for q, want := range map[string]bool{
		"SELECT id FROM items":                                                    false,
		"  insert into items (name) values ($1) returning id":                     true,
		"-- bump\nUPDATE items SET n = n + 1 RETURNING n":                         true,
		"WITH gone AS (DELETE FROM items RETURNING id) SELECT count(*) FROM gone": true,
		"WITH top AS (SELECT id FROM items) SELECT * FROM top":                    false,
	} {
		if got := writeSQL.MatchString(q); got != want {
			t.Errorf("writeSQL(%q) = %v, want %v", q, got, want)
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
	if golden.Update() {
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

// TestUnrecognised: a service that uses database/sql with a pool opened
// inside a library it depends on has something the dbpool check looks at
// but cannot see: "not recognised", which counts against the score (n/a
// would not).
func TestUnrecognised(t *testing.T) {
	root := t.TempDir()
	files := map[string]string{
		"corpdb/go.mod": "module example.com/corpdb\n\ngo 1.26.0\n",
		"corpdb/corpdb.go": `// Package corpdb opens the company's databases.
package corpdb

import "database/sql"

// Open opens the named database.
func Open(name string) (*sql.DB, error) { return sql.Open("postgres", name) }
`,
		"svc/go.mod": "module example.com/svc\n\ngo 1.26.0\n\nrequire example.com/corpdb v0.0.0\n\nreplace example.com/corpdb => ../corpdb\n",
		"svc/main.go": `package main

import (
	"context"
	"database/sql"
	"time"

	"example.com/corpdb"
)

func count(ctx context.Context, db *sql.DB) (n int, err error) {
	ctx, cancel := context.WithTimeout(ctx, time.Second)
	defer cancel()
	err = db.QueryRowContext(ctx, "SELECT count(*) FROM items").Scan(&n)
	return n, err
}

func main() {
	db, err := corpdb.Open("items")
	if err != nil {
		panic(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_, _ = count(ctx, db)
}
`,
	}
	for name, body := range files {
		p := filepath.Join(root, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	r, err := Run(context.Background(), []string{filepath.Join(root, "svc")}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	s := r.Services[0]
	if len(s.Errors) > 0 {
		t.Fatalf("load errors: %v", s.Errors)
	}
	status := map[string]Status{}
	for _, c := range s.Checks {
		status[c.ID] = c.Status
	}
	want := map[string]Status{"dbpool": Unrecognised, "batch": Pass, "resources": Pass, "timeouts": Pass, "cache": NotApplicable, "router": NotApplicable}
	for id, w := range want {
		if status[id] != w {
			t.Errorf("%s: %s, want %s", id, status[id], w)
		}
	}
	// pass: timeouts, batch, alignment, resources; not recognised: dbpool.
	if s.Score != 80 || r.Fleet.Checks[0].Unrecognised != 1 || r.Fleet.Checks[0].Percent != 0 {
		t.Errorf("score %v, fleet dbpool %+v", s.Score, r.Fleet.Checks[0])
	}
	var md strings.Builder
	if err := r.WriteMarkdown(&md); err != nil {
		t.Fatal(err)
	}
	for _, w := range []string{"DB pool config in 0% of services (0 of 1 applicable; 1 unrecognised; 0 n/a, left out)", " | - | dbpool | 0 |", "| DB pool config | not recognised | 0 |"} {
		if !strings.Contains(md.String(), w) {
			t.Errorf("markdown lacks %q:\n%s", w, md.String())
		}
	}
}
