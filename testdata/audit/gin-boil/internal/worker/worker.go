// Package worker expires stale items in the background.
package worker

import (
	"context"
	"database/sql"
	"time"
)

// Expire runs until ctx ends; a `for {}` worker loop is not N+1.
func Expire(ctx context.Context, db *sql.DB) {
	t := time.NewTicker(time.Minute)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		_, _ = db.ExecContext(context.Background(), "DELETE FROM items WHERE hidden AND updated_at < now() - interval '30 days'") // want: timeouts
	}
}
