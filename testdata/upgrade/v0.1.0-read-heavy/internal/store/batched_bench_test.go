//go:build unix

package store

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"example.com/legacy-catalog/internal/platform/batch"
)

// benchItems is the number of items the read benchmark reads from.
const benchItems = 10_000

// readStats are one sub-benchmark's figures, kept to compare the two
// paths of one run.
type readStats struct {
	queriesPer1000, readsPerSec, p50, p99, cpuPerRead float64
}

// BenchmarkBatchedReads runs GetItem-style reads of random ids on a real
// PostgreSQL from several concurrent workers, straight to the store (one
// query per read) and through the loader (concurrent reads share one
// `= ANY($1)` query), in the same run. It reports queries per 1000 reads,
// reads/s, p50/p99 latency and the process CPU per read; the loader's
// lines carry its ratios to the direct run just before (-v logs them all):
//
//	go test -run '^$' -bench BatchedReads ./internal/store
func BenchmarkBatchedReads(b *testing.B) {
	pool := testDB(b)
	seedItems(b, pool, benchItems)
	traced, q := tracedPool(b, pool, 25)
	direct := NewPostgres(traced, 5*time.Second)
	cfg := batch.Config{Wait: 1 * time.Millisecond, MaxBatch: 256, Timeout: 5 * time.Second}

	for _, workers := range []int{1, 64} {
		stats := map[string]readStats{}
		b.Run(fmt.Sprintf("workers=%d/direct", workers), func(b *testing.B) {
			stats["direct"] = readWorkload(b, direct, q, workers)
		})
		b.Run(fmt.Sprintf("workers=%d/loader", workers), func(b *testing.B) {
			batched, err := NewBatched(direct, cfg, nil)
			if err != nil {
				b.Fatal(err)
			}
			defer batched.Close()
			l := readWorkload(b, batched, q, workers)
			stats["loader"] = l
			// Ratios against the direct run just before (x < 1: fewer, faster).
			if d := stats["direct"]; d.readsPerSec > 0 {
				b.ReportMetric(l.queriesPer1000/d.queriesPer1000, "queries-x-direct")
				b.ReportMetric(l.readsPerSec/d.readsPerSec, "reads/s-x-direct")
				b.ReportMetric(l.p99/d.p99, "p99-x-direct")
				b.ReportMetric(l.cpuPerRead/d.cpuPerRead, "cpu-x-direct")
			}
		})
		d, l := stats["direct"], stats["loader"]
		if d.readsPerSec > 0 && l.readsPerSec > 0 {
			b.Logf("workers=%d loader/direct: queries/1000reads %.0f/%.0f (%.3fx), reads/s %.0f/%.0f (%.2fx), p50 %.3f/%.3f ms (%.2fx), p99 %.3f/%.3f ms (%.2fx), cpu-µs/read %.1f/%.1f (%.2fx)",
				workers, l.queriesPer1000, d.queriesPer1000, l.queriesPer1000/d.queriesPer1000,
				l.readsPerSec, d.readsPerSec, l.readsPerSec/d.readsPerSec,
				l.p50, d.p50, l.p50/d.p50, l.p99, d.p99, l.p99/d.p99,
				l.cpuPerRead, d.cpuPerRead, l.cpuPerRead/d.cpuPerRead)
		}
	}
}

// readWorkload spreads b.N reads over workers goroutines and reports the
// figures.
func readWorkload(b *testing.B, s Store, q *queryCounter, workers int) readStats {
	ctx := context.Background()
	var next atomic.Int64
	lats := make([][]time.Duration, workers)
	queriesBefore := q.total()
	cpuBefore := processCPU(b)
	b.ResetTimer()
	var wg sync.WaitGroup
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			lat := make([]time.Duration, 0, b.N/workers+1)
			for next.Add(1) <= int64(b.N) {
				id := rand.Int64N(benchItems) + 1
				began := time.Now()
				it, err := s.GetItem(ctx, id)
				lat = append(lat, time.Since(began))
				if err != nil || it.ID != id {
					b.Errorf("GetItem(%d) = %d, %v", id, it.ID, err)
					return
				}
			}
			lats[w] = lat
		}()
	}
	wg.Wait()
	b.StopTimer()
	elapsed := b.Elapsed()
	cpu := processCPU(b) - cpuBefore
	all := slices.Concat(lats...)
	slices.Sort(all)
	st := readStats{
		queriesPer1000: float64(q.total()-queriesBefore) * 1000 / float64(b.N),
		readsPerSec:    float64(b.N) / elapsed.Seconds(),
		cpuPerRead:     float64(cpu.Microseconds()) / float64(b.N),
	}
	if len(all) > 0 {
		st.p50 = float64(all[len(all)*50/100].Microseconds()) / 1000
		st.p99 = float64(all[len(all)*99/100].Microseconds()) / 1000
	}
	b.ReportMetric(st.queriesPer1000, "queries/1000reads")
	b.ReportMetric(st.readsPerSec, "reads/s")
	b.ReportMetric(st.p50, "p50-ms")
	b.ReportMetric(st.p99, "p99-ms")
	b.ReportMetric(st.cpuPerRead, "cpu-µs/read")
	return st
}

// processCPU is the CPU time (user + system) this process has used; the
// Postgres server's is not in it.
func processCPU(tb testing.TB) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		tb.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
