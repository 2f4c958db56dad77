package e2e

import (
	"bufio"
	"compress/gzip"
	"context"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	coltrace "go.opentelemetry.io/proto/otlp/collector/trace/v1"
	commonpb "go.opentelemetry.io/proto/otlp/common/v1"
	tracepb "go.opentelemetry.io/proto/otlp/trace/v1"
	"google.golang.org/protobuf/proto"

	"github.com/svcgen/svcgen/generator"
	"github.com/svcgen/svcgen/internal/loadbench"
)

// collector is an in-process OTLP/HTTP trace receiver: it decodes the
// protobuf ExportTraceServiceRequest bodies the service's exporter posts
// to /v1/traces and keeps their spans.
type collector struct {
	srv   *httptest.Server
	mu    sync.Mutex
	spans []*tracepb.Span
	posts int
}

func newCollector(t testing.TB) *collector {
	c := &collector{}
	c.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/v1/traces" {
			http.NotFound(w, r)
			return
		}
		var body io.Reader = r.Body
		if r.Header.Get("Content-Encoding") == "gzip" {
			zr, err := gzip.NewReader(r.Body)
			if err != nil {
				http.Error(w, err.Error(), http.StatusBadRequest)
				return
			}
			body = zr
		}
		b, err := io.ReadAll(body)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		var req coltrace.ExportTraceServiceRequest
		if err := proto.Unmarshal(b, &req); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		c.mu.Lock()
		c.posts++
		for _, rs := range req.ResourceSpans {
			for _, ss := range rs.ScopeSpans {
				c.spans = append(c.spans, ss.Spans...)
			}
		}
		c.mu.Unlock()
		out, _ := proto.Marshal(&coltrace.ExportTraceServiceResponse{})
		w.Header().Set("Content-Type", "application/x-protobuf")
		// One connection an export: the exporter keeps no idle connection
		// whose goroutines a generated test's goleak check would report
		// (the stack benchmark run with tracing set up).
		w.Header().Set("Connection", "close")
		_, _ = w.Write(out)
	}))
	t.Cleanup(c.srv.Close)
	return c
}

// trace returns the spans of traceID once the one named root has arrived
// and nothing new came for a moment (the batcher exports every 100 ms).
func (c *collector) trace(t *testing.T, traceID, root string) []*tracepb.Span {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	last := -1
	for {
		c.mu.Lock()
		var got []*tracepb.Span
		hasRoot := false
		for _, s := range c.spans {
			if hex.EncodeToString(s.TraceId) == traceID {
				got = append(got, s)
				hasRoot = hasRoot || s.Name == root
			}
		}
		c.mu.Unlock()
		if hasRoot && len(got) == last {
			return got
		}
		last = len(got)
		if time.Now().After(deadline) {
			t.Fatalf("trace %s: no %q span within 15s; got %s", traceID, root, spanList(got))
		}
		time.Sleep(300 * time.Millisecond)
	}
}

// serverTraceIDs lists the trace ids of the server spans named op.
func (c *collector) serverTraceIDs(op string) []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	var ids []string
	for _, s := range c.spans {
		if s.Name == op && s.Kind == tracepb.Span_SPAN_KIND_SERVER {
			ids = append(ids, hex.EncodeToString(s.TraceId))
		}
	}
	return ids
}

func spanList(spans []*tracepb.Span) string {
	var b strings.Builder
	for _, s := range spans {
		fmt.Fprintf(&b, "\n  %s %s id=%x parent=%x", s.Kind, s.Name, s.SpanId, s.ParentSpanId)
	}
	return b.String()
}

func attr(s *tracepb.Span, key string) string {
	for _, kv := range s.Attributes {
		if kv.Key == key {
			switch v := kv.Value.Value.(type) {
			case *commonpb.AnyValue_StringValue:
				return v.StringValue
			case *commonpb.AnyValue_BoolValue:
				return fmt.Sprint(v.BoolValue)
			case *commonpb.AnyValue_IntValue:
				return fmt.Sprint(v.IntValue)
			}
			return kv.Value.String()
		}
	}
	return ""
}

// TestTracingSpanTree runs a generated read-heavy service against the real
// PostgreSQL and Redis with OTEL_EXPORTER_OTLP_ENDPOINT pointing to an
// in-process collector, and checks the spans of one GET /items/{id} that
// misses both caches: the server span (getItem) -> cache.Get (tier db) ->
// the Redis span(s) and, through the batch loader's batch.Load, the pgx
// query span, all in one trace and parented as the calls nest. A second
// request with an incoming traceparent continues that trace, and a
// request that fails logs a line with its trace id.
func TestTracingSpanTree(t *testing.T) {
	if testing.Short() {
		t.Skip("generates, builds and runs a service")
	}
	name := "tracing-svc"
	dir := GenerateService(t, generator.Options{Name: name, Module: "example.com/" + name, Preset: "read-heavy"}, nil)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	tmp := t.TempDir()
	bin := filepath.Join(tmp, "svc")
	if err := loadbench.Build(ctx, dir, "./cmd/"+name, bin); err != nil {
		t.Fatal(err)
	}
	dbURL := createDatabase(t, "tracing")
	col := newCollector(t)
	base := append(os.Environ(), "STORE=postgres", "DATABASE_URL="+dbURL, "REDIS_URL="+redisURL(), "LOG_LEVEL=info",
		fmt.Sprintf("CACHE_PREFIX=tracing:%d:", time.Now().UnixNano()),
		"OTEL_EXPORTER_OTLP_ENDPOINT="+col.srv.URL, "OTEL_BSP_SCHEDULE_DELAY=100",
		"OTEL_TRACES_SAMPLER=parentbased_always_on",
		// createItem answers 504 at once: a failure line to find the trace id in.
		"TIMEOUT_OPERATIONS=createItem=1ns")
	mig := exec.CommandContext(ctx, bin, "-migrate", "up")
	mig.Env = base
	if out, err := mig.CombinedOutput(); err != nil {
		t.Fatalf("migrate up: %v\n%s", err, out)
	}
	psql(t, dbURL, `INSERT INTO items (name, quantity, price) SELECT 'item-' || g, 1, 100 FROM generate_series(1, 3) g`)
	httpAddr, _ := loadbench.FreeAddr()
	adminAddr, _ := loadbench.FreeAddr()
	logPath := filepath.Join(tmp, "svc.log")
	startProcess(t, ctx, append(base, "HTTP_ADDR="+httpAddr, "ADMIN_ADDR="+adminAddr), logPath, bin)
	url := "http://" + httpAddr
	client := &http.Client{Timeout: 5 * time.Second}
	waitHTTP(t, ctx, client, url+"/readyz")

	// 1. A cold GET: L1 and L2 miss, the loader reads Postgres.
	if code, body, err := getItem(ctx, client, url, 1); err != nil || code != http.StatusOK {
		t.Fatalf("GET /items/1: %d %s %v", code, body, err)
	}
	ids := waitServerSpans(t, col, "GetItem", 1, logPath)
	spans := col.trace(t, ids[0], "GetItem")
	byID := map[string]*tracepb.Span{}
	for _, s := range spans {
		byID[hex.EncodeToString(s.SpanId)] = s
	}
	parentOf := func(s *tracepb.Span) *tracepb.Span { return byID[hex.EncodeToString(s.ParentSpanId)] }
	// under reports whether a is an ancestor of s within the trace.
	under := func(s, a *tracepb.Span) bool {
		for p := parentOf(s); p != nil; p = parentOf(p) {
			if p == a {
				return true
			}
		}
		return false
	}
	find := func(pred func(*tracepb.Span) bool) []*tracepb.Span {
		var out []*tracepb.Span
		for _, s := range spans {
			if pred(s) {
				out = append(out, s)
			}
		}
		return out
	}
	servers := find(func(s *tracepb.Span) bool { return s.Name == "GetItem" && s.Kind == tracepb.Span_SPAN_KIND_SERVER })
	if len(servers) != 1 || len(servers[0].ParentSpanId) != 0 {
		t.Fatalf("want one root server span getItem; trace:%s", spanList(spans))
	}
	server := servers[0]
	if r := attr(server, "http.route"); r != "/items/{id}" {
		t.Errorf("server span http.route %q, want /items/{id}", r)
	}
	caches := find(func(s *tracepb.Span) bool { return s.Name == "cache.Get" })
	if len(caches) != 1 || parentOf(caches[0]) != server {
		t.Fatalf("want one cache.Get span under the server span; trace:%s", spanList(spans))
	}
	cacheSpan := caches[0]
	if tier := attr(cacheSpan, "cache.tier"); tier != "db" {
		t.Errorf("cache.Get cache.tier %q, want db (a miss in L1 and L2)", tier)
	}
	// Redis: the L2 read (and the write-back) under cache.Get.
	redisSpans := find(func(s *tracepb.Span) bool {
		return s.Kind == tracepb.Span_SPAN_KIND_CLIENT && (attr(s, "db.system") == "redis" || attr(s, "db.system.name") == "redis")
	})
	if len(redisSpans) == 0 {
		t.Fatalf("no Redis span; trace:%s", spanList(spans))
	}
	l2read := false
	for _, s := range redisSpans {
		if !under(s, cacheSpan) {
			t.Errorf("Redis span %s is not under cache.Get; trace:%s", s.Name, spanList(spans))
		}
		l2read = l2read || s.Name == "hmget" && parentOf(s) == cacheSpan
	}
	if !l2read {
		t.Errorf("no hmget span (the L2 read) right under cache.Get; trace:%s", spanList(spans))
	}
	// Postgres: the query, under cache.Get directly or under the batch
	// loader's batch.Load span that is under it.
	queries := find(func(s *tracepb.Span) bool {
		return s.Kind == tracepb.Span_SPAN_KIND_CLIENT && (attr(s, "db.system.name") == "postgresql" || attr(s, "db.system") == "postgresql") && strings.Contains(strings.ToLower(s.Name), "select")
	})
	if len(queries) == 0 {
		t.Fatalf("no pgx query span; trace:%s", spanList(spans))
	}
	// The read-heavy starter reads through the batch loader: one
	// batch.Load of one key under cache.Get, the query under it.
	batches := find(func(s *tracepb.Span) bool { return s.Name == "batch.Load" })
	if len(batches) != 1 || parentOf(batches[0]) != cacheSpan || attr(batches[0], "batch.size") != "1" {
		t.Fatalf("want one batch.Load (batch.size 1) under cache.Get; trace:%s", spanList(spans))
	}
	for _, q := range queries {
		if !under(q, batches[0]) {
			t.Errorf("query span %q is not under batch.Load; trace:%s", q.Name, spanList(spans))
		}
	}
	// Every span of the trace hangs from the server span.
	for _, s := range spans {
		if s != server && !under(s, server) {
			t.Errorf("span %s is not under the server span; trace:%s", s.Name, spanList(spans))
		}
	}
	t.Logf("trace %s:%s", ids[0], spanList(spans))

	// 2. A warm GET with an incoming traceparent: the same trace goes on,
	// the server span is the caller's child, L1 answers.
	const callerTrace, callerSpan = "4bf92f3577b34da6a3ce929d0e0e4736", "00f067aa0ba902b7"
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, url+"/items/1", nil)
	req.Header.Set("traceparent", "00-"+callerTrace+"-"+callerSpan+"-01")
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET /items/1 with traceparent: %d", resp.StatusCode)
	}
	cont := col.trace(t, callerTrace, "GetItem")
	var srv2 *tracepb.Span
	for _, s := range cont {
		if s.Name == "GetItem" {
			srv2 = s
		}
	}
	if hex.EncodeToString(srv2.ParentSpanId) != callerSpan {
		t.Errorf("server span's parent %x, want the caller's span %s", srv2.ParentSpanId, callerSpan)
	}
	for _, s := range cont {
		if s.Name == "cache.Get" && attr(s, "cache.tier") != "l1" {
			t.Errorf("warm cache.Get cache.tier %q, want l1", attr(s, "cache.tier"))
		}
	}

	// 3. A failing request logs "request failed" with its trace id.
	const failTrace = "0af7651916cd43dd8448eb211c80319c"
	req, _ = http.NewRequestWithContext(ctx, http.MethodPost, url+"/items", strings.NewReader(`{"name":"x","quantity":1,"price":1}`))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("traceparent", "00-"+failTrace+"-b7ad6b7169203331-01")
	resp, err = client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusGatewayTimeout {
		t.Fatalf("POST /items under a 1ns deadline: %d, want 504", resp.StatusCode)
	}
	failed := col.trace(t, failTrace, "CreateItem")
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(100 * time.Millisecond) {
		line, ok := logLine(t, logPath, "request failed", failTrace)
		if ok {
			var rec map[string]any
			if err := json.Unmarshal([]byte(line), &rec); err != nil {
				t.Fatalf("log line %q: %v", line, err)
			}
			if rec["span_id"] != hex.EncodeToString(failed[len(failed)-1].SpanId) && !spanIn(failed, fmt.Sprint(rec["span_id"])) {
				t.Errorf("log line span_id %v is none of the trace's spans:%s", rec["span_id"], spanList(failed))
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no \"request failed\" line with trace_id %s in the log:\n%s", failTrace, tail(logPath))
		}
	}
}

func spanIn(spans []*tracepb.Span, id string) bool {
	for _, s := range spans {
		if hex.EncodeToString(s.SpanId) == id {
			return true
		}
	}
	return false
}

// waitServerSpans waits for n server spans named op and returns their
// trace ids.
func waitServerSpans(t *testing.T, c *collector, op string, n int, logPath string) []string {
	t.Helper()
	for deadline := time.Now().Add(15 * time.Second); ; time.Sleep(100 * time.Millisecond) {
		if ids := c.serverTraceIDs(op); len(ids) >= n {
			return ids
		}
		if time.Now().After(deadline) {
			c.mu.Lock()
			posts, spans := c.posts, spanList(c.spans)
			c.mu.Unlock()
			t.Fatalf("fewer than %d %s server spans reached the collector within 15s (%d posts, spans:%s); service log:\n%s", n, op, posts, spans, tail(logPath))
		}
	}
}

// logLine returns the first JSON log line with msg and trace_id traceID.
func logLine(t *testing.T, path, msg, traceID string) (string, bool) {
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		var rec struct {
			Msg     string `json:"msg"`
			TraceID string `json:"trace_id"`
		}
		if json.Unmarshal(sc.Bytes(), &rec) == nil && rec.Msg == msg && rec.TraceID == traceID {
			return sc.Text(), true
		}
	}
	return "", false
}
