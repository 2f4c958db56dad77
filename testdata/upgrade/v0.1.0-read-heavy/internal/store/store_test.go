package store

import (
	"context"
	"errors"
	"testing"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func TestMemory(t *testing.T) { exerciseStore(t, NewMemory()) }

// exerciseStore runs every Store method; the Postgres and the memory store
// must pass it alike.
func exerciseStore(t *testing.T, s Store) {
	t.Helper()
	ctx := context.Background()

	if err := s.Ping(ctx); err != nil {
		t.Fatalf("Ping: %v", err)
	}
	a, err := s.CreateItem(ctx, ItemInput{Name: "sword", Quantity: 3, Price: 1500})
	if err != nil {
		t.Fatalf("CreateItem: %v", err)
	}
	if a.ID == 0 || a.Name != "sword" || a.Quantity != 3 || a.Price != 1500 || a.UpdatedAt.IsZero() {
		t.Fatalf("CreateItem returned %+v", a)
	}
	b, err := s.CreateItem(ctx, ItemInput{Name: "shield", Quantity: 1, Price: 900})
	if err != nil {
		t.Fatalf("CreateItem: %v", err)
	}

	got, err := s.GetItem(ctx, a.ID)
	if err != nil || got.ID != a.ID || got.Name != "sword" {
		t.Fatalf("GetItem(%d) = %+v, %v", a.ID, got, err)
	}
	if _, err := s.GetItem(ctx, 1<<60); !errors.Is(err, ErrNotFound) {
		t.Fatalf("GetItem(missing) error = %v, want ErrNotFound", err)
	}

	missing := b.ID + 1000
	items, err := s.GetItems(ctx, []int64{a.ID, missing, b.ID})
	if err != nil {
		t.Fatalf("GetItems: %v", err)
	}
	if len(items) != 2 {
		t.Fatalf("GetItems returned %d items, want 2: %+v", len(items), items)
	}
	seen := map[int64]bool{}
	for _, it := range items {
		seen[it.ID] = true
	}
	if !seen[a.ID] || !seen[b.ID] || seen[missing] {
		t.Fatalf("GetItems ids = %v, want %d and %d", seen, a.ID, b.ID)
	}
	if items, err := s.GetItems(ctx, nil); err != nil || len(items) != 0 {
		t.Fatalf("GetItems(nil) = %v, %v", items, err)
	}

	up, err := s.UpdateItem(ctx, a.ID, ItemInput{Name: "great sword", Quantity: 0, Price: 2500})
	if err != nil {
		t.Fatalf("UpdateItem: %v", err)
	}
	if up.ID != a.ID || up.Name != "great sword" || up.Quantity != 0 || up.Price != 2500 {
		t.Fatalf("UpdateItem returned %+v", up)
	}
	if got, _ := s.GetItem(ctx, a.ID); got.Name != "great sword" {
		t.Fatalf("GetItem after update = %+v", got)
	}
	if _, err := s.UpdateItem(ctx, missing, ItemInput{Name: "x"}); !errors.Is(err, ErrNotFound) {
		t.Fatalf("UpdateItem(missing) error = %v, want ErrNotFound", err)
	}

	// A request whose deadline has passed must not reach the database.
	done, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := s.GetItem(done, a.ID); !errors.Is(err, context.Canceled) {
		t.Fatalf("GetItem(cancelled ctx) error = %v, want context.Canceled", err)
	}
}
