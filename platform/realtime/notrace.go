//go:build no_tracing

package realtime

import "github.com/redis/go-redis/v9"

// traceRedis does nothing without tracing: Redis commands get no spans.
func traceRedis(redis.UniversalClient) {}
