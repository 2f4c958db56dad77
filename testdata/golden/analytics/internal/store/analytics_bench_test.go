package store

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// rawLeaderboard is the leaderboard aggregated from the events table on
// every call: the baseline of the materialized view.
const rawLeaderboard = `SELECT player_id,
       coalesce(sum((payload->>'score')::numeric) FILTER (WHERE jsonb_typeof(payload->'score') = 'number'), 0)::bigint AS score,
       count(*) AS events
FROM events GROUP BY player_id ORDER BY score DESC, player_id LIMIT $1`

// BenchmarkAnalytics1M loads 1M events once (60 days from 2026-01-01,
// time-ordered, 50k players, a score in each payload) into a fresh
// database: into the events table, partitioned by month, and into
// events_flat, an unpartitioned copy with the same indexes. Then, each
// against its baseline in the same run:
//
//   - Leaderboard: the top 100 from the materialized view vs the same
//     aggregate over the raw table (indexed on player_id, created_at);
//   - RangeQuery: every event of one day, partitioned vs unpartitioned;
//   - Ingest: rows/s by COPY (the store's path above CopyThreshold) vs a
//     pgx.Batch of single-row INSERTs vs single-row INSERTs in one
//     transaction, 10000 rows per op;
//   - Retention: dropping January (~0.5M rows) by DETACH + DROP of its
//     partition vs DELETE + VACUUM on the unpartitioned copy, time and
//     WAL bytes. Destructive, so measured once per run: its ns/op is that
//     one measurement.
//
// Loading takes a while on a small machine; run it alone with
// `go test -run '^$' -bench Analytics1M ./internal/store`.
func BenchmarkAnalytics1M(b *testing.B) {
	ctx := context.Background()
	pool := testDB(b)
	makePartitions(b, pool)
	began := time.Now()
	for _, sql := range []string{
		`INSERT INTO events (player_id, type, payload, created_at)
		 SELECT 1 + (i::bigint * 7919) % 50000, 'match_end', jsonb_build_object('score', i % 100),
		        timestamptz '2026-01-01 00:00:00+00' + i * interval '5184 milliseconds'
		 FROM generate_series(0, 999999) i`,
		`CREATE TABLE events_flat (LIKE events INCLUDING DEFAULTS INCLUDING CONSTRAINTS)`,
		`INSERT INTO events_flat SELECT * FROM events ORDER BY created_at`,
		`ALTER TABLE events_flat ADD PRIMARY KEY (id)`,
		`CREATE INDEX ON events_flat (created_at)`,
		`CREATE INDEX ON events_flat (player_id, created_at)`,
		`VACUUM ANALYZE events_flat`,
		`REFRESH MATERIALIZED VIEW leaderboard`,
		`VACUUM ANALYZE leaderboard`,
		`VACUUM ANALYZE events`,
	} {
		if _, err := pool.Exec(ctx, sql); err != nil {
			b.Fatalf("load: %s: %v", strings.Fields(sql)[0], err)
		}
	}
	b.Logf("loaded 1M events in %s", time.Since(began).Round(time.Millisecond))
	s := NewPostgres(pool, 5*time.Minute)

	leaderboard := func(sql string) func(*testing.B) {
		return func(b *testing.B) {
			for b.Loop() {
				rows, err := pool.Query(ctx, sql, 100)
				if err != nil {
					b.Fatal(err)
				}
				n := 0
				for rows.Next() {
					n++
				}
				if rows.Err() != nil || n != 100 {
					b.Fatalf("leaderboard: %d rows, %v", n, rows.Err())
				}
			}
		}
	}
	b.Run("Leaderboard/view", leaderboard(LeaderboardQuery))
	b.Run("Leaderboard/raw", leaderboard(rawLeaderboard))

	day := time.Date(2026, 2, 10, 0, 0, 0, 0, time.UTC)
	rangeOf := func(sql string) func(*testing.B) {
		return func(b *testing.B) {
			for b.Loop() {
				rows, err := pool.Query(ctx, sql, day, day.Add(24*time.Hour), 1_000_000)
				if err != nil {
					b.Fatal(err)
				}
				n := 0
				for rows.Next() {
					n++
				}
				if rows.Err() != nil || n < 16_000 {
					b.Fatalf("range query: %d rows, %v", n, rows.Err())
				}
			}
		}
	}
	b.Run("RangeQuery/partitioned", rangeOf(rangeQuery))
	b.Run("RangeQuery/unpartitioned", rangeOf(strings.Replace(rangeQuery, "FROM events ", "FROM events_flat ", 1)))

	// Ingest: 10000 rows per op, in March.
	const perOp = 10_000
	batch := eventsBetween(perOp, time.Date(2026, 3, 2, 0, 0, 0, 0, time.UTC), time.Date(2026, 3, 3, 0, 0, 0, 0, time.UTC), 50_000)
	ingest := func(write func(context.Context) error) func(*testing.B) {
		return func(b *testing.B) {
			for b.Loop() {
				if err := write(ctx); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(perOp*b.N)/b.Elapsed().Seconds(), "rows/s")
		}
	}
	const insert = "INSERT INTO events (player_id, type, payload, created_at) VALUES ($1, $2, $3::jsonb, $4)"
	b.Run("Ingest/copy", ingest(func(ctx context.Context) error {
		_, err := s.IngestEvents(ctx, batch)
		return err
	}))
	b.Run("Ingest/batch", ingest(func(ctx context.Context) error {
		var pb pgx.Batch
		for i := range batch {
			e := &batch[i]
			pb.Queue(insert, e.PlayerID, e.Type, string(e.Payload), e.CreatedAt)
		}
		return pool.SendBatch(ctx, &pb).Close()
	}))
	b.Run("Ingest/single", ingest(func(ctx context.Context) error {
		return pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error {
			for i := range batch {
				e := &batch[i]
				if _, err := tx.Exec(ctx, insert, e.PlayerID, e.Type, string(e.Payload), e.CreatedAt); err != nil {
					return err
				}
			}
			return nil
		})
	}))

	// Retention of January, once each.
	part := measure(b, pool, "ALTER TABLE events DETACH PARTITION events_p20260101", "DROP TABLE events_p20260101")
	del := measure(b, pool, "DELETE FROM events_flat WHERE created_at < '2026-02-01 00:00:00+00'")
	vac := measure(b, pool, "VACUUM events_flat")
	b.Logf("retention of January: DETACH + DROP %s, %.1f MB WAL; DELETE %s + VACUUM %s, %.1f MB WAL",
		part.d.Round(time.Millisecond), part.wal/1e6, del.d.Round(time.Millisecond), vac.d.Round(time.Millisecond), (del.wal+vac.wal)/1e6)
	report := func(m measured) func(*testing.B) {
		return func(b *testing.B) {
			for b.Loop() {
			}
			b.ReportMetric(float64(m.d.Nanoseconds()), "ns/op")
			b.ReportMetric(m.wal, "WAL-bytes/op")
		}
	}
	b.Run("Retention/detach_drop", report(part))
	b.Run("Retention/delete_vacuum", report(measured{d: del.d + vac.d, wal: del.wal + vac.wal}))
}

// measured is the time and WAL of one measure.
type measured struct {
	d   time.Duration
	wal float64
}

// measure runs the statements once and returns their time and the WAL
// they wrote (the server's other activity included).
func measure(b *testing.B, pool *pgxpool.Pool, sqls ...string) measured {
	b.Helper()
	ctx := context.Background()
	var lsn string
	if err := pool.QueryRow(ctx, "SELECT pg_current_wal_insert_lsn()::text").Scan(&lsn); err != nil {
		b.Fatal(err)
	}
	began := time.Now()
	for _, sql := range sqls {
		if _, err := pool.Exec(ctx, sql); err != nil {
			b.Fatalf("%s: %v", sql, err)
		}
	}
	d := time.Since(began)
	var wal float64
	if err := pool.QueryRow(ctx, "SELECT pg_wal_lsn_diff(pg_current_wal_insert_lsn(), $1::pg_lsn)::float8", lsn).Scan(&wal); err != nil {
		b.Fatal(err)
	}
	return measured{d: d, wal: wal}
}
