package cache

import (
	"fmt"
	"net/url"
	"time"

	"github.com/redis/go-redis/v9"
)

// NewRedis returns a Redis client for rawURL (REDIS_URL):
//
//	redis://[user:pass@]host:6379/0                    one server (rediss:// for TLS)
//	redis://host1:6379?addr=host2:6379&addr=host3:6379 Redis Cluster, seeded from the hosts listed
//
// Every call honours its context's deadline (the cache budget), so a slow
// Redis costs a request at most the budget before the cache falls back to
// the database.
func NewRedis(rawURL string) (redis.UniversalClient, error) {
	u, err := url.Parse(rawURL)
	if err != nil {
		return nil, fmt.Errorf("REDIS_URL: %w", err)
	}
	if u.Query().Has("addr") {
		opt, err := redis.ParseClusterURL(rawURL)
		if err != nil {
			return nil, fmt.Errorf("REDIS_URL: %w", err)
		}
		opt.ContextTimeoutEnabled = true
		if opt.DialTimeout == 0 {
			opt.DialTimeout = time.Second
		}
		c := redis.NewClusterClient(opt)
		traceRedis(c)
		return c, nil
	}
	opt, err := redis.ParseURL(rawURL)
	if err != nil {
		return nil, fmt.Errorf("REDIS_URL: %w", err)
	}
	opt.ContextTimeoutEnabled = true
	opt.DialTimeout = time.Second
	c := redis.NewClient(opt)
	traceRedis(c)
	return c, nil
}
