package generator

import (
	"bytes"
	"math/rand/v2"
	"strings"
	"testing"
)

// mutate applies a few random line edits (change, insert, delete) to base,
// using r; the new lines carry tag so the test can find them.
func mutate(r *rand.Rand, base []string, tag string, n int) []string {
	out := append([]string(nil), base...)
	for i := 0; i < n; i++ {
		if len(out) == 0 {
			out = append(out, tag+" new")
			continue
		}
		at := r.IntN(len(out))
		switch r.IntN(3) {
		case 0:
			out[at] = tag + " changed " + out[at]
		case 1:
			out = append(out[:at], append([]string{tag + " inserted"}, out[at:]...)...)
		default:
			out = append(out[:at], out[at+1:]...)
		}
	}
	return out
}

func lines(s []string) []byte {
	if len(s) == 0 {
		return nil
	}
	return []byte(strings.Join(s, "\n") + "\n")
}

// FuzzMerge3 edits both sides of a base at random: the merge never fails,
// a clean merge keeps every line either side added, and conflict output
// always has balanced markers.
func FuzzMerge3(f *testing.F) {
	f.Add(uint64(1), uint64(2), uint8(10), uint8(2), uint8(2))
	f.Add(uint64(7), uint64(7), uint8(30), uint8(5), uint8(1))
	f.Add(uint64(42), uint64(3), uint8(3), uint8(3), uint8(3))
	f.Add(uint64(9), uint64(11), uint8(60), uint8(1), uint8(8))
	f.Fuzz(func(t *testing.T, s1, s2 uint64, size, na, nb uint8) {
		r := rand.New(rand.NewPCG(s1, s2))
		base := make([]string, int(size)%80)
		for i := range base {
			base[i] = "line " + string(rune('a'+i%26)) + strings.Repeat("x", i%7)
		}
		ours := mutate(r, base, "OURS", int(na)%6)
		theirs := mutate(r, base, "THEIRS", int(nb)%6)
		out, conflicts, err := merge3(lines(ours), lines(base), lines(theirs), "svcgen vX")
		if err != nil {
			t.Fatal(err)
		}
		text := string(out)
		open, mid, end := strings.Count(text, "\n<<<<<<< yours\n"), strings.Count(text, "\n=======\n"), strings.Count(text, "\n>>>>>>> svcgen vX\n")
		if strings.HasPrefix(text, "<<<<<<< yours\n") {
			open++
		}
		if strings.HasPrefix(text, "=======\n") {
			mid++
		}
		if open != end || open != mid || (conflicts > 0) != (open > 0) {
			t.Fatalf("unbalanced markers (%d conflicts: %d/%d/%d):\n%s", conflicts, open, mid, end, text)
		}
		if conflicts == 0 {
			for _, side := range [][]string{ours, theirs} {
				for _, l := range side {
					if (strings.HasPrefix(l, "OURS") || strings.HasPrefix(l, "THEIRS")) && !bytes.Contains(out, []byte(l+"\n")) {
						t.Fatalf("clean merge lost %q:\n%s", l, text)
					}
				}
			}
		}
	})
}

func TestMergeGoMod(t *testing.T) {
	base := []byte("module example.com/svc\n\ngo 1.26.0\n\nrequire (\n\tgithub.com/a/a v1.0.0\n\tgithub.com/b/b v1.0.0\n\tgithub.com/c/c v1.0.0\n)\n")
	// What the team has after go mod tidy and a dependency of their own.
	ours := []byte("module example.com/svc\n\ngo 1.26.0\n\nrequire (\n\tgithub.com/a/a v1.0.0\n\tgithub.com/b/b v1.2.0\n\tgithub.com/c/c v1.0.0\n\tgithub.com/team/lib v0.3.0\n)\n\nrequire (\n\tgithub.com/x/indirect v1.0.0 // indirect\n)\n")
	// svcgen adds d, raises a and b, drops c.
	theirs := []byte("module example.com/svc\n\ngo 1.26.0\n\nrequire (\n\tgithub.com/a/a v1.1.0\n\tgithub.com/b/b v1.1.0\n\tgithub.com/d/d v0.1.0\n)\n")
	out, conflicts, err := mergeGoMod(ours, base, theirs, "svcgen vX")
	if err != nil || conflicts != 0 {
		t.Fatalf("merge: %v, %d conflicts", err, conflicts)
	}
	got := string(out)
	for _, want := range []string{"github.com/a/a v1.1.0", "github.com/b/b v1.2.0", "github.com/d/d v0.1.0", "github.com/team/lib v0.3.0", "github.com/x/indirect v1.0.0 // indirect", "github.com/c/c v1.0.0"} {
		if !strings.Contains(got, want) {
			t.Errorf("merged go.mod lacks %q:\n%s", want, got)
		}
	}
}
