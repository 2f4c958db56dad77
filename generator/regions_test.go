package generator

import (
	"math/rand/v2"
	"os/exec"
	"strings"
	"testing"
)

func needGit(t testing.TB) {
	t.Helper()
	if _, err := exec.LookPath("git"); err != nil {
		t.Skip("merging needs git")
	}
}

func mergeR(t *testing.T, ours, base, theirs string) (string, int, string) {
	t.Helper()
	var b []byte
	if base != "" {
		b = []byte(base)
	}
	out, n, note, err := mergeRegions("Makefile", []byte(ours), b, []byte(theirs), "svcgen")
	if err != nil {
		t.Fatal(err)
	}
	return string(out), n, note
}

const regionsV1 = `# svc -- make help lists the targets.

# svcgen:begin vars
NAME := svc
# svcgen:end vars

# svcgen:begin targets
build:
	go build ./...

test:
	go test ./...
# svcgen:end targets
`

func TestMergeRegionsTeamLinesOutside(t *testing.T) {
	needGit(t)
	ours := strings.Replace(regionsV1, "# svcgen:begin targets\n", "seed: ## team\n\tgo run ./cmd/seed\n\n# svcgen:begin targets\n", 1) +
		"\ndeploy: ## team\n\tkubectl apply -f deploy\n"
	ours = strings.Replace(ours, "# svc -- make help lists the targets.\n", "# The inventory service. Team intro.\n", 1)
	// svcgen changes every line around the team's: the first and last
	// lines of both regions.
	theirs := strings.NewReplacer("NAME := svc", "NAME := svc\nBENCHTIME ?= 1s", "build:\n", "build: ## build\n",
		"\tgo test ./...\n", "\tgo test -count=1 ./...\n\npgo:\n\tgo run ./load\n").Replace(regionsV1)
	got, n, note := mergeR(t, ours, regionsV1, theirs)
	if n != 0 || note != "" {
		t.Fatalf("%d conflicts (%s):\n%s", n, note, got)
	}
	want := strings.Replace(strings.Replace(theirs, "# svcgen:begin targets\n", "seed: ## team\n\tgo run ./cmd/seed\n\n# svcgen:begin targets\n", 1),
		"# svc -- make help lists the targets.\n", "# The inventory service. Team intro.\n", 1) + "\ndeploy: ## team\n\tkubectl apply -f deploy\n"
	if got != want {
		t.Fatalf("got:\n%s\nwant:\n%s", got, want)
	}
}

func TestMergeRegionsEditInside(t *testing.T) {
	needGit(t)
	// An edit inside a region merges with svcgen's change elsewhere in it.
	ours := strings.Replace(regionsV1, "\tgo test ./...", "\tgo test -race ./...", 1)
	theirs := strings.Replace(regionsV1, "\tgo build ./...", "\tgo build -trimpath ./...", 1)
	got, n, _ := mergeR(t, ours, regionsV1, theirs)
	if n != 0 || !strings.Contains(got, "-race") || !strings.Contains(got, "-trimpath") {
		t.Fatalf("%d conflicts:\n%s", n, got)
	}
	// The same line changed on both sides conflicts, inside the region.
	theirs = strings.Replace(regionsV1, "\tgo test ./...", "\tgo test -count=1 ./...", 1)
	got, n, _ = mergeR(t, ours, regionsV1, theirs)
	if n != 1 || !strings.Contains(got, "<<<<<<< yours\n\tgo test -race ./...\n=======\n\tgo test -count=1 ./...\n>>>>>>> svcgen\n# svcgen:end targets\n") {
		t.Fatalf("%d conflicts:\n%s", n, got)
	}
}

func TestMergeRegionsAddedAndRemoved(t *testing.T) {
	needGit(t)
	ours := regionsV1 + "\ndeploy:\n\t./deploy.sh\n"
	// A new region goes after the one before it in the render.
	withPGO := regionsV1 + "\n# svcgen:begin pgo\npgo:\n\tgo run ./load\n# svcgen:end pgo\n"
	got, n, _ := mergeR(t, ours, regionsV1, withPGO)
	if want := withPGO + "\ndeploy:\n\t./deploy.sh\n"; n != 0 || got != want {
		t.Fatalf("%d conflicts, got:\n%s\nwant:\n%s", n, got, want)
	}
	// Dropped again: it goes with its blank line, the team's target stays.
	got2, n, _ := mergeR(t, got, withPGO, regionsV1)
	if n != 0 || got2 != ours {
		t.Fatalf("%d conflicts, got:\n%s\nwant:\n%s", n, got2, ours)
	}
	// Dropped after the team edited it: a conflict, the edit is kept.
	edited := strings.Replace(got, "go run ./load", "go run ./load -rate 5000", 1)
	got3, n, _ := mergeR(t, edited, withPGO, regionsV1)
	if n != 1 || !strings.Contains(got3, "<<<<<<< yours\npgo:\n\tgo run ./load -rate 5000\n=======\n>>>>>>> svcgen\n") {
		t.Fatalf("%d conflicts:\n%s", n, got3)
	}
	// Kept by the team, the lines are its own: the next regen leaves them.
	kept := keepYours(got3)
	if got4, n, _ := mergeR(t, kept, regionsV1, regionsV1); n != 0 || got4 != kept {
		t.Fatalf("%d conflicts, got:\n%s\nwant:\n%s", n, got4, kept)
	}
}

func TestMergeRegionsDeletedByTeam(t *testing.T) {
	needGit(t)
	start, end := strings.Index(regionsV1, "# svcgen:begin vars"), strings.Index(regionsV1, "# svcgen:begin targets")
	ours := regionsV1[:start] + regionsV1[end:]
	// svcgen did not change it: it stays deleted.
	theirs := strings.Replace(regionsV1, "go build", "go build -v", 1)
	got, n, _ := mergeR(t, ours, regionsV1, theirs)
	if n != 0 || strings.Contains(got, "svcgen:begin vars") || !strings.Contains(got, "go build -v") {
		t.Fatalf("%d conflicts:\n%s", n, got)
	}
	// svcgen changed it: a conflict offers the new region.
	theirs = strings.Replace(regionsV1, "NAME := svc", "NAME := svc2", 1)
	got, n, _ = mergeR(t, ours, regionsV1, theirs)
	if n != 1 || !strings.Contains(got, "<<<<<<< yours\n=======\n# svcgen:begin vars\nNAME := svc2\n# svcgen:end vars\n>>>>>>> svcgen\n") {
		t.Fatalf("%d conflicts:\n%s", n, got)
	}
}

// TestMergeRegionsUpgrade: a file written by an svcgen without regions gets
// them on the first regen, around svcgen's lines and not the team's; a
// conflicting upgrade says so and gets them on the regen after.
func TestMergeRegionsUpgrade(t *testing.T) {
	needGit(t)
	legacyBase := "# svc\n\nNAME := svc\n\nbuild:\n\tgo build ./...\n\ntest:\n\tgo test ./...\n"
	ours := strings.Replace(legacyBase, "test:", "seed:\n\tgo run ./cmd/seed\n\ntest:", 1) + "\ndeploy:\n\t./deploy.sh\n"
	theirs := strings.Replace(regionsV1, "# svc -- make help lists the targets.", "# svc", 1)
	got, n, note := mergeR(t, ours, legacyBase, theirs)
	want := strings.Replace(theirs, "test:", "seed:\n\tgo run ./cmd/seed\n\ntest:", 1) + "\ndeploy:\n\t./deploy.sh\n"
	if n != 0 || got != want || note != noteRegionsAdded {
		t.Fatalf("%d conflicts (%s), got:\n%s\nwant:\n%s", n, note, got, want)
	}
	// Once marked, the next change merges by region.
	next := strings.Replace(theirs, "go test ./...", "go test -count=1 ./...", 1)
	if got2, n, _ := mergeR(t, got, theirs, next); n != 0 || got2 != strings.Replace(want, "go test ./...", "go test -count=1 ./...", 1) {
		t.Fatalf("%d conflicts:\n%s", n, got2)
	}

	// The team edited a line svcgen changes in the same upgrade.
	ours = strings.Replace(ours, "go test ./...", "go test -race ./...", 1)
	theirs = strings.Replace(theirs, "go test ./...", "go test -count=1 ./...", 1)
	got, n, note = mergeR(t, ours, legacyBase, theirs)
	if n != 1 || note != noteRegionsPending || strings.Contains(got, "svcgen:begin") {
		t.Fatalf("%d conflicts (%s):\n%s", n, note, got)
	}
	resolved := keepYours(got)
	// The next regen (its base is the render with regions) only adds them.
	got, n, note = mergeR(t, resolved, theirs, theirs)
	if n != 0 || note != noteRegionsAdded || !strings.Contains(got, "\tgo test -race ./...\n# svcgen:end targets\n\ndeploy:") {
		t.Fatalf("%d conflicts (%s):\n%s", n, note, got)
	}
	if stripped := string(stripRegions(mustParse(t, got))); stripped != resolved {
		t.Fatalf("placing the markers changed the file:\n%s", stripped)
	}
}

func mustParse(t *testing.T, s string) *regionDoc {
	t.Helper()
	d, err := parseRegions("Makefile", []byte(s))
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func TestParseRegionsErrors(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"a\n# svcgen:begin x\nb\n", "Makefile:2: region x has no svcgen:end x"},
		{"# svcgen:begin x\n# svcgen:begin y\n", "Makefile:2: svcgen:begin y inside region x (opened at line 1)"},
		{"a\n# svcgen:end x\n", "Makefile:2: svcgen:end x without its svcgen:begin x"},
		{"# svcgen:begin x\n# svcgen:end y\n", "Makefile:2: svcgen:end y closes region x (opened at line 1)"},
		{"# svcgen:begin x\n# svcgen:end x\n# svcgen:begin x\n# svcgen:end x\n", "Makefile:3: region x opened a second time (first at line 1)"},
		{"# svcgen:begin\n", "Makefile:1: svcgen:begin needs a region name"},
	} {
		_, err := parseRegions("Makefile", []byte(tc.in))
		if err == nil || !strings.HasPrefix(err.Error(), tc.want) || !strings.Contains(err.Error(), ".svcgen/base/Makefile") {
			t.Errorf("%q: %v, want %q ... and the fix", tc.in, err, tc.want)
		}
	}
	// Prose about the markers is not a marker.
	d := mustParse(t, "Lines between svcgen:begin and svcgen:end are svcgen's.\n# svcgen owns svcgen:begin lines\n")
	if len(d.regions()) != 0 {
		t.Error("prose mistaken for a marker")
	}
	// The three comment styles, indented or not.
	d = mustParse(t, "<!-- svcgen:begin a -->\nx\n<!-- svcgen:end a -->\n\t// svcgen:begin b\n\ty\n\t// svcgen:end b\n")
	if len(d.regions()) != 2 || d.find("b").body != "\ty\n" {
		t.Errorf("regions: %+v", d.regions())
	}
}

// FuzzMergeRegions: random edits of the team's lines outside the regions
// never conflict, whatever svcgen changes inside them, and survive.
func FuzzMergeRegions(f *testing.F) {
	f.Add(uint64(1), uint64(2), uint8(3), uint8(2))
	f.Add(uint64(5), uint64(8), uint8(9), uint8(6))
	f.Fuzz(func(t *testing.T, s1, s2 uint64, na, nb uint8) {
		needGit(t)
		r := rand.New(rand.NewPCG(s1, s2))
		gaps := []string{"head\n", "\n", "\n", "tail\n"}
		bodies := []string{"a1\na2\na3\n", "b1\nb2\n", "c1\nc2\nc3\nc4\n"}
		doc := func(gaps, bodies []string) string {
			var b strings.Builder
			for i, body := range bodies {
				b.WriteString(gaps[i])
				b.WriteString("# svcgen:begin r" + string(rune('0'+i)) + "\n" + body + "# svcgen:end r" + string(rune('0'+i)) + "\n")
			}
			b.WriteString(gaps[len(bodies)])
			return b.String()
		}
		base := doc(gaps, bodies)
		teamGaps := append([]string(nil), gaps...)
		for i := 0; i < int(na)%8; i++ {
			g := r.IntN(len(teamGaps))
			teamGaps[g] = string(lines(mutate(r, strings.Split(strings.TrimSuffix(teamGaps[g], "\n"), "\n"), "TEAM", 2)))
		}
		newBodies := append([]string(nil), bodies...)
		for i := 0; i < int(nb)%8; i++ {
			k := r.IntN(len(newBodies))
			newBodies[k] = string(lines(mutate(r, strings.Split(strings.TrimSuffix(newBodies[k], "\n"), "\n"), "SVCGEN", 2)))
		}
		ours, theirs := doc(teamGaps, bodies), doc(gaps, newBodies)
		out, n, _, err := mergeRegions("Makefile", []byte(ours), []byte(base), []byte(theirs), "svcgen")
		if err != nil {
			t.Fatal(err)
		}
		if want := doc(teamGaps, newBodies); n != 0 || string(out) != want {
			t.Fatalf("%d conflicts\nbase:\n%s\nours:\n%s\ntheirs:\n%s\ngot:\n%s\nwant:\n%s", n, base, ours, theirs, out, want)
		}
	})
}
