package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/svcgen/svcgen/generator"
	"github.com/svcgen/svcgen/internal/loadbench"
)

// promHelp says how to get promtool and prometheus when they are missing.
const promHelp = "promtool and prometheus are needed to check the generated observability pack: " +
	"run ./scripts/services.sh as root (it installs the Debian package prometheus with its service stopped), " +
	"or apt-get update && apt-get install -y prometheus, or put both binaries from https://prometheus.io/download/ on PATH " +
	"(or in SVCGEN_PROMETHEUS_DIR)"

// promTools finds promtool and prometheus, failing the test when they are
// missing: the observability checks never skip.
func promTools(t *testing.T) (promtool, prometheus string) {
	t.Helper()
	find := func(name string) string {
		if d := os.Getenv("SVCGEN_PROMETHEUS_DIR"); d != "" {
			if p := filepath.Join(d, name); fileExists(p) {
				return p
			}
		}
		p, err := exec.LookPath(name)
		if err != nil {
			t.Fatalf("%s not found: %s", name, promHelp)
		}
		return p
	}
	return find("promtool"), find("prometheus")
}

func fileExists(p string) bool {
	fi, err := os.Stat(p)
	return err == nil && !fi.IsDir()
}

// ruleFile is the part of a Prometheus rule file the checks read.
type ruleFile struct {
	Groups []struct {
		Name  string `yaml:"name"`
		Rules []struct {
			Record string            `yaml:"record"`
			Alert  string            `yaml:"alert"`
			Expr   string            `yaml:"expr"`
			For    string            `yaml:"for"`
			Labels map[string]string `yaml:"labels"`
		} `yaml:"rules"`
	} `yaml:"groups"`
}

func readRules(t *testing.T, b []byte) ruleFile {
	t.Helper()
	var rf ruleFile
	if err := yaml.Unmarshal(b, &rf); err != nil {
		t.Fatalf("rules.yml: %v", err)
	}
	return rf
}

// dashboardExprs returns the query of every panel target of a Grafana
// dashboard, by panel title.
func dashboardExprs(t *testing.T, b []byte) map[string][]string {
	t.Helper()
	var d struct {
		Panels []struct {
			Title   string `json:"title"`
			Targets []struct {
				Expr string `json:"expr"`
			} `json:"targets"`
		} `json:"panels"`
	}
	if err := json.Unmarshal(b, &d); err != nil {
		t.Fatalf("dashboard.json: %v", err)
	}
	out := map[string][]string{}
	for _, p := range d.Panels {
		if len(p.Targets) == 0 {
			t.Errorf("dashboard panel %q has no query", p.Title)
		}
		for _, tg := range p.Targets {
			out[p.Title] = append(out[p.Title], tg.Expr)
		}
	}
	return out
}

// grafanaVars replaces Grafana's variables with what a Prometheus query
// accepts.
var grafanaVars = strings.NewReplacer("$__rate_interval", "1m", "${__rate_interval}", "1m")

var (
	promStrings  = regexp.MustCompile(`"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'`)
	promMatchers = regexp.MustCompile(`\{[^}]*\}`)
	promRanges   = regexp.MustCompile(`\[[^\]]*\]`)
	promGrouping = regexp.MustCompile(`\b(?:by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)`)
	promTokens   = regexp.MustCompile(`(\d+(?:\.\d+)?(?:[eE][+-]?\d+)?)|([a-zA-Z_:][a-zA-Z0-9_:]*)(\s*\()?`)
	promKeywords = map[string]bool{"and": true, "or": true, "unless": true, "bool": true, "offset": true,
		"by": true, "without": true, "on": true, "ignoring": true, "group_left": true, "group_right": true,
		"inf": true, "nan": true, "Inf": true, "NaN": true}
)

// promMetricNames returns the metric (and recorded series) names a PromQL
// expression selects: identifiers that are not functions, keywords,
// labels or durations.
func promMetricNames(expr string) []string {
	e := promStrings.ReplaceAllString(expr, `""`)
	e = promMatchers.ReplaceAllString(e, " ")
	e = promRanges.ReplaceAllString(e, " ")
	e = promGrouping.ReplaceAllString(e, " ")
	var out []string
	for _, m := range promTokens.FindAllStringSubmatch(e, -1) {
		if m[2] == "" || m[3] != "" || promKeywords[m[2]] {
			continue
		}
		if !slices.Contains(out, m[2]) {
			out = append(out, m[2])
		}
	}
	return out
}

func TestPromMetricNames(t *testing.T) {
	got := promMetricNames(`sum by (operation) (rate(svc_http_requests_total{code=~"5.."}[5m])) / on (operation) group_left ` +
		`sum by (operation) (rate(svc_x_total[$__rate_interval])) > 1e-09 and time() - max by (view) (svc_matview_last_success_timestamp_seconds) ` +
		`> bool 0.5 or histogram_quantile(0.99, sum by (le) (rate(go_sched_pauses_total_gc_seconds_bucket{job="a"}[5m]))) unless a:b:c`)
	want := []string{"svc_http_requests_total", "svc_x_total", "svc_matview_last_success_timestamp_seconds", "go_sched_pauses_total_gc_seconds_bucket", "a:b:c"}
	if !slices.Equal(got, want) {
		t.Fatalf("promMetricNames = %q, want %q", got, want)
	}
}

// observabilityFiles are the pack's outputs in a generated service.
const (
	rulesPath      = "deploy/observability/rules.yml"
	scrapePath     = "deploy/observability/prometheus.yml"
	dashboardPath  = "deploy/observability/grafana/dashboard.json"
	alertTestAlert = "LatencyP99High"
)

// proveObservability checks the generated observability pack of a service
// the matrix already built and tested: promtool on the rules, the scrape
// config and every dashboard query; then a real Prometheus server scrapes
// the running service (built binary, Postgres, Redis) under the built-in
// load scenario, and the test asserts through Prometheus's HTTP API that
// every recording rule returns data, every metric the rules and the
// dashboard use exists, and an alert whose threshold is crossed on purpose
// fires.
func proveObservability(t *testing.T, dir string, o generator.Options) {
	start := time.Now()
	promtool, prometheus := promTools(t)
	run(t, dir, promtool, "check", "rules", rulesPath)
	run(t, dir, promtool, "check", "config", scrapePath)

	rulesSrc, err := os.ReadFile(filepath.Join(dir, rulesPath))
	if err != nil {
		t.Fatal(err)
	}
	rules := readRules(t, rulesSrc)
	dashSrc, err := os.ReadFile(filepath.Join(dir, dashboardPath))
	if err != nil {
		t.Fatal(err)
	}
	panels := dashboardExprs(t, dashSrc)

	// Every dashboard query parses: promtool checks them as recording rules.
	tmp := t.TempDir()
	var dq strings.Builder
	dq.WriteString("groups:\n  - name: dashboard\n    rules:\n")
	n := 0
	titles := make([]string, 0, len(panels))
	for title := range panels {
		titles = append(titles, title)
	}
	slices.Sort(titles)
	for _, title := range titles {
		for _, e := range panels[title] {
			n++
			q, _ := json.Marshal(grafanaVars.Replace(e))
			fmt.Fprintf(&dq, "      - record: dashboard:panel_%d:query # %s\n        expr: %s\n", n, title, q)
		}
	}
	dqPath := filepath.Join(tmp, "dashboard-queries.yml")
	if err := os.WriteFile(dqPath, []byte(dq.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	run(t, tmp, promtool, "check", "rules", dqPath)

	// The same rules with a threshold crossed on purpose: a preset (through
	// a presets dir, as a user would) that extends this one with a P99
	// threshold of 1ns and no pending period. Its recording rules must be
	// the generated ones, unchanged.
	alertRules := renderAlertRules(t, o)
	ar := readRules(t, alertRules)
	if len(ar.Groups) != len(rules.Groups) || len(ar.Groups) == 0 {
		t.Fatalf("the alert-test rules have %d groups, the generated ones %d", len(ar.Groups), len(rules.Groups))
	}
	if ga, gr := fmt.Sprint(ar.Groups[0]), fmt.Sprint(rules.Groups[0]); ga != gr {
		t.Fatalf("a threshold change altered the recording rules:\n%s\n%s", ga, gr)
	}
	rulesFile := filepath.Join(tmp, "rules.yml")
	if err := os.WriteFile(rulesFile, alertRules, 0o644); err != nil {
		t.Fatal(err)
	}
	run(t, tmp, promtool, "check", "rules", rulesFile)

	// The service: built binary, its own database, STORE=postgres.
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	bin := filepath.Join(tmp, "svc")
	run(t, dir, "go", "build", "-o", bin, "./cmd/"+o.Name)
	dbURL := createDatabase(t, "obs_"+strings.ReplaceAll(o.Name, "-", "_"))
	httpAddr, _ := loadbench.FreeAddr()
	adminAddr, _ := loadbench.FreeAddr()
	// Generous deadlines: the machine running the matrix may be busy, and
	// the scenario's seeding must not fail on hot-path's 100ms; the checks
	// below do not depend on the preset's deadlines.
	env := append(os.Environ(), "STORE=postgres", "DATABASE_URL="+dbURL, "REDIS_URL="+redisURL(),
		"HTTP_ADDR="+httpAddr, "ADMIN_ADDR="+adminAddr, "LOG_LEVEL=warn",
		"TIMEOUT_DEFAULT=10s", "TIMEOUT_DB=5s")
	mig := exec.CommandContext(ctx, bin, "-migrate", "up")
	mig.Env = env
	if out, err := mig.CombinedOutput(); err != nil {
		t.Fatalf("migrate up: %v\n%s", err, out)
	}
	svcLog := filepath.Join(tmp, "svc.log")
	svc := startProcess(t, ctx, env, svcLog, bin)
	_ = svc

	// Prometheus with the generated scrape config: the same job and rule
	// files, with the target pointed at this instance's admin port and
	// short intervals.
	promCfg := overrideScrapeConfig(t, filepath.Join(dir, scrapePath), adminAddr, rulesFile)
	cfgPath := filepath.Join(tmp, "prometheus.yml")
	if err := os.WriteFile(cfgPath, promCfg, 0o644); err != nil {
		t.Fatal(err)
	}
	run(t, tmp, promtool, "check", "config", cfgPath)
	promAddr, _ := loadbench.FreeAddr()
	startProcess(t, ctx, os.Environ(), filepath.Join(tmp, "prometheus.log"), prometheus,
		"--config.file="+cfgPath, "--storage.tsdb.path="+filepath.Join(tmp, "tsdb"),
		"--web.listen-address="+promAddr)
	api := &promAPI{base: "http://" + promAddr}
	if err := api.waitReady(ctx); err != nil {
		t.Fatalf("prometheus: %v\n%s", err, tail(filepath.Join(tmp, "prometheus.log")))
	}

	// Load: the service's own scenario, a few seconds, from its own tree.
	run(t, dir, "go", "run", "./internal/platform/load/loadgen", "-url", "http://"+httpAddr,
		"-admin", "http://"+adminAddr, "-duration", "6s", "-workers", "4", "-seed", "50")

	// Every recording rule returns data.
	var records, used []string
	for _, g := range rules.Groups {
		for _, r := range g.Rules {
			if r.Record != "" {
				records = append(records, r.Record)
			}
			for _, m := range promMetricNames(r.Expr) {
				if !strings.Contains(m, ":") && !slices.Contains(used, m) {
					used = append(used, m)
				}
			}
		}
	}
	for _, title := range titles {
		for _, e := range panels[title] {
			for _, m := range promMetricNames(grafanaVars.Replace(e)) {
				if !strings.Contains(m, ":") && !slices.Contains(used, m) {
					used = append(used, m)
				}
			}
		}
	}
	slices.Sort(used)
	for _, r := range records {
		if err := api.waitData(ctx, r, 30*time.Second); err != nil {
			t.Errorf("recording rule %s: %v", r, err)
		}
	}
	// Every metric used in the rules and the dashboard exists.
	for _, m := range used {
		if err := api.waitData(ctx, fmt.Sprintf("group({__name__=%q})", m), 10*time.Second); err != nil {
			t.Errorf("metric %s (used by the rules or the dashboard) is not exported: %v", m, err)
		}
	}
	// The alert whose threshold was crossed on purpose fires.
	if err := api.waitFiring(ctx, alertTestAlert, 30*time.Second); err != nil {
		t.Errorf("%v\nservice log:\n%s", err, tail(svcLog))
	}
	if t.Failed() {
		t.Logf("prometheus log:\n%s", tail(filepath.Join(tmp, "prometheus.log")))
		return
	}
	t.Logf("observability: promtool ok (rules, config, %d dashboard queries); %d recording rules return data; %d metrics exist; %s firing; in %v",
		n, len(records), len(used), alertTestAlert, time.Since(start).Round(time.Millisecond))
}

// renderAlertRules renders rules.yml of o with a preset that extends o's
// preset with a P99 latency threshold of 1ns and no pending period.
func renderAlertRules(t *testing.T, o generator.Options) []byte {
	t.Helper()
	c, err := generator.LoadCatalog("")
	if err != nil {
		t.Fatal(err)
	}
	p, err := c.Preset(o.Preset)
	if err != nil {
		t.Fatal(err)
	}
	test := *p
	test.Name = "alert-test-" + p.Name
	test.Extends = ""
	test.Params.Observability.LatencyP99 = generator.Duration(time.Nanosecond)
	test.Params.Observability.For = 0
	b, err := yaml.Marshal(&test)
	if err != nil {
		t.Fatal(err)
	}
	presets := t.TempDir()
	if err := os.WriteFile(filepath.Join(presets, test.Name+".yaml"), b, 0o644); err != nil {
		t.Fatal(err)
	}
	c, err = generator.LoadCatalog(presets)
	if err != nil {
		t.Fatalf("test preset:\n%s\n%v", b, err)
	}
	o.Preset = test.Name
	res, err := generator.Generate(context.Background(), generator.Request{Catalog: c, Options: o})
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range res.Files {
		if f.Path == rulesPath {
			return f.Content
		}
	}
	t.Fatalf("preset %s renders no %s", test.Name, rulesPath)
	return nil
}

// overrideScrapeConfig reads the generated scrape config and changes only
// what a test run must: the target, the intervals and the rule file path.
// The job name and metrics path stay as generated (the rules select on the
// job).
func overrideScrapeConfig(t *testing.T, path, target, rules string) []byte {
	t.Helper()
	src, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var cfg map[string]any
	if err := yaml.Unmarshal(src, &cfg); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	global, _ := cfg["global"].(map[string]any)
	if global == nil {
		global = map[string]any{}
	}
	global["scrape_interval"], global["evaluation_interval"] = "1s", "1s"
	cfg["global"] = global
	if rf, _ := cfg["rule_files"].([]any); len(rf) != 1 || rf[0] != "rules.yml" {
		t.Fatalf("%s: rule_files is %v, want [rules.yml]", path, cfg["rule_files"])
	}
	cfg["rule_files"] = []any{rules}
	scs, _ := cfg["scrape_configs"].([]any)
	if len(scs) != 1 {
		t.Fatalf("%s: want one scrape config, got %d", path, len(scs))
	}
	sc, _ := scs[0].(map[string]any)
	statics, _ := sc["static_configs"].([]any)
	if len(statics) != 1 {
		t.Fatalf("%s: want one static_config, got %v", path, sc["static_configs"])
	}
	st, _ := statics[0].(map[string]any)
	st["targets"] = []any{target}
	sc["scrape_interval"] = "1s"
	out, err := yaml.Marshal(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// createDatabase creates a fresh database on the test PostgreSQL (dropped at
// the end) and returns its URL.
func createDatabase(t *testing.T, name string) string {
	t.Helper()
	psql, err := exec.LookPath("psql")
	if err != nil {
		t.Fatalf("psql not found (apt-get install -y postgresql-client): it creates the database of the observability check")
	}
	name = fmt.Sprintf("%s_%d", name, time.Now().UnixNano()%1e9)
	sql := func(q string) error {
		out, err := exec.Command(psql, pgURL(), "-v", "ON_ERROR_STOP=1", "-qc", q).CombinedOutput()
		if err != nil {
			return fmt.Errorf("%s: %v: %s", q, err, out)
		}
		return nil
	}
	if err := sql("CREATE DATABASE " + name); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := sql("DROP DATABASE IF EXISTS " + name + " WITH (FORCE)"); err != nil {
			t.Logf("dropping the test database: %v", err)
		}
	})
	u, err := url.Parse(pgURL())
	if err != nil {
		t.Fatal(err)
	}
	u.Path = "/" + name
	return u.String()
}

// startProcess starts a command with its output in logPath, and stops it
// (SIGTERM, then SIGKILL) when the test ends.
func startProcess(t *testing.T, ctx context.Context, env []string, logPath, name string, args ...string) *exec.Cmd {
	t.Helper()
	logf, err := os.Create(logPath)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Env = env
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.Cancel = func() error { return cmd.Process.Signal(os.Interrupt) }
	cmd.WaitDelay = 10 * time.Second
	if err := cmd.Start(); err != nil {
		t.Fatalf("starting %s: %v", name, err)
	}
	done := make(chan struct{})
	go func() { _ = cmd.Wait(); close(done) }()
	t.Cleanup(func() {
		_ = cmd.Process.Signal(os.Interrupt)
		select {
		case <-done:
		case <-time.After(15 * time.Second):
			_ = cmd.Process.Kill()
			<-done
		}
		logf.Close()
	})
	return cmd
}

// tail returns the end of a log file.
func tail(path string) string {
	b, _ := os.ReadFile(path)
	if len(b) > 4000 {
		b = b[len(b)-4000:]
	}
	return string(b)
}

// promAPI queries a Prometheus server's HTTP API.
type promAPI struct{ base string }

func (p *promAPI) get(ctx context.Context, path string, q url.Values, out any) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, p.base+path+"?"+q.Encode(), nil)
	if err != nil {
		return err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return err
	}
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("%s: %s: %s", path, resp.Status, body)
	}
	return json.Unmarshal(body, out)
}

func (p *promAPI) waitReady(ctx context.Context) error {
	deadline := time.Now().Add(30 * time.Second)
	for {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, p.base+"/-/ready", nil)
		resp, err := http.DefaultClient.Do(req)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("not ready after 30s: %v", err)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// waitData polls an instant query until it returns at least one sample.
func (p *promAPI) waitData(ctx context.Context, query string, within time.Duration) error {
	deadline := time.Now().Add(within)
	for {
		var r struct {
			Status string `json:"status"`
			Data   struct {
				Result []json.RawMessage `json:"result"`
			} `json:"data"`
		}
		err := p.get(ctx, "/api/v1/query", url.Values{"query": {query}}, &r)
		if err == nil && r.Status == "success" && len(r.Data.Result) > 0 {
			return nil
		}
		if time.Now().After(deadline) {
			if err != nil {
				return err
			}
			return fmt.Errorf("query %s returned no data within %v", query, within)
		}
		time.Sleep(500 * time.Millisecond)
	}
}

// waitFiring polls /api/v1/alerts until the named alert is firing.
func (p *promAPI) waitFiring(ctx context.Context, name string, within time.Duration) error {
	deadline := time.Now().Add(within)
	var seen []string
	for {
		var r struct {
			Data struct {
				Alerts []struct {
					Labels map[string]string `json:"labels"`
					State  string            `json:"state"`
				} `json:"alerts"`
			} `json:"data"`
		}
		if err := p.get(ctx, "/api/v1/alerts", nil, &r); err != nil {
			return err
		}
		seen = seen[:0]
		for _, a := range r.Data.Alerts {
			if a.Labels["alertname"] == name && a.State == "firing" {
				return nil
			}
			seen = append(seen, a.Labels["alertname"]+"="+a.State)
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("alert %s not firing within %v (alerts: %v)", name, within, seen)
		}
		time.Sleep(500 * time.Millisecond)
	}
}
