// Package store reads items from PostgreSQL with pgx.
package store

import (
	"context"

	"github.com/jackc/pgx/v5/pgxpool"
)

// Item is one item.
type Item struct {
	ID    string `json:"id"`
	Name  string `json:"name"`
	Price int64  `json:"price"`
}

// Store queries items.
type Store struct {
	pool *pgxpool.Pool
}

// New returns a Store on pool.
func New(pool *pgxpool.Pool) *Store { return &Store{pool: pool} }

// Item reads one item.
func (s *Store) Item(ctx context.Context, id string) (Item, error) {
	var it Item
	err := s.pool.QueryRow(ctx, "SELECT id, name, price FROM items WHERE id = $1", id).Scan(&it.ID, &it.Name, &it.Price)
	return it, err
}

// Price reads one item's price.
func (s *Store) Price(ctx context.Context, id string) (string, error) {
	var p string
	err := s.pool.QueryRow(ctx, "SELECT price::text FROM items WHERE id = $1", id).Scan(&p)
	return p, err
}
