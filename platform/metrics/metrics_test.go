package metrics_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"go.uber.org/goleak"

	"github.com/svcgen/svcgen/platform/metrics"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func TestRegistry(t *testing.T) {
	reg := metrics.NewRegistry()
	n, err := testutil.GatherAndCount(reg, "go_goroutines", "process_cpu_seconds_total")
	if err != nil || n != 2 {
		t.Errorf("runtime and process collectors: %d series, %v", n, err)
	}
}

// sample returns the value of a counter series with the given labels.
func sample(t *testing.T, g prometheus.Gatherer, name, op, code string) (float64, bool) {
	t.Helper()
	mfs, err := g.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
		for _, m := range mf.GetMetric() {
			labels := map[string]string{}
			for _, l := range m.GetLabel() {
				labels[l.GetName()] = l.GetValue()
			}
			if labels["operation"] == op && labels["code"] == code {
				return m.GetCounter().GetValue(), true
			}
		}
	}
	return 0, false
}

func TestFlushAndController(t *testing.T) {
	reg := prometheus.NewRegistry()
	m := metrics.NewHTTP(reg, "svc", []string{"stream"})
	h := m.Middleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := http.NewResponseController(w).SetWriteDeadline(time.Now().Add(time.Second)); err != nil {
			t.Errorf("SetWriteDeadline through the status writer: %v", err)
		}
		f, ok := w.(http.Flusher)
		if !ok {
			t.Error("status writer hides http.Flusher")
			return
		}
		w.WriteHeader(http.StatusAccepted)
		_, _ = w.Write([]byte("part"))
		f.Flush()
	}), func(*http.Request) (string, bool) { return "stream", true })
	ts := httptest.NewServer(h)
	defer ts.Close()
	resp, err := ts.Client().Get(ts.URL)
	if err != nil {
		t.Fatal(err)
	}
	_, _ = io.ReadAll(resp.Body) // the body ends once the handler, and the recording, are done
	_ = resp.Body.Close()
	if got, _ := sample(t, reg, "svc_http_requests_total", "stream", "202"); got != 1 {
		t.Errorf("requests_total{stream,202} = %v, want 1", got)
	}
}

func TestPanicCounted(t *testing.T) {
	reg := prometheus.NewRegistry()
	m := metrics.NewHTTP(reg, "svc", []string{"boom"})
	h := m.Middleware(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { panic("boom") }),
		func(*http.Request) (string, bool) { return "boom", true })
	func() {
		defer func() {
			if recover() == nil {
				t.Error("panic was swallowed")
			}
		}()
		h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", "/", nil))
	}()
	if got, _ := sample(t, reg, "svc_http_requests_total", "boom", "500"); got != 1 {
		t.Errorf("requests_total{boom,500} = %v, want 1", got)
	}
}

func TestRareCodeAndSecondRegistration(t *testing.T) {
	reg := prometheus.NewRegistry()
	metrics.NewHTTP(reg, "svc", []string{"op"})
	m := metrics.NewHTTP(reg, "svc", []string{"op"}) // same registry: reuses the collectors
	h := m.Middleware(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(418) }),
		func(*http.Request) (string, bool) { return "op", true })
	h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", "/", nil))
	if got, _ := sample(t, reg, "svc_http_requests_total", "op", "418"); got != 1 {
		t.Errorf("requests_total{op,418} = %v, want 1", got)
	}
}

// nopWriter is a ResponseWriter that allocates nothing.
type nopWriter struct{ h http.Header }

func (w nopWriter) Header() http.Header       { return w.h }
func (nopWriter) Write(b []byte) (int, error) { return len(b), nil }
func (nopWriter) WriteHeader(int)             {}

var ok200 = http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusOK) })

func TestMiddlewareAddsNoAllocations(t *testing.T) {
	m := metrics.NewHTTP(prometheus.NewRegistry(), "svc", []string{"getThing"})
	h := m.Middleware(ok200, func(*http.Request) (string, bool) { return "getThing", true })
	w, r := nopWriter{h: http.Header{}}, httptest.NewRequest("GET", "/things/1", nil)
	if n := testing.AllocsPerRun(1000, func() { h.ServeHTTP(w, r) }); n != 0 {
		t.Errorf("middleware allocates %v times per request, want 0", n)
	}
}

// unwrapper wraps a writer the way the platform's Guard does.
type unwrapper struct{ http.ResponseWriter }

func (u unwrapper) Unwrap() http.ResponseWriter { return u.ResponseWriter }

func TestSetOperation(t *testing.T) {
	reg := prometheus.NewRegistry()
	m := metrics.NewHTTP(reg, "svc", []string{"getThing"})
	named := func(op string) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
			m.SetOperation(unwrapper{w}, op) // as the API's OperationHook does, under Guard
			w.WriteHeader(http.StatusTeapot)
		})
	}
	w, r := nopWriter{h: http.Header{}}, httptest.NewRequest("GET", "/things/1", nil)
	m.Middleware(named("getThing"), nil).ServeHTTP(w, r)
	m.Middleware(named("notInTheSpec"), nil).ServeHTTP(w, r)
	m.Middleware(ok200, nil).ServeHTTP(w, r) // never named
	for _, c := range []struct {
		op, code string
		want     float64
	}{
		{"getThing", "418", 1}, {metrics.Unknown, "418", 1}, {metrics.Unknown, "200", 1},
	} {
		got := requestsTotal(t, reg, c.op, c.code)
		if got != c.want {
			t.Errorf("requests_total{operation=%q,code=%q} = %v, want %v", c.op, c.code, got, c.want)
		}
	}
	m.SetOperation(w, "getThing") // a writer Middleware did not pass on: nothing happens

	h := m.Middleware(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		m.SetOperation(w, "getThing")
		w.WriteHeader(http.StatusOK)
	}), nil)
	if n := testing.AllocsPerRun(1000, func() { h.ServeHTTP(w, r) }); n != 0 {
		t.Errorf("middleware with SetOperation allocates %v times per request, want 0", n)
	}
}

// requestsTotal is the value of svc_http_requests_total{operation=op,code=code}.
func requestsTotal(t *testing.T, reg *prometheus.Registry, op, code string) float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != "svc_http_requests_total" {
			continue
		}
		for _, mt := range mf.GetMetric() {
			var gotOp, gotCode string
			for _, l := range mt.GetLabel() {
				switch l.GetName() {
				case "operation":
					gotOp = l.GetValue()
				case "code":
					gotCode = l.GetValue()
				}
			}
			if gotOp == op && gotCode == code {
				return mt.GetCounter().GetValue()
			}
		}
	}
	t.Fatalf("no svc_http_requests_total{operation=%q,code=%q}", op, code)
	return 0
}

func BenchmarkMiddleware(b *testing.B) {
	m := metrics.NewHTTP(prometheus.NewRegistry(), "svc", []string{"getThing"})
	route := func(*http.Request) (string, bool) { return "getThing", true }
	w, r := nopWriter{h: http.Header{}}, httptest.NewRequest("GET", "/things/1", nil)
	b.Run("bare", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			ok200.ServeHTTP(w, r)
		}
	})
	b.Run("wrapped", func(b *testing.B) {
		h := m.Middleware(ok200, route)
		b.ReportAllocs()
		for b.Loop() {
			h.ServeHTTP(w, r)
		}
	})
	b.Run("wrapped-parallel", func(b *testing.B) {
		h := m.Middleware(ok200, route)
		b.ReportAllocs()
		b.RunParallel(func(pb *testing.PB) {
			w := nopWriter{h: http.Header{}}
			for pb.Next() {
				h.ServeHTTP(w, r)
			}
		})
	})
}
