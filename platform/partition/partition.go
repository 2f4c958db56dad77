// Package partition keeps the partitions of a table partitioned by range
// of time: it creates the next partitions ahead of time and detaches and
// drops those past retention (DETACH + DROP frees a month in milliseconds
// and writes almost no WAL, where DELETE rewrites every row and leaves the
// table file as large as before).
//
// The job is idempotent and safe with several replicas running it: a run
// takes a session advisory lock (pg_try_advisory_lock) and a replica that
// does not get it skips its turn. Partitions are named <table>_pYYYYMMDD
// after their first day (UTC); other partitions are left alone. Rows that
// landed in the default partition before their partition existed are moved
// into it when it is created.
package partition

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"log/slog"
	"slices"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/svcgen/svcgen/platform/periodic"
)

// Interval is the time range of one partition.
type Interval string

// The intervals a partition can span.
const (
	Day   Interval = "day"
	Week  Interval = "week" // ISO weeks, Monday to Monday
	Month Interval = "month"
)

// Floor returns the start of the partition holding t (UTC).
func (i Interval) Floor(t time.Time) time.Time {
	t = t.UTC()
	day := time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, time.UTC)
	switch i {
	case Week:
		return day.AddDate(0, 0, -((int(day.Weekday()) + 6) % 7))
	case Month:
		return time.Date(t.Year(), t.Month(), 1, 0, 0, 0, 0, time.UTC)
	}
	return day
}

// Add returns the start of the partition n intervals after the one that
// starts at start (n may be negative).
func (i Interval) Add(start time.Time, n int) time.Time {
	switch i {
	case Week:
		return start.AddDate(0, 0, 7*n)
	case Month:
		return start.AddDate(0, n, 0)
	}
	return start.AddDate(0, 0, n)
}

// Valid reports whether i is day, week or month.
func (i Interval) Valid() bool { return i == Day || i == Week || i == Month }

// Config configures the job.
type Config struct {
	// Now is the job's clock; time.Now when nil. Tests set their own.
	Now func() time.Time
	// Table is the partitioned parent table.
	Table string
	// Column is the partition key, a timestamptz column.
	Column string
	// Interval is the range of one partition.
	Interval Interval
	// Premake is how many partitions are kept ahead of the current one.
	Premake int
	// Retention is how many past partitions are kept besides the current
	// one; older ones are detached and dropped. 0 keeps them all.
	Retention int
	// CheckEvery is how often Start runs the job after its first run;
	// 0 runs it only once.
	CheckEvery time.Duration
	// LockTimeout bounds the wait for the table locks that creating,
	// attaching and detaching a partition take, so the job gives up (and
	// retries at the next check) instead of queueing every query behind it.
	LockTimeout time.Duration
}

// Result is what one run did.
type Result struct {
	// Created and Dropped are the partitions created and dropped.
	Created []string
	Dropped []string
	// Moved counts the rows moved out of the default partition.
	Moved int64
	// Skipped is true when another session held the lock: nothing was done.
	Skipped bool
}

// Maintainer runs the job on one table.
type Maintainer struct {
	pool    *pgxpool.Pool
	log     *slog.Logger
	metrics *metrics
	cfg     Config
	lockKey int64
}

// New returns a Maintainer of cfg.Table. Its metrics are registered on reg
// (when not nil) under <namespace>_partition_*.
func New(pool *pgxpool.Pool, cfg Config, reg prometheus.Registerer, namespace string, log *slog.Logger) (*Maintainer, error) {
	if cfg.Column == "" {
		cfg.Column = "created_at"
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.LockTimeout <= 0 {
		cfg.LockTimeout = 5 * time.Second
	}
	var errs []error
	if cfg.Table == "" || len(cfg.Table) > 53 {
		errs = append(errs, fmt.Errorf("table %q: want a table name of 1 to 53 bytes", cfg.Table))
	}
	if !cfg.Interval.Valid() {
		errs = append(errs, fmt.Errorf("interval %q: want day, week or month", cfg.Interval))
	}
	if cfg.Premake < 0 || cfg.Retention < 0 {
		errs = append(errs, fmt.Errorf("premake %d, retention %d: want 0 or more", cfg.Premake, cfg.Retention))
	}
	if err := errors.Join(errs...); err != nil {
		return nil, fmt.Errorf("partition: %w", err)
	}
	if log == nil {
		log = slog.Default()
	}
	m, err := newMetrics(reg, namespace)
	if err != nil {
		return nil, err
	}
	h := fnv.New64a()
	h.Write([]byte("svcgen.partition." + cfg.Table))
	return &Maintainer{
		pool:    pool,
		cfg:     cfg,
		log:     log.With("table", cfg.Table),
		metrics: m,
		lockKey: int64(h.Sum64()),
	}, nil
}

// Name returns the name of the partition that starts at start.
func (m *Maintainer) Name(start time.Time) string {
	return m.cfg.Table + "_p" + start.UTC().Format("20060102")
}

// Start runs the job now, then every CheckEvery, until ctx is done or stop
// is called; stop returns once the job has ended. Errors are logged and
// counted; the next check retries.
func (m *Maintainer) Start(ctx context.Context) (stop func()) {
	return periodic.Start(ctx, m.cfg.CheckEvery, m.runLogged)
}

func (m *Maintainer) runLogged(ctx context.Context) {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Minute)
	defer cancel()
	if _, err := m.RunOnce(ctx); err != nil && ctx.Err() == nil {
		m.log.Error("partition upkeep failed", "error", err)
	}
}

// RunOnce runs the job once: it creates the current partition and the
// Premake next ones when missing, then detaches and drops the partitions
// that end before the retention window. Running it again changes nothing.
func (m *Maintainer) RunOnce(ctx context.Context) (Result, error) {
	began := time.Now()
	res, err := m.run(ctx)
	m.metrics.observe(m.cfg.Table, res, err, time.Since(began))
	switch {
	case err != nil:
	case res.Skipped:
		m.log.Debug("partition upkeep skipped: another replica holds the lock")
	case len(res.Created)+len(res.Dropped) > 0:
		m.log.Info("partition upkeep done", "created", len(res.Created), "dropped", len(res.Dropped),
			"moved_rows", res.Moved, "duration_ms", time.Since(began).Milliseconds())
	default:
		m.log.Debug("partition upkeep: nothing to do")
	}
	return res, err
}

func (m *Maintainer) run(ctx context.Context) (res Result, err error) {
	conn, err := m.pool.Acquire(ctx)
	if err != nil {
		return res, fmt.Errorf("partition %s: %w", m.cfg.Table, err)
	}
	defer conn.Release()

	var locked bool
	if err := conn.QueryRow(ctx, "SELECT pg_try_advisory_lock($1)", m.lockKey).Scan(&locked); err != nil {
		return res, fmt.Errorf("partition %s: lock: %w", m.cfg.Table, err)
	}
	if !locked {
		res.Skipped = true
		return res, nil
	}
	defer func() {
		uctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		defer cancel()
		if _, uerr := conn.Exec(uctx, "SELECT pg_advisory_unlock($1)", m.lockKey); uerr != nil {
			// Closing the session releases its locks.
			_ = conn.Conn().Close(uctx)
		}
	}()

	parts, def, err := m.partitions(ctx, conn.Conn())
	if err != nil {
		return res, err
	}

	now := m.cfg.Interval.Floor(m.cfg.Now())
	for i := 0; i <= m.cfg.Premake; i++ {
		start := m.cfg.Interval.Add(now, i)
		if _, ok := parts[start]; ok {
			continue
		}
		moved, err := m.create(ctx, conn.Conn(), start, def)
		if err != nil {
			return res, err
		}
		res.Created = append(res.Created, m.Name(start))
		res.Moved += moved
	}

	if m.cfg.Retention > 0 {
		cutoff := m.cfg.Interval.Add(now, -m.cfg.Retention)
		starts := make([]time.Time, 0, len(parts))
		for start := range parts {
			if start.Before(cutoff) {
				starts = append(starts, start)
			}
		}
		slices.SortFunc(starts, time.Time.Compare)
		for _, start := range starts {
			if err := m.drop(ctx, conn.Conn(), parts[start]); err != nil {
				return res, err
			}
			res.Dropped = append(res.Dropped, parts[start])
		}
	}
	m.metrics.partitions.WithLabelValues(m.cfg.Table).Set(float64(len(parts) + len(res.Created) - len(res.Dropped)))
	return res, nil
}

// partitions returns the table's partitions named by this package, by
// their start, and the default partition ("" when there is none).
func (m *Maintainer) partitions(ctx context.Context, conn *pgx.Conn) (map[time.Time]string, string, error) {
	var kind, def string
	err := conn.QueryRow(ctx, `
		SELECT c.relkind::text, coalesce(d.relname::text, '')
		FROM pg_class c
		LEFT JOIN pg_partitioned_table p ON p.partrelid = c.oid
		LEFT JOIN pg_class d ON d.oid = p.partdefid
		WHERE c.oid = to_regclass($1)`, m.cfg.Table).Scan(&kind, &def)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, "", fmt.Errorf("partition: table %s does not exist (run the migrations first)", m.cfg.Table)
	}
	if err != nil {
		return nil, "", fmt.Errorf("partition %s: %w", m.cfg.Table, err)
	}
	if kind != "p" {
		return nil, "", fmt.Errorf("partition: table %s is not partitioned (see the migration creating it)", m.cfg.Table)
	}

	rows, err := conn.Query(ctx, `
		SELECT c.relname::text FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
		WHERE i.inhparent = to_regclass($1)`, m.cfg.Table)
	if err != nil {
		return nil, "", fmt.Errorf("partition %s: list partitions: %w", m.cfg.Table, err)
	}
	names, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return nil, "", fmt.Errorf("partition %s: list partitions: %w", m.cfg.Table, err)
	}
	out := make(map[time.Time]string, len(names))
	prefix := m.cfg.Table + "_p"
	for _, n := range names {
		day, ok := strings.CutPrefix(n, prefix)
		if !ok {
			continue
		}
		start, err := time.Parse("20060102", day)
		if err != nil || !m.cfg.Interval.Floor(start).Equal(start) {
			continue
		}
		out[start] = n
	}
	return out, def, nil
}

// create makes the partition starting at start: a new table like the
// parent, the matching rows of the default partition moved into it, then
// attached. One transaction: a failure leaves nothing behind.
func (m *Maintainer) create(ctx context.Context, conn *pgx.Conn, start time.Time, def string) (int64, error) {
	name := m.Name(start)
	end := m.cfg.Interval.Add(start, 1)
	table := pgx.Identifier{m.cfg.Table}.Sanitize()
	part := pgx.Identifier{name}.Sanitize()
	col := pgx.Identifier{m.cfg.Column}.Sanitize()

	tx, err := conn.Begin(ctx)
	if err != nil {
		return 0, fmt.Errorf("partition %s: %w", name, err)
	}
	defer tx.Rollback(context.WithoutCancel(ctx)) // a no-op after Commit
	if _, err := tx.Exec(ctx, fmt.Sprintf("SET LOCAL lock_timeout = %d", m.cfg.LockTimeout.Milliseconds())); err != nil {
		return 0, fmt.Errorf("partition %s: %w", name, err)
	}
	if _, err := tx.Exec(ctx, fmt.Sprintf("CREATE TABLE %s (LIKE %s INCLUDING DEFAULTS INCLUDING CONSTRAINTS)", part, table)); err != nil {
		return 0, fmt.Errorf("partition %s: create: %w", name, err)
	}
	var moved int64
	if def != "" {
		tag, err := tx.Exec(ctx, fmt.Sprintf(
			"WITH moved AS (DELETE FROM %s WHERE %s >= $1 AND %s < $2 RETURNING *) INSERT INTO %s SELECT * FROM moved",
			pgx.Identifier{def}.Sanitize(), col, col, part), start, end)
		if err != nil {
			return 0, fmt.Errorf("partition %s: move rows from %s: %w", name, def, err)
		}
		moved = tag.RowsAffected()
	}
	if _, err := tx.Exec(ctx, fmt.Sprintf("ALTER TABLE %s ATTACH PARTITION %s FOR VALUES FROM ('%s') TO ('%s')",
		table, part, start.Format(time.RFC3339), end.Format(time.RFC3339))); err != nil {
		return 0, fmt.Errorf("partition %s: attach: %w", name, err)
	}
	if err := tx.Commit(ctx); err != nil {
		return 0, fmt.Errorf("partition %s: %w", name, err)
	}
	m.log.Info("partition created", "partition", name, "from", start, "to", end, "moved_rows", moved)
	return moved, nil
}

// drop detaches the partition, then drops it.
func (m *Maintainer) drop(ctx context.Context, conn *pgx.Conn, name string) error {
	tx, err := conn.Begin(ctx)
	if err != nil {
		return fmt.Errorf("partition %s: %w", name, err)
	}
	defer tx.Rollback(context.WithoutCancel(ctx)) // a no-op after Commit
	for _, sql := range []string{
		fmt.Sprintf("SET LOCAL lock_timeout = %d", m.cfg.LockTimeout.Milliseconds()),
		fmt.Sprintf("ALTER TABLE %s DETACH PARTITION %s", pgx.Identifier{m.cfg.Table}.Sanitize(), pgx.Identifier{name}.Sanitize()),
		"DROP TABLE " + pgx.Identifier{name}.Sanitize(),
	} {
		if _, err := tx.Exec(ctx, sql); err != nil {
			return fmt.Errorf("partition %s: drop: %w", name, err)
		}
	}
	if err := tx.Commit(ctx); err != nil {
		return fmt.Errorf("partition %s: drop: %w", name, err)
	}
	m.log.Info("partition dropped", "partition", name)
	return nil
}
