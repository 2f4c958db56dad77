{{- if .Feature "tracing"}}
{{.Header}}

package cache

import (
	"context"

	"github.com/redis/go-redis/extra/redisotel/v9"
	"github.com/redis/go-redis/v9"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/trace"

	"github.com/svcgen/svcgen/platform/tracing"
)

// The attributes of the cache spans (cache.Get, cache.GetMany).
const (
	attrCacheName   = attribute.Key("cache.name")
	attrCacheTier   = attribute.Key("cache.tier")  // l1, l2 or db: the tier that answered
	attrCacheFound  = attribute.Key("cache.found") // false: a cached or loaded "not found"
	attrCacheShared = attribute.Key("cache.shared")
	attrCacheKeys   = attribute.Key("cache.keys")
)

// The tiers, as cache.tier says them.
const (
	tierL1 = "l1"
	tierL2 = "l2"
	tierDB = "db" // a miss in both caches: the loader answered
)

// answeredBy records on ctx's span (the cache.Get span, when recording)
// which tier answered.
func answeredBy(ctx context.Context, tier string, found bool) {
	if span := trace.SpanFromContext(ctx); span.IsRecording() {
		span.SetAttributes(attrCacheTier.String(tier), attrCacheFound.Bool(found))
	}
}

// traceRedis adds a client span per Redis command and pipeline (redisotel)
// when tracing is installed (internal/platform/tracing); without it the
// client gets no hook and pays nothing.
func traceRedis(c redis.UniversalClient) {
	if !tracing.Installed() {
		return
	}
	// InstrumentTracing fails only on a client type it does not know;
	// NewRedis builds *redis.Client and *redis.ClusterClient.
	_ = redisotel.InstrumentTracing(c, redisotel.WithDBStatement(false))
}
{{- end}}
