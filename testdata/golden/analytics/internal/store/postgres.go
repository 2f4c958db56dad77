package store

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"example.com/golden-analytics/internal/platform/timeout"
)

// CopyThreshold: batches larger than this are written with COPY, smaller
// ones with one multi-row INSERT (COPY has a fixed cost per call).
const CopyThreshold = 50

// Postgres is the Store backed by a pgx pool. Every call runs under its own
// budget: the smaller of dbTimeout and what is left of the request's deadline.
type Postgres struct {
	pool      *pgxpool.Pool
	dbTimeout time.Duration
}

// NewPostgres returns a Store on pool; dbTimeout bounds each call.
func NewPostgres(pool *pgxpool.Pool, dbTimeout time.Duration) *Postgres {
	return &Postgres{pool: pool, dbTimeout: dbTimeout}
}

// budget bounds one database call.
func (p *Postgres) budget(ctx context.Context) (context.Context, context.CancelFunc) {
	return timeout.Budget(ctx, p.dbTimeout)
}

var eventColumns = []string{"player_id", "type", "payload", "created_at"}

// IngestEvents implements Store: one round trip whatever the batch size.
func (p *Postgres) IngestEvents(ctx context.Context, events []EventInput) (int64, error) {
	if len(events) == 0 {
		return 0, nil
	}
	ctx, cancel := p.budget(ctx)
	defer cancel()
	if len(events) > CopyThreshold {
		n, err := p.pool.CopyFrom(ctx, pgx.Identifier{"events"}, eventColumns,
			pgx.CopyFromSlice(len(events), func(i int) ([]any, error) {
				e := &events[i]
				return []any{e.PlayerID, e.Type, string(payloadOrNull(e.Payload)), e.CreatedAt}, nil
			}))
		if err != nil {
			return 0, fmt.Errorf("ingest %d events (copy): %w", len(events), err)
		}
		return n, nil
	}

	var sql strings.Builder
	sql.WriteString("INSERT INTO events (player_id, type, payload, created_at) VALUES ")
	args := make([]any, 0, 4*len(events))
	for i := range events {
		e := &events[i]
		if i > 0 {
			sql.WriteByte(',')
		}
		n := len(args)
		sql.WriteString("($" + strconv.Itoa(n+1) + ",$" + strconv.Itoa(n+2) + ",$" + strconv.Itoa(n+3) + "::jsonb,$" + strconv.Itoa(n+4) + ")")
		args = append(args, e.PlayerID, e.Type, string(payloadOrNull(e.Payload)), e.CreatedAt)
	}
	tag, err := p.pool.Exec(ctx, sql.String(), args...)
	if err != nil {
		return 0, fmt.Errorf("ingest %d events: %w", len(events), err)
	}
	return tag.RowsAffected(), nil
} // The time-range queries: both use an index (see the migration), and
// the planner scans only the partitions the range overlaps.
const (
	rangeQuery = "SELECT id, player_id, type, payload, created_at FROM events " +
		"WHERE created_at >= $1 AND created_at < $2 ORDER BY created_at, id LIMIT $3"
	playerRangeQuery = "SELECT id, player_id, type, payload, created_at FROM events " +
		"WHERE player_id = $1 AND created_at >= $2 AND created_at < $3 ORDER BY created_at, id LIMIT $4"
)

// QueryEvents implements Store.
func (p *Postgres) QueryEvents(ctx context.Context, q Query) ([]Event, error) {
	ctx, cancel := p.budget(ctx)
	defer cancel()
	var (
		rows pgx.Rows
		err  error
	)
	if q.PlayerID != 0 {
		rows, err = p.pool.Query(ctx, playerRangeQuery, q.PlayerID, q.From, q.To, q.Limit)
	} else {
		rows, err = p.pool.Query(ctx, rangeQuery, q.From, q.To, q.Limit)
	}
	if err != nil {
		return nil, fmt.Errorf("query events: %w", err)
	}
	events, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (Event, error) {
		var e Event
		err := row.Scan(&e.ID, &e.PlayerID, &e.Type, &e.Payload, &e.CreatedAt)
		return e, err
	})
	if err != nil {
		return nil, fmt.Errorf("query events: %w", err)
	}
	return events, nil
}

// LeaderboardQuery is the leaderboard, read from the
// leaderboard materialized view (migrations/00002): an index scan of its
// first rows, as fresh as the last refresh.
const LeaderboardQuery = "SELECT player_id, score, events FROM leaderboard ORDER BY score DESC, player_id LIMIT $1"

// Leaderboard implements Store.
func (p *Postgres) Leaderboard(ctx context.Context, limit int) ([]LeaderboardEntry, error) {
	ctx, cancel := p.budget(ctx)
	defer cancel()
	rows, err := p.pool.Query(ctx, LeaderboardQuery, limit)
	if err != nil {
		return nil, fmt.Errorf("leaderboard: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (LeaderboardEntry, error) {
		var e LeaderboardEntry
		err := row.Scan(&e.PlayerID, &e.Score, &e.Events)
		return e, err
	})
	if err != nil {
		return nil, fmt.Errorf("leaderboard: %w", err)
	}
	return out, nil
}

// Ping implements Store.
func (p *Postgres) Ping(ctx context.Context) error {
	ctx, cancel := p.budget(ctx)
	defer cancel()
	return p.pool.Ping(ctx)
}
