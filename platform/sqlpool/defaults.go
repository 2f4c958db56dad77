//go:build !service

package sqlpool

import "time"

// The preset's numbers reach a service in its defaults.go, rendered from
// templates/adopt/sqlpool; this stands in for it in svcgen's own tree (the
// read-heavy preset's dbpool params).

// Default returns the pool limits: 25 connections, all kept idle
// (database/sql has no minimum, so a warm pool is an idle one), recycled
// after 5m, closed after 10m idle.
func Default() Config {
	return Config{
		MaxOpenConns:    25,
		MaxIdleConns:    25,
		ConnMaxLifetime: 5 * time.Minute,
		ConnMaxIdleTime: 10 * time.Minute,
	}
}
