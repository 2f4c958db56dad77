// Package handlers reads the DB on every request, with no cache library.
package handlers

import (
	"context"
	"database/sql"
	"net/http"
	"time"
)

type api struct{ db *sql.DB }

func (a *api) name(ctx context.Context, id string) (string, error) {
	var n string
	err := a.db.QueryRowContext(ctx, "SELECT name FROM items WHERE id = $1", id).Scan(&n)
	return n, err
}

func (a *api) get(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), time.Second)
	defer cancel()
	n, _ := a.name(ctx, r.PathValue("id")) // want `handler get reads the DB on every request \(name \(reads the DB\)\)`
	_, _ = w.Write([]byte(n))
}

// create writes: INSERT ... RETURNING is not a read a cache could serve.
func (a *api) create(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), time.Second)
	defer cancel()
	var id int64
	_ = a.db.QueryRowContext(ctx, "INSERT INTO items (name) VALUES ($1) RETURNING id", "x").Scan(&id)
	w.WriteHeader(http.StatusCreated)
}
