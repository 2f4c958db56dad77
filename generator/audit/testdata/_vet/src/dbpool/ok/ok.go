// Package ok opens a pool whose limits a helper of another package sets:
// the helper's PoolSetterFact counts for this sql.Open.
package ok

import (
	"database/sql"

	"dbpool/pool"
)

// Open opens the DB.
func Open() (*sql.DB, error) {
	db, err := sql.Open("postgres", "")
	if err != nil {
		return nil, err
	}
	pool.Configure(db)
	return db, nil
}
