package batch

import (
	"context"
	"errors"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"go.uber.org/goleak"
)

// The store's tests (internal/store/batched_test.go) run the loader
// against real Postgres; these cover the loader's own rules. No test
// depends on timing: Wait is set far beyond any test's run, and a batch is
// held in flight (hold) so that the next one gathers keys until it
// returns or fills up.

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

const never = time.Hour // a Wait no test waits out

var errBoom = errors.New("boom")

// recorder is a Fetch that records its calls; keys >= 1000 do not exist,
// and a call with key -1 blocks until gate is closed.
type recorder struct {
	err     error
	gate    chan struct{}
	entered chan struct{}
	calls   [][]int
	mu      sync.Mutex
}

func newRecorder(err error) *recorder {
	return &recorder{err: err, gate: make(chan struct{}), entered: make(chan struct{}, 1)}
}

func (r *recorder) fetch(ctx context.Context, keys []int) (map[int]string, error) {
	r.mu.Lock()
	r.calls = append(r.calls, slices.Clone(keys))
	r.mu.Unlock()
	if slices.Contains(keys, -1) {
		r.entered <- struct{}{}
		<-r.gate
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if r.err != nil {
		return nil, r.err
	}
	out := make(map[int]string, len(keys))
	for _, k := range keys {
		if k < 1000 {
			out[k] = value(k)
		}
	}
	return out, nil
}

func (r *recorder) batches() [][]int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.calls)
}

// hold puts a batch (key -1) in flight on the idle loader l and keeps it
// there until release is called.
func hold(t *testing.T, l *Loader[int, string], r *recorder) (release func()) {
	t.Helper()
	done := make(chan struct{})
	go func() {
		defer close(done)
		_, _ = l.Load(context.Background(), -1)
	}()
	<-r.entered
	return func() {
		close(r.gate)
		<-done
	}
}

func value(k int) string { return "v" + string(rune('a'+k%26)) }

func newLoader(t *testing.T, r *recorder, cfg Config) (*Loader[int, string], *Metrics) {
	t.Helper()
	m, err := NewMetrics(prometheus.NewRegistry(), "test")
	if err != nil {
		t.Fatal(err)
	}
	l, err := New(Options[int, string]{Name: "word", Config: cfg, Fetch: r.fetch, Metrics: m})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = l.Close() })
	return l, m
}

// waitLoads waits until n loads have joined the loader (a condition, not a
// duration: it fails only after a generous deadline).
func waitLoads(t *testing.T, m *Metrics, n float64) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for testutil.ToFloat64(m.loads.WithLabelValues("word")) < n {
		if time.Now().After(deadline) {
			t.Fatalf("%v loads joined, want %v", testutil.ToFloat64(m.loads.WithLabelValues("word")), n)
		}
		time.Sleep(time.Millisecond)
	}
}

type result struct {
	err error
	v   string
	key int
}

// loadAll runs one Load per key concurrently and returns their results.
func loadAll(ctx context.Context, l *Loader[int, string], keys []int) <-chan result {
	out := make(chan result, len(keys))
	for _, k := range keys {
		go func() {
			v, err := l.Load(ctx, k)
			out <- result{key: k, v: v, err: err}
		}()
	}
	return out
}

func TestIdleLoaderSendsAtOnce(t *testing.T) {
	r := newRecorder(nil)
	l, _ := newLoader(t, r, Config{Wait: never, MaxBatch: 256})
	for k := range 3 {
		if v, err := l.Load(context.Background(), k); err != nil || v != value(k) {
			t.Fatalf("Load(%d) = %q, %v", k, v, err)
		}
	}
	if calls := r.batches(); len(calls) != 3 {
		t.Fatalf("fetch calls %v, want one per sequential Load", calls)
	}
}

func TestFullBatchGoesBeforeWait(t *testing.T) {
	r := newRecorder(nil)
	l, m := newLoader(t, r, Config{Wait: never, MaxBatch: 100})
	release := hold(t, l, r)
	defer release()
	keys := make([]int, 100)
	for i := range keys {
		keys[i] = i
	}
	// Served while the held batch is still in flight: a full batch goes
	// at once.
	results := loadAll(context.Background(), l, keys)
	for range keys {
		res := <-results
		if res.err != nil || res.v != value(res.key) {
			t.Fatalf("Load(%d) = %q, %v", res.key, res.v, res.err)
		}
	}
	calls := r.batches()
	if len(calls) != 2 || len(calls[1]) != 100 {
		t.Fatalf("fetch calls of sizes %v, want the held one and one of 100 keys", sizes(calls))
	}
	if got := testutil.ToFloat64(m.calls.WithLabelValues("word")); got != 1 {
		t.Fatalf("batch_calls_total = %v, want 1 returned", got)
	}
	if got := testutil.ToFloat64(m.loads.WithLabelValues("word")); got != 101 {
		t.Fatalf("batch_loads_total = %v, want 101", got)
	}
}

func TestDuplicatesAndMissing(t *testing.T) {
	r := newRecorder(nil)
	l, m := newLoader(t, r, Config{Wait: never, MaxBatch: 256})
	release := hold(t, l, r)
	keys := make([]int, 60)
	for i := range keys {
		keys[i] = []int{1, 2, 3, 1000, 1001}[i%5]
	}
	results := loadAll(context.Background(), l, keys)
	waitLoads(t, m, 61)
	release() // the gathered batch goes when the held one returns
	for range keys {
		res := <-results
		switch {
		case res.key >= 1000 && !errors.Is(res.err, ErrNotFound):
			t.Fatalf("Load(%d) error = %v, want ErrNotFound", res.key, res.err)
		case res.key < 1000 && (res.err != nil || res.v != value(res.key)):
			t.Fatalf("Load(%d) = %q, %v", res.key, res.v, res.err)
		}
	}
	calls := r.batches()
	if len(calls) != 2 || len(calls[1]) != 5 {
		t.Fatalf("fetch calls %v, want the held one and one of the 5 distinct keys", calls)
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := l.Load(context.Background(), 1); !errors.Is(err, ErrClosed) {
		t.Fatalf("Load after Close = %v, want ErrClosed", err)
	}
}

func TestErrorReachesEveryWaiter(t *testing.T) {
	r := newRecorder(errBoom)
	l, m := newLoader(t, r, Config{Wait: never, MaxBatch: 20})
	release := hold(t, l, r)
	defer release()
	keys := make([]int, 20)
	for i := range keys {
		keys[i] = i
	}
	results := loadAll(context.Background(), l, keys)
	for range keys {
		if res := <-results; !errors.Is(res.err, errBoom) {
			t.Fatalf("Load(%d) error = %v, want the batch's error", res.key, res.err)
		}
	}
	if got := testutil.ToFloat64(m.errors.WithLabelValues("word")); got != 1 {
		t.Fatalf("batch_errors_total = %v, want 1", got)
	}
}

func TestCancelledCallerLeavesOthersBatch(t *testing.T) {
	r := newRecorder(nil)
	l, m := newLoader(t, r, Config{Wait: never, MaxBatch: 256})
	release := hold(t, l, r)
	ctx, cancel := context.WithCancel(context.Background())
	gone := loadAll(ctx, l, []int{7})
	stays := loadAll(context.Background(), l, []int{8})
	waitLoads(t, m, 3)

	cancel()
	if res := <-gone; !errors.Is(res.err, context.Canceled) {
		t.Fatalf("cancelled Load = %q, %v, want context.Canceled", res.v, res.err)
	}
	release()
	if res := <-stays; res.err != nil || res.v != value(8) {
		t.Fatalf("the other caller got %q, %v", res.v, res.err)
	}
	calls := r.batches()
	if len(calls) == 2 {
		slices.Sort(calls[1])
	}
	if len(calls) != 2 || !slices.Equal(calls[1], []int{7, 8}) {
		t.Fatalf("fetch calls %v, want the held one and [7 8]", calls)
	}
}

func TestAllCallersGoneCancelsBatch(t *testing.T) {
	r := newRecorder(nil)
	l, m := newLoader(t, r, Config{Wait: never, MaxBatch: 256})
	release := hold(t, l, r)
	ctx, cancel := context.WithCancel(context.Background())
	results := loadAll(ctx, l, []int{1, 2, 3})
	waitLoads(t, m, 4)
	cancel()
	for range 3 {
		if res := <-results; !errors.Is(res.err, context.Canceled) {
			t.Fatalf("Load(%d) = %v, want context.Canceled", res.key, res.err)
		}
	}
	release()
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	if calls := r.batches(); len(calls) != 1 {
		t.Fatalf("fetch calls %v, want only the held one: nobody waits for the other", calls)
	}
}

func TestBatchHasItsOwnDeadline(t *testing.T) {
	var sawDeadline atomic.Bool
	l, err := New(Options[int, string]{
		Config: Config{Wait: never, MaxBatch: 1, Timeout: 42 * time.Second},
		Fetch: func(ctx context.Context, keys []int) (map[int]string, error) {
			dl, ok := ctx.Deadline()
			sawDeadline.Store(ok && time.Until(dl) <= 42*time.Second && time.Until(dl) > 0)
			return map[int]string{keys[0]: "x"}, nil
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	// The caller's context has no deadline; the batch's has Timeout.
	if v, err := l.Load(context.Background(), 1); err != nil || v != "x" {
		t.Fatalf("Load = %q, %v", v, err)
	}
	if !sawDeadline.Load() {
		t.Fatal("the batch function ran without the loader's deadline")
	}
}

func TestLoadMany(t *testing.T) {
	r := newRecorder(nil)
	l, _ := newLoader(t, r, Config{Wait: never, MaxBatch: 256})
	keys := make([]int, 0, 600)
	for i := range 600 {
		keys = append(keys, i%520+500) // 500..1019: 500..999 exist, some twice
	}
	// 520 distinct keys: two full batches go at once, the rest when one
	// of them returns.
	got, err := l.LoadMany(context.Background(), keys)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 500 || got[500] != value(500) || got[999] != value(999) {
		t.Fatalf("LoadMany: %d values, want 500", len(got))
	}
	n := sizes(r.batches())
	slices.Sort(n)
	if !slices.Equal(n, []int{88, 256, 256}) {
		t.Fatalf("fetch calls of sizes %v, want 256, 256, 88", n)
	}
	if got, err := l.LoadMany(context.Background(), []int{1, 2}); err != nil || len(got) != 2 {
		t.Fatalf("LoadMany on an idle loader = %v, %v", got, err)
	}
}

func TestNewNeedsFetch(t *testing.T) {
	if _, err := New(Options[int, int]{}); err == nil {
		t.Fatal("New without Fetch: no error")
	}
}

func TestChunksAndMany(t *testing.T) {
	ids := make([]int, 1000)
	for i := range ids {
		ids[i] = i
	}
	var lens []int
	for c := range Chunks(ids, 300) {
		lens = append(lens, len(c))
	}
	if !slices.Equal(lens, []int{300, 300, 300, 100}) {
		t.Fatalf("chunk sizes %v", lens)
	}
	lens = lens[:0]
	for c := range Chunks(ids, 0) {
		lens = append(lens, len(c))
	}
	if !slices.Equal(lens, []int{1000}) {
		t.Fatalf("chunk sizes with n=0: %v", lens)
	}

	r := newRecorder(nil)
	got, err := Many(context.Background(), append(ids, 1000, 1001), 256, r.fetch)
	if err != nil || len(got) != 1000 || got[999] != value(999) {
		t.Fatalf("Many = %d values, %v", len(got), err)
	}
	if calls := r.batches(); !slices.Equal(sizes(calls), []int{256, 256, 256, 234}) {
		t.Fatalf("Many fetch sizes %v", sizes(calls))
	}
	r = newRecorder(errBoom)
	if _, err := Many(context.Background(), ids, 256, r.fetch); !errors.Is(err, errBoom) {
		t.Fatalf("Many error = %v, want errBoom", err)
	}
	if got, err := Many(context.Background(), nil, 256, r.fetch); err != nil || len(got) != 0 {
		t.Fatalf("Many(nil) = %v, %v", got, err)
	}
}

func sizes(calls [][]int) []int {
	out := make([]int, len(calls))
	for i, c := range calls {
		out[i] = len(c)
	}
	return out
}
