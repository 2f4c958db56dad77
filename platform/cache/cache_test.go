package cache

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/redis/go-redis/v9"
	"go.uber.org/goleak"
)

// The store's tests (internal/store/cached_test.go) run the cache against
// real Redis and Postgres; these cover what needs neither, and the
// read/write race against a real Redis.

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

var errMissing = errors.New("missing")

func memoryOnly(t *testing.T, loads *int) *Cache[int, string] {
	t.Helper()
	m, err := NewMetrics(prometheus.NewRegistry(), "test")
	if err != nil {
		t.Fatal(err)
	}
	c, err := New(Options[int, string]{
		Name:     "word",
		Config:   Config{L1Size: 100, L1TTL: time.Minute, L2TTL: time.Minute, NegativeTTL: time.Minute, Jitter: 0.1},
		Metrics:  m,
		NotFound: errMissing,
		Key:      strconv.Itoa,
		Parse:    strconv.Atoi,
		Load: func(_ context.Context, k int) (string, error) {
			*loads++
			if k < 0 {
				return "", errMissing
			}
			return strconv.Itoa(k * 2), nil
		},
		LoadMany: func(_ context.Context, ks []int) (map[int]string, error) {
			*loads++
			out := map[int]string{}
			for _, k := range ks {
				if k >= 0 {
					out[k] = strconv.Itoa(k * 2)
				}
			}
			return out, nil
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Close() })
	return c
}

// TestL1HitAllocatesNothing: a Get answered by L1 allocates nothing, with
// tracing (no sampled request: the span helpers start nothing) and
// without it (the helpers are empty).
func TestL1HitAllocatesNothing(t *testing.T) {
	var loads int
	c := memoryOnly(t, &loads)
	ctx := context.Background()
	if _, err := c.Get(ctx, 21); err != nil {
		t.Fatal(err)
	}
	if n := testing.AllocsPerRun(100, func() { _, _ = c.Get(ctx, 21) }); n != 0 {
		t.Errorf("Get of an L1 hit: %v allocations, want 0", n)
	}
}

func TestMemoryOnly(t *testing.T) {
	var loads int
	c := memoryOnly(t, &loads)
	ctx := context.Background()
	for range 3 {
		if v, err := c.Get(ctx, 21); err != nil || v != "42" {
			t.Fatalf("Get(21) = %q, %v", v, err)
		}
		if _, err := c.Get(ctx, -1); !errors.Is(err, errMissing) {
			t.Fatalf("Get(-1) error = %v, want errMissing", err)
		}
	}
	if loads != 2 {
		t.Fatalf("%d loads, want 2 (one value, one negative)", loads)
	}
	got, err := c.GetMany(ctx, []int{21, -1, 5, 5})
	if err != nil || len(got) != 2 || got[5] != "10" || got[21] != "42" {
		t.Fatalf("GetMany = %v, %v", got, err)
	}
	if loads != 3 {
		t.Fatalf("%d loads after GetMany, want 3 (one batch for the one miss)", loads)
	}
	c.Invalidate(ctx, 21)
	if _, err := c.Get(ctx, 21); err != nil || loads != 4 {
		t.Fatalf("Get after Invalidate: %v, %d loads; want a reload", err, loads)
	}
	done, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := c.Get(done, 21); !errors.Is(err, context.Canceled) {
		t.Fatalf("Get(cancelled) error = %v", err)
	}
}

func TestJitter(t *testing.T) {
	var loads int
	c := memoryOnly(t, &loads)
	for range 1000 {
		if d := c.jitter(time.Minute); d > time.Minute || d < 54*time.Second {
			t.Fatalf("jitter(1m) = %v, want within [54s, 1m]", d)
		}
	}
}

func TestNewRejectsBadConfig(t *testing.T) {
	base := Options[int, string]{Name: "x", Key: strconv.Itoa, Parse: strconv.Atoi,
		Load:     func(context.Context, int) (string, error) { return "", nil },
		LoadMany: func(context.Context, []int) (map[int]string, error) { return nil, nil },
		Config:   Config{L1Size: 1, L1TTL: time.Second, L2TTL: time.Second, NegativeTTL: time.Second}}
	for name, mod := range map[string]func(*Options[int, string]){
		"size":   func(o *Options[int, string]) { o.Config.L1Size = 0 },
		"ttl":    func(o *Options[int, string]) { o.Config.NegativeTTL = 0 },
		"jitter": func(o *Options[int, string]) { o.Config.Jitter = 1 },
		"load":   func(o *Options[int, string]) { o.Load = nil },
	} {
		o := base
		mod(&o)
		if c, err := New(o); err == nil {
			_ = c.Close()
			t.Errorf("%s: New accepted a bad config", name)
		}
	}
}

func TestCodecJSON(t *testing.T) {
	type v struct{ A int }
	b, err := JSON[v]{}.Append([]byte{1}, v{A: 7})
	if err != nil {
		t.Fatal(err)
	}
	got, err := JSON[v]{}.Decode(b[1:])
	if err != nil || got.A != 7 {
		t.Fatalf("Decode = %+v, %v", got, err)
	}
}

// testRedis connects to REDIS_URL, else SVCGEN_TEST_REDIS_URL, else the
// local Redis, or fails the test saying how to start one.
func testRedis(t *testing.T) redis.UniversalClient {
	t.Helper()
	url := "redis://127.0.0.1:6379/0"
	for _, v := range []string{"REDIS_URL", "SVCGEN_TEST_REDIS_URL"} {
		if u := os.Getenv(v); u != "" {
			url = u
			break
		}
	}
	rdb, err := NewRedis(url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = rdb.Close() })
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := rdb.Ping(ctx).Err(); err != nil {
		t.Fatalf("cannot reach Redis at %s: %v\n"+
			"start one with `docker compose up -d redis` (or point REDIS_URL at a Redis server)", url, err)
	}
	return rdb
}

// source is a one-table "database" whose reads a test can hold after they
// have read.
type source struct {
	rows   map[int]string
	loaded chan struct{} // with hold: gets a value once a read has read
	resume chan struct{}
	mu     sync.Mutex
	hold   bool
}

func (s *source) set(k int, v string) {
	s.mu.Lock()
	s.rows[k] = v
	s.mu.Unlock()
}

func (s *source) load(_ context.Context, k int) (string, error) {
	s.mu.Lock()
	v, ok := s.rows[k]
	hold := s.hold
	s.mu.Unlock()
	if hold {
		s.loaded <- struct{}{}
		<-s.resume
	}
	if !ok {
		return "", errMissing
	}
	return v, nil
}

func redisCache(t *testing.T, rdb redis.UniversalClient, cfg Config, src *source) *Cache[int, string] {
	t.Helper()
	c, err := New(Options[int, string]{
		Name: "word", Config: cfg, Redis: rdb, Codec: JSON[string]{}, NotFound: errMissing,
		Key: strconv.Itoa, Parse: strconv.Atoi, Load: src.load,
		LoadMany: func(ctx context.Context, ks []int) (map[int]string, error) {
			out := map[int]string{}
			for _, k := range ks {
				if v, err := src.load(ctx, k); err == nil {
					out[k] = v
				}
			}
			return out, nil
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = c.Close()
		_ = rdb.Del(context.Background(), c.logKey).Err()
	})
	deadline := time.Now().Add(3 * time.Second)
	for !c.subscribed.Load() || c.gap.Load() {
		if time.Now().After(deadline) {
			t.Fatal("the invalidation subscription did not come up")
		}
		time.Sleep(5 * time.Millisecond)
	}
	return c
}

// TestStaleFillCannotLand: a read that loaded a value before a write
// cannot cache it after the write's invalidation, in L1 or in Redis.
func TestStaleFillCannotLand(t *testing.T) {
	rdb := testRedis(t)
	cfg := Config{Prefix: fmt.Sprintf("test:%d:", time.Now().UnixNano()), L1Size: 100, L1TTL: time.Minute,
		L2TTL: time.Minute, NegativeTTL: time.Minute, Budget: 100 * time.Millisecond, RetryInterval: 50 * time.Millisecond}
	src := &source{rows: map[int]string{1: "old", 2: "old"}, loaded: make(chan struct{}), resume: make(chan struct{})}
	reader := redisCache(t, rdb, cfg, src) // one replica reads...
	writer := redisCache(t, rdb, cfg, src) // ...while another writes
	ctx := context.Background()
	inRedis := func(k int) (string, bool) {
		b, err := rdb.HGet(ctx, cfg.Prefix+"word:"+strconv.Itoa(k), fieldData).Bytes()
		if errors.Is(err, redis.Nil) {
			return "", false
		}
		if err != nil {
			t.Fatal(err)
		}
		v, err := JSON[string]{}.Decode(b[1:])
		if err != nil {
			t.Fatal(err)
		}
		return v, true
	}

	// L2: a fill carrying the version read before an invalidation is refused;
	// one carrying the version after it lands.
	_, before, hit, answered := reader.getL2(ctx, "1")
	if hit || !answered {
		t.Fatalf("getL2 on an empty key: hit %v, answered %v", hit, answered)
	}
	src.set(1, "new")
	writer.Invalidate(ctx, 1)
	old := entry[string]{val: "old", found: true, ttl: time.Minute}
	reader.setL2(ctx, []fillReq[string]{{key: "1", ver: before, e: old}})
	if v, ok := inRedis(1); ok {
		t.Fatalf("a fill that read its version before the invalidation stored %q in Redis", v)
	}
	_, after, _, _ := reader.getL2(ctx, "1")
	if after == before {
		t.Fatalf("the invalidation left the version at %q", before)
	}
	reader.setL2(ctx, []fillReq[string]{{key: "1", ver: after, e: entry[string]{val: "new", found: true, ttl: time.Minute}}})
	if v, ok := inRedis(1); !ok || v != "new" {
		t.Fatalf("a fill with the current version: Redis holds %q, %v; want new", v, ok)
	}

	// End to end: reader's Get loads "old", then the write commits and is
	// invalidated on the writer, the reader hears of it, and only then the
	// load returns.
	src.mu.Lock()
	src.hold = true
	src.mu.Unlock()
	got := make(chan string, 1)
	go func() {
		v, _ := reader.Get(ctx, 2)
		got <- v
	}()
	<-src.loaded
	src.mu.Lock()
	src.hold = false
	src.mu.Unlock()
	epoch := reader.epoch("2")
	src.set(2, "new")
	writer.Invalidate(ctx, 2)
	for deadline := time.Now().Add(3 * time.Second); reader.epoch("2") == epoch; time.Sleep(time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("the reader never heard of the invalidation")
		}
	}
	close(src.resume)
	if v := <-got; v != "old" {
		t.Fatalf("the read in flight returned %q; it loaded old", v)
	}
	if e, ok := reader.l1.GetIfPresent(2); ok {
		t.Fatalf("the stale load landed in L1: %+v", e)
	}
	if v, ok := inRedis(2); ok {
		t.Fatalf("the stale load landed in Redis: %q", v)
	}
	if v, err := reader.Get(ctx, 2); err != nil || v != "new" {
		t.Fatalf("next read = %q, %v; want new", v, err)
	}
}

// TestInvalidateWriteLateCommit: a write reported as failed commits after
// its invalidation, and a read in between caches the old value on both
// replicas and in Redis; InvalidateWrite drops it everywhere once more
// after LateCommit. A write that succeeded, or one that wrote nothing
// (NotFound), schedules nothing, and Close cancels what is scheduled.
func TestInvalidateWriteLateCommit(t *testing.T) {
	rdb := testRedis(t)
	cfg := Config{Prefix: fmt.Sprintf("test:%d:", time.Now().UnixNano()), L1Size: 100, L1TTL: time.Minute,
		L2TTL: time.Minute, NegativeTTL: time.Minute, Budget: 100 * time.Millisecond, RetryInterval: 50 * time.Millisecond,
		LateCommit: 300 * time.Millisecond}
	src := &source{rows: map[int]string{1: "old"}, loaded: make(chan struct{}), resume: make(chan struct{})}
	reader := redisCache(t, rdb, cfg, src)
	writer := redisCache(t, rdb, cfg, src)
	ctx := context.Background()

	// The update timed out as far as its caller knows...
	epoch := reader.epoch("1")
	writer.InvalidateWrite(ctx, context.DeadlineExceeded, 1)
	start := time.Now()
	// (the reader hears of that first invalidation before it reads, or
	// the message would drop what it caches below)
	eventually(t, "the first invalidation reaches the reader", func() bool { return reader.epoch("1") != epoch })
	// ...a read caches the row as it still is...
	for _, c := range []*Cache[int, string]{reader, writer} {
		if v, err := c.Get(ctx, 1); err != nil || v != "old" {
			t.Fatalf("read before the late commit: %q, %v", v, err)
		}
	}
	// ...and then the update commits after all.
	src.set(1, "new")
	if v, _ := reader.Get(ctx, 1); v != "old" {
		t.Fatalf("the read cached nothing (%q): the scenario needs a stale entry", v)
	}
	eventually(t, "the late invalidation reaches both replicas", func() bool {
		a, _ := reader.Get(ctx, 1)
		b, _ := writer.Get(ctx, 1)
		return a == "new" && b == "new"
	})
	if took := time.Since(start); took < cfg.LateCommit {
		t.Errorf("the stale value went after %v, before LateCommit (%v): something else dropped it", took, cfg.LateCommit)
	}
	if n := testutil.ToFloat64(writer.m.late); n != 1 {
		t.Errorf("invalidations_late_total = %v, want 1", n)
	}

	// Nil errors and NotFound (nothing written) schedule nothing; Close
	// stops a pending one (goleak in TestMain sees a goroutine left behind).
	writer.InvalidateWrite(ctx, nil, 1)
	writer.InvalidateWrite(ctx, fmt.Errorf("update: %w", errMissing), 1)
	time.Sleep(2 * cfg.LateCommit)
	if n := testutil.ToFloat64(writer.m.late); n != 1 {
		t.Errorf("after a nil error and NotFound: invalidations_late_total = %v, want 1", n)
	}
	writer.InvalidateWrite(ctx, errors.New("timeout"), 1)
	if err := writer.Close(); err != nil {
		t.Fatal(err)
	}
	if n := testutil.ToFloat64(writer.m.late); n != 1 {
		t.Errorf("after a Close: invalidations_late_total = %v, want 1", n)
	}
}

// TestHealth: when the counts of Redis outcomes say "down".
func TestHealth(t *testing.T) {
	cfg := Config{Budget: 10 * time.Millisecond, FailThreshold: 5, FailRate: 0.5, FailWindow: 10 * time.Second}
	now := time.Now()
	var h health
	h.reset(now)
	// A stall that every call in flight sees at once is one event: ten
	// failures within one budget are no streak.
	for i := range 10 {
		if h.failed(now.Add(time.Duration(i)*time.Millisecond), &cfg) {
			t.Fatalf("failure %d within one budget counted as an outage", i+1)
		}
	}
	// Spread over more than two budgets, FailThreshold failures are.
	h.reset(now)
	for i := range cfg.FailThreshold {
		down := h.failed(now.Add(time.Duration(i)*cfg.Budget), &cfg)
		if want := i == cfg.FailThreshold-1; down != want {
			t.Fatalf("failure %d of a streak: down = %v, want %v", i+1, down, want)
		}
	}
	// The error rate: failures between successes, never FailThreshold in a
	// row, trip once half the window's calls (and at least 20) failed.
	h.reset(now)
	var tripped int
	for i := range 40 {
		at := now.Add(time.Duration(i) * time.Second / 10)
		if i%2 == 0 {
			h.succeeded(at, &cfg)
			continue
		}
		if h.failed(at, &cfg) {
			tripped = i + 1
			break
		}
	}
	if tripped != minWindowCalls {
		t.Fatalf("alternating outcomes tripped after %d calls, want %d (the window's minimum)", tripped, minWindowCalls)
	}
	// A new window starts from zero: at 15 calls a window, half of them
	// failed, no window ever holds the 20 calls the rate needs.
	h.reset(now)
	for i := range 60 {
		at := now.Add(time.Duration(i) * cfg.FailWindow / 15)
		if i%2 == 0 {
			h.succeeded(at, &cfg)
		} else if h.failed(at, &cfg) {
			t.Fatalf("tripped at call %d although each window holds 15 calls", i+1)
		}
	}
}

// TestRevalidateAll: after revalidateAll an entry is reloaded before use,
// and served as it was when the reload fails.
func TestRevalidateAll(t *testing.T) {
	m, err := NewMetrics(prometheus.NewRegistry(), "test")
	if err != nil {
		t.Fatal(err)
	}
	var (
		loads int
		down  bool
		value = "v1"
	)
	c, err := New(Options[int, string]{
		Name: "word", Metrics: m, NotFound: errMissing, Key: strconv.Itoa, Parse: strconv.Atoi,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
		Config: Config{L1Size: 100, L1TTL: time.Minute, L2TTL: time.Minute, NegativeTTL: time.Minute},
		Load: func(context.Context, int) (string, error) {
			loads++
			if down {
				return "", errors.New("database down")
			}
			return value, nil
		},
		LoadMany: func(_ context.Context, ks []int) (map[int]string, error) {
			loads++
			if down {
				return nil, errors.New("database down")
			}
			out := map[int]string{}
			for _, k := range ks {
				out[k] = value
			}
			return out, nil
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	ctx := context.Background()
	if v, err := c.Get(ctx, 1); err != nil || v != "v1" {
		t.Fatalf("Get = %q, %v", v, err)
	}
	value = "v2"
	c.revalidateAll("test")
	if v, err := c.Get(ctx, 1); err != nil || v != "v2" || loads != 2 {
		t.Fatalf("after revalidateAll: Get = %q, %v after %d loads; want v2 reloaded", v, err, loads)
	}
	if v, _ := c.Get(ctx, 1); v != "v2" || loads != 2 {
		t.Fatalf("the reloaded entry was not kept: %q, %d loads", v, loads)
	}
	down = true
	c.revalidateAll("test")
	if v, err := c.Get(ctx, 1); err != nil || v != "v2" {
		t.Fatalf("reload failing: Get = %q, %v; want the entry as it was", v, err)
	}
	if got, err := c.GetMany(ctx, []int{1}); err != nil || got[1] != "v2" {
		t.Fatalf("reload failing: GetMany = %v, %v; want the entry as it was", got, err)
	}
	if _, err := c.Get(ctx, 2); err == nil {
		t.Fatal("a key never cached was answered with the database down")
	}
	if loads != 5 {
		t.Fatalf("%d loads, want 5 (each revalidation tried the database)", loads)
	}
	if got := testutil.ToFloat64(c.m.stale); got != 2 {
		t.Fatalf("stale_served_total = %v, want 2", got)
	}
}
