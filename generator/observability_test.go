package generator

import (
	"context"
	"encoding/json"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
)

// TestObservabilityPack checks, for every preset and without Prometheus,
// the files of the observability feature: the dashboard is valid JSON with
// a data source variable and a query in every panel, the rule files are
// valid YAML with the expected groups and the alerts of the preset's
// features, the PrometheusRule carries the same groups, and the scrape
// config loads rules.yml and scrapes the admin port.
func TestObservabilityPack(t *testing.T) {
	c, err := LoadCatalog("")
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range c.Presets() {
		t.Run(p.Name, func(t *testing.T) {
			o := goldenOptions(p.Name)
			res, err := Generate(context.Background(), Request{Catalog: c, Options: o})
			if err != nil {
				t.Fatal(err)
			}
			files := map[string][]byte{}
			for _, f := range res.Files {
				files[f.Path] = f.Content
			}
			get := func(path string) []byte {
				b, ok := files[path]
				if !ok {
					t.Fatalf("preset %s renders no %s", p.Name, path)
				}
				return b
			}
			has := func(f string) bool { return slices.Contains(res.Features, f) }
			ns := snake(o.Name)
			adminPort := o.AdminPort
			if adminPort == 0 {
				adminPort = 9090 // Options.Defaults
			}

			// Dashboard.
			var dash struct {
				Templating struct {
					List []struct {
						Name, Type, Query string
					} `json:"list"`
				} `json:"templating"`
				Title  string `json:"title"`
				UID    string `json:"uid"`
				Panels []struct {
					Datasource struct{ UID string } `json:"datasource"`
					Title      string               `json:"title"`
					Type       string               `json:"type"`
					Targets    []struct {
						Datasource struct{ UID string } `json:"datasource"`
						Expr       string               `json:"expr"`
						RefID      string               `json:"refId"`
					} `json:"targets"`
					ID int `json:"id"`
				} `json:"panels"`
			}
			if err := json.Unmarshal(get("deploy/observability/grafana/dashboard.json"), &dash); err != nil {
				t.Fatalf("dashboard.json: %v", err)
			}
			if dash.Title != o.Name || dash.UID == "" || len(dash.UID) > 40 {
				t.Errorf("dashboard title %q uid %q", dash.Title, dash.UID)
			}
			if len(dash.Templating.List) == 0 || dash.Templating.List[0].Name != "datasource" ||
				dash.Templating.List[0].Type != "datasource" || dash.Templating.List[0].Query != "prometheus" {
				t.Errorf("dashboard has no prometheus datasource variable: %+v", dash.Templating.List)
			}
			var exprs []string
			ids := map[int]bool{}
			for _, pn := range dash.Panels {
				if len(pn.Targets) == 0 {
					t.Errorf("panel %q has no query", pn.Title)
				}
				if ids[pn.ID] {
					t.Errorf("panel id %d twice", pn.ID)
				}
				ids[pn.ID] = true
				if pn.Datasource.UID != "${datasource}" {
					t.Errorf("panel %q does not use the datasource variable", pn.Title)
				}
				for _, tg := range pn.Targets {
					if strings.TrimSpace(tg.Expr) == "" || tg.RefID == "" || tg.Datasource.UID != "${datasource}" {
						t.Errorf("panel %q: target %+v", pn.Title, tg)
					}
					exprs = append(exprs, tg.Expr)
				}
			}
			joined := strings.Join(exprs, "\n")
			for feature, metric := range map[string]string{
				"dbpool": ns + "_db_pool_acquired_conns", "cache3": ns + "_cache_hits_total",
				"realtime": ns + "_realtime_connections", "partition": ns + "_partition_runs_total",
				"matview": ns + "_matview_refreshes_total", "metrics": ns + "_http_request_duration_seconds_bucket",
			} {
				if got := strings.Contains(joined, metric); got != has(feature) {
					t.Errorf("dashboard queries %s: %v, feature %s on: %v", metric, got, feature, has(feature))
				}
			}
			for _, m := range []string{"go_sched_pauses_total_gc_seconds_bucket", "go_goroutines", "process_resident_memory_bytes"} {
				if !strings.Contains(joined, m) {
					t.Errorf("dashboard has no panel on %s", m)
				}
			}

			// Rules.
			type rules struct {
				Groups []struct {
					Name  string `yaml:"name"`
					Rules []struct {
						Record, Alert, Expr, For string
						Labels                   map[string]string
					} `yaml:"rules"`
				} `yaml:"groups"`
			}
			var rf rules
			rulesSrc := get("deploy/observability/rules.yml")
			if err := yaml.Unmarshal(rulesSrc, &rf); err != nil {
				t.Fatalf("rules.yml: %v", err)
			}
			var groups []string
			alerts := map[string]bool{}
			for _, g := range rf.Groups {
				groups = append(groups, g.Name)
				for _, r := range g.Rules {
					if (r.Record == "") == (r.Alert == "") || r.Expr == "" {
						t.Errorf("group %s: rule %+v needs one of record and alert, and an expr", g.Name, r)
					}
					if r.Alert != "" {
						alerts[r.Alert] = true
						if r.Labels["severity"] == "" {
							t.Errorf("alert %s has no severity", r.Alert)
						}
					}
				}
			}
			if want := []string{o.Name + ".recording", o.Name + ".alerts"}; !slices.Equal(groups, want) {
				t.Errorf("rule groups %v, want %v", groups, want)
			}
			want := map[string]bool{"LatencyP99High": true, "LatencyP95High": true, "ErrorRatioHigh": true,
				"MemoryHigh": true, "GCPauseP99High": true, "GoroutineGrowth": true,
				"DBConnectionsHigh": has("dbpool"), "CacheDegraded": has("cache3"), "CacheHitRatioLow": has("cache3"),
				"RealtimeClientsDropped": has("realtime"), "PartitionUpkeepFailing": has("partition"),
				"MatviewRefreshFailing": has("matview")}
			for a, on := range want {
				if alerts[a] != on {
					t.Errorf("alert %s present: %v, want %v", a, alerts[a], on)
				}
			}
			// Thresholds come from the preset.
			if s := p.Params.Observability.LatencyP99.Duration().Seconds(); !strings.Contains(string(rulesSrc), fmt.Sprintf("p99_rate5m > %v\n", s)) {
				t.Errorf("rules.yml does not use latency_p99 %v", p.Params.Observability.LatencyP99)
			}

			// The PrometheusRule carries the same groups.
			var pr struct {
				Kind string `yaml:"kind"`
				Spec rules  `yaml:"spec"`
			}
			if err := yaml.Unmarshal(get("deploy/k8s/prometheusrule.yaml"), &pr); err != nil {
				t.Fatalf("prometheusrule.yaml: %v", err)
			}
			if pr.Kind != "PrometheusRule" || !reflect.DeepEqual(pr.Spec, rf) {
				t.Errorf("prometheusrule.yaml (kind %q) does not carry the groups of rules.yml", pr.Kind)
			}

			// Scrape config.
			var sc struct {
				RuleFiles     []string `yaml:"rule_files"`
				ScrapeConfigs []struct {
					JobName       string `yaml:"job_name"`
					MetricsPath   string `yaml:"metrics_path"`
					StaticConfigs []struct {
						Targets []string `yaml:"targets"`
					} `yaml:"static_configs"`
				} `yaml:"scrape_configs"`
			}
			if err := yaml.Unmarshal(get("deploy/observability/prometheus.yml"), &sc); err != nil {
				t.Fatalf("prometheus.yml: %v", err)
			}
			if !slices.Equal(sc.RuleFiles, []string{"rules.yml"}) || len(sc.ScrapeConfigs) != 1 ||
				sc.ScrapeConfigs[0].JobName != o.Name || sc.ScrapeConfigs[0].MetricsPath != "/metrics" ||
				len(sc.ScrapeConfigs[0].StaticConfigs) != 1 ||
				!slices.Equal(sc.ScrapeConfigs[0].StaticConfigs[0].Targets, []string{fmt.Sprintf("127.0.0.1:%d", adminPort)}) {
				t.Errorf("prometheus.yml: %+v", sc)
			}
		})
	}
}
