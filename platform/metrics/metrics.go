// Package metrics exposes the service's Prometheus metrics: a registry with
// the Go runtime and process collectors, and RED metrics (rate, errors,
// duration) per API operation.
//
// Everything a request touches is resolved when the service starts: the
// label children for each operation and common status code, and the
// status-recording writers come from a sync.Pool, so the middleware adds no
// allocation to a request.
package metrics

import (
	"errors"
	"net/http"
	"regexp"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
)

// Unknown is the operation label of requests that match no operation.
const Unknown = "unknown"

// DurationBuckets suit API latencies from 1 ms to 5 s (seconds).
var DurationBuckets = []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5}

// commonCodes get their label children at start, so success and error
// ratios have both series from the first scrape; any other code gets its
// child on first use (one allocation, once) and is cached like these.
// Pre-creating every code would export operations x codes zero series.
var commonCodes = []int{200, 201, 204, 500}

// gcPauses selects the runtime/metrics histogram of GC stop-the-world pauses.
var gcPauses = regexp.MustCompile(`^/sched/pauses/total/gc:seconds$`)

// NewRegistry returns a registry with the Go runtime and process collectors.
// Besides the default Go metrics it exports the runtime's histogram of GC
// stop-the-world pauses (go_sched_pauses_total_gc_seconds), whose P99 the
// alert rules watch. Use it instead of prometheus.DefaultRegisterer so tests and libraries cannot
// add to it behind the service's back.
func NewRegistry() *prometheus.Registry {
	reg := prometheus.NewRegistry()
	reg.MustRegister(
		collectors.NewGoCollector(collectors.WithGoCollectorRuntimeMetrics(
			collectors.GoRuntimeMetricsRule{Matcher: gcPauses},
		)),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
	)
	return reg
}

// HTTP records the RED metrics of the API:
//
//	<ns>_http_requests_total{operation,code}         counter
//	<ns>_http_request_duration_seconds{operation}    histogram
//	<ns>_http_requests_in_flight                     gauge
type HTTP struct {
	inFlight *inFlight
	requests *prometheus.CounterVec
	ops      map[string]*opMetrics
	unknown  *opMetrics
	writers  sync.Pool
}

// opMetrics are the pre-resolved children of one operation.
type opMetrics struct {
	duration prometheus.Observer
	requests *prometheus.CounterVec
	codes    [maxCode - minCode]atomic.Pointer[counter] // by status code - minCode
	name     string
}

type counter struct{ prometheus.Counter }

const minCode, maxCode = 100, 600

// NewHTTP registers the RED metrics on reg under namespace (the service name
// in snake_case) and resolves the label children of every operation (the
// spec's operationIds) and of Unknown. It panics if reg holds different
// metrics of the same names, as MustRegister does.
func NewHTTP(reg prometheus.Registerer, namespace string, operations []string) *HTTP {
	requests := prometheus.NewCounterVec(prometheus.CounterOpts{
		Namespace: namespace, Subsystem: "http", Name: "requests_total",
		Help: "HTTP requests answered, by operation and status code.",
	}, []string{"operation", "code"})
	duration := prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Namespace: namespace, Subsystem: "http", Name: "request_duration_seconds",
		Help:    "HTTP request duration in seconds, by operation.",
		Buckets: DurationBuckets,
	}, []string{"operation"})
	inFlight := &inFlight{desc: prometheus.NewDesc(
		prometheus.BuildFQName(namespace, "http", "requests_in_flight"),
		"HTTP requests being served.", nil, nil,
	)}
	requests = register(reg, requests)
	duration = register(reg, duration)
	inFlight = register(reg, inFlight)

	m := &HTTP{
		inFlight: inFlight,
		requests: requests,
		ops:      make(map[string]*opMetrics, len(operations)),
	}
	m.writers.New = func() any { return new(statusWriter) }
	for _, op := range slices.Concat(operations, []string{Unknown}) {
		om := &opMetrics{name: op, duration: duration.WithLabelValues(op), requests: requests}
		for _, code := range commonCodes {
			om.counter(code)
		}
		m.ops[op] = om
	}
	m.unknown = m.ops[Unknown]
	return m
}

// register registers c, or returns the collector already registered under
// the same description (a second NewHTTP on one registry, as in tests).
func register[C prometheus.Collector](reg prometheus.Registerer, c C) C {
	if err := reg.Register(c); err != nil {
		var are prometheus.AlreadyRegisteredError
		if errors.As(err, &are) {
			if existing, ok := are.ExistingCollector.(C); ok {
				return existing
			}
		}
		panic(err)
	}
	return c
}

// counter returns the requests_total child of a status code, resolving it
// on first use.
func (o *opMetrics) counter(code int) prometheus.Counter {
	if code < minCode || code >= maxCode {
		return o.requests.WithLabelValues(o.name, strconv.Itoa(code)) // not a valid status; rare
	}
	slot := &o.codes[code-minCode]
	if c := slot.Load(); c != nil {
		return c.Counter
	}
	c := &counter{o.requests.WithLabelValues(o.name, strconv.Itoa(code))}
	slot.CompareAndSwap(nil, c)
	return slot.Load().Counter
}

// Middleware wraps the API handler. route names the operation of a request
// before it runs, for example from the ogen server's router:
//
//	func(r *http.Request) (string, bool) {
//		rt, ok := srv.FindPath(r.Method, r.URL)
//		return rt.OperationID(), ok
//	}
//
// With route nil the API names it instead, once its own router has matched
// it: SetOperation from the server's OperationHook, which saves the second
// route lookup. Requests that match no known operation are counted as
// Unknown.
func (m *HTTP) Middleware(next http.Handler, route func(r *http.Request) (operation string, ok bool)) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		sw := m.writers.Get().(*statusWriter)
		sw.ResponseWriter, sw.status, sw.om = w, 0, m.unknown
		if route != nil {
			if op, ok := route(r); ok {
				sw.om = m.op(op)
			}
		}
		m.inFlight.n.Add(1)
		start := time.Now()
		defer m.done(sw, start)
		next.ServeHTTP(sw, r)
	})
}

// SetOperation names the operation of the request that w answers: w is
// the writer Middleware passed on, or one wrapping it (Unwrap). A writer
// from elsewhere is left alone.
func (m *HTTP) SetOperation(w http.ResponseWriter, operation string) {
	for w != nil {
		if sw, ok := w.(*statusWriter); ok {
			sw.om = m.op(operation)
			return
		}
		u, ok := w.(interface{ Unwrap() http.ResponseWriter })
		if !ok {
			return
		}
		w = u.Unwrap()
	}
}

// op returns the metrics of an operation, Unknown's for a name NewHTTP
// was not given.
func (m *HTTP) op(name string) *opMetrics {
	if o, ok := m.ops[name]; ok {
		return o
	}
	return m.unknown
}

// done records one request. A panicking handler is counted as a 500 and
// the panic goes on to net/http.
func (m *HTTP) done(sw *statusWriter, start time.Time) {
	status, om := sw.status, sw.om
	p := recover()
	if p != nil {
		status = http.StatusInternalServerError
	} else if status == 0 {
		status = http.StatusOK // the handler wrote nothing
	}
	om.duration.Observe(time.Since(start).Seconds())
	om.counter(status).Inc()
	m.inFlight.n.Add(-1)
	sw.ResponseWriter, sw.om = nil, nil
	m.writers.Put(sw)
	if p != nil {
		panic(p)
	}
}

// inFlight is the requests_in_flight gauge: an integer added to with one
// atomic instruction (prometheus.Gauge holds a float64 and adds in a
// compare-and-swap loop), read when the registry is gathered.
type inFlight struct {
	desc *prometheus.Desc
	n    atomic.Int64
}

func (g *inFlight) Describe(ch chan<- *prometheus.Desc) { ch <- g.desc }

func (g *inFlight) Collect(ch chan<- prometheus.Metric) {
	ch <- prometheus.MustNewConstMetric(g.desc, prometheus.GaugeValue, float64(g.n.Load()))
}

// statusWriter records the status code. Flush passes through, and Unwrap
// lets http.ResponseController reach the connection's other features.
type statusWriter struct {
	http.ResponseWriter
	om     *opMetrics // the operation, Unknown until named
	status int
}

func (w *statusWriter) WriteHeader(code int) {
	if w.status == 0 && code >= 200 { // 1xx are informational, the final status follows
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	return w.ResponseWriter.Write(b)
}

// Flush sends buffered data to the client if the underlying writer can.
func (w *statusWriter) Flush() {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	if f, ok := w.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

// Unwrap returns the underlying writer, for http.ResponseController.
func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }
