package generator

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// service writes a fixture service rendered with the given template
// overrides and returns its directory.
func service(t *testing.T, extra map[string]string, spec []byte) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "svc")
	res := render(t, extra, spec)
	if err := Write(dir, res); err != nil {
		t.Fatal(err)
	}
	return dir
}

func render(t *testing.T, extra map[string]string, spec []byte) Result {
	t.Helper()
	o := Options{Name: "pet-service-go", Preset: "hot"}
	if spec != nil {
		o.Spec = "api/openapi.yaml"
	}
	return generate(t, fixture(t, extra), o, spec)
}

func plan(t *testing.T, dir string, res Result, opts RegenOptions) *Plan {
	t.Helper()
	m, err := ReadManifest(dir)
	if err != nil {
		t.Fatal(err)
	}
	p, err := PlanRegen(dir, m, res, opts)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func action(p *Plan, path string) Action {
	for _, c := range p.Changes {
		if c.Path == path {
			return c.Action
		}
	}
	return "absent"
}

func readFile(t *testing.T, dir, p string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, p))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func writeFile(t *testing.T, dir, p, content string) {
	t.Helper()
	if err := os.WriteFile(filepath.Join(dir, p), []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestRegenSameRenderChangesNothing(t *testing.T) {
	dir := service(t, nil, nil)
	p := plan(t, dir, render(t, nil, nil), RegenOptions{})
	if p.Drift() {
		for _, c := range p.Changes {
			if c.Action != Unchanged {
				t.Errorf("%s: %s", c.Path, c.Action)
			}
		}
		t.Fatal("regenerating a fresh service with the same svcgen must change nothing")
	}
}

func TestRegenHandEditToGeneratedFile(t *testing.T) {
	dir := service(t, nil, nil)
	main := "cmd/pet-service-go/main.go"
	edited := readFile(t, dir, main) + "\n// my tweak\n"
	writeFile(t, dir, main, edited)

	p := plan(t, dir, render(t, nil, nil), RegenOptions{})
	if a := action(p, main); a != HandEdit {
		t.Fatalf("%s: %s, want hand-edit", main, a)
	}
	var hand Change
	for _, c := range p.Changes {
		if c.Path == main {
			hand = c
		}
	}
	if !strings.Contains(hand.Diff(), "+// my tweak") {
		t.Errorf("the report should show the edit:\n%s", hand.Diff())
	}
	if err := Apply(dir, p); err == nil || !strings.Contains(err.Error(), "edited by hand: "+main) {
		t.Fatalf("Apply must refuse a plan with hand edits, got %v", err)
	}
	if readFile(t, dir, main) != edited {
		t.Fatal("the refused regen changed the file")
	}

	p = plan(t, dir, render(t, nil, nil), RegenOptions{Overwrite: true})
	if err := Apply(dir, p); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(readFile(t, dir, main), "my tweak") {
		t.Error("--overwrite should overwrite the generated file")
	}
	if p.Backup == nil || readFile(t, dir, p.Backup.Dir()+"/"+main) != edited {
		t.Fatalf("--overwrite must keep the hand edit in a backup of its own, got %+v", p.Backup)
	}
	first := p.Backup.ID

	// A second edit overwritten in the same second gets a backup of its
	// own: the first one is still there.
	second := readFile(t, dir, main) + "// another tweak\n"
	if err := os.WriteFile(filepath.Join(dir, main), []byte(second), 0o644); err != nil {
		t.Fatal(err)
	}
	p = plan(t, dir, render(t, nil, nil), RegenOptions{Overwrite: true})
	if err := Apply(dir, p); err != nil {
		t.Fatal(err)
	}
	if p.Backup == nil || p.Backup.ID == first {
		t.Fatalf("the second overwrite reused backup %s: %+v", first, p.Backup)
	}
	list, err := ListBackups(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(list) != 2 || list[0].ID != first || list[1].ID != p.Backup.ID {
		t.Fatalf("backups: %+v, want %s then %s", list, first, p.Backup.ID)
	}
	if readFile(t, dir, list[0].Dir()+"/"+main) != edited || readFile(t, dir, list[1].Dir()+"/"+main) != second {
		t.Error("each backup must hold the edit its run overwrote")
	}
	if f := list[1].Files; len(f) != 1 || f[0].Path != main || f[0].Reason != ReasonOverwritten {
		t.Errorf("backup index: %+v", f)
	}

	// Restoring the first edit saves what it replaces, so that is kept too.
	restored, saved, err := RestoreBackup(dir, first, nil, "svcgen backup restore "+first)
	if err != nil {
		t.Fatal(err)
	}
	if len(restored) != 1 || readFile(t, dir, main) != edited {
		t.Fatalf("restore wrote %v; the file is not the first edit", restored)
	}
	if saved == nil || len(saved.Files) != 1 || !strings.HasPrefix(saved.Files[0].Reason, ReasonRestore) {
		t.Fatalf("restore must back up what it replaces: %+v", saved)
	}
	if _, _, err := RestoreBackup(dir, "nope", nil, ""); err == nil || !strings.Contains(err.Error(), first) {
		t.Errorf("an unknown backup must be refused naming the ones there are: %v", err)
	}
	if _, _, err := RestoreBackup(dir, first, []string{"README.md"}, ""); err == nil || !strings.Contains(err.Error(), main) {
		t.Errorf("a file not in the backup must be refused naming the ones it has: %v", err)
	}
}

func TestRegenMergedFile(t *testing.T) {
	v1 := map[string]string{"base/Makefile.tmpl": "build:\n\tgo build ./cmd/{{.Name}}\n\ntest:\n\tgo test ./...\n\nlint:\n\tgo vet ./...\n"}
	dir := service(t, v1, nil)
	// The user adds a target at the end; svcgen v2 changes the test line.
	writeFile(t, dir, "Makefile", readFile(t, dir, "Makefile")+"\ndeploy:\n\t./deploy.sh\n")
	v2 := map[string]string{"base/Makefile.tmpl": "build:\n\tgo build ./cmd/{{.Name}}\n\ntest:\n\tgo test -race ./...\n\nlint:\n\tgo vet ./...\n"}
	p := plan(t, dir, render(t, v2, nil), RegenOptions{})
	if a := action(p, "Makefile"); a != Merge {
		t.Fatalf("Makefile: %s, want merge", a)
	}
	if err := Apply(dir, p); err != nil {
		t.Fatal(err)
	}
	got := readFile(t, dir, "Makefile")
	if !strings.Contains(got, "go test -race") || !strings.Contains(got, "./deploy.sh") {
		t.Fatalf("both edits must survive a clean merge:\n%s", got)
	}
	if readFile(t, dir, ".svcgen/base/Makefile") != readFile(t, dir, "Makefile")[:len(readFile(t, dir, ".svcgen/base/Makefile"))] {
		t.Error("the merge base must become svcgen's new render")
	}

	// Now both change the same line: a conflict with git's markers.
	writeFile(t, dir, "Makefile", strings.Replace(got, "go vet ./...", "golangci-lint run", 1))
	v3 := map[string]string{"base/Makefile.tmpl": "build:\n\tgo build ./cmd/{{.Name}}\n\ntest:\n\tgo test -race ./...\n\nlint:\n\tgo vet -all ./...\n"}
	p = plan(t, dir, render(t, v3, nil), RegenOptions{MergeLabel: "svcgen v9"})
	if a := action(p, "Makefile"); a != Conflict {
		t.Fatalf("Makefile: %s, want conflict", a)
	}
	if err := Apply(dir, p); err != nil {
		t.Fatal(err)
	}
	got = readFile(t, dir, "Makefile")
	// git joins the adjacent deploy target into the same conflict hunk.
	for _, want := range []string{"<<<<<<< yours\n\tgolangci-lint run\n", "=======\n\tgo vet -all ./...\n>>>>>>> svcgen v9\n", "./deploy.sh"} {
		if !strings.Contains(got, want) {
			t.Errorf("conflicted Makefile lacks %q:\n%s", want, got)
		}
	}
}

func TestRegenScaffoldAndOperations(t *testing.T) {
	spec, err := os.ReadFile("testdata/petstore.yaml")
	if err != nil {
		t.Fatal(err)
	}
	dir := service(t, nil, spec)
	writeFile(t, dir, "internal/handler/get_pet.go", "package handler\n\n// my implementation\n")

	// The spec loses createPet and gains addPet.
	spec3 := strings.Replace(string(spec), "operationId: createPet", "operationId: addPet", 1)
	p := plan(t, dir, render(t, nil, []byte(spec3)), RegenOptions{})
	if a := action(p, "internal/handler/get_pet.go"); a != Keep {
		t.Errorf("edited scaffold: %s, want keep", a)
	}
	if a := action(p, "internal/handler/add_pet.go"); a != Create {
		t.Errorf("new operation's stub: %s, want create", a)
	}
	if a := action(p, "internal/handler/create_pet.go"); a != Orphan {
		t.Errorf("removed operation's handler: %s, want orphan", a)
	}
	if err := Apply(dir, p); err != nil {
		t.Fatal(err)
	}
	if readFile(t, dir, "internal/handler/get_pet.go") != "package handler\n\n// my implementation\n" {
		t.Error("a scaffold file was touched")
	}
	readFile(t, dir, "internal/handler/create_pet.go") // still there
	if p := plan(t, dir, render(t, nil, []byte(spec3)), RegenOptions{}); p.Drift() {
		t.Error("a second regen must change nothing")
	}
}

func TestRegenDeletedAndRemovedFiles(t *testing.T) {
	dir := service(t, map[string]string{"base/extra.txt": "old feature file\n", "base/kept.txt": "also dropped\n"}, nil)
	if err := os.Remove(filepath.Join(dir, ".gitignore")); err != nil {
		t.Fatal(err)
	}
	writeFile(t, dir, "kept.txt", "I changed this\n")
	p := plan(t, dir, render(t, nil, nil), RegenOptions{})
	for path, want := range map[string]Action{".gitignore": Deleted, "extra.txt": Remove, "kept.txt": Orphan} {
		if a := action(p, path); a != want {
			t.Errorf("%s: %s, want %s", path, a, want)
		}
	}
	if err := Apply(dir, p); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, "extra.txt")); !errors.Is(err, os.ErrNotExist) {
		t.Error("an unedited file svcgen no longer produces should go")
	}
	if readFile(t, dir, "kept.txt") != "I changed this\n" {
		t.Error("an edited file svcgen no longer produces must stay")
	}
	p = plan(t, dir, render(t, nil, nil), RegenOptions{Restore: true})
	if a := action(p, ".gitignore"); a != Create {
		t.Errorf("--restore: %s, want create", a)
	}
}

// TestRegenInterrupted stops an Apply between two renames, as a kill would,
// and checks that the next regeneration completes it.
func TestRegenInterrupted(t *testing.T) {
	v2 := map[string]string{"base/Makefile.tmpl": "all:\n\techo v2\n", "base/cmd/__name__/main.go.tmpl": "{{.Header}}\npackage main\n\nfunc main() { println(2) }\n", "base/new.txt": "new\n"}
	want := service(t, nil, nil)
	if err := Apply(want, plan(t, want, render(t, v2, nil), RegenOptions{})); err != nil {
		t.Fatal(err)
	}
	for stopAfter := 0; stopAfter < 4; stopAfter++ {
		dir := service(t, nil, nil)
		p := plan(t, dir, render(t, v2, nil), RegenOptions{})
		func() {
			n := 0
			ApplyHook = func(string) {
				if n == stopAfter {
					panic("killed")
				}
				n++
			}
			defer func() {
				ApplyHook = nil
				if r := recover(); r != "killed" {
					t.Fatalf("stop %d: apply was not interrupted (%v)", stopAfter, r)
				}
			}()
			_ = Apply(dir, p)
		}()
		// The next regen first completes the journal, then finds nothing to do.
		if resumed, err := Resume(dir); err != nil || !resumed {
			t.Fatalf("resume: %v, completed a journal: %v", err, resumed)
		}
		if p := plan(t, dir, render(t, v2, nil), RegenOptions{}); p.Drift() {
			t.Errorf("stop %d: the tree is not complete after resuming", stopAfter)
		}
		for _, f := range []string{"Makefile", "cmd/pet-service-go/main.go", "new.txt", ManifestPath} {
			if readFile(t, dir, f) != readFile(t, want, f) {
				t.Errorf("stop %d: %s differs from an uninterrupted regen", stopAfter, f)
			}
		}
		if _, err := os.Stat(filepath.Join(dir, stageDir)); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("stop %d: the stage is left behind", stopAfter)
		}
	}
}

func TestRegenRequestKeepsStarterSpec(t *testing.T) {
	c := fixture(t, nil)
	dir := service(t, nil, nil)
	m, err := ReadManifest(dir)
	if err != nil {
		t.Fatal(err)
	}
	req, err := RegenRequest(c, dir, m)
	if err != nil {
		t.Fatal(err)
	}
	if req.Spec != nil {
		t.Error("an untouched starter spec must regenerate as the starter")
	}
	writeFile(t, dir, SpecPath, readFile(t, dir, SpecPath)+"\n")
	if req, _ = RegenRequest(c, dir, m); req.Spec == nil || req.SpecName != filepath.Join(dir, SpecPath) {
		t.Error("an edited spec is the user's")
	}
	if _, err := Generate(context.Background(), req); err != nil {
		t.Fatal(err)
	}
}

// TestRegenReusesUnchangedAPI: while the spec is unchanged, regen reuses
// internal/api from disk instead of running ogen, with the same result; a
// changed spec or a hand-edited api file runs ogen again.
func TestRegenReusesUnchangedAPI(t *testing.T) {
	c := fixture(t, nil)
	spec, err := os.ReadFile("testdata/petstore.yaml")
	if err != nil {
		t.Fatal(err)
	}
	dir := service(t, nil, spec)
	m, err := ReadManifest(dir)
	if err != nil {
		t.Fatal(err)
	}
	req, err := RegenRequest(c, dir, m)
	if err != nil {
		t.Fatal(err)
	}
	if req.API == nil || len(req.API.Files) == 0 {
		t.Fatal("an unchanged internal/api should be offered for reuse")
	}
	reused, err := Generate(context.Background(), req)
	if err != nil {
		t.Fatal(err)
	}
	req.API = nil
	fresh, err := Generate(context.Background(), req)
	if err != nil {
		t.Fatal(err)
	}
	if len(reused.Files) != len(fresh.Files) {
		t.Fatalf("reuse produced %d files, ogen %d", len(reused.Files), len(fresh.Files))
	}
	for i := range fresh.Files {
		if fresh.Files[i].Path != reused.Files[i].Path || string(fresh.Files[i].Content) != string(reused.Files[i].Content) {
			t.Fatalf("%s differs between reuse and a fresh ogen run", fresh.Files[i].Path)
		}
	}

	// A hand-edited api file is not reused.
	writeFile(t, dir, "internal/api/oas_server_gen.go", readFile(t, dir, "internal/api/oas_server_gen.go")+"// edit\n")
	if req, _ := RegenRequest(c, dir, m); req.API != nil {
		t.Error("an edited internal/api must not be reused")
	}
	// A changed spec has another key: ogen runs.
	writeFile(t, dir, SpecPath, strings.Replace(string(spec), "operationId: createPet", "operationId: addPet", 1))
	req, _ = RegenRequest(c, dir, m)
	res, err := Generate(context.Background(), req)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := byPath(res)["internal/handler/add_pet.go"]; !ok {
		t.Error("a changed spec must be generated by ogen, not reused")
	}
}

// TestRegenStarterFilesSurviveSpecEdits: a service that began with the
// starter keeps the starter's files after the team edits the spec; an
// unedited scaffold file of a removed feature goes, an edited one stays.
func TestRegenStarterFilesSurviveSpecEdits(t *testing.T) {
	extra := map[string]string{
		"starters/pets/internal/handler/convert.go.tmpl": "{{if .StarterSpec}}package handler\n\n// convert helps the starter's handlers.\n{{end}}",
		"pool/feature.yaml":             "summary: pools\nrequires: [metrics]\nscaffold: [internal/store/pooled.go, internal/store/tuned.go]\n",
		"pool/internal/store/pooled.go": "package store\n",
		"pool/internal/store/tuned.go":  "package store\n",
	}
	c := fixture(t, extra)
	dir := filepath.Join(t.TempDir(), "svc")
	if err := Write(dir, generate(t, c, Options{Name: "pet-service-go", Preset: "hot"}, nil)); err != nil {
		t.Fatal(err)
	}
	writeFile(t, dir, SpecPath, strings.Replace(readFile(t, dir, SpecPath), "operationId: createPet", "operationId: addPet", 1))
	writeFile(t, dir, "internal/store/tuned.go", "package store\n\n// tuned by the team\n")
	m, err := ReadManifest(dir)
	if err != nil {
		t.Fatal(err)
	}
	req, err := RegenRequest(c, dir, m)
	if err != nil {
		t.Fatal(err)
	}
	req.Options.Features = []string{"-pool"}
	res, err := Generate(context.Background(), req)
	if err != nil {
		t.Fatal(err)
	}
	p, err := PlanRegen(dir, m, res, RegenOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for path, want := range map[string]Action{
		"internal/handler/convert.go":    Unchanged,
		"internal/handler/create_pet.go": Orphan,
		"internal/handler/add_pet.go":    Create,
		"internal/store/pooled.go":       Remove,
		"internal/store/tuned.go":        Orphan,
	} {
		if a := action(p, path); a != want {
			t.Errorf("%s: %s, want %s", path, a, want)
		}
	}
}
