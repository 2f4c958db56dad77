package pool_test

import (
	"bytes"
	"io"
	"os"
	"slices"
	"strconv"
	"testing"

	"github.com/svcgen/svcgen/platform/pool"
)

// item is what a batch GET answers: ~30 items make a ~1 KB JSON body.
type item struct {
	name string
	id   int64
	qty  int32
}

var batch = func() []item {
	items := make([]item, 30)
	for i := range items {
		items[i] = item{id: int64(1000 + i), name: "sword-" + strconv.Itoa(i), qty: int32(i)}
	}
	return items
}()

// writeItems is the hot-path job: build the JSON body in a scratch buffer,
// write it out, and keep nothing of the buffer.
func writeItems(w io.Writer, buf *bytes.Buffer, items []item) {
	b := buf.AvailableBuffer()
	b = append(b, `{"items":[`...)
	for i, it := range items {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, `{"id":`...)
		b = strconv.AppendInt(b, it.id, 10)
		b = append(b, `,"name":`...)
		b = strconv.AppendQuote(b, it.name)
		b = append(b, `,"qty":`...)
		b = strconv.AppendInt(b, int64(it.qty), 10)
		b = append(b, '}')
	}
	b = append(b, "]}"...)
	buf.Write(b)
	_, _ = w.Write(buf.Bytes())
}

// BenchmarkBuffer builds a ~1 KB JSON response per op, with a fresh buffer
// (unpooled) and with one from the pool (pooled).
func BenchmarkBuffer(b *testing.B) {
	b.Run("unpooled", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			writeItems(io.Discard, new(bytes.Buffer), batch)
		}
	})
	b.Run("pooled", func(b *testing.B) {
		bufs := pool.NewBuffers(envSize(b, "POOL_BUFFER_SIZE", pool.DefaultBufferSize), envSize(b, "POOL_MAX_BUFFER_SIZE", pool.DefaultMaxBufferSize))
		b.ReportAllocs()
		for b.Loop() {
			buf := bufs.Get()
			writeItems(io.Discard, buf, batch)
			bufs.Put(buf)
		}
	})
}

// envSize is the buffer size the environment names (make bench exports the
// preset's params.pool.buffer_size and max_buffer_size), else def.
func envSize(b *testing.B, name string, def int) int {
	b.Helper()
	v := os.Getenv(name)
	if v == "" {
		return def
	}
	n, err := strconv.Atoi(v)
	if err != nil || n <= 0 {
		b.Fatalf("%s=%q: want a positive number of bytes (default %d)", name, v, def)
	}
	return n
}

var ids = func() []int64 {
	out := make([]int64, 200)
	for i := range out {
		out[i] = int64(i % 150) // a batch request with duplicates
	}
	return out
}()

// dedup appends the distinct ids to scratch: the step before one
// `= ANY($1)` query.
func dedup(scratch []int64, in []int64) []int64 {
	scratch = append(scratch, in...)
	slices.Sort(scratch)
	return slices.Compact(scratch)
}

var sink int

// BenchmarkIDs de-duplicates the ids of a batch request in a scratch slice.
func BenchmarkIDs(b *testing.B) {
	b.Run("unpooled", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			sink = len(dedup(nil, ids))
		}
	})
	b.Run("pooled", func(b *testing.B) {
		p := pool.NewSlices[int64](256, 4096)
		b.ReportAllocs()
		for b.Loop() {
			s := p.Get()
			*s = dedup(*s, ids)
			sink = len(*s)
			p.Put(s)
		}
	})
}
