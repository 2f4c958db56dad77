package store

import (
	"context"
	"fmt"
	"io"
	"os"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/jackc/pgx/v5/stdlib"

	"example.com/legacy-catalog/migrations"
)

// TestPostgres runs the store against a real PostgreSQL: it creates a fresh
// database, applies the migrations, runs every method and drops the
// database afterwards.
func TestPostgres(t *testing.T) {
	pool := testDB(t)
	exerciseStore(t, NewPostgres(pool, 2*time.Second))
}

// testDB returns a pool on a new, migrated database that is dropped when the
// test ends. The server comes from DATABASE_URL, else SVCGEN_TEST_PG_URL,
// else the local default.
func testDB(t testing.TB) *pgxpool.Pool {
	t.Helper()
	url := os.Getenv("DATABASE_URL")
	if url == "" {
		url = os.Getenv("SVCGEN_TEST_PG_URL")
	}
	if url == "" {
		url = "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable"
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()

	admin, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatalf("cannot reach PostgreSQL at %s: %v\n"+
			"start one with `docker compose up -d postgres` (or point DATABASE_URL at a server you may create databases on)", url, err)
	}
	defer admin.Close(context.Background())

	name := fmt.Sprintf("test_legacy_catalog_%d", time.Now().UnixNano())
	if _, err := admin.Exec(ctx, "CREATE DATABASE "+name); err != nil {
		t.Fatalf("create test database: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		conn, err := pgx.Connect(ctx, url)
		if err != nil {
			t.Errorf("drop test database %s: %v", name, err)
			return
		}
		defer conn.Close(ctx)
		if _, err := conn.Exec(ctx, "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)"); err != nil {
			t.Errorf("drop test database %s: %v", name, err)
		}
	})

	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		t.Fatalf("parse %s: %v", url, err)
	}
	cfg.ConnConfig.Database = name

	db := stdlib.OpenDB(*cfg.ConnConfig.Copy())
	err = migrations.Run(ctx, db, "up", io.Discard)
	db.Close()
	if err != nil {
		t.Fatalf("migrate test database: %v", err)
	}

	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		t.Fatalf("connect to test database: %v", err)
	}
	t.Cleanup(pool.Close) // runs before the drop: cleanups are LIFO
	return pool
}
