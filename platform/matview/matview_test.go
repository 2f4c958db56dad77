package matview

import (
	"context"
	"errors"
	"hash/fnv"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"go.uber.org/goleak"

	"github.com/svcgen/svcgen/platform/pgtest"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// testPool returns a pool on a new database, dropped when the test ends,
// with a scores table and a populated materialized view "totals" over it
// (pgtest: SVCGEN_TEST_PG_URL, else DATABASE_URL, else the local server).
func testPool(t *testing.T) *pgxpool.Pool {
	t.Helper()
	return pgtest.NewDB(t, pgtest.Schema(`
		CREATE TABLE scores (player_id bigint NOT NULL, score bigint NOT NULL);
		INSERT INTO scores SELECT i % 1000, i FROM generate_series(1, 10000) i;
		CREATE MATERIALIZED VIEW totals AS SELECT player_id, sum(score) AS score FROM scores GROUP BY player_id;
		CREATE UNIQUE INDEX totals_player_id_idx ON totals (player_id);`))
}

func quiet() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

func total(t *testing.T, pool *pgxpool.Pool) int64 {
	t.Helper()
	var n int64
	if err := pool.QueryRow(context.Background(), "SELECT coalesce(sum(score), 0)::bigint FROM totals").Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

func TestRefresh(t *testing.T) {
	ctx := context.Background()
	pool := testPool(t)
	reg := prometheus.NewRegistry()
	r, err := New(pool, Config{Views: []string{"totals"}}, reg, "svc", quiet())
	if err != nil {
		t.Fatal(err)
	}
	before := total(t, pool)
	if _, err := pool.Exec(ctx, "INSERT INTO scores VALUES (1, 1000000)"); err != nil {
		t.Fatal(err)
	}
	if total(t, pool) != before {
		t.Fatal("the view changed before a refresh")
	}
	if ok, err := r.Refresh(ctx, "totals"); err != nil || !ok {
		t.Fatalf("Refresh = %v, %v", ok, err)
	}
	if got := total(t, pool); got != before+1000000 {
		t.Fatalf("after refresh: total %d, want %d", got, before+1000000)
	}
	if n := testutil.ToFloat64(r.refreshes.WithLabelValues("totals", "ok")); n != 1 {
		t.Errorf("refreshes_total{result=ok} = %v, want 1", n)
	}
	if n := testutil.ToFloat64(r.lastSuccess.WithLabelValues("totals")); n < float64(time.Now().Add(-time.Minute).Unix()) {
		t.Errorf("last_success_timestamp_seconds = %v", n)
	}
	if n := testutil.CollectAndCount(r.duration); n != 1 {
		t.Errorf("refresh_duration_seconds series = %d, want 1", n)
	}

	// Another session holds the view's lock: skipped.
	conn, err := pool.Acquire(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Release()
	h := fnv.New64a()
	h.Write([]byte("svcgen.matview.totals"))
	key := int64(h.Sum64())
	if _, err := conn.Exec(ctx, "SELECT pg_advisory_lock($1)", key); err != nil {
		t.Fatal(err)
	}
	if ok, err := r.Refresh(ctx, "totals"); err != nil || ok {
		t.Fatalf("Refresh while locked = %v, %v; want skipped", ok, err)
	}
	if _, err := conn.Exec(ctx, "SELECT pg_advisory_unlock($1)", key); err != nil {
		t.Fatal(err)
	}

	if _, err := r.Refresh(ctx, "missing"); err == nil {
		t.Error("Refresh of a missing view: no error")
	}
}

func TestRefreshNeverPopulated(t *testing.T) {
	ctx := context.Background()
	pool := testPool(t)
	if _, err := pool.Exec(ctx, `
		CREATE MATERIALIZED VIEW empty_totals AS SELECT player_id, sum(score) AS score FROM scores GROUP BY player_id WITH NO DATA;
		CREATE UNIQUE INDEX ON empty_totals (player_id);`); err != nil {
		t.Fatal(err)
	}
	r, err := New(pool, Config{Views: []string{"empty_totals"}}, nil, "svc", quiet())
	if err != nil {
		t.Fatal(err)
	}
	for range 2 { // plain the first time, CONCURRENTLY the second
		if ok, err := r.Refresh(ctx, "empty_totals"); err != nil || !ok {
			t.Fatalf("Refresh = %v, %v", ok, err)
		}
	}
}

// TestConcurrentRefreshDoesNotBlockReaders holds a refresh in the middle
// of its work (another transaction locks the base table, so the refresh
// waits while it holds its own lock on the view) and reads the view
// meanwhile. A plain REFRESH in the same place blocks the reader: the
// control case shows the test would notice.
func TestConcurrentRefreshDoesNotBlockReaders(t *testing.T) {
	ctx := context.Background()
	pool := testPool(t)
	r, err := New(pool, Config{Views: []string{"totals"}}, nil, "svc", quiet())
	if err != nil {
		t.Fatal(err)
	}

	read := func() error {
		tx, err := pool.Begin(ctx)
		if err != nil {
			return err
		}
		defer tx.Rollback(ctx)
		if _, err := tx.Exec(ctx, "SET LOCAL lock_timeout = '500ms'"); err != nil {
			return err
		}
		var n int64
		return tx.QueryRow(ctx, "SELECT count(*) FROM totals").Scan(&n)
	}

	for _, tc := range []struct {
		refresh   func(context.Context) error
		name      string
		wantBlock bool
	}{
		{name: "CONCURRENTLY", refresh: func(ctx context.Context) error { _, err := r.Refresh(ctx, "totals"); return err }},
		{name: "plain", wantBlock: true, refresh: func(ctx context.Context) error {
			_, err := pool.Exec(ctx, "REFRESH MATERIALIZED VIEW totals")
			return err
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			blocker, err := pool.Begin(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := blocker.Exec(ctx, "LOCK TABLE scores IN ACCESS EXCLUSIVE MODE"); err != nil {
				t.Fatal(err)
			}
			done := make(chan error, 1)
			go func() { done <- tc.refresh(ctx) }()

			// Wait until the refresh is waiting on the base table.
			deadline := time.Now().Add(10 * time.Second)
			for {
				var waiting bool
				if err := pool.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM pg_stat_activity
					WHERE datname = current_database() AND query ILIKE 'REFRESH MATERIALIZED VIEW%' AND wait_event_type = 'Lock')`).Scan(&waiting); err != nil {
					t.Fatal(err)
				}
				if waiting {
					break
				}
				if time.Now().After(deadline) {
					t.Fatal("the refresh never started waiting")
				}
				time.Sleep(5 * time.Millisecond)
			}

			err = read()
			var pgErr *pgconn.PgError
			blocked := errors.As(err, &pgErr) && pgErr.Code == "55P03" // lock_not_available
			if err != nil && !blocked {
				t.Fatalf("read: %v", err)
			}
			if err := blocker.Rollback(ctx); err != nil {
				t.Fatal(err)
			}
			if err := <-done; err != nil {
				t.Fatalf("refresh: %v", err)
			}
			if blocked != tc.wantBlock {
				t.Fatalf("reader blocked during a %s refresh: %v, want %v", tc.name, blocked, tc.wantBlock)
			}
		})
	}
}

func TestStartStop(t *testing.T) {
	pool := testPool(t)
	r, err := New(pool, Config{Views: []string{"totals"}, RefreshEvery: 5 * time.Millisecond}, nil, "svc", quiet())
	if err != nil {
		t.Fatal(err)
	}
	stop := r.Start(context.Background())
	deadline := time.Now().Add(10 * time.Second)
	for testutil.ToFloat64(r.refreshes.WithLabelValues("totals", "ok")) < 2 && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	stop() // goleak checks that the refresher's goroutine is gone
	if n := testutil.ToFloat64(r.refreshes.WithLabelValues("totals", "ok")); n < 2 {
		t.Fatalf("refreshes = %v, want 2 or more", n)
	}
	if _, err := New(pool, Config{}, nil, "svc", quiet()); err == nil {
		t.Error("New accepted a config without views")
	}
}
