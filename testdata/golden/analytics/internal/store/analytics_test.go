package store

import (
	"context"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"strings"
	"testing"
	"time"

	"example.com/golden-analytics/internal/platform/matview"
	"example.com/golden-analytics/internal/platform/partition"
	"example.com/golden-analytics/migrations"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

func quietLog() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

// makePartitions creates the monthly partitions of events from January
// 2026 to March 2026, as the service's job does with its clock there.
func makePartitions(tb testing.TB, pool *pgxpool.Pool) {
	tb.Helper()
	m, err := partition.New(pool, partition.Config{
		Table: "events", Interval: partition.Month, Premake: 2,
		Now: func() time.Time { return time.Date(2026, 1, 15, 0, 0, 0, 0, time.UTC) },
	}, nil, "test", quietLog())
	if err != nil {
		tb.Fatal(err)
	}
	if _, err := m.RunOnce(context.Background()); err != nil {
		tb.Fatalf("create partitions: %v", err)
	}
}

// relations lists the service's tables and views that exist, with their
// pg_class kind.
func relations(t *testing.T, conn interface {
	Query(context.Context, string, ...any) (pgx.Rows, error)
}) map[string]string {
	t.Helper()
	rows, err := conn.Query(context.Background(), `SELECT relname::text, relkind::text FROM pg_class
		WHERE relnamespace = 'public'::regnamespace AND relname IN ('events', 'events_default', 'leaderboard')`)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	for rows.Next() {
		var name, kind string
		if err := rows.Scan(&name, &kind); err != nil {
			t.Fatal(err)
		}
		out[name] = kind
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// TestMigrationsUpDown applies every migration to a fresh database, rolls
// them all back, then applies them again.
func TestMigrationsUpDown(t *testing.T) {
	ctx := context.Background()
	cfg := newDatabase(t)
	files, err := fs.Glob(migrations.FS, "*.sql")
	if err != nil || len(files) == 0 {
		t.Fatalf("no migrations: %v", err)
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()

	want := map[string]string{
		"events": "p", "events_default": "r",
		"leaderboard": "m",
	}
	for round := range 2 {
		if err := migrate(ctx, cfg, "up"); err != nil {
			t.Fatalf("round %d: up: %v", round, err)
		}
		if got := relations(t, pool); fmt.Sprint(got) != fmt.Sprint(want) {
			t.Fatalf("round %d: after up: %v, want %v", round, got, want)
		}
		for i := range files {
			if err := migrate(ctx, cfg, "down"); err != nil {
				t.Fatalf("round %d: down %d: %v", round, i, err)
			}
		}
		if got := relations(t, pool); len(got) != 0 {
			t.Fatalf("round %d: after every down: %v left", round, got)
		}
	}
}

// events100k returns n events over January to March 2026, time-ordered,
// of 5000 players, each with a score.
func eventsBetween(n int, from, to time.Time, players int) []EventInput {
	out := make([]EventInput, n)
	step := to.Sub(from) / time.Duration(n)
	for i := range out {
		out[i] = EventInput{
			PlayerID:  int64(1 + (i*7919)%players),
			Type:      "match_end",
			Payload:   []byte(fmt.Sprintf(`{"score":%d}`, i%100)),
			CreatedAt: from.Add(time.Duration(i) * step),
		}
	}
	return out
}

var (
	jan1 = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	apr1 = time.Date(2026, 4, 1, 0, 0, 0, 0, time.UTC)
)

// TestCopyIngest100k writes 100k events through IngestEvents in batches of
// 10000, the API's largest, each one COPY.
func TestCopyIngest100k(t *testing.T) {
	ctx := context.Background()
	pool := testDB(t)
	makePartitions(t, pool)
	s := NewPostgres(pool, time.Minute)
	events := eventsBetween(100_000, jan1, apr1, 5000)
	began := time.Now()
	for i := 0; i < len(events); i += 10_000 {
		if n, err := s.IngestEvents(ctx, events[i:i+10_000]); err != nil || n != 10_000 {
			t.Fatalf("batch %d: %d, %v", i/10_000, n, err)
		}
	}
	d := time.Since(began)
	t.Logf("100000 events in %s: %.0f events/s", d.Round(time.Millisecond), 100_000/d.Seconds())

	var total int
	if err := pool.QueryRow(ctx, "SELECT count(*) FROM events").Scan(&total); err != nil || total != 100_000 {
		t.Fatalf("count = %d, %v; want 100000", total, err)
	}
	var def, jan, feb, mar int
	if err := pool.QueryRow(ctx, `SELECT (SELECT count(*) FROM events_default), (SELECT count(*) FROM events_p20260101),
		(SELECT count(*) FROM events_p20260201), (SELECT count(*) FROM events_p20260301)`).Scan(&def, &jan, &feb, &mar); err != nil {
		t.Fatal(err)
	}
	if def != 0 || jan == 0 || feb == 0 || mar == 0 || jan+feb+mar != 100_000 {
		t.Fatalf("rows per partition: default %d, Jan %d, Feb %d, Mar %d", def, jan, feb, mar)
	}
	got, err := s.QueryEvents(ctx, Query{From: jan1, To: apr1, Limit: 10})
	if err != nil || len(got) != 10 || !got[0].CreatedAt.Equal(jan1) {
		t.Fatalf("QueryEvents after ingest = %d events, %v", len(got), err)
	}
}

// explain returns the plan of sql with args, one line per node.
func explain(t *testing.T, conn interface {
	Query(context.Context, string, ...any) (pgx.Rows, error)
}, sql string, args ...any) string {
	t.Helper()
	rows, err := conn.Query(context.Background(), sql, args...)
	if err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
	lines, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
	return strings.Join(lines, "\n")
}

// TestPartitionPruning checks that a time-range query reads only the
// partitions its range overlaps: with its parameters known when planning
// (pgx's usual custom plan) the others are not in the plan; with a generic
// plan they are pruned when it starts (EXPLAIN: "Subplans Removed").
func TestPartitionPruning(t *testing.T) {
	ctx := context.Background()
	pool := testDB(t)
	makePartitions(t, pool)
	s := NewPostgres(pool, time.Minute)
	if _, err := s.IngestEvents(ctx, eventsBetween(3000, jan1, apr1, 100)); err != nil {
		t.Fatal(err)
	}
	if _, err := pool.Exec(ctx, "ANALYZE events"); err != nil {
		t.Fatal(err)
	}
	from := time.Date(2026, 2, 10, 0, 0, 0, 0, time.UTC)
	to := from.Add(24 * time.Hour)

	for _, tc := range []struct {
		sql  string
		args []any
	}{
		{rangeQuery, []any{from, to, 100}},
		{playerRangeQuery, []any{int64(7), from, to, 100}},
	} {
		plan := explain(t, pool, "EXPLAIN (COSTS OFF) "+tc.sql, tc.args...)
		if !strings.Contains(plan, "events_p20260201") {
			t.Fatalf("the February partition is not scanned:\n%s", plan)
		}
		for _, other := range []string{"events_p20260101", "events_p20260301", "events_default"} {
			if strings.Contains(plan, other) {
				t.Fatalf("%s is scanned for a range in February:\n%s", other, plan)
			}
		}
	}

	conn, err := pool.Acquire(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Release()
	if _, err := conn.Exec(ctx, "SET plan_cache_mode = force_generic_plan"); err != nil {
		t.Fatal(err)
	}
	defer conn.Exec(context.Background(), "RESET plan_cache_mode")
	if _, err := conn.Exec(ctx, "PREPARE range_q(timestamptz, timestamptz, bigint) AS "+rangeQuery); err != nil {
		t.Fatal(err)
	}
	defer conn.Exec(context.Background(), "DEALLOCATE range_q")
	plan := explain(t, conn, fmt.Sprintf("EXPLAIN (COSTS OFF) EXECUTE range_q('%s', '%s', 100)",
		from.Format(time.RFC3339), to.Format(time.RFC3339)))
	if !strings.Contains(plan, "Subplans Removed") {
		t.Fatalf("generic plan without run-time pruning:\n%s", plan)
	}
	t.Logf("generic plan:\n%s", plan)
}

// TestLeaderboardPostgres ranks players from the events table, through
// the leaderboard materialized view (refreshed as the service's job does).
func TestLeaderboardPostgres(t *testing.T) {
	pool := testDB(t)
	makePartitions(t, pool)
	r, err := matview.New(pool, matview.Config{Views: []string{"leaderboard"}}, nil, "test", quietLog())
	if err != nil {
		t.Fatal(err)
	}
	exerciseLeaderboard(t, NewPostgres(pool, 5*time.Second), func(ctx context.Context) error {
		_, err := r.Refresh(ctx, "leaderboard")
		return err
	})
}

func TestLeaderboardMemory(t *testing.T) { exerciseLeaderboard(t, NewMemory(), nil) }

// exerciseLeaderboard checks the ranking; refresh (when not nil) brings
// the leaderboard up to date after writes.
func exerciseLeaderboard(t *testing.T, s Store, refresh func(context.Context) error) {
	t.Helper()
	ctx := context.Background()
	at := time.Date(2026, 2, 1, 10, 0, 0, 0, time.UTC)
	in := []EventInput{
		{PlayerID: 1, Type: "match_end", Payload: []byte(`{"score":10}`), CreatedAt: at},
		{PlayerID: 1, Type: "match_end", Payload: []byte(`{"score":20.4}`), CreatedAt: at.Add(time.Minute)},
		{PlayerID: 2, Type: "match_end", Payload: []byte(`{"score":50}`), CreatedAt: at},
		{PlayerID: 3, Type: "match_end", Payload: []byte(`{"score":"high"}`), CreatedAt: at},
		{PlayerID: 3, Type: "login", CreatedAt: at},
		{PlayerID: 4, Type: "match_end", Payload: []byte(`{"score":30,"kills":3}`), CreatedAt: at.Add(time.Hour)},
	}
	if _, err := s.IngestEvents(ctx, in); err != nil {
		t.Fatal(err)
	}
	if refresh != nil {
		if err := refresh(ctx); err != nil {
			t.Fatalf("refresh: %v", err)
		}
	}
	got, err := s.Leaderboard(ctx, 10)
	if err != nil {
		t.Fatal(err)
	}
	want := []LeaderboardEntry{
		{PlayerID: 2, Score: 50, Events: 1}, {PlayerID: 1, Score: 30, Events: 2},
		{PlayerID: 4, Score: 30, Events: 1}, {PlayerID: 3, Score: 0, Events: 2},
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("Leaderboard(10) = %v, want %v", got, want)
	}
	if top, err := s.Leaderboard(ctx, 2); err != nil || fmt.Sprint(top) != fmt.Sprint(want[:2]) {
		t.Fatalf("Leaderboard(2) = %v, %v", top, err)
	}
}
