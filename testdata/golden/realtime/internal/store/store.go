// Package store is the service's data access: the Store interface, its
// Postgres implementation and an in-memory one for tests and STORE=memory.
package store

import (
	"context"
	"errors"
	"time"
)

var (
	// ErrNotFound is returned when no room has the id asked for; the
	// handlers answer 404 for it.
	ErrNotFound = errors.New("room not found")
	// ErrExists is returned when a room with the id exists already (409).
	ErrExists = errors.New("a room with this id exists")
)

// Room is one row of the rooms table. Its members live in the realtime
// hub, not here.
type Room struct {
	CreatedAt time.Time
	ID        string
	Title     string
}

// Store reads and writes rooms. Implementations must be safe for
// concurrent use.
type Store interface {
	// CreateRoom inserts a room, or returns ErrExists.
	CreateRoom(ctx context.Context, id, title string) (Room, error)
	// GetRoom returns the room or ErrNotFound.
	GetRoom(ctx context.Context, id string) (Room, error)
	// ListRooms returns up to limit rooms ordered by id.
	ListRooms(ctx context.Context, limit int) ([]Room, error)
	// DeleteRoom removes a room, or returns ErrNotFound.
	DeleteRoom(ctx context.Context, id string) error
	// Ping checks the backing database (readiness).
	Ping(ctx context.Context) error
}
