// Package cache is a typed read-through cache in three tiers:
//
//	L1  in-process memory (otter v2): bounded by entry count, per-entry TTL
//	L2  Redis (go-redis UniversalClient: one server, Sentinel or Cluster)
//	L3  the loader the store supplies (Postgres), single and batch
//
// A miss on one key loads it once however many requests ask at the same
// time (singleflight); a batch of N keys costs at most one Redis round trip
// (pipelined reads) and one loader call for the keys still missing. TTLs get
// jitter so entries cached together do not expire together, and keys that
// do not exist are cached too, for NegativeTTL.
//
// Writes go to the database first; then Invalidate drops the keys from L1,
// from Redis and, over pub/sub, from every other replica's L1. Call it
// after every write whose outcome is not a certain "nothing changed": a
// write that timed out or was cancelled may have committed all the same.
// An invalidation that cannot reach Redis is kept and retried in the
// background until it does (see invalidate.go); a fill that read the old
// value before a write cannot land after its invalidation (versions in
// Redis, epochs in L1: see fill and setL2).
//
// Redis being slow once is not an outage: the cache turns degraded (reads
// from L1 and the loader, writes still succeed, <ns>_cache_degraded is 1,
// one warning logged) after Config.FailThreshold failed or late calls in a
// row, or when more than Config.FailRate of the calls in Config.FailWindow
// fail; a refused connection turns it degraded at once (see health.go). A
// probe pings Redis every RetryInterval and brings L2 back after
// Config.RecoverAfter answers in a row. Recovery keeps L1: it drops only the
// keys invalidated while this replica could not hear about it, read from an
// invalidation log in Redis; only when that log no longer reaches back far
// enough is all of L1 marked for revalidation.
package cache

import (
	"context"
	"errors"
	"fmt"
	"hash/maphash"
	"log/slog"
	"math/rand/v2"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/maypok86/otter/v2"
	"github.com/redis/go-redis/v9"
	"golang.org/x/sync/singleflight"

	"github.com/svcgen/svcgen/platform/timeout"
)

// Config tunes a cache. The service's defaults come from the preset
// (params.cache3, params.timeouts.cache); CACHE_* variables override them.
type Config struct {
	// Prefix starts every Redis key and the invalidation channel of the
	// caches built with this Config, e.g. "inventory-service-go:v2:".
	Prefix string
	// L1Size is the most entries kept in memory per cache.
	L1Size int
	// L1TTL is how long an entry stays in memory: the longest a replica can
	// serve a stale value if an invalidation message is lost.
	L1TTL time.Duration
	// L2TTL is how long an entry stays in Redis.
	L2TTL time.Duration
	// NegativeTTL is how long "this key does not exist" is cached, in both tiers.
	NegativeTTL time.Duration
	// Jitter shortens each TTL by a random fraction of it, up to Jitter
	// (0.1: up to 10% shorter), so that entries cached together expire apart.
	Jitter float64
	// Budget bounds one Redis call; a call past it counts as failed.
	Budget time.Duration
	// RetryInterval is how often a degraded cache probes Redis, and how
	// often invalidations that failed are retried.
	RetryInterval time.Duration
	// FailThreshold is how many Redis calls in a row may fail or outlive
	// Budget before the cache turns degraded (default 5). The streak must
	// also last two Budgets: one stall seen by every call in flight at
	// that instant is not an outage.
	FailThreshold int
	// FailRate turns the cache degraded when at least this share of the
	// Redis calls in FailWindow failed, once the window holds 20 calls
	// (default 0.5).
	FailRate float64
	// FailWindow is the window FailRate is measured over (default 10s).
	FailWindow time.Duration
	// RecoverAfter is how many probes in a row Redis must answer within
	// Budget before a degraded cache uses it again (default 3).
	RecoverAfter int
	// LateCommit is how long after a failed write InvalidateWrite drops
	// its keys once more: the time within which a write its caller gave
	// up on may still commit (default 1s).
	LateCommit time.Duration
}

// Defaults of the Config fields that may be left zero.
const (
	DefaultRetryInterval = time.Second
	DefaultFailThreshold = 5
	DefaultFailRate      = 0.5
	DefaultFailWindow    = 10 * time.Second
	DefaultRecoverAfter  = 3
	DefaultLateCommit    = time.Second
)

// Options define one cache of values V under keys K.
type Options[K comparable, V any] struct {
	// Redis is the L2 client; nil runs the cache on L1 and the loader only.
	Redis redis.UniversalClient
	// Codec encodes values for Redis.
	Codec Codec[V]
	// Key renders a key for Redis; Parse must read it back (invalidation
	// messages carry it).
	Key   func(K) string
	Parse func(string) (K, error)
	// Load reads one value from the source of truth. It returns NotFound
	// (matched with errors.Is) for a key that does not exist.
	Load func(ctx context.Context, k K) (V, error)
	// LoadMany reads many values in one call; keys absent from the result
	// do not exist.
	LoadMany func(ctx context.Context, ks []K) (map[K]V, error)
	// NotFound is Load's error for a missing key; Get returns it for a key
	// cached as missing.
	NotFound error
	// Metrics records hits, misses, latencies and the degraded state; nil
	// records nothing.
	Metrics *Metrics
	// Logger gets a line when Redis fails and when it is back.
	Logger *slog.Logger
	// Name is the cache's metric label and its key space under Config.Prefix.
	Name string
	// Config tunes TTLs, sizes and the Redis budget.
	Config Config
}

// entry is what L1 holds: a value, or the fact that the key does not exist.
type entry[V any] struct {
	val V
	ttl time.Duration
	// gen is the cache's generation when the entry was stored; an entry of
	// an older generation is reloaded before it is served (see
	// revalidateAll), and served only if the reload fails.
	gen   uint32
	found bool
}

// The Redis layout. An entry is a hash under Prefix + Name + ":" + key:
//
//	d  the value: markValue then the codec's bytes, or markMissing
//	v  the version: a random token, replaced by every invalidation
//
// The invalidation log is a stream under Prefix + Name + "#log" (see
// invalidate.go).
const (
	fieldData    = "d"
	fieldVersion = "v"
)

// Marks of the first byte of a value in Redis.
const (
	markMissing byte = 0
	markValue   byte = 1
)

// maxPending bounds the invalidations kept for retry while Redis is
// unreachable.
const maxPending = 100_000

// stripes of the invalidation epochs: a load that overlaps an invalidation
// of a key in its stripe does not store what it read.
const stripes = 1024

// fillScript writes a value into an entry only if the entry's version is
// still the one read before the value was loaded (ARGV[1], "" for none):
// otherwise an invalidation came in between and what was loaded may be
// older than the write behind it.
var fillScript = redis.NewScript(`
if (redis.call('HGET', KEYS[1], 'v') or '') ~= ARGV[1] then
  return 0
end
redis.call('HSET', KEYS[1], 'd', ARGV[2])
redis.call('PEXPIRE', KEYS[1], ARGV[3])
return 1
`)

// Cache is a 3-tier cache. It is safe for concurrent use; call Close when
// done with it.
type Cache[K comparable, V any] struct {
	l1      *otter.Cache[K, entry[V]]
	m       *cacheMetrics
	log     *slog.Logger
	ps      *redis.PubSub
	cancel  context.CancelFunc
	pending map[string]struct{}
	kick    chan struct{}
	stop    chan struct{} // closed by Close: the late invalidations give up
	prefix  string        // Config.Prefix + Name + ":"
	channel string
	logKey  string
	sf      singleflight.Group
	health  health
	opts    Options[K, V]
	wg      sync.WaitGroup
	seed    maphash.Seed
	mu      sync.Mutex // guards pending, overflow
	syncMu  sync.Mutex // guards cursor, cursorKnown; serialises catch-ups
	gen     atomic.Uint32
	// degraded is set while Redis is bypassed; subscribed while the
	// invalidation subscription is live; gap from the moment it broke until
	// the log has been read back over the messages it may have missed.
	degraded, subscribed, gap, closed atomic.Bool
	overflow, cursorKnown             bool
	cursor                            streamID // the last log entry applied; guarded by syncMu
	epochs                            [stripes]atomic.Uint64
}

// New builds a cache and, with Redis, starts its invalidation subscriber
// and its probe.
func New[K comparable, V any](opts Options[K, V]) (*Cache[K, V], error) {
	cfg := opts.Config
	switch {
	case opts.Name == "":
		return nil, errors.New("cache: Name is empty")
	case opts.Key == nil || opts.Parse == nil || opts.Load == nil || opts.LoadMany == nil:
		return nil, fmt.Errorf("cache %s: Key, Parse, Load and LoadMany are required", opts.Name)
	case opts.Redis != nil && opts.Codec == nil:
		return nil, fmt.Errorf("cache %s: a Codec is required with Redis", opts.Name)
	case cfg.L1Size <= 0:
		return nil, fmt.Errorf("cache %s: L1Size must be positive, got %d", opts.Name, cfg.L1Size)
	case cfg.L1TTL <= 0 || cfg.L2TTL <= 0 || cfg.NegativeTTL <= 0:
		return nil, fmt.Errorf("cache %s: L1TTL, L2TTL and NegativeTTL must be positive", opts.Name)
	case cfg.Jitter < 0 || cfg.Jitter >= 1:
		return nil, fmt.Errorf("cache %s: Jitter must be in [0, 1), got %g", opts.Name, cfg.Jitter)
	case cfg.FailThreshold < 0 || cfg.RecoverAfter < 0 || cfg.FailWindow < 0:
		return nil, fmt.Errorf("cache %s: FailThreshold, FailWindow and RecoverAfter must not be negative", opts.Name)
	case cfg.FailRate < 0 || cfg.FailRate > 1:
		return nil, fmt.Errorf("cache %s: FailRate must be in [0, 1], got %g", opts.Name, cfg.FailRate)
	}
	c := &opts.Config
	if c.RetryInterval <= 0 {
		c.RetryInterval = DefaultRetryInterval
	}
	if c.FailThreshold == 0 {
		c.FailThreshold = DefaultFailThreshold
	}
	if c.FailRate == 0 {
		c.FailRate = DefaultFailRate
	}
	if c.FailWindow == 0 {
		c.FailWindow = DefaultFailWindow
	}
	if c.RecoverAfter == 0 {
		c.RecoverAfter = DefaultRecoverAfter
	}
	if c.LateCommit <= 0 {
		c.LateCommit = DefaultLateCommit
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	l1, err := otter.New(&otter.Options[K, entry[V]]{
		MaximumSize: cfg.L1Size,
		ExpiryCalculator: otter.ExpiryWritingFunc(func(e otter.Entry[K, entry[V]]) time.Duration {
			return e.Value.ttl
		}),
	})
	if err != nil {
		return nil, fmt.Errorf("cache %s: %w", opts.Name, err)
	}
	cc := &Cache[K, V]{
		opts:    opts,
		l1:      l1,
		m:       opts.Metrics.forCache(opts.Name),
		log:     opts.Logger.With("cache", opts.Name),
		pending: make(map[string]struct{}),
		kick:    make(chan struct{}, 1),
		prefix:  cfg.Prefix + opts.Name + ":",
		channel: cfg.Prefix + opts.Name + ":invalidate",
		logKey:  cfg.Prefix + opts.Name + "#log",
		seed:    maphash.MakeSeed(),
		stop:    make(chan struct{}),
	}
	if opts.Redis == nil {
		return cc, nil
	}
	opts.Redis.AddHook(dialWatch{trip: cc.trip, closed: &cc.closed})
	ctx, cancel := context.WithCancel(context.Background())
	cc.cancel = cancel
	cc.ps = opts.Redis.Subscribe(ctx, cc.channel)
	cc.wg.Add(2)
	go cc.subscribe(ctx)
	go cc.probe(ctx)
	return cc, nil
}

// Close stops the subscriber, the probe and the late invalidations
// InvalidateWrite scheduled, and releases L1's goroutine. It does not
// close the Redis client.
func (c *Cache[K, V]) Close() error {
	var err error
	if c.closed.Swap(true) {
		return nil
	}
	close(c.stop)
	if c.cancel != nil {
		c.cancel()
		err = c.ps.Close()
	}
	c.wg.Wait()
	c.l1.StopAllGoroutines()
	return err
}

// Degraded reports whether Redis is being bypassed.
func (c *Cache[K, V]) Degraded() bool { return c.degraded.Load() }

// Get returns the value of k from the first tier that has it; a key that
// does not exist returns Options.NotFound.
func (c *Cache[K, V]) Get(ctx context.Context, k K) (V, error) {
	var zero V
	if err := ctx.Err(); err != nil {
		return zero, err
	}
	ctx, span := startGet(ctx, c.opts.Name)
	defer span.end()
	old, cached := c.l1.GetIfPresent(k)
	if cached && old.gen == c.gen.Load() {
		c.m.l1.hits.Inc()
		answeredBy(ctx, TierL1, old.found)
		return c.result(old)
	}
	c.m.l1.misses.Inc()
	key := c.opts.Key(k)
	// The load belongs to every caller waiting on it, so it does not stop
	// when the first caller goes away; the Redis budget and the store's DB
	// budget bound it.
	ch := c.sf.DoChan(key, func() (any, error) {
		return c.fill(context.WithoutCancel(ctx), k, key)
	})
	select {
	case r := <-ch:
		if r.Err != nil {
			if cached {
				// An entry kept for revalidation, and the database cannot
				// answer: the value of a moment ago beats an error.
				c.m.stale.Inc()
				return c.result(old)
			}
			return zero, r.Err
		}
		if r.Shared {
			span.shared()
		}
		return c.result(r.Val.(entry[V]))
	case <-ctx.Done():
		return zero, ctx.Err()
	}
}

func (c *Cache[K, V]) result(e entry[V]) (V, error) {
	if !e.found {
		var zero V
		return zero, c.opts.NotFound
	}
	return e.val, nil
}

// stamp is what a fill reads before it looks anything up: the key's epoch
// and the cache's generation.
type stamp struct {
	epoch uint64
	gen   uint32
}

func (c *Cache[K, V]) stamp(key string) stamp {
	return stamp{epoch: c.epoch(key), gen: c.gen.Load()}
}

// fill reads k from L2, then from the loader, and stores what it found in
// the tiers above.
//
// A read racing a write must not cache the old value after the write's
// invalidation. Two guards see to it:
//
//   - L1: the key's epoch, a striped counter that every invalidation this
//     replica applies (its own or received) bumps, is read first; if it
//     changed by the time the value is stored, the value may predate the
//     write and is dropped.
//   - L2: the entry's version is read in the same round trip as its value,
//     before the load; the value is written back only if the version is
//     still the same (fillScript, a compare-and-set in Redis). An
//     invalidation writes a new random version before it deletes the
//     value, so a fill that loaded the old row either lands before the
//     delete (and is deleted) or finds another version (and is dropped).
//
// A version was chosen over a short "recently invalidated" tombstone: a
// tombstone must outlive the slowest fill, and no fixed TTL is sure to (a
// GC pause, a slow query, a retried Redis call), while it keeps the key out
// of L2 on every replica for as long as it lives. The version is exact
// whatever the timing, costs one more field read on the way, and its key
// lives for L2TTL after the last invalidation.
func (c *Cache[K, V]) fill(ctx context.Context, k K, key string) (entry[V], error) {
	st := c.stamp(key)
	var (
		ver     string
		fillsL2 bool
	)
	if c.l2() {
		e, v, hit, answered := c.getL2(ctx, key)
		if hit {
			c.setL1(k, key, st, e)
			answeredBy(ctx, TierL2, e.found)
			return e, nil
		}
		// Without an answer there is no version to compare with: load, but
		// do not write to Redis.
		ver, fillsL2 = v, answered
	}
	start := time.Now()
	v, err := c.opts.Load(ctx, k)
	c.m.db.duration.Observe(time.Since(start).Seconds())
	var e entry[V]
	switch {
	case err == nil:
		c.m.db.hits.Inc()
		e = entry[V]{val: v, found: true, ttl: c.jitter(c.opts.Config.L1TTL)}
	case c.opts.NotFound != nil && errors.Is(err, c.opts.NotFound):
		c.m.db.misses.Inc()
		e = entry[V]{ttl: c.jitter(c.opts.Config.NegativeTTL)}
	default:
		c.m.db.errors.Inc()
		return e, err
	}
	answeredBy(ctx, TierDB, e.found)
	if c.setL1(k, key, st, e) && fillsL2 && c.l2() {
		c.setL2(ctx, []fillReq[V]{{key: key, ver: ver, e: e}})
	}
	return e, nil
}

// GetMany returns the values of the keys that exist among ks: L1 first,
// then one pipelined Redis round trip for the rest, then one LoadMany call
// for what is still missing.
func (c *Cache[K, V]) GetMany(ctx context.Context, ks []K) (map[K]V, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	ctx, span := startGetMany(ctx, c.opts.Name, len(ks))
	defer span.end()
	out := make(map[K]V, len(ks))
	var (
		missing []K
		old     map[K]entry[V] // entries kept for revalidation
	)
	gen := c.gen.Load()
	seen := make(map[K]struct{}, len(ks))
	for _, k := range ks {
		if _, dup := seen[k]; dup {
			continue
		}
		seen[k] = struct{}{}
		if e, ok := c.l1.GetIfPresent(k); ok {
			if e.gen == gen {
				c.m.l1.hits.Inc()
				if e.found {
					out[k] = e.val
				}
				continue
			}
			if old == nil {
				old = make(map[K]entry[V])
			}
			old[k] = e
		}
		c.m.l1.misses.Inc()
		missing = append(missing, k)
	}
	if len(missing) == 0 {
		return out, nil
	}
	keys := make([]string, len(missing))
	stamps := make([]stamp, len(missing))
	for i, k := range missing {
		keys[i] = c.opts.Key(k)
		stamps[i] = c.stamp(keys[i])
	}

	// L2: one pipeline (works on Redis Cluster, unlike a cross-slot MGET).
	var (
		rest     []int // indexes into missing still unanswered
		versions map[string]string
	)
	if c.l2() {
		var found map[string]entry[V]
		found, versions = c.getManyL2(ctx, keys)
		for i, k := range missing {
			e, ok := found[keys[i]]
			if !ok {
				rest = append(rest, i)
				continue
			}
			c.setL1(k, keys[i], stamps[i], e)
			if e.found {
				out[k] = e.val
			}
		}
	} else {
		rest = make([]int, len(missing))
		for i := range rest {
			rest[i] = i
		}
	}
	if len(rest) == 0 {
		return out, nil
	}

	// L3: one call for everything still missing.
	load := make([]K, len(rest))
	for j, i := range rest {
		load[j] = missing[i]
	}
	start := time.Now()
	vals, err := c.opts.LoadMany(ctx, load)
	c.m.db.duration.Observe(time.Since(start).Seconds())
	if err != nil {
		c.m.db.errors.Inc()
		if len(old) == 0 {
			return nil, err
		}
		// As in Get: the entries kept for revalidation beat an error, but
		// only if they answer every key the database could not.
		for _, i := range rest {
			e, ok := old[missing[i]]
			if !ok {
				return nil, err
			}
			c.m.stale.Inc()
			if e.found {
				out[missing[i]] = e.val
			}
		}
		return out, nil
	}
	fills := make([]fillReq[V], 0, len(rest))
	for _, i := range rest {
		k := missing[i]
		var e entry[V]
		if v, ok := vals[k]; ok {
			c.m.db.hits.Inc()
			e = entry[V]{val: v, found: true, ttl: c.jitter(c.opts.Config.L1TTL)}
			out[k] = v
		} else {
			c.m.db.misses.Inc()
			e = entry[V]{ttl: c.jitter(c.opts.Config.NegativeTTL)}
		}
		if ver, answered := versions[keys[i]]; c.setL1(k, keys[i], stamps[i], e) && answered {
			fills = append(fills, fillReq[V]{key: keys[i], ver: ver, e: e})
		}
	}
	if c.l2() && len(fills) > 0 {
		c.setL2(context.WithoutCancel(ctx), fills)
	}
	return out, nil
}

// Invalidate drops ks from every tier of every replica. Call it after every
// database write of the keys that may have changed something, whatever the
// write returned: success, an error, a timeout or a cancelled context (the
// row may have committed although the caller was told otherwise). It never
// fails the write and does not depend on ctx being alive: the local drop is
// immediate; Redis and the other replicas are told within the cache budget
// on a context of its own, and if that fails the keys are retried in the
// background until Redis takes them (bounded by maxPending).
func (c *Cache[K, V]) Invalidate(ctx context.Context, ks ...K) {
	keys := make([]string, len(ks))
	for i, k := range ks {
		keys[i] = c.opts.Key(k)
		c.epochs[c.stripe(keys[i])].Add(1)
		c.l1.Invalidate(k)
	}
	if c.opts.Redis == nil {
		return
	}
	if c.degraded.Load() {
		c.addPending(keys)
		return
	}
	err := c.publish(context.WithoutCancel(ctx), c.opts.Config.Budget, keys)
	c.observe(err)
	if err != nil {
		c.addPending(keys)
		c.retrySoon()
		return
	}
	c.m.sent.Add(float64(len(keys)))
}

// InvalidateWrite is Invalidate for the keys of a database write, given
// the write's error. A write that failed may still commit: a statement
// cancelled at its deadline can finish on the server before the cancel
// arrives, and a lost answer hides a COMMIT. A read between this
// invalidation and that commit loads the old row and caches it, in
// Redis and in every replica's memory, until its TTL. So when err is not
// nil the keys are invalidated once more Config.LateCommit later, when
// such a commit has landed or never will. Options.NotFound proves that
// nothing was written (the row does not exist): it schedules nothing.
func (c *Cache[K, V]) InvalidateWrite(ctx context.Context, err error, ks ...K) {
	c.Invalidate(ctx, ks...)
	if err == nil || len(ks) == 0 || c.closed.Load() ||
		c.opts.NotFound != nil && errors.Is(err, c.opts.NotFound) {
		return
	}
	ks = slices.Clone(ks)
	c.wg.Add(1)
	go func() {
		defer c.wg.Done()
		t := time.NewTimer(c.opts.Config.LateCommit)
		defer t.Stop()
		select {
		case <-t.C:
			c.m.late.Add(float64(len(ks)))
			c.Invalidate(context.WithoutCancel(ctx), ks...)
		case <-c.stop:
		}
	}()
}

// publish gives every key a new version, deletes its value from Redis and
// logs and announces it to the replicas (logScript), in one round trip.
func (c *Cache[K, V]) publish(ctx context.Context, budget time.Duration, keys []string) error {
	ctx, cancel := timeout.Budget(ctx, budget)
	defer cancel()
	return c.pipelined(ctx, func(p redis.Pipeliner) error {
		args := make([]any, 0, len(keys)+2)
		args = append(args, c.channel, maxLog)
		for _, k := range keys {
			full := c.prefix + k
			// The version first: from here on no fill that read the old one
			// can land; then the value goes.
			p.HSet(ctx, full, fieldVersion, strconv.FormatUint(rand.Uint64(), 36))
			p.HDel(ctx, full, fieldData)
			p.PExpire(ctx, full, c.opts.Config.L2TTL)
			args = append(args, k)
		}
		logScript.EvalSha(ctx, p, []string{c.logKey}, args...)
		return nil
	})
}

// pipelined runs fn as one pipeline; if Redis does not know a script yet
// (a new or restarted server), it loads the scripts and runs fn once more.
func (c *Cache[K, V]) pipelined(ctx context.Context, fn func(redis.Pipeliner) error) error {
	_, err := c.opts.Redis.Pipelined(ctx, fn)
	if redis.HasErrorPrefix(err, "NOSCRIPT") {
		for _, s := range []*redis.Script{fillScript, logScript, logAllScript} {
			if lerr := s.Load(ctx, c.opts.Redis).Err(); lerr != nil {
				return lerr
			}
		}
		_, err = c.opts.Redis.Pipelined(ctx, fn)
	}
	return err
}

// l2 reports whether Redis is to be used.
func (c *Cache[K, V]) l2() bool { return c.opts.Redis != nil && !c.degraded.Load() }

// getL2 reads an entry's value and version. hit: the value was there;
// answered: Redis answered (ver is then the version to fill with).
func (c *Cache[K, V]) getL2(ctx context.Context, key string) (e entry[V], ver string, hit, answered bool) {
	bctx, cancel := timeout.Budget(ctx, c.opts.Config.Budget)
	defer cancel()
	start := time.Now()
	vals, err := c.opts.Redis.HMGet(bctx, c.prefix+key, fieldVersion, fieldData).Result()
	c.m.l2.duration.Observe(time.Since(start).Seconds())
	c.observe(err)
	if err != nil || len(vals) != 2 {
		return e, "", false, false
	}
	ver, _ = vals[0].(string)
	d, ok := vals[1].(string)
	if !ok {
		c.m.l2.misses.Inc()
		return e, ver, false, true
	}
	e, err = c.decode(d)
	if err != nil {
		c.m.l2.errors.Inc()
		c.log.Warn("cache: undecodable value in Redis, reloading it", "key", c.prefix+key, "error", err)
		return e, ver, false, true
	}
	c.m.l2.hits.Inc()
	return e, ver, true, true
}

// getManyL2 reads many entries in one pipeline: the values found, and the
// versions of the keys Redis answered for without a value.
func (c *Cache[K, V]) getManyL2(ctx context.Context, keys []string) (map[string]entry[V], map[string]string) {
	bctx, cancel := timeout.Budget(ctx, c.opts.Config.Budget)
	defer cancel()
	start := time.Now()
	cmds := make([]*redis.SliceCmd, len(keys))
	_, err := c.opts.Redis.Pipelined(bctx, func(p redis.Pipeliner) error {
		for i, k := range keys {
			cmds[i] = p.HMGet(bctx, c.prefix+k, fieldVersion, fieldData)
		}
		return nil
	})
	c.m.l2.duration.Observe(time.Since(start).Seconds())
	c.observe(err)
	if err != nil {
		return nil, nil
	}
	out := make(map[string]entry[V], len(keys))
	versions := make(map[string]string, len(keys))
	for i, cmd := range cmds {
		vals := cmd.Val()
		if len(vals) != 2 {
			continue
		}
		ver, _ := vals[0].(string)
		d, ok := vals[1].(string)
		if !ok {
			c.m.l2.misses.Inc()
			versions[keys[i]] = ver
			continue
		}
		e, err := c.decode(d)
		if err != nil {
			c.m.l2.errors.Inc()
			versions[keys[i]] = ver
			continue
		}
		c.m.l2.hits.Inc()
		out[keys[i]] = e
	}
	return out, versions
}

// fillReq is one value to write to Redis if its entry's version is still ver.
type fillReq[V any] struct {
	key string
	ver string
	e   entry[V]
}

// setL2 writes values to Redis with their jittered TTLs, each only if its
// version has not changed (fillScript), in one round trip.
func (c *Cache[K, V]) setL2(ctx context.Context, fills []fillReq[V]) {
	bctx, cancel := timeout.Budget(ctx, c.opts.Config.Budget)
	defer cancel()
	err := c.pipelined(bctx, func(p redis.Pipeliner) error {
		for _, f := range fills {
			b, ttl := []byte{markMissing}, c.jitter(c.opts.Config.NegativeTTL)
			if f.e.found {
				var err error
				if b, err = c.opts.Codec.Append([]byte{markValue}, f.e.val); err != nil {
					c.m.l2.errors.Inc()
					c.log.Warn("cache: cannot encode value", "key", c.prefix+f.key, "error", err)
					continue
				}
				ttl = c.jitter(c.opts.Config.L2TTL)
			}
			fillScript.EvalSha(bctx, p, []string{c.prefix + f.key}, f.ver, b, ttl.Milliseconds())
		}
		return nil
	})
	c.observe(err)
}

func (c *Cache[K, V]) decode(d string) (entry[V], error) {
	if len(d) == 0 {
		return entry[V]{}, errors.New("empty value")
	}
	if d[0] == markMissing {
		return entry[V]{ttl: c.jitter(c.opts.Config.NegativeTTL)}, nil
	}
	v, err := c.opts.Codec.Decode([]byte(d[1:]))
	if err != nil {
		return entry[V]{}, err
	}
	return entry[V]{val: v, found: true, ttl: c.jitter(c.opts.Config.L1TTL)}, nil
}

// setL1 stores e unless key was invalidated since st was taken (the value
// loaded may predate the write). It reports whether it stored.
func (c *Cache[K, V]) setL1(k K, key string, st stamp, e entry[V]) bool {
	if c.epoch(key) != st.epoch {
		return false
	}
	e.gen = st.gen
	c.l1.Set(k, e)
	return true
}

func (c *Cache[K, V]) stripe(key string) int {
	return int(maphash.String(c.seed, key) % stripes)
}

func (c *Cache[K, V]) epoch(key string) uint64 { return c.epochs[c.stripe(key)].Load() }

// jitter shortens d by a random fraction of up to Config.Jitter.
func (c *Cache[K, V]) jitter(d time.Duration) time.Duration {
	j := c.opts.Config.Jitter
	if j <= 0 || d <= 0 {
		return d
	}
	return d - time.Duration(rand.Float64()*j*float64(d))
}
