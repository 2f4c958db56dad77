// Package cache keeps items and prices in Redis.
package cache

import (
	"context"
	"time"

	"github.com/redis/go-redis/v9"
)

// Cache is a Redis cache.
type Cache struct {
	rdb redis.UniversalClient
}

// New returns a Cache on rdb.
func New(rdb redis.UniversalClient) *Cache { return &Cache{rdb: rdb} }

// Get returns a cached value.
func (c *Cache) Get(ctx context.Context, key string) ([]byte, bool) {
	b, err := c.rdb.Get(ctx, key).Bytes()
	return b, err == nil
}

// Set caches a value for a minute.
func (c *Cache) Set(ctx context.Context, key string, v []byte) {
	c.rdb.Set(ctx, key, v, time.Minute)
}

// Prices reads many prices in one pipeline.
func (c *Cache) Prices(ctx context.Context, ids []string) map[string]string {
	pipe := c.rdb.Pipeline()
	cmds := make([]*redis.StringCmd, len(ids))
	for i, id := range ids {
		cmds[i] = pipe.Get(ctx, "price:"+id)
	}
	_, _ = pipe.Exec(ctx)
	out := make(map[string]string, len(ids))
	for i, cmd := range cmds {
		if v, err := cmd.Result(); err == nil {
			out[ids[i]] = v
		}
	}
	return out
}

// Warm extends the keys' expiry, one command each.
func (c *Cache) Warm(ctx context.Context, keys []string) {
	for _, k := range keys {
		c.rdb.Expire(ctx, k, time.Hour) // want: batch
	}
}
