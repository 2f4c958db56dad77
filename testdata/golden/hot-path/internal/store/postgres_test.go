package store

import (
	"context"
	"io"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/jackc/pgx/v5/stdlib"

	"example.com/golden-hot-path/internal/platform/pgtest"
	"example.com/golden-hot-path/migrations"
)

// TestPostgres runs the store against a real PostgreSQL: it creates a fresh
// database, applies the migrations, runs every method and drops the
// database afterwards.
func TestPostgres(t *testing.T) {
	pool := testDB(t)
	exerciseStore(t, NewPostgres(pool, 2*time.Second))
}

// testDB returns a pool on a new, migrated database that is dropped when the
// test ends (internal/platform/pgtest: the server comes from
// SVCGEN_TEST_PG_URL, else DATABASE_URL, else the local default).
func testDB(t testing.TB) *pgxpool.Pool {
	t.Helper()
	return pgtest.NewDB(t, pgtest.Setup(func(ctx context.Context, cfg *pgxpool.Config) error {
		return migrate(ctx, cfg, "up")
	}))
}

// migrate runs one goose command on the database of cfg.
func migrate(ctx context.Context, cfg *pgxpool.Config, command string) error {
	db := stdlib.OpenDB(*cfg.ConnConfig.Copy())
	defer db.Close()
	return migrations.Run(ctx, db, command, io.Discard)
}
