// Package boil is the executor interface sqlboiler's generated models take
// (the shape of github.com/volatiletech/sqlboiler/v4/boil.ContextExecutor),
// kept in the module so the fixture builds offline.
package boil

import (
	"context"
	"database/sql"
)

// ContextExecutor can run queries with a context: *sql.DB and *sql.Tx.
type ContextExecutor interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}
