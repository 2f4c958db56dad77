package generator

import (
	"bytes"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	udiff "github.com/aymanbagabas/go-udiff"

	"github.com/svcgen/svcgen/internal/golden"
)

// ogentestDir is the ogen server that platform/apierr's own tests (never a
// service's) drive into ogen's error paths.
const ogentestDir = "../platform/apierr/ogentest"

// ogentestOwn are the files of ogentestDir that are not generated.
var ogentestOwn = []string{"doc.go", "openapi.yaml"}

// TestOgentest generates platform/apierr/ogentest from its openapi.yaml with
// the in-process ogen run and post-processing a service's internal/api gets
// (runOgen), and fails with a unified diff when the committed package is
// stale: a changed, a missing or a leftover generated file. `go test
// ./generator -run TestOgentest -update` rewrites the package.
func TestOgentest(t *testing.T) {
	spec, err := os.ReadFile(filepath.Join(ogentestDir, "openapi.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	out, err := runOgen("openapi.yaml", spec, false, nil)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string][]byte{}
	for name, src := range out.files {
		renamed, ok := renamePackage(src, "api", "ogentest")
		if !ok {
			t.Fatalf("%s: ogen's output has no package api clause to rename", name)
		}
		want[name] = renamed
	}
	entries, err := os.ReadDir(ogentestDir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		name := e.Name()
		if _, ok := want[name]; ok || e.IsDir() || slices.Contains(ogentestOwn, name) {
			continue
		}
		if golden.Update() {
			if err := os.Remove(filepath.Join(ogentestDir, name)); err != nil {
				t.Fatal(err)
			}
			continue
		}
		t.Errorf("%s/%s is not generated from openapi.yaml: remove it (go test ./generator -run TestOgentest -update)", ogentestDir, name)
	}
	names := make([]string, 0, len(want))
	for name := range want {
		names = append(names, name)
	}
	slices.Sort(names)
	for _, name := range names {
		file := filepath.Join(ogentestDir, name)
		if golden.Update() {
			if err := os.WriteFile(file, want[name], 0o644); err != nil {
				t.Fatal(err)
			}
			continue
		}
		got, err := os.ReadFile(file)
		if err != nil {
			got = nil
		}
		if !bytes.Equal(got, want[name]) {
			t.Errorf("%s is stale (go test ./generator -run TestOgentest -update):\n%s", file,
				udiff.Unified("committed/"+name, "generated/"+name, string(got), string(want[name])))
		}
	}
}

// renamePackage rewrites the package clause of a generated Go file.
func renamePackage(src []byte, from, to string) ([]byte, bool) {
	clause := "\npackage " + from + "\n"
	i := bytes.Index(src, []byte(clause))
	if i < 0 {
		return nil, false
	}
	return slices.Concat(src[:i], []byte(strings.Replace(clause, from, to, 1)), src[i+len(clause):]), true
}
