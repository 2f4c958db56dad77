// Package bare opens pools with the defaults.
package bare

import "database/sql"

// Open opens the DB with no limits.
func Open() (*sql.DB, error) {
	db, err := sql.Open("postgres", "") // want `sql.Open without SetMaxOpenConns, SetMaxIdleConns, SetConnMaxLifetime/SetConnMaxIdleTime in package bare`
	if err != nil {
		return nil, err
	}
	return db, nil
}
