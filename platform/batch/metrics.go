package batch

import (
	"fmt"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// sizeBuckets are keys per batch call, 1 to 1024.
var sizeBuckets = prometheus.ExponentialBuckets(1, 2, 11)

// durationBuckets suit one batch query, 100 µs to 1 s (seconds).
var durationBuckets = []float64{.0001, .00025, .0005, .001, .0025, .005, .01, .025, .05, .1, .25, 1}

// Metrics are the batch metrics of a service, shared by all its loaders
// (label loader):
//
//	<ns>_batch_loads_total{loader}             counter: keys asked for (Load, LoadMany)
//	<ns>_batch_calls_total{loader}             counter: batch function calls (queries)
//	<ns>_batch_errors_total{loader}            counter: batch calls that failed
//	<ns>_batch_size{loader}                    histogram: distinct keys per call
//	<ns>_batch_call_duration_seconds{loader}   histogram: time of one call
//
// loads_total / calls_total is how many reads one query serves.
type Metrics struct {
	loads, calls, errors *prometheus.CounterVec
	size, duration       *prometheus.HistogramVec
}

// NewMetrics registers the batch metrics on reg under namespace.
func NewMetrics(reg prometheus.Registerer, namespace string) (*Metrics, error) {
	m := &Metrics{
		loads: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: namespace, Subsystem: "batch",
			Name: "loads_total", Help: "Keys asked for through the loader."}, []string{"loader"}),
		calls: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: namespace, Subsystem: "batch",
			Name: "calls_total", Help: "Calls of the batch function (one query each)."}, []string{"loader"}),
		errors: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: namespace, Subsystem: "batch",
			Name: "errors_total", Help: "Calls of the batch function that failed."}, []string{"loader"}),
		size: prometheus.NewHistogramVec(prometheus.HistogramOpts{Namespace: namespace, Subsystem: "batch",
			Name: "size", Help: "Distinct keys per call of the batch function.",
			Buckets: sizeBuckets}, []string{"loader"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{Namespace: namespace, Subsystem: "batch",
			Name: "call_duration_seconds", Help: "Time of one call of the batch function, in seconds.",
			Buckets: durationBuckets}, []string{"loader"}),
	}
	for _, c := range []prometheus.Collector{m.loads, m.calls, m.errors, m.size, m.duration} {
		if err := reg.Register(c); err != nil {
			return nil, fmt.Errorf("register batch metrics: %w", err)
		}
	}
	return m, nil
}

// loaderMetrics are one loader's children, resolved once.
type loaderMetrics struct {
	loads, calls, errors prometheus.Counter
	size, duration       prometheus.Observer
}

func (m *Metrics) forLoader(name string) loaderMetrics {
	if m == nil {
		m, _ = NewMetrics(prometheus.NewRegistry(), "unregistered")
	}
	return loaderMetrics{
		loads:    m.loads.WithLabelValues(name),
		calls:    m.calls.WithLabelValues(name),
		errors:   m.errors.WithLabelValues(name),
		size:     m.size.WithLabelValues(name),
		duration: m.duration.WithLabelValues(name),
	}
}

func (lm *loaderMetrics) observe(keys int, d time.Duration, err error) {
	lm.calls.Inc()
	lm.size.Observe(float64(keys))
	lm.duration.Observe(d.Seconds())
	if err != nil {
		lm.errors.Inc()
	}
}
