//go:build !no_tracing

package dbpool

import (
	"github.com/exaring/otelpgx"
	"github.com/jackc/pgx/v5/pgxpool"
	metricnoop "go.opentelemetry.io/otel/metric/noop"

	"github.com/svcgen/svcgen/platform/tracing"
)

// traceQueries adds a span per query, acquire and batch under a sampled
// request (otelpgx) when tracing is installed. Not installed without
// tracing: it would still time every query for its metrics, which
// Prometheus has (collector.go).
func traceQueries(pc *pgxpool.Config) {
	if tracing.Installed() {
		pc.ConnConfig.Tracer = otelpgx.NewTracer(otelpgx.WithMeterProvider(metricnoop.NewMeterProvider()))
	}
}
