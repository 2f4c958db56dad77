// Package pool holds typed sync.Pools for scratch values on hot paths:
// buffers a handler builds a response in, slices it de-duplicates ids in.
//
// The rule: a pooled value never outlives the call that got it. Copy out
// what must be kept, then Put. This is a use-after-free:
//
//	buf := bufs.Get()
//	defer bufs.Put(buf)
//	return buf.Bytes() // WRONG: the caller reads memory the next request overwrites
//
// Return a copy (bytes.Clone(buf.Bytes()), a string) or write it out (w.Write)
// before the Put runs.
package pool

import (
	"bytes"
	"sync"
)

// Pool is a typed sync.Pool. Get returns a ready-to-use value; Put resets
// it and keeps it, unless discard says it grew too big to keep.
//
// Explain pool: typed sync.Pool wrappers: Get, use within the request, Put;
// never return a pooled value to a caller (svcgen explain pool).
type Pool[T any] struct {
	reset   func(T)
	discard func(T) bool
	p       sync.Pool
}

// New returns a pool of values made by newFn. reset clears a value on Put;
// discard (may be nil) reports values not worth keeping, such as a buffer
// that grew past its cap, so one huge request does not pin memory forever.
// T should be a pointer type (or a pointer-like type such as a map): a
// non-pointer T is copied into an interface on every Put, which allocates.
func New[T any](newFn func() T, reset func(T), discard func(T) bool) *Pool[T] {
	p := &Pool[T]{reset: reset, discard: discard}
	p.p.New = func() any { return newFn() }
	return p
}

// Get returns a value from the pool, or a new one.
func (p *Pool[T]) Get() T { return p.p.Get().(T) }

// Put resets v and returns it to the pool. v must not be used afterwards.
func (p *Pool[T]) Put(v T) {
	if p.discard != nil && p.discard(v) {
		return
	}
	if p.reset != nil {
		p.reset(v)
	}
	p.p.Put(v)
}

// The pool feature's default buffer sizes (params.pool in svcgen's presets;
// make bench passes the preset's own as POOL_BUFFER_SIZE and
// POOL_MAX_BUFFER_SIZE).
const (
	DefaultBufferSize    = 4096  // initial capacity of a pooled buffer, bytes
	DefaultMaxBufferSize = 65536 // buffers grown past it are dropped on Put
)

// NewBuffers returns a pool of *bytes.Buffer that start with initial bytes
// of capacity; buffers grown past max are dropped on Put.
func NewBuffers(initial, max int) *Pool[*bytes.Buffer] {
	return New(
		func() *bytes.Buffer { return bytes.NewBuffer(make([]byte, 0, initial)) },
		(*bytes.Buffer).Reset,
		func(b *bytes.Buffer) bool { return b.Cap() > max },
	)
}

// NewSlices returns a pool of *[]E (for example scratch ids of a batch
// request) with capacity initial; slices grown past max are dropped on Put.
func NewSlices[E any](initial, max int) *Pool[*[]E] {
	return New(
		func() *[]E { s := make([]E, 0, initial); return &s },
		func(s *[]E) { clear(*s); *s = (*s)[:0] },
		func(s *[]E) bool { return cap(*s) > max },
	)
}
