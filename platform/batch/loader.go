// Package batch turns many small reads into few large ones: a Loader
// coalesces concurrent single-key loads into one call of a batch function
// (one `= ANY($1)` query), Many splits a long key list into bounded chunks,
// and Copy writes rows with COPY in bounded chunks.
package batch

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"
)

// Defaults used for zero Config fields.
const (
	DefaultWait      = time.Millisecond
	DefaultMaxBatch  = 256
	DefaultTimeout   = time.Second
	DefaultCopyChunk = 10_000
)

// ErrNotFound is returned by Load for a key the batch function did not
// return, unless Options.NotFound names the store's own error.
var ErrNotFound = errors.New("batch: key not found")

// ErrClosed is returned by Load after Close.
var ErrClosed = errors.New("batch: loader closed")

// Config tunes a Loader (BATCH_* variables).
type Config struct {
	// Wait is the longest a key waits for others to join its batch while
	// another batch is in flight; an idle loader sends a key at once.
	Wait time.Duration
	// MaxBatch is the most keys one batch call gets; a full batch is sent
	// at once, without waiting out Wait.
	MaxBatch int
	// Timeout bounds one batch call (the database budget, TIMEOUT_DB). The
	// batch runs under its own context: a caller that gives up does not
	// cancel the batch the others wait for.
	Timeout time.Duration
	// CopyChunk is the most rows one COPY statement carries (Copy).
	CopyChunk int
}

func (c Config) withDefaults() Config {
	if c.Wait <= 0 {
		c.Wait = DefaultWait
	}
	if c.MaxBatch <= 0 {
		c.MaxBatch = DefaultMaxBatch
	}
	if c.Timeout <= 0 {
		c.Timeout = DefaultTimeout
	}
	if c.CopyChunk <= 0 {
		c.CopyChunk = DefaultCopyChunk
	}
	return c
}

// Fetch loads the values of keys in one round trip. A key missing from
// the map does not exist; an error fails every key of the call.
type Fetch[K comparable, V any] func(ctx context.Context, keys []K) (map[K]V, error)

// Options configure New.
type Options[K comparable, V any] struct {
	// Fetch is the batch function (required).
	Fetch Fetch[K, V]
	// NotFound is returned for a key Fetch did not return (ErrNotFound if nil).
	NotFound error
	// Metrics records the loader's calls; nil records nothing.
	Metrics *Metrics
	// Name is the loader's label in the metrics ("item").
	Name string
	// Config tunes the loader; zero fields take the defaults.
	Config Config
}

// Loader coalesces concurrent Loads into calls of Fetch, each key once per
// call. When no batch is in flight a key is sent at once: a lone read
// waits for nothing. While one is in flight, new keys gather into the next
// batch, sent when the one in flight returns, when Wait has passed since
// its first key, or as soon as it holds MaxBatch keys, whichever comes
// first. The busier the loader, the bigger its batches; the extra latency
// is bounded by Wait. It keeps no values after a batch returns: it is a
// coalescer, not a cache. Safe for concurrent use; Close it when done.
//
// No goroutine is started per Load: a batch runs on one goroutine of its
// own (the timer's when Wait passes), and a batch that returns sends the
// next one from the same goroutine.
type Loader[K comparable, V any] struct {
	fetch    Fetch[K, V]
	notFound error
	pending  *pending[K, V]
	m        loaderMetrics
	tr       loaderTrace // the batch span's batch.name, with tracing
	cfg      Config
	running  sync.WaitGroup
	mu       sync.Mutex
	inflight int // batches sent and not yet returned
	closed   bool
}

// pending is one batch: open while keys join it, then sent.
type pending[K comparable, V any] struct {
	ctx     context.Context
	cancel  context.CancelFunc
	timer   *time.Timer
	index   map[K]struct{}
	done    chan struct{} // closed when vals and err are set
	vals    map[K]V
	err     error
	keys    []K
	tr      pendingTrace // the sampled callers' spans, with tracing
	waiters int          // callers still waiting; 0 cancels the batch
	sent    bool
}

// New returns a Loader.
func New[K comparable, V any](o Options[K, V]) (*Loader[K, V], error) {
	if o.Fetch == nil {
		return nil, errors.New("batch: Options.Fetch is nil")
	}
	name := o.Name
	if name == "" {
		name = "default"
	}
	notFound := o.NotFound
	if notFound == nil {
		notFound = ErrNotFound
	}
	return &Loader[K, V]{
		fetch:    o.Fetch,
		notFound: notFound,
		tr:       newLoaderTrace(name),
		cfg:      o.Config.withDefaults(),
		m:        o.Metrics.forLoader(name),
	}, nil
}

// Config returns the loader's configuration, defaults applied.
func (l *Loader[K, V]) Config() Config { return l.cfg }

// Load returns the value of key, fetched together with the keys other
// goroutines ask for at about the same time. It returns Options.NotFound
// when Fetch does not return the key, Fetch's error when the batch failed,
// and ctx.Err() as soon as ctx is done (the batch goes on for the others).
func (l *Loader[K, V]) Load(ctx context.Context, key K) (V, error) {
	var zero V
	if err := ctx.Err(); err != nil {
		return zero, err
	}
	l.mu.Lock()
	if l.closed {
		l.mu.Unlock()
		return zero, ErrClosed
	}
	p := l.add(ctx, key)
	if !p.sent && p.timer == nil {
		l.start(p) // idle loader: nothing to wait for
	}
	l.mu.Unlock()
	l.m.loads.Inc()

	if err := l.wait(ctx, p); err != nil {
		return zero, err
	}
	if p.err != nil {
		return zero, p.err
	}
	v, ok := p.vals[key]
	if !ok {
		return zero, l.notFound
	}
	return v, nil
}

// LoadMany returns the values of the keys that exist, batched with the
// other loads in flight (a long list spans several batches of MaxBatch).
// It fails with the first batch error, or with ctx.Err().
func (l *Loader[K, V]) LoadMany(ctx context.Context, keys []K) (map[K]V, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	batches := make([]*pending[K, V], 0, 1+len(keys)/l.cfg.MaxBatch)
	l.mu.Lock()
	if l.closed {
		l.mu.Unlock()
		return nil, ErrClosed
	}
	for _, k := range keys {
		p := l.add(ctx, k)
		if n := len(batches); n > 0 && batches[n-1] == p {
			p.waiters-- // one waiter per batch, not per key
			continue
		}
		batches = append(batches, p)
	}
	if p := l.pending; p != nil && p.timer == nil {
		l.start(p) // opened by this call on an idle loader
	}
	l.mu.Unlock()
	l.m.loads.Add(float64(len(keys)))

	out := make(map[K]V, len(keys))
	for i, p := range batches {
		if err := l.wait(ctx, p); err != nil {
			for _, rest := range batches[i+1:] {
				l.leave(rest)
			}
			return nil, err
		}
		if p.err != nil {
			for _, rest := range batches[i+1:] {
				l.leave(rest)
			}
			return nil, p.err
		}
	}
	for _, k := range keys {
		for _, p := range batches {
			if v, ok := p.vals[k]; ok {
				out[k] = v
				break
			}
		}
	}
	return out, nil
}

// add puts key in the open batch, opening one if needed, and counts the
// caller as a waiter; l.mu is held. ctx is the caller's, for its span.
func (l *Loader[K, V]) add(ctx context.Context, key K) *pending[K, V] {
	p := l.pending
	if p == nil {
		ctx, cancel := context.WithCancel(context.Background())
		p = &pending[K, V]{
			ctx:    ctx,
			cancel: cancel,
			index:  make(map[K]struct{}, 8),
			done:   make(chan struct{}),
		}
		l.pending = p
		if l.inflight > 0 {
			p.timer = time.AfterFunc(l.cfg.Wait, func() { l.expire(p) })
		}
	}
	p.waiters++
	if _, dup := p.index[key]; !dup {
		p.index[key] = struct{}{}
		p.keys = append(p.keys, key)
	}
	p.tr.join(ctx) // before start: the batch's goroutine reads it
	if len(p.keys) >= l.cfg.MaxBatch {
		l.start(p)
	}
	return p
}

// start sends p now, on a goroutine of its own, so that its callers can
// still give up on their ctx; l.mu is held.
func (l *Loader[K, V]) start(p *pending[K, V]) {
	l.send(p)
	go l.run(p)
}

// send closes p to new keys; l.mu is held.
func (l *Loader[K, V]) send(p *pending[K, V]) {
	p.sent = true
	if p.timer != nil {
		p.timer.Stop() // if it fired already, expire finds p sent and returns
	}
	if l.pending == p {
		l.pending = nil
	}
	l.inflight++
	l.running.Add(1)
}

// expire sends p when its Wait has passed (on the timer's goroutine).
func (l *Loader[K, V]) expire(p *pending[K, V]) {
	l.mu.Lock()
	if p.sent || p.waiters == 0 {
		l.mu.Unlock()
		return
	}
	l.send(p)
	l.mu.Unlock()
	l.run(p)
}

// run calls Fetch for p, then for each batch gathered meanwhile, and
// wakes their waiters.
func (l *Loader[K, V]) run(p *pending[K, V]) {
	for p != nil {
		l.call(p)
		l.mu.Lock()
		l.inflight--
		next := l.pending // gathered while p was in flight: send it now
		if next != nil {
			l.send(next)
		}
		l.mu.Unlock()
		l.running.Done()
		p = next
	}
}

// call runs Fetch for p under the loader's own deadline.
func (l *Loader[K, V]) call(p *pending[K, V]) {
	defer p.cancel()
	if err := p.ctx.Err(); err != nil { // every caller gave up before it went
		p.err = err
		close(p.done)
		return
	}
	ctx, cancel := context.WithTimeout(p.ctx, l.cfg.Timeout)
	defer cancel()
	ctx, span := l.tr.start(ctx, &p.tr, len(p.keys))
	defer span.end()

	began := time.Now()
	vals, err := l.fetch(ctx, p.keys)
	l.m.observe(len(p.keys), time.Since(began), err)
	if err != nil {
		err = fmt.Errorf("batch of %d keys: %w", len(p.keys), err)
		span.fail(err)
	}
	p.vals, p.err = vals, err
	close(p.done)
}

// wait blocks until p is done or ctx is; a caller that gives up leaves p.
func (l *Loader[K, V]) wait(ctx context.Context, p *pending[K, V]) error {
	select {
	case <-p.done:
		return nil
	case <-ctx.Done():
		l.leave(p)
		return ctx.Err()
	}
}

// leave drops one waiter of p. When no caller waits any more, the batch
// is cancelled: not sent if still open, its query stopped if sent.
func (l *Loader[K, V]) leave(p *pending[K, V]) {
	l.mu.Lock()
	defer l.mu.Unlock()
	p.waiters--
	if p.waiters > 0 {
		return
	}
	if !p.sent {
		if l.pending == p {
			l.pending = nil
		}
		if p.timer != nil {
			p.timer.Stop()
		}
	}
	p.cancel()
}

// Close sends the open batch at once and waits for the batches in flight.
// Loads after Close return ErrClosed.
func (l *Loader[K, V]) Close() error {
	l.mu.Lock()
	l.closed = true
	p := l.pending // never sent: send marks it and clears l.pending
	if p != nil {
		l.send(p)
	}
	l.mu.Unlock()
	if p != nil {
		l.run(p)
	}
	l.running.Wait()
	return nil
}
