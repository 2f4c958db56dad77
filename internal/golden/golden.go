// Package golden holds what svcgen's golden tests share: the -update flag,
// which every test package of the module accepts (so that
// `go test ./... -update` works from the root), and comparisons that show a
// mismatch as a whole unified diff rather than its first line.
//
// A test package registers the flag by importing this one; one without
// golden files imports it for the flag alone:
//
//	import _ "github.com/svcgen/svcgen/internal/golden"
package golden

import (
	"bytes"
	"errors"
	"flag"
	"io/fs"
	"os"
	"path/filepath"
	"testing"

	"github.com/aymanbagabas/go-udiff"
)

var update = flag.Bool("update", false, "rewrite the golden files (testdata/golden, schema/, testdata/explain, ...) instead of comparing with them; review the diff")

// Update reports whether the tests run with -update.
func Update() bool { return *update }

// Diff is the unified diff from want to got, labelled with name, or ""
// when they are equal. Every differing hunk is shown, with 3 lines of
// context.
func Diff(name string, want, got []byte) string {
	if bytes.Equal(want, got) {
		return ""
	}
	return udiff.Unified("golden/"+name, "got/"+name, string(want), string(got))
}

// Check compares got with the golden file at path; with -update it writes
// got there instead (creating the directories).
func Check(tb testing.TB, path string, got []byte) {
	tb.Helper()
	if *update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			tb.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			tb.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		tb.Fatalf("%s does not exist: run the test with -update to create it, then review it", path)
	}
	if err != nil {
		tb.Fatal(err)
	}
	if d := Diff(filepath.ToSlash(path), want, got); d != "" {
		tb.Errorf("%s is out of date (run the test with -update to rewrite it, then review the diff):\n%s", path, d)
	}
}
