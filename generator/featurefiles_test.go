package generator

import (
	"context"
	"os"
	"slices"
	"strings"
	"testing"
	"testing/fstest"
)

// filesTree is a small template tree for the files table: base, two
// features and one starter, with extra files (or replaced ones) on top.
func filesTree(t *testing.T, extra map[string]string) (*Catalog, error) {
	t.Helper()
	spec, err := os.ReadFile("testdata/petstore.yaml")
	if err != nil {
		t.Fatal(err)
	}
	tm := fstest.MapFS{
		"base/feature.yaml":                        {Data: []byte("summary: base\nscaffold: [internal/handler/**]\n")},
		"base/cmd/__name__/main.go.tmpl":           {Data: []byte("{{.Header}}\npackage main\n\nfunc main() {}\n")},
		"base/internal/handler/__op__.go.tmpl":     {Data: []byte("package handler\n\n// {{.Op.Name}} stub\n")},
		"pool/feature.yaml":                        {Data: []byte("summary: pools\n")},
		"pool/internal/platform/pool/pool.go.tmpl": {Data: []byte("{{.Header}}\npackage pool\n")},
		"metrics/feature.yaml":                     {Data: []byte("summary: metrics\n")},
		"starters/pets/feature.yaml":               {Data: []byte("summary: pets\nscaffold: [internal/store/**, api/**]\n")},
		"starters/pets/api/openapi.yaml":           {Data: spec},
		"starters/pets/internal/store/store.go":    {Data: []byte("package store\n")},
	}
	for k, v := range extra {
		tm[k] = &fstest.MapFile{Data: []byte(v)}
	}
	pm := fstest.MapFS{
		"hot.yaml":   {Data: []byte("description: fast\nstarter: pets\nfeatures: [pool]\n")},
		"plain.yaml": {Data: []byte("description: plain\nstarter: pets\nfeatures: [metrics]\n")},
	}
	return loadCatalog(tm, pm, "")
}

func TestFilesTableSelects(t *testing.T) {
	c, err := filesTree(t, map[string]string{
		"base/feature.yaml": "summary: base\nscaffold: [internal/handler/**]\nfiles:\n" +
			"  - {path: pool.txt.tmpl, when: {features: [pool]}}\n" +
			"  - {path: nopool.txt, when: {without: [pool]}}\n" +
			"  - {path: pets.txt, when: {starter: [pets], starter_spec: true}}\n" +
			"  - {path: user.txt, when: {starter_spec: false}}\n" +
			"  - {path: explain.txt, when: {has: [explain]}}\n",
		"base/pool.txt.tmpl": "pool on\n",
		"base/nopool.txt":    "no pool\n",
		"base/pets.txt":      "pets\n",
		"base/user.txt":      "the team's spec\n",
		"base/explain.txt":   "explained\n",
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		preset  string
		explain bool
		want    []string
		not     []string
	}{
		{"hot", false, []string{"pool.txt", "pets.txt"}, []string{"nopool.txt", "user.txt", "explain.txt"}},
		{"plain", true, []string{"nopool.txt", "pets.txt", "explain.txt"}, []string{"pool.txt", "user.txt"}},
	} {
		files := byPath(generate(t, c, Options{Name: "pet-service-go", Preset: tc.preset, Explain: tc.explain}, nil))
		for _, p := range tc.want {
			if _, ok := files[p]; !ok {
				t.Errorf("%s: %s is missing", tc.preset, p)
			}
		}
		for _, p := range tc.not {
			if _, ok := files[p]; ok {
				t.Errorf("%s: %s is rendered, its when does not hold", tc.preset, p)
			}
		}
	}
	spec, err := os.ReadFile("testdata/petstore.yaml")
	if err != nil {
		t.Fatal(err)
	}
	files := byPath(generate(t, c, Options{Name: "pet-service-go", Preset: "hot"}, spec))
	if _, ok := files["user.txt"]; !ok {
		t.Error("a user spec: user.txt (starter_spec: false) is missing")
	}
	if _, ok := files["pets.txt"]; ok {
		t.Error("a user spec: pets.txt (starter_spec: true) is rendered")
	}
}

// TestFilesClassFromOwnFolder: one feature's globs never reclassify another
// folder's output; a files entry's class wins over its folder's globs.
func TestFilesClassFromOwnFolder(t *testing.T) {
	c, err := filesTree(t, map[string]string{
		"pool/feature.yaml":                         "summary: pools\nscaffold: ['**']\nfiles:\n  - {path: internal/platform/pool/owned.go.tmpl, class: generated}\n",
		"pool/internal/platform/pool/owned.go.tmpl": "{{.Header}}\npackage pool\n",
		"pool/internal/store/pooled.go.tmpl":        "package store\n",
	})
	if err != nil {
		t.Fatal(err)
	}
	files := byPath(generate(t, c, Options{Name: "pet-service-go", Preset: "hot"}, nil))
	for p, want := range map[string]Class{
		"cmd/pet-service-go/main.go":      Generated, // base's, whatever pool's globs say
		"internal/store/store.go":         Scaffold,  // the starter's own glob
		"internal/store/pooled.go":        Scaffold,  // pool's own glob
		"internal/platform/pool/pool.go":  Scaffold,  // pool's own glob
		"internal/platform/pool/owned.go": Generated, // its files entry
		"internal/handler/get_pet.go":     Scaffold,  // base's glob
		"api/openapi.yaml":                Scaffold,  // the starter's: its spec
	} {
		f, ok := files[p]
		if !ok {
			t.Errorf("%s is missing", p)
			continue
		}
		if f.Class != want {
			t.Errorf("%s: class %s, want %s", p, f.Class, want)
		}
	}
}

func TestFilesTableErrors(t *testing.T) {
	for _, tc := range []struct {
		name, yaml string
		want       []string
	}{
		{"missing file", "summary: base\nfiles:\n  - {path: nope.go.tmpl}\n",
			[]string{"templates/base/feature.yaml:3:", "nope.go.tmpl does not exist in templates/base"}},
		{"unknown feature", "summary: base\nfiles:\n  - path: cmd/__name__/main.go.tmpl\n    when:\n      features: [pol]\n",
			[]string{"templates/base/feature.yaml:5:", `unknown feature "pol"`, `did you mean "pool"`}},
		{"unknown without", "summary: base\nfiles:\n  - {path: cmd/__name__/main.go.tmpl, when: {without: [metrix]}}\n",
			[]string{"templates/base/feature.yaml:3:", `unknown feature "metrix"`}},
		{"unknown starter", "summary: base\nfiles:\n  - path: cmd/__name__/main.go.tmpl\n    when: {starter: [entity]}\n",
			[]string{"templates/base/feature.yaml:4:", `unknown starter "entity"`, "templates/starters has pets"}},
		{"unknown part", "summary: base\nfiles:\n  - {path: cmd/__name__/main.go.tmpl, when: {has: [probe]}}\n",
			[]string{"templates/base/feature.yaml:3:", `unknown part "probe"`, "explain, probes, security"}},
		{"listed twice", "summary: base\nfiles:\n  - {path: cmd/__name__/main.go.tmpl}\n  - {path: cmd/__name__/main.go.tmpl}\n",
			[]string{"templates/base/feature.yaml:4:", "listed twice (also at line 3)"}},
		{"bad class", "summary: base\nfiles:\n  - {path: cmd/__name__/main.go.tmpl, class: owned}\n",
			[]string{"templates/base/feature.yaml:3:", `unknown class "owned"`}},
		{"unknown key", "summary: base\nfiles:\n  - {path: cmd/__name__/main.go.tmpl, when: {feature: [pool]}}\n",
			[]string{"templates/base/feature.yaml:3:", `unknown field "feature"`}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := filesTree(t, map[string]string{"base/feature.yaml": tc.yaml})
			if err == nil {
				t.Fatal("the catalog loads")
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not say %q", err, w)
				}
			}
		})
	}
}

// TestFeatureUnknownName: a misspelt feature in a template fails the render
// at its file:line with the known names, instead of reading as false.
func TestFeatureUnknownName(t *testing.T) {
	c, err := filesTree(t, map[string]string{
		"base/notes.txt.tmpl": "notes\n{{if .Feature \"pool\"}}pool{{end}}\n{{if .Feature \"pol\"}}never{{end}}\n",
	})
	if err != nil {
		t.Fatal(err)
	}
	_, err = Generate(context.Background(), Request{Catalog: c, Options: Options{Name: "pet-service-go", Preset: "hot"}})
	if err == nil {
		t.Fatal("the render succeeds")
	}
	for _, w := range []string{"templates/base/notes.txt.tmpl:3:", `unknown feature "pol"`, `did you mean "pool"`, "known: metrics, pool"} {
		if !strings.Contains(err.Error(), w) {
			t.Errorf("error %q does not say %q", err, w)
		}
	}
}

// TestRealTreeFeatureNames renders every preset of the real tree: no
// template names a feature that does not exist.
func TestRealTreeFeatureNames(t *testing.T) {
	c, err := LoadCatalog("")
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range c.presetNames() {
		if _, err := Generate(context.Background(), Request{Catalog: c, Options: Options{Name: "svc", Module: "example.com/svc", Preset: p, Explain: true}}); err != nil {
			t.Errorf("%s: %v", p, err)
		}
	}
}

// TestConfigGoStable: the merged internal/config/config.go is the same
// whatever the preset and features; each feature's settings are a
// generated file of their own, embedded through platform.go.
func TestConfigGoStable(t *testing.T) {
	c, err := LoadCatalog("")
	if err != nil {
		t.Fatal(err)
	}
	var first string
	for _, o := range []Options{
		{Preset: "hot-path"},
		{Preset: "read-heavy"},
		{Preset: "read-heavy", Features: []string{"-cache3", "+realtime"}},
		{Preset: "analytics"},
		{Preset: "realtime", Features: []string{"+cache3", "+batch"}},
	} {
		o.Name, o.Module = "svc", "example.com/svc"
		res := generate(t, c, o, nil)
		files := byPath(res)
		cfg := string(files["internal/config/config.go"].Content)
		if first == "" {
			first = cfg
		} else if cfg != first {
			t.Errorf("%s %v: internal/config/config.go differs from hot-path's:\n%s", o.Preset, o.Features, cfg)
		}
		platform := string(files["internal/config/platform.go"].Content)
		for _, f := range res.Features {
			if _, ok := files["internal/config/"+f+".go"]; ok && !strings.Contains(platform, "\t"+f+"Settings\n") {
				t.Errorf("%s %v: platform.go does not embed %sSettings", o.Preset, o.Features, f)
			}
		}
		if _, ok := files["internal/config/cache3.go"]; ok != slices.Contains(res.Features, "cache3") {
			t.Errorf("%s %v: internal/config/cache3.go present = %v, cache3 on = %v", o.Preset, o.Features, ok, !ok)
		}
	}
}

// TestConfigPartsPlace: the platform struct embeds the pointer-free parts
// last and the others by rank (fieldalignment).
func TestConfigPartsPlace(t *testing.T) {
	c, err := LoadCatalog("")
	if err != nil {
		t.Fatal(err)
	}
	files := byPath(generate(t, c, Options{Name: "svc", Module: "example.com/svc", Preset: "realtime", Features: []string{"+cache3", "+batch"}}, nil))
	platform := string(files["internal/config/platform.go"].Content)
	order := []string{"\tcompressionSettings\n", "\tServer server.Config\n", "\trealtimeSettings\n", "\tcache3Settings\n", "\tbatchSettings\n", "\tLogLevel slog.Level\n"}
	at := -1
	for _, s := range order {
		i := strings.Index(platform, s)
		if i < 0 || i < at {
			t.Fatalf("platform.go does not have %q after %q:\n%s", s, order, platform)
		}
		at = i
	}
}
