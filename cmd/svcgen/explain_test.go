package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/svcgen/svcgen/generator"

	"github.com/svcgen/svcgen/internal/golden"
)

// explainGolden holds one file per feature: the output of `svcgen explain FEATURE`.
const explainGolden = "../../testdata/explain"

// TestExplainGolden compares `svcgen explain FEATURE` for every feature with
// testdata/explain/<feature>.txt; a missing or an unexpected file fails.
// `go test ./cmd/svcgen -run TestExplainGolden -update` rewrites them.
func TestExplainGolden(t *testing.T) {
	cat, err := generator.LoadCatalog("")
	if err != nil {
		t.Fatal(err)
	}
	if golden.Update() {
		if err := os.RemoveAll(explainGolden); err != nil {
			t.Fatal(err)
		}
		if err := os.MkdirAll(explainGolden, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	want := map[string]bool{}
	entries, err := os.ReadDir(explainGolden)
	if err != nil && !golden.Update() {
		t.Fatalf("%v (run `go test ./cmd/svcgen -run TestExplainGolden -update` to create the golden files)", err)
	}
	for _, e := range entries {
		want[e.Name()] = true
	}
	for _, f := range cat.Features() {
		t.Run(f.Name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			if code := Run([]string{"explain", f.Name}, strings.NewReader(""), &stdout, &stderr); code != 0 {
				t.Fatalf("exit %d: %s", code, stderr.String())
			}
			file := filepath.Join(explainGolden, f.Name+".txt")
			if golden.Update() {
				if err := os.WriteFile(file, stdout.Bytes(), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(file)
			if err != nil {
				t.Fatalf("%v (run `go test ./cmd/svcgen -run TestExplainGolden -update`)", err)
			}
			if got := stdout.String(); got != string(want) {
				t.Errorf("svcgen explain %s differs from %s (review, then rewrite with -update):\n%s", f.Name, file, golden.Diff(f.Name+".txt", want, stdout.Bytes()))
			}
		})
		delete(want, f.Name+".txt")
	}
	if !golden.Update() {
		for name := range want {
			t.Errorf("unexpected golden file %s: no feature %q", filepath.Join(explainGolden, name), strings.TrimSuffix(name, ".txt"))
		}
	}
}

// TestEveryFeatureExplained fails when a feature folder has no explain.md.
func TestEveryFeatureExplained(t *testing.T) {
	cat, err := generator.LoadCatalog("")
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range cat.Features() {
		if strings.TrimSpace(f.Explain) == "" {
			t.Errorf("templates/%s/explain.md is missing or empty: write what the feature solves, the parameters that tune it and how to see it working", f.Name)
		}
	}
}
