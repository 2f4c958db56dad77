package batch

import (
	"context"
	"fmt"
	"iter"
	"slices"

	"github.com/jackc/pgx/v5"
)

// Chunks yields s in consecutive pieces of at most n (all of s when
// n <= 0). The pieces share s's memory.
func Chunks[T any](s []T, n int) iter.Seq[[]T] {
	if n <= 0 {
		n = max(len(s), 1)
	}
	return slices.Chunk(s, n)
}

// Many fetches keys in chunks of at most n, one fetch per chunk, one
// after the other, and merges the results: `= ANY($1)` with a bounded
// array whatever the caller sends. The first error stops it.
func Many[K comparable, V any](ctx context.Context, keys []K, n int, fetch Fetch[K, V]) (map[K]V, error) {
	if len(keys) == 0 {
		return map[K]V{}, nil
	}
	var out map[K]V
	for chunk := range Chunks(keys, n) {
		got, err := fetch(ctx, chunk)
		if err != nil {
			return nil, err
		}
		if out == nil && len(chunk) == len(keys) {
			return got, nil // one chunk: no merge
		}
		if out == nil {
			out = make(map[K]V, len(keys))
		}
		for k, v := range got {
			out[k] = v
		}
	}
	return out, nil
}

// Copier is what Copy writes through: *pgxpool.Pool, *pgx.Conn and pgx.Tx
// all are.
type Copier interface {
	CopyFrom(ctx context.Context, table pgx.Identifier, columns []string, rows pgx.CopyFromSource) (int64, error)
}

// Copy writes n rows to table with COPY, at most chunk rows per COPY
// statement (DefaultCopyChunk when chunk <= 0), and returns the rows
// written. row(i) returns the values of row i in columns' order. Give it
// a pgx.Tx for all-or-nothing: on a pool or a connection every chunk
// commits on its own, and the error says how many rows were written.
func Copy(ctx context.Context, db Copier, table pgx.Identifier, columns []string, n, chunk int, row func(i int) ([]any, error)) (int64, error) {
	if chunk <= 0 {
		chunk = DefaultCopyChunk
	}
	var total int64
	for start := 0; start < n; start += chunk {
		size := min(chunk, n-start)
		var rowErr error // pgx does not wrap it: kept for errors.Is
		got, err := db.CopyFrom(ctx, table, columns, pgx.CopyFromSlice(size, func(j int) ([]any, error) {
			vals, err := row(start + j)
			if err != nil {
				rowErr = fmt.Errorf("row %d: %w", start+j, err)
			}
			return vals, rowErr
		}))
		total += got
		if rowErr != nil {
			err = rowErr
		}
		if err != nil {
			return total, fmt.Errorf("copy rows %d-%d of %d into %s (%d written): %w",
				start, start+size-1, n, table.Sanitize(), total, err)
		}
	}
	return total, nil
}
