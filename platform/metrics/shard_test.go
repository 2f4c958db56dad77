package metrics

import (
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
)

// TestShardsSum: counts recorded on different shards are exported as one
// series each, histogram buckets cumulative, the sum in seconds.
func TestShardsSum(t *testing.T) {
	reg := prometheus.NewRegistry()
	m := NewHTTP(reg, "svc", []string{"getThing"})
	om := m.op("getThing")
	last := len(om.shards) - 1
	m.record(om, 0, 200, 3*time.Millisecond)
	m.record(om, last, 200, 3*time.Millisecond)
	m.record(om, last, 404, 30*time.Second) // past the largest bound: +Inf only
	m.record(om, 1, 200, time.Millisecond)  // on a bound: in that bucket
	want := `
# HELP svc_http_request_duration_seconds HTTP request duration in seconds, by operation.
# TYPE svc_http_request_duration_seconds histogram
svc_http_request_duration_seconds_bucket{operation="getThing",le="0.001"} 1
svc_http_request_duration_seconds_bucket{operation="getThing",le="0.0025"} 1
svc_http_request_duration_seconds_bucket{operation="getThing",le="0.005"} 3
svc_http_request_duration_seconds_bucket{operation="getThing",le="0.01"} 3
svc_http_request_duration_seconds_bucket{operation="getThing",le="0.025"} 3
svc_http_request_duration_seconds_bucket{operation="getThing",le="0.05"} 3
svc_http_request_duration_seconds_bucket{operation="getThing",le="0.1"} 3
svc_http_request_duration_seconds_bucket{operation="getThing",le="0.25"} 3
svc_http_request_duration_seconds_bucket{operation="getThing",le="0.5"} 3
svc_http_request_duration_seconds_bucket{operation="getThing",le="1"} 3
svc_http_request_duration_seconds_bucket{operation="getThing",le="2.5"} 3
svc_http_request_duration_seconds_bucket{operation="getThing",le="5"} 3
svc_http_request_duration_seconds_bucket{operation="getThing",le="+Inf"} 4
svc_http_request_duration_seconds_sum{operation="getThing"} 30.007
svc_http_request_duration_seconds_count{operation="getThing"} 4
svc_http_request_duration_seconds_bucket{operation="unknown",le="0.001"} 0
svc_http_request_duration_seconds_bucket{operation="unknown",le="0.0025"} 0
svc_http_request_duration_seconds_bucket{operation="unknown",le="0.005"} 0
svc_http_request_duration_seconds_bucket{operation="unknown",le="0.01"} 0
svc_http_request_duration_seconds_bucket{operation="unknown",le="0.025"} 0
svc_http_request_duration_seconds_bucket{operation="unknown",le="0.05"} 0
svc_http_request_duration_seconds_bucket{operation="unknown",le="0.1"} 0
svc_http_request_duration_seconds_bucket{operation="unknown",le="0.25"} 0
svc_http_request_duration_seconds_bucket{operation="unknown",le="0.5"} 0
svc_http_request_duration_seconds_bucket{operation="unknown",le="1"} 0
svc_http_request_duration_seconds_bucket{operation="unknown",le="2.5"} 0
svc_http_request_duration_seconds_bucket{operation="unknown",le="5"} 0
svc_http_request_duration_seconds_bucket{operation="unknown",le="+Inf"} 0
svc_http_request_duration_seconds_sum{operation="unknown"} 0
svc_http_request_duration_seconds_count{operation="unknown"} 0
# HELP svc_http_requests_in_flight HTTP requests being served.
# TYPE svc_http_requests_in_flight gauge
svc_http_requests_in_flight 0
# HELP svc_http_requests_total HTTP requests answered, by operation and status code.
# TYPE svc_http_requests_total counter
svc_http_requests_total{code="200",operation="getThing"} 3
svc_http_requests_total{code="201",operation="getThing"} 0
svc_http_requests_total{code="204",operation="getThing"} 0
svc_http_requests_total{code="404",operation="getThing"} 1
svc_http_requests_total{code="500",operation="getThing"} 0
svc_http_requests_total{code="200",operation="unknown"} 0
svc_http_requests_total{code="201",operation="unknown"} 0
svc_http_requests_total{code="204",operation="unknown"} 0
svc_http_requests_total{code="500",operation="unknown"} 0
`
	if err := testutil.GatherAndCompare(reg, strings.NewReader(want)); err != nil {
		t.Error(err)
	}
}

// TestConcurrentCounts: requests on many goroutines at once are all
// counted, whatever shards their writers have; in flight is back to 0.
func TestConcurrentCounts(t *testing.T) {
	reg := prometheus.NewRegistry()
	m := NewHTTP(reg, "svc", []string{"op"})
	h := m.Middleware(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		m.SetOperation(w, "op")
		w.WriteHeader(http.StatusCreated)
	}), nil)
	const goroutines, each = 16, 500
	var wg sync.WaitGroup
	for range goroutines {
		wg.Go(func() {
			r := httptest.NewRequest("GET", "/", nil)
			for range each {
				h.ServeHTTP(httptest.NewRecorder(), r)
			}
		})
	}
	wg.Wait()
	if got := total(t, reg, "op", 201); got != goroutines*each {
		t.Errorf("requests_total{op,201} = %v, want %d", got, goroutines*each)
	}
	if n := inFlight(t, reg); n != 0 {
		t.Errorf("requests_in_flight = %v after every request, want 0", n)
	}
}

// TestInFlight: a request being served counts in requests_in_flight.
func TestInFlight(t *testing.T) {
	reg := prometheus.NewRegistry()
	m := NewHTTP(reg, "svc", nil)
	in, release := make(chan struct{}), make(chan struct{})
	h := m.Middleware(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {
		close(in)
		<-release
	}), nil)
	done := make(chan struct{})
	go func() {
		defer close(done)
		h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", "/", nil))
	}()
	<-in
	if n := inFlight(t, reg); n != 1 {
		t.Errorf("requests_in_flight = %v while one request is served, want 1", n)
	}
	close(release)
	<-done
	if n := inFlight(t, reg); n != 0 {
		t.Errorf("requests_in_flight = %v after it, want 0", n)
	}
}

// TestManyCodes: codes past the shards' slots are still counted.
func TestManyCodes(t *testing.T) {
	reg := prometheus.NewRegistry()
	m := NewHTTP(reg, "svc", []string{"op"})
	om := m.op("op")
	for code := 200; code < 200+maxSlots+8; code++ {
		m.record(om, 0, code, time.Millisecond)
		m.record(om, 1, code, time.Millisecond)
	}
	for _, code := range []int{200, 200 + maxSlots + 7} {
		if got := total(t, reg, "op", code); got != 2 {
			t.Errorf("requests_total{op,%d} = %v, want 2", code, got)
		}
	}
}

// TestSecondRegistration: a second HTTP on the same registry, with other
// operations, adds to the same series; other buckets cannot share them.
func TestSecondRegistration(t *testing.T) {
	reg := prometheus.NewRegistry()
	a := NewHTTP(reg, "svc", []string{"op"})
	b := NewHTTP(reg, "svc", []string{"op", "other"})
	a.record(a.op("op"), 0, 200, time.Millisecond)
	b.record(b.op("op"), 0, 200, time.Millisecond)
	b.record(b.op("other"), 0, 200, time.Millisecond)
	if got := total(t, reg, "op", 200); got != 2 {
		t.Errorf("requests_total{op,200} = %v, want 2 (one from each)", got)
	}
	if got := total(t, reg, "other", 200); got != 1 {
		t.Errorf("requests_total{other,200} = %v, want 1", got)
	}
	defer func(b []float64) { DurationBuckets = b }(DurationBuckets)
	DurationBuckets = []float64{1}
	defer func() {
		if p, _ := recover().(string); !strings.Contains(p, "svc_http metrics are already registered with the buckets") {
			t.Errorf("a second HTTP with other buckets on the same registry: panic %q, want one naming the buckets", p)
		}
	}()
	NewHTTP(reg, "svc", nil)
}

func total(t *testing.T, g prometheus.Gatherer, op string, code int) float64 {
	t.Helper()
	mfs, err := g.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != "svc_http_requests_total" {
			continue
		}
		for _, m := range mf.GetMetric() {
			labels := map[string]string{}
			for _, l := range m.GetLabel() {
				labels[l.GetName()] = l.GetValue()
			}
			if labels["operation"] == op && labels["code"] == strconv.Itoa(code) {
				return m.GetCounter().GetValue()
			}
		}
	}
	return 0
}

func inFlight(t *testing.T, g prometheus.Gatherer) float64 {
	t.Helper()
	mfs, err := g.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() == "svc_http_requests_in_flight" {
			return mf.GetMetric()[0].GetGauge().GetValue()
		}
	}
	t.Fatal("no svc_http_requests_in_flight")
	return 0
}

// BenchmarkRecord compares one request's recording, from every core at
// once, on the shards against prometheus' own HistogramVec, CounterVec
// and Gauge children (the baseline, measured in the same run):
//
//	go test ./internal/platform/metrics -run '^$' -bench Record -cpu 1,2
func BenchmarkRecord(b *testing.B) {
	b.Run("shards", func(b *testing.B) {
		m := NewHTTP(prometheus.NewRegistry(), "svc", []string{"op"})
		b.RunParallel(func(pb *testing.PB) {
			sw := m.writers.Get().(*statusWriter)
			om := m.op("op")
			for pb.Next() {
				m.inFlight[sw.shard].n.Add(1)
				m.record(om, sw.shard, 200, 3*time.Millisecond)
				m.inFlight[sw.shard].n.Add(-1)
			}
		})
	})
	b.Run("prometheus", func(b *testing.B) {
		dur := prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "d", Buckets: DurationBuckets}, []string{"operation"}).WithLabelValues("op")
		req := prometheus.NewCounterVec(prometheus.CounterOpts{Name: "r"}, []string{"operation", "code"}).WithLabelValues("op", "200")
		inf := prometheus.NewGauge(prometheus.GaugeOpts{Name: "g"})
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				inf.Inc()
				dur.Observe((3 * time.Millisecond).Seconds())
				req.Inc()
				inf.Dec()
			}
		})
	})
}
