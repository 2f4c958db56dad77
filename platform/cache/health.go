package cache

import (
	"context"
	"errors"
	"net"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/redis/go-redis/v9"
)

// When Redis counts as down. One call past the budget is not an outage:
// under load a healthy Redis misses a 10 ms budget several times a minute,
// and turning degraded on each of them sent every read to the database and
// emptied L1 on each recovery. The cache turns degraded when
//
//   - Redis refuses a connection (nothing listens: no point in waiting), or
//   - Config.FailThreshold calls in a row failed or outlived the budget,
//     over at least two budgets of time (one stall that every call in
//     flight sees at once is one event, not many), or
//   - at least Config.FailRate of the calls in the current Config.FailWindow
//     failed, once that window holds minWindowCalls calls.
//
// It comes back after Config.RecoverAfter probes in a row answer in time.

// minWindowCalls is the fewest calls in a window for its error rate to count.
const minWindowCalls = 20

// health counts the outcomes of Redis calls.
type health struct {
	windowStart, streakStart time.Time
	mu                       sync.Mutex
	calls, fails, streak     int
}

func (h *health) roll(now time.Time, window time.Duration) {
	if now.Sub(h.windowStart) >= window {
		h.windowStart, h.calls, h.fails = now, 0, 0
	}
}

func (h *health) succeeded(now time.Time, cfg *Config) {
	h.mu.Lock()
	h.roll(now, cfg.FailWindow)
	h.calls++
	h.streak = 0
	h.mu.Unlock()
}

// failed records a failed call and reports whether Redis now counts as down.
func (h *health) failed(now time.Time, cfg *Config) bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.roll(now, cfg.FailWindow)
	h.calls++
	h.fails++
	if h.streak == 0 {
		h.streakStart = now
	}
	h.streak++
	if h.streak >= cfg.FailThreshold && now.Sub(h.streakStart) >= 2*cfg.Budget {
		return true
	}
	return h.calls >= minWindowCalls && float64(h.fails) >= cfg.FailRate*float64(h.calls)
}

func (h *health) reset(now time.Time) {
	h.mu.Lock()
	h.windowStart, h.calls, h.fails, h.streak = now, 0, 0, 0
	h.mu.Unlock()
}

// observe records the outcome of one Redis call (err nil: it answered) and
// turns the cache degraded when Redis counts as down.
func (c *Cache[K, V]) observe(err error) {
	switch {
	case err == nil || errors.Is(err, redis.Nil):
		if !c.degraded.Load() {
			c.health.succeeded(time.Now(), &c.opts.Config)
		}
		return
	case errors.Is(err, context.Canceled):
		return // the caller went away; that says nothing about Redis
	}
	c.m.l2.errors.Inc()
	if refused(err) {
		c.trip("Redis refused the connection", err)
		return
	}
	if c.health.failed(time.Now(), &c.opts.Config) {
		c.trip("Redis calls keep failing or answering past the budget", err)
	}
}

// trip turns the cache degraded.
func (c *Cache[K, V]) trip(why string, err error) {
	if c.degraded.CompareAndSwap(false, true) {
		c.m.degraded.Set(1)
		c.log.Warn("cache: "+why+"; serving from memory and the database (degraded)", "error", err)
	}
}

// refused reports whether err says nothing listens at Redis' address (as
// opposed to a slow answer, or a dial cut short by a deadline).
func refused(err error) bool {
	if errors.Is(err, context.DeadlineExceeded) {
		return false
	}
	if errors.Is(err, syscall.ECONNREFUSED) {
		return true
	}
	var op *net.OpError
	return errors.As(err, &op) && op.Op == "dial" && !op.Timeout()
}

// dialWatch is a go-redis hook that trips the cache when a dial is refused,
// even if go-redis retries the command and reports only its deadline.
type dialWatch struct {
	trip   func(string, error)
	closed *atomic.Bool
}

func (w dialWatch) DialHook(next redis.DialHook) redis.DialHook {
	return func(ctx context.Context, network, addr string) (net.Conn, error) {
		conn, err := next(ctx, network, addr)
		if err != nil && !w.closed.Load() && refused(err) {
			w.trip("Redis refused the connection", err)
		}
		return conn, err
	}
}

func (dialWatch) ProcessHook(next redis.ProcessHook) redis.ProcessHook { return next }

func (dialWatch) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return next
}
