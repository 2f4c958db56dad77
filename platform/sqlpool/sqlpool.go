// Package sqlpool sizes a database/sql pool and exports its statistics.
// It works with any driver (lib/pq, pgx's stdlib, go-sql-driver/mysql,
// SQLite, ...) and with sqlx, whose *sqlx.DB embeds *sql.DB:
//
//	db, err := sql.Open("mysql", dsn)
//	...
//	sqlpool.Configure(db, sqlpool.Default())
//	reg.MustRegister(sqlpool.NewCollector(db, "my_service"))
//
// database/sql's defaults are an unlimited number of open connections,
// two idle ones and no lifetime: under load the service opens connections
// until the database refuses them, then closes all but two.
package sqlpool

import (
	"database/sql"
	"fmt"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Config are the pool's limits.
type Config struct {
	// MaxOpenConns caps the connections open at once (in use + idle).
	MaxOpenConns int
	// MaxIdleConns is how many idle connections are kept; at most
	// MaxOpenConns.
	MaxIdleConns int
	// ConnMaxLifetime recycles a connection after this long (0: never),
	// so a failover or a load balancer's rebalancing reaches every replica.
	ConnMaxLifetime time.Duration
	// ConnMaxIdleTime closes a connection idle for this long (0: never).
	ConnMaxIdleTime time.Duration
}

// Default (defaults.go) returns the preset's dbpool params.

// Validate reports a limit that would leave the pool unbounded or unable
// to keep a connection.
func (c Config) Validate() error {
	switch {
	case c.MaxOpenConns <= 0:
		return fmt.Errorf("sqlpool: MaxOpenConns %d: set a positive limit (database/sql treats 0 as unlimited)", c.MaxOpenConns)
	case c.MaxIdleConns <= 0 || c.MaxIdleConns > c.MaxOpenConns:
		return fmt.Errorf("sqlpool: MaxIdleConns %d: use 1 to MaxOpenConns (%d)", c.MaxIdleConns, c.MaxOpenConns)
	case c.ConnMaxLifetime < 0 || c.ConnMaxIdleTime < 0:
		return fmt.Errorf("sqlpool: ConnMaxLifetime %v, ConnMaxIdleTime %v: use 0 (never) or a positive duration", c.ConnMaxLifetime, c.ConnMaxIdleTime)
	}
	return nil
}

// Configure applies cfg to db after checking it.
func Configure(db *sql.DB, cfg Config) error {
	if err := cfg.Validate(); err != nil {
		return err
	}
	db.SetMaxOpenConns(cfg.MaxOpenConns)
	db.SetMaxIdleConns(cfg.MaxIdleConns)
	db.SetConnMaxLifetime(cfg.ConnMaxLifetime)
	db.SetConnMaxIdleTime(cfg.ConnMaxIdleTime)
	return nil
}

// Collector exports db.Stats() as Prometheus metrics:
//
//	<ns>_db_connections{state="in_use|idle"}        gauge
//	<ns>_db_max_open_connections                    gauge
//	<ns>_db_wait_total, <ns>_db_wait_seconds_total  counters (waits for a free connection)
//	<ns>_db_closed_total{reason="max_idle|max_idle_time|max_lifetime"} counter
type Collector struct {
	db                              *sql.DB
	conns, maxOpen, waits, waitSecs *prometheus.Desc
	closed                          *prometheus.Desc
}

// NewCollector returns the collector of db's pool under namespace.
func NewCollector(db *sql.DB, namespace string) *Collector {
	d := func(name, help string, labels ...string) *prometheus.Desc {
		return prometheus.NewDesc(prometheus.BuildFQName(namespace, "db", name), help, labels, nil)
	}
	return &Collector{
		db:       db,
		conns:    d("connections", "Open connections by state.", "state"),
		maxOpen:  d("max_open_connections", "The pool's connection limit."),
		waits:    d("wait_total", "Times a query waited for a free connection."),
		waitSecs: d("wait_seconds_total", "Seconds spent waiting for a free connection."),
		closed:   d("closed_total", "Connections closed by the pool, by reason.", "reason"),
	}
}

// Describe implements prometheus.Collector.
func (c *Collector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{c.conns, c.maxOpen, c.waits, c.waitSecs, c.closed} {
		ch <- d
	}
}

// Collect implements prometheus.Collector.
func (c *Collector) Collect(ch chan<- prometheus.Metric) {
	s := c.db.Stats()
	ch <- prometheus.MustNewConstMetric(c.conns, prometheus.GaugeValue, float64(s.InUse), "in_use")
	ch <- prometheus.MustNewConstMetric(c.conns, prometheus.GaugeValue, float64(s.Idle), "idle")
	ch <- prometheus.MustNewConstMetric(c.maxOpen, prometheus.GaugeValue, float64(s.MaxOpenConnections))
	ch <- prometheus.MustNewConstMetric(c.waits, prometheus.CounterValue, float64(s.WaitCount))
	ch <- prometheus.MustNewConstMetric(c.waitSecs, prometheus.CounterValue, s.WaitDuration.Seconds())
	ch <- prometheus.MustNewConstMetric(c.closed, prometheus.CounterValue, float64(s.MaxIdleClosed), "max_idle")
	ch <- prometheus.MustNewConstMetric(c.closed, prometheus.CounterValue, float64(s.MaxIdleTimeClosed), "max_idle_time")
	ch <- prometheus.MustNewConstMetric(c.closed, prometheus.CounterValue, float64(s.MaxLifetimeClosed), "max_lifetime")
}
