package generator

import (
	"context"
	"os"
	"path/filepath"
	"slices"
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
	m := AdoptManifest(info, "hot-path", nil, false, user)
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

// TestSelectAdoption: the platform packages follow what the service uses,
// and every preset feature left out says why.
func TestSelectAdoption(t *testing.T) {
	c, err := LoadCatalog("")
	if err != nil {
		t.Fatal(err)
	}
	feats := func(name string) []string {
		p, err := c.Preset(name)
		if err != nil {
			t.Fatal(err)
		}
		fs, err := c.ResolveFeatures(p, nil)
		if err != nil {
			t.Fatal(err)
		}
		return fs
	}
	chiSQL := AdoptUses{Routers: []string{"chi"}, DBAPIs: []string{"database/sql"}, SQLDrivers: []string{"github.com/go-sql-driver/mysql"}, Web: true}
	ogenPgx := AdoptUses{Ogen: true, DBAPIs: []string{"pgx"}, Web: true}
	muxPgxRedis := AdoptUses{DBAPIs: []string{"pgx", "redis"}, Web: true}
	worker := AdoptUses{DBAPIs: []string{"redis"}}
	for _, tc := range []struct {
		name, preset string
		uses         AdoptUses
		packages     []string
		left         []string
	}{
		{"chi + MySQL", "hot-path", chiSQL, []string{"httpmw", "metrics", "sqlpool", "pool", "profiling"}, []string{"servemux", "timeouts", "dbpool", "observability", "ogen", "pgo", "pprof"}},
		{"ogen + pgx", "hot-path", ogenPgx, []string{"server", "apierr", "timeout", "metrics", "dbpool", "pool", "profiling"}, []string{"observability", "ogen", "pgo", "pprof"}},
		{"chi + MySQL", "read-heavy", chiSQL, []string{"httpmw", "metrics", "sqlpool", "profiling"}, []string{"servemux", "timeouts", "dbpool", "cache3", "batch", "observability", "ogen", "pgo", "pprof"}},
		{"ServeMux + pgx + Redis", "read-heavy", muxPgxRedis, []string{"timeout", "httpmw", "metrics", "dbpool", "profiling", "cache", "batch"}, []string{"servemux", "observability", "ogen", "pgo", "pprof"}},
		{"ServeMux + pgx + Redis", "analytics", muxPgxRedis, []string{"httpmw", "metrics", "dbpool", "profiling", "compress", "partition", "matview"}, []string{"servemux", "timeouts", "observability", "ogen", "pgo", "pprof"}},
		{"chi + MySQL", "realtime", chiSQL, []string{"httpmw", "metrics", "sqlpool", "pool", "profiling", "compress", "realtime"}, []string{"servemux", "timeouts", "dbpool", "observability", "ogen", "pgo", "pprof"}},
		{"fiber + pgx", "hot-path", AdoptUses{Routers: []string{"fiber"}, DBAPIs: []string{"pgx"}, Web: true}, []string{"metrics", "dbpool", "pool", "profiling"}, []string{"servemux", "timeouts", "observability", "ogen", "pgo", "pprof"}},
		{"Redis worker", "read-heavy", worker, []string{"metrics", "profiling"}, []string{"servemux", "timeouts", "dbpool", "cache3", "batch", "observability", "ogen", "pgo", "pprof"}},
	} {
		sel := SelectAdoption(feats(tc.preset), tc.uses)
		var left []string
		for _, l := range sel.Left {
			left = append(left, l.Feature)
			if l.Why == "" {
				t.Errorf("%s, %s: %s left out without a reason", tc.name, tc.preset, l.Feature)
			}
		}
		if !slices.Equal(sel.Packages, tc.packages) || !slices.Equal(left, tc.left) {
			t.Errorf("%s, %s: packages %v, left out %v; want %v and %v", tc.name, tc.preset, sel.Packages, left, tc.packages, tc.left)
		}
		if sel.API {
			t.Errorf("%s, %s: no spec, yet the API is adopted", tc.name, tc.preset)
		}
	}
	// With a spec, a net/http service gets its ogen API (and ogen is not
	// left out); an ogen service, a fiber one or one serving no HTTP do not.
	for _, tc := range []struct {
		name string
		uses AdoptUses
		api  bool
		why  string
	}{
		{"migrated ServeMux", AdoptUses{Web: true, Spec: true}, true, ""},
		{"chi", AdoptUses{Routers: []string{"chi"}, Web: true, Spec: true}, true, ""},
		{"no spec", AdoptUses{Web: true}, false, "has no OpenAPI spec"},
		{"ogen", AdoptUses{Ogen: true, Web: true, Spec: true}, false, "ogen API of its own"},
		{"fiber", AdoptUses{Routers: []string{"fiber"}, Web: true, Spec: true}, false, "fasthttp"},
		{"no HTTP", AdoptUses{Spec: true}, false, "no HTTP routes"},
	} {
		sel := SelectAdoption(feats("hot-path"), tc.uses)
		why := ""
		for _, l := range sel.Left {
			if l.Feature == "ogen" {
				why = l.Why
			}
		}
		if sel.API != tc.api || (tc.why == "") != (why == "") || !strings.Contains(why, tc.why) {
			t.Errorf("%s: API %t, ogen left out for %q; want %t and %q", tc.name, sel.API, why, tc.api, tc.why)
		}
	}
}

// TestAdoptNetHTTP renders an adoption for a chi service: httpmw and
// sqlpool, no package built on ogen, metrics without its ogen-based test,
// and the go get modules without ogen or pgx; the manifest records the
// packages so a regeneration renders the same.
func TestAdoptNetHTTP(t *testing.T) {
	c, err := LoadCatalog("")
	if err != nil {
		t.Fatal(err)
	}
	p, _ := c.Preset("hot-path")
	fs, err := c.ResolveFeatures(p, nil)
	if err != nil {
		t.Fatal(err)
	}
	sel := SelectAdoption(fs, AdoptUses{Routers: []string{"chi"}, DBAPIs: []string{"database/sql"}, Web: true})
	dir := t.TempDir()
	info := AdoptInfo{Module: "example.com/players", Name: "players"}
	m := AdoptManifest(info, "hot-path", sel.Packages, false, nil)
	req, err := RegenRequest(c, dir, m)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(req.Adopt, []string{"httpmw", "sqlpool"}) {
		t.Fatalf("request renders %v of templates/adopt", req.Adopt)
	}
	full, err := Generate(context.Background(), req)
	if err != nil {
		t.Fatal(err)
	}
	res, mods, err := AdoptResult(full, m)
	if err != nil {
		t.Fatal(err)
	}
	var paths []string
	var manifest []byte
	for _, f := range res.Files {
		paths = append(paths, f.Path)
		if f.Path == ManifestPath {
			manifest = f.Content
		}
	}
	for _, want := range []string{"internal/platform/httpmw/httpmw.go", "internal/platform/httpmw/httpmw_test.go", "internal/platform/sqlpool/sqlpool.go", "internal/platform/metrics/metrics.go"} {
		if !slices.Contains(paths, want) {
			t.Errorf("no %s in %v", want, paths)
		}
	}
	for _, p := range paths {
		if strings.HasPrefix(p, "internal/platform/server/") || strings.HasPrefix(p, "internal/platform/apierr/") || strings.HasPrefix(p, "internal/platform/timeout/") || strings.HasPrefix(p, "internal/platform/dbpool/") {
			t.Errorf("adopt would write %s", p)
		}
	}
	for _, m := range mods {
		if strings.Contains(m.Path, "ogen") || strings.Contains(m.Path, "pgx") {
			t.Errorf("go get would add %s", m.Path)
		}
	}
	got, err := unmarshalManifest(manifest)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(got.Adopted.Packages, sel.Packages) {
		t.Errorf("manifest packages %v, want %v", got.Adopted.Packages, sel.Packages)
	}
	again, _, err := AdoptResult(full, got)
	if err != nil {
		t.Fatal(err)
	}
	if len(again.Files) != len(res.Files) {
		t.Errorf("a regeneration renders %d files, adopt %d", len(again.Files), len(res.Files))
	}
}

// TestAdoptAPI: an adopted service with a spec gets ogen's package, the
// handler skeleton (scaffold) and the mount under internal/ogen, nothing
// of the preset's starter; a second render of an unchanged spec reuses
// ogen's output and plans no change; a new operation rewrites the API,
// adds its handler file and leaves the team's edited files alone.
func TestAdoptAPI(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "legacy")
	spec := "openapi: 3.0.3\ninfo: {title: t, version: \"1\"}\npaths:\n  /things/{id}:\n    get:\n      operationId: getThing\n      parameters:\n        - {name: id, in: path, required: true, schema: {type: integer}}\n      responses:\n        \"204\": {description: ok}\n  /things/:\n    get:\n      operationId: listThings\n      responses:\n        \"204\": {description: ok}\n"
	writeFiles(t, dir, map[string]string{
		"go.mod":           "module example.com/legacy\n\ngo 1.26.0\n",
		"main.go":          "package main\n\nfunc main() {}\n",
		"api/openapi.yaml": spec,
	})
	info, err := DetectAdoption(dir)
	if err != nil {
		t.Fatal(err)
	}
	c, err := LoadCatalog("")
	if err != nil {
		t.Fatal(err)
	}
	user, err := ScanUserFiles(dir)
	if err != nil {
		t.Fatal(err)
	}
	m := AdoptManifest(info, "hot-path", []string{"httpmw", "metrics"}, true, user)
	render := func(m Manifest) Result {
		t.Helper()
		req, err := RegenRequest(c, dir, m)
		if err != nil {
			t.Fatal(err)
		}
		full, err := Generate(context.Background(), req)
		if err != nil {
			t.Fatal(err)
		}
		res, _, err := AdoptResult(full, m)
		if err != nil {
			t.Fatal(err)
		}
		return res
	}
	res := render(m)
	classes := map[string]Class{}
	var mount string
	for _, f := range res.Files {
		classes[f.Path] = f.Class
		if f.Path == "internal/ogen/mount/mount.go" {
			mount = string(f.Content)
		}
		if !strings.HasPrefix(f.Path, "internal/platform/") && !strings.HasPrefix(f.Path, AdoptAPIDir+"/") && f.Path != ManifestPath {
			t.Errorf("adopt would write %s", f.Path)
		}
	}
	for p, want := range map[string]Class{
		"internal/ogen/api/oas_server_gen.go":  Generated,
		"internal/ogen/api/svcgen_hooks.go":    Generated,
		"internal/ogen/mount/mount.go":         Generated,
		"internal/ogen/mount/mount_test.go":    Generated,
		"internal/ogen/handler/handler.go":     Scaffold,
		"internal/ogen/handler/moved.go":       Scaffold,
		"internal/ogen/handler/get_thing.go":   Scaffold,
		"internal/ogen/handler/list_things.go": Scaffold,
	} {
		if classes[p] != want {
			t.Errorf("%s: class %q, want %q", p, classes[p], want)
		}
	}
	// The trailing slash is matched exactly, as the legacy router did.
	for _, want := range []string{`Pattern: "GET /things/{p0}"`, `Pattern: "GET /things/{$}"`} {
		if !strings.Contains(mount, want) {
			t.Errorf("mount.go has no %s", want)
		}
	}
	if res.AdoptAPIKey == "" || len(res.AdoptOperations) != 2 {
		t.Fatalf("key %q, operations %v", res.AdoptAPIKey, res.AdoptOperations)
	}
	p, err := PlanRegen(dir, m, res, RegenOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if err := Apply(dir, p); err != nil {
		t.Fatal(err)
	}
	written, err := ReadManifest(dir)
	if err != nil {
		t.Fatal(err)
	}
	if written.Adopted.API != AdoptAPIDir || written.Adopted.APIKey != res.AdoptAPIKey {
		t.Fatalf("adopted: %+v", written.Adopted)
	}
	// Unchanged spec: ogen's output is reused and nothing changes.
	if req, _ := RegenRequest(c, dir, written); req.AdoptAPI == nil || req.AdoptAPI.Key != res.AdoptAPIKey {
		t.Error("regen of an unchanged spec does not reuse the adopted API")
	}
	p, err = PlanRegen(dir, written, render(written), RegenOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if p.Drift() {
		t.Errorf("a second render drifts: %+v", p.Changes)
	}
	// The team edits its files; the spec gains an operation.
	writeFiles(t, dir, map[string]string{
		"internal/ogen/handler/moved.go": "package handler\n\nvar Moved = []string{\"getThing\"}\n",
		"api/openapi.yaml":               spec + "  /health:\n    get:\n      operationId: health\n      responses:\n        \"204\": {description: ok}\n",
	})
	p, err = PlanRegen(dir, written, render(written), RegenOptions{})
	if err != nil {
		t.Fatal(err)
	}
	actions := map[string]Action{}
	for _, ch := range p.Changes {
		actions[ch.Path] = ch.Action
	}
	for path, want := range map[string]Action{
		"internal/ogen/api/oas_server_gen.go": Update,
		"internal/ogen/mount/mount.go":        Update,
		"internal/ogen/handler/health.go":     Create,
		"internal/ogen/handler/moved.go":      Keep,
		"internal/ogen/handler/handler.go":    Unchanged,
	} {
		if actions[path] != want {
			t.Errorf("%s: %q, want %q", path, actions[path], want)
		}
	}
}
