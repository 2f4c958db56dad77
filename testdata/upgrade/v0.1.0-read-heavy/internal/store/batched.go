package store

import (
	"context"

	"example.com/legacy-catalog/internal/platform/batch"
)

// Batched is a Store whose single-item reads are coalesced: the GetItem
// calls of concurrent requests within cfg.Wait (or until cfg.MaxBatch ids
// wait) become one GetItems query, `= ANY($1)`. GetItems itself goes
// straight to the wrapped store, in chunks of at most cfg.MaxBatch ids.
// Writes and Ping go straight through.
//
// main puts it under the 3-tier cache: cache hits never wait for a batch,
// and the misses of different ids (singleflight already merges those of
// one id) share one query.
type Batched struct {
	Store
	items    *batch.Loader[int64, Item]
	maxBatch int
}

// NewBatched wraps next; m may be nil. Call Close when done.
func NewBatched(next Store, cfg batch.Config, m *batch.Metrics) (*Batched, error) {
	fetch := func(ctx context.Context, ids []int64) (map[int64]Item, error) {
		list, err := next.GetItems(ctx, ids)
		if err != nil {
			return nil, err
		}
		out := make(map[int64]Item, len(list))
		for _, it := range list {
			out[it.ID] = it
		}
		return out, nil
	}
	items, err := batch.New(batch.Options[int64, Item]{
		Name:     "item",
		Config:   cfg,
		Fetch:    fetch,
		NotFound: ErrNotFound,
		Metrics:  m,
	})
	if err != nil {
		return nil, err
	}
	return &Batched{Store: next, items: items, maxBatch: items.Config().MaxBatch}, nil
}

// Close sends the batch being gathered and waits for those in flight.
func (b *Batched) Close() error { return b.items.Close() }

// GetItem implements Store through the loader.
func (b *Batched) GetItem(ctx context.Context, id int64) (Item, error) {
	return b.items.Load(ctx, id)
}

// GetItems implements Store: the items that exist among ids, once each,
// with one query per maxBatch ids.
func (b *Batched) GetItems(ctx context.Context, ids []int64) ([]Item, error) {
	if len(ids) <= b.maxBatch {
		return b.Store.GetItems(ctx, ids)
	}
	var out []Item
	for chunk := range batch.Chunks(ids, b.maxBatch) {
		items, err := b.Store.GetItems(ctx, chunk)
		if err != nil {
			return nil, err
		}
		out = append(out, items...)
	}
	return dedupe(out), nil
}

// dedupe drops repeated items (an id asked for in two chunks).
func dedupe(items []Item) []Item {
	seen := make(map[int64]struct{}, len(items))
	out := items[:0]
	for _, it := range items {
		if _, ok := seen[it.ID]; !ok {
			seen[it.ID] = struct{}{}
			out = append(out, it)
		}
	}
	return out
}
