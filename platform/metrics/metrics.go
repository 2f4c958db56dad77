// Package metrics exposes the service's Prometheus metrics: a registry with
// the Go runtime and process collectors, and RED metrics (rate, errors,
// duration) per API operation.
//
// Everything a request touches is resolved when the service starts: the
// counts of each operation, sharded so that cores do not contend for them
// (HTTP), and the status-recording writers come from a sync.Pool, so the
// middleware adds no allocation to a request.
package metrics

import (
	"errors"
	"fmt"
	"maps"
	"net/http"
	"regexp"
	"runtime"
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

// commonCodes are exported for every operation from the first scrape, so
// success and error ratios have both series; any other code is exported
// once an operation has answered it (codeSlots).
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
//
// A request adds to one of several shards of these counts, each on cache
// lines of its own, and Collect sums the shards when the registry is
// gathered. The shard comes with the status-recording writer the request
// takes from a sync.Pool, and a pooled writer stays with the processor
// that put it back: two requests served on two cores at once add to
// different memory, instead of bouncing one counter's cache line between
// the cores on every request as prometheus.Histogram and CounterVec do
// (four such lines per request).
type HTTP struct {
	writers  sync.Pool
	fam      *family
	ops      map[string]*opMetrics
	unknown  *opMetrics
	inFlight []inFlightShard
	bounds   []time.Duration // the histogram's upper bounds
	list     []*opMetrics    // ops in order, Unknown last
	slots    codeSlots
	next     atomic.Uint32 // the shard of the next new writer
}

// opMetrics are one operation's counts, by shard.
type opMetrics struct {
	name   string
	shards []opShard
}

// maxSlots is how many distinct status codes an operation counts on its
// shards; codes past them (a service answering more than 32 different
// codes) are counted under a lock (codeSlots.rare).
const maxSlots = 32

// maxBuckets bounds len(DurationBuckets)+1 (the +Inf bucket).
const maxBuckets = 24

// opShard is one shard of an operation's counts, a whole number of cache
// lines.
type opShard struct {
	codes   [maxSlots]atomic.Uint64   // requests by status code slot
	buckets [maxBuckets]atomic.Uint64 // durations by bucket, +Inf last
	sum     atomic.Int64              // durations' sum, nanoseconds
	_       [56]byte
}

// inFlightShard is one shard of requests_in_flight: requests started
// minus requests done on writers of this shard.
type inFlightShard struct {
	n atomic.Int64
	_ [56]byte
}

// NewHTTP registers the RED metrics on reg under namespace (the service name
// in snake_case) and prepares the counts of every operation (the spec's
// operationIds) and of Unknown. A second NewHTTP on the same registry
// with the same namespace adds to the same series. It panics if reg
// holds other metrics of the same names, as MustRegister does, or if
// DurationBuckets has more than 23 bounds.
func NewHTTP(reg prometheus.Registerer, namespace string, operations []string) *HTTP {
	if len(DurationBuckets)+1 > maxBuckets {
		panic("metrics: more than 23 DurationBuckets")
	}
	n := min(max(4*runtime.GOMAXPROCS(0), 4), 32) // 512 bytes per operation per shard
	m := &HTTP{
		ops:      make(map[string]*opMetrics, len(operations)+1),
		inFlight: make([]inFlightShard, n),
	}
	for _, b := range DurationBuckets {
		m.bounds = append(m.bounds, time.Duration(b*float64(time.Second)))
	}
	m.slots.init()
	m.writers.New = func() any {
		return &statusWriter{shard: int(m.next.Add(1)-1) % n}
	}
	for _, op := range slices.Concat(operations, []string{Unknown}) {
		if _, dup := m.ops[op]; dup {
			continue
		}
		om := &opMetrics{name: op, shards: make([]opShard, n)}
		m.ops[op] = om
		m.list = append(m.list, om)
	}
	m.unknown = m.ops[Unknown]

	fam := &family{
		requests: prometheus.NewDesc(prometheus.BuildFQName(namespace, "http", "requests_total"),
			"HTTP requests answered, by operation and status code.", []string{"operation", "code"}, nil),
		duration: prometheus.NewDesc(prometheus.BuildFQName(namespace, "http", "request_duration_seconds"),
			"HTTP request duration in seconds, by operation.", []string{"operation"}, nil),
		inFlight: prometheus.NewDesc(prometheus.BuildFQName(namespace, "http", "requests_in_flight"),
			"HTTP requests being served.", nil, nil),
		buckets: slices.Clone(DurationBuckets),
	}
	if err := reg.Register(fam); err != nil {
		var are prometheus.AlreadyRegisteredError
		existing, ok := fam, false
		if errors.As(err, &are) {
			existing, ok = are.ExistingCollector.(*family)
		}
		if !ok {
			panic(err)
		}
		if !slices.Equal(existing.buckets, fam.buckets) {
			panic(fmt.Sprintf("metrics: the %s_http metrics are already registered with the buckets %v, not DurationBuckets %v", namespace, existing.buckets, fam.buckets))
		}
		fam = existing
	}
	m.fam = fam
	fam.mu.Lock()
	fam.members = append(fam.members, m)
	fam.mu.Unlock()
	return m
}

// codeSlots gives each status code a slot of the shards' code counts, on
// first use; the common codes have theirs from the start, so success and
// error ratios have both series from the first scrape. Pre-creating
// every code would export operations x codes zero series.
type codeSlots struct {
	rare  map[rareKey]uint64 // codes past maxSlots, under mu
	codes []int              // code of each slot, under mu
	mu    sync.Mutex
	index [1000]atomic.Int32 // slot+1 of each code, 0: none yet
}

type rareKey struct {
	op   string
	code int
}

func (c *codeSlots) init() {
	for _, code := range commonCodes {
		c.slot(code)
	}
}

// slot returns the slot of code, giving it one on first use; -1 when
// every slot is taken (or code is not a status code net/http writes).
func (c *codeSlots) slot(code int) int {
	if code < 0 || code >= len(c.index) {
		return -1
	}
	if s := c.index[code].Load(); s != 0 {
		return int(s) - 1
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if s := c.index[code].Load(); s != 0 {
		return int(s) - 1
	}
	if len(c.codes) == maxSlots {
		return -1
	}
	c.codes = append(c.codes, code)
	c.index[code].Store(int32(len(c.codes)))
	return len(c.codes) - 1
}

// countRare counts a request whose code has no slot.
func (c *codeSlots) countRare(op string, code int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.rare == nil {
		c.rare = map[rareKey]uint64{}
	}
	c.rare[rareKey{op, code}]++
}

// family is the collector of the RED metrics of one namespace on one
// registry: the sum of every HTTP made for it.
type family struct {
	requests, duration, inFlight *prometheus.Desc
	buckets                      []float64
	members                      []*HTTP // under mu
	mu                           sync.Mutex
}

func (f *family) Describe(ch chan<- *prometheus.Desc) {
	ch <- f.requests
	ch <- f.duration
	ch <- f.inFlight
}

// opTotals are an operation's counts summed over shards (and members).
type opTotals struct {
	codes   map[int]uint64
	buckets [maxBuckets]uint64
	sum     int64
}

func (f *family) Collect(ch chan<- prometheus.Metric) {
	f.mu.Lock()
	members := slices.Clone(f.members)
	f.mu.Unlock()
	totals := map[string]*opTotals{}
	var names []string
	var inFlight int64
	for _, m := range members {
		for i := range m.inFlight {
			inFlight += m.inFlight[i].n.Load()
		}
		m.slots.mu.Lock()
		codes := slices.Clone(m.slots.codes)
		rare := maps.Clone(m.slots.rare)
		m.slots.mu.Unlock()
		for _, om := range m.list {
			t := totals[om.name]
			if t == nil {
				t = &opTotals{codes: map[int]uint64{}}
				for _, c := range commonCodes {
					t.codes[c] = 0
				}
				totals[om.name] = t
				names = append(names, om.name)
			}
			for i := range om.shards {
				sh := &om.shards[i]
				for s, code := range codes {
					if n := sh.codes[s].Load(); n > 0 {
						t.codes[code] += n
					}
				}
				for b := range len(f.buckets) + 1 {
					t.buckets[b] += sh.buckets[b].Load()
				}
				t.sum += sh.sum.Load()
			}
		}
		for k, n := range rare {
			if t := totals[k.op]; t != nil {
				t.codes[k.code] += n
			}
		}
	}
	for _, name := range names {
		t := totals[name]
		for _, code := range slices.Sorted(maps.Keys(t.codes)) {
			ch <- prometheus.MustNewConstMetric(f.requests, prometheus.CounterValue, float64(t.codes[code]), name, strconv.Itoa(code))
		}
		cum := make(map[float64]uint64, len(f.buckets))
		var count uint64
		for b, upper := range f.buckets {
			count += t.buckets[b]
			cum[upper] = count
		}
		count += t.buckets[len(f.buckets)]
		ch <- prometheus.MustNewConstHistogram(f.duration, count, time.Duration(t.sum).Seconds(), cum, name)
	}
	ch <- prometheus.MustNewConstMetric(f.inFlight, prometheus.GaugeValue, float64(inFlight))
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
		m.inFlight[sw.shard].n.Add(1)
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

// done records one request on its writer's shard. A panicking handler is
// counted as a 500 and the panic goes on to net/http.
func (m *HTTP) done(sw *statusWriter, start time.Time) {
	status, om := sw.status, sw.om
	p := recover()
	if p != nil {
		status = http.StatusInternalServerError
	} else if status == 0 {
		status = http.StatusOK // the handler wrote nothing
	}
	m.record(om, sw.shard, status, time.Since(start))
	m.inFlight[sw.shard].n.Add(-1)
	sw.ResponseWriter, sw.om = nil, nil
	m.writers.Put(sw)
	if p != nil {
		panic(p)
	}
}

// record counts one answer of om with status, which took d, on shard.
func (m *HTTP) record(om *opMetrics, shard, status int, d time.Duration) {
	sh := &om.shards[shard]
	if s := m.slots.slot(status); s >= 0 {
		sh.codes[s].Add(1)
	} else {
		m.slots.countRare(om.name, status)
	}
	b := len(m.bounds) // +Inf
	for i, upper := range m.bounds {
		if d <= upper {
			b = i
			break
		}
	}
	sh.buckets[b].Add(1)
	sh.sum.Add(int64(d))
}

// statusWriter records the status code. Flush passes through, and Unwrap
// lets http.ResponseController reach the connection's other features.
type statusWriter struct {
	http.ResponseWriter
	om     *opMetrics // the operation, Unknown until named
	status int
	shard  int // of the HTTP's counts, for the writer's life
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
