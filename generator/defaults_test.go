package generator

import (
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"
)

// zeroMeans are the parameters whose zero is a documented setting, not a
// missing value: the one place a default may be 0.
var zeroMeans = map[string]string{
	"compression.frame_threshold": "the frame mode's own threshold",
	"realtime.origins":            "same origin only",
	"timeouts.operations":         "no per-operation override",
}

// paramSection is the params section a feature reads, "" when none.
func paramSection(feature string) string {
	if feature == "servemux" {
		return "server"
	}
	t := reflect.TypeFor[Params]()
	for i := range t.NumField() {
		if strings.Split(t.Field(i).Tag.Get("yaml"), ",")[0] == feature {
			return feature
		}
	}
	return ""
}

// TestParamsEveryPresetAndFeature merges the params of every preset with
// each feature it lacks added and each one it can lose removed, as
// `svcgen new --features` does: the merge must pass the checks a generated
// service's config makes (Catalog.Params fails otherwise), and no field of
// an enabled feature's section may be zero unless zero is a setting.
func TestParamsEveryPresetAndFeature(t *testing.T) {
	c, err := LoadCatalog("")
	if err != nil {
		t.Fatal(err)
	}
	n, ok := 0, 0
	for _, p := range c.Presets() {
		variants := [][]string{nil}
		for _, f := range c.Features() {
			if slices.Contains(p.Features, f.Name) {
				variants = append(variants, []string{"-" + f.Name})
			} else {
				variants = append(variants, []string{"+" + f.Name})
			}
		}
		for _, v := range variants {
			features, err := c.ResolveFeatures(p, v)
			if err != nil {
				continue // a feature the preset's others need: not a service
			}
			n++
			name := p.Name + strings.Join(v, "")
			params, err := c.Params(p, features)
			if err != nil {
				t.Errorf("%s: %v", name, err)
				continue
			}
			bad := false
			for _, f := range features {
				section := paramSection(f)
				if section == "" {
					continue
				}
				fields, err := ParamFields(params, section)
				if err != nil {
					t.Fatal(err)
				}
				for _, field := range fields {
					key, val, _ := strings.Cut(field, "=")
					path := section + "." + key
					if _, documented := zeroMeans[path]; documented {
						continue
					}
					if val == "0" || val == "0s" || val == `""` || val == "none" {
						t.Errorf("%s: params.%s is %s with feature %s on: give it a default in templates/%s/feature.yaml", name, path, val, f, f)
						bad = true
					}
				}
			}
			if !bad {
				ok++
			}
		}
	}
	if n < 40 {
		t.Fatalf("only %d preset and feature combinations were checked", n)
	}
	t.Logf("%d/%d preset and feature combinations have complete params", ok, n)
}

// TestRequiredParamsExist keeps the table of checked params in step with
// the Params type.
func TestRequiredParamsExist(t *testing.T) {
	c, err := LoadCatalog("")
	if err != nil {
		t.Fatal(err)
	}
	var p Params
	for _, r := range requiredParams {
		if _, err := paramValue(&p, r.path); err != nil {
			t.Error(err)
		}
		if _, err := c.Feature(r.feature); err != nil {
			t.Errorf("params.%s: %v", r.path, err)
		}
	}
}

// loadWithPreset writes a preset into a presets dir and loads the catalog.
func loadWithPreset(t *testing.T, name, body string) (*Catalog, error) {
	t.Helper()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, name+".yaml"), []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	return LoadCatalog(dir)
}

// TestParamsPresetOverridesFieldByField: a preset's field replaces the
// default, even with zero; a field it leaves out is the default.
func TestParamsPresetOverridesFieldByField(t *testing.T) {
	c, err := loadWithPreset(t, "mine", `name: mine
description: test
starter: events
extends: analytics
features: [ogen, servemux, timeouts, metrics, pprof, dbpool, partition, matview, cache3, realtime]
params:
  cache3: {l1_size: 5}
  partition: {retention: 0}
  realtime: {tick: 0s, path: /stream}
`)
	if err != nil {
		t.Fatal(err)
	}
	p, err := c.Preset("mine")
	if err != nil {
		t.Fatal(err)
	}
	features, err := c.ResolveFeatures(p, nil)
	if err != nil {
		t.Fatal(err)
	}
	got, err := c.Params(p, features)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name      string
		got, want any
	}{
		{"cache3.l1_size (the preset's)", got.Cache3.L1Size, 5},
		{"cache3.l1_ttl (cache3's default)", got.Cache3.L1TTL, Duration(30 * time.Second)},
		{"partition.retention (the preset's 0)", got.Partition.Retention, 0},
		{"partition.premake (the extended analytics')", got.Partition.Premake, 3},
		{"realtime.tick (the preset's 0s)", got.Realtime.Tick, Duration(0)},
		{"realtime.path (the preset's)", got.Realtime.Path, "/stream"},
		{"realtime.send_queue (realtime's default)", got.Realtime.SendQueue, 256},
		{"timeouts.http (the extended analytics')", got.Timeouts.HTTP, Duration(30 * time.Second)},
		{"timeouts.operations (the extended analytics')", got.Timeouts.Operations["queryEvents"], Duration(10 * time.Second)},
	} {
		if !reflect.DeepEqual(tc.got, tc.want) {
			t.Errorf("%s = %v, want %v", tc.name, tc.got, tc.want)
		}
	}
	// Merging twice gives the same params: nothing is shared between calls.
	again, err := c.Params(p, features)
	if err != nil || !reflect.DeepEqual(got, again) {
		t.Fatalf("a second merge differs: %v\n%+v\n%+v", err, got, again)
	}
}

// TestParamsRejectsUnusable: a preset that sets a value the service would
// refuse fails to load, naming its line, the param and the fix.
func TestParamsRejectsUnusable(t *testing.T) {
	for _, tc := range []struct{ params, want string }{
		{"  cache3: {l1_size: 0}", "mine.yaml:7: params.cache3.l1_size is 0: want above 0"},
		{"  cache3:\n    jitter: 1.5", "mine.yaml:8: params.cache3.jitter is 1.5: want a fraction"},
		{"  timeouts: {db: 0s}", "mine.yaml:7: params.timeouts.db is 0s: want above 0"},
		{"  batch: {wait: 1s}", "mine.yaml:7: params.batch.wait is 1s: want at most 100ms"},
		// The pool opens at most dbpool.max_conns (25 by default): an alert
		// on more open connections than that could never fire.
		{"  observability: {db_conns: 25}", "mine.yaml:7: params.observability.db_conns is 25: want below params.dbpool.max_conns (25)"},
	} {
		_, err := loadWithPreset(t, "mine", `name: mine
description: test
starter: entity
features: [ogen, servemux, timeouts, metrics, dbpool, cache3, batch, observability]
# tuned
params:
`+tc.params+"\n")
		if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), "delete the line to take the default") {
			t.Errorf("%s: got %v, want an error with %q and the fix", tc.params, err, tc.want)
		}
	}
}

// TestDefaultsOwnedOnce: two folders defaulting one field is an error
// naming both files.
func TestDefaultsOwnedOnce(t *testing.T) {
	c := &Catalog{
		features: map[string]*Feature{
			"a": {Name: "a", dir: "a", defaults: paramsNode("templates/a/feature.yaml", []byte("params:\n  cache3: {l1_size: 1}\n"))},
			"b": {Name: "b", dir: "b", defaults: paramsNode("templates/b/feature.yaml", []byte("summary: b\nparams:\n  cache3:\n    l1_size: 2\n"))},
		},
		starters: map[string]*Feature{},
		base:     &Feature{Name: "base", dir: "base"},
	}
	err := c.checkDefaults()
	if err == nil || !strings.Contains(err.Error(), "templates/b/feature.yaml:4: params.cache3.l1_size is already defaulted by templates/a/feature.yaml") {
		t.Fatalf("got %v", err)
	}
}
