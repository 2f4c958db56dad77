package e2e

import (
	"context"
	"testing"

	"github.com/svcgen/svcgen/generator"
	"github.com/svcgen/svcgen/generator/audit"
)

// TestPresetsAuditClean generates every preset and audits it: what svcgen
// generates must pass every check of svcgen audit.
func TestPresetsAuditClean(t *testing.T) {
	if testing.Short() {
		t.Skip("generates and tidies every preset")
	}
	c, err := generator.LoadCatalog("")
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range c.Presets() {
		t.Run(p.Name, func(t *testing.T) {
			t.Parallel()
			name := "audit-" + p.Name + "-svc"
			dir := GenerateService(t, generator.Options{Name: name, Module: "example.com/" + name, Preset: p.Name}, nil)
			r, err := audit.Run(context.Background(), []string{dir}, audit.Options{})
			if err != nil {
				t.Fatal(err)
			}
			s := r.Services[0]
			if len(s.Errors) > 0 {
				t.Fatalf("loading %s: %v", p.Name, s.Errors)
			}
			for _, ch := range s.Checks {
				for _, f := range ch.Findings {
					t.Errorf("%s: %s: %s:%d: %s", p.Name, ch.ID, f.File, f.Line, f.Message)
				}
			}
			if s.Score != 100 {
				t.Errorf("%s scores %v, want 100", p.Name, s.Score)
			}
		})
	}
}
