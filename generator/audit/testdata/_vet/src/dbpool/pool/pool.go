// Package pool sets database/sql pool limits, like svcgen adopt's sqlpool.
package pool

import (
	"database/sql"
	"time"
)

// Configure limits db's pool.
func Configure(db *sql.DB) {
	db.SetMaxOpenConns(25)
	db.SetMaxIdleConns(25)
	db.SetConnMaxLifetime(5 * time.Minute)
}
