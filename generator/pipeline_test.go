package generator

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// TestPlanService: the pipeline regen and check share renders a service
// from its manifest, with the answers a regen changes, and plans it.
func TestPlanService(t *testing.T) {
	c := fixture(t, nil)
	dir := service(t, nil, nil)
	ctx := context.Background()

	p, _, err := PlanService(ctx, c, dir, PlanOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if p.Drift() {
		t.Fatalf("a fresh service drifts: %v", p.Changes)
	}

	// Switching to a preset without pool removes its untouched file.
	p, _, err = PlanService(ctx, c, dir, PlanOptions{Answers: AnswerChanges{Preset: "plain"}})
	if err != nil {
		t.Fatal(err)
	}
	if got := action(p, "internal/platform/pool/pool.go"); got != Remove {
		t.Errorf("pool.go after switching to plain: %s, want %s", got, Remove)
	}
	if !p.Drift() || !p.ManifestChanged {
		t.Error("a preset switch must drift and change the manifest")
	}
	m, err := unmarshalManifest(p.Manifest)
	if err != nil {
		t.Fatal(err)
	}
	if m.Answers.Preset != "plain" {
		t.Errorf("new manifest records preset %q, want plain", m.Answers.Preset)
	}

	// The same switch by features: the recorded override is merged.
	p, _, err = PlanService(ctx, c, dir, PlanOptions{Answers: AnswerChanges{Features: []string{"-pool"}}})
	if err != nil {
		t.Fatal(err)
	}
	if got := action(p, "internal/platform/pool/pool.go"); got != Remove {
		t.Errorf("pool.go with -pool: %s, want %s", got, Remove)
	}
	if m, _ = unmarshalManifest(p.Manifest); !slices.Equal(m.Answers.Features, []string{"-pool"}) {
		t.Errorf("new manifest records features %q, want [-pool]", m.Answers.Features)
	}

	for _, tc := range []struct {
		answers AnswerChanges
		want    string
	}{
		{AnswerChanges{Preset: "hto"}, `unknown preset "hto" (did you mean "hot"?)`},
		{AnswerChanges{Features: []string{"+pool", "-pool"}}, `--features: feature "pool" is both added (+pool) and removed (-pool)`},
		{AnswerChanges{Features: []string{"+nope"}}, `unknown feature "nope"`},
	} {
		_, _, err := PlanService(ctx, c, dir, PlanOptions{Answers: tc.answers})
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%+v: error %v, want one containing %q", tc.answers, err, tc.want)
		}
	}

	// Nothing was written by any of it.
	if p, _, _ = PlanService(ctx, c, dir, PlanOptions{}); p.Drift() {
		t.Error("PlanService wrote to the service")
	}
}

// TestCheckService: check's report follows the plan's one drift rule.
func TestCheckService(t *testing.T) {
	c := fixture(t, nil)
	dir := service(t, nil, nil)
	ctx := context.Background()

	sc := CheckService(ctx, c, dir)
	if sc.Err() != nil {
		t.Fatal(sc.Err())
	}
	if sc.Status != StatusUpToDate || sc.Changed != 0 || len(sc.DriftLines()) != 0 {
		t.Fatalf("fresh service: status %s, %d changed, lines %q", sc.Status, sc.Changed, sc.DriftLines())
	}

	// A hand edit of a generated file: regen would refuse it.
	main := "cmd/pet-service-go/main.go"
	writeFile(t, dir, main, readFile(t, dir, main)+"// mine\n")
	sc = CheckService(ctx, c, dir)
	if sc.Status != StatusConflictRisk || !slices.Equal(sc.HandEdited, []string{main}) {
		t.Errorf("hand edit: status %s, hand edited %q", sc.Status, sc.HandEdited)
	}
	if lines := sc.DriftLines(); !slices.Contains(lines, "hand-edited "+main) {
		t.Errorf("hand edit: lines %q, want %q", lines, "hand-edited "+main)
	}

	// A file the user deleted stays deleted: no drift.
	writeFile(t, dir, main, strings.TrimSuffix(readFile(t, dir, main), "// mine\n"))
	pool := "internal/platform/pool/pool.go"
	if err := os.Remove(filepath.Join(dir, pool)); err != nil {
		t.Fatal(err)
	}
	if sc = CheckService(ctx, c, dir); sc.Status != StatusUpToDate {
		t.Errorf("deleted %s: status %s, lines %q", pool, sc.Status, sc.DriftLines())
	}

	// A newer svcgen renders the generated file differently: drift, as
	// the plan says, listing the file (the manifest goes with it).
	newer := fixture(t, map[string]string{"pool/internal/platform/pool/pool.go.tmpl": "{{.Header}}\npackage pool\n\n// v2\n"})
	dir = service(t, nil, nil)
	sc = CheckService(ctx, newer, dir)
	p, _, err := PlanService(ctx, newer, dir, PlanOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if sc.Status != StatusDrift || !p.Drift() || !slices.Equal(sc.DriftLines(), []string{"updated " + pool}) {
		t.Errorf("newer render of %s: status %s (plan drift %v), lines %q", pool, sc.Status, p.Drift(), sc.DriftLines())
	}
	if sc.Changed != 2 || len(sc.Pending) != 2 || sc.Pending[0].Class != string(Generated) || sc.Pending[1].Class != "manifest" {
		t.Errorf("newer render: %d changed, pending %+v; want the generated file and the manifest", sc.Changed, sc.Pending)
	}

	// An interrupted regen is drift until regen completes it.
	if err := os.MkdirAll(filepath.Join(dir, stageDir), 0o755); err != nil {
		t.Fatal(err)
	}
	writeFile(t, dir, journalPath, `{"renames":[],"removes":[]}`)
	sc = CheckService(ctx, c, dir)
	if !sc.RegenPending || sc.Status != StatusDrift || len(sc.DriftLines()) != 1 {
		t.Errorf("pending regen: pending %v, status %s, lines %q", sc.RegenPending, sc.Status, sc.DriftLines())
	}

	// A directory that is no service is an error with its reason.
	sc = CheckService(ctx, c, t.TempDir())
	if sc.Status != StatusError || sc.Err() == nil || !strings.Contains(sc.Error, "svcgen adopt") || sc.DriftLines() != nil {
		t.Errorf("no manifest: status %s, error %q", sc.Status, sc.Error)
	}
}
