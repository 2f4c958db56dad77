// Package handlers loops over the store of another package.
package handlers

import (
	"context"

	"batch/store"
)

// Names reads one item per id through the interface: N+1.
func Names(ctx context.Context, s store.Store, ids []int64) []string {
	var out []string
	for _, id := range ids {
		n, _ := s.Item(ctx, id) // want `Item \(makes a DB/Redis round trip\) inside the loop at line 13: one round trip per iteration \(N\+1\)`
		out = append(out, n)
	}
	return out
}

// Loads reads through the helper: N+1 two calls away.
func Loads(ctx context.Context, s store.Store, ids []int64) {
	for i := 0; i < len(ids); i++ {
		_, _ = store.Load(ctx, s, ids[i]) // want `Load \(makes a DB/Redis round trip\) inside the loop`
	}
}

// Worker polls forever: a worker loop, not N+1; Name makes no round trip.
func Worker(ctx context.Context, s store.Store) {
	for {
		_ = s.Touch(ctx, 1)
		_ = s.Name()
		if ctx.Err() != nil {
			return
		}
	}
}
