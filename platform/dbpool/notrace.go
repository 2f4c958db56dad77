//go:build no_tracing

package dbpool

import "github.com/jackc/pgx/v5/pgxpool"

// traceQueries does nothing without tracing: queries get no spans.
func traceQueries(*pgxpool.Config) {}
