// Package matview refreshes materialized views on a schedule with REFRESH
// MATERIALIZED VIEW CONCURRENTLY, which builds the new contents beside the
// old and applies the difference: readers keep reading the old rows and
// never wait (a plain REFRESH locks them out for its whole duration).
// CONCURRENTLY needs a unique index on the view, and a populated view; a
// view that was never populated gets one plain refresh first.
//
// With several replicas, a session advisory lock per view makes one of
// them refresh while the others skip their turn.
package matview

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"log/slog"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/svcgen/svcgen/platform/periodic"
)

// Config configures the refresher.
type Config struct {
	// Views are the materialized views to refresh, in order.
	Views []string
	// RefreshEvery is how often Start refreshes them after its first
	// refresh; 0 refreshes only once.
	RefreshEvery time.Duration
	// Timeout bounds one refresh of one view.
	Timeout time.Duration
}

// Refresher refreshes the views of a Config.
type Refresher struct {
	pool *pgxpool.Pool
	log  *slog.Logger

	duration    *prometheus.HistogramVec
	lastSuccess *prometheus.GaugeVec
	refreshes   *prometheus.CounterVec
	cfg         Config
}

// New returns a Refresher whose metrics are registered on reg (when not
// nil) under <namespace>_matview_*:
//
//	<ns>_matview_refresh_duration_seconds{view}         histogram of refreshes that succeeded
//	<ns>_matview_last_success_timestamp_seconds{view}   gauge
//	<ns>_matview_refreshes_total{view,result}           counter (ok, error, skipped)
func New(pool *pgxpool.Pool, cfg Config, reg prometheus.Registerer, namespace string, log *slog.Logger) (*Refresher, error) {
	if len(cfg.Views) == 0 {
		return nil, errors.New("matview: no view to refresh")
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = 10 * time.Minute
	}
	if log == nil {
		log = slog.Default()
	}
	r := &Refresher{
		pool: pool,
		cfg:  cfg,
		log:  log,
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Namespace: namespace, Subsystem: "matview", Name: "refresh_duration_seconds",
			Help:    "Duration of the materialized view refreshes that succeeded.",
			Buckets: []float64{.01, .05, .1, .25, .5, 1, 2.5, 5, 10, 30, 60, 300},
		}, []string{"view"}),
		lastSuccess: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Namespace: namespace, Subsystem: "matview", Name: "last_success_timestamp_seconds",
			Help: "Unix time of the last refresh that succeeded.",
		}, []string{"view"}),
		refreshes: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: namespace, Subsystem: "matview", Name: "refreshes_total",
			Help: "Refreshes by result: ok, error, skipped (another replica held the lock).",
		}, []string{"view", "result"}),
	}
	if reg != nil {
		var err error
		r.duration = register(reg, r.duration, &err)
		r.lastSuccess = register(reg, r.lastSuccess, &err)
		r.refreshes = register(reg, r.refreshes, &err)
		if err != nil {
			return nil, fmt.Errorf("matview metrics: %w", err)
		}
	}
	return r, nil
}

// register adds c to reg, or returns the collector already registered
// under its name.
func register[C prometheus.Collector](reg prometheus.Registerer, c C, errp *error) C {
	err := reg.Register(c)
	if err == nil {
		return c
	}
	var are prometheus.AlreadyRegisteredError
	if errors.As(err, &are) {
		if existing, ok := are.ExistingCollector.(C); ok {
			return existing
		}
	}
	*errp = errors.Join(*errp, err)
	return c
}

// Start refreshes every view now, then every RefreshEvery, until ctx is
// done or stop is called; stop returns once the refresher has ended.
// Errors are logged and counted; the next round retries.
func (r *Refresher) Start(ctx context.Context) (stop func()) {
	return periodic.Start(ctx, r.cfg.RefreshEvery, r.refreshLogged)
}

func (r *Refresher) refreshLogged(ctx context.Context) {
	for _, v := range r.cfg.Views {
		if _, err := r.Refresh(ctx, v); err != nil && ctx.Err() == nil {
			r.log.Error("materialized view refresh failed", "view", v, "error", err)
		}
	}
}

// Refresh refreshes one view CONCURRENTLY under its advisory lock. It
// reports false, and does nothing, when another session holds the lock.
func (r *Refresher) Refresh(ctx context.Context, view string) (bool, error) {
	ctx, cancel := context.WithTimeout(ctx, r.cfg.Timeout)
	defer cancel()
	began := time.Now()
	ok, err := r.refresh(ctx, view)
	result := "ok"
	switch {
	case err != nil:
		result = "error"
	case !ok:
		result = "skipped"
		r.log.Debug("materialized view refresh skipped: another replica holds the lock", "view", view)
	default:
		d := time.Since(began)
		r.duration.WithLabelValues(view).Observe(d.Seconds())
		r.lastSuccess.WithLabelValues(view).SetToCurrentTime()
		r.log.Debug("materialized view refreshed", "view", view, "duration", d)
	}
	r.refreshes.WithLabelValues(view, result).Inc()
	return ok, err
}

func (r *Refresher) refresh(ctx context.Context, view string) (bool, error) {
	conn, err := r.pool.Acquire(ctx)
	if err != nil {
		return false, fmt.Errorf("refresh %s: %w", view, err)
	}
	defer conn.Release()

	h := fnv.New64a()
	h.Write([]byte("svcgen.matview." + view))
	key := int64(h.Sum64())
	var locked bool
	if err := conn.QueryRow(ctx, "SELECT pg_try_advisory_lock($1)", key).Scan(&locked); err != nil {
		return false, fmt.Errorf("refresh %s: lock: %w", view, err)
	}
	if !locked {
		return false, nil
	}
	defer func() {
		uctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		defer cancel()
		if _, err := conn.Exec(uctx, "SELECT pg_advisory_unlock($1)", key); err != nil {
			_ = conn.Conn().Close(uctx) // closing the session releases its locks
		}
	}()

	var populated bool
	err = conn.QueryRow(ctx, "SELECT ispopulated FROM pg_matviews WHERE matviewname = $1 AND schemaname = ANY (current_schemas(false))", view).Scan(&populated)
	if errors.Is(err, pgx.ErrNoRows) {
		return false, fmt.Errorf("refresh %s: no such materialized view (run the migrations first)", view)
	}
	if err != nil {
		return false, fmt.Errorf("refresh %s: %w", view, err)
	}
	sql := "REFRESH MATERIALIZED VIEW CONCURRENTLY " + pgx.Identifier{view}.Sanitize()
	if !populated {
		sql = "REFRESH MATERIALIZED VIEW " + pgx.Identifier{view}.Sanitize()
	}
	if _, err := conn.Exec(ctx, sql); err != nil {
		return false, fmt.Errorf("refresh %s: %w", view, err)
	}
	return true, nil
}
