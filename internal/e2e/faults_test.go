package e2e

import (
	"bufio"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/svcgen/svcgen/generator"
	"github.com/svcgen/svcgen/internal/loadbench"
)

// recoverWithin is how soon after a server is back the service must
// answer 2xx again without being restarted: generous, for a busy machine.
const recoverWithin = 15 * time.Second

// faultRow is one line of the fault table.
type faultRow struct {
	preset, scenario string
	notes            string
	recovery         string
	c                counts
}

// TestFaults generates the read-heavy and realtime services, builds them
// and runs each on a PostgreSQL cluster and a redis-server of its own (in
// temporary folders on free ports, never the shared ones) under a small
// load over loopback while it breaks things: Redis killed with -9 and
// restarted, PostgreSQL stopped in immediate mode and restarted, the
// service sent SIGTERM, ~85 malformed requests per service and 11
// malformed WebSocket messages, WebSocket clients that stop reading. It prints a Markdown table of the answers per scenario
// and asserts what must hold: no 5xx for bad input, 503 with Retry-After
// in the spec's error shape (never 500) while the database is down,
// cached reads served through the outage, recovery on its own within 15s,
// no stale item afterwards, exit 0 on SIGTERM within the grace period.
//
//	CI=true go test ./internal/e2e -run TestFaults -count=1 -v -timeout 30m
func TestFaults(t *testing.T) {
	if testing.Short() {
		t.Skip("generates, builds and runs two services with their own PostgreSQL and Redis")
	}
	needFaultTools(t)
	var (
		mu   sync.Mutex
		rows []faultRow
	)
	add := func(r faultRow) {
		mu.Lock()
		rows = append(rows, r)
		mu.Unlock()
	}
	t.Run("read-heavy", func(t *testing.T) { faultsReadHeavy(t, add) })
	t.Run("realtime", func(t *testing.T) { faultsRealtime(t, add) })
	t.Log("\n" + faultTable(rows))
}

func faultTable(rows []faultRow) string {
	var b strings.Builder
	b.WriteString("| preset | scenario | answers | 2xx | 4xx | 503 | other 5xx | no answer | recovery | notes |\n")
	b.WriteString("|---|---|---:|---:|---:|---:|---:|---:|---|---|\n")
	for _, r := range rows {
		fmt.Fprintf(&b, "| %s | %s | %d | %d | %d | %d | %d | %d | %s | %s |\n", r.preset, r.scenario,
			r.c.total, r.c.ok, r.c.c4xx, r.c.c503, r.c.c5xx, r.c.other, orDash(r.recovery), r.notes)
	}
	return b.String()
}

func orDash(s string) string {
	if s == "" {
		return "–"
	}
	return s
}

// faultService generates, builds and migrates one preset's service on
// private servers; env is what its processes run with.
type faultService struct {
	pg    *privatePG
	redis *privateRedis // nil when the service reads no REDIS_URL
	bin   string
	tmp   string
	env   []string
}

func newFaultService(t *testing.T, ctx context.Context, preset, name string) *faultService {
	t.Helper()
	start := time.Now()
	dir := GenerateService(t, generator.Options{Name: name, Module: "example.com/" + name, Preset: preset}, nil)
	fs := &faultService{tmp: t.TempDir()}
	fs.bin = filepath.Join(fs.tmp, name)
	if err := loadbench.Build(ctx, dir, "./cmd/"+name, fs.bin); err != nil {
		t.Fatal(err)
	}
	t.Logf("%s: generated and built in %v", preset, time.Since(start).Round(time.Millisecond))
	fs.pg = startPrivatePG(t)
	cfg, err := os.ReadFile(filepath.Join(dir, "internal", "config", "platform.go")) // embeds the settings of the features that read REDIS_URL
	if err != nil {
		t.Fatal(err)
	}
	fs.env = append(os.Environ(), "STORE=postgres", "DATABASE_URL="+fs.pg.URL, "LOG_LEVEL=warn",
		// A budget loose enough that a busy 2-core machine does not turn
		// ordinary queries into 504s: the faults are what is measured.
		"TIMEOUT_DB=500ms")
	if strings.Contains(string(cfg), "\tcache3Settings\n") || strings.Contains(string(cfg), "\trealtimeSettings\n") {
		fs.redis = startPrivateRedis(t)
		fs.env = append(fs.env, "REDIS_URL="+fs.redis.URL)
	}
	mig := exec.CommandContext(ctx, fs.bin, "-migrate", "up")
	mig.Env = fs.env
	if out, err := mig.CombinedOutput(); err != nil {
		t.Fatalf("migrate up: %v\n%s", err, out)
	}
	return fs
}

// loadScenario runs the load for the whole of fault, which injects the
// fault and returns when the server it broke is back; the load goes on
// for after once it is. It returns the outcomes and when the server was
// broken and back.
func loadScenario(ctx context.Context, workers int, next func(rng *rand.Rand, w, seq int) request,
	lead, after time.Duration, fault func() (brokenAt, backAt time.Time)) (*recorder, time.Time, time.Time) {
	rec := &recorder{}
	stop := make(chan struct{})
	wg := runLoad(ctx, rec, workers, stop, next)
	time.Sleep(lead)
	brokenAt, backAt := fault()
	time.Sleep(after)
	close(stop)
	wg.Wait()
	return rec, brokenAt, backAt
}

// waitFirstOK waits (up to recoverWithin) for a 2xx of kinds at or after
// from, so that recovery is measured even when it takes longer than the
// scenario's tail of load.
func waitFirstOK(rec *recorder, from time.Time, kinds ...string) time.Time {
	for deadline := from.Add(recoverWithin); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if at := rec.firstOK(from, kinds...); !at.IsZero() {
			return at
		}
	}
	return rec.firstOK(from, kinds...)
}

func recoveryText(t *testing.T, what string, backAt, okAt time.Time) string {
	t.Helper()
	if okAt.IsZero() {
		t.Errorf("%s: no 2xx within %v of the server being back", what, recoverWithin)
		return "none"
	}
	d := okAt.Sub(backAt)
	if d < 0 {
		d = 0
	}
	if d > recoverWithin {
		t.Errorf("%s: first 2xx %v after the server was back (want within %v)", what, d.Round(time.Millisecond), recoverWithin)
	}
	return d.Round(time.Millisecond).String()
}

// checkOutage asserts what must hold for requests answered while the
// database was down: no 500, every 503 with Retry-After in the error shape.
func checkOutage(t *testing.T, what string, c counts) {
	t.Helper()
	if c.c500 > 0 {
		t.Errorf("%s: %d answers 500 while the database was down (want 503 with Retry-After); codes: %s", what, c.c500, c.codeList())
	}
	if c.c5xx > 0 {
		t.Errorf("%s: %d 5xx other than 503 while the database was down; codes: %s", what, c.c5xx, c.codeList())
	}
	if c.bad503 > 0 {
		t.Errorf("%s: %d of %d 503 answers lack Retry-After or the {\"code\":503,\"message\":...} shape", what, c.bad503, c.c503)
	}
}

// runBadInputs sends every case at once, each on its own connection, and
// checks the answers.
func runBadInputs(t *testing.T, preset, httpURL string, cases []rawCase) faultRow {
	t.Helper()
	addr := strings.TrimPrefix(httpURL, "http://")
	results := make([]rawResult, len(cases))
	var wg sync.WaitGroup
	sem := make(chan struct{}, 16)
	for i, c := range cases {
		wg.Go(func() {
			sem <- struct{}{}
			defer func() { <-sem }()
			results[i] = sendRaw(addr, c, 15*time.Second)
		})
	}
	wg.Wait()
	row := faultRow{preset: preset, scenario: fmt.Sprintf("bad input (%d requests)", len(cases)), c: counts{codes: map[int]int{}}}
	var closedN, shapeMiss int
	for i, r := range results {
		c := cases[i]
		row.c.total++
		row.c.codes[r.code]++
		switch {
		case r.code == 0:
			row.c.other++
		case r.code < 300:
			row.c.ok++
		case r.code < 500:
			row.c.c4xx++
		case r.code == http.StatusServiceUnavailable:
			row.c.c503++
		default:
			row.c.c5xx++
		}
		ok := false
		switch c.want {
		case closed, closedOr4xx:
			ok = r.code == 0 && r.err == nil
			if ok {
				closedN++
			}
			ok = ok || c.want == closedOr4xx && r.code >= 400 && r.code < 500
		case 4:
			ok = r.code >= 400 && r.code < 500
		default:
			ok = r.code == c.want
		}
		if !ok {
			got := strconv.Itoa(r.code)
			if r.code == 0 {
				got = "no answer"
				if r.err != nil {
					got += " (" + r.err.Error() + ")"
				}
			}
			want := strconv.Itoa(c.want)
			switch c.want {
			case closed:
				want = "the connection closed without an answer"
			case closedOr4xx:
				want = "a 4xx or the connection closed without an answer"
			case 4:
				want = "a 4xx"
			}
			t.Errorf("bad input %q: got %s after %v, want %s", c.name, got, r.elapsed.Round(time.Millisecond), want)
		}
		if r.code >= 400 && !r.shapeOK {
			shapeMiss++
			t.Logf("bad input %q: %d, not in the spec's error shape", c.name, r.code)
		}
	}
	row.notes = fmt.Sprintf("%d closed without an answer (slowloris, idle: net/http's header timeout); %d 4xx outside the spec's error shape (net/http's own and the WebSocket upgrade's, listed in the log); codes: %s",
		closedN, shapeMiss, row.c.codeList())
	if row.c.c5xx+row.c.c503 > 0 {
		t.Errorf("%s: %d bad inputs answered 5xx", preset, row.c.c5xx+row.c.c503)
	}
	return row
}

// commonBadInputs are the malformed requests of any JSON API: target is
// a path taking a JSON body by method, valid that body.
func commonBadInputs(method, target, valid string, setField func(field, raw string) string) []rawCase {
	js := []string{"Content-Type: application/json"}
	r := func(name string, body string, want int) rawCase {
		return rawCase{name: name, raw: rawRequest(method, target, js, []byte(body)), want: want}
	}
	big := strings.Repeat("a", 2<<20)
	cases := []rawCase{
		r("JSON: NUL escaped in a string", setField("", `"a\u0000b"`), 400),
		r("JSON: raw NUL byte in a string", setField("", "\"a\x00b\""), 400),
		r("JSON: invalid UTF-8 in a string", setField("", "\"a\xff\xfeb\""), 400),
		r("JSON: overlong UTF-8 in a string", setField("", "\"\xc0\xaf\""), 400),
		r("JSON: truncated", valid[:len(valid)/2], 400),
		r("JSON: empty object", `{}`, 400),
		r("JSON: array", `[]`, 400),
		r("JSON: null", `null`, 400),
		r("JSON: a string", `"x"`, 400),
		r("JSON: a number", `1`, 400),
		r("JSON: empty body", ``, 400),
		r("JSON: trailing garbage", valid+`xyz`, 400),
		r("JSON: two objects", valid+valid, 400),
		r("JSON: 100000 nested arrays", strings.Repeat("[", 100000), 4), // 413 past a small body limit
		r("JSON: single quotes", strings.ReplaceAll(valid, `"`, `'`), 400),
		r("JSON: number for the string field", setField("", `12345`), 400),
		r("JSON: object for the string field", setField("", `{"a":1}`), 400),
		r("JSON: null for the string field", setField("", `null`), 400),
		r("JSON: empty string field", setField("", `""`), 400),
		r("JSON: string field of 201 characters", setField("", `"`+strings.Repeat("x", 201)+`"`), 400),
		r("JSON: string field of 500 KB", setField("", `"`+strings.Repeat("x", 500<<10)+`"`), 4),
		r("JSON: unknown field", valid[:len(valid)-1]+`,"unknown_field":1}`, 400),
		{name: "body of 2 MiB", raw: rawRequest(method, target, js, []byte(`{"x":"`+big+`"}`)), want: 413},
		{name: "chunked body of 2 MiB", raw: chunked(method, target, js, `{"x":"`+big+`"}`), want: 413},
		{name: "Content-Length 2 MiB, 1 KB sent, then nothing", raw: append(rawRequest(method, target,
			append(js, "Content-Length: 2097152"), nil), strings.Repeat(" ", 1024)...), want: 4},
		{name: "body that never arrives", raw: rawRequest(method, target, append(js, "Content-Length: 64"), nil), want: 408},
		{name: "half a body, then nothing", raw: append(rawRequest(method, target,
			append(js, fmt.Sprintf("Content-Length: %d", len(valid)*2)), nil), valid...), want: 408},
		{name: "Expect: 100-continue with 2 MiB", raw: rawRequest(method, target,
			append(js, "Expect: 100-continue", "Content-Length: 2097152"), nil), want: 4},
		{name: "Content-Type text/plain", raw: rawRequest(method, target, []string{"Content-Type: text/plain"}, []byte(valid)), want: 415},
		{name: "no Content-Type", raw: rawRequest(method, target, nil, []byte(valid)), want: 4},
		{name: "Content-Type application/xml", raw: rawRequest(method, target, []string{"Content-Type: application/xml"}, []byte(`<item><name>x</name></item>`)), want: 415},
		{name: "form with a NUL", raw: rawRequest(method, target, []string{"Content-Type: application/x-www-form-urlencoded"}, []byte("name=a%00b&quantity=1")), want: 4},
		{name: "form with invalid UTF-8", raw: rawRequest(method, target, []string{"Content-Type: application/x-www-form-urlencoded"}, []byte("name=%ff%fe&quantity=1")), want: 4},
		{name: "multipart form", raw: rawRequest(method, target, []string{"Content-Type: multipart/form-data; boundary=b"},
			[]byte("--b\r\nContent-Disposition: form-data; name=\"name\"\r\n\r\nx\x00\r\n--b--\r\n")), want: 4},
		{name: "Content-Type with a NUL", raw: rawRequest(method, target, []string{"Content-Type: application/json\x00"}, []byte(valid)), want: 400},
		{name: "Content-Type garbage", raw: rawRequest(method, target, []string{"Content-Type: ;;;==="}, []byte(valid)), want: 4},
		{name: "Content-Encoding gzip, not gzip", raw: rawRequest(method, target, append(js, "Content-Encoding: gzip"), []byte("\x1f\x8b\x08garbage")), want: 4},
		{name: "bad chunk size", raw: []byte(method + " " + target + " HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\nzz\r\n{}\r\n0\r\n\r\n"), want: 400},
		{name: "Content-Length and Transfer-Encoding", raw: []byte(method + " " + target + " HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 2\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n2\r\n{}\r\n0\r\n\r\n"), want: 400},
		{name: "Content-Length not a number", raw: rawRequest(method, target, append(js, "Content-Length: abc"), nil), want: 400},
		{name: "Content-Length negative", raw: rawRequest(method, target, append(js, "Content-Length: -1"), nil), want: 400},
		{name: "two Content-Lengths", raw: rawRequest(method, target, append(js, "Content-Length: 2", "Content-Length: 3"), []byte("{}")), want: 400},
		{name: "DELETE where it is not served", raw: rawRequest(http.MethodDelete, target, nil, nil), want: 405},
		{name: "unknown method", raw: rawRequest("BREW", target, nil, nil), want: 405},
		{name: "header of 2 MiB", raw: rawRequest(http.MethodGet, "/healthz", []string{"Cookie: " + big}, nil), want: 431},
		{name: "20000 headers", raw: rawRequest(http.MethodGet, "/healthz", manyHeaders(20000), nil), want: 431},
		{name: "header name with a space", raw: rawRequest(http.MethodGet, target, []string{"Bad Header: x"}, nil), want: 400},
		{name: "header value with a NUL", raw: rawRequest(http.MethodGet, target, []string{"X-Test: a\x00b"}, nil), want: 400},
		{name: "no Host", raw: []byte("GET " + target + " HTTP/1.1\r\nConnection: close\r\n\r\n"), want: 400},
		{name: "TLS ClientHello", raw: []byte("\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03" + strings.Repeat("\x00", 64)), want: 400},
		{name: "binary garbage", raw: []byte("\x00\x01\x02\x03\r\n\r\n"), want: 400},
		{name: "raw NUL in the request line", raw: []byte("GET /\x00 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"), want: 400},
		{name: "raw invalid UTF-8 in the path", raw: rawRequest(http.MethodGet, "/\xff\xfe", nil, nil), want: 4},
		{name: "%00 in the path", raw: rawRequest(http.MethodGet, "/%00", nil, nil), want: 400},
		{name: "broken %-escape in the path", raw: rawRequest(http.MethodGet, "/%zz", nil, nil), want: 400},
		{name: "path of 10000 characters", raw: rawRequest(http.MethodGet, "/"+strings.Repeat("a", 10000), nil, nil), want: 404},
		{name: "unknown path", raw: rawRequest(http.MethodGet, "/no/such/path", nil, nil), want: 404},
		{name: "slowloris headers", raw: []byte("GET /healthz HTTP/1.1\r\nHost: x\r\nX-Slow: " + strings.Repeat("a", 200)), trickle: 100 * time.Millisecond, want: closedOr4xx},
		{name: "idle connection", raw: nil, want: closedOr4xx},
	}
	return cases
}

// chunked is a request with body sent in 64 KiB chunks.
func chunked(method, target string, headers []string, body string) []byte {
	var b strings.Builder
	fmt.Fprintf(&b, "%s %s HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n", method, target)
	for _, h := range headers {
		b.WriteString(h + "\r\n")
	}
	b.WriteString("\r\n")
	for len(body) > 0 {
		n := min(len(body), 64<<10)
		fmt.Fprintf(&b, "%x\r\n%s\r\n", n, body[:n])
		body = body[n:]
	}
	b.WriteString("0\r\n\r\n")
	return []byte(b.String())
}

func manyHeaders(n int) []string {
	h := make([]string, n)
	for i := range h {
		h[i] = fmt.Sprintf("X-H%d: %s", i, strings.Repeat("v", 50))
	}
	return h
}

// ------------------------------------------------------------ read-heavy

const (
	rhItems  = 200 // ids 1..100 are only read; 101..200 are read and written
	rhCached = 100
)

func rhLoad(replicas []string) func(rng *rand.Rand, w, seq int) request {
	return func(rng *rand.Rand, w, seq int) request {
		base := replicas[rng.IntN(len(replicas))]
		switch p := rng.IntN(100); {
		case p < 65:
			return request{method: http.MethodGet, url: fmt.Sprintf("%s/items/%d", base, 1+rng.IntN(rhCached)), kind: "read-cached"}
		case p < 75:
			ids := make([]string, 5)
			for i := range ids {
				ids[i] = strconv.Itoa(1 + rng.IntN(rhCached))
			}
			return request{method: http.MethodGet, url: base + "/items?ids=" + strings.Join(ids, ","), kind: "read-cached"}
		case p < 85:
			return request{method: http.MethodGet, url: fmt.Sprintf("%s/items/%d", base, rhCached+1+rng.IntN(rhItems-rhCached)), kind: "read"}
		default:
			id := rhCached + 1 + rng.IntN(rhItems-rhCached)
			return request{method: http.MethodPut, url: fmt.Sprintf("%s/items/%d", base, id), kind: "write",
				body: fmt.Sprintf(`{"name":"w%d-%d","quantity":%d,"price":100}`, w, seq, seq%1000)}
		}
	}
}

func faultsReadHeavy(t *testing.T, add func(faultRow)) {
	const preset = "read-heavy"
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	fs := newFaultService(t, ctx, preset, "faults-rh")
	if fs.redis == nil {
		t.Fatal("the read-heavy service reads no REDIS_URL: its cache has no L2 to break")
	}
	psql(t, fs.pg.URL, fmt.Sprintf(`INSERT INTO items (name, quantity, price)
		SELECT 'item-' || g, 1, 100 FROM generate_series(1, %d) g`, rhItems))
	var replicas []*svcProc
	var urls []string
	for i := range 2 { // two replicas: an invalidation one misses while Redis is down shows as a stale item
		p := startSvc(t, ctx, fs.bin, fs.env, filepath.Join(fs.tmp, fmt.Sprintf("replica-%d.log", i)))
		replicas = append(replicas, p)
		urls = append(urls, p.HTTP)
	}
	defer func() {
		if t.Failed() {
			for i, p := range replicas {
				t.Logf("replica %d log:\n%s", i, tail(p.log))
			}
		}
	}()
	load := rhLoad(urls)

	// Steady state: the baseline, and the warm-up of every cache tier.
	rec, _, _ := loadScenario(ctx, 4, load, 1500*time.Millisecond, 0, func() (time.Time, time.Time) { return time.Time{}, time.Time{} })
	c := count(rec.window(time.Time{}, time.Time{}))
	add(faultRow{preset: preset, scenario: "steady load, 2 replicas", c: c, notes: c.codeList()})
	if c.c5xx+c.c503 > 0 {
		t.Errorf("steady load: %d 5xx before any fault; codes: %s", c.c5xx+c.c503, c.codeList())
	}

	// Bad input.
	add(runBadInputs(t, preset, urls[0], readHeavyBadInputs()))

	// Redis: kill -9 under load, restart on the same port 2s later.
	var reattached []time.Duration
	rec, brokenAt, backAt := loadScenario(ctx, 4, load, time.Second, 2*time.Second, func() (time.Time, time.Time) {
		fs.redis.Kill()
		broken := time.Now()
		time.Sleep(2 * time.Second)
		for i, p := range replicas { // the fault must have been seen
			if d, err := cacheDegraded(ctx, p.Admin); err != nil || !d {
				t.Errorf("replica %d: 2s after Redis was killed its cache is not degraded (%v)", i, err)
			}
		}
		if err := fs.redis.Start(); err != nil {
			t.Error(err)
		}
		back := time.Now()
		for _, p := range replicas {
			reattached = append(reattached, waitNotDegraded(ctx, p.Admin, back))
		}
		return broken, back
	})
	c = count(rec.window(time.Time{}, time.Time{}))
	okAt := waitFirstOK(rec, backAt, "write")
	during := count(rec.window(brokenAt, backAt))
	slowest := time.Duration(0)
	for i, d := range reattached {
		if d < 0 {
			t.Errorf("replica %d: its cache still degraded %v after Redis was back", i, recoverWithin)
		}
		slowest = max(slowest, d)
	}
	add(faultRow{preset: preset, scenario: "Redis kill -9, restart after 2s", c: c,
		recovery: slowest.Round(time.Millisecond).String() + " (cache back on Redis)",
		notes: fmt.Sprintf("both caches degraded while down; %d answers while down, %d 2xx; first 2xx write after the restart %s; cache back on Redis after %v; codes: %s",
			during.total, during.ok, recoveryText(t, "Redis restart", backAt, okAt), durations(reattached), c.codeList())})
	if c.c5xx+c.c503 > 0 || c.other > 0 {
		t.Errorf("Redis down must degrade the cache, not the service: %d 5xx, %d failed requests; codes: %s", c.c5xx+c.c503, c.other, c.codeList())
	}

	// PostgreSQL: an immediate stop under load, started again 3s later.
	var restartAt time.Time
	logErrors := errorLines(replicas...)
	rec, brokenAt, backAt = loadScenario(ctx, 4, load, time.Second, 2*time.Second, func() (time.Time, time.Time) {
		if err := fs.pg.Stop(); err != nil {
			t.Error(err)
		}
		broken := time.Now()
		time.Sleep(3 * time.Second)
		restartAt = time.Now()
		if err := fs.pg.Start(); err != nil {
			t.Error(err)
		}
		return broken, time.Now()
	})
	okAt = waitFirstOK(rec, backAt, "write")
	c = count(rec.window(time.Time{}, time.Time{}))
	// The outage: from 200ms after the stop (answers in flight on the cut
	// connections come back first) to the restart (from then on the
	// server may accept connections before pg_isready sees it).
	down := count(rec.window(brokenAt.Add(200*time.Millisecond), restartAt))
	cached := count(rec.window(brokenAt.Add(200*time.Millisecond), restartAt, "read-cached"))
	writes := count(rec.window(brokenAt.Add(200*time.Millisecond), restartAt, "write"))
	add(faultRow{preset: preset, scenario: "PostgreSQL immediate stop (SIGQUIT), start after 3s", c: c,
		recovery: recoveryText(t, "PostgreSQL restart", backAt, okAt),
		notes: fmt.Sprintf("while down: cached reads %d/%d 2xx; writes %d 503 of %d (%d without Retry-After or shape); codes while down: %s; ERROR log lines in the scenario: %d",
			cached.ok, cached.total, writes.c503, writes.total, down.bad503, down.codeList(), errorLines(replicas...)-logErrors)})
	checkOutage(t, "PostgreSQL down", down)
	if cached.ok != cached.total {
		t.Errorf("PostgreSQL down: cached reads answered %d 2xx of %d (want all: every one was in L1); codes: %s", cached.ok, cached.total, cached.codeList())
	}
	if writes.c503 == 0 {
		t.Errorf("PostgreSQL down: no write answered 503 (%s): the outage was not seen", writes.codeList())
	}

	// Stale items after the faults: every item in the database against
	// what each replica answers.
	time.Sleep(2 * time.Second) // the last invalidations travel
	stale := staleItems(t, ctx, fs.pg.URL, urls)
	add(faultRow{preset: preset, scenario: "stale items after the faults", c: counts{total: rhItems * len(urls), ok: rhItems * len(urls), codes: map[int]int{}},
		notes: fmt.Sprintf("stale items: %d of %d (×%d replicas)", stale, rhItems, len(urls))})
	if stale > 0 {
		t.Errorf("stale items: %d of %d", stale, rhItems)
	}

	// SIGTERM of replica 0 under load, with a request in flight.
	slow := rawRequest(http.MethodPut, "/items/150", []string{"Content-Type: application/json"}, []byte(`{"name":"in-flight","quantity":1,"price":1}`))
	add(sigtermScenario(t, ctx, preset, replicas[0], rhLoad(urls[:1]), slow))
}

// cacheDegraded reads the cache's degraded gauge from the admin /metrics.
func cacheDegraded(ctx context.Context, admin string) (bool, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, admin+"/metrics", nil)
	if err != nil {
		return false, err
	}
	resp, err := (&http.Client{Timeout: time.Second}).Do(req)
	if err != nil {
		return false, err
	}
	b := new(strings.Builder)
	if _, err := ioCopy(b, resp); err != nil {
		return false, err
	}
	found := false
	for line := range strings.SplitSeq(b.String(), "\n") {
		if strings.Contains(line, "cache_degraded{") {
			found = true
			if strings.HasSuffix(line, " 1") {
				return true, nil
			}
		}
	}
	if !found {
		return false, errors.New("no cache_degraded gauge in /metrics")
	}
	return false, nil
}

// waitNotDegraded polls the cache's degraded gauge until it reads 0, and
// says how long after back that was (-1: not within recoverWithin).
func waitNotDegraded(ctx context.Context, admin string, back time.Time) time.Duration {
	for deadline := back.Add(recoverWithin); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		if d, err := cacheDegraded(ctx, admin); err == nil && !d {
			return time.Since(back)
		}
	}
	return -1
}

// errorLines counts the ERROR lines the processes have logged so far.
func errorLines(ps ...*svcProc) int {
	n := 0
	for _, p := range ps {
		b, _ := os.ReadFile(p.log)
		n += strings.Count(string(b), `"level":"ERROR"`)
	}
	return n
}

func durations(ds []time.Duration) string {
	s := make([]string, len(ds))
	for i, d := range ds {
		if d < 0 {
			s[i] = "never"
			continue
		}
		s[i] = d.Round(time.Millisecond).String()
	}
	return strings.Join(s, ", ")
}

// staleItems compares every item in the database with what each replica
// answers, and counts the items some replica answers differently.
func staleItems(t *testing.T, ctx context.Context, dbURL string, replicas []string) int {
	t.Helper()
	truth := map[int]string{}
	for _, line := range strings.Split(strings.TrimSpace(psql(t, dbURL, `COPY (SELECT id, name FROM items) TO STDOUT`)), "\n") {
		id, name, _ := strings.Cut(line, "\t")
		n, err := strconv.Atoi(id)
		if err != nil {
			t.Fatalf("bad row %q", line)
		}
		truth[n] = name
	}
	client := &http.Client{Timeout: 3 * time.Second}
	stale := 0
	for id := 1; id <= rhItems; id++ {
		bad := false
		for ri, r := range replicas {
			got := ""
			for attempt := 0; ; attempt++ {
				code, name, err := getItem(ctx, client, r, id)
				if err == nil && code == http.StatusOK {
					got = name
					break
				}
				if attempt == 50 {
					t.Fatalf("replica %d: GET /items/%d keeps failing: %d, %v", ri, id, code, err)
				}
				time.Sleep(20 * time.Millisecond)
			}
			if got != truth[id] {
				bad = true
				t.Errorf("replica %d answers item %d as %q; the database has %q", ri, id, got, truth[id])
			}
		}
		if bad {
			stale++
		}
	}
	return stale
}

func readHeavyBadInputs() []rawCase {
	valid := `{"name":"x","quantity":1,"price":1}`
	setName := func(_, raw string) string { return `{"name":` + raw + `,"quantity":1,"price":1}` }
	cases := commonBadInputs(http.MethodPost, "/items", valid, setName)
	js := []string{"Content-Type: application/json"}
	get := func(name, target string, want int) rawCase {
		return rawCase{name: name, raw: rawRequest(http.MethodGet, target, nil, nil), want: want}
	}
	put := func(name, target, body string, want int) rawCase {
		return rawCase{name: name, raw: rawRequest(http.MethodPut, target, js, []byte(body)), want: want}
	}
	return append(cases,
		get("id 0", "/items/0", 400),
		get("id -1", "/items/-1", 400),
		get("id not a number", "/items/abc", 400),
		get("id 1.5", "/items/1.5", 400),
		get("id past int64", "/items/99999999999999999999", 400),
		get("id %00", "/items/1%00", 400),
		get("id overlong UTF-8", "/items/%C0%AF", 400),
		get("id of 5000 digits", "/items/"+strings.Repeat("9", 5000), 400),
		get("item subpath", "/items/1/extra", 404),
		get("ids missing", "/items", 400),
		get("ids empty", "/items?ids=", 400),
		get("ids not numbers", "/items?ids=a,b", 400),
		get("ids with an empty one", "/items?ids=1,,2", 400),
		get("ids 0", "/items?ids=0", 400),
		get("ids %00", "/items?ids=1,%00", 400),
		get("ids %FF", "/items?ids=%FF", 400),
		get("ids raw invalid UTF-8", "/items?ids=\xff", 400),
		get("101 ids", "/items?ids="+strings.TrimSuffix(strings.Repeat("1,", 101), ","), 400),
		get("query of 100 KB", "/items?ids="+strings.Repeat("1", 100<<10), 4),
		put("PUT id not a number", "/items/abc", valid, 400),
		put("PUT id 0", "/items/0", valid, 400),
		put("quantity as a string", "/items/150", `{"name":"x","quantity":"1","price":1}`, 400),
		put("quantity 1.5", "/items/150", `{"name":"x","quantity":1.5,"price":1}`, 400),
		put("quantity -1", "/items/150", `{"name":"x","quantity":-1,"price":1}`, 400),
		put("quantity past int32", "/items/150", `{"name":"x","quantity":2147483648,"price":1}`, 400),
		put("price 1e400", "/items/150", `{"name":"x","quantity":1,"price":1e400}`, 400),
		put("price missing", "/items/150", `{"name":"x","quantity":1}`, 400),
	)
}

// ------------------------------------------------------------ realtime

const rtRooms = 20

func rtLoad(base string) func(rng *rand.Rand, w, seq int) request {
	return func(rng *rand.Rand, w, seq int) request {
		room := fmt.Sprintf("r%d", rng.IntN(rtRooms))
		switch p := rng.IntN(100); {
		case p < 50:
			return request{method: http.MethodGet, url: base + "/rooms/" + room, kind: "read"}
		case p < 60:
			return request{method: http.MethodGet, url: base + "/rooms?limit=10", kind: "read"}
		case p < 85:
			return request{method: http.MethodPost, url: base + "/rooms/" + room + "/messages", kind: "write",
				body: fmt.Sprintf(`{"type":"load","data":{"w":%d,"seq":%d}}`, w, seq)}
		default:
			return request{method: http.MethodPost, url: base + "/rooms", kind: "write",
				body: fmt.Sprintf(`{"id":"w%d-%d-%d","title":"load"}`, w, seq, rng.IntN(1e6))}
		}
	}
}

// wsClient is a WebSocket client that counts the messages it receives.
type wsClient struct {
	conn      *websocket.Conn
	closeErr  atomic.Value // error that ended the reader
	done      chan struct{}
	msgs      atomic.Int64
	undecoded atomic.Int64 // compressed frames (the test asks for raw ones)
	mu        sync.Mutex
	frames    []time.Time
}

// dialWS connects to the hub; rcvbuf > 0 shrinks the socket's receive
// buffer so that a client that stops reading backs up at once.
func dialWS(ctx context.Context, httpURL string, rcvbuf int) (*websocket.Conn, error) {
	d := &net.Dialer{Timeout: 2 * time.Second}
	if rcvbuf > 0 {
		d.Control = func(_, _ string, c syscall.RawConn) error {
			var serr error
			err := c.Control(func(fd uintptr) { serr = syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_RCVBUF, rcvbuf) })
			if err != nil {
				return err
			}
			return serr
		}
	}
	client := &http.Client{Transport: &http.Transport{DialContext: d.DialContext}}
	dctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	conn, _, err := websocket.Dial(dctx, "ws"+strings.TrimPrefix(httpURL, "http")+"/ws", &websocket.DialOptions{HTTPClient: client})
	if err != nil {
		return nil, err
	}
	conn.SetReadLimit(8 << 20)
	return conn, nil
}

// join connects, joins room and, when read, reads in the background.
func join(ctx context.Context, httpURL, room string, rcvbuf int, read bool) (*wsClient, error) {
	conn, err := dialWS(ctx, httpURL, rcvbuf)
	if err != nil {
		return nil, err
	}
	if err := conn.Write(ctx, websocket.MessageText, []byte(`{"type":"join","room":"`+room+`"}`)); err != nil {
		conn.CloseNow()
		return nil, err
	}
	c := &wsClient{conn: conn, done: make(chan struct{})}
	if read {
		go c.read(ctx)
	}
	return c, nil
}

func (c *wsClient) read(ctx context.Context) {
	defer close(c.done)
	for {
		_, b, err := c.conn.Read(ctx)
		if err != nil {
			c.closeErr.Store(err)
			return
		}
		c.mu.Lock()
		c.frames = append(c.frames, time.Now())
		c.mu.Unlock()
		if len(b) == 0 || b[0] != 0 { // not a raw frame
			c.undecoded.Add(1)
			continue
		}
		for batch := b[1:]; len(batch) > 0; {
			n, w := binary.Uvarint(batch)
			if w <= 0 || n > uint64(len(batch)-w) {
				c.undecoded.Add(1)
				break
			}
			batch = batch[w+int(n):]
			c.msgs.Add(1)
		}
	}
}

// maxGap is the longest time without a frame within [from, to].
func (c *wsClient) maxGap(from, to time.Time) time.Duration {
	c.mu.Lock()
	defer c.mu.Unlock()
	last, gap := from, time.Duration(0)
	for _, f := range c.frames {
		if f.Before(from) || f.After(to) {
			continue
		}
		gap = max(gap, f.Sub(last))
		last = f
	}
	return max(gap, to.Sub(last))
}

func (c *wsClient) ended() error {
	if e, ok := c.closeErr.Load().(error); ok {
		return e
	}
	return nil
}

func faultsRealtime(t *testing.T, add func(faultRow)) {
	const preset = "realtime"
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	fs := newFaultService(t, ctx, preset, "faults-rt")
	// Raw frames, so that the test counts messages without an LZ4 decoder.
	env := append(fs.env, "COMPRESS_FRAME_THRESHOLD=1048576")
	svc := startSvc(t, ctx, fs.bin, env, filepath.Join(fs.tmp, "service.log"))
	defer func() {
		if t.Failed() {
			t.Logf("service log:\n%s", tail(svc.log))
		}
	}()
	client := &http.Client{Timeout: 3 * time.Second}
	for i := range rtRooms {
		if code, err := do(ctx, client, http.MethodPost, svc.HTTP+"/rooms", fmt.Sprintf(`{"id":"r%d","title":"room %d"}`, i, i)); err != nil || code != http.StatusCreated {
			t.Fatalf("POST /rooms r%d: %d, %v", i, code, err)
		}
	}
	for _, room := range []string{"chat", "slow"} {
		if code, err := do(ctx, client, http.MethodPost, svc.HTTP+"/rooms", `{"id":"`+room+`","title":"`+room+`"}`); err != nil || code != http.StatusCreated {
			t.Fatalf("POST /rooms %s: %d, %v", room, code, err)
		}
	}
	load := rtLoad(svc.HTTP)

	// A chat on the hub alone: one client publishes every 10ms over the
	// WebSocket, two listen. It needs no database.
	var listeners []*wsClient
	for range 2 {
		c, err := join(ctx, svc.HTTP, "chat", 0, true)
		if err != nil {
			t.Fatal(err)
		}
		defer c.conn.CloseNow()
		listeners = append(listeners, c)
	}
	talker, err := join(ctx, svc.HTTP, "chat", 0, true)
	if err != nil {
		t.Fatal(err)
	}
	defer talker.conn.CloseNow()
	var said atomic.Int64
	// The talker stops between writes: cancelling the context of a write
	// in progress would close its connection (coder/websocket does), and
	// the SIGTERM scenario wants it closed by the service with 1001.
	var quiet atomic.Bool
	talked := make(chan struct{})
	stopTalk := func() { quiet.Store(true); <-talked }
	go func() {
		defer close(talked)
		for seq := 0; !quiet.Load() && ctx.Err() == nil; seq++ {
			if err := talker.conn.Write(ctx, websocket.MessageText, []byte(fmt.Sprintf(`{"type":"publish","room":"chat","data":{"seq":%d}}`, seq))); err != nil {
				return
			}
			said.Add(1)
			time.Sleep(10 * time.Millisecond)
		}
	}()
	defer quiet.Store(true)
	heard := func() int64 { return listeners[0].msgs.Load() + listeners[1].msgs.Load() }

	rec, _, _ := loadScenario(ctx, 4, load, 1500*time.Millisecond, 0, func() (time.Time, time.Time) { return time.Time{}, time.Time{} })
	c := count(rec.window(time.Time{}, time.Time{}))
	add(faultRow{preset: preset, scenario: "steady load + 3 WebSocket clients", c: c, notes: c.codeList()})
	if c.c5xx+c.c503 > 0 {
		t.Errorf("steady load: %d 5xx before any fault; codes: %s", c.c5xx+c.c503, c.codeList())
	}

	add(runBadInputs(t, preset, svc.HTTP, realtimeBadInputs()))
	add(badWebSocketMessages(t, ctx, svc.HTTP))

	if fs.redis != nil {
		rec, brokenAt, backAt := loadScenario(ctx, 4, load, time.Second, 2*time.Second, func() (time.Time, time.Time) {
			fs.redis.Kill()
			broken := time.Now()
			time.Sleep(2 * time.Second)
			if err := fs.redis.Start(); err != nil {
				t.Error(err)
			}
			return broken, time.Now()
		})
		c := count(rec.window(time.Time{}, time.Time{}))
		okAt := waitFirstOK(rec, backAt, "write")
		during := count(rec.window(brokenAt, backAt))
		add(faultRow{preset: preset, scenario: "Redis kill -9, restart after 2s", c: c,
			recovery: recoveryText(t, "Redis restart", backAt, okAt),
			notes:    fmt.Sprintf("while down: %d answers, %d 2xx; codes: %s", during.total, during.ok, c.codeList())})
	} else {
		add(faultRow{preset: preset, scenario: "Redis kill -9", c: counts{codes: map[int]int{}}, notes: "not run: this realtime service reads no REDIS_URL"})
	}

	// PostgreSQL down: the API answers 503, the hub goes on.
	heardBefore := heard()
	var heardDown int64
	var joinDown string
	var restartAt time.Time
	logErrors := errorLines(svc)
	rec, brokenAt, backAt := loadScenario(ctx, 4, load, time.Second, 2*time.Second, func() (time.Time, time.Time) {
		if err := fs.pg.Stop(); err != nil {
			t.Error(err)
		}
		broken := time.Now()
		h0 := heard()
		time.Sleep(time.Second)
		joinDown = joinWhileDown(ctx, svc.HTTP)
		time.Sleep(2 * time.Second)
		heardDown = heard() - h0
		restartAt = time.Now()
		if err := fs.pg.Start(); err != nil {
			t.Error(err)
		}
		return broken, time.Now()
	})
	okAt := waitFirstOK(rec, backAt, "write")
	c = count(rec.window(time.Time{}, time.Time{}))
	down := count(rec.window(brokenAt.Add(200*time.Millisecond), restartAt)) // as for read-heavy
	add(faultRow{preset: preset, scenario: "PostgreSQL immediate stop (SIGQUIT), start after 3s", c: c,
		recovery: recoveryText(t, "PostgreSQL restart", backAt, okAt),
		notes: fmt.Sprintf("while down: %d answers, %d 503 (%d without Retry-After or shape), WebSocket chat messages delivered %d, a new join: %s; codes while down: %s; ERROR log lines in the scenario: %d",
			down.total, down.c503, down.bad503, heardDown, joinDown, down.codeList(), errorLines(svc)-logErrors)})
	checkOutage(t, "PostgreSQL down", down)
	if down.c503 == 0 {
		t.Errorf("PostgreSQL down: no 503 (%s): the outage was not seen", down.codeList())
	}
	if heardDown == 0 {
		t.Errorf("PostgreSQL down: the WebSocket chat stopped (no message delivered in 3s; %d before)", heardBefore)
	}

	add(slowReaders(t, ctx, svc.HTTP))

	stopTalk()
	slow := rawRequest(http.MethodPost, "/rooms/r1/messages", []string{"Content-Type: application/json"}, []byte(`{"type":"in-flight","data":1}`))
	row := sigtermScenario(t, ctx, preset, svc, load, slow)
	for i, l := range append(listeners, talker) {
		select {
		case <-l.done:
		case <-time.After(5 * time.Second):
			t.Errorf("WebSocket client %d still connected 5s after the service exited", i)
			continue
		}
		if s := websocket.CloseStatus(l.ended()); s != websocket.StatusGoingAway {
			t.Errorf("WebSocket client %d: ended with %v, want close 1001 (going away)", i, l.ended())
		}
	}
	row.notes += "; WebSocket clients closed with 1001"
	add(row)
}

// joinWhileDown joins an existing room while the database is down and
// says what happened.
func joinWhileDown(ctx context.Context, httpURL string) string {
	c, err := join(ctx, httpURL, "r2", 0, true)
	if err != nil {
		return "dial failed: " + err.Error()
	}
	defer c.conn.CloseNow()
	select {
	case <-c.done:
		return fmt.Sprintf("closed with %d", websocket.CloseStatus(c.ended()))
	case <-time.After(time.Second):
		return "still connected after 1s"
	}
}

// slowReaders puts 3 clients that read and 3 that never read in one room
// and publishes 2 KB messages to it for 4s: the readers must get every
// message with no gap over a second, whatever the others do.
func slowReaders(t *testing.T, ctx context.Context, httpURL string) faultRow {
	t.Helper()
	var fast, slow []*wsClient
	for i := range 6 {
		reads := i%2 == 0
		rcvbuf := 0
		if !reads {
			rcvbuf = 4096
		}
		c, err := join(ctx, httpURL, "slow", rcvbuf, reads)
		if err != nil {
			t.Fatal(err)
		}
		defer c.conn.CloseNow()
		if reads {
			fast = append(fast, c)
		} else {
			slow = append(slow, c)
		}
	}
	// The publisher: a member of the room, publishing over its own
	// WebSocket (the hub sends a publisher none of its own messages) 20
	// messages every 10ms, about 2000 a second: 100 a tick, below
	// REALTIME_SEND_QUEUE (256) for a client that reads, and 4 MB/s that
	// fill the buffers of one that does not within a second or two.
	pub, err := join(ctx, httpURL, "slow", 0, true)
	if err != nil {
		t.Fatal(err)
	}
	defer pub.conn.CloseNow()
	time.Sleep(200 * time.Millisecond) // the joins land
	msg := []byte(`{"type":"publish","room":"slow","data":"` + strings.Repeat("x", 2000) + `"}`)
	var published atomic.Int64
	start := time.Now()
	for tick := time.NewTicker(10 * time.Millisecond); time.Since(start) < 4*time.Second; <-tick.C {
		for range 20 {
			if err := pub.conn.Write(ctx, websocket.MessageText, msg); err != nil {
				t.Fatalf("slow readers: publishing: %v", err)
			}
			published.Add(1)
		}
	}
	end := time.Now()
	time.Sleep(300 * time.Millisecond) // the last tick leaves
	var gaps []time.Duration
	minGot := int64(-1)
	for _, f := range fast {
		gaps = append(gaps, f.maxGap(start, end))
		if n := f.msgs.Load(); minGot < 0 || n < minGot {
			minGot = n
		}
		select {
		case <-f.done:
			t.Errorf("slow readers: a reading client was disconnected: %v", f.ended())
		default:
		}
		if u := f.undecoded.Load(); u > 0 {
			t.Errorf("slow readers: a reading client got %d frames it could not split (compressed?)", u)
		}
	}
	// The clients that never read: what ended them, once they read what
	// was buffered for them.
	ends := map[string]int{}
	for _, s := range slow {
		go s.read(ctx)
	}
	for _, s := range slow {
		select {
		case <-s.done:
			st := websocket.CloseStatus(s.ended())
			if st == -1 {
				ends["cut without a close frame"]++
			} else {
				ends[fmt.Sprintf("closed with %d", st)]++
			}
		case <-time.After(3 * time.Second):
			ends["still connected"]++
		}
	}
	var endList []string
	for k, n := range ends {
		endList = append(endList, fmt.Sprintf("%s ×%d", k, n))
	}
	slices.Sort(endList)
	row := faultRow{preset: "realtime", scenario: "WebSocket: 3 clients stop reading", c: counts{codes: map[int]int{}},
		notes: fmt.Sprintf("%d messages of 2 KB published over the WebSocket in 4s; each reading client got at least %d, longest gap %s; the non-readers: %s",
			published.Load(), minGot, durations(gaps), strings.Join(endList, ", "))}
	if minGot < published.Load()*99/100 {
		t.Errorf("slow readers stalled the others: a reading client got %d of %d messages", minGot, published.Load())
	}
	for _, g := range gaps {
		// A hub that waited on a client that does not read would hold the
		// others for its write timeout (REALTIME_WRITE_TIMEOUT, 2s).
		if g > time.Second {
			t.Errorf("slow readers stalled the others: a reading client went %v without a frame (tick 50ms)", g.Round(time.Millisecond))
		}
	}
	return row
}

// badWebSocketMessages sends malformed messages to the hub, each on its
// own connection: each must end that connection with 1008 (policy) or
// 1009 (too big), and the hub must go on serving the others.
func badWebSocketMessages(t *testing.T, ctx context.Context, httpURL string) faultRow {
	t.Helper()
	cases := []struct {
		name string
		typ  websocket.MessageType
		msg  string
	}{
		{"join a room name of 200 bytes", websocket.MessageText, `{"type":"join","room":"` + strings.Repeat("a", 200) + `"}`},
		{"join a room name of 100 KB (over the message limit)", websocket.MessageText, `{"type":"join","room":"` + strings.Repeat("a", 100<<10) + `"}`},
		{"join a room with a NUL", websocket.MessageText, `{"type":"join","room":"a\u0000b"}`},
		{"join a room of invalid UTF-8", websocket.MessageText, "{\"type\":\"join\",\"room\":\"\xff\xfe\"}"},
		{"join an empty room name", websocket.MessageText, `{"type":"join","room":""}`},
		{"join a room that does not exist", websocket.MessageText, `{"type":"join","room":"nosuchroom"}`},
		{"malformed JSON", websocket.MessageText, `{"type":`},
		{"unknown message type", websocket.MessageText, `{"type":"explode"}`},
		{"publish without joining", websocket.MessageText, `{"type":"publish","room":"r0","data":1}`},
		{"binary garbage", websocket.MessageBinary, "\x00\x01\x02\xff"},
		{"room of the wrong type", websocket.MessageText, `{"type":"join","room":12}`},
	}
	row := faultRow{preset: "realtime", scenario: fmt.Sprintf("bad WebSocket messages (%d)", len(cases)), c: counts{codes: map[int]int{}}}
	statuses := map[websocket.StatusCode]int{}
	for _, tc := range cases {
		conn, err := dialWS(ctx, httpURL, 0)
		if err != nil {
			t.Fatalf("%s: dial: %v", tc.name, err)
		}
		rctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		_ = conn.Write(rctx, tc.typ, []byte(tc.msg))
		_, _, err = conn.Read(rctx)
		cancel()
		conn.CloseNow()
		s := websocket.CloseStatus(err)
		statuses[s]++
		row.c.total++
		if s != websocket.StatusPolicyViolation && s != websocket.StatusMessageTooBig {
			t.Errorf("bad WebSocket message %q: ended with %v, want close 1008 or 1009", tc.name, err)
			row.c.other++
		}
	}
	if code, err := do(ctx, &http.Client{Timeout: 2 * time.Second}, http.MethodGet, httpURL+"/healthz", ""); err != nil || code != http.StatusOK {
		t.Errorf("after the bad WebSocket messages /healthz answers %d, %v", code, err)
	}
	var parts []string
	for _, s := range []websocket.StatusCode{websocket.StatusPolicyViolation, websocket.StatusMessageTooBig} {
		parts = append(parts, fmt.Sprintf("close %d×%d", s, statuses[s]))
		delete(statuses, s)
	}
	for s, n := range statuses {
		parts = append(parts, fmt.Sprintf("close %d×%d", s, n))
	}
	row.notes = strings.Join(parts, ", ")
	return row
}

func realtimeBadInputs() []rawCase {
	valid := `{"id":"newroom","title":"x"}`
	setTitle := func(_, raw string) string { return `{"id":"newroom","title":` + raw + `}` }
	cases := commonBadInputs(http.MethodPost, "/rooms", valid, setTitle)
	js := []string{"Content-Type: application/json"}
	get := func(name, target string, want int) rawCase {
		return rawCase{name: name, raw: rawRequest(http.MethodGet, target, nil, nil), want: want}
	}
	post := func(name, target, body string, want int) rawCase {
		return rawCase{name: name, raw: rawRequest(http.MethodPost, target, js, []byte(body)), want: want}
	}
	return append(cases,
		get("room name of 65 characters", "/rooms/"+strings.Repeat("a", 65), 400),
		get("room name of 5000 characters", "/rooms/"+strings.Repeat("a", 5000), 400),
		get("room name in capitals", "/rooms/LOBBY", 400),
		get("room name %00", "/rooms/a%00", 400),
		get("room name %FF", "/rooms/a%FF", 400),
		get("room name with a space", "/rooms/a%20b", 400),
		get("limit 0", "/rooms?limit=0", 400),
		get("limit 1001", "/rooms?limit=1001", 400),
		get("limit not a number", "/rooms?limit=abc", 400),
		get("limit %00", "/rooms?limit=1%00", 400),
		get("limit raw invalid UTF-8", "/rooms?limit=\xff", 400),
		post("room id of 65 characters", "/rooms", `{"id":"`+strings.Repeat("a", 65)+`","title":"x"}`, 400),
		post("room id in capitals", "/rooms", `{"id":"LOBBY","title":"x"}`, 400),
		post("room id with a NUL", "/rooms", `{"id":"a\u0000","title":"x"}`, 400),
		post("message type of 65 characters", "/rooms/r0/messages", `{"type":"`+strings.Repeat("t", 65)+`","data":1}`, 400),
		post("message without data", "/rooms/r0/messages", `{"type":"t"}`, 400),
		post("message type empty", "/rooms/r0/messages", `{"type":"","data":1}`, 400),
		post("message to a bad room name", "/rooms/UP/messages", `{"type":"t","data":1}`, 400),
		post("message data invalid JSON", "/rooms/r0/messages", `{"type":"t","data":}`, 400),
		get("WebSocket without Upgrade", "/ws", 4),
		rawCase{name: "WebSocket version 99", raw: rawRequest(http.MethodGet, "/ws", []string{"Connection: Upgrade", "Upgrade: websocket",
			"Sec-WebSocket-Version: 99", "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ=="}, nil), want: 4},
		rawCase{name: "WebSocket from a foreign Origin", raw: rawRequest(http.MethodGet, "/ws", []string{"Connection: Upgrade", "Upgrade: websocket",
			"Sec-WebSocket-Version: 13", "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==", "Origin: http://evil.example"}, nil), want: 403},
		rawCase{name: "POST to the WebSocket path", raw: rawRequest(http.MethodPost, "/ws", js, []byte(`{}`)), want: 4},
	)
}

// ------------------------------------------------------------ SIGTERM

// sigtermScenario sends SIGTERM to p under load while one request is in
// flight (its body half sent): that request must be answered 2xx, the
// process must exit 0 within its grace period, and no answer may be 5xx.
func sigtermScenario(t *testing.T, ctx context.Context, preset string, p *svcProc, load func(rng *rand.Rand, w, seq int) request, inflight []byte) faultRow {
	t.Helper()
	const grace = 20 * time.Second // SHUTDOWN_TIMEOUT's default
	addr := strings.TrimPrefix(p.HTTP, "http://")
	conn, err := net.DialTimeout("tcp", addr, 2*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	half := len(inflight) - 10
	var sigAt time.Time
	inflightRes := make(chan rawResult, 1)
	rec, _, _ := loadScenario(ctx, 4, load, time.Second, 0, func() (time.Time, time.Time) {
		if _, err := conn.Write(inflight[:half]); err != nil {
			t.Error(err)
		}
		time.Sleep(100 * time.Millisecond)
		sigAt = time.Now()
		if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
			t.Error(err)
		}
		go func() {
			time.Sleep(500 * time.Millisecond) // the drain has begun: then the rest of the body
			_, _ = conn.Write(inflight[half:])
			inflightRes <- readRaw(conn, 10*time.Second)
		}()
		select {
		case <-p.done:
		case <-time.After(grace + 5*time.Second):
		}
		return sigAt, time.Now()
	})
	r := <-inflightRes
	var exit string
	select {
	case <-p.done:
		exit = fmt.Sprintf("exit %v after %v", exitCode(p.err), p.exitAt.Sub(sigAt).Round(time.Millisecond))
		if p.err != nil {
			t.Errorf("after SIGTERM the service exited with %v (want 0)\n%s", p.err, tail(p.log))
		}
		if d := p.exitAt.Sub(sigAt); d > grace {
			t.Errorf("the service took %v to exit after SIGTERM (grace period %v)", d, grace)
		}
	default:
		exit = "still running"
		t.Errorf("the service did not exit within %v of SIGTERM", grace+5*time.Second)
	}
	if r.code < 200 || r.code >= 300 {
		t.Errorf("SIGTERM: the request in flight got %d (%v), want 2xx", r.code, r.err)
	}
	c := count(rec.window(sigAt, time.Time{}))
	if c.c5xx+c.c503 > 0 {
		t.Errorf("SIGTERM: %d 5xx during the drain; codes: %s", c.c5xx+c.c503, c.codeList())
	}
	return faultRow{preset: preset, scenario: "SIGTERM under load", c: c,
		notes: fmt.Sprintf("from the signal on; %s; request in flight answered %d; no answer = connection refused once the listener closed; codes: %s",
			exit, r.code, c.codeList())}
}

func exitCode(err error) string {
	if err == nil {
		return "0"
	}
	return err.Error()
}

// readRaw reads one answer from conn.
func readRaw(conn net.Conn, within time.Duration) rawResult {
	_ = conn.SetReadDeadline(time.Now().Add(within))
	resp, err := readFinal(bufio.NewReader(conn))
	if err != nil {
		return rawResult{err: err}
	}
	resp.Body.Close()
	return rawResult{code: resp.StatusCode}
}
