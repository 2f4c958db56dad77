// Package api is the inventory HTTP API.
package api

import (
	"sort"
	"sync"
	"time"
)

// Item is one inventory entry.
type Item struct {
	CreatedAt time.Time `json:"created_at"`
	Note      *string   `json:"note,omitempty"`
	Name      string    `json:"name"`
	Tags      []string  `json:"tags,omitempty"`
	ID        int64     `json:"id"`
	Quantity  int       `json:"quantity"`
	Price     int64     `json:"price"`
}

// ItemInput is the body of a create or update.
type ItemInput struct {
	Note     *string  `json:"note,omitempty"`
	Name     string   `json:"name"`
	Tags     []string `json:"tags,omitempty"`
	Quantity int      `json:"quantity"`
	Price    int64    `json:"price"`
}

// Store keeps items in memory.
type Store struct {
	items map[int64]Item
	mu    sync.Mutex
	next  int64
}

// NewStore returns an empty store.
func NewStore() *Store { return &Store{items: map[int64]Item{}} }

func (s *Store) create(in ItemInput) Item {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.next++
	it := Item{ID: s.next, Name: in.Name, Quantity: in.Quantity, Price: in.Price, Tags: in.Tags, Note: in.Note, CreatedAt: time.Now().UTC()}
	s.items[it.ID] = it
	return it
}

func (s *Store) get(id int64) (Item, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	it, ok := s.items[id]
	return it, ok
}

func (s *Store) update(id int64, in ItemInput) (Item, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	it, ok := s.items[id]
	if !ok {
		return it, false
	}
	it.Name, it.Quantity, it.Price, it.Tags, it.Note = in.Name, in.Quantity, in.Price, in.Tags, in.Note
	s.items[id] = it
	return it, true
}

func (s *Store) remove(id int64) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	_, ok := s.items[id]
	delete(s.items, id)
	return ok
}

func (s *Store) list() []Item {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Item, 0, len(s.items))
	for _, it := range s.items {
		out = append(out, it)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out
}
