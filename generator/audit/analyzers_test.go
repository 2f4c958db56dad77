package audit

import (
	"path/filepath"
	"testing"

	"golang.org/x/tools/go/analysis"
	"golang.org/x/tools/go/analysis/analysistest"
)

// vetdata is the absolute path of the GOPATH tree of the analyzers' own cases (standard
// library only), one package tree per check, checked with analysistest's
// `// want` comments. Its name starts with _ so the audit's fixture walk
// leaves it alone.
func vetdata(t *testing.T) string {
	t.Helper()
	dir, err := filepath.Abs(filepath.Join("testdata", "_vet"))
	if err != nil {
		t.Fatal(err)
	}
	return dir
}

// TestAnalyzersAlone runs each check by itself, as go vet or gopls would,
// on cases after the patterns of the fixtures; cross-package cases (a
// query behind another package's interface or helper, pool limits set by
// another package's helper, a sync.Pool in an imported package) go
// through Facts.
func TestAnalyzersAlone(t *testing.T) {
	for _, tc := range []struct {
		a        *analysis.Analyzer
		patterns []string
	}{
		{DBPool, []string{"dbpool/..."}},
		{Timeouts, []string{"timeouts"}},
		{Batch, []string{"batch/handlers"}},
		{Cache, []string{"cache/..."}},
		{Pooling, []string{"pooling/..."}},
		{Resources, []string{"resources"}},
		{Goroutines, []string{"goroutines"}},
	} {
		t.Run(tc.a.Name, func(t *testing.T) {
			analysistest.Run(t, vetdata(t), tc.a, tc.patterns...)
		})
	}
}

// TestAlignmentFix: the suggested fix reorders the fields with their
// comments; wire-tagged and generated structs get none.
func TestAlignmentFix(t *testing.T) {
	analysistest.RunWithSuggestedFixes(t, vetdata(t), Alignment, "alignment")
}

// TestFacts checks the facts themselves: the interface methods stand for
// their only implementation, the helper two calls away from the DB is a
// round trip, and the package fact says what the package uses.
func TestFacts(t *testing.T) {
	analysistest.Run(t, vetdata(t), Facts, "batch/store")
}

// TestAnalyzersValid: the list go vet runs is well formed (names unique,
// docs present, requirements acyclic, fact types declared).
func TestAnalyzersValid(t *testing.T) {
	if err := analysis.Validate(Analyzers); err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for i, a := range Analyzers {
		if a.Name != checkTable[i].id {
			t.Errorf("Analyzers[%d] is %s, want %s (report order)", i, a.Name, checkTable[i].id)
		}
		if seen[a.Name] || a.Doc == "" || a.URL == "" {
			t.Errorf("%s: duplicate name or no Doc/URL", a.Name)
		}
		seen[a.Name] = true
	}
}

// TestRouterAlone: a module of its own (chi from the module proxy), where
// the package that brings chi in is reported once for its two files and
// main, which imports chi and that package, is not reported again.
func TestRouterAlone(t *testing.T) {
	dir, err := filepath.Abs(filepath.Join("testdata", "_vet", "router"))
	if err != nil {
		t.Fatal(err)
	}
	t.Setenv("GOFLAGS", "-mod=mod")
	analysistest.Run(t, dir, Router, "./...")
}
