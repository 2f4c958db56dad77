package batch

import (
	"context"
	"errors"
	"os"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// copyCounter counts the COPY statements a connection runs.
type copyCounter struct{ n atomic.Int64 }

func (c *copyCounter) TraceQueryStart(ctx context.Context, _ *pgx.Conn, _ pgx.TraceQueryStartData) context.Context {
	return ctx
}
func (c *copyCounter) TraceQueryEnd(context.Context, *pgx.Conn, pgx.TraceQueryEndData) {}
func (c *copyCounter) TraceCopyFromStart(ctx context.Context, _ *pgx.Conn, _ pgx.TraceCopyFromStartData) context.Context {
	c.n.Add(1)
	return ctx
}
func (c *copyCounter) TraceCopyFromEnd(context.Context, *pgx.Conn, pgx.TraceCopyFromEndData) {}

// testConn connects to a real PostgreSQL (DATABASE_URL, else
// SVCGEN_TEST_PG_URL, else the local default) and creates a temporary
// table, private to the connection and gone with it.
func testConn(t *testing.T, tracer *copyCounter) *pgx.Conn {
	t.Helper()
	url := os.Getenv("DATABASE_URL")
	if url == "" {
		url = os.Getenv("SVCGEN_TEST_PG_URL")
	}
	if url == "" {
		url = "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable"
	}
	cfg, err := pgx.ParseConfig(url)
	if err != nil {
		t.Fatalf("parse %s: %v", url, err)
	}
	cfg.Tracer = tracer
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	conn, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		t.Fatalf("cannot reach PostgreSQL at %s: %v\n"+
			"start one with `docker compose up -d postgres` (or point DATABASE_URL at a server)", url, err)
	}
	t.Cleanup(func() { _ = conn.Close(context.Background()) })
	if _, err := conn.Exec(ctx, `CREATE TEMP TABLE copied (id bigint PRIMARY KEY, name text NOT NULL)`); err != nil {
		t.Fatal(err)
	}
	return conn
}

func rowsIn(t *testing.T, conn *pgx.Conn) int {
	t.Helper()
	var n int
	if err := conn.QueryRow(context.Background(), "SELECT count(*) FROM copied").Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

var copiedColumns = []string{"id", "name"}

func TestCopyChunks(t *testing.T) {
	var copies copyCounter
	conn := testConn(t, &copies)
	ctx := context.Background()
	row := func(i int) ([]any, error) { return []any{int64(i), "row"}, nil }

	n, err := Copy(ctx, conn, pgx.Identifier{"copied"}, copiedColumns, 2500, 1000, row)
	if err != nil || n != 2500 {
		t.Fatalf("Copy = %d, %v; want 2500", n, err)
	}
	if got := copies.n.Load(); got != 3 {
		t.Fatalf("%d COPY statements, want 3 (1000, 1000, 500)", got)
	}
	if got := rowsIn(t, conn); got != 2500 {
		t.Fatalf("%d rows in the table, want 2500", got)
	}
	if n, err := Copy(ctx, conn, pgx.Identifier{"copied"}, copiedColumns, 0, 1000, row); err != nil || n != 0 {
		t.Fatalf("Copy of 0 rows = %d, %v", n, err)
	}
}

func TestCopyErrorInTransaction(t *testing.T) {
	var copies copyCounter
	conn := testConn(t, &copies)
	ctx := context.Background()
	errBad := errors.New("bad row")
	row := func(i int) ([]any, error) {
		if i == 1500 {
			return nil, errBad
		}
		return []any{int64(i), "row"}, nil
	}

	// Without a transaction the first chunk stays, and the error says so.
	n, err := Copy(ctx, conn, pgx.Identifier{"copied"}, copiedColumns, 2000, 1000, row)
	if !errors.Is(err, errBad) || n != 1000 || !strings.Contains(err.Error(), "1000 written") {
		t.Fatalf("Copy = %d, %v; want 1000 and the row's error", n, err)
	}
	if _, err := conn.Exec(ctx, "TRUNCATE copied"); err != nil {
		t.Fatal(err)
	}

	// In a transaction it is all or nothing.
	err = pgx.BeginFunc(ctx, conn, func(tx pgx.Tx) error {
		_, err := Copy(ctx, tx, pgx.Identifier{"copied"}, copiedColumns, 2000, 1000, row)
		return err
	})
	if !errors.Is(err, errBad) {
		t.Fatalf("Copy in a transaction: %v, want the row's error", err)
	}
	if got := rowsIn(t, conn); got != 0 {
		t.Fatalf("%d rows after a failed transaction, want 0", got)
	}
}
