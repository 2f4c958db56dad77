// Package store is the service's data access: the Store interface, its
// Postgres implementation and an in-memory one for tests and STORE=memory.
package store

import (
	"context"
	"errors"
	"time"
)

// ErrNotFound is returned when no item has the id asked for; the handlers
// answer 404 for it.
var ErrNotFound = errors.New("item not found")

// Item is one row of the items table.
type Item struct {
	UpdatedAt time.Time
	Name      string
	ID        int64
	Price     int64 // smallest currency unit
	Quantity  int32
}

// ItemInput holds the fields a client may set.
type ItemInput struct {
	Name     string
	Price    int64
	Quantity int32
}

// Store reads and writes items. Implementations must be safe for concurrent use.
type Store interface {
	// GetItem returns the item or ErrNotFound.
	GetItem(ctx context.Context, id int64) (Item, error)
	// GetItems returns the items that exist among ids, in one round trip.
	GetItems(ctx context.Context, ids []int64) ([]Item, error)
	// CreateItem inserts an item and returns it with its id.
	CreateItem(ctx context.Context, in ItemInput) (Item, error)
	// UpdateItem replaces an item's fields, or returns ErrNotFound.
	UpdateItem(ctx context.Context, id int64, in ItemInput) (Item, error)
	// Ping checks the backing database (readiness).
	Ping(ctx context.Context) error
}
