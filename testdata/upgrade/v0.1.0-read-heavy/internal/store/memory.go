package store

import (
	"context"
	"sync"
	"time"
)

// Memory is an in-memory Store for tests and for running without a database
// (STORE=memory). Data is lost on restart.
type Memory struct {
	items  map[int64]Item
	mu     sync.RWMutex
	nextID int64
}

// NewMemory returns an empty Memory store.
func NewMemory() *Memory {
	return &Memory{items: make(map[int64]Item)}
}

// GetItem implements Store.
func (m *Memory) GetItem(ctx context.Context, id int64) (Item, error) {
	if err := ctx.Err(); err != nil {
		return Item{}, err
	}
	m.mu.RLock()
	defer m.mu.RUnlock()
	it, ok := m.items[id]
	if !ok {
		return Item{}, ErrNotFound
	}
	return it, nil
}

// GetItems implements Store.
func (m *Memory) GetItems(ctx context.Context, ids []int64) ([]Item, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	m.mu.RLock()
	defer m.mu.RUnlock()
	out := make([]Item, 0, len(ids))
	for _, id := range ids {
		if it, ok := m.items[id]; ok {
			out = append(out, it)
		}
	}
	return out, nil
}

// CreateItem implements Store.
func (m *Memory) CreateItem(ctx context.Context, in ItemInput) (Item, error) {
	if err := ctx.Err(); err != nil {
		return Item{}, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	m.nextID++
	it := Item{ID: m.nextID, Name: in.Name, Quantity: in.Quantity, Price: in.Price, UpdatedAt: time.Now().UTC()}
	m.items[it.ID] = it
	return it, nil
}

// UpdateItem implements Store.
func (m *Memory) UpdateItem(ctx context.Context, id int64, in ItemInput) (Item, error) {
	if err := ctx.Err(); err != nil {
		return Item{}, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, ok := m.items[id]; !ok {
		return Item{}, ErrNotFound
	}
	it := Item{ID: id, Name: in.Name, Quantity: in.Quantity, Price: in.Price, UpdatedAt: time.Now().UTC()}
	m.items[id] = it
	return it, nil
}

// Ping implements Store; memory is always ready.
func (m *Memory) Ping(context.Context) error { return nil }
