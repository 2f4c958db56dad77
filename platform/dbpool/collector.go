package dbpool

import (
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/prometheus/client_golang/prometheus"
)

// collector reads pgxpool.Stat() at every scrape.
type collector struct {
	pool *pgxpool.Pool

	acquired, idle, total, constructing, max *prometheus.Desc

	acquires, acquireSeconds, emptyAcquires, emptyWaitSeconds, canceledAcquires,
	newConns, lifetimeDestroys, idleDestroys *prometheus.Desc
}

// NewCollector exports the pool's statistics under <namespace>_db_pool_*:
// gauges for the connections now (acquired, idle, constructing, total, max)
// and counters since start (acquires and their total wait, acquires that
// found the pool empty, canceled acquires, new connections, connections
// closed for age or idleness). Register it on the service's registry.
func NewCollector(pool *pgxpool.Pool, namespace string) prometheus.Collector {
	d := func(name, help string) *prometheus.Desc {
		return prometheus.NewDesc(prometheus.BuildFQName(namespace, "db_pool", name), help, nil, nil)
	}
	return &collector{
		pool:             pool,
		acquired:         d("acquired_conns", "Connections in use."),
		idle:             d("idle_conns", "Idle connections."),
		constructing:     d("constructing_conns", "Connections being opened."),
		total:            d("total_conns", "Open connections: acquired, idle and constructing."),
		max:              d("max_conns", "Pool size limit."),
		acquires:         d("acquires_total", "Connections acquired from the pool."),
		acquireSeconds:   d("acquire_duration_seconds_total", "Total time spent acquiring connections, in seconds."),
		emptyAcquires:    d("empty_acquires_total", "Acquires that had to wait for a connection, the pool being empty."),
		emptyWaitSeconds: d("empty_acquire_wait_seconds_total", "Total time acquires waited on an empty pool, in seconds."),
		canceledAcquires: d("canceled_acquires_total", "Acquires canceled by their context."),
		newConns:         d("new_conns_total", "Connections opened."),
		lifetimeDestroys: d("max_lifetime_destroys_total", "Connections closed for reaching MaxConnLifetime."),
		idleDestroys:     d("max_idle_destroys_total", "Connections closed for reaching MaxConnIdleTime."),
	}
}

func (c *collector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range c.descs() {
		ch <- d
	}
}

func (c *collector) descs() []*prometheus.Desc {
	return []*prometheus.Desc{c.acquired, c.idle, c.constructing, c.total, c.max,
		c.acquires, c.acquireSeconds, c.emptyAcquires, c.emptyWaitSeconds, c.canceledAcquires,
		c.newConns, c.lifetimeDestroys, c.idleDestroys}
}

func (c *collector) Collect(ch chan<- prometheus.Metric) {
	s := c.pool.Stat()
	g := func(d *prometheus.Desc, v float64) { ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, v) }
	n := func(d *prometheus.Desc, v float64) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.CounterValue, v)
	}
	g(c.acquired, float64(s.AcquiredConns()))
	g(c.idle, float64(s.IdleConns()))
	g(c.constructing, float64(s.ConstructingConns()))
	g(c.total, float64(s.TotalConns()))
	g(c.max, float64(s.MaxConns()))
	n(c.acquires, float64(s.AcquireCount()))
	n(c.acquireSeconds, s.AcquireDuration().Seconds())
	n(c.emptyAcquires, float64(s.EmptyAcquireCount()))
	n(c.emptyWaitSeconds, s.EmptyAcquireWaitTime().Seconds())
	n(c.canceledAcquires, float64(s.CanceledAcquireCount()))
	n(c.newConns, float64(s.NewConnsCount()))
	n(c.lifetimeDestroys, float64(s.MaxLifetimeDestroyCount()))
	n(c.idleDestroys, float64(s.MaxIdleDestroyCount()))
}
