// Package resources leaks rows.
package resources

import (
	"context"
	"database/sql"
)

// Tags forgets both rows.Close and rows.Err: two findings on one line.
func Tags(ctx context.Context, db *sql.DB) ([]string, error) {
	rows, err := db.QueryContext(ctx, "SELECT tag FROM tags") // want `rows or statement never closed \(sqlclosecheck\)` `rows.Err\(\) not checked after the loop \(rowserrcheck\)`
	if err != nil {
		return nil, err
	}
	var tags []string
	for rows.Next() {
		var t string
		if err := rows.Scan(&t); err != nil {
			return nil, err
		}
		tags = append(tags, t)
	}
	return tags, nil
}

// Names does both.
func Names(ctx context.Context, db *sql.DB) ([]string, error) {
	rows, err := db.QueryContext(ctx, "SELECT name FROM names")
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var names []string
	for rows.Next() {
		var n string
		if err := rows.Scan(&n); err != nil {
			return nil, err
		}
		names = append(names, n)
	}
	return names, rows.Err()
}
