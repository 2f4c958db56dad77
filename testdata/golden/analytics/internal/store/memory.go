package store

import (
	"cmp"
	"context"
	"encoding/json"
	"math"
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

// Leaderboard implements Store, computed from every event on each call.
func (m *Memory) Leaderboard(ctx context.Context, limit int) ([]LeaderboardEntry, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	type total struct {
		score  float64
		events int64
	}
	byPlayer := map[int64]*total{}
	m.mu.RLock()
	for i := range m.events {
		e := &m.events[i]
		t := byPlayer[e.PlayerID]
		if t == nil {
			t = &total{}
			byPlayer[e.PlayerID] = t
		}
		t.events++
		t.score += payloadScore(e.Payload)
	}
	m.mu.RUnlock()
	out := make([]LeaderboardEntry, 0, len(byPlayer))
	for id, t := range byPlayer {
		// Rounded half away from zero, as PostgreSQL casts numeric to bigint.
		out = append(out, LeaderboardEntry{PlayerID: id, Score: int64(math.Round(t.score)), Events: t.events})
	}
	slices.SortFunc(out, func(a, b LeaderboardEntry) int {
		if c := cmp.Compare(b.Score, a.Score); c != 0 {
			return c
		}
		return cmp.Compare(a.PlayerID, b.PlayerID)
	})
	if limit > 0 && len(out) > limit {
		out = out[:limit]
	}
	return out, nil
}

// payloadScore is the payload's numeric "score" field, or 0.
func payloadScore(payload []byte) float64 {
	var v struct {
		Score any `json:"score"`
	}
	if json.Unmarshal(payload, &v) != nil {
		return 0
	}
	f, _ := v.Score.(float64)
	return f
}

// Ping implements Store; memory is always ready.
func (m *Memory) Ping(context.Context) error { return nil }
