//go:build no_tracing

package cache

import (
	"context"

	"github.com/redis/go-redis/v9"
)

// Without tracing the span helpers do nothing, and the compiler inlines
// them away.

type span struct{}

func (span) end()    {}
func (span) shared() {}

func startGet(ctx context.Context, _ string) (context.Context, span) { return ctx, span{} }

func startGetMany(ctx context.Context, _ string, _ int) (context.Context, span) {
	return ctx, span{}
}

func answeredBy(context.Context, string, bool) {}

func traceRedis(redis.UniversalClient) {}
