package store

import (
	"context"
	"errors"
	"fmt"
	"time"

	"example.com/golden-realtime/internal/platform/timeout"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
)

// Postgres is the Store backed by a pgx pool. Every call runs under its own
// budget: the smaller of dbTimeout and what is left of the request's deadline.
type Postgres struct {
	pool      *pgxpool.Pool
	dbTimeout time.Duration
}

// NewPostgres returns a Store on pool; dbTimeout bounds each query.
func NewPostgres(pool *pgxpool.Pool, dbTimeout time.Duration) *Postgres {
	return &Postgres{pool: pool, dbTimeout: dbTimeout}
}

// budget bounds one database call.
func (p *Postgres) budget(ctx context.Context) (context.Context, context.CancelFunc) {
	return timeout.Budget(ctx, p.dbTimeout)
}

const roomColumns = `id, title, created_at`

func scanRoom(row pgx.Row) (Room, error) {
	var r Room
	err := row.Scan(&r.ID, &r.Title, &r.CreatedAt)
	return r, err
}

// uniqueViolation is PostgreSQL's SQLSTATE for a duplicate key.
const uniqueViolation = "23505"

// CreateRoom implements Store.
func (p *Postgres) CreateRoom(ctx context.Context, id, title string) (Room, error) {
	ctx, cancel := p.budget(ctx)
	defer cancel()
	r, err := scanRoom(p.pool.QueryRow(ctx,
		`INSERT INTO rooms (id, title) VALUES ($1, $2) RETURNING `+roomColumns, id, title))
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) && pgErr.Code == uniqueViolation {
		return Room{}, ErrExists
	}
	if err != nil {
		return Room{}, fmt.Errorf("create room %q: %w", id, err)
	}
	return r, nil
}

// GetRoom implements Store.
func (p *Postgres) GetRoom(ctx context.Context, id string) (Room, error) {
	ctx, cancel := p.budget(ctx)
	defer cancel()
	r, err := scanRoom(p.pool.QueryRow(ctx, `SELECT `+roomColumns+` FROM rooms WHERE id = $1`, id))
	if errors.Is(err, pgx.ErrNoRows) {
		return Room{}, ErrNotFound
	}
	if err != nil {
		return Room{}, fmt.Errorf("get room %q: %w", id, err)
	}
	return r, nil
}

// ListRooms implements Store.
func (p *Postgres) ListRooms(ctx context.Context, limit int) ([]Room, error) {
	ctx, cancel := p.budget(ctx)
	defer cancel()
	rows, err := p.pool.Query(ctx, `SELECT `+roomColumns+` FROM rooms ORDER BY id LIMIT $1`, limit)
	if err != nil {
		return nil, fmt.Errorf("list rooms: %w", err)
	}
	rooms, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (Room, error) {
		return scanRoom(row)
	})
	if err != nil {
		return nil, fmt.Errorf("list rooms: %w", err)
	}
	return rooms, nil
}

// DeleteRoom implements Store.
func (p *Postgres) DeleteRoom(ctx context.Context, id string) error {
	ctx, cancel := p.budget(ctx)
	defer cancel()
	tag, err := p.pool.Exec(ctx, `DELETE FROM rooms WHERE id = $1`, id)
	if err != nil {
		return fmt.Errorf("delete room %q: %w", id, err)
	}
	if tag.RowsAffected() == 0 {
		return ErrNotFound
	}
	return nil
}

// Ping implements Store.
func (p *Postgres) Ping(ctx context.Context) error {
	ctx, cancel := p.budget(ctx)
	defer cancel()
	return p.pool.Ping(ctx)
}
