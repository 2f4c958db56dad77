package store

import (
	"context"
	"errors"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/prometheus/client_golang/prometheus"

	"example.com/legacy-catalog/internal/platform/batch"
)

// queryCounter is a pgx tracer counting the queries that reach Postgres:
// reads by id (GetItem's `id = $1`) and batch reads (`= ANY($1)`).
type queryCounter struct{ single, many atomic.Int64 }

func (c *queryCounter) TraceQueryStart(ctx context.Context, _ *pgx.Conn, d pgx.TraceQueryStartData) context.Context {
	switch {
	case strings.Contains(d.SQL, "= ANY($1)"):
		c.many.Add(1)
	case strings.Contains(d.SQL, "WHERE id = $1") && strings.HasPrefix(d.SQL, "SELECT"):
		c.single.Add(1)
	}
	return ctx
}

func (c *queryCounter) TraceQueryEnd(context.Context, *pgx.Conn, pgx.TraceQueryEndData) {}

func (c *queryCounter) total() int64 { return c.single.Load() + c.many.Load() }

// tracedPool opens a second pool on pool's database whose queries c counts.
func tracedPool(tb testing.TB, pool *pgxpool.Pool, maxConns int32) (*pgxpool.Pool, *queryCounter) {
	tb.Helper()
	cfg := pool.Config()
	c := &queryCounter{}
	cfg.ConnConfig.Tracer = c
	cfg.MaxConns = maxConns
	traced, err := pgxpool.NewWithConfig(context.Background(), cfg)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(traced.Close)
	return traced, c
}

// seedItems inserts items 1..n named item-<id>.
func seedItems(tb testing.TB, pool *pgxpool.Pool, n int) {
	tb.Helper()
	if _, err := pool.Exec(context.Background(), `INSERT INTO items (name, quantity, price)
		SELECT 'item-' || g, 1, 100 FROM generate_series(1, $1::int) g`, n); err != nil {
		tb.Fatal(err)
	}
}

func newBatchedStore(t *testing.T, next Store, cfg batch.Config) (*Batched, *batch.Metrics, *prometheus.Registry) {
	t.Helper()
	reg := prometheus.NewRegistry()
	m, err := batch.NewMetrics(reg, "test")
	if err != nil {
		t.Fatal(err)
	}
	b, err := NewBatched(next, cfg, m)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = b.Close() })
	return b, m, reg
}

// loadsJoined reads test_batch_loads_total.
func loadsJoined(t *testing.T, reg *prometheus.Registry) float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() == "test_batch_loads_total" {
			return mf.GetMetric()[0].GetCounter().GetValue()
		}
	}
	return 0
}

// batchSize reads the test_batch_size histogram: calls and keys in all.
func batchSize(t *testing.T, reg *prometheus.Registry) (uint64, float64) {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() == "test_batch_size" {
			h := mf.GetMetric()[0].GetHistogram()
			return h.GetSampleCount(), h.GetSampleSum()
		}
	}
	return 0, 0
}

// waitJoined waits (on a condition, with a generous deadline) until n
// loads have joined the loader.
func waitJoined(t *testing.T, reg *prometheus.Registry, n float64) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for loadsJoined(t, reg) < n {
		if time.Now().After(deadline) {
			t.Fatalf("%v loads joined, want %v", loadsJoined(t, reg), n)
		}
		time.Sleep(time.Millisecond)
	}
}

// gated wraps the store: a GetItems that asks for id 0 (no item has it)
// blocks until the gate opens. That holds a batch in flight, so that the
// next one gathers reads until it returns or fills up, whatever the
// machine's speed.
type gated struct {
	Store
	gate, entered chan struct{}
}

func newGated(next Store) *gated {
	return &gated{Store: next, gate: make(chan struct{}), entered: make(chan struct{}, 1)}
}

func (g *gated) GetItems(ctx context.Context, ids []int64) ([]Item, error) {
	if slices.Contains(ids, 0) {
		g.entered <- struct{}{}
		<-g.gate
	}
	return g.Store.GetItems(ctx, ids)
}

// holdBatch puts a batch (id 0) in flight on the idle store b and keeps it
// there until release is called.
func holdBatch(t *testing.T, b *Batched, g *gated) (release func()) {
	t.Helper()
	done := make(chan struct{})
	go func() {
		defer close(done)
		_, _ = b.GetItem(context.Background(), 0)
	}()
	<-g.entered
	return func() {
		close(g.gate)
		<-done
	}
}

type getResult struct {
	err error
	it  Item
	id  int64
}

func getAll(ctx context.Context, s Store, ids []int64) <-chan getResult {
	out := make(chan getResult, len(ids))
	for _, id := range ids {
		go func() {
			it, err := s.GetItem(ctx, id)
			out <- getResult{id: id, it: it, err: err}
		}()
	}
	return out
}

// TestBatchedStore runs the Store contract through the loader.
func TestBatchedStore(t *testing.T) {
	b, _, _ := newBatchedStore(t, NewPostgres(testDB(t), 2*time.Second), batch.Config{Wait: time.Millisecond, MaxBatch: 256, Timeout: 2 * time.Second})
	exerciseStore(t, b)
}

// TestBatchedHundredConcurrentReads: 100 concurrent GetItem of 100
// distinct ids, made while another batch is in flight, are one
// `= ANY($1)` query. MaxBatch is 100 and Wait an hour: the batch goes
// because it is full, before the one in flight returns.
func TestBatchedHundredConcurrentReads(t *testing.T) {
	pool := testDB(t)
	seedItems(t, pool, 100)
	traced, q := tracedPool(t, pool, 10)
	g := newGated(NewPostgres(traced, 2*time.Second))
	b, _, reg := newBatchedStore(t, g, batch.Config{Wait: time.Hour, MaxBatch: 100, Timeout: 5 * time.Second})
	release := holdBatch(t, b, g)
	defer release()

	ids := make([]int64, 100)
	for i := range ids {
		ids[i] = int64(i + 1)
	}
	results := getAll(context.Background(), b, ids)
	for range ids {
		r := <-results
		if r.err != nil || r.it.ID != r.id || r.it.Name != "item-"+strconv.FormatInt(r.id, 10) {
			t.Fatalf("GetItem(%d) = %+v, %v", r.id, r.it, r.err)
		}
	}
	if q.many.Load() != 1 || q.single.Load() != 0 {
		t.Fatalf("queries: %d by ANY, %d by id; want 1 and 0 (the held batch has not queried yet)", q.many.Load(), q.single.Load())
	}
	if calls, keys := batchSize(t, reg); calls != 1 || keys != 100 {
		t.Fatalf("test_batch_size: %d calls of %v keys in all, want 1 of 100", calls, keys)
	}
	if got := loadsJoined(t, reg); got != 101 {
		t.Fatalf("test_batch_loads_total = %v, want 101 (100 and the held one)", got)
	}
}

// TestBatchedDuplicatesAndMissing: 60 concurrent reads of 3 items and 2
// missing ids are one query for 5 ids; the missing ones get ErrNotFound.
func TestBatchedDuplicatesAndMissing(t *testing.T) {
	pool := testDB(t)
	seedItems(t, pool, 3)
	traced, q := tracedPool(t, pool, 4)
	g := newGated(NewPostgres(traced, 2*time.Second))
	b, _, reg := newBatchedStore(t, g, batch.Config{Wait: time.Hour, MaxBatch: 256, Timeout: 5 * time.Second})
	release := holdBatch(t, b, g)

	ids := make([]int64, 60)
	for i := range ids {
		ids[i] = []int64{1, 2, 3, 1_000_001, 1_000_002}[i%5]
	}
	results := getAll(context.Background(), b, ids)
	waitJoined(t, reg, 61)
	release() // the gathered batch goes when the held one returns
	for range ids {
		r := <-results
		if r.id > 3 {
			if !errors.Is(r.err, ErrNotFound) {
				t.Fatalf("GetItem(%d) error = %v, want ErrNotFound", r.id, r.err)
			}
			continue
		}
		if r.err != nil || r.it.ID != r.id {
			t.Fatalf("GetItem(%d) = %+v, %v", r.id, r.it, r.err)
		}
	}
	if calls, keys := batchSize(t, reg); calls != 2 || keys != 6 {
		t.Fatalf("test_batch_size: %d calls of %v keys in all, want the held one and one of 5 ids", calls, keys)
	}
	if q.total() != 2 {
		t.Fatalf("%d queries, want 2 (the held batch, then the 60 reads)", q.total())
	}
}

// TestBatchedErrorReachesEveryWaiter: a failed query fails every read of
// its batch.
func TestBatchedErrorReachesEveryWaiter(t *testing.T) {
	pool := testDB(t)
	seedItems(t, pool, 10)
	traced, _ := tracedPool(t, pool, 4)
	b, _, _ := newBatchedStore(t, NewPostgres(traced, 2*time.Second), batch.Config{Wait: time.Hour, MaxBatch: 10, Timeout: 5 * time.Second})
	traced.Close() // every query now fails: "closed pool"

	ids := []int64{1, 2, 3, 4, 5, 6, 7, 8, 9, 10}
	results := getAll(context.Background(), b, ids)
	for range ids {
		r := <-results
		if r.err == nil || errors.Is(r.err, ErrNotFound) || !strings.Contains(r.err.Error(), "closed pool") {
			t.Fatalf("GetItem(%d) error = %v, want the batch's query error", r.id, r.err)
		}
	}
}

// TestBatchedCancelledCaller: a caller that gives up gets ctx.Err() at
// once; the read it shared a batch with still gets its item.
func TestBatchedCancelledCaller(t *testing.T) {
	pool := testDB(t)
	seedItems(t, pool, 2)
	traced, q := tracedPool(t, pool, 4)
	g := newGated(NewPostgres(traced, 2*time.Second))
	b, _, reg := newBatchedStore(t, g, batch.Config{Wait: time.Hour, MaxBatch: 256, Timeout: 5 * time.Second})
	release := holdBatch(t, b, g)

	ctx, cancel := context.WithCancel(context.Background())
	gone := getAll(ctx, b, []int64{1})
	stays := getAll(context.Background(), b, []int64{2})
	waitJoined(t, reg, 3)
	cancel()
	if r := <-gone; !errors.Is(r.err, context.Canceled) {
		t.Fatalf("cancelled GetItem = %+v, %v; want context.Canceled", r.it, r.err)
	}
	release()
	if r := <-stays; r.err != nil || r.it.ID != 2 {
		t.Fatalf("the other GetItem = %+v, %v", r.it, r.err)
	}
	if q.total() != 2 {
		t.Fatalf("%d queries, want 2 (the held batch, then ids 1 and 2)", q.total())
	}
}

// TestBatchedGetItemsChunks: GetItems of more ids than MaxBatch is one
// query per MaxBatch ids, each id once.
func TestBatchedGetItemsChunks(t *testing.T) {
	pool := testDB(t)
	seedItems(t, pool, 1000)
	traced, q := tracedPool(t, pool, 4)
	b, _, _ := newBatchedStore(t, NewPostgres(traced, 2*time.Second), batch.Config{Wait: time.Millisecond, MaxBatch: 300, Timeout: 5 * time.Second})

	ids := make([]int64, 0, 1100)
	for id := int64(1); id <= 1000; id++ {
		ids = append(ids, id)
	}
	ids = append(ids, 1, 2, 3, 5000) // repeated and missing
	items, err := b.GetItems(context.Background(), ids)
	if err != nil || len(items) != 1000 {
		t.Fatalf("GetItems = %d items, %v; want 1000", len(items), err)
	}
	if q.many.Load() != 4 {
		t.Fatalf("%d queries, want 4 (300, 300, 300, 104 ids)", q.many.Load())
	}
}
