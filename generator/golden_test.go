package generator

import (
	"context"
	"io/fs"
	"os"
	"path/filepath"
	"testing"

	"github.com/svcgen/svcgen/internal/golden"
)

// goldenRoot holds one folder per preset with the full expected tree.
const goldenRoot = "../testdata/golden"

// goldenOptions are the answers every golden tree is rendered with.
func goldenOptions(preset string) Options {
	return Options{Name: "golden-" + preset, Module: "example.com/golden-" + preset, Preset: preset}
}

// TestGolden renders every preset and compares the whole tree with
// testdata/golden/<preset>: a missing, an unexpected or a changed file fails.
// `go test ./generator -update` rewrites the trees; review the diff.
func TestGolden(t *testing.T) {
	c, err := LoadCatalog("")
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range c.Presets() {
		t.Run(p.Name, func(t *testing.T) {
			res, err := Generate(context.Background(), Request{Catalog: c, Options: goldenOptions(p.Name)})
			if err != nil {
				t.Fatal(err)
			}
			dir := filepath.Join(goldenRoot, p.Name)
			if golden.Update() {
				if err := os.RemoveAll(dir); err != nil {
					t.Fatal(err)
				}
				for _, f := range res.Files {
					path := filepath.Join(dir, filepath.FromSlash(f.Path))
					if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
						t.Fatal(err)
					}
					if err := os.WriteFile(path, f.Content, 0o644); err != nil {
						t.Fatal(err)
					}
				}
				return
			}
			want := map[string][]byte{}
			err = filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
				if err != nil || d.IsDir() {
					return err
				}
				rel, _ := filepath.Rel(dir, path)
				b, err := os.ReadFile(path)
				want[filepath.ToSlash(rel)] = b
				return err
			})
			if err != nil {
				t.Fatalf("%v (run `go test ./generator -run TestGolden -update` to create the golden tree)", err)
			}
			for _, f := range res.Files {
				w, ok := want[f.Path]
				switch {
				case !ok:
					t.Errorf("unexpected file %s (not in %s)", f.Path, dir)
				case string(w) != string(f.Content):
					t.Errorf("%s differs from the golden file:\n%s", f.Path, golden.Diff(f.Path, w, f.Content))
				}
				delete(want, f.Path)
			}
			for p := range want {
				t.Errorf("missing file %s (in %s, not generated)", p, dir)
			}
		})
	}
}
