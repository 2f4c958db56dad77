package cache

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
	"github.com/redis/go-redis/v9"
)

// The tests below run a Cache the way a service's store uses it: in front
// of a real PostgreSQL table (newItemDB) and a real Redis, two or three
// replicas sharing both, with Redis cut off or slowed down by a TCP proxy
// of the test's own. They are the cache's behaviour tests, so they ship
// with the package and change with it on every regen.

// item is a row of the test table.
type item struct {
	UpdatedAt time.Time
	Name      string
	ID        int64
	Price     int64
	Quantity  int32
}

// itemInput is what a write sets.
type itemInput struct {
	Name     string
	Price    int64
	Quantity int32
}

var errItemNotFound = errors.New("item not found")

// itemStore is the source of truth behind the cache.
type itemStore interface {
	GetItem(ctx context.Context, id int64) (item, error)
	GetItems(ctx context.Context, ids []int64) ([]item, error)
	CreateItem(ctx context.Context, in itemInput) (item, error)
	UpdateItem(ctx context.Context, id int64, in itemInput) (item, error)
	Ping(ctx context.Context) error
}

// itemDB is itemStore on a table of a database of the test's own.
type itemDB struct{ pool *pgxpool.Pool }

const itemColumns = "id, name, price, quantity, updated_at"

func scanItem(row pgx.Row) (item, error) {
	var it item
	err := row.Scan(&it.ID, &it.Name, &it.Price, &it.Quantity, &it.UpdatedAt)
	if errors.Is(err, pgx.ErrNoRows) {
		return item{}, errItemNotFound
	}
	return it, err
}

func (db itemDB) GetItem(ctx context.Context, id int64) (item, error) {
	return scanItem(db.pool.QueryRow(ctx, "SELECT "+itemColumns+" FROM items WHERE id = $1", id))
}

func (db itemDB) GetItems(ctx context.Context, ids []int64) ([]item, error) {
	rows, err := db.pool.Query(ctx, "SELECT "+itemColumns+" FROM items WHERE id = ANY($1)", ids)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (item, error) { return scanItem(r) })
}

func (db itemDB) CreateItem(ctx context.Context, in itemInput) (item, error) {
	return scanItem(db.pool.QueryRow(ctx, "INSERT INTO items (name, price, quantity) VALUES ($1, $2, $3) RETURNING "+itemColumns,
		in.Name, in.Price, in.Quantity))
}

func (db itemDB) UpdateItem(ctx context.Context, id int64, in itemInput) (item, error) {
	return scanItem(db.pool.QueryRow(ctx, "UPDATE items SET name = $2, price = $3, quantity = $4, updated_at = now() WHERE id = $1 RETURNING "+itemColumns,
		id, in.Name, in.Price, in.Quantity))
}

func (db itemDB) Ping(ctx context.Context) error { return db.pool.Ping(ctx) }

// newItemDB returns an itemDB on a new database with the items table.
func newItemDB(tb testing.TB) itemDB {
	tb.Helper()
	pool := freshDatabase(tb)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if _, err := pool.Exec(ctx, `CREATE TABLE items (
		id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
		name text NOT NULL,
		price bigint NOT NULL,
		quantity integer NOT NULL,
		updated_at timestamptz NOT NULL DEFAULT now())`); err != nil {
		tb.Fatal(err)
	}
	return itemDB{pool: pool}
}

// cachedItems is itemStore with the cache in front of its reads, wired the
// way a service's store wires it: writes go to the store first, then
// invalidate the item on every replica, whatever the write returned.
type cachedItems struct {
	itemStore
	items *Cache[int64, item]
}

func newCachedItems(next itemStore, rdb redis.UniversalClient, cfg Config, m *Metrics, log *slog.Logger) (*cachedItems, error) {
	items, err := New(Options[int64, item]{
		Name:     "item",
		Config:   cfg,
		Redis:    rdb,
		Codec:    itemCodec{},
		Metrics:  m,
		Logger:   log,
		NotFound: errItemNotFound,
		Key:      func(id int64) string { return strconv.FormatInt(id, 10) },
		Parse:    func(s string) (int64, error) { return strconv.ParseInt(s, 10, 64) },
		Load:     next.GetItem,
		LoadMany: func(ctx context.Context, ids []int64) (map[int64]item, error) {
			list, err := next.GetItems(ctx, ids)
			if err != nil {
				return nil, err
			}
			out := make(map[int64]item, len(list))
			for _, it := range list {
				out[it.ID] = it
			}
			return out, nil
		},
	})
	if err != nil {
		return nil, err
	}
	return &cachedItems{itemStore: next, items: items}, nil
}

func (c *cachedItems) Close() error   { return c.items.Close() }
func (c *cachedItems) Degraded() bool { return c.items.Degraded() }

func (c *cachedItems) GetItem(ctx context.Context, id int64) (item, error) {
	return c.items.Get(ctx, id)
}

func (c *cachedItems) GetItems(ctx context.Context, ids []int64) ([]item, error) {
	found, err := c.items.GetMany(ctx, ids)
	if err != nil {
		return nil, err
	}
	out := make([]item, 0, len(found))
	for _, id := range ids {
		if it, ok := found[id]; ok {
			out = append(out, it)
			delete(found, id)
		}
	}
	return out, nil
}

func (c *cachedItems) CreateItem(ctx context.Context, in itemInput) (item, error) {
	it, err := c.itemStore.CreateItem(ctx, in)
	if err != nil {
		return it, err
	}
	c.items.Invalidate(ctx, it.ID)
	return it, nil
}

func (c *cachedItems) UpdateItem(ctx context.Context, id int64, in itemInput) (item, error) {
	it, err := c.itemStore.UpdateItem(ctx, id, in)
	c.items.InvalidateWrite(ctx, err, id)
	return it, err
}

// itemCodec is an item's compact form in Redis.
type itemCodec struct{}

func (itemCodec) Append(dst []byte, it item) ([]byte, error) {
	dst = binary.AppendVarint(dst, it.ID)
	dst = binary.AppendVarint(dst, it.Price)
	dst = binary.AppendVarint(dst, int64(it.Quantity))
	dst = binary.AppendVarint(dst, it.UpdatedAt.UnixMicro())
	return append(dst, it.Name...), nil
}

func (itemCodec) Decode(b []byte) (item, error) {
	var it item
	var n [4]int64
	for i := range n {
		v, w := binary.Varint(b)
		if w <= 0 {
			return item{}, errors.New("item codec: truncated")
		}
		n[i], b = v, b[w:]
	}
	it.ID, it.Price, it.Quantity = n[0], n[1], int32(n[2])
	it.UpdatedAt = time.UnixMicro(n[3]).UTC()
	it.Name = string(b)
	return it, nil
}

// freshDatabase creates a database for the test on the server of
// SVCGEN_TEST_PG_URL, else DATABASE_URL, else the local default, and drops
// it when the test ends.
func freshDatabase(tb testing.TB) *pgxpool.Pool {
	tb.Helper()
	url := "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable"
	for _, env := range []string{"SVCGEN_TEST_PG_URL", "DATABASE_URL"} {
		if v := os.Getenv(env); v != "" {
			url = v
			break
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	admin, err := pgx.Connect(ctx, url)
	if err != nil {
		tb.Fatalf("cannot reach PostgreSQL at %s: %v\n"+
			"start one with `docker compose up -d postgres` (or point SVCGEN_TEST_PG_URL or DATABASE_URL at a server you may create databases on)", url, err)
	}
	defer admin.Close(context.Background())
	name := fmt.Sprintf("test_cache_%d", time.Now().UnixNano())
	if _, err := admin.Exec(ctx, "CREATE DATABASE "+name); err != nil {
		tb.Fatalf("create test database: %v", err)
	}
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		tb.Fatal(err)
	}
	cfg.ConnConfig.Database = name
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() {
		pool.Close()
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		conn, err := pgx.Connect(ctx, url)
		if err != nil {
			tb.Errorf("drop test database %s: %v", name, err)
			return
		}
		defer conn.Close(ctx)
		if _, err := conn.Exec(ctx, "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)"); err != nil {
			tb.Errorf("drop test database %s: %v", name, err)
		}
	})
	return pool
}

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
func redisAt(tb testing.TB, rawURL string) redis.UniversalClient {
	tb.Helper()
	rdb, err := NewRedis(rawURL)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { _ = rdb.Close() })
	return rdb
}

func requireRedis(tb testing.TB) redis.UniversalClient {
	tb.Helper()
	rdb := redisAt(tb, redisURL())
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
func testCacheConfig() Config {
	return Config{
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
	itemStore
	batchIDs [][]int64
	delay    time.Duration
	gets     atomic.Int64
	batches  atomic.Int64
	writes   atomic.Int64
	mu       sync.Mutex
}

func (c *counting) GetItem(ctx context.Context, id int64) (item, error) {
	c.gets.Add(1)
	if c.delay > 0 {
		time.Sleep(c.delay)
	}
	return c.itemStore.GetItem(ctx, id)
}

func (c *counting) GetItems(ctx context.Context, ids []int64) ([]item, error) {
	c.batches.Add(1)
	c.mu.Lock()
	c.batchIDs = append(c.batchIDs, slices.Clone(ids))
	c.mu.Unlock()
	return c.itemStore.GetItems(ctx, ids)
}

func (c *counting) CreateItem(ctx context.Context, in itemInput) (item, error) {
	c.writes.Add(1)
	return c.itemStore.CreateItem(ctx, in)
}

func (c *counting) UpdateItem(ctx context.Context, id int64, in itemInput) (item, error) {
	c.writes.Add(1)
	return c.itemStore.UpdateItem(ctx, id, in)
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
	*cachedItems
	db  *counting
	reg *prometheus.Registry
}

func newInstance(tb testing.TB, next itemStore, rdb redis.UniversalClient, cfg Config) *instance {
	tb.Helper()
	reg := prometheus.NewRegistry()
	m, err := NewMetrics(reg, "test")
	if err != nil {
		tb.Fatal(err)
	}
	db := &counting{itemStore: next}
	c, err := newCachedItems(db, rdb, cfg, m, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() {
		_ = c.Close()
		if rdb != nil { // the invalidation log has no TTL
			_ = rdb.Del(context.Background(), cfg.Prefix+"item#log").Err()
		}
	})
	return &instance{cachedItems: c, db: db, reg: reg}
}

// metric returns the value of a counter or gauge of reg with the given
// label values (in order: cache, tier).
func metric(tb testing.TB, reg *prometheus.Registry, name string, labels ...string) float64 {
	tb.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		tb.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
		for _, m := range mf.GetMetric() {
			if matches(m, labels) {
				if m.GetCounter() != nil {
					return m.GetCounter().GetValue()
				}
				return m.GetGauge().GetValue()
			}
		}
	}
	return 0
}

func matches(m *dto.Metric, values []string) bool {
	for i, lp := range m.GetLabel() {
		if i < len(values) && lp.GetValue() != values[i] {
			return false
		}
	}
	return true
}

// same compares items, the time by instant (its location may differ).
func same(a, b item) bool {
	return a.ID == b.ID && a.Name == b.Name && a.Price == b.Price && a.Quantity == b.Quantity &&
		a.UpdatedAt.Equal(b.UpdatedAt)
}

func mustCreate(tb testing.TB, s itemStore, name string) item {
	tb.Helper()
	it, err := s.CreateItem(context.Background(), itemInput{Name: name, Quantity: 1, Price: 100})
	if err != nil {
		tb.Fatal(err)
	}
	return it
}

// eventually polls cond for up to 3s.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(3 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		if cond() {
			return
		}
	}
	t.Fatalf("timed out waiting for %s", what)
}

func TestCachedTiers(t *testing.T) {
	rdb := requireRedis(t)
	pg := newItemDB(t)
	cfg := testCacheConfig()
	a := newInstance(t, pg, rdb, cfg)
	b := newInstance(t, pg, rdb, cfg)
	ctx := context.Background()
	it := mustCreate(t, pg, "sword")

	// Cold: L1 and L2 miss, one query.
	if got, err := a.GetItem(ctx, it.ID); err != nil || !same(got, it) {
		t.Fatalf("GetItem = %+v, %v; want %+v", got, err, it)
	}
	if n := a.db.queries(); n != 1 {
		t.Fatalf("cold read: %d queries, want 1", n)
	}
	// Warm: L1 hit, no query.
	if got, err := a.GetItem(ctx, it.ID); err != nil || !same(got, it) {
		t.Fatalf("GetItem (L1) = %+v, %v", got, err)
	}
	if n := a.db.queries(); n != 1 {
		t.Fatalf("L1 hit queried the database: %d queries", n)
	}
	// Another replica: L2 hit, no query, same value (the codec round-trips).
	if got, err := b.GetItem(ctx, it.ID); err != nil || !same(got, it) {
		t.Fatalf("GetItem (L2) = %+v, %v; want %+v", got, err, it)
	}
	if n := b.db.queries(); n != 0 {
		t.Fatalf("L2 hit queried the database: %d queries", n)
	}
	for _, c := range []struct {
		reg        *prometheus.Registry
		name, tier string
		want       float64
	}{
		{a.reg, "test_cache_misses_total", "l1", 1},
		{a.reg, "test_cache_hits_total", "l1", 1},
		{a.reg, "test_cache_misses_total", "l2", 1},
		{a.reg, "test_cache_hits_total", "db", 1},
		{b.reg, "test_cache_hits_total", "l2", 1},
		{b.reg, "test_cache_hits_total", "db", 0},
	} {
		if got := metric(t, c.reg, c.name, "item", c.tier); got != c.want {
			t.Errorf("%s{tier=%q} = %v, want %v", c.name, c.tier, got, c.want)
		}
	}

	// Not found is cached too: one query, then none, on both replicas.
	missing := it.ID + 1_000_000
	for range 3 {
		if _, err := a.GetItem(ctx, missing); !errors.Is(err, errItemNotFound) {
			t.Fatalf("GetItem(missing) error = %v, want errItemNotFound", err)
		}
	}
	if _, err := b.GetItem(ctx, missing); !errors.Is(err, errItemNotFound) {
		t.Fatalf("GetItem(missing) on b error = %v, want errItemNotFound", err)
	}
	if a.db.queries() != 2 || b.db.queries() != 0 {
		t.Fatalf("negative caching: a made %d queries (want 2), b %d (want 0)", a.db.queries(), b.db.queries())
	}
	// A new item is not hidden by a cached "not found" of its id.
	created := mustCreate(t, a, "bow")
	if got, err := b.GetItem(ctx, created.ID); err != nil || got.Name != "bow" {
		t.Fatalf("GetItem(created) = %+v, %v", got, err)
	}
}

func TestCachedBatchMixed(t *testing.T) {
	rdb := requireRedis(t)
	pg := newItemDB(t)
	cfg := testCacheConfig()
	a := newInstance(t, pg, rdb, cfg)
	b := newInstance(t, pg, rdb, cfg)
	ctx := context.Background()
	inL1 := mustCreate(t, pg, "in-l1")
	inL2 := mustCreate(t, pg, "in-l2")
	cold := mustCreate(t, pg, "cold")
	missing := cold.ID + 1_000_000

	if _, err := a.GetItem(ctx, inL1.ID); err != nil { // a's L1 and Redis
		t.Fatal(err)
	}
	if _, err := b.GetItem(ctx, inL2.ID); err != nil { // Redis only, for a
		t.Fatal(err)
	}
	before := a.db.queries()
	items, err := a.GetItems(ctx, []int64{inL1.ID, inL2.ID, cold.ID, missing, inL1.ID})
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, it := range items {
		names = append(names, it.Name)
	}
	if want := []string{"in-l1", "in-l2", "cold"}; !slices.Equal(names, want) {
		t.Fatalf("GetItems names = %v, want %v", names, want)
	}
	if n := a.db.queries() - before; n != 1 {
		t.Fatalf("batch with mixed hits made %d queries, want 1", n)
	}
	if got := a.db.batchIDs[len(a.db.batchIDs)-1]; !slices.Equal(got, []int64{cold.ID, missing}) {
		t.Fatalf("batch query asked for %v, want only the misses [%d %d]", got, cold.ID, missing)
	}
	// Everything is cached now, the missing id included.
	if _, err := a.GetItems(ctx, []int64{inL1.ID, inL2.ID, cold.ID, missing}); err != nil {
		t.Fatal(err)
	}
	if n := a.db.queries() - before; n != 1 {
		t.Fatalf("second batch queried the database (%d queries in all)", n)
	}
	if got := metric(t, a.reg, "test_cache_hits_total", "item", "l2"); got != 1 {
		t.Errorf("l2 hits = %v, want 1", got)
	}
}

func TestCachedStampede(t *testing.T) {
	rdb := requireRedis(t)
	pg := newItemDB(t)
	a := newInstance(t, pg, rdb, testCacheConfig())
	a.db.delay = 20 * time.Millisecond // keep the load in flight while all callers arrive
	it := mustCreate(t, pg, "hot")

	const n = 100
	var (
		start  = make(chan struct{})
		wg     sync.WaitGroup
		failed atomic.Int64
	)
	for range n {
		wg.Go(func() {
			<-start
			got, err := a.GetItem(context.Background(), it.ID)
			if err != nil || got.Name != "hot" {
				failed.Add(1)
			}
		})
	}
	close(start)
	wg.Wait()
	if failed.Load() > 0 {
		t.Fatalf("%d of %d concurrent reads failed", failed.Load(), n)
	}
	if q := a.db.queries(); q != 1 {
		t.Fatalf("%d concurrent misses on one key made %d database queries, want 1", n, q)
	}
}

func TestCachedInvalidationAcrossInstances(t *testing.T) {
	rdb := requireRedis(t)
	pg := newItemDB(t)
	cfg := testCacheConfig()
	a := newInstance(t, pg, rdb, cfg)
	b := newInstance(t, pg, rdb, cfg)
	ctx := context.Background()
	it := mustCreate(t, pg, "v1")
	waitSubscribed(t, a, b)

	for _, s := range []*instance{a, b} {
		if got, err := s.GetItem(ctx, it.ID); err != nil || got.Name != "v1" {
			t.Fatalf("GetItem = %+v, %v", got, err)
		}
	}
	sent := metric(t, b.reg, "test_cache_invalidations_sent_total", "item")
	received := metric(t, a.reg, "test_cache_invalidations_received_total", "item")
	if _, err := b.UpdateItem(ctx, it.ID, itemInput{Name: "v2", Quantity: 1, Price: 100}); err != nil {
		t.Fatal(err)
	}
	eventually(t, "replica a to drop its stale copy", func() bool {
		got, err := a.GetItem(ctx, it.ID)
		return err == nil && got.Name == "v2"
	})
	// Delivery is at least once: a publish that outlived its budget counts
	// as failed and is replayed once Redis answers in time again, although
	// Redis may have delivered the first one too.
	if got := metric(t, b.reg, "test_cache_invalidations_sent_total", "item") - sent; got < 1 {
		t.Errorf("b sent %v invalidations, want at least 1", got)
	}
	if got := metric(t, a.reg, "test_cache_invalidations_received_total", "item") - received; got < 1 {
		t.Errorf("a received %v invalidations, want at least 1", got)
	}
}

// waitSubscribed waits until the replicas' subscriptions are live, so that no
// invalidation is published before anyone listens.
func waitSubscribed(t *testing.T, replicas ...*instance) {
	t.Helper()
	ctx := context.Background()
	for _, r := range replicas {
		probe := mustCreate(t, r.itemStore, "probe")
		if _, err := r.GetItem(ctx, probe.ID); err != nil {
			t.Fatal(err)
		}
		eventually(t, "the invalidation subscription", func() bool {
			r.items.Invalidate(ctx, probe.ID)
			return metric(t, r.reg, "test_cache_invalidations_received_total", "item") > 0
		})
	}
}

func TestCachedRedisDown(t *testing.T) {
	direct := requireRedis(t)
	pg := newItemDB(t)
	cfg := testCacheConfig()
	px := startProxy(t, strings.TrimPrefix(direct.(*redis.Client).Options().Addr, "tcp://"))
	rdb := redisAt(t, "redis://"+px.addr+"/0")
	a := newInstance(t, pg, rdb, cfg)
	ctx := context.Background()
	warm := mustCreate(t, pg, "warm")
	cold := mustCreate(t, pg, "cold")
	if _, err := a.GetItem(ctx, warm.ID); err != nil {
		t.Fatal(err)
	}

	px.stop() // Redis "goes down": every connection drops, new ones are refused.

	if got, err := a.GetItem(ctx, warm.ID); err != nil || got.Name != "warm" {
		t.Fatalf("L1 read with Redis down = %+v, %v", got, err)
	}
	// One refused connection is enough: the first cold read, one Redis
	// call, turns the cache degraded (unlike a slow answer, see
	// TestCachedRedisSlow).
	if got, err := a.GetItem(ctx, cold.ID); err != nil || got.Name != "cold" {
		t.Fatalf("cold read with Redis down = %+v, %v", got, err)
	}
	if !a.Degraded() || metric(t, a.reg, "test_cache_degraded", "item") != 1 {
		t.Fatalf("after one refused call: Degraded() = %v, gauge %v; want true, 1", a.Degraded(), metric(t, a.reg, "test_cache_degraded", "item"))
	}
	up, err := a.UpdateItem(ctx, warm.ID, itemInput{Name: "warm-v2", Quantity: 2, Price: 200})
	if err != nil || up.Name != "warm-v2" {
		t.Fatalf("write with Redis down = %+v, %v", up, err)
	}
	if got, err := a.GetItem(ctx, warm.ID); err != nil || got.Name != "warm-v2" {
		t.Fatalf("read after write with Redis down = %+v, %v", got, err)
	}
	if items, err := a.GetItems(ctx, []int64{warm.ID, cold.ID}); err != nil || len(items) != 2 {
		t.Fatalf("batch with Redis down = %+v, %v", items, err)
	}
	if err := a.Ping(ctx); err != nil {
		t.Fatalf("Ping (readiness) with Redis down = %v; want nil: degraded, not down", err)
	}

	px.listen() // Redis is back.
	eventually(t, "recovery from degraded mode", func() bool { return !a.Degraded() })
	if metric(t, a.reg, "test_cache_degraded", "item") != 0 {
		t.Fatal("degraded gauge still 1 after recovery")
	}
	// The write made during the outage reached Redis once it was back: a
	// replica connected directly reads the new value, not the cached old one.
	b := newInstance(t, pg, direct, cfg)
	if got, err := b.GetItem(ctx, warm.ID); err != nil || got.Name != "warm-v2" {
		t.Fatalf("after recovery, another replica reads %+v, %v; want warm-v2", got, err)
	}
	// Recovery kept L1: nothing was invalidated that a could not hear of.
	before := a.db.queries()
	if got, err := a.GetItem(ctx, cold.ID); err != nil || got.Name != "cold" || a.db.queries() != before {
		t.Fatalf("after recovery: cold = %+v, %v, %d queries; want an L1 hit", got, err, a.db.queries()-before)
	}
	// And L2 is used again: what a loads now, another replica finds in Redis.
	fresh := mustCreate(t, pg, "fresh")
	if _, err := a.GetItem(ctx, fresh.ID); err != nil {
		t.Fatal(err)
	}
	c := newInstance(t, pg, rdb, cfg)
	if _, err := c.GetItem(ctx, fresh.ID); err != nil {
		t.Fatal(err)
	}
	if got := metric(t, c.reg, "test_cache_hits_total", "item", "l2"); got != 1 || c.db.queries() != 0 {
		t.Fatalf("after recovery: l2 hits %v, queries %d; want 1, 0", got, c.db.queries())
	}
}

// TestCachedRedisSlow: Redis answering past the budget once is not an
// outage; FailThreshold late answers in a row are.
func TestCachedRedisSlow(t *testing.T) {
	direct := requireRedis(t)
	pg := newItemDB(t)
	cfg := testCacheConfig()
	// 100 ms: a loaded machine's local Redis answers within it; the proxy's
	// 1 s delay is far past it.
	cfg.Budget = 100 * time.Millisecond
	cfg.FailThreshold = 4
	cfg.FailRate = 1 // this test is about the streak, not the window's error rate
	// Retries of failed invalidations are Redis calls too, and late ones
	// while Redis is slow: fewer of them during the reads (a loaded
	// machine stretches the reads), still enough probes to recover.
	cfg.RetryInterval = 300 * time.Millisecond
	px := startProxy(t, strings.TrimPrefix(direct.(*redis.Client).Options().Addr, "tcp://"))
	a := newInstance(t, pg, redisAt(t, "redis://"+px.addr+"/0"), cfg)
	waitSubscribed(t, a)                       // no catch-up of the log runs while Redis is slow
	items := make([]item, cfg.FailThreshold+1) // one alone, then a streak
	for i := range items {
		items[i] = mustCreate(t, pg, fmt.Sprintf("slow-%d", i))
	}
	ctx := context.Background()
	read := func(it item) {
		t.Helper()
		start := time.Now()
		if got, err := a.GetItem(ctx, it.ID); err != nil || got.Name != it.Name {
			t.Fatalf("read with slow Redis = %+v, %v", got, err)
		}
		// Far below the delay, far above the budget: a loaded machine does
		// not make this flaky.
		if d := time.Since(start); d > 500*time.Millisecond {
			t.Errorf("read with slow Redis took %v; the cache budget is %v", d, cfg.Budget)
		}
	}

	px.delay.Store(int64(time.Second)) // Redis answers, but far past the budget
	read(items[0])
	if a.Degraded() {
		t.Fatal("one late Redis answer turned the cache degraded")
	}
	px.delay.Store(0)
	// A success between late answers breaks the streak. The calls of the
	// late read (its fill included) give up within a few budgets; then one
	// Redis call must answer within the budget, which a loaded machine may
	// miss once or twice, so it is tried until one does.
	time.Sleep(5 * cfg.Budget)
	for i := int64(1); ; i++ {
		before := metric(t, a.reg, "test_cache_errors_total", "item", "l2")
		if _, err := a.GetItem(ctx, items[0].ID+1_000_000*i); !errors.Is(err, errItemNotFound) {
			t.Fatalf("GetItem(missing) = %v", err)
		}
		if metric(t, a.reg, "test_cache_errors_total", "item", "l2") == before {
			break
		}
		if i == 20 {
			t.Fatalf("Redis answered none of %d calls within the %v budget with no delay", i, cfg.Budget)
		}
	}
	if a.Degraded() {
		t.Fatal("late answers broken by successes turned the cache degraded")
	}
	px.delay.Store(int64(time.Second))
	errsBefore := metric(t, a.reg, "test_cache_errors_total", "item", "l2")
	for _, it := range items[1 : len(items)-1] {
		read(it)
	}
	// The streak is every late call: the reads', and any background call
	// (a retried invalidation) that fell between them.
	if late := metric(t, a.reg, "test_cache_errors_total", "item", "l2") - errsBefore; a.Degraded() && late < float64(cfg.FailThreshold) {
		t.Fatalf("a streak of %v late answers turned the cache degraded; the threshold is %d", late, cfg.FailThreshold)
	}
	read(items[len(items)-1]) // one more: the streak reaches the threshold
	if !a.Degraded() {
		t.Fatalf("%d late Redis answers in a row did not turn the cache degraded", cfg.FailThreshold)
	}
	if got := metric(t, a.reg, "test_cache_errors_total", "item", "l2"); got < float64(cfg.FailThreshold) {
		t.Errorf("l2 errors = %v, want at least %d", got, cfg.FailThreshold)
	}
	px.delay.Store(0)
	eventually(t, "recovery once Redis is fast again", func() bool { return !a.Degraded() })
}

// lateStore commits a write, then answers like a request whose deadline
// passed or whose client went away after the commit: the caller is told
// the write failed although it happened.
type lateStore struct {
	itemStore
	onCommit func() // called once the write has committed; nil: nothing
}

func (s *lateStore) UpdateItem(ctx context.Context, id int64, in itemInput) (item, error) {
	if _, err := s.itemStore.UpdateItem(context.WithoutCancel(ctx), id, in); err != nil {
		return item{}, err
	}
	if s.onCommit != nil {
		s.onCommit()
	}
	<-ctx.Done()
	return item{}, fmt.Errorf("update item %d: %w", id, ctx.Err())
}

// TestCachedWriteOutcomeUnknown: writes that committed but returned a
// timeout or a cancellation leave no stale item in L1, in Redis, or in
// another replica's L1.
func TestCachedWriteOutcomeUnknown(t *testing.T) {
	rdb := requireRedis(t)
	pg := newItemDB(t)
	cfg := testCacheConfig()
	late := &lateStore{itemStore: pg}
	a := newInstance(t, late, rdb, cfg) // the replica that writes
	b := newInstance(t, pg, rdb, cfg)   // another replica
	waitSubscribed(t, a, b)
	ctx := context.Background()

	const n = 40
	items := make([]item, n)
	for i := range items {
		items[i] = mustCreate(t, pg, fmt.Sprintf("v1-%d", i))
		for _, r := range []*instance{a, b} { // in both L1s and in Redis
			if _, err := r.GetItem(ctx, items[i].ID); err != nil {
				t.Fatal(err)
			}
		}
	}
	received := metric(t, b.reg, "test_cache_invalidations_received_total", "item")
	for i, it := range items {
		in := itemInput{Name: fmt.Sprintf("v2-%d", i), Quantity: 2, Price: 200}
		var (
			wctx   context.Context
			cancel context.CancelFunc
			want   error
		)
		if i%2 == 0 { // the deadline passes after the commit
			wctx, cancel = context.WithTimeout(ctx, 50*time.Millisecond)
			late.onCommit, want = nil, context.DeadlineExceeded
		} else { // the client goes away right after the commit
			wctx, cancel = context.WithCancel(ctx)
			late.onCommit, want = cancel, context.Canceled
		}
		_, err := a.UpdateItem(wctx, it.ID, in)
		cancel()
		if !errors.Is(err, want) {
			t.Fatalf("write %d returned %v, want %v", i, err, want)
		}
	}
	// The other replica has heard of every write.
	eventually(t, "the invalidations to reach replica b", func() bool {
		return metric(t, b.reg, "test_cache_invalidations_received_total", "item")-received >= n
	})
	c := newInstance(t, pg, rdb, cfg) // a new replica: empty L1, reads Redis first
	stale := 0
	for i, it := range items {
		want := fmt.Sprintf("v2-%d", i)
		for name, r := range map[string]*instance{"a": a, "b": b, "c (L2)": c} {
			got, err := r.GetItem(ctx, it.ID)
			if err != nil {
				t.Fatal(err)
			}
			if got.Name != want {
				stale++
				t.Errorf("replica %s serves item %d as %q after a committed write of %q", name, it.ID, got.Name, want)
			}
		}
		// And Redis holds no old value (nothing, or the new one).
		if d, err := rdb.HGet(ctx, cfg.Prefix+"item:"+strconv.FormatInt(it.ID, 10), "d").Bytes(); err == nil {
			if v, err := (itemCodec{}).Decode(d[1:]); err != nil || v.Name != want {
				stale++
				t.Errorf("Redis holds item %d as %+v, %v; want %q", it.ID, v, err, want)
			}
		}
	}
	t.Logf("stale items after %d writes that committed and then timed out or were cancelled: %d of %d", n, stale, n)
}

// TestCachedRecoveryDropsOnlyStale: a replica cut off from Redis keeps its
// L1 when Redis is back, except the keys other replicas changed meanwhile
// (read from the invalidation log); its own writes made while cut off
// reach the other replicas.
func TestCachedRecoveryDropsOnlyStale(t *testing.T) {
	direct := requireRedis(t)
	pg := newItemDB(t)
	cfg := testCacheConfig()
	px := startProxy(t, strings.TrimPrefix(direct.(*redis.Client).Options().Addr, "tcp://"))
	a := newInstance(t, pg, redisAt(t, "redis://"+px.addr+"/0"), cfg)
	b := newInstance(t, pg, direct, cfg)
	waitSubscribed(t, a, b)
	ctx := context.Background()
	const n = 20
	kept := make([]item, n)
	for i := range kept {
		kept[i] = mustCreate(t, pg, fmt.Sprintf("kept-%d", i))
	}
	changed := mustCreate(t, pg, "changed-v1") // changed by b while a is cut off
	mine := mustCreate(t, pg, "mine-v1")       // changed by a while cut off
	for _, it := range append(slices.Clone(kept), changed, mine) {
		for _, r := range []*instance{a, b} {
			if _, err := r.GetItem(ctx, it.ID); err != nil {
				t.Fatal(err)
			}
		}
	}

	px.stop()
	if _, err := a.GetItem(ctx, changed.ID+1_000_000); !errors.Is(err, errItemNotFound) {
		t.Fatal(err)
	}
	if !a.Degraded() {
		t.Fatal("a refused connection did not turn the cache degraded")
	}
	if _, err := b.UpdateItem(ctx, changed.ID, itemInput{Name: "changed-v2", Quantity: 1, Price: 1}); err != nil {
		t.Fatal(err)
	}
	if _, err := a.UpdateItem(ctx, mine.ID, itemInput{Name: "mine-v2", Quantity: 1, Price: 1}); err != nil {
		t.Fatal(err)
	}
	received := metric(t, b.reg, "test_cache_invalidations_received_total", "item")
	px.listen()
	eventually(t, "recovery from degraded mode", func() bool { return !a.Degraded() })

	before := a.db.queries()
	for _, it := range kept {
		if got, err := a.GetItem(ctx, it.ID); err != nil || got.Name != it.Name {
			t.Fatalf("kept item after recovery = %+v, %v", got, err)
		}
	}
	if q := a.db.queries() - before; q != 0 {
		t.Errorf("recovery dropped entries nobody changed: %d of %d reads reached the database", q, n)
	}
	if got, err := a.GetItem(ctx, changed.ID); err != nil || got.Name != "changed-v2" {
		t.Errorf("after recovery a reads %+v, %v; want changed-v2 (changed by another replica while a was cut off)", got, err)
	}
	// a's own write, made while cut off, was replayed to b.
	eventually(t, "a's write made while degraded to reach b", func() bool {
		return metric(t, b.reg, "test_cache_invalidations_received_total", "item") > received
	})
	if got, err := b.GetItem(ctx, mine.ID); err != nil || got.Name != "mine-v2" {
		t.Errorf("after recovery b reads %+v, %v; want mine-v2", got, err)
	}
}

// proxy is a TCP proxy to Redis that a test can stop (closing every
// connection and refusing new ones), slow down, and start again on the same
// address.
type proxy struct {
	ln     net.Listener
	conns  map[net.Conn]struct{}
	t      testing.TB
	target string
	addr   string
	wg     sync.WaitGroup
	delay  atomic.Int64 // nanoseconds added before forwarding each read
	mu     sync.Mutex
}

func startProxy(t testing.TB, target string) *proxy {
	p := &proxy{t: t, target: target, addr: "127.0.0.1:0", conns: map[net.Conn]struct{}{}}
	p.listen()
	t.Cleanup(p.stop)
	return p
}

func (p *proxy) listen() {
	ln, err := net.Listen("tcp", p.addr)
	if err != nil {
		p.t.Fatalf("proxy listen: %v", err)
	}
	p.mu.Lock()
	p.ln, p.addr = ln, ln.Addr().String()
	p.mu.Unlock()
	p.wg.Go(func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			up, err := net.Dial("tcp", p.target)
			if err != nil {
				c.Close()
				continue
			}
			p.mu.Lock()
			p.conns[c], p.conns[up] = struct{}{}, struct{}{}
			p.mu.Unlock()
			p.wg.Go(func() { p.pipe(up, c) })
			p.wg.Go(func() { p.pipe(c, up) })
		}
	})
}

func (p *proxy) pipe(dst, src net.Conn) {
	defer dst.Close()
	defer src.Close()
	buf := make([]byte, 32<<10)
	for {
		n, err := src.Read(buf)
		if n > 0 {
			if d := time.Duration(p.delay.Load()); d > 0 {
				time.Sleep(d)
			}
			if _, werr := dst.Write(buf[:n]); werr != nil {
				return
			}
		}
		if err != nil {
			return
		}
	}
}

func (p *proxy) stop() {
	p.mu.Lock()
	if p.ln != nil {
		p.ln.Close()
		p.ln = nil
	}
	for c := range p.conns {
		c.Close()
		delete(p.conns, c)
	}
	p.mu.Unlock()
	p.wg.Wait()
}
