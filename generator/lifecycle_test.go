package generator

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// teamEdit is one change a team makes to a merged file: snippet is the text
// it adds, which every later regen must keep byte for byte.
type teamEdit struct {
	file, what, snippet string
	// apply returns the file with the edit made.
	apply func(t *testing.T, text, snippet string) string
}

// insertBefore puts snippet at the start of the first line that is one of
// anchors (tried in order): the team writes where the file tells it to.
func insertBefore(anchors ...string) func(*testing.T, string, string) string {
	return func(t *testing.T, text, snippet string) string {
		t.Helper()
		for _, a := range anchors {
			if i := lineIndex(text, a); i >= 0 {
				return text[:i] + snippet + text[i:]
			}
		}
		t.Fatalf("no line %q in the file:\n%s", anchors, text)
		return ""
	}
}

// insertAfter puts snippet after the first line that is one of anchors.
func insertAfter(anchors ...string) func(*testing.T, string, string) string {
	return func(t *testing.T, text, snippet string) string {
		t.Helper()
		for _, a := range anchors {
			if i := lineIndex(text, a); i >= 0 {
				j := i + strings.Index(text[i:], "\n") + 1
				return text[:j] + snippet + text[j:]
			}
		}
		t.Fatalf("no line %q in the file:\n%s", anchors, text)
		return ""
	}
}

// lineIndex is the offset of the first line whose text, without leading
// white space, starts with prefix; -1 when there is none.
func lineIndex(text, prefix string) int {
	off := 0
	for _, l := range strings.SplitAfter(text, "\n") {
		if strings.HasPrefix(strings.TrimLeft(l, " \t"), prefix) {
			return off
		}
		off += len(l)
	}
	return -1
}

// either makes the edit where the file's comment asks for it, or, in a
// file of the layout before regions, at old.
func either(asked, old func(*testing.T, string, string) string) func(*testing.T, string, string) string {
	return func(t *testing.T, text, snippet string) string {
		if strings.Contains(text, "svcgen:begin") {
			return asked(t, text, snippet)
		}
		return old(t, text, snippet)
	}
}

func appendText(_ *testing.T, text, snippet string) string { return text + snippet }

// replaceFirstParagraph rewrites the paragraph after the README's title.
func replaceFirstParagraph(t *testing.T, text, snippet string) string {
	t.Helper()
	start := strings.Index(text, "\n\n") + 2
	end := strings.Index(text[start:], "\n\n")
	if start < 2 || end < 0 {
		t.Fatalf("README has no first paragraph:\n%s", text)
	}
	return text[:start] + strings.TrimSuffix(snippet, "\n") + text[start+end:]
}

// The team's edits, all outside the lines svcgen writes. Where the file
// marks svcgen's part, the team writes next to the markers; a file of an
// older layout gets the same edit at the same place.
var teamEdits = []teamEdit{
	{file: "Makefile", what: "target appended at the end", apply: appendText,
		snippet: "\ndeploy: build ## Team edit: ship the image\n\tkubectl apply -f deploy/k8s\n"},
	{file: "Makefile", what: "target in the middle", apply: insertBefore("# svcgen:begin pgo", "pgo-bench:"),
		snippet: "seed: ## Team edit: load fixtures\n\tgo run ./cmd/seed\n\n"},
	{file: "README.md", what: "first paragraph rewritten", apply: replaceFirstParagraph,
		snippet: "The inventory service owns every player's items: the game servers\nread them on each match start, the shop writes them. Team edit.\n"},
	{file: "README.md", what: "section added", apply: insertBefore("<!-- svcgen:begin configuration", "## Configuration"),
		snippet: "## On call (team edit)\n\nPage #inventory-oncall; dashboards under Grafana > Inventory.\n\n"},
	{file: ".gitignore", what: "line added", apply: appendText,
		snippet: "/fixtures/local/\n"},
	{file: "internal/config/config.go", what: "config field", apply: either(insertAfter("// Your settings go here"), insertBefore("}")),
		snippet: "\t// ShopURL is where the team's shop client points (SHOP_URL). Team edit.\n\tShopURL string\n"},
	{file: "internal/config/config.go", what: "env var read", apply: either(insertAfter("// r.str(\"NAME\""), insertAfter("r.int32(\"DB_MAX_CONNS\"")),
		snippet: "\tr.str(\"SHOP_URL\", &c.ShopURL) // Team edit\n"},
}

// countItems is the operation the spec edit adds.
const countItems = `  /items/count:
    get:
      operationId: countItems
      summary: Count the items
      responses:
        "200":
          description: The number of items.
          content:
            application/json:
              schema:
                type: object
                required: [count]
                properties:
                  count: {type: integer, format: int64}
        default:
          $ref: "#/components/responses/Error"
`

// TestLifecycle replays a team's year with a service: generated from
// hot-path, edited by the team in every merged file outside svcgen's part,
// then an operation added, features toggled and the preset switched, each
// followed by a regen. None of those may conflict or lose a team edit; a
// last, deliberate edit of a line svcgen then changes must conflict. The
// table of conflicts per step is logged (go test -run TestLifecycle -v).
// Before merged files had regions the same replay conflicted in 7 of its 9
// steps, 12 conflicts in all: the rewritten README paragraph on every
// preset or feature change, the team's Makefile targets on every change of
// svcgen's last target.
func TestLifecycle(t *testing.T) {
	needGit(t)
	c, err := LoadCatalog("")
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(t.TempDir(), "inventory")
	res, err := Generate(context.Background(), Request{Catalog: c, Options: Options{Name: "inventory", Module: "example.com/inventory", Preset: "hot-path"}})
	if err != nil {
		t.Fatal(err)
	}
	if err := Write(dir, res); err != nil {
		t.Fatal(err)
	}

	type row struct {
		step           string
		files          []string
		hunks          int
		wantConflicted string // the one file that must conflict, "" for none
	}
	var table []row
	edit := func(file string, f func(string) string) {
		writeFile(t, dir, file, f(readFile(t, dir, file)))
	}
	// regen plans and applies a regeneration with change applied to the
	// answers, records its conflicts and resolves them as a team keeping its
	// own side would.
	regen := func(step, wantConflicted string, change func(*Options)) {
		t.Helper()
		p, res := regenInProcess(t, c, dir, change)
		r := row{step: step, wantConflicted: wantConflicted}
		for _, ch := range p.Changes {
			if ch.Action == Conflict {
				r.files = append(r.files, ch.Path)
				r.hunks += strings.Count(string(ch.New), "<<<<<<< yours\n")
				writeFile(t, dir, ch.Path, keepYours(string(ch.New)))
			}
		}
		table = append(table, r)
		// Regenerating again with the same answers changes nothing.
		if len(r.files) == 0 {
			m, err := ReadManifest(dir)
			if err != nil {
				t.Fatal(err)
			}
			again, err := PlanRegen(dir, m, res, RegenOptions{Catalog: c, MergeLabel: "svcgen"})
			if err != nil {
				t.Fatal(err)
			}
			for _, ch := range again.Changes {
				if ch.writes() {
					t.Errorf("%s: a second regen would %s %s", step, ch.Action, ch.Path)
				}
			}
		}
		for _, e := range teamEdits {
			text := readFile(t, dir, e.file)
			if !strings.Contains(text, e.snippet) {
				t.Errorf("%s: %s lost the team's %s:\n%s", step, e.file, e.what, e.snippet)
				continue
			}
			for _, r := range mustParse(t, text).regions() {
				if strings.Contains(r.body, strings.TrimSpace(e.snippet)) {
					t.Errorf("%s: %s: the team's %s ended up inside svcgen's region %s", step, e.file, e.what, r.name)
				}
			}
		}
	}

	for _, e := range teamEdits {
		edit(e.file, func(s string) string { return e.apply(t, s, e.snippet) })
	}
	regen("team edits (7, in 4 merged files)", "", nil)

	edit(SpecPath, func(s string) string { return insertBefore("/items/{id}:")(t, s, countItems) })
	regen("spec: +countItems", "", nil)
	features := func(f string) func(*Options) {
		return func(o *Options) { o.Features = MergeFeatureOverrides(o.Features, ParseFeatureFlag(f)) }
	}
	preset := func(name string) func(*Options) { return func(o *Options) { o.Preset = name } }
	regen("features +cache3", "", features("+cache3"))
	regen("features -pgo,-pprof", "", features("-pgo,-pprof"))
	regen("features +batch", "", features("+batch"))
	regen("preset hot-path -> read-heavy", "", preset("read-heavy"))
	regen("preset read-heavy -> realtime", "", preset("realtime"))
	regen("features +pprof,+pgo", "", features("+pprof,+pgo"))

	// A deliberate edit of svcgen's own line, which the next change
	// rewrites: that one must conflict, and is then resolved.
	edit("Makefile", func(s string) string {
		return strings.Replace(s, "test: ## unit and integration tests", "test: ## Team edit: all the tests", 1)
	})
	regen("same-line edit, then -cache3", "Makefile", features("-cache3"))
	if !strings.Contains(readFile(t, dir, "Makefile"), "test: ## Team edit: all the tests") {
		t.Error("resolving the conflict as yours should keep the team's line")
	}

	var log strings.Builder
	total, steps := 0, 0
	fmt.Fprintf(&log, "\n%-40s %9s %6s  %s\n", "step", "conflicts", "hunks", "files")
	for _, r := range table {
		fmt.Fprintf(&log, "%-40s %9d %6d  %s\n", r.step, len(r.files), r.hunks, strings.Join(r.files, ", "))
		total += r.hunks
		if len(r.files) > 0 {
			steps++
		}
		want := 0
		if r.wantConflicted != "" {
			want = 1
		}
		if len(r.files) != want || (want == 1 && r.files[0] != r.wantConflicted) {
			t.Errorf("%s: conflicts in %v, want %q", r.step, r.files, r.wantConflicted)
		}
	}
	fmt.Fprintf(&log, "%d conflict hunks in %d of %d steps\n", total, steps, len(table))
	t.Log(log.String())
}

// regenInProcess is `svcgen regen` without the type check and go mod
// tidy: the plan for the answers as change leaves them, applied.
func regenInProcess(t *testing.T, c *Catalog, dir string, change func(*Options)) (*Plan, Result) {
	t.Helper()
	m, err := ReadManifest(dir)
	if err != nil {
		t.Fatal(err)
	}
	req, err := RegenRequest(c, dir, m)
	if err != nil {
		t.Fatal(err)
	}
	if change != nil {
		change(&req.Options)
	}
	res, err := Generate(context.Background(), req)
	if err != nil {
		t.Fatal(err)
	}
	p, err := PlanRegen(dir, m, res, RegenOptions{Catalog: c, MergeLabel: "svcgen"})
	if err != nil {
		t.Fatal(err)
	}
	if err := Apply(dir, p); err != nil {
		t.Fatal(err)
	}
	return p, res
}

func change(p *Plan, path string) Change {
	for _, c := range p.Changes {
		if c.Path == path {
			return c
		}
	}
	return Change{}
}

// TestRegenUpgradeAddsRegions: a service of svcgen v0.0.9, whose merged
// files have no regions (testdata/upgrade), regenerates with a clean merge
// that places the markers around svcgen's lines and leaves the team's
// target outside them; from then on a team's edit outside them merges
// silently. A team's edit of a line the upgrade changes is a one-time
// conflict saying so, and the regen after its resolution adds the markers.
func TestRegenUpgradeAddsRegions(t *testing.T) {
	needGit(t)
	c, err := LoadCatalog("")
	if err != nil {
		t.Fatal(err)
	}
	legacy := func(t *testing.T) string {
		dir := filepath.Join(t.TempDir(), "legacy")
		if err := os.CopyFS(dir, os.DirFS("../testdata/upgrade/v0.0.9-hot-path")); err != nil {
			t.Fatal(err)
		}
		return dir
	}
	const teamTarget = "\n# Team edit: ship it.\ndeploy: docker\n\tkubectl apply -f deploy/k8s\n"

	t.Run("clean", func(t *testing.T) {
		dir := legacy(t)
		if !strings.HasSuffix(readFile(t, dir, "Makefile"), teamTarget) || len(mustParse(t, readFile(t, dir, "Makefile")).regions()) > 0 {
			t.Fatal("the fixture changed: want a Makefile without regions ending in the team's target")
		}
		p, res := regenInProcess(t, c, dir, nil)
		mk := change(p, "Makefile")
		if mk.Action != Merge || mk.Note != noteRegionsAdded {
			t.Fatalf("Makefile: %s (%s), want a merge adding the regions", mk.Action, mk.Note)
		}
		got := readFile(t, dir, "Makefile")
		if !strings.HasSuffix(got, "# svcgen:end pgo\n"+teamTarget) {
			t.Errorf("the team's target should follow svcgen's last region:\n%s", got)
		}
		d := mustParse(t, got)
		if names := len(d.regions()); names != 3 {
			t.Errorf("Makefile has %d regions, want vars, targets, pgo", names)
		}
		// The files the team never edited are now exactly the render.
		for _, f := range res.Files {
			switch f.Path {
			case "README.md", ".gitignore", "internal/config/config.go":
				if readFile(t, dir, f.Path) != string(f.Content) {
					ch := Change{Path: f.Path, Old: f.Content, New: []byte(readFile(t, dir, f.Path))}
					t.Errorf("%s: not the new render after the upgrade:\n%s", f.Path, ch.Diff())
				}
			}
		}
		// From now on the team's lines outside the regions are never in
		// the way: a feature change that touches every region merges.
		writeFile(t, dir, "README.md", readFile(t, dir, "README.md")+"\n## Team runbook\n\nAsk #inventory.\n")
		p, _ = regenInProcess(t, c, dir, func(o *Options) { o.Features = []string{"+cache3", "-pgo"} })
		for _, ch := range p.Changes {
			if ch.Action == Conflict {
				t.Errorf("%s conflicts after the upgrade:\n%s", ch.Path, ch.New)
			}
		}
		if !strings.HasSuffix(readFile(t, dir, "Makefile"), "# svcgen:end targets\n"+teamTarget) {
			t.Errorf("Makefile lost the team's target or kept pgo's region:\n%s", readFile(t, dir, "Makefile"))
		}
		if !strings.HasSuffix(readFile(t, dir, "README.md"), "<!-- svcgen:end layout -->\n\n## Team runbook\n\nAsk #inventory.\n") {
			t.Error("README.md lost the team's section")
		}
	})

	t.Run("conflict", func(t *testing.T) {
		dir := legacy(t)
		edited := strings.Replace(readFile(t, dir, "Makefile"), "-benchmem -run=", "-benchmem -count=3 -run=", 1)
		writeFile(t, dir, "Makefile", edited)
		p, _ := regenInProcess(t, c, dir, nil)
		mk := change(p, "Makefile")
		if mk.Action != Conflict || !strings.Contains(mk.Note, noteRegionsPending) {
			t.Fatalf("Makefile: %s (%s), want a conflict explaining the upgrade", mk.Action, mk.Note)
		}
		got := readFile(t, dir, "Makefile")
		if len(mustParse(t, got).regions()) > 0 || !strings.Contains(got, "-count=3") || !strings.Contains(got, "-benchtime=$(BENCHTIME)") {
			t.Fatalf("conflicted upgrade: want both sides and no region yet:\n%s", got)
		}
		resolved := keepYours(got)
		writeFile(t, dir, "Makefile", resolved)
		p, _ = regenInProcess(t, c, dir, nil)
		if mk := change(p, "Makefile"); mk.Action != Merge || mk.Note != noteRegionsAdded {
			t.Fatalf("Makefile after the resolution: %s (%s), want the regions added", mk.Action, mk.Note)
		}
		got = readFile(t, dir, "Makefile")
		if string(stripRegions(mustParse(t, got))) != resolved {
			t.Errorf("adding the regions changed the resolved file:\n%s", got)
		}
		if !strings.HasSuffix(got, teamTarget) || !strings.Contains(got, "-count=3") {
			t.Errorf("the team's edits are gone:\n%s", got)
		}
	})
}

// keepYours resolves every conflict of a merged file by keeping the team's
// side, as a team that checks svcgen's proposal and prefers its own does.
func keepYours(s string) string {
	var out strings.Builder
	side := ""
	for _, l := range strings.SplitAfter(s, "\n") {
		switch {
		case l == "<<<<<<< yours\n":
			side = "yours"
		case l == "=======\n" && side == "yours":
			side = "theirs"
		case strings.HasPrefix(l, ">>>>>>> ") && side == "theirs":
			side = ""
		case side != "theirs":
			out.WriteString(l)
		}
	}
	return out.String()
}

// TestMergedFilesHaveRegions: every merged file but go.mod, in every
// preset, with and without --explain, marks svcgen's part with well-formed
// regions, and leaves the team a part of its own.
func TestMergedFilesHaveRegions(t *testing.T) {
	c, err := LoadCatalog("")
	if err != nil {
		t.Fatal(err)
	}
	for _, preset := range []string{"hot-path", "read-heavy", "realtime", "analytics"} {
		for _, explain := range []bool{false, true} {
			res, err := Generate(context.Background(), Request{Catalog: c, Options: Options{Name: "svc", Preset: preset, Explain: explain}})
			if err != nil {
				t.Fatal(err)
			}
			for _, f := range res.Files {
				if f.Class != Merged || f.Path == "go.mod" {
					continue
				}
				d, err := parseRegions(f.Path, f.Content)
				if err != nil {
					t.Errorf("%s (explain %v): %v", preset, explain, err)
					continue
				}
				if len(d.regions()) == 0 {
					t.Errorf("%s (explain %v): %s has no svcgen:begin/svcgen:end region", preset, explain, f.Path)
				}
				if strings.TrimSpace(string(stripRegions(&regionDoc{parts: filterText(d.parts)}))) == "" {
					t.Errorf("%s (explain %v): %s has no line outside svcgen's regions to tell the team where its part is", preset, explain, f.Path)
				}
			}
		}
	}
}

// filterText keeps the team's parts of a file.
func filterText(parts []part) []part {
	var out []part
	for _, p := range parts {
		if p.region == nil {
			out = append(out, p)
		}
	}
	return out
}
