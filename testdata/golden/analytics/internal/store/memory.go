package store

import (
	"context"
	"slices"
	"sync"
)

// Memory is an in-memory Store for tests and for running without a database
// (STORE=memory). Data is lost on restart.
type Memory struct {
	events []Event
	mu     sync.RWMutex
}

// NewMemory returns an empty Memory store.
func NewMemory() *Memory { return &Memory{} }

// IngestEvents implements Store.
func (m *Memory) IngestEvents(ctx context.Context, events []EventInput) (int64, error) {
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, e := range events {
		m.events = append(m.events, Event{
			ID:        int64(len(m.events) + 1),
			PlayerID:  e.PlayerID,
			Type:      e.Type,
			Payload:   slices.Clone(payloadOrNull(e.Payload)),
			CreatedAt: e.CreatedAt,
		})
	}
	return int64(len(events)), nil
}

// QueryEvents implements Store.
func (m *Memory) QueryEvents(ctx context.Context, q Query) ([]Event, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	m.mu.RLock()
	var out []Event
	for _, e := range m.events {
		if (q.PlayerID == 0 || e.PlayerID == q.PlayerID) && !e.CreatedAt.Before(q.From) && e.CreatedAt.Before(q.To) {
			out = append(out, e)
		}
	}
	m.mu.RUnlock()
	slices.SortStableFunc(out, func(a, b Event) int { return a.CreatedAt.Compare(b.CreatedAt) })
	if q.Limit > 0 && len(out) > q.Limit {
		out = out[:q.Limit]
	}
	return out, nil
}

// Ping implements Store; memory is always ready.
func (m *Memory) Ping(context.Context) error { return nil }
