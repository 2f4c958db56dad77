package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/svcgen/svcgen/generator"
)

// tutorialStep is one step of svcgen tutorial. check verifies, from what the
// step leaves behind, that it was done; prior is set when the step was done
// earlier and only its lasting effects are checked (a later step may have
// changed the sources since the tests ran, or stopped the service).
type tutorialStep struct {
	title    string
	why      func(t *tutorial) string
	commands func(t *tutorial) []string
	lookFor  func(t *tutorial) string
	check    func(t *tutorial, prior bool) error
}

// notRunningError is a check that needs the running service when it is not
// running.
type notRunningError struct{ err error }

func (e *notRunningError) Error() string { return e.err.Error() }

// The operation the tutorial adds to the spec.
const (
	tutorialOp     = "ping"
	tutorialOpPath = "/ping"
	tutorialOpFile = "internal/handler/ping.go"
)

var tutorialSteps = []tutorialStep{
	{
		title: "Generate a service",
		why: func(t *tutorial) string {
			return fmt.Sprintf("svcgen new writes a whole service from the %s preset: the API (api/openapi.yaml), ogen's typed server, the platform packages of the preset's features, tests, benchmarks, a Makefile and deploy files. .svcgen.yaml records the answers and every file's owner. svcgen presets show %s lists what the preset turns on; svcgen explain FEATURE says why each feature is there.", t.prog.Preset, t.prog.Preset)
		},
		commands: func(t *tutorial) []string {
			c := fmt.Sprintf("svcgen new %s --preset %s --module %s --out %s --yes", t.name, t.prog.Preset, t.module, shq(t.dir))
			if t.httpPort != generator.DefaultHTTPPort {
				c += " --http-port " + strconv.Itoa(t.httpPort)
			}
			if t.adminPort != generator.DefaultAdminPort {
				c += " --admin-port " + strconv.Itoa(t.adminPort)
			}
			return []string{c, "svcgen explain"}
		},
		lookFor: func(t *tutorial) string {
			return fmt.Sprintf("%s/.svcgen.yaml, and svcgen check %s printing \"up to date\".", t.dir, t.dir)
		},
		check: func(t *tutorial, prior bool) error {
			if _, err := os.Stat(filepath.Join(t.dir, generator.ManifestPath)); err != nil {
				return fmt.Errorf("%s does not exist: the service was not generated", filepath.Join(t.dir, generator.ManifestPath))
			}
			m, err := generator.ReadManifest(t.dir)
			if err != nil {
				return err
			}
			if m.Answers.Name != t.name {
				return fmt.Errorf("%s/%s is the service %q, not the tutorial's %q", t.dir, generator.ManifestPath, m.Answers.Name, t.name)
			}
			if prior {
				return nil
			}
			return t.drift()
		},
	},
	{
		title: "Run its tests",
		why: func(t *tutorial) string {
			return "Every generated service ships unit tests and integration tests against real PostgreSQL (and Redis for the cache): they prove the preset works on your machine before you change anything. The report is kept so the tutorial can read it."
		},
		commands: func(t *tutorial) []string {
			return []string{"cd " + shq(t.dir), dbEnv, "mkdir -p " + reportDir,
				"make test 2>&1 | tee " + reportDir + "/test.txt"}
		},
		lookFor: func(t *tutorial) string {
			return "one \"ok\" line per package with tests and no FAIL. A test that cannot reach PostgreSQL or Redis says which variable to set; start them with docker compose up -d postgres redis (the service's compose.yaml) or your package manager."
		},
		check: func(t *tutorial, prior bool) error {
			return t.report("test.txt", "make test", regexp.MustCompile(`(?m)^ok\s+\S+`), prior)
		},
	},
	{
		title: "Start it",
		why: func(t *tutorial) string {
			return fmt.Sprintf("The service serves its API on :%d, /healthz and /readyz beside it, and /metrics and /debug/pprof/ on the admin port 127.0.0.1:%d. The migrations create its tables first. Keep it running and use a second terminal for the next steps.", t.httpPort, t.adminPort)
		},
		commands: func(t *tutorial) []string {
			return []string{"cd " + shq(t.dir), dbEnv, "make build", "./bin/" + t.name + " -migrate up",
				"./bin/" + t.name + "    # stays in the foreground; Ctrl-C stops it"}
		},
		lookFor: func(t *tutorial) string {
			return fmt.Sprintf("a JSON log line saying the server listens; curl http://127.0.0.1:%d/healthz answers 200. Without PostgreSQL it stops with a message naming DATABASE_URL: start PostgreSQL (docker compose up -d postgres) or run STORE=memory ./bin/%s.", t.httpPort, t.name)
		},
		check: func(t *tutorial, prior bool) error {
			code, _, err := t.get(t.httpPort, "/healthz")
			if err != nil {
				return err
			}
			if code != http.StatusOK {
				return fmt.Errorf("GET /healthz on :%d answered %d, not 200", t.httpPort, code)
			}
			return nil
		},
	},
	{
		title: "Call it",
		why: func(t *tutorial) string {
			return "The API is typed end to end: ogen decodes and validates the request, your handler in internal/handler does the work, and every call is counted per operation and status code in the RED metrics."
		},
		commands: func(t *tutorial) []string { return starterCalls(t) },
		lookFor: func(t *tutorial) string {
			return fmt.Sprintf("JSON answers; curl -s http://127.0.0.1:%d/metrics | grep http_requests_total shows the calls by operation and code.", t.adminPort)
		},
		check: func(t *tutorial, prior bool) error {
			v, err := t.metric("http_requests_total", `code="2`)
			if err != nil {
				return err
			}
			if v <= 0 {
				return errors.New("no API call answered 2xx yet (http_requests_total in /metrics)")
			}
			return nil
		},
	},
	{
		title: "Add an operation to the spec",
		why: func(t *tutorial) string {
			return "api/openapi.yaml is the source of truth of the API. You add an operation there, never in the generated code: GET /ping, answering {\"message\": \"pong\"}, and the spec's JSON error for anything else (the default response every operation shares keeps the handlers' signatures simple: they return an error, and the generated NewError in internal/handler/errors.go turns it into the answer)."
		},
		commands: func(t *tutorial) []string {
			return []string{"cd " + shq(t.dir), pingSpecEdit}
		},
		lookFor: func(t *tutorial) string {
			return "operationId: ping under paths: in api/openapi.yaml. svcgen check now reports drift: the spec changed and the code did not follow yet."
		},
		check: func(t *tutorial, prior bool) error {
			spec, err := os.ReadFile(filepath.Join(t.dir, "api", "openapi.yaml"))
			if err != nil {
				return err
			}
			if !regexp.MustCompile(`(?m)^\s+operationId:\s*["']?` + tutorialOp + `["']?\s*$`).Match(spec) {
				return fmt.Errorf("api/openapi.yaml has no operation with operationId: %s", tutorialOp)
			}
			return nil
		},
	},
	{
		title: "Regenerate",
		why: func(t *tutorial) string {
			return "svcgen regen renders the service again: generated files (internal/api, internal/platform) are rewritten, the new operation gets its own handler file, and your files are kept: handlers and internal/app are yours, the Makefile, go.mod and README.md are three-way merged. --dry-run shows the diff first. In a git work tree with uncommitted changes, commit first (or pass --allow-dirty)."
		},
		commands: func(t *tutorial) []string {
			return []string{"cd " + shq(t.dir), "svcgen regen --dry-run > /dev/null", "svcgen regen", "svcgen check"}
		},
		lookFor: func(t *tutorial) string {
			return "\"created internal/handler/ping.go\" in regen's output, and svcgen check saying \"up to date\"."
		},
		check: func(t *tutorial, prior bool) error {
			if _, err := os.Stat(filepath.Join(t.dir, tutorialOpFile)); err != nil {
				return fmt.Errorf("%s does not exist: svcgen regen writes it for the new operation", tutorialOpFile)
			}
			if prior {
				return nil
			}
			return t.drift()
		},
	},
	{
		title: "Implement the new handler",
		why: func(t *tutorial) string {
			return "The stub answers 501 Not Implemented until you write it. The handler returns ogen's typed response; errors go through ErrorStatus in handler.go (yours: map your domain errors there) and answer in the spec's JSON error shape. Restart the service to serve the new code."
		},
		commands: func(t *tutorial) []string {
			return []string{"cd " + shq(t.dir), strings.ReplaceAll(pingHandler, "MODULE", t.module),
				"make build", "# stop the running service (Ctrl-C) and start it again:",
				"./bin/" + t.name, fmt.Sprintf("curl -s http://127.0.0.1:%d%s", t.httpPort, tutorialOpPath)}
		},
		lookFor: func(t *tutorial) string {
			return "{\"message\":\"pong\"} from curl, where the stub answered 501."
		},
		check: func(t *tutorial, prior bool) error {
			code, body, err := t.get(t.httpPort, tutorialOpPath)
			if err != nil {
				return err
			}
			switch {
			case code == http.StatusNotImplemented:
				return fmt.Errorf("GET %s still answers 501 Not Implemented: implement Ping in %s, then rebuild and restart the service", tutorialOpPath, tutorialOpFile)
			case code == http.StatusNotFound:
				return fmt.Errorf("GET %s answers 404: the running service was built before the regen; rebuild (make build) and restart it", tutorialOpPath)
			case code != http.StatusOK:
				return fmt.Errorf("GET %s answered %d: %s", tutorialOpPath, code, strings.TrimSpace(string(body)))
			}
			return nil
		},
	},
	{
		title: "Watch the signature metric",
		why: func(t *tutorial) string {
			s := t.signature()
			return s.why + " Every metric is on the admin port's /metrics; svcgen explain " + s.feature + " lists what to watch."
		},
		commands: func(t *tutorial) []string { return t.signature().commands(t) },
		lookFor: func(t *tutorial) string {
			s := t.signature()
			return fmt.Sprintf("%s%s at %g or more.", s.metric, labelText(s.label), s.min)
		},
		check: func(t *tutorial, prior bool) error {
			s := t.signature()
			v, err := t.metric(s.metric, s.label)
			if err != nil {
				return err
			}
			if v < s.min {
				return fmt.Errorf("%s%s is %g in /metrics on 127.0.0.1:%d, below %g: do this step's calls", s.metric, labelText(s.label), v, t.adminPort, s.min)
			}
			return nil
		},
	},
	{
		title: "Run the benchmarks",
		why: func(t *tutorial) string {
			return "make bench runs the service's benchmarks with allocation counts: the feature's cost against a baseline measured in the same run (for example the cache's tiers against the database, pooled buffers against fresh ones). BENCHTIME=100ms shortens it."
		},
		commands: func(t *tutorial) []string {
			return []string{"cd " + shq(t.dir), dbEnv, "mkdir -p " + reportDir,
				"make bench 2>&1 | tee " + reportDir + "/bench.txt"}
		},
		lookFor: func(t *tutorial) string {
			return "Benchmark lines with ns/op, B/op and allocs/op, and ok for every package."
		},
		check: func(t *tutorial, prior bool) error {
			return t.report("bench.txt", "make bench", regexp.MustCompile(`(?m)^Benchmark\S+\s+\d+\s+[\d.]+ ns/op`), prior)
		},
	},
	{
		title: "Switch the preset",
		why: func(t *tutorial) string {
			return fmt.Sprintf("A preset is data: the service's answers say which one it follows, and svcgen regen --preset switches it. From %s to %s, the features only one of them has come and go; your handlers, your edits to the Makefile and the new ping operation stay. svcgen presets show %s says what changes.", t.prog.Preset, t.prog.To, t.prog.To)
		},
		commands: func(t *tutorial) []string {
			regen := "svcgen regen --preset " + t.prog.To
			if keep := t.starterKeeps(); len(keep) > 0 {
				regen += " --features +" + strings.Join(keep, ",+") + "    # the starter API's code needs them"
			}
			return []string{"cd " + shq(t.dir), regen, "go build ./...", "svcgen check"}
		},
		lookFor: func(t *tutorial) string {
			return fmt.Sprintf("the files added and removed in regen's output, preset: %s in .svcgen.yaml, and svcgen check saying \"up to date\".", t.prog.To)
		},
		check: func(t *tutorial, prior bool) error {
			m, err := generator.ReadManifest(t.dir)
			if err != nil {
				return err
			}
			if m.Answers.Preset != t.prog.To {
				return fmt.Errorf("%s says preset: %s, not %s", generator.ManifestPath, m.Answers.Preset, t.prog.To)
			}
			if prior {
				return nil
			}
			return t.drift()
		},
	},
}

// starterKeeps lists the features the switch must keep with --features:
// those whose packages the service's own files import (the events store's
// tests use matview and partition), found by planning the switch. What the
// starter API requires needs no flag: regen keeps the service's starter and
// its requires.
func (t *tutorial) starterKeeps() []string {
	if _, err := os.Stat(filepath.Join(t.dir, generator.ManifestPath)); err != nil {
		return nil
	}
	_, _, err := generator.PlanService(context.Background(), t.cat, t.dir, generator.PlanOptions{Answers: generator.AnswerChanges{Preset: t.prog.To}})
	var inUse *generator.FeaturesInUseError
	if errors.As(err, &inUse) {
		return inUse.Keep
	}
	return nil
}

// dbEnv points the service and its tests at the local databases unless the
// environment already says where they are.
const dbEnv = `export DATABASE_URL="${DATABASE_URL:-postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable}" REDIS_URL="${REDIS_URL:-redis://127.0.0.1:6379/0}"`

const pingSpecEdit = `awk '{print} /^paths:/{while ((getline line < "/dev/stdin") > 0) print line}' \
  api/openapi.yaml > api/openapi.yaml.new <<'YAML'
  /ping:
    get:
      operationId: ping
      summary: Answer pong
      responses:
        "200":
          description: Pong.
          content:
            application/json:
              schema:
                type: object
                properties:
                  message:
                    type: string
        default:
          $ref: "#/components/responses/Error"
YAML
mv api/openapi.yaml.new api/openapi.yaml`

const pingHandler = `cat > internal/handler/ping.go <<'GO'
package handler

import (
	"context"

	"MODULE/internal/api"
)

// Ping implements GET /ping: it answers pong.
func (h *Handler) Ping(ctx context.Context) (*api.PingOK, error) {
	return &api.PingOK{Message: api.NewOptString("pong")}, nil
}
GO`

// starterCalls are the curl calls of the starter API's main operations.
func starterCalls(t *tutorial) []string {
	base := fmt.Sprintf("http://127.0.0.1:%d", t.httpPort)
	switch t.starter {
	case "entity":
		return []string{
			`id=$(curl -sf -X POST ` + base + `/items -H 'Content-Type: application/json' -d '{"name":"sword","quantity":1,"price":1500}' | sed -n 's/.*"id":\([0-9]*\).*/\1/p')`,
			`curl -sf ` + base + `/items/$id`,
		}
	case "rooms":
		return []string{
			`id=lobby-$$    # a new room each time: room ids are unique`,
			`curl -sf -X POST ` + base + `/rooms -H 'Content-Type: application/json' -d "{\"id\":\"$id\",\"title\":\"Lobby\"}"`,
			`curl -sf ` + base + `/rooms/$id`,
		}
	case "events":
		return []string{
			`curl -sf -X POST ` + base + `/events -H 'Content-Type: application/json' -d "[{\"player_id\":1,\"type\":\"match_end\",\"payload\":{\"score\":10},\"created_at\":\"$(date -u +%Y-%m-%dT%H:%M:%SZ)\"}]"`,
			`curl -sf '` + base + `/leaderboard?limit=10'`,
		}
	}
	return []string{"# call one of the operations of api/openapi.yaml, for example:", "curl -s " + base + "/healthz"}
}

// starterRead is the path of a read starterCalls made possible ($id is
// set by them).
func starterRead(t *tutorial) string {
	switch t.starter {
	case "rooms":
		return "/rooms/$id"
	case "events":
		return "/leaderboard?limit=10"
	}
	return "/items/$id"
}

// signature is a preset's signature metric: the one that shows its main
// feature at work. The first whose feature the service has wins.
type signature struct {
	feature string
	metric  string // name without the service's namespace
	label   string // a label the counted series must have, e.g. result="ok"
	// min is what the step's calls reach and what the service does not
	// reach without them, since its restart in the step before.
	min      float64
	why      string
	commands func(t *tutorial) []string
}

var signatures = []signature{
	{
		feature: "cache3", metric: "cache_hits_total", min: 1,
		why: "The read-heavy preset puts a 3-tier cache in front of PostgreSQL: memory (L1), Redis (L2), the database (L3). Read the same item twice and the second read is a hit, counted per tier.",
		commands: func(t *tutorial) []string {
			return append(starterCalls(t), fmt.Sprintf("curl -sf http://127.0.0.1:%d%s    # the same again: a hit", t.httpPort, starterRead(t)),
				fmt.Sprintf("curl -s http://127.0.0.1:%d/metrics | grep -E 'cache_(hits|misses)_total'", t.adminPort))
		},
	},
	{
		feature: "matview", metric: "matview_refreshes_total", label: `result="ok"`, min: 2,
		why: "The analytics preset serves the leaderboard from a materialized view refreshed CONCURRENTLY on a schedule (at start, then every MATVIEW_REFRESH_EVERY, 5m by default), so reads never wait for the aggregation. Restart the service with a 2s schedule to watch the refreshes count up while the leaderboard keeps answering.",
		commands: func(t *tutorial) []string {
			return []string{"cd " + shq(t.dir), dbEnv, "# stop the running service (Ctrl-C) and start it again with a short schedule:",
				"MATVIEW_REFRESH_EVERY=2s ./bin/" + t.name, "sleep 3",
				fmt.Sprintf("curl -sf 'http://127.0.0.1:%d/leaderboard?limit=10'", t.httpPort),
				fmt.Sprintf("curl -s http://127.0.0.1:%d/metrics | grep -E 'matview_(refreshes_total|last_success)'", t.adminPort)}
		},
	},
	{
		feature: "dbpool", metric: "db_pool_acquires_total", min: 20,
		why: "The preset's tuned pgx pool (size, lifetimes, health checks) is exported at every scrape: acquires, waits on an empty pool, connections opened. Twenty reads are twenty acquires; a hot path shows here first when the pool is too small (empty_acquires_total climbing).",
		commands: func(t *tutorial) []string {
			return append(starterCalls(t),
				fmt.Sprintf("for i in $(seq 20); do curl -sf \"http://127.0.0.1:%d%s\" > /dev/null; done", t.httpPort, starterRead(t)),
				fmt.Sprintf("curl -s http://127.0.0.1:%d/metrics | grep -E 'db_pool_(acquires_total|empty_acquires_total|max_conns)'", t.adminPort))
		},
	},
	{
		feature: "", metric: "http_requests_total", label: `code="2`, min: 1,
		why: "Every operation is counted by operation and status code.",
		commands: func(t *tutorial) []string {
			return append(starterCalls(t), fmt.Sprintf("curl -s http://127.0.0.1:%d/metrics | grep http_requests_total", t.adminPort))
		},
	},
}

func (t *tutorial) signature() signature {
	for _, s := range signatures {
		if s.feature == "" || slices.Contains(t.features, s.feature) {
			return s
		}
	}
	return signatures[len(signatures)-1]
}

func labelText(l string) string {
	if l == "" {
		return ""
	}
	return "{" + l + "…}"
}

// drift fails when svcgen check would.
func (t *tutorial) drift() error {
	sc := generator.CheckService(context.Background(), t.cat, t.dir)
	if err := sc.Err(); err != nil {
		return err
	}
	drift, findings := sc.DriftLines(), sc.Findings
	if len(drift) > 0 {
		return fmt.Errorf("svcgen check: regen would change %s", summarize(drift, 3))
	}
	if len(findings) > 0 {
		return fmt.Errorf("svcgen check: the service does not compile: %s", strings.TrimSpace(findings[0].String()))
	}
	return nil
}

// report checks a report a step's command wrote: it exists, shows results
// (want), has no failure and, unless prior, is newer than the sources.
func (t *tutorial) report(name, command string, want *regexp.Regexp, prior bool) error {
	p := filepath.Join(t.dir, reportDir, name)
	info, err := os.Stat(p)
	if err != nil {
		return fmt.Errorf("no %s report (%s/%s): run %s into it", command, reportDir, name, command)
	}
	data, err := os.ReadFile(p)
	if err != nil {
		return err
	}
	if m := regexp.MustCompile(`(?m)^(--- FAIL.*|FAIL.*|panic:.*|make: \*\*\*.*)$`).Find(data); m != nil {
		return fmt.Errorf("%s/%s shows a failure: %s", reportDir, name, m)
	}
	if !want.Match(data) {
		return fmt.Errorf("%s/%s has no results (%s printed none)", reportDir, name, command)
	}
	if prior {
		return nil
	}
	newer, err := newerThanSources(t.dir, info.ModTime())
	if err != nil {
		return err
	}
	if newer != "" {
		return fmt.Errorf("%s/%s is older than %s: run %s again", reportDir, name, newer, command)
	}
	return nil
}

var httpClient = &http.Client{Timeout: 5 * time.Second}

// get calls the running service on 127.0.0.1:port.
func (t *tutorial) get(port int, path string) (int, []byte, error) {
	resp, err := httpClient.Get(fmt.Sprintf("http://127.0.0.1:%d%s", port, path))
	if err != nil {
		return 0, nil, &notRunningError{fmt.Errorf("the service does not answer on 127.0.0.1:%d (start it: step 3): %v", port, err)}
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	return resp.StatusCode, body, err
}

// metric sums the series of the service's metric named <namespace>_name
// that have label (when not empty) in /metrics.
func (t *tutorial) metric(name, label string) (float64, error) {
	code, body, err := t.get(t.adminPort, "/metrics")
	if err != nil {
		return 0, err
	}
	if code != http.StatusOK {
		return 0, fmt.Errorf("GET /metrics on 127.0.0.1:%d answered %d", t.adminPort, code)
	}
	return sumMetric(body, strings.ReplaceAll(t.name, "-", "_")+"_"+name, label), nil
}

// sumMetric adds up the samples of metric in a Prometheus text exposition.
func sumMetric(exposition []byte, metric, label string) float64 {
	var sum float64
	sc := bufio.NewScanner(bytes.NewReader(exposition))
	for sc.Scan() {
		line := sc.Text()
		if strings.HasPrefix(line, "#") || !strings.HasPrefix(line, metric) {
			continue
		}
		rest := line[len(metric):]
		labels := ""
		switch {
		case strings.HasPrefix(rest, "{"):
			end := strings.LastIndex(rest, "}")
			if end < 0 {
				continue
			}
			labels, rest = rest[:end+1], rest[end+1:]
		case strings.HasPrefix(rest, " "):
		default:
			continue // another metric sharing the prefix
		}
		if label != "" && !strings.Contains(labels, label) {
			continue
		}
		f := strings.Fields(rest)
		if len(f) == 0 {
			continue
		}
		if v, err := strconv.ParseFloat(f[0], 64); err == nil {
			sum += v
		}
	}
	return sum
}

// shq quotes a word for the shell when it needs it.
func shq(s string) string {
	if regexp.MustCompile(`^[A-Za-z0-9_./:@=+-]+$`).MatchString(s) {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}
