package pool_test

import (
	"bytes"
	"testing"

	"go.uber.org/goleak"

	"github.com/svcgen/svcgen/platform/pool"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func TestBuffersResetOnPut(t *testing.T) {
	p := pool.NewBuffers(64, 1024)
	b := p.Get()
	if b.Len() != 0 || b.Cap() < 64 {
		t.Fatalf("new buffer: len %d cap %d, want 0 and >= 64", b.Len(), b.Cap())
	}
	b.WriteString("left over")
	p.Put(b)
	for range 10 { // sync.Pool may drop values; whatever comes back must be empty
		b := p.Get()
		if b.Len() != 0 {
			t.Fatalf("Get returned a buffer holding %q", b.String())
		}
		p.Put(b)
	}
}

func TestBuffersOversizedDropped(t *testing.T) {
	var reset, dropped int
	p := pool.New(
		func() *bytes.Buffer { return new(bytes.Buffer) },
		func(b *bytes.Buffer) { reset++; b.Reset() },
		func(b *bytes.Buffer) bool {
			if b.Cap() > 256 {
				dropped++
				return true
			}
			return false
		},
	)
	small, big := p.Get(), p.Get()
	small.WriteString("tiny")
	big.Write(make([]byte, 1000))
	p.Put(small)
	p.Put(big)
	if reset != 1 || dropped != 1 {
		t.Errorf("reset %d, dropped %d; want 1 and 1", reset, dropped)
	}

	bufs := pool.NewBuffers(8, 32)
	for range 100 {
		b := bufs.Get()
		if b.Cap() > 32 {
			t.Fatalf("Get returned a buffer of cap %d, past max 32", b.Cap())
		}
		b.Write(make([]byte, 64)) // grows past max: must not come back
		bufs.Put(b)
	}
}

func TestSlices(t *testing.T) {
	p := pool.NewSlices[int64](4, 8)
	s := p.Get()
	*s = append(*s, 1, 2, 3)
	p.Put(s)
	s = p.Get()
	if len(*s) != 0 {
		t.Fatalf("Get returned %v, want empty", *s)
	}
	*s = append(*s, make([]int64, 100)...)
	p.Put(s) // dropped
	if s := p.Get(); cap(*s) > 8 {
		t.Errorf("oversized slice came back (cap %d)", cap(*s))
	}
}

func TestNilResetAndDiscard(t *testing.T) {
	p := pool.New(func() *int { return new(int) }, nil, nil)
	v := p.Get()
	*v = 1
	p.Put(v)
	_ = p.Get()
}
