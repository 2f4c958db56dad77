package store

import (
	"context"
	"encoding/binary"
	"errors"
	"log/slog"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"

	"example.com/golden-read-heavy/internal/platform/cache"
)

// Cached is a Store with the 3-tier cache in front of its reads: memory,
// then Redis, then the wrapped store, which stays the source of truth.
// Writes go to the wrapped store first, then invalidate the item on every
// replica. Ping checks the wrapped store only: Redis being down degrades
// the cache, it does not make the service unready.
type Cached struct {
	Store
	items *cache.Cache[int64, Item]
}

// NewCached wraps next. rdb may be nil (no L2: memory and next only). Call
// Close when done.
func NewCached(next Store, rdb redis.UniversalClient, cfg cache.Config, m *cache.Metrics, log *slog.Logger) (*Cached, error) {
	items, err := cache.New(cache.Options[int64, Item]{
		Name:     "item",
		Config:   cfg,
		Redis:    rdb,
		Codec:    itemCodec{},
		Metrics:  m,
		Logger:   log,
		NotFound: ErrNotFound,
		Key:      func(id int64) string { return strconv.FormatInt(id, 10) },
		Parse:    func(s string) (int64, error) { return strconv.ParseInt(s, 10, 64) },
		Load:     next.GetItem,
		LoadMany: func(ctx context.Context, ids []int64) (map[int64]Item, error) {
			list, err := next.GetItems(ctx, ids)
			if err != nil {
				return nil, err
			}
			out := make(map[int64]Item, len(list))
			for _, it := range list {
				out[it.ID] = it
			}
			return out, nil
		},
	})
	if err != nil {
		return nil, err
	}
	return &Cached{Store: next, items: items}, nil
}

// Close stops the cache's background work.
func (c *Cached) Close() error { return c.items.Close() }

// Degraded reports whether the cache is bypassing Redis.
func (c *Cached) Degraded() bool { return c.items.Degraded() }

// GetItem implements Store.
func (c *Cached) GetItem(ctx context.Context, id int64) (Item, error) {
	return c.items.Get(ctx, id)
}

// GetItems implements Store: cached items first, then one query for the rest.
func (c *Cached) GetItems(ctx context.Context, ids []int64) ([]Item, error) {
	found, err := c.items.GetMany(ctx, ids)
	if err != nil {
		return nil, err
	}
	out := make([]Item, 0, len(found))
	for _, id := range ids {
		if it, ok := found[id]; ok {
			out = append(out, it)
			delete(found, id) // once per id, like the query
		}
	}
	return out, nil
}

// CreateItem implements Store. The new id is invalidated too: it may be
// cached as missing. A create that fails returns no id to invalidate; if it
// committed all the same, a "missing" cached for its id lasts at most
// NegativeTTL.
func (c *Cached) CreateItem(ctx context.Context, in ItemInput) (Item, error) {
	it, err := c.Store.CreateItem(ctx, in)
	if err != nil {
		return it, err
	}
	c.items.Invalidate(ctx, it.ID)
	return it, nil
}

// UpdateItem implements Store. The item is invalidated whatever the update
// returns: an error, a timeout or a cancelled request may come after the
// row committed (a 504 is no proof that nothing changed), and an
// invalidation too many costs one reload. Such a write may also commit
// after the invalidation, behind a read that cached the old row:
// InvalidateWrite drops the item once more a moment later (CACHE_* has
// no setting for it; cache.Config.LateCommit, 1s); ErrNotFound, a missing
// item, wrote nothing and schedules none. Invalidation finishes even if
// ctx is done.
func (c *Cached) UpdateItem(ctx context.Context, id int64, in ItemInput) (Item, error) {
	it, err := c.Store.UpdateItem(ctx, id, in)
	c.items.InvalidateWrite(ctx, err, id)
	return it, err
}

// itemCodec is the compact form of an Item in Redis: varints for the
// numbers and the time, then the name. When Item gains a field, add it here
// and bump the key prefix version (CACHE_PREFIX).
type itemCodec struct{}

func (itemCodec) Append(dst []byte, it Item) ([]byte, error) {
	dst = binary.AppendVarint(dst, it.ID)
	dst = binary.AppendVarint(dst, it.Price)
	dst = binary.AppendVarint(dst, int64(it.Quantity))
	dst = binary.AppendVarint(dst, it.UpdatedAt.UnixMicro())
	return append(dst, it.Name...), nil
}

func (itemCodec) Decode(b []byte) (Item, error) {
	var it Item
	var n [4]int64
	for i := range n {
		v, w := binary.Varint(b)
		if w <= 0 {
			return Item{}, errors.New("item codec: truncated")
		}
		n[i], b = v, b[w:]
	}
	it.ID, it.Price, it.Quantity = n[0], n[1], int32(n[2])
	it.UpdatedAt = time.UnixMicro(n[3]).UTC()
	it.Name = string(b)
	return it, nil
}
