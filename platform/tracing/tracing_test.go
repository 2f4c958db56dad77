package tracing

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"reflect"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"go.opentelemetry.io/otel"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"
)

const parent = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"

// TestNotInstalledWithoutEndpoint: without OTEL_EXPORTER_OTLP_ENDPOINT no
// SDK provider is installed and the API server's provider is a no-op.
func TestNotInstalledWithoutEndpoint(t *testing.T) {
	t.Setenv("OTEL_EXPORTER_OTLP_ENDPOINT", "")
	t.Setenv("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "")
	shutdown, err := Start(context.Background(), "svc", slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	defer shutdown(context.Background())
	if Installed() {
		t.Fatal("Installed() without an endpoint")
	}
	if _, ok := otel.GetTracerProvider().(*sdktrace.TracerProvider); ok {
		t.Fatal("an SDK TracerProvider is installed without an endpoint")
	}
	_, span := TracerProvider().Tracer("t").Start(context.Background(), "op")
	if span.IsRecording() {
		t.Fatal("the API server's spans record without an endpoint")
	}
	if ctx, s := StartSpan(context.Background(), "cache.Get"); s.IsRecording() || ctx != context.Background() {
		t.Fatal("StartSpan started a span without a recording parent")
	}
}

// TestDisabled: OTEL_SDK_DISABLED=true wins over an endpoint.
func TestDisabled(t *testing.T) {
	t.Setenv("OTEL_EXPORTER_OTLP_ENDPOINT", "http://127.0.0.1:1")
	t.Setenv("OTEL_SDK_DISABLED", "true")
	if Configured() {
		t.Fatal("Configured() with OTEL_SDK_DISABLED=true")
	}
}

// TestInstalledWithEndpoint: with an endpoint a provider is installed and
// its spans reach the OTLP/HTTP endpoint on shutdown.
func TestInstalledWithEndpoint(t *testing.T) {
	var posts atomic.Int64
	collector := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/v1/traces" {
			_, _ = io.Copy(io.Discard, r.Body)
			posts.Add(1)
		}
		w.WriteHeader(http.StatusOK)
	}))
	defer collector.Close()
	t.Setenv("OTEL_EXPORTER_OTLP_ENDPOINT", collector.URL)
	t.Setenv("OTEL_SDK_DISABLED", "")
	shutdown, err := Start(context.Background(), "svc", slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	if !Installed() {
		t.Fatal("not Installed() with OTEL_EXPORTER_OTLP_ENDPOINT set")
	}
	if _, ok := otel.GetTracerProvider().(*sdktrace.TracerProvider); !ok {
		t.Fatalf("global provider is %T, want the SDK's", otel.GetTracerProvider())
	}
	ctx, span := TracerProvider().Tracer("t").Start(context.Background(), "op")
	if !span.IsRecording() {
		t.Fatal("the API server's span does not record")
	}
	_, child := StartSpan(ctx, "cache.Get")
	if !child.IsRecording() || child.SpanContext().TraceID() != span.SpanContext().TraceID() {
		t.Fatal("StartSpan under a recording span did not start a child in its trace")
	}
	child.End()
	span.End()
	sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := shutdown(sctx); err != nil {
		t.Fatal(err)
	}
	if posts.Load() == 0 {
		t.Fatal("no export reached the collector")
	}
	if Installed() {
		t.Fatal("still Installed() after shutdown")
	}
}

// TestPropagation: an incoming traceparent reaches the handler's context,
// the log line and the outgoing request, with no SDK installed.
func TestPropagation(t *testing.T) {
	t.Setenv("OTEL_EXPORTER_OTLP_ENDPOINT", "")
	t.Setenv("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "")
	shutdown, err := Start(context.Background(), "svc", slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	defer shutdown(context.Background())

	var outgoing string
	upstream := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		outgoing = r.Header.Get("Traceparent")
	}))
	defer upstream.Close()
	client := &http.Client{Transport: Transport(nil)}

	var logs bytes.Buffer
	log := slog.New(LogHandler(slog.NewJSONHandler(&logs, nil)))
	h := Extract(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx := r.Context()
		log.InfoContext(ctx, "handled")
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, upstream.URL, nil)
		resp, err := client.Do(req)
		if err != nil {
			t.Error(err)
			return
		}
		resp.Body.Close()
	}))
	req := httptest.NewRequest(http.MethodGet, "/items/1", nil)
	req.Header.Set("traceparent", parent)
	h.ServeHTTP(httptest.NewRecorder(), req)

	var line struct {
		TraceID string `json:"trace_id"`
		SpanID  string `json:"span_id"`
	}
	if err := json.Unmarshal(logs.Bytes(), &line); err != nil {
		t.Fatalf("log line %q: %v", logs.String(), err)
	}
	if line.TraceID != "4bf92f3577b34da6a3ce929d0e0e4736" || line.SpanID != "00f067aa0ba902b7" {
		t.Errorf("log line %s: want the incoming trace and span ids", logs.String())
	}
	if len(outgoing) != len(parent) || outgoing[3:35] != parent[3:35] {
		t.Errorf("outgoing traceparent %q: want trace %s", outgoing, parent[3:35])
	}
}

// TestExtractWithoutHeader: a request without traceparent is passed on as
// it is, without an allocation.
func TestExtractWithoutHeader(t *testing.T) {
	var got *http.Request
	h := Extract(http.HandlerFunc(func(_ http.ResponseWriter, r *http.Request) { got = r }))
	req := httptest.NewRequest(http.MethodGet, "/items/1", nil)
	w := httptest.NewRecorder()
	if n := testing.AllocsPerRun(100, func() { h.ServeHTTP(w, req) }); n != 0 {
		t.Errorf("Extract without traceparent: %v allocs, want 0", n)
	}
	if got != req || trace.SpanContextFromContext(got.Context()).IsValid() {
		t.Error("Extract changed a request without traceparent")
	}
}

// TestInstrumentationName: the service's own spans name this package's
// import path as their instrumentation scope (the service's, in a copy).
func TestInstrumentationName(t *testing.T) {
	// The package's path as the runtime names its functions: <path>.Start.
	pkg := strings.TrimSuffix(runtime.FuncForPC(reflect.ValueOf(Start).Pointer()).Name(), ".Start")
	if InstrumentationName != pkg || !strings.HasSuffix(pkg, "/platform/tracing") {
		t.Fatalf("InstrumentationName = %q, want this package's import path %q", InstrumentationName, pkg)
	}
	rec := tracetest.NewSpanRecorder()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(rec))
	defer func() { _ = tp.Shutdown(context.Background()) }()
	ctx, parent := tp.Tracer("t").Start(context.Background(), "op")
	prev := otel.GetTracerProvider()
	otel.SetTracerProvider(tp)
	defer otel.SetTracerProvider(prev)
	_, child := StartSpan(ctx, "cache.Get")
	child.End()
	parent.End()
	var got []string
	for _, s := range rec.Ended() {
		if s.Name() == "cache.Get" {
			got = append(got, s.InstrumentationScope().Name)
		}
	}
	if len(got) != 1 || got[0] != InstrumentationName {
		t.Fatalf("cache.Get spans' scopes = %q, want [%q]", got, InstrumentationName)
	}
}
