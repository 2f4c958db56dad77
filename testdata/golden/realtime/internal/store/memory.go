package store

import (
	"context"
	"slices"
	"strings"
	"sync"
	"time"
)

// Memory is an in-memory Store for tests and for running without a database
// (STORE=memory). Data is lost on restart.
type Memory struct {
	rooms map[string]Room
	mu    sync.RWMutex
}

// NewMemory returns an empty Memory store.
func NewMemory() *Memory {
	return &Memory{rooms: make(map[string]Room)}
}

// CreateRoom implements Store.
func (m *Memory) CreateRoom(ctx context.Context, id, title string) (Room, error) {
	if err := ctx.Err(); err != nil {
		return Room{}, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, ok := m.rooms[id]; ok {
		return Room{}, ErrExists
	}
	r := Room{ID: id, Title: title, CreatedAt: time.Now().UTC()}
	m.rooms[id] = r
	return r, nil
}

// GetRoom implements Store.
func (m *Memory) GetRoom(ctx context.Context, id string) (Room, error) {
	if err := ctx.Err(); err != nil {
		return Room{}, err
	}
	m.mu.RLock()
	defer m.mu.RUnlock()
	r, ok := m.rooms[id]
	if !ok {
		return Room{}, ErrNotFound
	}
	return r, nil
}

// ListRooms implements Store.
func (m *Memory) ListRooms(ctx context.Context, limit int) ([]Room, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	m.mu.RLock()
	out := make([]Room, 0, len(m.rooms))
	for _, r := range m.rooms {
		out = append(out, r)
	}
	m.mu.RUnlock()
	slices.SortFunc(out, func(a, b Room) int { return strings.Compare(a.ID, b.ID) })
	if len(out) > limit {
		out = out[:limit]
	}
	return out, nil
}

// DeleteRoom implements Store.
func (m *Memory) DeleteRoom(ctx context.Context, id string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, ok := m.rooms[id]; !ok {
		return ErrNotFound
	}
	delete(m.rooms, id)
	return nil
}

// Ping implements Store; memory is always ready.
func (m *Memory) Ping(context.Context) error { return nil }
