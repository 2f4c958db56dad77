//go:build !no_tracing

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

// span is the span of one cache read.
type span struct{ s trace.Span }

func (s span) end() { s.s.End() }

// shared records that another caller's fill answered (singleflight): its
// span has the tier and the Redis and database spans.
func (s span) shared() {
	if s.s.IsRecording() {
		s.s.SetAttributes(attrCacheShared.Bool(true))
	}
}

// startGet starts the cache.Get span under a sampled request, saying which
// tier answered (cache.tier: l1, l2 or db); nothing otherwise
// (tracing.StartSpan).
func startGet(ctx context.Context, name string) (context.Context, span) {
	ctx, s := tracing.StartSpan(ctx, "cache.Get")
	if s.IsRecording() {
		s.SetAttributes(attrCacheName.String(name))
	}
	return ctx, span{s}
}

// startGetMany starts the cache.GetMany span of n keys.
func startGetMany(ctx context.Context, name string, n int) (context.Context, span) {
	ctx, s := tracing.StartSpan(ctx, "cache.GetMany")
	if s.IsRecording() {
		s.SetAttributes(attrCacheName.String(name), attrCacheKeys.Int(n))
	}
	return ctx, span{s}
}

// answeredBy records on ctx's span (the cache.Get span, when recording)
// which tier answered.
func answeredBy(ctx context.Context, tier string, found bool) {
	if s := trace.SpanFromContext(ctx); s.IsRecording() {
		s.SetAttributes(attrCacheTier.String(tier), attrCacheFound.Bool(found))
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
