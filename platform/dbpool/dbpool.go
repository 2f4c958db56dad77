// Package dbpool opens the service's pgx connection pool with the preset's
// limits and exports the pool's statistics as Prometheus metrics.
package dbpool

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"regexp"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
)

// PingTimeout bounds the first round trip of New.
const PingTimeout = 5 * time.Second

// Config is the pool's connection string and limits. A zero limit keeps
// pgx's default (MaxConns: max(4, GOMAXPROCS); no MinConns; 1 h lifetime;
// 30 min idle time; 1 min health checks).
type Config struct {
	// URL is a postgres:// URL or a key=value connection string; its own
	// pool_* parameters are overridden by the non-zero fields below.
	URL string
	// MaxConnLifetime recycles connections, so load balancers and failovers
	// see new ones; each gets up to 10% random jitter so they do not all
	// reconnect at once.
	MaxConnLifetime time.Duration
	// MaxConnIdleTime closes connections idle for longer.
	MaxConnIdleTime time.Duration
	// HealthCheckPeriod is how often idle connections are checked.
	HealthCheckPeriod time.Duration
	// MaxConns caps open connections per replica.
	MaxConns int32
	// MinConns are kept open and warm.
	MinConns int32
}

// New parses cfg.URL, applies the limits, opens the pool and pings the
// database within PingTimeout. Errors name the setting at fault and show the
// URL with its password redacted.
func New(ctx context.Context, cfg Config) (*pgxpool.Pool, error) {
	if cfg.URL == "" {
		return nil, errors.New("dbpool: database URL is empty")
	}
	where := Redact(cfg.URL)
	pc, err := pgxpool.ParseConfig(cfg.URL)
	if err != nil {
		return nil, fmt.Errorf("dbpool: parse database URL %s: %w", where, err)
	}
	switch {
	case cfg.MaxConns < 0:
		return nil, fmt.Errorf("dbpool: MaxConns %d: must be >= 0", cfg.MaxConns)
	case cfg.MinConns < 0:
		return nil, fmt.Errorf("dbpool: MinConns %d: must be >= 0", cfg.MinConns)
	case cfg.MaxConnLifetime < 0 || cfg.MaxConnIdleTime < 0 || cfg.HealthCheckPeriod < 0:
		return nil, fmt.Errorf("dbpool: MaxConnLifetime %v, MaxConnIdleTime %v, HealthCheckPeriod %v: durations must be >= 0",
			cfg.MaxConnLifetime, cfg.MaxConnIdleTime, cfg.HealthCheckPeriod)
	}
	if cfg.MaxConns > 0 {
		pc.MaxConns = cfg.MaxConns
	}
	if cfg.MinConns > 0 {
		pc.MinConns = cfg.MinConns
	}
	if pc.MinConns > pc.MaxConns {
		return nil, fmt.Errorf("dbpool: MinConns %d is above MaxConns %d", pc.MinConns, pc.MaxConns)
	}
	if cfg.MaxConnLifetime > 0 {
		pc.MaxConnLifetime = cfg.MaxConnLifetime
		pc.MaxConnLifetimeJitter = cfg.MaxConnLifetime / 10
	}
	if cfg.MaxConnIdleTime > 0 {
		pc.MaxConnIdleTime = cfg.MaxConnIdleTime
	}
	if cfg.HealthCheckPeriod > 0 {
		pc.HealthCheckPeriod = cfg.HealthCheckPeriod
	}
	traceQueries(pc)

	pool, err := pgxpool.NewWithConfig(ctx, pc)
	if err != nil {
		return nil, fmt.Errorf("dbpool: open pool for %s: %w", where, err)
	}
	pctx, cancel := context.WithTimeout(ctx, PingTimeout)
	defer cancel()
	if err := pool.Ping(pctx); err != nil {
		pool.Close()
		return nil, fmt.Errorf("dbpool: ping %s (within %v): %w", where, PingTimeout, err)
	}
	return pool, nil
}

var kvPassword = regexp.MustCompile(`(?i)(password\s*=\s*)('(?:[^'\\]|\\.)*'|\S+)`)

// Redact returns the connection string with its password replaced by
// "xxxxx", for errors and logs.
func Redact(connString string) string {
	if u, err := url.Parse(connString); err == nil && u.Scheme != "" {
		q := u.Query()
		if q.Has("password") {
			q.Set("password", "xxxxx")
			u.RawQuery = q.Encode()
		}
		return u.Redacted()
	}
	return kvPassword.ReplaceAllString(connString, "${1}xxxxx")
}
