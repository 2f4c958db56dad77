package cache

import (
	"context"
	"errors"
	"net"
	"strconv"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/svcgen/svcgen/platform/timeout"
)

// How invalidations reach the other replicas, and what happens when they
// cannot.
//
// Every invalidation is appended to a log in Redis (a stream capped at
// about maxLog entries) and published, with its log id, on the cache's
// channel, by one script (logScript). Each replica drops the keys it
// receives from L1 and remembers the last log id it applied: its cursor.
// When its subscription breaks, it may miss messages; once it is back, the
// replica reads the log after its cursor and drops exactly those keys. Only
// when the log no longer reaches back to the cursor (more than maxLog
// invalidations meanwhile, or Redis lost its data) does it mark all of L1
// for revalidation: entries are then reloaded before use, through
// singleflight, and served as they were if the reload fails.
//
// An invalidation that cannot reach Redis is kept (up to maxPending keys)
// and retried: at once in the background, then every RetryInterval, and
// before a degraded cache uses Redis again. If more keys than that failed,
// every replica is told to revalidate all of L1 (logAllScript); Redis may
// then serve stale values of the keys that were lost for up to L2TTL.

// maxLog is about how many invalidations the log keeps (MAXLEN ~).
const maxLog = 50_000

// logScript logs and publishes invalidations. KEYS[1] is the log; ARGV[1]
// the channel, ARGV[2] the log's length, ARGV[3...] the keys.
var logScript = redis.NewScript(`
for i = 3, #ARGV do
  local id = redis.call('XADD', KEYS[1], 'MAXLEN', '~', ARGV[2], '*', 'k', ARGV[i])
  redis.call('PUBLISH', ARGV[1], id .. ' ' .. ARGV[i])
end
return #ARGV - 2
`)

// logAllScript logs and publishes "revalidate everything" (a message with
// no key).
var logAllScript = redis.NewScript(`
local id = redis.call('XADD', KEYS[1], 'MAXLEN', '~', ARGV[2], '*', 'a', '1')
redis.call('PUBLISH', ARGV[1], id)
return 1
`)

// streamID is a Redis stream entry id, ms-seq.
type streamID struct{ ms, seq uint64 }

func parseStreamID(s string) (streamID, bool) {
	a, b, ok := strings.Cut(s, "-")
	if !ok {
		return streamID{}, false
	}
	ms, err1 := strconv.ParseUint(a, 10, 64)
	seq, err2 := strconv.ParseUint(b, 10, 64)
	return streamID{ms: ms, seq: seq}, err1 == nil && err2 == nil
}

func (a streamID) less(b streamID) bool {
	return a.ms < b.ms || a.ms == b.ms && a.seq < b.seq
}

func (a streamID) String() string {
	return strconv.FormatUint(a.ms, 10) + "-" + strconv.FormatUint(a.seq, 10)
}

// backgroundBudget bounds a Redis call no request waits for: retries,
// catch-ups.
func (c *Cache[K, V]) backgroundBudget() time.Duration {
	return max(c.opts.Config.Budget, c.opts.Config.RetryInterval/4)
}

// subscribe drops from L1 the keys other replicas (and this one) invalidate.
func (c *Cache[K, V]) subscribe(ctx context.Context) {
	defer c.wg.Done()
	for {
		msg, err := c.ps.ReceiveTimeout(ctx, 5*time.Second)
		if ctx.Err() != nil {
			return
		}
		if err != nil {
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				// Idle: a ping makes a dead connection show as an error.
				_ = c.ps.Ping(ctx)
				continue
			}
			// Messages may be missed from here until the log is read back.
			c.gap.Store(true)
			c.subscribed.Store(false)
			c.observe(err)
			select {
			case <-ctx.Done():
				return
			case <-time.After(c.opts.Config.RetryInterval):
			}
			continue
		}
		switch m := msg.(type) {
		case *redis.Subscription:
			if m.Kind == "subscribe" {
				c.subscribed.Store(true)
				c.resync(ctx)
			}
		case *redis.Message:
			c.m.received.Inc()
			id, key, hasKey := strings.Cut(m.Payload, " ")
			c.apply(id, key, !hasKey)
		}
	}
}

// apply carries out one logged invalidation: drop key from L1, or with
// all, mark all of L1 for revalidation. Outside a gap it moves the cursor.
func (c *Cache[K, V]) apply(id, key string, all bool) {
	if all {
		c.revalidateAll("another replica lost invalidations")
	} else if k, err := c.opts.Parse(key); err != nil {
		c.log.Warn("cache: bad invalidation message", "key", key, "error", err)
	} else {
		c.epochs[c.stripe(key)].Add(1)
		c.l1.Invalidate(k)
	}
	sid, ok := parseStreamID(id)
	if !ok || c.gap.Load() {
		// In a gap the cursor stays where the messages stopped, so the
		// catch-up reads from there.
		return
	}
	c.syncMu.Lock()
	if c.cursor.less(sid) {
		c.cursor = sid
	}
	c.syncMu.Unlock()
}

// revalidateAll starts a new generation: every entry in L1 is reloaded
// before it is served again, and served as it is if the reload fails.
func (c *Cache[K, V]) revalidateAll(why string) {
	c.gen.Add(1)
	c.log.Warn("cache: revalidating every entry in memory", "reason", why)
}

// resync runs a catch-up and closes the gap when it succeeds.
func (c *Cache[K, V]) resync(ctx context.Context) {
	if err := c.catchUp(ctx); err != nil {
		c.gap.Store(true) // the probe retries
		c.observe(err)
		c.log.Warn("cache: cannot read the invalidation log; retrying", "error", err)
		return
	}
	c.gap.Store(false)
}

// catchUp applies the log entries after the cursor: the invalidations this
// replica may have missed while its subscription was down. The first time,
// it only sets the cursor to the end of the log.
func (c *Cache[K, V]) catchUp(ctx context.Context) error {
	c.syncMu.Lock()
	defer c.syncMu.Unlock()
	ctx, cancel := timeout.Budget(ctx, c.backgroundBudget())
	defer cancel()
	var last, deleted streamID
	info, err := c.opts.Redis.XInfoStream(ctx, c.logKey).Result()
	switch {
	case err == nil:
		last, _ = parseStreamID(info.LastGeneratedID)
		deleted, _ = parseStreamID(info.MaxDeletedEntryID)
	case strings.Contains(err.Error(), "no such key"):
		// No log: nothing was invalidated yet, or Redis lost its data.
	default:
		return err
	}
	switch {
	case !c.cursorKnown:
		// Entries loaded before the first subscription may have missed
		// invalidations nobody can list any more.
		if c.l1.EstimatedSize() > 0 {
			c.revalidateAll("entries were cached before the subscription was live")
		}
		c.cursor, c.cursorKnown = last, true
		return nil
	case last.less(c.cursor) || c.cursor.less(deleted):
		// The log was recreated (Redis restarted empty) or trimmed past the
		// cursor: what was missed cannot be listed.
		c.revalidateAll("the invalidation log no longer covers the time the subscription was down")
		c.cursor = last
		return nil
	}
	for {
		msgs, err := c.opts.Redis.XRangeN(ctx, c.logKey, "("+c.cursor.String(), "+", 1000).Result()
		if err != nil {
			return err
		}
		for _, m := range msgs {
			key, _ := m.Values["k"].(string)
			_, all := m.Values["a"]
			c.applyLocked(key, all)
			if sid, ok := parseStreamID(m.ID); ok {
				c.cursor = sid
			}
		}
		if len(msgs) < 1000 {
			return nil
		}
	}
}

// applyLocked is apply without the cursor, for catchUp (which holds syncMu).
func (c *Cache[K, V]) applyLocked(key string, all bool) {
	if all {
		c.revalidateAll("another replica lost invalidations")
		return
	}
	k, err := c.opts.Parse(key)
	if err != nil {
		c.log.Warn("cache: bad invalidation in the log", "key", key, "error", err)
		return
	}
	c.epochs[c.stripe(key)].Add(1)
	c.l1.Invalidate(k)
}

// retrySoon wakes the probe to retry the invalidations that failed.
func (c *Cache[K, V]) retrySoon() {
	select {
	case c.kick <- struct{}{}:
	default:
	}
}

func (c *Cache[K, V]) addPending(keys []string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, k := range keys {
		if len(c.pending) >= maxPending {
			c.overflow = true
			return
		}
		c.pending[k] = struct{}{}
	}
}

func (c *Cache[K, V]) hasPending() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.pending) > 0 || c.overflow
}

// probe retries failed invalidations and catch-ups, and brings a degraded
// cache back once Redis has answered RecoverAfter pings in a row, the
// subscription is live and caught up, and the failed invalidations are sent.
func (c *Cache[K, V]) probe(ctx context.Context) {
	defer c.wg.Done()
	t := time.NewTicker(c.opts.Config.RetryInterval)
	defer t.Stop()
	answered := 0 // pings in a row
	for {
		kicked := false
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		case <-c.kick:
			kicked = true
		}
		if !c.degraded.Load() {
			answered = 0
			if c.gap.Load() && c.subscribed.Load() {
				c.resync(ctx)
			}
			if c.hasPending() {
				c.observe(c.replay(ctx))
			}
			continue
		}
		if kicked || !c.subscribed.Load() {
			answered = 0
			continue
		}
		pctx, cancel := timeout.Budget(ctx, c.opts.Config.Budget)
		err := c.opts.Redis.Ping(pctx).Err()
		cancel()
		if err != nil {
			answered = 0
			continue
		}
		if answered++; answered < c.opts.Config.RecoverAfter {
			continue
		}
		if c.gap.Load() {
			if c.resync(ctx); c.gap.Load() {
				answered = 0
				continue
			}
		}
		if err := c.replay(ctx); err != nil {
			answered = 0
			continue
		}
		answered = 0
		c.health.reset(time.Now())
		c.degraded.Store(false)
		c.m.degraded.Set(0)
		c.log.Info("cache: Redis is back, L2 re-enabled")
	}
}

// replay sends the invalidations that failed.
func (c *Cache[K, V]) replay(ctx context.Context) error {
	c.mu.Lock()
	keys := make([]string, 0, len(c.pending))
	for k := range c.pending {
		keys = append(keys, k)
	}
	overflow := c.overflow
	c.mu.Unlock()
	for i := 0; i < len(keys); i += 500 {
		batch := keys[i:min(i+500, len(keys))]
		if err := c.publish(ctx, c.backgroundBudget(), batch); err != nil {
			return err
		}
		c.m.sent.Add(float64(len(batch)))
		c.mu.Lock()
		for _, k := range batch {
			delete(c.pending, k)
		}
		c.mu.Unlock()
	}
	if !overflow {
		return nil
	}
	bctx, cancel := timeout.Budget(ctx, c.backgroundBudget())
	defer cancel()
	if err := c.pipelined(bctx, func(p redis.Pipeliner) error {
		logAllScript.EvalSha(bctx, p, []string{c.logKey}, c.channel, maxLog)
		return nil
	}); err != nil {
		return err
	}
	c.mu.Lock()
	c.overflow = false
	c.mu.Unlock()
	c.revalidateAll("more invalidations failed than could be kept")
	c.log.Warn("cache: more invalidations failed than could be kept; Redis may serve stale values until their TTL",
		"l2_ttl", c.opts.Config.L2TTL)
	return nil
}
