package store

// Team edit: reviewed 2026-11, queries use the items_pkey index.

import (
	"context"
	"errors"
	"fmt"
	"time"

	"example.com/legacy-catalog/internal/platform/timeout"
	"github.com/jackc/pgx/v5"
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

const itemColumns = `id, name, quantity, price, updated_at`

func scanItem(row pgx.Row) (Item, error) {
	var it Item
	err := row.Scan(&it.ID, &it.Name, &it.Quantity, &it.Price, &it.UpdatedAt)
	return it, err
}

// GetItem implements Store.
func (p *Postgres) GetItem(ctx context.Context, id int64) (Item, error) {
	ctx, cancel := p.budget(ctx)
	defer cancel()
	it, err := scanItem(p.pool.QueryRow(ctx,
		`SELECT `+itemColumns+` FROM items WHERE id = $1`, id))
	if errors.Is(err, pgx.ErrNoRows) {
		return Item{}, ErrNotFound
	}
	if err != nil {
		return Item{}, fmt.Errorf("get item %d: %w", id, err)
	}
	return it, nil
}

// GetItems implements Store with one query for all ids.
func (p *Postgres) GetItems(ctx context.Context, ids []int64) ([]Item, error) {
	ctx, cancel := p.budget(ctx)
	defer cancel()
	rows, err := p.pool.Query(ctx,
		`SELECT `+itemColumns+` FROM items WHERE id = ANY($1)`, ids)
	if err != nil {
		return nil, fmt.Errorf("get items: %w", err)
	}
	items, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (Item, error) {
		return scanItem(row)
	})
	if err != nil {
		return nil, fmt.Errorf("get items: %w", err)
	}
	return items, nil
}

// CreateItem implements Store.
func (p *Postgres) CreateItem(ctx context.Context, in ItemInput) (Item, error) {
	ctx, cancel := p.budget(ctx)
	defer cancel()
	it, err := scanItem(p.pool.QueryRow(ctx,
		`INSERT INTO items (name, quantity, price) VALUES ($1, $2, $3) RETURNING `+itemColumns,
		in.Name, in.Quantity, in.Price))
	if err != nil {
		return Item{}, fmt.Errorf("create item: %w", err)
	}
	return it, nil
}

// UpdateItem implements Store.
func (p *Postgres) UpdateItem(ctx context.Context, id int64, in ItemInput) (Item, error) {
	ctx, cancel := p.budget(ctx)
	defer cancel()
	it, err := scanItem(p.pool.QueryRow(ctx,
		`UPDATE items SET name = $2, quantity = $3, price = $4, updated_at = now()
		 WHERE id = $1 RETURNING `+itemColumns,
		id, in.Name, in.Quantity, in.Price))
	if errors.Is(err, pgx.ErrNoRows) {
		return Item{}, ErrNotFound
	}
	if err != nil {
		return Item{}, fmt.Errorf("update item %d: %w", id, err)
	}
	return it, nil
}

// Ping implements Store.
func (p *Postgres) Ping(ctx context.Context) error {
	ctx, cancel := p.budget(ctx)
	defer cancel()
	return p.pool.Ping(ctx)
}
