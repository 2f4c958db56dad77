package partition

import (
	"context"
	"io"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"go.uber.org/goleak"

	"github.com/svcgen/svcgen/platform/pgtest"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// testPool returns a pool on a new database, dropped when the test ends,
// holding a table partitioned like the service's events table (pgtest:
// SVCGEN_TEST_PG_URL, else DATABASE_URL, else the local server).
func testPool(t *testing.T) *pgxpool.Pool {
	t.Helper()
	return pgtest.NewDB(t, pgtest.Schema(`
		CREATE TABLE events (
			id         bigint GENERATED ALWAYS AS IDENTITY,
			player_id  bigint      NOT NULL,
			payload    jsonb       NOT NULL DEFAULT 'null',
			created_at timestamptz NOT NULL,
			PRIMARY KEY (id, created_at)
		) PARTITION BY RANGE (created_at);
		CREATE TABLE events_default PARTITION OF events DEFAULT;
		CREATE INDEX events_created_at_idx ON events (created_at);`))
}

// clock is a clock the test moves.
type clock struct {
	now time.Time
	mu  sync.Mutex
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *clock) Set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = t
}

func quiet() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

func newMaintainer(t *testing.T, pool *pgxpool.Pool, clk *clock, reg prometheus.Registerer) *Maintainer {
	t.Helper()
	m, err := New(pool, Config{Table: "events", Interval: Month, Premake: 2, Retention: 1, Now: clk.Now}, reg, "svc", quiet())
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// partitionsOf lists the partitions of events, sorted.
func partitionsOf(t *testing.T, pool *pgxpool.Pool) []string {
	t.Helper()
	rows, err := pool.Query(context.Background(),
		"SELECT c.relname::text FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid WHERE i.inhparent = 'events'::regclass ORDER BY 1")
	if err != nil {
		t.Fatal(err)
	}
	names, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		t.Fatal(err)
	}
	return names
}

func month(y int, m time.Month, d int) time.Time { return time.Date(y, m, d, 12, 0, 0, 0, time.UTC) }

func TestMaintain(t *testing.T) {
	ctx := context.Background()
	pool := testPool(t)
	clk := &clock{now: month(2026, 1, 15)}
	reg := prometheus.NewRegistry()
	m := newMaintainer(t, pool, clk, reg)

	// Rows written before their partition existed wait in the default one.
	if _, err := pool.Exec(ctx, "INSERT INTO events (player_id, created_at) VALUES (1, $1), (2, $2), (3, $3)",
		month(2026, 2, 3), month(2026, 2, 28), month(2030, 1, 1)); err != nil {
		t.Fatal(err)
	}

	res, err := m.RunOnce(ctx)
	if err != nil {
		t.Fatalf("first run: %v", err)
	}
	want := []string{"events_p20260101", "events_p20260201", "events_p20260301"}
	if !slices.Equal(res.Created, want) || len(res.Dropped) != 0 || res.Moved != 2 {
		t.Fatalf("first run = %+v; want created %v, 2 rows moved", res, want)
	}
	if got := partitionsOf(t, pool); !slices.Equal(got, append([]string{"events_default"}, want...)) {
		t.Fatalf("partitions = %v", got)
	}
	var inFeb, inDefault int
	if err := pool.QueryRow(ctx, "SELECT (SELECT count(*) FROM events_p20260201), (SELECT count(*) FROM events_default)").Scan(&inFeb, &inDefault); err != nil {
		t.Fatal(err)
	}
	if inFeb != 2 || inDefault != 1 {
		t.Fatalf("rows: %d in February, %d in default; want 2 and 1", inFeb, inDefault)
	}
	// A new row goes straight to its partition.
	if _, err := pool.Exec(ctx, "INSERT INTO events (player_id, created_at) VALUES (4, $1)", month(2026, 3, 31)); err != nil {
		t.Fatal(err)
	}

	// Twice in a row: nothing more.
	if res, err := m.RunOnce(ctx); err != nil || len(res.Created)+len(res.Dropped) != 0 || res.Skipped {
		t.Fatalf("second run = %+v, %v; want nothing done", res, err)
	}

	// Three months later: three new partitions, the two past retention
	// (one month besides the current one) dropped.
	clk.Set(month(2026, 4, 10))
	res, err = m.RunOnce(ctx)
	if err != nil {
		t.Fatalf("April run: %v", err)
	}
	if want := []string{"events_p20260401", "events_p20260501", "events_p20260601"}; !slices.Equal(res.Created, want) {
		t.Fatalf("April run created %v, want %v", res.Created, want)
	}
	if want := []string{"events_p20260101", "events_p20260201"}; !slices.Equal(res.Dropped, want) {
		t.Fatalf("April run dropped %v, want %v", res.Dropped, want)
	}
	want = []string{"events_default", "events_p20260301", "events_p20260401", "events_p20260501", "events_p20260601"}
	if got := partitionsOf(t, pool); !slices.Equal(got, want) {
		t.Fatalf("partitions = %v, want %v", got, want)
	}
	var total int
	if err := pool.QueryRow(ctx, "SELECT count(*) FROM events").Scan(&total); err != nil || total != 2 {
		t.Fatalf("rows left = %d, %v; want 2 (March and 2030)", total, err)
	}

	// Concurrently, from four replicas: no error, nothing more.
	var wg sync.WaitGroup
	results := make([]Result, 4)
	errs := make([]error, 4)
	for i := range results {
		wg.Go(func() { results[i], errs[i] = newMaintainer(t, pool, clk, reg).RunOnce(ctx) })
	}
	wg.Wait()
	for i := range results {
		if errs[i] != nil || len(results[i].Created)+len(results[i].Dropped) != 0 {
			t.Fatalf("concurrent run %d = %+v, %v; want nothing done", i, results[i], errs[i])
		}
	}
	if got := partitionsOf(t, pool); !slices.Equal(got, want) {
		t.Fatalf("partitions after concurrent runs = %v, want %v", got, want)
	}

	// Concurrently when there is work: done exactly once.
	clk.Set(month(2026, 5, 2))
	for i := range results {
		wg.Go(func() { results[i], errs[i] = newMaintainer(t, pool, clk, reg).RunOnce(ctx) })
	}
	wg.Wait()
	var created, dropped []string
	for i := range results {
		if errs[i] != nil {
			t.Fatalf("concurrent run %d: %v", i, errs[i])
		}
		created = append(created, results[i].Created...)
		dropped = append(dropped, results[i].Dropped...)
	}
	if !slices.Equal(created, []string{"events_p20260701"}) || !slices.Equal(dropped, []string{"events_p20260301"}) {
		t.Fatalf("concurrent runs created %v and dropped %v; want July created and March dropped once", created, dropped)
	}

	if n := testutil.ToFloat64(m.metrics.created.WithLabelValues("events")); n != 7 {
		t.Errorf("created_total = %v, want 7", n)
	}
	if n := testutil.ToFloat64(m.metrics.dropped.WithLabelValues("events")); n != 3 {
		t.Errorf("dropped_total = %v, want 3", n)
	}
	if n := testutil.ToFloat64(m.metrics.lastSuccess.WithLabelValues("events")); n == 0 {
		t.Error("last_success_timestamp_seconds not set")
	}
}

func TestSkippedWhileLocked(t *testing.T) {
	ctx := context.Background()
	pool := testPool(t)
	m := newMaintainer(t, pool, &clock{now: month(2026, 1, 15)}, nil)

	conn, err := pool.Acquire(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Release()
	if _, err := conn.Exec(ctx, "SELECT pg_advisory_lock($1)", m.lockKey); err != nil {
		t.Fatal(err)
	}
	if res, err := m.RunOnce(ctx); err != nil || !res.Skipped || len(res.Created) != 0 {
		t.Fatalf("run while another session holds the lock = %+v, %v; want skipped", res, err)
	}
	if _, err := conn.Exec(ctx, "SELECT pg_advisory_unlock($1)", m.lockKey); err != nil {
		t.Fatal(err)
	}
	if res, err := m.RunOnce(ctx); err != nil || res.Skipped || len(res.Created) != 3 {
		t.Fatalf("run after unlock = %+v, %v; want 3 partitions created", res, err)
	}
}

func TestStartStop(t *testing.T) {
	pool := testPool(t)
	m, err := New(pool, Config{Table: "events", Interval: Day, Premake: 1, CheckEvery: 10 * time.Millisecond,
		Now: (&clock{now: month(2026, 1, 15)}).Now}, nil, "svc", quiet())
	if err != nil {
		t.Fatal(err)
	}
	stop := m.Start(context.Background())
	deadline := time.Now().Add(10 * time.Second)
	for len(partitionsOf(t, pool)) < 3 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	stop() // goleak checks that the job's goroutine is gone
	if got := partitionsOf(t, pool); !slices.Equal(got, []string{"events_default", "events_p20260115", "events_p20260116"}) {
		t.Fatalf("partitions = %v", got)
	}
}

func TestNotPartitioned(t *testing.T) {
	pool := testPool(t)
	if _, err := pool.Exec(context.Background(), "CREATE TABLE plain (created_at timestamptz)"); err != nil {
		t.Fatal(err)
	}
	for table, want := range map[string]string{"plain": "is not partitioned", "missing": "does not exist"} {
		m, err := New(pool, Config{Table: table, Interval: Month}, nil, "svc", quiet())
		if err != nil {
			t.Fatal(err)
		}
		if _, err := m.RunOnce(context.Background()); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: error %v, want %q", table, err, want)
		}
	}
}

func TestBadConfig(t *testing.T) {
	if _, err := New(nil, Config{Table: "", Interval: "year", Premake: -1}, nil, "svc", quiet()); err == nil {
		t.Fatal("New accepted an empty table, a bad interval and a negative premake")
	}
}

func TestInterval(t *testing.T) {
	at := time.Date(2026, 3, 19, 17, 4, 0, 0, time.FixedZone("x", 5*3600)) // 12:04 UTC, a Thursday
	for _, tc := range []struct {
		i          Interval
		floor, add string
	}{
		{Day, "2026-03-19", "2026-03-21"},
		{Week, "2026-03-16", "2026-03-30"},
		{Month, "2026-03-01", "2026-05-01"},
	} {
		f := tc.i.Floor(at)
		if got := f.Format(time.DateOnly); got != tc.floor {
			t.Errorf("%s: Floor = %s, want %s", tc.i, got, tc.floor)
		}
		if got := tc.i.Add(f, 2).Format(time.DateOnly); got != tc.add {
			t.Errorf("%s: Add(2) = %s, want %s", tc.i, got, tc.add)
		}
	}
}
