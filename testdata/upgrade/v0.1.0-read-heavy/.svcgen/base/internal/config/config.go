// svcgen keeps the lines between "// svcgen:begin" and "// svcgen:end" up
// to date on `svcgen regen`; everything outside them is yours: add your
// settings to Config below svcgen's fields, their defaults in Default and
// their variables in FromEnv, where the comments say.

// Package config reads the service's settings from the environment. Every
// setting has a default taken from the preset the service was generated
// with; the README lists them all.
package config

// svcgen:begin imports
import (
	"errors"
	"fmt"
	"log/slog"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"

	"example.com/legacy-catalog/internal/platform/batch"
	"example.com/legacy-catalog/internal/platform/cache"
	"example.com/legacy-catalog/internal/platform/dbpool"
	"example.com/legacy-catalog/internal/platform/profiling"
	"example.com/legacy-catalog/internal/platform/server"
	"example.com/legacy-catalog/internal/platform/timeout"
)

// svcgen:end imports

// Config is the service's whole configuration.
type Config struct {
	// svcgen:begin fields
	// Timeout holds the per-operation deadlines (TIMEOUT_DEFAULT, TIMEOUT_OPERATIONS).
	Timeout timeout.Config
	// Profiling configures Pyroscope; off while ServerAddress is empty.
	Profiling profiling.Config
	// RedisURL is the cache's L2 (REDIS_URL); empty runs the cache on
	// memory and the database only.
	RedisURL string
	// DB configures the Postgres pool (DATABASE_URL, DB_*).
	DB dbpool.Config
	// AdminAddr serves /metrics and /debug/pprof/; keep it off the public network.
	AdminAddr string
	// Store is "postgres" or "memory" (no database; data lost on restart).
	Store string
	// Server configures the public HTTP server (HTTP_ADDR, HTTP_*).
	Server server.Config
	// Cache tunes the 3-tier cache (CACHE_*, TIMEOUT_CACHE).
	Cache cache.Config
	// Batch tunes the read coalescing and COPY chunks (BATCH_*); its
	// Timeout is DBTimeout.
	Batch batch.Config
	// ShutdownTimeout bounds the drain of in-flight requests on SIGTERM.
	ShutdownTimeout time.Duration
	// DBTimeout is the budget of one database call.
	DBTimeout time.Duration
	// LogLevel is the minimum level logged.
	LogLevel slog.Level
	// svcgen:end fields

	// Your settings go here, below svcgen's.
}

// svcgen:begin operations

// OperationIDs are the API's operations, the keys of TIMEOUT_OPERATIONS.
var OperationIDs = []string{"batchGetItems", "createItem", "getItem", "updateItem"}

// svcgen:end operations

// Default returns the configuration used when no variable is set.
func Default() Config {
	// svcgen:begin defaults
	c := Config{
		Server: server.Config{
			Addr:              ":8080",
			ReadTimeout:       5 * time.Second,
			ReadHeaderTimeout: 2 * time.Second,
			WriteTimeout:      10 * time.Second,
			IdleTimeout:       2 * time.Minute,
			MaxBodyBytes:      1048576,
			MaxInFlight:       512,
			MaxConns:          4096,
		},
		Timeout: timeout.Config{
			Default:    5 * time.Second,
			Operations: map[string]time.Duration{},
		},
		DB: dbpool.Config{
			MaxConns:          25,
			MinConns:          5,
			MaxConnLifetime:   5 * time.Minute,
			MaxConnIdleTime:   10 * time.Minute,
			HealthCheckPeriod: 30 * time.Second,
		},
		Profiling: profiling.Config{
			AppName: "legacy-catalog",
		},
		Cache: cache.Config{
			Prefix:        "legacy-catalog:v2:",
			L1Size:        100000,
			L1TTL:         30 * time.Second,
			L2TTL:         5 * time.Minute,
			NegativeTTL:   5 * time.Second,
			Jitter:        0.1,
			Budget:        10 * time.Millisecond,
			RetryInterval: time.Second,
			FailThreshold: cache.DefaultFailThreshold,
			FailRate:      cache.DefaultFailRate,
			FailWindow:    cache.DefaultFailWindow,
			RecoverAfter:  cache.DefaultRecoverAfter,
		},
		RedisURL: "redis://127.0.0.1:6379/0",
		Batch: batch.Config{
			Wait:      1 * time.Millisecond,
			MaxBatch:  256,
			CopyChunk: 10000,
			Timeout:   50 * time.Millisecond,
		},
		AdminAddr:       "127.0.0.1:9090",
		Store:           "postgres",
		ShutdownTimeout: 20 * time.Second,
		DBTimeout:       50 * time.Millisecond,
		LogLevel:        slog.LevelInfo,
	}
	// svcgen:end defaults

	// Your settings' defaults go here: c.Name = value.
	return c
}

// Load reads the configuration from the process environment.
func Load() (Config, error) { return FromEnv(os.LookupEnv) }

// FromEnv reads the configuration through lookup (os.LookupEnv in Load).
// All bad values are reported at once, each naming the variable, the value
// and the form expected.
func FromEnv(lookup func(string) (string, bool)) (Config, error) {
	// svcgen:begin env
	c := Default()
	r := reader{lookup: lookup}

	r.str("HTTP_ADDR", &c.Server.Addr)
	r.str("ADMIN_ADDR", &c.AdminAddr)
	r.str("DATABASE_URL", &c.DB.URL)
	r.oneOf("STORE", &c.Store, "postgres", "memory")
	r.level("LOG_LEVEL", &c.LogLevel)
	r.duration("SHUTDOWN_TIMEOUT", &c.ShutdownTimeout)

	r.duration("HTTP_READ_TIMEOUT", &c.Server.ReadTimeout)
	r.duration("HTTP_READ_HEADER_TIMEOUT", &c.Server.ReadHeaderTimeout)
	r.duration("HTTP_WRITE_TIMEOUT", &c.Server.WriteTimeout)
	r.duration("HTTP_IDLE_TIMEOUT", &c.Server.IdleTimeout)
	r.int64("HTTP_MAX_BODY_BYTES", &c.Server.MaxBodyBytes)
	r.limit("HTTP_MAX_IN_FLIGHT", &c.Server.MaxInFlight)
	r.limit("HTTP_MAX_CONNS", &c.Server.MaxConns)
	r.duration("TIMEOUT_DEFAULT", &c.Timeout.Default)
	r.operations("TIMEOUT_OPERATIONS", c.Timeout.Operations)
	r.duration("TIMEOUT_DB", &c.DBTimeout)

	r.str("REDIS_URL", &c.RedisURL)
	r.str("CACHE_PREFIX", &c.Cache.Prefix)
	r.size("CACHE_L1_SIZE", &c.Cache.L1Size)
	r.duration("CACHE_L1_TTL", &c.Cache.L1TTL)
	r.duration("CACHE_L2_TTL", &c.Cache.L2TTL)
	r.duration("CACHE_NEGATIVE_TTL", &c.Cache.NegativeTTL)
	r.fraction("CACHE_TTL_JITTER", &c.Cache.Jitter)
	r.duration("TIMEOUT_CACHE", &c.Cache.Budget)
	r.size("CACHE_DEGRADE_AFTER", &c.Cache.FailThreshold)
	r.fraction("CACHE_DEGRADE_ERROR_RATE", &c.Cache.FailRate)
	r.duration("CACHE_DEGRADE_WINDOW", &c.Cache.FailWindow)
	r.size("CACHE_RECOVER_AFTER", &c.Cache.RecoverAfter)
	if v, ok := lookup("REDIS_URL"); ok && strings.TrimSpace(v) == "" {
		c.RedisURL = "" // set but empty: no Redis
	}

	r.int32("DB_MAX_CONNS", &c.DB.MaxConns)
	r.int32("DB_MIN_CONNS", &c.DB.MinConns)
	r.duration("DB_MAX_CONN_LIFETIME", &c.DB.MaxConnLifetime)
	r.duration("DB_MAX_CONN_IDLE_TIME", &c.DB.MaxConnIdleTime)
	r.duration("DB_HEALTH_CHECK_PERIOD", &c.DB.HealthCheckPeriod)

	r.batchWait("BATCH_WAIT", &c.Batch.Wait)
	r.batchCount("BATCH_MAX", &c.Batch.MaxBatch, 65535)
	r.batchCount("BATCH_COPY_CHUNK", &c.Batch.CopyChunk, 1_000_000)
	c.Batch.Timeout = c.DBTimeout

	r.str("PYROSCOPE_SERVER_ADDRESS", &c.Profiling.ServerAddress)
	r.str("PYROSCOPE_APP_NAME", &c.Profiling.AppName)

	if c.Store == "postgres" && c.DB.URL == "" {
		r.errs = append(r.errs, errors.New("DATABASE_URL is not set: want a URL such as "+
			"postgres://user:pass@host:5432/db?sslmode=disable, or STORE=memory to run without a database"))
	}
	if c.DB.MinConns > c.DB.MaxConns {
		r.errs = append(r.errs, fmt.Errorf("DB_MIN_CONNS=%d is above DB_MAX_CONNS=%d: want min <= max",
			c.DB.MinConns, c.DB.MaxConns))
	}
	// svcgen:end env

	// Read your own variables here, with the reader's methods below:
	// r.str("NAME", &c.Name); r.bad(name, value, want) reports a bad one.

	if err := r.err(); err != nil {
		return Config{}, err
	}
	return c, nil
}

// svcgen:begin reader

// reader collects every bad value instead of stopping at the first.
type reader struct {
	lookup func(string) (string, bool)
	errs   []error
}

// err reports every bad value at once, or nil.
func (r *reader) err() error {
	if len(r.errs) == 0 {
		return nil
	}
	msgs := make([]string, len(r.errs))
	for i, err := range r.errs {
		msgs[i] = err.Error()
	}
	return fmt.Errorf("config: %s", strings.Join(msgs, "; "))
}

func (r *reader) get(name string) (string, bool) {
	v, ok := r.lookup(name)
	if !ok || strings.TrimSpace(v) == "" {
		return "", false
	}
	return strings.TrimSpace(v), true
}

func (r *reader) bad(name, value, want string) {
	r.errs = append(r.errs, fmt.Errorf("%s=%q: want %s", name, value, want))
}

func (r *reader) str(name string, dst *string) {
	if v, ok := r.get(name); ok {
		*dst = v
	}
}

func (r *reader) oneOf(name string, dst *string, allowed ...string) {
	v, ok := r.get(name)
	if !ok {
		return
	}
	if !slices.Contains(allowed, v) {
		r.bad(name, v, "one of "+strings.Join(allowed, ", "))
		return
	}
	*dst = v
}

func (r *reader) duration(name string, dst *time.Duration) {
	v, ok := r.get(name)
	if !ok {
		return
	}
	d, err := time.ParseDuration(v)
	if err != nil || d < 0 {
		r.bad(name, v, "a non-negative duration such as 250ms, 5s or 1m")
		return
	}
	*dst = d
}

func (r *reader) int64(name string, dst *int64) {
	v, ok := r.get(name)
	if !ok {
		return
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil || n <= 0 {
		r.bad(name, v, "a positive whole number")
		return
	}
	*dst = n
}

// limit reads a count where 0 means "no limit".
func (r *reader) limit(name string, dst *int) {
	v, ok := r.get(name)
	if !ok {
		return
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 0 {
		r.bad(name, v, "a whole number, 0 for no limit")
		return
	}
	*dst = n
}

func (r *reader) int32(name string, dst *int32) {
	v, ok := r.get(name)
	if !ok {
		return
	}
	n, err := strconv.ParseInt(v, 10, 32)
	if err != nil || n < 0 {
		r.bad(name, v, "a whole number from 0 to 2147483647")
		return
	}
	*dst = int32(n)
}
func (r *reader) size(name string, dst *int) {
	v, ok := r.get(name)
	if !ok {
		return
	}
	n, err := strconv.Atoi(v)
	if err != nil || n <= 0 {
		r.bad(name, v, "a positive whole number")
		return
	}
	*dst = n
}

func (r *reader) fraction(name string, dst *float64) {
	v, ok := r.get(name)
	if !ok {
		return
	}
	f, err := strconv.ParseFloat(v, 64)
	if err != nil || f < 0 || f >= 1 {
		r.bad(name, v, "a fraction from 0 up to (not including) 1, such as 0.1")
		return
	}
	*dst = f
}

func (r *reader) level(name string, dst *slog.Level) {
	v, ok := r.get(name)
	if !ok {
		return
	}
	var l slog.Level
	if err := l.UnmarshalText([]byte(v)); err != nil {
		r.bad(name, v, "debug, info, warn or error")
		return
	}
	*dst = l
}

// batchWait reads the coalescing window: above 0 (0 would send every read
// alone) and at most 100ms (every read may wait that long).
func (r *reader) batchWait(name string, dst *time.Duration) {
	v, ok := r.get(name)
	if !ok {
		return
	}
	d, err := time.ParseDuration(v)
	if err != nil || d <= 0 || d > 100*time.Millisecond {
		r.bad(name, v, "a duration above 0 and at most 100ms, such as 500us or 2ms (every read may wait this long)")
		return
	}
	*dst = d
}

// batchCount reads a batch size from 1 to most.
func (r *reader) batchCount(name string, dst *int, most int) {
	v, ok := r.get(name)
	if !ok {
		return
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 || n > most {
		r.bad(name, v, fmt.Sprintf("a whole number from 1 to %d", most))
		return
	}
	*dst = n
}

// operations parses "opA=20ms,opB=50ms" (operationIds) into dst.
func (r *reader) operations(name string, dst map[string]time.Duration) {
	v, ok := r.get(name)
	if !ok {
		return
	}
	const form = "a comma-separated list of operationId=duration such as getItem=20ms,createItem=200ms"
	for part := range strings.SplitSeq(v, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		i := strings.LastIndex(part, "=") // an operationId may hold spaces or "="
		if i < 0 {
			r.bad(name, v, form)
			return
		}
		op, ds := strings.TrimSpace(part[:i]), part[i+1:]
		if !slices.Contains(OperationIDs, op) {
			r.bad(name, v, fmt.Sprintf("%s, where %q is not an operation (known: %s)",
				form, op, strings.Join(OperationIDs, ", ")))
			return
		}
		d, err := time.ParseDuration(strings.TrimSpace(ds))
		if err != nil || d <= 0 {
			r.bad(name, v, fmt.Sprintf("%s, where %q is not a positive duration", form, strings.TrimSpace(ds)))
			return
		}
		dst[op] = d
	}
}

// svcgen:end reader
