package store

import (
	"context"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// copyTracer counts the COPY statements that reach Postgres.
type copyTracer struct{ copies atomic.Int64 }

func (c *copyTracer) TraceQueryStart(ctx context.Context, _ *pgx.Conn, _ pgx.TraceQueryStartData) context.Context {
	return ctx
}
func (c *copyTracer) TraceQueryEnd(context.Context, *pgx.Conn, pgx.TraceQueryEndData) {}
func (c *copyTracer) TraceCopyFromStart(ctx context.Context, _ *pgx.Conn, _ pgx.TraceCopyFromStartData) context.Context {
	c.copies.Add(1)
	return ctx
}
func (c *copyTracer) TraceCopyFromEnd(context.Context, *pgx.Conn, pgx.TraceCopyFromEndData) {}

// TestIngestCopyChunks: an ingest larger than CopyChunk is several COPY
// statements in one transaction: all its rows, or none when one is bad.
func TestIngestCopyChunks(t *testing.T) {
	pool := testDB(t)
	makePartitions(t, pool)
	cfg := pool.Config()
	tracer := &copyTracer{}
	cfg.ConnConfig.Tracer = tracer
	traced, err := pgxpool.NewWithConfig(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer traced.Close()
	ctx := context.Background()
	s := NewPostgres(traced, time.Minute)
	s.CopyChunk = 1000

	events := eventsBetween(2500, jan1, apr1, 100)
	if n, err := s.IngestEvents(ctx, events); err != nil || n != 2500 {
		t.Fatalf("IngestEvents = %d, %v; want 2500", n, err)
	}
	if got := tracer.copies.Load(); got != 3 {
		t.Fatalf("%d COPY statements, want 3 (1000, 1000, 500)", got)
	}

	// A bad payload in the second chunk: nothing of this ingest stays.
	bad := eventsBetween(2500, jan1, apr1, 100)
	bad[1500].Payload = []byte(`{"score":`)
	if _, err := s.IngestEvents(ctx, bad); err == nil || !strings.Contains(err.Error(), "2500 events") {
		t.Fatalf("IngestEvents with a bad row: %v, want an error naming the ingest", err)
	}
	var total int
	if err := pool.QueryRow(ctx, "SELECT count(*) FROM events").Scan(&total); err != nil || total != 2500 {
		t.Fatalf("%d events after a failed ingest, want the 2500 of the first (%v)", total, err)
	}
}
