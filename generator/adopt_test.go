package generator

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestAdoptResult keeps only the platform packages that build without the
// generated API, records the user's files as scaffold, and renders the same
// manifest again on a regeneration.
func TestAdoptResult(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "Legacy_Players")
	writeFiles(t, dir, map[string]string{
		"go.mod":           "module example.com/players\n\ngo 1.26.0\n",
		"main.go":          "package main\n\nfunc main() {}\n",
		"api/players.yaml": "openapi: 3.0.3\ninfo: {title: p, version: \"1\"}\npaths: {}\n",
	})
	info, err := DetectAdoption(dir)
	if err != nil {
		t.Fatal(err)
	}
	if info.Name != "legacy-players" || info.Module != "example.com/players" || info.Spec != "api/players.yaml" {
		t.Fatalf("detected %+v", info)
	}
	c, err := LoadCatalog("")
	if err != nil {
		t.Fatal(err)
	}
	user, err := ScanUserFiles(dir)
	if err != nil {
		t.Fatal(err)
	}
	m := AdoptManifest(info, "hot-path", nil, user)
	req, err := RegenRequest(c, dir, m)
	if err != nil {
		t.Fatal(err)
	}
	full, err := Generate(context.Background(), req)
	if err != nil {
		t.Fatal(err)
	}
	res, mods, err := AdoptResult(full, m)
	if err != nil {
		t.Fatal(err)
	}
	var manifest []byte
	for _, f := range res.Files {
		switch {
		case f.Path == ManifestPath:
			manifest = f.Content
		case !strings.HasPrefix(f.Path, "internal/platform/"),
			strings.HasPrefix(f.Path, "internal/platform/load/"):
			t.Errorf("adopt would write %s", f.Path)
		}
	}
	if len(mods) == 0 {
		t.Error("no modules to go get")
	}
	got, err := unmarshalManifest(manifest)
	if err != nil {
		t.Fatal(err)
	}
	if got.Adopted == nil || got.Adopted.Spec != "api/players.yaml" || len(got.Adopted.Manage) == 0 {
		t.Fatalf("adopted: %+v", got.Adopted)
	}
	classes := map[string]Class{}
	for _, f := range got.Files {
		classes[f.Path] = f.Class
	}
	for _, p := range []string{"go.mod", "main.go", "api/players.yaml"} {
		if classes[p] != Scaffold {
			t.Errorf("%s is %q, want scaffold", p, classes[p])
		}
	}
	// A regeneration from the written manifest renders it byte for byte.
	again, _, err := AdoptResult(full, got)
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range again.Files {
		if f.Path == ManifestPath && string(f.Content) != string(manifest) {
			t.Errorf("manifest not stable:\n%s\nthen:\n%s", manifest, f.Content)
		}
	}
	if c := AdoptCollisions(dir, res); len(c) != 0 {
		t.Errorf("collisions in a fresh service: %v", c)
	}
}

func writeFiles(t *testing.T, dir string, files map[string]string) {
	t.Helper()
	for p, content := range files {
		full := filepath.Join(dir, filepath.FromSlash(p))
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(full, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}
