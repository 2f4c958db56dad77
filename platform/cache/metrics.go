package cache

import (
	"fmt"

	"github.com/prometheus/client_golang/prometheus"
)

// Tiers, the values of the tier label.
const (
	TierL1 = "l1" // in-process memory
	TierL2 = "l2" // Redis
	TierDB = "db" // the store's loader (Postgres)
)

// durationBuckets suit Redis and database calls, 100 µs to 1 s (seconds).
var durationBuckets = []float64{.0001, .00025, .0005, .001, .0025, .005, .01, .025, .05, .1, .25, 1}

// Metrics are the cache metrics of a service, shared by all its caches
// (label cache):
//
//	<ns>_cache_hits_total{cache,tier}                 counter
//	<ns>_cache_misses_total{cache,tier}               counter (db: the key does not exist)
//	<ns>_cache_errors_total{cache,tier}               counter
//	<ns>_cache_lookup_duration_seconds{cache,tier}    histogram (l2, db)
//	<ns>_cache_invalidations_sent_total{cache}        counter
//	<ns>_cache_invalidations_received_total{cache}    counter
//	<ns>_cache_invalidations_late_total{cache}        counter: keys of failed writes invalidated again (InvalidateWrite)
//	<ns>_cache_degraded{cache}                        gauge: 1 while Redis is unavailable
//	<ns>_cache_stale_served_total{cache}              counter: entries due for revalidation served because the reload failed
//
// The L1 lookup is not timed: it takes about as long as reading the clock;
// the package benchmark measures it.
type Metrics struct {
	hits, misses, errors *prometheus.CounterVec
	duration             *prometheus.HistogramVec
	sent, received, late *prometheus.CounterVec
	stale                *prometheus.CounterVec
	degraded             *prometheus.GaugeVec
}

// NewMetrics registers the cache metrics on reg under namespace.
func NewMetrics(reg prometheus.Registerer, namespace string) (*Metrics, error) {
	m := &Metrics{
		hits: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: namespace, Subsystem: "cache",
			Name: "hits_total", Help: "Cache lookups answered by the tier."}, []string{"cache", "tier"}),
		misses: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: namespace, Subsystem: "cache",
			Name: "misses_total", Help: "Cache lookups the tier could not answer (for db: the key does not exist)."}, []string{"cache", "tier"}),
		errors: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: namespace, Subsystem: "cache",
			Name: "errors_total", Help: "Failed calls to the tier."}, []string{"cache", "tier"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{Namespace: namespace, Subsystem: "cache",
			Name: "lookup_duration_seconds", Help: "Time of one lookup in the tier, in seconds.",
			Buckets: durationBuckets}, []string{"cache", "tier"}),
		sent: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: namespace, Subsystem: "cache",
			Name: "invalidations_sent_total", Help: "Keys invalidated by this replica (deleted from Redis and published)."}, []string{"cache"}),
		received: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: namespace, Subsystem: "cache",
			Name: "invalidations_received_total", Help: "Invalidation messages received from Redis pub/sub."}, []string{"cache"}),
		late: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: namespace, Subsystem: "cache",
			Name: "invalidations_late_total", Help: "Keys of failed writes invalidated once more, LateCommit after the write, in case it committed after all."}, []string{"cache"}),
		stale: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: namespace, Subsystem: "cache",
			Name: "stale_served_total", Help: "Entries due for revalidation served from memory because reloading them failed."}, []string{"cache"}),
		degraded: prometheus.NewGaugeVec(prometheus.GaugeOpts{Namespace: namespace, Subsystem: "cache",
			Name: "degraded", Help: "1 while Redis is unavailable and reads are served from L1 and the database."}, []string{"cache"}),
	}
	for _, c := range []prometheus.Collector{m.hits, m.misses, m.errors, m.duration, m.sent, m.received, m.late, m.stale, m.degraded} {
		if err := reg.Register(c); err != nil {
			return nil, fmt.Errorf("register cache metrics: %w", err)
		}
	}
	return m, nil
}

// tierMetrics are one tier's children, resolved once.
type tierMetrics struct {
	hits, misses, errors prometheus.Counter
	duration             prometheus.Observer
}

// cacheMetrics are one cache's children, resolved once so that a lookup
// allocates nothing to record itself.
type cacheMetrics struct {
	sent, received, late, stale prometheus.Counter
	degraded                    prometheus.Gauge
	l1, l2, db                  tierMetrics
}

func (m *Metrics) forCache(name string) *cacheMetrics {
	if m == nil {
		m, _ = NewMetrics(prometheus.NewRegistry(), "unregistered")
	}
	tier := func(t string) tierMetrics {
		return tierMetrics{
			hits:     m.hits.WithLabelValues(name, t),
			misses:   m.misses.WithLabelValues(name, t),
			errors:   m.errors.WithLabelValues(name, t),
			duration: m.duration.WithLabelValues(name, t),
		}
	}
	cm := &cacheMetrics{
		sent:     m.sent.WithLabelValues(name),
		received: m.received.WithLabelValues(name),
		late:     m.late.WithLabelValues(name),
		stale:    m.stale.WithLabelValues(name),
		degraded: m.degraded.WithLabelValues(name),
		l1:       tier(TierL1),
		l2:       tier(TierL2),
		db:       tier(TierDB),
	}
	// L1 is neither timed nor able to fail: export no series that stay at zero.
	m.duration.DeleteLabelValues(name, TierL1)
	m.errors.DeleteLabelValues(name, TierL1)
	return cm
}
