// Package outbound is the HTTP transport under the service's clients of
// other services (internal/clients/<name>). Every call gets:
//
//   - a deadline budget: min(the dependency's Timeout, the caller's time
//     left minus Margin); with no time left the call fails at once
//     (ErrNoBudget, 504) instead of starting work nobody waits for;
//   - bounded retries, for idempotent operations only (GET, HEAD, PUT,
//     DELETE, OPTIONS, and POST/PATCH marked x-svcgen-idempotent in the
//     dependency's spec), on a connection error, 502, 503 or 504, with
//     exponential backoff and full jitter, honouring Retry-After, always
//     within the budget;
//   - a circuit breaker (github.com/sony/gobreaker/v2) per dependency:
//     after BreakerFailures consecutive failures calls fail fast (ErrOpen,
//     503) for BreakerOpen, then one probe decides whether it closes;
//   - Prometheus metrics per dependency and operation.
//
// Errors are *Error with the status the caller should answer: 503 when the
// dependency is unavailable, 504 when its budget ran out.
package outbound

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/sony/gobreaker/v2"
)

// Config tunes one dependency (CLIENT_<NAME>_* in internal/config).
type Config struct {
	// URL is the dependency's base URL, e.g. http://inventory:8080.
	URL string
	// Timeout caps one call, retries included.
	Timeout time.Duration
	// Margin is kept of the caller's time left, for answering once the
	// call is over.
	Margin time.Duration
	// Backoff is the first retry's wait ceiling; it doubles per retry up
	// to MaxBackoff, and each wait is drawn from [0, ceiling) (full jitter).
	Backoff    time.Duration
	MaxBackoff time.Duration
	// BreakerOpen is how long the breaker stays open before it lets one
	// probe through (half-open).
	BreakerOpen time.Duration
	// Retries is the number of retries of an idempotent call (0: none).
	Retries int
	// BreakerFailures consecutive failures open the breaker.
	BreakerFailures int
	// MaxConnsPerHost bounds the connections to the dependency (0: no bound).
	MaxConnsPerHost int
}

// DefaultConfig is the configuration of a dependency whose variables are
// not set.
func DefaultConfig(url string) Config {
	return Config{
		URL:             url,
		Timeout:         time.Second,
		Margin:          5 * time.Millisecond,
		Retries:         2,
		Backoff:         10 * time.Millisecond,
		MaxBackoff:      200 * time.Millisecond,
		BreakerFailures: 5,
		BreakerOpen:     5 * time.Second,
		MaxConnsPerHost: 100,
	}
}

// Validate reports a configuration the transport cannot work with.
func (c Config) Validate() error {
	switch {
	case c.URL == "":
		return errors.New("no URL")
	case !strings.HasPrefix(c.URL, "http://") && !strings.HasPrefix(c.URL, "https://"):
		return fmt.Errorf("URL %q: want http:// or https://", c.URL)
	case c.Timeout <= 0:
		return errors.New("timeout must be above 0")
	case c.Retries < 0 || c.Retries > 10:
		return fmt.Errorf("retries %d: want 0 to 10", c.Retries)
	case c.BreakerFailures < 1:
		return errors.New("breaker failures must be 1 or more")
	}
	return nil
}

// Operation is one operation of a dependency's spec.
type Operation struct {
	// ID is the metrics label: the operationId, or "METHOD /path".
	ID string
	// Method is upper case; Path the spec's template, "/items/{id}".
	Method, Path string
	// Idempotent operations may be retried.
	Idempotent bool
}

// unknownOp labels a request that matches no operation; it is never retried.
var unknownOp = Operation{ID: "unknown"}

// Errors a call can fail with (inside *Error).
var (
	// ErrOpen: the breaker is open; the dependency is not called.
	ErrOpen = errors.New("circuit breaker open")
	// ErrNoBudget: the caller's deadline leaves no time for the call.
	ErrNoBudget = fmt.Errorf("no time left for the call: %w", context.DeadlineExceeded)
	// ErrStatus: the dependency answered 502, 503 or 504 (after retries).
	ErrStatus = errors.New("dependency unavailable")
)

// Error is a call that failed at the dependency: Status is what the
// caller should answer (503 unavailable, 504 out of time).
type Error struct {
	Err        error
	Dependency string
	Operation  string
	Status     int
	// Attempts is how many times the dependency was called.
	Attempts int
}

func (e *Error) Error() string {
	return fmt.Sprintf("%s %s: %v (after %d attempts)", e.Dependency, e.Operation, e.Err, e.Attempts)
}

func (e *Error) Unwrap() error { return e.Err }

// HTTPStatus is the status the caller answers: 503 or 504.
func (e *Error) HTTPStatus() int { return e.Status }

// Metrics are the clients' metrics, shared by every dependency:
//
//	<ns>_client_requests_total{dependency,operation,code}  calls by outcome
//	<ns>_client_request_duration_seconds{dependency,operation}
//	<ns>_client_retries_total{dependency,operation}
//	<ns>_client_breaker_state{dependency}  0 closed, 1 half-open, 2 open
//
// code is the final status, or error, timeout, open, no_budget, canceled
// (the caller went away or ran out of its own time).
type Metrics struct {
	requests *prometheus.CounterVec
	duration *prometheus.HistogramVec
	retries  *prometheus.CounterVec
	state    *prometheus.GaugeVec
}

// NewMetrics registers the clients' metrics on reg under namespace.
func NewMetrics(reg prometheus.Registerer, namespace string) (*Metrics, error) {
	m := &Metrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: namespace, Subsystem: "client", Name: "requests_total",
			Help: "Calls to other services, by dependency, operation and outcome (status code, error, timeout, open, no_budget, canceled).",
		}, []string{"dependency", "operation", "code"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Namespace: namespace, Subsystem: "client", Name: "request_duration_seconds",
			Help:    "Duration of calls to other services, retries included, in seconds.",
			Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5},
		}, []string{"dependency", "operation"}),
		retries: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: namespace, Subsystem: "client", Name: "retries_total",
			Help: "Retries of idempotent calls to other services.",
		}, []string{"dependency", "operation"}),
		state: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Namespace: namespace, Subsystem: "client", Name: "breaker_state",
			Help: "Circuit breaker state per dependency: 0 closed, 1 half-open, 2 open.",
		}, []string{"dependency"}),
	}
	for _, c := range []prometheus.Collector{m.requests, m.duration, m.retries, m.state} {
		if err := reg.Register(c); err != nil {
			return nil, fmt.Errorf("register client metrics: %w", err)
		}
	}
	return m, nil
}

// NewTransport is the base transport of a dependency: keep-alive
// connections, bounded per host. It sets no timeout of its own: the call's
// budget (a context deadline) ends every attempt. Wrap it (tracing, auth)
// before New.
func NewTransport(cfg Config) http.RoundTripper {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.MaxConnsPerHost = cfg.MaxConnsPerHost
	t.MaxIdleConnsPerHost = max(cfg.MaxConnsPerHost/2, 2)
	return t
}

// Dependency is the transport of one dependency's client.
type Dependency struct {
	base    http.RoundTripper
	breaker *gobreaker.TwoStepCircuitBreaker[struct{}]
	metrics *Metrics
	ops     []route
	opStats map[string]*opStats
	sleep   func(context.Context, time.Duration) error
	name    string
	prefix  string
	cfg     Config
}

type route struct {
	segs []string // "" for a template segment
	op   Operation
}

type opStats struct {
	duration prometheus.Observer
	retries  prometheus.Counter
	requests *prometheus.CounterVec
	op       Operation
}

// errExcluded marks an attempt the breaker does not count (the caller
// went away).
var errExcluded = errors.New("excluded")

// New builds the transport of dependency name with its operations over
// base (NewTransport, possibly wrapped).
func New(name string, cfg Config, ops []Operation, m *Metrics, base http.RoundTripper) (*Dependency, error) {
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("client %s: %w", name, err)
	}
	u, err := parseBase(cfg.URL)
	if err != nil {
		return nil, fmt.Errorf("client %s: %w", name, err)
	}
	d := &Dependency{name: name, cfg: cfg, base: base, metrics: m, prefix: u, opStats: map[string]*opStats{}, sleep: sleep}
	state := m.state.WithLabelValues(name)
	d.breaker = gobreaker.NewTwoStepCircuitBreaker[struct{}](gobreaker.Settings{
		Name:        name,
		MaxRequests: 1,
		Timeout:     cfg.BreakerOpen,
		ReadyToTrip: func(c gobreaker.Counts) bool {
			return c.ConsecutiveFailures >= uint32(cfg.BreakerFailures)
		},
		IsExcluded: func(err error) bool { return errors.Is(err, errExcluded) },
		OnStateChange: func(_ string, _, to gobreaker.State) {
			state.Set(stateValue(to))
		},
	})
	state.Set(0)
	for _, op := range append(ops, unknownOp) {
		d.opStats[op.ID] = &opStats{
			op:       op,
			duration: m.duration.WithLabelValues(name, op.ID),
			retries:  m.retries.WithLabelValues(name, op.ID),
			requests: m.requests,
		}
		if op.Path != "" {
			d.ops = append(d.ops, route{op: op, segs: segments(op.Path)})
		}
	}
	return d, nil
}

func stateValue(s gobreaker.State) float64 {
	switch s {
	case gobreaker.StateHalfOpen:
		return 1
	case gobreaker.StateOpen:
		return 2
	}
	return 0
}

// State is the breaker's state: "closed", "half-open" or "open".
func (d *Dependency) State() string { return d.breaker.State().String() }

// HTTPClient is the client ogen's generated client sends through.
func (d *Dependency) HTTPClient() *http.Client { return &http.Client{Transport: d} }

func parseBase(raw string) (string, error) {
	i := strings.Index(raw, "://")
	rest := raw[i+3:]
	if j := strings.IndexByte(rest, '/'); j >= 0 {
		return strings.TrimRight(rest[j:], "/"), nil
	}
	if rest == "" {
		return "", fmt.Errorf("URL %q has no host", raw)
	}
	return "", nil
}

func segments(p string) []string {
	parts := strings.Split(strings.Trim(p, "/"), "/")
	for i, s := range parts {
		if strings.Contains(s, "{") {
			parts[i] = ""
		}
	}
	return parts
}

// match finds the operation of a request: the route of its method whose
// literal segments all match, the most literal one first.
func (d *Dependency) match(r *http.Request) *opStats {
	p := strings.TrimPrefix(r.URL.Path, d.prefix)
	segs := strings.Split(strings.Trim(p, "/"), "/")
	best, bestLit := -1, -1
	for i, rt := range d.ops {
		if rt.op.Method != r.Method || len(rt.segs) != len(segs) {
			continue
		}
		lit, ok := 0, true
		for j, s := range rt.segs {
			if s == "" {
				continue
			}
			if s != segs[j] {
				ok = false
				break
			}
			lit++
		}
		if ok && lit > bestLit {
			best, bestLit = i, lit
		}
	}
	if best < 0 {
		return d.opStats[unknownOp.ID]
	}
	return d.opStats[d.ops[best].op.ID]
}

// Budget is the time a call may take: min(timeout, left - margin), where
// left is the caller's time left (ok false: no deadline). At or below 0
// the call is not made.
func Budget(timeout, margin, left time.Duration, ok bool) time.Duration {
	if !ok {
		return timeout
	}
	return min(timeout, left-margin)
}

// Backoff is the wait before retry n (0 for the first retry): drawn from
// [0, min(max, base*2^n)) with rnd in [0, 1).
func Backoff(base, ceiling time.Duration, n int, rnd float64) time.Duration {
	c := base
	for range n {
		if c >= ceiling/2 {
			c = ceiling
			break
		}
		c *= 2
	}
	c = min(c, ceiling)
	return time.Duration(rnd * float64(c))
}

// Retryable reports whether an attempt's outcome may be retried: a
// connection error, 502, 503 or 504.
func Retryable(resp *http.Response, err error) bool {
	if err != nil {
		return connError(err)
	}
	switch resp.StatusCode {
	case http.StatusBadGateway, http.StatusServiceUnavailable, http.StatusGatewayTimeout:
		return true
	}
	return false
}

// connError reports a transport failure: the dependency could not be
// reached, or the connection broke before the answer (refused, reset, an
// idle connection the other side closed). Safe to retry for an
// idempotent operation; the caller's and the budget's ends are not.
func connError(err error) bool {
	return !errors.Is(err, context.Canceled) && !errors.Is(err, context.DeadlineExceeded)
}

// RetryAfter reads a Retry-After in seconds (0 when absent or a date).
func RetryAfter(resp *http.Response) time.Duration {
	if resp == nil {
		return 0
	}
	if s, err := strconv.Atoi(strings.TrimSpace(resp.Header.Get("Retry-After"))); err == nil && s >= 0 {
		return time.Duration(s) * time.Second
	}
	return 0
}

// RoundTrip sends the request under the call's budget, with retries and
// the breaker; see the package comment.
func (d *Dependency) RoundTrip(req *http.Request) (*http.Response, error) {
	st := d.match(req)
	start := time.Now()
	caller := req.Context()
	dl, ok := caller.Deadline()
	budget := Budget(d.cfg.Timeout, d.cfg.Margin, time.Until(dl), ok)
	fail := func(code string, status int, attempts int, err error) (*http.Response, error) {
		st.requests.WithLabelValues(d.name, st.op.ID, code).Inc()
		st.duration.Observe(time.Since(start).Seconds())
		closeBody(req)
		return nil, &Error{Dependency: d.name, Operation: st.op.ID, Status: status, Attempts: attempts, Err: err}
	}
	if budget <= 0 {
		return fail("no_budget", http.StatusGatewayTimeout, 0, ErrNoBudget)
	}
	ctx, cancel := context.WithTimeout(caller, budget)
	for attempt := 0; ; attempt++ {
		done, err := d.breaker.Allow()
		if err != nil {
			cancel()
			return fail("open", http.StatusServiceUnavailable, attempt, fmt.Errorf("%w: %w", ErrOpen, err))
		}
		r := req.Clone(ctx)
		if attempt > 0 && req.GetBody != nil {
			if r.Body, err = req.GetBody(); err != nil {
				done(errExcluded)
				cancel()
				return fail("error", http.StatusServiceUnavailable, attempt, err)
			}
		}
		resp, err := d.base.RoundTrip(r)
		switch {
		case caller.Err() != nil:
			done(errExcluded)
		case err != nil || resp.StatusCode >= http.StatusInternalServerError:
			done(errors.New("failed"))
		default:
			done(nil)
		}
		retry := Retryable(resp, err) && st.op.Idempotent && attempt < d.cfg.Retries &&
			(req.Body == nil || req.Body == http.NoBody || req.GetBody != nil)
		wait := time.Duration(0)
		if retry {
			wait = Backoff(d.cfg.Backoff, d.cfg.MaxBackoff, attempt, rand.Float64())
			if ra := RetryAfter(resp); ra > wait {
				wait = ra
			}
			if dl, _ := ctx.Deadline(); time.Until(dl) <= wait {
				retry = false // the wait would outlast the budget
			}
		}
		if !retry {
			return d.finish(st, start, attempt+1, ctx, cancel, caller, resp, err, fail)
		}
		if resp != nil {
			drain(resp)
		}
		st.retries.Inc()
		if err := d.sleep(ctx, wait); err != nil {
			cancel()
			if caller.Err() != nil {
				return nil, caller.Err()
			}
			return fail("timeout", http.StatusGatewayTimeout, attempt+1, fmt.Errorf("budget of %v spent: %w", budget, context.DeadlineExceeded))
		}
	}
}

// finish turns the last attempt into the call's answer.
func (d *Dependency) finish(st *opStats, start time.Time, attempts int, ctx context.Context, cancel context.CancelFunc, caller context.Context,
	resp *http.Response, err error, fail func(string, int, int, error) (*http.Response, error)) (*http.Response, error) {
	switch {
	case err != nil && caller.Err() != nil:
		cancel()
		st.requests.WithLabelValues(d.name, st.op.ID, "canceled").Inc()
		st.duration.Observe(time.Since(start).Seconds())
		return nil, err // the caller went away or ran out of time itself
	case err != nil && ctx.Err() != nil:
		cancel()
		return fail("timeout", http.StatusGatewayTimeout, attempts, fmt.Errorf("budget spent: %w", context.DeadlineExceeded))
	case err != nil:
		cancel()
		return fail("error", http.StatusServiceUnavailable, attempts, err)
	case Retryable(resp, nil):
		cancel()
		code := resp.StatusCode
		drain(resp)
		status := http.StatusServiceUnavailable
		if code == http.StatusGatewayTimeout {
			status = http.StatusGatewayTimeout
		}
		st.requests.WithLabelValues(d.name, st.op.ID, strconv.Itoa(code)).Inc()
		st.duration.Observe(time.Since(start).Seconds())
		return nil, &Error{Dependency: d.name, Operation: st.op.ID, Status: status, Attempts: attempts, Err: fmt.Errorf("%w: answered %d", ErrStatus, code)}
	}
	st.requests.WithLabelValues(d.name, st.op.ID, strconv.Itoa(resp.StatusCode)).Inc()
	st.duration.Observe(time.Since(start).Seconds())
	// The budget's context lives until the body is read.
	resp.Body = &cancelBody{ReadCloser: resp.Body, cancel: cancel}
	return resp, nil
}

// cancelBody releases the call's context once the body is closed.
type cancelBody struct {
	io.ReadCloser
	cancel context.CancelFunc
}

func (b *cancelBody) Close() error {
	err := b.ReadCloser.Close()
	b.cancel()
	return err
}

// drain reads a little of a body that is dropped, so its connection can
// be reused, and closes it.
func drain(resp *http.Response) {
	_, _ = io.CopyN(io.Discard, resp.Body, 4<<10)
	_ = resp.Body.Close()
}

func closeBody(req *http.Request) {
	if req.Body != nil {
		_ = req.Body.Close()
	}
}

func sleep(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
