// Package some sets one limit of three.
package some

import "database/sql"

// Open limits the open connections only.
func Open() *sql.DB {
	db, _ := sql.Open("postgres", "") // want `sql.Open without SetMaxIdleConns, SetConnMaxLifetime/SetConnMaxIdleTime in package some`
	db.SetMaxOpenConns(10)
	return db
}
