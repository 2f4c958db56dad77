package golden

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestDiffShowsEveryHunk(t *testing.T) {
	var want, got strings.Builder
	for i := range 40 {
		line := "line " + string(rune('a'+i%26)) + "\n"
		want.WriteString(line)
		if i == 2 || i == 35 {
			line = "changed\n"
		}
		got.WriteString(line)
	}
	d := Diff("x.txt", []byte(want.String()), []byte(got.String()))
	if strings.Count(d, "@@ ") != 2 || strings.Count(d, "\n+changed") != 2 || !strings.HasPrefix(d, "--- golden/x.txt\n+++ got/x.txt\n") {
		t.Errorf("diff of two changes far apart:\n%s", d)
	}
	if d := Diff("x.txt", []byte("a\n"), []byte("a\n")); d != "" {
		t.Errorf("equal files diff: %q", d)
	}
}

func TestCheck(t *testing.T) {
	path := filepath.Join(t.TempDir(), "sub", "g.txt")
	*update = true
	Check(t, path, []byte("v1\n"))
	*update = false
	if b, err := os.ReadFile(path); err != nil || string(b) != "v1\n" {
		t.Fatalf("-update wrote %q, %v", b, err)
	}
	Check(t, path, []byte("v1\n"))

	ft := &fakeT{TB: t}
	Check(ft, path, []byte("v2\n"))
	if !strings.Contains(ft.msg, "-v1\n+v2") {
		t.Errorf("mismatch message: %q", ft.msg)
	}
}

// fakeT records Errorf instead of failing the test.
type fakeT struct {
	testing.TB
	msg string
}

func (f *fakeT) Errorf(format string, args ...any) {
	f.msg = fmt.Sprintf(format, args...)
}
func (f *fakeT) Helper() {}
