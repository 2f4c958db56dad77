//go:build !no_tracing

package realtime

import (
	"github.com/redis/go-redis/extra/redisotel/v9"
	"github.com/redis/go-redis/v9"

	"github.com/svcgen/svcgen/platform/tracing"
)

// traceRedis adds a client span per Redis command and pipeline (redisotel)
// when tracing is installed (internal/platform/tracing); without it the
// client gets no hook and pays nothing.
func traceRedis(c redis.UniversalClient) {
	if !tracing.Installed() {
		return
	}
	// InstrumentTracing fails only on a client type it does not know; the
	// constructors here build *redis.Client and *redis.ClusterClient.
	_ = redisotel.InstrumentTracing(c, redisotel.WithDBStatement(false))
}
