package e2e

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/svcgen/svcgen/generator"
	"github.com/svcgen/svcgen/internal/loadbench"
)

// TestDeadline504ThroughHook runs a generated hot-path service on the real
// PostgreSQL with a short deadline for getItem, holds a lock that blocks
// its query, and checks what the operation hook makes of the deadline: a
// 504 at the operation's deadline (not the longer database budget), in
// the spec's JSON error shape, counted as getItem's 504 in the RED
// metrics; the service answers 200 again once the lock is gone.
//
//	go test ./internal/e2e -run TestDeadline504ThroughHook -count=1 -v
func TestDeadline504ThroughHook(t *testing.T) {
	if testing.Short() {
		t.Skip("generates, builds and runs a service")
	}
	const (
		deadline = 300 * time.Millisecond
		lockFor  = 4 * time.Second
	)
	name := "deadline-svc"
	dir := GenerateService(t, generator.Options{Name: name, Module: "example.com/" + name, Preset: "hot-path"}, nil)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	tmp := t.TempDir()
	bin := filepath.Join(tmp, "svc")
	if err := loadbench.Build(ctx, dir, "./cmd/"+name, bin); err != nil {
		t.Fatal(err)
	}
	dbURL := createDatabase(t, "deadline")
	env := append(withoutEnv(os.Environ(), "GOGC"), "STORE=postgres", "DATABASE_URL="+dbURL, "LOG_LEVEL=warn",
		"TIMEOUT_DB=10s", fmt.Sprintf("TIMEOUT_OPERATIONS=getItem=%s", deadline))
	mig := exec.CommandContext(ctx, bin, "-migrate", "up")
	mig.Env = env
	if out, err := mig.CombinedOutput(); err != nil {
		t.Fatalf("migrate up: %v\n%s", err, out)
	}
	id := strings.TrimSpace(psql(t, dbURL, `INSERT INTO items (name, quantity, price) VALUES ('locked', 1, 100) RETURNING id`))
	svc := startSvc(t, ctx, bin, env, filepath.Join(tmp, "svc.log"))
	client := &http.Client{Timeout: 10 * time.Second}
	get := func() (int, http.Header, string, time.Duration) {
		t.Helper()
		start := time.Now()
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, svc.HTTP+"/items/"+id, nil)
		resp, err := client.Do(req)
		if err != nil {
			t.Fatalf("GET /items/%s: %v", id, err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, resp.Header, string(b), time.Since(start)
	}
	if code, _, body, _ := get(); code != http.StatusOK {
		t.Fatalf("GET before the lock: %d %s, want 200", code, body)
	}

	// A transaction that holds the table's ACCESS EXCLUSIVE lock: the
	// service's SELECT waits on it until its context ends.
	lock := exec.CommandContext(ctx, "psql", dbURL, "-v", "ON_ERROR_STOP=1", "-qAtc",
		fmt.Sprintf("BEGIN; LOCK TABLE items IN ACCESS EXCLUSIVE MODE; SELECT pg_sleep(%g); COMMIT;", lockFor.Seconds()))
	if err := lock.Start(); err != nil {
		t.Fatal(err)
	}
	lockDone := make(chan struct{})
	var lockErr error
	go func() { lockErr = lock.Wait(); close(lockDone) }()
	t.Cleanup(func() { _ = lock.Process.Kill(); <-lockDone })
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		held := psql(t, dbURL, `SELECT count(*) FROM pg_locks WHERE relation = 'items'::regclass AND mode = 'AccessExclusiveLock' AND granted`)
		if strings.TrimSpace(held) == "1" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the lock on items was not taken within 10s")
		}
	}

	code, h, body, took := get()
	if code != http.StatusGatewayTimeout {
		t.Fatalf("GET while the table is locked: %d %s, want 504\n%s", code, body, tail(svc.log))
	}
	if !errorShape(h, []byte(body), http.StatusGatewayTimeout) || !strings.Contains(body, "timed out") {
		t.Errorf("504 answer: Content-Type %q, body %s; want the spec's error {\"code\":504,\"message\":\"request timed out\"}", h.Get("Content-Type"), body)
	}
	t.Logf("GET while locked: %d after %v: %s", code, took.Round(time.Millisecond), strings.TrimSpace(body))
	// The operation's deadline ended it, not the database budget (10s)
	// or the lock (4s).
	if took < deadline || took >= lockFor {
		t.Errorf("the 504 came after %v, want it at getItem's deadline (%v)", took, deadline)
	}

	// RED metrics: the 504 is getItem's, the 200 before it too.
	series := scrape(t, ctx, svc.Admin+"/metrics")
	for _, want := range []string{
		`_http_requests_total{code="504",operation="getItem"} 1`,
		`_http_requests_total{code="200",operation="getItem"} 1`,
		`_http_request_duration_seconds_count{operation="getItem"} 2`,
	} {
		if !hasSeries(series, want) {
			t.Errorf("/metrics has no series ending in %s; the service's series:\n%s", want, strings.Join(grepLines(series, "_http_request"), "\n"))
		}
	}
	if hasSeries(series, `_http_requests_total{code="504",operation="unknown"} 1`) {
		t.Error("the 504 was counted for operation unknown: the hook did not name it")
	}
	// The preset's GC target (params.runtime.gogc) without GOGC in the
	// environment; GOGC wins over it (below).
	if !hasSeries(series, "go_gc_gogc_percent 400") {
		t.Errorf("the hot-path service runs with %q, want go_gc_gogc_percent 400", grepLines(series, "go_gc_gogc_percent"))
	}

	<-lockDone
	if lockErr != nil {
		t.Fatalf("the locking transaction: %v", lockErr)
	}
	if code, _, body, _ := get(); code != http.StatusOK {
		t.Errorf("GET after the lock is gone: %d %s, want 200", code, body)
	}

	mem := startSvc(t, ctx, bin, append(withoutEnv(os.Environ(), "GOGC"), "STORE=memory", "LOG_LEVEL=warn", "GOGC=150"), filepath.Join(tmp, "svc-gogc.log"))
	if got := grepLines(scrape(t, ctx, mem.Admin+"/metrics"), "go_gc_gogc_percent "); len(got) != 1 || got[0] != "go_gc_gogc_percent 150" {
		t.Errorf("with GOGC=150 the service runs with %q, want go_gc_gogc_percent 150", got)
	}
}

// withoutEnv is env without the variable name.
func withoutEnv(env []string, name string) []string {
	return slices.DeleteFunc(slices.Clone(env), func(kv string) bool { return strings.HasPrefix(kv, name+"=") })
}

// scrape returns the lines of a Prometheus text exposition.
func scrape(t *testing.T, ctx context.Context, url string) []string {
	t.Helper()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer resp.Body.Close()
	var lines []string
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 0, 64<<10), 1<<20)
	for sc.Scan() {
		lines = append(lines, sc.Text())
	}
	return lines
}

// hasSeries reports whether a line ends with suffix (the metric name's
// namespace is the service's).
func hasSeries(lines []string, suffix string) bool {
	for _, l := range lines {
		if strings.HasSuffix(l, suffix) && !strings.HasPrefix(l, "#") {
			return true
		}
	}
	return false
}

func grepLines(lines []string, sub string) []string {
	var out []string
	for _, l := range lines {
		if strings.Contains(l, sub) && !strings.HasPrefix(l, "#") {
			out = append(out, l)
		}
	}
	return out
}
