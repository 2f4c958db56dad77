package store

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/redis/go-redis/v9"

	"example.com/golden-read-heavy/internal/platform/cache"
)

// TestCachedStore runs the store's own tests (exerciseStore) through the
// 3-tier cache, against a real PostgreSQL (see testDB) and a real Redis:
// REDIS_URL, else SVCGEN_TEST_REDIS_URL, else redis://127.0.0.1:6379/0. The
// cache's behaviour itself (the tiers, misses batched into one query, a
// stampede on one key, invalidation across replicas, Redis down or slow,
// writes whose outcome is unknown, recovery) is tested in
// internal/platform/cache, which svcgen keeps up to date on regen; the
// helpers here also serve cached_bench_test.go.

func redisURL() string {
	for _, v := range []string{"REDIS_URL", "SVCGEN_TEST_REDIS_URL"} {
		if u := os.Getenv(v); u != "" {
			return u
		}
	}
	return "redis://127.0.0.1:6379/0"
}

// testRedis returns a client on the test Redis, or fails the test saying
// how to start one.
func testRedis(tb testing.TB, rawURL string) redis.UniversalClient {
	tb.Helper()
	rdb, err := cache.NewRedis(rawURL)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { _ = rdb.Close() })
	return rdb
}

func requireRedis(tb testing.TB) redis.UniversalClient {
	tb.Helper()
	rdb := testRedis(tb, redisURL())
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := rdb.Ping(ctx).Err(); err != nil {
		tb.Fatalf("cannot reach Redis at %s: %v\n"+
			"start one with `docker compose up -d redis` (or point REDIS_URL at a Redis server)", redisURL(), err)
	}
	return rdb
}

// testCacheConfig has a key prefix of its own per test, so tests never see
// each other's keys.
func testCacheConfig() cache.Config {
	return cache.Config{
		Prefix:        fmt.Sprintf("test:%d:", time.Now().UnixNano()),
		L1Size:        100_000,
		L1TTL:         30 * time.Second,
		L2TTL:         5 * time.Minute,
		NegativeTTL:   5 * time.Second,
		Jitter:        0.1,
		Budget:        50 * time.Millisecond,
		RetryInterval: 50 * time.Millisecond,
	}
}

// counting counts the queries that reach the wrapped store.
type counting struct {
	Store
	batchIDs [][]int64
	delay    time.Duration
	gets     atomic.Int64
	batches  atomic.Int64
	writes   atomic.Int64
	mu       sync.Mutex
}

func (c *counting) GetItem(ctx context.Context, id int64) (Item, error) {
	c.gets.Add(1)
	if c.delay > 0 {
		time.Sleep(c.delay)
	}
	return c.Store.GetItem(ctx, id)
}

func (c *counting) GetItems(ctx context.Context, ids []int64) ([]Item, error) {
	c.batches.Add(1)
	c.mu.Lock()
	c.batchIDs = append(c.batchIDs, slices.Clone(ids))
	c.mu.Unlock()
	return c.Store.GetItems(ctx, ids)
}

func (c *counting) CreateItem(ctx context.Context, in ItemInput) (Item, error) {
	c.writes.Add(1)
	return c.Store.CreateItem(ctx, in)
}

func (c *counting) UpdateItem(ctx context.Context, id int64, in ItemInput) (Item, error) {
	c.writes.Add(1)
	return c.Store.UpdateItem(ctx, id, in)
}

// queries counts the reads that reached the database.
func (c *counting) queries() int64 { return c.gets.Load() + c.batches.Load() }

func (c *counting) reset() {
	c.gets.Store(0)
	c.batches.Store(0)
	c.writes.Store(0)
}

// instance is one replica's cached store over the shared database.
type instance struct {
	*Cached
	db  *counting
	reg *prometheus.Registry
}

func newInstance(tb testing.TB, next Store, rdb redis.UniversalClient, cfg cache.Config) *instance {
	tb.Helper()
	reg := prometheus.NewRegistry()
	m, err := cache.NewMetrics(reg, "test")
	if err != nil {
		tb.Fatal(err)
	}
	db := &counting{Store: next}
	c, err := NewCached(db, rdb, cfg, m, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() {
		_ = c.Close()
		if rdb != nil { // the invalidation log has no TTL
			_ = rdb.Del(context.Background(), cfg.Prefix+"item#log").Err()
		}
	})
	return &instance{Cached: c, db: db, reg: reg}
}

func mustCreate(tb testing.TB, s Store, name string) Item {
	tb.Helper()
	it, err := s.CreateItem(context.Background(), ItemInput{Name: name, Quantity: 1, Price: 100})
	if err != nil {
		tb.Fatal(err)
	}
	return it
}

func TestCachedStore(t *testing.T) {
	rdb := requireRedis(t)
	exerciseStore(t, newInstance(t, NewPostgres(testDB(t), 2*time.Second), rdb, testCacheConfig()))
}
