package store

import (
	"context"
	"math/rand/v2"
	"slices"
	"strconv"
	"testing"
	"time"
)

// zipfKeys is the number of items the Zipf workload reads.
const zipfKeys = 100_000

// BenchmarkZipf replays a read-heavy workload on a real PostgreSQL and
// Redis: ids drawn from a Zipf distribution (s=1.1 over 100k items), 95%
// GetItem and 5% UpdateItem, one request at a time. It reports the
// database queries per 1000 requests (reads, and reads plus the writes
// that always reach it) and the p50/p99 request latency, straight to
// Postgres and through the 3-tier cache. The cache is warmed first with
// batch reads of every item, as a replica's is after its first minutes:
//
//	go test -run '^$' -bench Zipf ./internal/store
func BenchmarkZipf(b *testing.B) {
	rdb := requireRedis(b)
	pool := testDB(b)
	ctx := context.Background()
	if _, err := pool.Exec(ctx, `INSERT INTO items (name, quantity, price)
		SELECT 'item-' || g, 1, 100 FROM generate_series(1, $1::int) g`, zipfKeys); err != nil {
		b.Fatal(err)
	}
	pg := NewPostgres(pool, 2*time.Second)

	b.Run("store=postgres", func(b *testing.B) {
		db := &counting{Store: pg}
		zipfWorkload(b, db, db)
	})
	b.Run("store=cache3", func(b *testing.B) {
		in := newInstance(b, pg, rdb, testCacheConfig())
		ids := make([]int64, 0, 500)
		for id := int64(1); id <= zipfKeys; id++ {
			if ids = append(ids, id); len(ids) == cap(ids) || id == zipfKeys {
				if _, err := in.GetItems(ctx, ids); err != nil {
					b.Fatal(err)
				}
				ids = ids[:0]
			}
		}
		in.db.reset()
		zipfWorkload(b, in, in.db)
	})
}

func zipfWorkload(b *testing.B, s Store, db *counting) {
	ctx := context.Background()
	r := rand.New(rand.NewPCG(1, 2))
	zipf := rand.NewZipf(r, 1.1, 1, zipfKeys-1)
	lat := make([]time.Duration, 0, 1<<16)
	b.ReportAllocs()
	for b.Loop() {
		id := int64(zipf.Uint64()) + 1
		start := time.Now()
		var err error
		if r.IntN(100) < 5 {
			_, err = s.UpdateItem(ctx, id, ItemInput{Name: "item-" + strconv.FormatInt(id, 10), Quantity: int32(r.IntN(100)), Price: 100})
		} else {
			_, err = s.GetItem(ctx, id)
		}
		lat = append(lat, time.Since(start))
		if err != nil {
			b.Fatal(err)
		}
	}
	slices.Sort(lat)
	b.ReportMetric(float64(db.queries())*1000/float64(len(lat)), "db-reads/1000req")
	b.ReportMetric(float64(db.queries()+db.writes.Load())*1000/float64(len(lat)), "db-queries/1000req")
	b.ReportMetric(float64(lat[len(lat)/2].Nanoseconds())/1e3, "p50-µs")
	b.ReportMetric(float64(lat[len(lat)*99/100].Nanoseconds())/1e3, "p99-µs")
}

// BenchmarkCachedGetItemL1Hit is the hot path: an item found in memory.
func BenchmarkCachedGetItemL1Hit(b *testing.B) {
	in := newInstance(b, NewMemory(), nil, testCacheConfig())
	it := mustCreate(b, in, "hot")
	ctx := context.Background()
	if _, err := in.GetItem(ctx, it.ID); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := in.GetItem(ctx, it.ID); err != nil {
			b.Fatal(err)
		}
	}
}
