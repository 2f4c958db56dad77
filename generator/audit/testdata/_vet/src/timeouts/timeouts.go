// Package timeouts calls out without deadlines.
package timeouts

import (
	"context"
	"database/sql"
	"net/http"
	"time"
)

func clients() (*http.Client, *http.Client) {
	return &http.Client{}, // want `http.Client without Timeout`
		&http.Client{Timeout: 5 * time.Second}
}

func fetch() (*http.Response, error) {
	return http.Get("http://example.com/") // want `http.Get uses http.DefaultClient, which has no timeout`
}

func count(db *sql.DB) (n int, err error) {
	err = db.QueryRow("SELECT count(*) FROM items").Scan(&n) // want `\(\*sql.DB\).QueryRow takes no context`
	return n, err
}

func background(db *sql.DB) error {
	_, err := db.ExecContext(context.Background(), "DELETE FROM items") // want `gets context.Background\(\)/TODO\(\): no deadline`
	return err
}

func bounded2(ctx context.Context, db *sql.DB) error {
	ctx, cancel := context.WithTimeout(ctx, time.Second)
	defer cancel()
	_, err := db.ExecContext(ctx, "DELETE FROM items")
	return err
}

type api struct{ db *sql.DB }

func (a *api) item(w http.ResponseWriter, r *http.Request) {
	var name string
	_ = a.db.QueryRowContext(r.Context(), "SELECT name FROM items WHERE id = $1", 1).Scan(&name) // want `gets the request's context, which has no deadline of its own`
	_, _ = w.Write([]byte(name))
}

func serve(mux *http.ServeMux) error {
	srv := &http.Server{Addr: ":8080", Handler: mux, ReadHeaderTimeout: time.Second}
	go func() { _ = srv.ListenAndServe() }()
	return http.ListenAndServe(":8081", mux) // want `http.ListenAndServe serves with no timeouts`
}
