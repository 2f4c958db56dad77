package generator

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/svcgen/svcgen/internal/golden"
)

// TestSchemas keeps the published JSON Schemas under schema/ in step with
// the Go types; -update rewrites them.
func TestSchemas(t *testing.T) {
	c, err := LoadCatalog("")
	if err != nil {
		t.Fatal(err)
	}
	for name, gen := range map[string]func() ([]byte, error){
		"preset.schema.json":        c.PresetSchema,
		"answers.schema.json":       c.AnswersSchema,
		"feature.schema.json":       c.FeatureSchema,
		"check.schema.json":         CheckSchema,
		"fleet-upgrade.schema.json": UpgradeSchema,
	} {
		got, err := gen()
		if err != nil {
			t.Fatal(err)
		}
		var v map[string]any
		if err := json.Unmarshal(got, &v); err != nil {
			t.Fatalf("%s is not JSON: %v", name, err)
		}
		path := filepath.Join("..", "schema", name)
		if golden.Update() {
			if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(path, got, 0o644); err != nil {
				t.Fatal(err)
			}
			continue
		}
		want, err := os.ReadFile(path)
		if err != nil {
			t.Fatalf("%v (run go test ./generator -run TestSchemas -update)", err)
		}
		if string(want) != string(got) {
			t.Errorf("%s is stale: run go test ./generator -run TestSchemas -update", path)
		}
	}
}
