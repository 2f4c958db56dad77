package outbound

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

var testOps = []Operation{
	{ID: "getItem", Method: "GET", Path: "/items/{id}", Idempotent: true},
	{ID: "listItems", Method: "GET", Path: "/items", Idempotent: true},
	{ID: "createItem", Method: "POST", Path: "/items"},
	{ID: "chargeItem", Method: "POST", Path: "/items/{id}/charge", Idempotent: true}, // x-svcgen-idempotent
}

// backend answers with the statuses of answer, one per request (the last
// one repeated), and counts the requests it received.
type backend struct {
	srv    *httptest.Server
	answer atomic.Pointer[[]int]
	// retryAfter is the Retry-After header of every answer (nil: none).
	retryAfter atomic.Pointer[string]
	calls      atomic.Int64
	delay      atomic.Int64
}

func newBackend(t *testing.T, statuses ...int) *backend {
	t.Helper()
	b := &backend{}
	b.set(statuses...)
	b.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n := int(b.calls.Add(1)) - 1
		if d := time.Duration(b.delay.Load()); d > 0 {
			select {
			case <-time.After(d):
			case <-r.Context().Done():
				return
			}
		}
		if ra := b.retryAfter.Load(); ra != nil {
			w.Header().Set("Retry-After", *ra)
		}
		st := *b.answer.Load()
		code := st[min(n, len(st)-1)]
		w.WriteHeader(code)
		_, _ = w.Write([]byte(`{}`))
	}))
	t.Cleanup(b.srv.Close)
	return b
}

func (b *backend) set(statuses ...int) { b.answer.Store(&statuses) }

func newDep(t *testing.T, url string, change func(*Config)) (*Dependency, *Metrics) {
	t.Helper()
	cfg := DefaultConfig(url)
	cfg.Backoff, cfg.MaxBackoff = time.Millisecond, 2*time.Millisecond
	if change != nil {
		change(&cfg)
	}
	m, err := NewMetrics(prometheus.NewRegistry(), "test")
	if err != nil {
		t.Fatal(err)
	}
	base := NewTransport(cfg)
	t.Cleanup(base.(*http.Transport).CloseIdleConnections)
	d, err := New("items", cfg, testOps, m, base)
	if err != nil {
		t.Fatal(err)
	}
	return d, m
}

func call(t *testing.T, ctx context.Context, d *Dependency, method, url string) (*http.Response, error) {
	t.Helper()
	var body *strings.Reader
	if method == http.MethodPost || method == http.MethodPut {
		body = strings.NewReader(`{"name":"x"}`)
	}
	var req *http.Request
	var err error
	if body != nil {
		req, err = http.NewRequestWithContext(ctx, method, url, body)
	} else {
		req, err = http.NewRequestWithContext(ctx, method, url, nil)
	}
	if err != nil {
		t.Fatal(err)
	}
	resp, err := d.HTTPClient().Do(req)
	if err == nil {
		_ = resp.Body.Close()
	}
	return resp, err
}

func TestBudget(t *testing.T) {
	for _, tc := range []struct {
		timeout, margin, left time.Duration
		deadline              bool
		want                  time.Duration
	}{
		{time.Second, 5 * time.Millisecond, 0, false, time.Second},                                         // no caller deadline: the timeout
		{time.Second, 5 * time.Millisecond, 100 * time.Millisecond, true, 95 * time.Millisecond},           // the caller's time left minus the margin
		{50 * time.Millisecond, 5 * time.Millisecond, 100 * time.Millisecond, true, 50 * time.Millisecond}, // the timeout is shorter
		{time.Second, 5 * time.Millisecond, 3 * time.Millisecond, true, -2 * time.Millisecond},             // nothing left: not called
	} {
		if got := Budget(tc.timeout, tc.margin, tc.left, tc.deadline); got != tc.want {
			t.Errorf("Budget(%v, %v, %v, %t) = %v, want %v", tc.timeout, tc.margin, tc.left, tc.deadline, got, tc.want)
		}
	}
}

func TestBackoff(t *testing.T) {
	base, ceiling := 10*time.Millisecond, 200*time.Millisecond
	for n, want := range []time.Duration{10, 20, 40, 80, 160, 200, 200} {
		want *= time.Millisecond
		if got := Backoff(base, ceiling, n, 0.999999); got > want || got < want*99/100 {
			t.Errorf("retry %d: ceiling %v, want %v", n, got, want)
		}
		if got := Backoff(base, ceiling, n, 0); got != 0 {
			t.Errorf("retry %d with jitter 0: %v, want 0 (full jitter)", n, got)
		}
	}
}

func TestRetriesIdempotentOnly(t *testing.T) {
	for _, tc := range []struct {
		name, method, path string
		statuses           []int
		wantCalls          int64
		wantStatus         int // of the *Error; 0 when the call succeeds
	}{
		{"GET retried on 503 until it answers", "GET", "/items/7", []int{503, 503, 200}, 3, 0},
		{"GET retried at most Retries times", "GET", "/items/7", []int{503}, 3, 503},
		{"GET 504 after retries is a 504", "GET", "/items", []int{504}, 3, 504},
		{"GET not retried on 500", "GET", "/items/7", []int{500}, 1, 0},
		{"GET not retried on 404", "GET", "/items/7", []int{404}, 1, 0},
		{"POST never retried", "POST", "/items", []int{503, 200}, 1, 503},
		{"POST marked idempotent retried", "POST", "/items/7/charge", []int{502, 200}, 2, 0},
		{"unknown operation never retried", "GET", "/nothing/here", []int{503, 200}, 1, 503},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b := newBackend(t, tc.statuses...)
			d, _ := newDep(t, b.srv.URL, func(c *Config) { c.BreakerFailures = 100 })
			_, err := call(t, context.Background(), d, tc.method, b.srv.URL+tc.path)
			if got := b.calls.Load(); got != tc.wantCalls {
				t.Errorf("the dependency got %d requests, want %d", got, tc.wantCalls)
			}
			var e *Error
			switch {
			case tc.wantStatus == 0 && err != nil:
				t.Errorf("err = %v, want an answer", err)
			case tc.wantStatus != 0 && !errors.As(err, &e):
				t.Errorf("err = %v, want *Error", err)
			case tc.wantStatus != 0 && (e.HTTPStatus() != tc.wantStatus || e.Attempts != int(tc.wantCalls)):
				t.Errorf("status %d after %d attempts, want %d after %d", e.HTTPStatus(), e.Attempts, tc.wantStatus, tc.wantCalls)
			}
		})
	}
}

func TestConnectionErrorRetriedAndUnavailable(t *testing.T) {
	b := newBackend(t, 200)
	url := b.srv.URL
	b.srv.Close() // nothing listens any more
	d, m := newDep(t, url, func(c *Config) { c.BreakerFailures = 100 })
	_, err := call(t, context.Background(), d, "GET", url+"/items/1")
	var e *Error
	if !errors.As(err, &e) || e.HTTPStatus() != http.StatusServiceUnavailable || e.Attempts != 3 {
		t.Fatalf("err = %v, want a 503 *Error after 3 attempts", err)
	}
	if got := testutil.ToFloat64(m.retries.WithLabelValues("items", "getItem")); got != 2 {
		t.Errorf("retries_total = %v, want 2", got)
	}
	if got := testutil.ToFloat64(m.requests.WithLabelValues("items", "getItem", "error")); got != 1 {
		t.Errorf(`requests_total{code="error"} = %v, want 1`, got)
	}
}

func TestNoBudgetFailsFast(t *testing.T) {
	b := newBackend(t, 200)
	d, m := newDep(t, b.srv.URL, func(c *Config) { c.Margin = 50 * time.Millisecond })
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	_, err := call(t, ctx, d, "GET", b.srv.URL+"/items/1")
	var e *Error
	if !errors.As(err, &e) || e.HTTPStatus() != http.StatusGatewayTimeout || !errors.Is(err, ErrNoBudget) || !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("err = %v, want a 504 ErrNoBudget", err)
	}
	if b.calls.Load() != 0 {
		t.Errorf("the dependency was called %d times with no budget left", b.calls.Load())
	}
	if got := testutil.ToFloat64(m.requests.WithLabelValues("items", "getItem", "no_budget")); got != 1 {
		t.Errorf(`requests_total{code="no_budget"} = %v, want 1`, got)
	}
}

func TestBudgetEndsSlowCall(t *testing.T) {
	b := newBackend(t, 200)
	b.delay.Store(int64(time.Minute))
	d, m := newDep(t, b.srv.URL, func(c *Config) { c.Timeout = 30 * time.Millisecond })
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	_, err := call(t, ctx, d, "GET", b.srv.URL+"/items/1")
	var e *Error
	if !errors.As(err, &e) || e.HTTPStatus() != http.StatusGatewayTimeout || !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("err = %v, want a 504 *Error wrapping context.DeadlineExceeded", err)
	}
	if ctx.Err() != nil {
		t.Error("the caller's own deadline passed: the budget did not end the call first")
	}
	if got := testutil.ToFloat64(m.requests.WithLabelValues("items", "getItem", "timeout")); got != 1 {
		t.Errorf(`requests_total{code="timeout"} = %v, want 1`, got)
	}
}

func TestRetryAfterBeyondBudgetNotAwaited(t *testing.T) {
	b := newBackend(t, 503, 200)
	ra := "30"
	b.retryAfter.Store(&ra)
	d, _ := newDep(t, b.srv.URL, func(c *Config) { c.Timeout = 200 * time.Millisecond })
	_, err := call(t, context.Background(), d, "GET", b.srv.URL+"/items/1")
	var e *Error
	if !errors.As(err, &e) || e.HTTPStatus() != http.StatusServiceUnavailable || b.calls.Load() != 1 {
		t.Fatalf("err = %v after %d calls, want a 503 after 1 call (Retry-After 30s outlasts the budget)", err, b.calls.Load())
	}
}

func TestBreakerOpensAndRecovers(t *testing.T) {
	b := newBackend(t, 503)
	d, m := newDep(t, b.srv.URL, func(c *Config) {
		c.Retries = 0
		c.BreakerFailures = 3
		c.BreakerOpen = 50 * time.Millisecond
	})
	url := b.srv.URL + "/items/1"
	for range 3 {
		if _, err := call(t, context.Background(), d, "GET", url); err == nil {
			t.Fatal("a 503 answered without error")
		}
	}
	if d.State() != "open" {
		t.Fatalf("breaker %s after 3 failures, want open", d.State())
	}
	if got := testutil.ToFloat64(m.state.WithLabelValues("items")); got != 2 {
		t.Errorf("breaker_state = %v, want 2 (open)", got)
	}
	_, err := call(t, context.Background(), d, "GET", url)
	var e *Error
	if !errors.Is(err, ErrOpen) || !errors.As(err, &e) || e.HTTPStatus() != http.StatusServiceUnavailable {
		t.Fatalf("err = %v, want ErrOpen (503)", err)
	}
	if b.calls.Load() != 3 {
		t.Errorf("the open breaker let a call through: %d calls", b.calls.Load())
	}
	// The dependency is back: after BreakerOpen one probe closes it.
	b.set(200)
	deadline := time.Now().Add(5 * time.Second)
	for {
		_, err := call(t, context.Background(), d, "GET", url)
		if err == nil {
			break
		}
		if !errors.Is(err, ErrOpen) || time.Now().After(deadline) {
			t.Fatalf("err = %v, want the breaker to half-open and close", err)
		}
		time.Sleep(10 * time.Millisecond)
	}
	if d.State() != "closed" {
		t.Errorf("breaker %s after a good probe, want closed", d.State())
	}
	if got := testutil.ToFloat64(m.requests.WithLabelValues("items", "getItem", "open")); got < 1 {
		t.Errorf(`requests_total{code="open"} = %v, want at least 1`, got)
	}
}

func TestCallerGoneDoesNotOpenBreaker(t *testing.T) {
	b := newBackend(t, 200)
	b.delay.Store(int64(time.Minute))
	d, m := newDep(t, b.srv.URL, func(c *Config) { c.BreakerFailures = 2 })
	for range 4 {
		ctx, cancel := context.WithCancel(context.Background())
		time.AfterFunc(5*time.Millisecond, cancel)
		_, err := call(t, ctx, d, "GET", b.srv.URL+"/items/1")
		cancel()
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("err = %v, want context.Canceled (the caller's own)", err)
		}
	}
	if d.State() != "closed" {
		t.Errorf("breaker %s after callers went away, want closed: the dependency did not fail", d.State())
	}
	if got := testutil.ToFloat64(m.requests.WithLabelValues("items", "getItem", "canceled")); got != 4 {
		t.Errorf(`requests_total{code="canceled"} = %v, want 4`, got)
	}
}

func TestClientErrorsDoNotOpenBreaker(t *testing.T) {
	b := newBackend(t, 404)
	d, _ := newDep(t, b.srv.URL, func(c *Config) { c.BreakerFailures = 2 })
	for range 5 {
		resp, err := call(t, context.Background(), d, "GET", b.srv.URL+"/items/1")
		if err != nil || resp.StatusCode != 404 {
			t.Fatalf("resp %v, err %v, want a 404 answer", resp, err)
		}
	}
	if d.State() != "closed" {
		t.Errorf("breaker %s after 404s, want closed: the dependency works", d.State())
	}
}

func TestMatch(t *testing.T) {
	d, _ := newDep(t, "http://items.internal:8080/v1", nil)
	for _, tc := range []struct{ method, path, want string }{
		{"GET", "/v1/items/42", "getItem"},
		{"GET", "/v1/items", "listItems"},
		{"POST", "/v1/items", "createItem"},
		{"POST", "/v1/items/42/charge", "chargeItem"},
		{"DELETE", "/v1/items/42", "unknown"},
	} {
		req := httptest.NewRequest(tc.method, "http://items.internal:8080"+tc.path, nil)
		if got := d.match(req).op.ID; got != tc.want {
			t.Errorf("%s %s: %s, want %s", tc.method, tc.path, got, tc.want)
		}
	}
}

func TestConfigValidate(t *testing.T) {
	for _, tc := range []struct {
		change func(*Config)
		want   string
	}{
		{func(c *Config) { c.URL = "" }, "no URL"},
		{func(c *Config) { c.URL = "items:8080" }, "want http://"},
		{func(c *Config) { c.Timeout = 0 }, "timeout"},
		{func(c *Config) { c.BreakerFailures = 0 }, "breaker failures"},
	} {
		c := DefaultConfig("http://items:8080")
		tc.change(&c)
		if err := c.Validate(); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("Validate() = %v, want an error saying %q", err, tc.want)
		}
	}
	if err := DefaultConfig("http://items:8080").Validate(); err != nil {
		t.Errorf("the default configuration: %v", err)
	}
}
