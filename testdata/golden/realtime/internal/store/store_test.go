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
	b, err := s.CreateRoom(ctx, "lobby-b", "Lobby B")
	if err != nil {
		t.Fatalf("CreateRoom: %v", err)
	}
	if b.ID != "lobby-b" || b.Title != "Lobby B" || b.CreatedAt.IsZero() {
		t.Fatalf("CreateRoom returned %+v", b)
	}
	if _, err := s.CreateRoom(ctx, "lobby-a", "Lobby A"); err != nil {
		t.Fatalf("CreateRoom: %v", err)
	}
	if _, err := s.CreateRoom(ctx, "lobby-b", "again"); !errors.Is(err, ErrExists) {
		t.Fatalf("CreateRoom(existing id) error = %v, want ErrExists", err)
	}

	got, err := s.GetRoom(ctx, "lobby-b")
	if err != nil || got.ID != "lobby-b" || got.Title != "Lobby B" {
		t.Fatalf("GetRoom = %+v, %v", got, err)
	}
	if _, err := s.GetRoom(ctx, "nope"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("GetRoom(missing) error = %v, want ErrNotFound", err)
	}

	rooms, err := s.ListRooms(ctx, 10)
	if err != nil || len(rooms) != 2 || rooms[0].ID != "lobby-a" || rooms[1].ID != "lobby-b" {
		t.Fatalf("ListRooms = %+v, %v; want lobby-a, lobby-b", rooms, err)
	}
	if rooms, err := s.ListRooms(ctx, 1); err != nil || len(rooms) != 1 || rooms[0].ID != "lobby-a" {
		t.Fatalf("ListRooms(limit 1) = %+v, %v", rooms, err)
	}

	if err := s.DeleteRoom(ctx, "lobby-a"); err != nil {
		t.Fatalf("DeleteRoom: %v", err)
	}
	if err := s.DeleteRoom(ctx, "lobby-a"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("DeleteRoom(deleted) error = %v, want ErrNotFound", err)
	}
	if _, err := s.GetRoom(ctx, "lobby-a"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("GetRoom(deleted) error = %v, want ErrNotFound", err)
	}

	// A request whose deadline has passed must not reach the database.
	done, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := s.GetRoom(done, "lobby-b"); !errors.Is(err, context.Canceled) {
		t.Fatalf("GetRoom(cancelled ctx) error = %v, want context.Canceled", err)
	}
}
