// Package store is the service's data access: the Store interface, its
// Postgres implementation and an in-memory one for tests and STORE=memory.
package store

import (
	"context"
	"errors"
	"time"
)

// ErrNotFound is returned when what was asked for does not exist; the
// handlers answer 404 for it.
var ErrNotFound = errors.New("not found")

// Event is one row of the events table.
type Event struct {
	CreatedAt time.Time
	Type      string
	Payload   []byte // JSON; "null" when none was sent
	ID        int64
	PlayerID  int64
}

// EventInput is one event to store.
type EventInput struct {
	CreatedAt time.Time
	Type      string
	Payload   []byte // JSON; empty means null
	PlayerID  int64
}

// Query selects events: From <= created_at < To, optionally one player's,
// oldest first, at most Limit.
type Query struct {
	From     time.Time
	To       time.Time
	PlayerID int64 // 0: all players
	Limit    int
}

// LeaderboardEntry is one player's line of the leaderboard.
type LeaderboardEntry struct {
	PlayerID int64
	Score    int64 // sum of the numeric "score" fields of the player's payloads
	Events   int64 // how many events the player has
}

// Store reads and writes events. Implementations must be safe for concurrent use.
type Store interface {
	// IngestEvents stores the events and returns how many were stored.
	IngestEvents(ctx context.Context, events []EventInput) (int64, error)
	// QueryEvents returns the events q selects.
	QueryEvents(ctx context.Context, q Query) ([]Event, error)
	// Leaderboard returns the limit best players by score, highest first,
	// ties by player id.
	Leaderboard(ctx context.Context, limit int) ([]LeaderboardEntry, error)
	// Ping checks the backing database (readiness).
	Ping(ctx context.Context) error
}

// payloadOrNull returns p, or the JSON null when p is empty.
func payloadOrNull(p []byte) []byte {
	if len(p) == 0 {
		return []byte("null")
	}
	return p
}
