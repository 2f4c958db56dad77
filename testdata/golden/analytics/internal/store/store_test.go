package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"testing"
	"time"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func TestMemory(t *testing.T) { exerciseStore(t, NewMemory()) }

// batch returns n events of player, one second apart from start.
func batch(n int, player int64, start time.Time) []EventInput {
	out := make([]EventInput, n)
	for i := range out {
		out[i] = EventInput{
			PlayerID:  player,
			Type:      "match_end",
			Payload:   []byte(fmt.Sprintf(`{"score":%d}`, i)),
			CreatedAt: start.Add(time.Duration(i) * time.Second),
		}
	}
	return out
}

// exerciseStore runs every Store method; the Postgres and the memory store
// must pass it alike.
func exerciseStore(t *testing.T, s Store) {
	t.Helper()
	ctx := context.Background()
	if err := s.Ping(ctx); err != nil {
		t.Fatalf("Ping: %v", err)
	}
	start := time.Date(2026, 1, 1, 10, 0, 0, 0, time.UTC)

	// A small batch (multi-row INSERT), with a string and a missing payload.
	small := batch(3, 1, start)
	small[1].Payload = []byte(`"just text"`)
	small[2].Payload = nil
	if n, err := s.IngestEvents(ctx, small); err != nil || n != 3 {
		t.Fatalf("IngestEvents(3) = %d, %v", n, err)
	}
	// A large batch (COPY) for another player, an hour later.
	if n, err := s.IngestEvents(ctx, batch(CopyThreshold+70, 2, start.Add(time.Hour))); err != nil || n != CopyThreshold+70 {
		t.Fatalf("IngestEvents(%d) = %d, %v", CopyThreshold+70, n, err)
	}
	if n, err := s.IngestEvents(ctx, nil); err != nil || n != 0 {
		t.Fatalf("IngestEvents(nil) = %d, %v", n, err)
	}

	got, err := s.QueryEvents(ctx, Query{From: start, To: start.Add(time.Minute), PlayerID: 1, Limit: 100})
	if err != nil || len(got) != 3 {
		t.Fatalf("QueryEvents(player 1) = %d events, %v; want 3", len(got), err)
	}
	for i, want := range []string{`{"score":0}`, `"just text"`, "null"} {
		if !jsonEqual(got[i].Payload, want) {
			t.Errorf("event %d payload = %s, want %s", i, got[i].Payload, want)
		}
		if got[i].ID == 0 || got[i].Type != "match_end" || !got[i].CreatedAt.Equal(start.Add(time.Duration(i)*time.Second)) {
			t.Errorf("event %d = %+v", i, got[i])
		}
	}

	all, err := s.QueryEvents(ctx, Query{From: start, To: start.Add(2 * time.Hour), Limit: 1000})
	if err != nil || len(all) != 3+CopyThreshold+70 {
		t.Fatalf("QueryEvents(all) = %d events, %v; want %d", len(all), err, 3+CopyThreshold+70)
	}
	for i := 1; i < len(all); i++ {
		if all[i].CreatedAt.Before(all[i-1].CreatedAt) {
			t.Fatalf("events not oldest first at %d", i)
		}
	}
	if lim, err := s.QueryEvents(ctx, Query{From: start, To: start.Add(2 * time.Hour), Limit: 10}); err != nil || len(lim) != 10 {
		t.Fatalf("QueryEvents(limit 10) = %d events, %v", len(lim), err)
	}
	// The range is half-open: an event exactly at To is left out.
	if edge, err := s.QueryEvents(ctx, Query{From: start, To: start.Add(time.Second), PlayerID: 1, Limit: 10}); err != nil || len(edge) != 1 {
		t.Fatalf("QueryEvents([start, start+1s)) = %d events, %v; want 1", len(edge), err)
	}
	if none, err := s.QueryEvents(ctx, Query{From: start, To: start.Add(2 * time.Hour), PlayerID: 99, Limit: 10}); err != nil || len(none) != 0 {
		t.Fatalf("QueryEvents(unknown player) = %d events, %v", len(none), err)
	}

	done, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := s.QueryEvents(done, Query{From: start, To: start.Add(time.Hour), Limit: 1}); !errors.Is(err, context.Canceled) {
		t.Fatalf("QueryEvents(cancelled ctx) error = %v, want context.Canceled", err)
	}
}

func jsonEqual(a []byte, b string) bool {
	var x, y any
	if json.Unmarshal(a, &x) != nil || json.Unmarshal([]byte(b), &y) != nil {
		return false
	}
	xa, _ := json.Marshal(x)
	ya, _ := json.Marshal(y)
	return string(xa) == string(ya)
}
