// Package store reads players from PostgreSQL.
package store

import (
	"context"
	"database/sql"
)

// Player is a row of the players table.
type Player struct { // want: alignment
	Online bool
	ID     int64
	Banned bool
	Level  int32
	Name   string
	Guild  bool
}

// Repo queries players.
type Repo struct {
	db *sql.DB
}

// NewRepo returns a Repo on db.
func NewRepo(db *sql.DB) *Repo { return &Repo{db: db} }

// GetPlayer reads one player.
func (r *Repo) GetPlayer(ctx context.Context, id int64) (Player, error) {
	var p Player
	err := r.db.QueryRowContext(ctx, "SELECT id, name, level FROM players WHERE id = $1", id).Scan(&p.ID, &p.Name, &p.Level)
	return p, err
}

// ListIDs lists every player's id.
func (r *Repo) ListIDs() ([]int64, error) {
	rows, err := r.db.Query("SELECT id FROM players") // want: timeouts
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var ids []int64
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			return nil, err
		}
		ids = append(ids, id)
	}
	return ids, rows.Err()
}

// Touch marks players as seen, one statement each.
func (r *Repo) Touch(ids []int64) error {
	for _, id := range ids {
		if _, err := r.db.ExecContext(context.Background(), "UPDATE players SET seen_at = now() WHERE id = $1", id); err != nil { // want: batch timeouts
			return err
		}
	}
	return nil
}
