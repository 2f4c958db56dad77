package audit

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/svcgen/svcgen/internal/golden"
)

const fleetGolden = "testdata/fleet.md"

// TestFleetFigures audits testdata/audit as one fleet and checks the
// review-style figures exactly: each practice's share with its
// denominator, the priorities with their services and evidence, the
// offenders by severity, and the Markdown against its golden
// (go test ./generator/audit -run TestFleetFigures -update rewrites it).
func TestFleetFigures(t *testing.T) {
	r, err := Run(context.Background(), []string{fixtures}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	f := r.Fleet
	// pass, applicable, unrecognised, n/a, findings
	want := map[string][5]int{
		"dbpool":     {2, 5, 0, 1, 3},
		"timeouts":   {2, 6, 0, 0, 18},
		"batch":      {1, 6, 0, 0, 12},
		"cache":      {2, 5, 0, 1, 12},
		"pooling":    {2, 5, 0, 1, 4},
		"router":     {2, 5, 0, 1, 3},
		"alignment":  {2, 6, 0, 0, 6},
		"resources":  {3, 5, 0, 1, 4},
		"goroutines": {3, 5, 0, 1, 3},
	}
	for _, c := range f.Checks {
		got := [5]int{c.Pass, c.Applicable, c.Unrecognised, c.NA, c.Findings}
		if got != want[c.ID] {
			t.Errorf("%s: pass, applicable, unrecognised, n/a, findings = %v, want %v", c.ID, got, want[c.ID])
		}
		if c.Applicable+c.NA != f.Services {
			t.Errorf("%s: %d applicable + %d n/a is not the %d services", c.ID, c.Applicable, c.NA, f.Services)
		}
	}
	if f.Checks[0].Percent != 40 || f.Checks[1].Percent != 33.3 {
		t.Errorf("dbpool %v%%, timeouts %v%%, want 40 and 33.3", f.Checks[0].Percent, f.Checks[1].Percent)
	}
	type group struct {
		services []string
		evidence []int
	}
	wantP := map[Priority]group{
		P0: {[]string{"sqlx-echo", "legacy-chi", "gin-boil", "mixed-fleet/cmd/worker", "mixed-fleet/cmd/api"}, []int{11, 10, 7, 5, 1}},
		P1: {[]string{"sqlx-echo", "gin-boil", "legacy-chi", "mixed-fleet/cmd/api", "mixed-fleet/cmd/worker"}, []int{10, 8, 7, 2, 1}},
		P2: {[]string{"gin-boil", "legacy-chi", "sqlx-echo"}, []int{1, 1, 1}},
		P3: {},
	}
	if len(f.Priorities) != 4 {
		t.Fatalf("%d priorities, want 4", len(f.Priorities))
	}
	for _, g := range f.Priorities {
		var got group
		for _, s := range g.Services {
			got.services = append(got.services, s.Name)
			got.evidence = append(got.evidence, s.Evidence)
		}
		if !reflect.DeepEqual(got, wantP[g.Priority]) {
			t.Errorf("%s: services %v evidence %v, want %v %v", g.Priority, got.services, got.evidence, wantP[g.Priority].services, wantP[g.Priority].evidence)
		}
	}
	var offenders []string
	for _, o := range f.TopOffenders {
		offenders = append(offenders, o.Name+":"+o.Worst)
	}
	if w := []string{"sqlx-echo:timeouts", "legacy-chi:timeouts", "gin-boil:timeouts", "mixed-fleet/cmd/worker:timeouts", "mixed-fleet/cmd/api:dbpool"}; !reflect.DeepEqual(offenders, w) {
		t.Errorf("top offenders %v, want %v", offenders, w)
	}
	if len(f.LoadErrors) != 0 {
		t.Errorf("load errors: %+v", f.LoadErrors)
	}
	var md bytes.Buffer
	if err := r.WriteMarkdown(&md); err != nil {
		t.Fatal(err)
	}
	if golden.Update() {
		if err := os.MkdirAll(filepath.Dir(fleetGolden), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(fleetGolden, md.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	golden, err := os.ReadFile(fleetGolden)
	if err != nil {
		t.Fatalf("%v (go test ./generator/audit -run TestFleetFigures -update writes it)", err)
	}
	if !bytes.Equal(golden, md.Bytes()) {
		t.Errorf("the Markdown differs from %s (go test ./generator/audit -run TestFleetFigures -update, then review the diff):\n%s", fleetGolden, md.String())
	}
	for _, line := range []string{
		"- DB pool config in 40% of services (2 of 5 applicable; 0 unrecognised; 1 n/a, left out); P0, 3 finding(s)",
		"| mixed-fleet/cmd/api | dbpool | - | 1 |",
	} {
		if !strings.Contains(md.String(), line) {
			t.Errorf("markdown lacks %q", line)
		}
	}

	// The JSON report reads back as a baseline with the same figures.
	var js bytes.Buffer
	if err := r.WriteJSON(&js); err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(t.TempDir(), "before.json")
	if err := os.WriteFile(p, js.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	b, err := LoadBaseline(p)
	if err != nil {
		t.Fatal(err)
	}
	if b.Score != r.Score || !reflect.DeepEqual(b.Fleet.Checks, f.Checks) || !reflect.DeepEqual(b.Fleet.Priorities, f.Priorities) {
		t.Errorf("baseline read back differs: score %v, checks %+v", b.Score, b.Fleet.Checks)
	}
	if err := os.WriteFile(p, []byte(`{"tool":"x"}`), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := LoadBaseline(p); err == nil || !strings.Contains(err.Error(), "no fleet.checks") {
		t.Errorf("a report without fleet: %v", err)
	}
}

// TestUniqueNames names services of one directory name by their paths.
func TestUniqueNames(t *testing.T) {
	ss := []Service{
		{Name: "api", Path: "services/a/api"},
		{Name: "api", Path: "services/b/api"},
		{Name: "shop/cmd/api", Path: "shop", Main: "cmd/api"},
		{Name: "worker", Path: "worker"},
	}
	uniqueNames(ss)
	var got []string
	for _, s := range ss {
		got = append(got, s.Name)
	}
	if w := []string{"services/a/api", "services/b/api", "shop/cmd/api", "worker"}; !reflect.DeepEqual(got, w) {
		t.Errorf("names %v, want %v", got, w)
	}
}

// TestLoadErrorsReported: a service that does not type-check is in the
// fleet's load errors, by name, with the compiler's message.
func TestLoadErrorsReported(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "broken")
	for p, src := range map[string]string{
		"go.mod":  "module example.com/broken\n\ngo 1.26.0\n",
		"main.go": "package main\n\nfunc main() { var x int = \"no\"; _ = x }\n",
	} {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, p), []byte(src), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	r, err := Run(context.Background(), []string{dir}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if len(r.Fleet.LoadErrors) != 1 || r.Fleet.LoadErrors[0].Name != "broken" || !strings.Contains(r.Fleet.LoadErrors[0].Errors[0], "main.go:3") {
		t.Fatalf("load errors: %+v", r.Fleet.LoadErrors)
	}
	var md bytes.Buffer
	if err := r.WriteMarkdown(&md); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(md.String(), "## Load errors") || !strings.Contains(md.String(), "- broken: 1 error(s): ") {
		t.Errorf("markdown lacks the load errors:\n%s", md.String())
	}
}
