package partition

import (
	"errors"
	"fmt"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// metrics of the job, per table:
//
//	<ns>_partition_runs_total{table,result}            counter (ok, error, skipped)
//	<ns>_partition_created_total{table}                counter
//	<ns>_partition_dropped_total{table}                counter
//	<ns>_partition_partitions{table}                   gauge, partitions named by the job
//	<ns>_partition_run_duration_seconds{table}         histogram
//	<ns>_partition_last_success_timestamp_seconds{table} gauge
type metrics struct {
	runs        *prometheus.CounterVec
	created     *prometheus.CounterVec
	dropped     *prometheus.CounterVec
	partitions  *prometheus.GaugeVec
	duration    *prometheus.HistogramVec
	lastSuccess *prometheus.GaugeVec
}

func newMetrics(reg prometheus.Registerer, namespace string) (*metrics, error) {
	opts := func(name, help string) prometheus.Opts {
		return prometheus.Opts{Namespace: namespace, Subsystem: "partition", Name: name, Help: help}
	}
	m := &metrics{
		runs:       prometheus.NewCounterVec(prometheus.CounterOpts(opts("runs_total", "Partition upkeep runs by result: ok, error, skipped (another replica held the lock).")), []string{"table", "result"}),
		created:    prometheus.NewCounterVec(prometheus.CounterOpts(opts("created_total", "Partitions created.")), []string{"table"}),
		dropped:    prometheus.NewCounterVec(prometheus.CounterOpts(opts("dropped_total", "Partitions detached and dropped past retention.")), []string{"table"}),
		partitions: prometheus.NewGaugeVec(prometheus.GaugeOpts(opts("partitions", "Partitions of the table seen by the last run (the default partition not counted).")), []string{"table"}),
		lastSuccess: prometheus.NewGaugeVec(prometheus.GaugeOpts(opts("last_success_timestamp_seconds",
			"Unix time of the last run that succeeded.")), []string{"table"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Namespace: namespace, Subsystem: "partition", Name: "run_duration_seconds",
			Help:    "Duration of partition upkeep runs.",
			Buckets: []float64{.005, .01, .05, .1, .5, 1, 5, 30, 120},
		}, []string{"table"}),
	}
	if reg == nil {
		return m, nil
	}
	var err error
	m.runs = register(reg, m.runs, &err)
	m.created = register(reg, m.created, &err)
	m.dropped = register(reg, m.dropped, &err)
	m.partitions = register(reg, m.partitions, &err)
	m.lastSuccess = register(reg, m.lastSuccess, &err)
	m.duration = register(reg, m.duration, &err)
	if err != nil {
		return nil, fmt.Errorf("partition metrics: %w", err)
	}
	return m, nil
}

// register adds c to reg, or returns the collector already registered
// under its name (a second Maintainer on the same registry shares it).
func register[C prometheus.Collector](reg prometheus.Registerer, c C, errp *error) C {
	err := reg.Register(c)
	if err == nil {
		return c
	}
	var are prometheus.AlreadyRegisteredError
	if errors.As(err, &are) {
		if existing, ok := are.ExistingCollector.(C); ok {
			return existing
		}
	}
	*errp = errors.Join(*errp, err)
	return c
}

func (m *metrics) observe(table string, res Result, err error, d time.Duration) {
	result := "ok"
	switch {
	case err != nil:
		result = "error"
	case res.Skipped:
		result = "skipped"
	}
	m.runs.WithLabelValues(table, result).Inc()
	m.created.WithLabelValues(table).Add(float64(len(res.Created)))
	m.dropped.WithLabelValues(table).Add(float64(len(res.Dropped)))
	if result == "skipped" {
		return
	}
	m.duration.WithLabelValues(table).Observe(d.Seconds())
	if err == nil {
		m.lastSuccess.WithLabelValues(table).SetToCurrentTime()
	}
}
