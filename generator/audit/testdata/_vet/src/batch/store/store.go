package store // want package:"routers=\\[\\] pool=false cache=false deadline=false ogen=false"

import (
	"context"
	"database/sql"
)

// Store is what the handlers need; pg is its only implementation, so its
// methods carry pg's round-trip facts.
type Store interface {
	Item(ctx context.Context, id int64) (string, error) // want Item:"roundtrip\\(read\\)"
	Touch(ctx context.Context, id int64) error          // want Touch:"^roundtrip$"
	Name() string
}

type pg struct{ db *sql.DB }

// New returns the Store on db.
func New(db *sql.DB) Store { return &pg{db: db} }

func (s *pg) Item(ctx context.Context, id int64) (string, error) { // want Item:"roundtrip\\(read\\)"
	var n string
	err := s.db.QueryRowContext(ctx, "SELECT name FROM items WHERE id = $1", id).Scan(&n)
	return n, err
}

func (s *pg) Touch(ctx context.Context, id int64) error { // want Touch:"^roundtrip$"
	_, err := s.db.ExecContext(ctx, "UPDATE items SET seen = now() WHERE id = $1", id)
	return err
}

func (s *pg) Name() string { return "pg" }

// Load reads an item through the Store: a helper that queries, two calls
// away from the database.
func Load(ctx context.Context, s Store, id int64) (string, error) { // want Load:"roundtrip\\(read\\)"
	return s.Item(ctx, id)
}

// Page is generic: the search for the Store's implementation passes over
// it (Implements is undefined on uninstantiated types).
type Page[T any] struct{ Items []T }

// Len counts the items.
func (p Page[T]) Len() int { return len(p.Items) }
