// Package pgtest gives a test a PostgreSQL database of its own: NewDB
// creates a database named after the test on the server of URL, returns a
// pool on it and drops it when the test ends. Nothing is skipped: without a
// server the test fails, saying how to start one.
//
//	func TestStore(t *testing.T) {
//		pool := pgtest.NewDB(t, pgtest.Schema(`CREATE TABLE items (id bigint PRIMARY KEY)`))
//		...
//	}
package pgtest

import (
	"context"
	"fmt"
	"net/url"
	"os"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// DefaultURL is the server tests use when neither SVCGEN_TEST_PG_URL nor
// DATABASE_URL names one: the local PostgreSQL of `docker compose up -d
// postgres`.
const DefaultURL = "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable"

// timeout bounds each step: connecting, creating, setting up, dropping.
const timeout = 30 * time.Second

// URL is the server the tests create their databases on:
// SVCGEN_TEST_PG_URL, else DATABASE_URL, else DefaultURL. Its database is
// only connected to, to create and drop the tests' own.
func URL() string {
	for _, env := range []string{"SVCGEN_TEST_PG_URL", "DATABASE_URL"} {
		if v := os.Getenv(env); v != "" {
			return v
		}
	}
	return DefaultURL
}

// Option adds to what NewDB and NewConfig do.
type Option func(*options)

type options struct {
	setup  []func(ctx context.Context, cfg *pgxpool.Config) error
	config []func(cfg *pgxpool.Config)
}

// Schema runs sql (one or more statements) on the new database before the
// test gets it: the tables a test needs.
func Schema(sql string) Option {
	return Setup(func(ctx context.Context, cfg *pgxpool.Config) error {
		conn, err := pgx.ConnectConfig(ctx, cfg.ConnConfig.Copy())
		if err != nil {
			return err
		}
		defer conn.Close(context.WithoutCancel(ctx))
		_, err = conn.Exec(ctx, sql)
		return err
	})
}

// Setup runs fn on the new database before the test gets it, for example
// the service's migrations (stdlib.OpenDB(*cfg.ConnConfig.Copy()) for
// goose). Setups run in the order given, before the pool opens.
func Setup(fn func(ctx context.Context, cfg *pgxpool.Config) error) Option {
	return func(o *options) { o.setup = append(o.setup, fn) }
}

// Config changes the pool's configuration (MaxConns, AfterConnect, ...)
// before NewDB opens it.
func Config(fn func(cfg *pgxpool.Config)) Option {
	return func(o *options) { o.config = append(o.config, fn) }
}

// NewDB creates a database for t, runs the options' setups on it and
// returns a pool on it. When t ends the pool is closed and the database
// dropped, with any connections the test left open.
func NewDB(t testing.TB, opts ...Option) *pgxpool.Pool {
	t.Helper()
	var o options
	for _, opt := range opts {
		opt(&o)
	}
	cfg := NewConfig(t, opts...)
	for _, fn := range o.config {
		fn(cfg)
	}
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		t.Fatalf("pgtest: connect to test database %s: %v", cfg.ConnConfig.Database, err)
	}
	t.Cleanup(pool.Close) // before the drop: cleanups run last in, first out
	return pool
}

// NewConfig creates a database for t, runs the options' setups on it and
// returns the pool configuration for it (Config options are NewDB's), for
// a test that opens its own connections. The database is dropped when t
// ends.
func NewConfig(t testing.TB, opts ...Option) *pgxpool.Config {
	t.Helper()
	var o options
	for _, opt := range opts {
		opt(&o)
	}
	server := URL()
	cfg, err := pgxpool.ParseConfig(server)
	if err != nil {
		t.Fatalf("pgtest: %s is not a PostgreSQL URL: %v", redact(server), err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	admin, err := pgx.ConnectConfig(ctx, cfg.ConnConfig.Copy())
	if err != nil {
		t.Fatalf("%s", unreachable(server, err))
	}
	defer admin.Close(context.Background())
	name := dbName(t.Name())
	if _, err := admin.Exec(ctx, "CREATE DATABASE "+pgx.Identifier{name}.Sanitize()); err != nil {
		t.Fatalf("pgtest: create test database %s: %v", name, err)
	}
	serverConn := cfg.ConnConfig.Copy() // the drop connects to the server's database, not the test's
	t.Cleanup(func() { drop(t, serverConn, name) })
	cfg.ConnConfig.Database = name
	for _, fn := range o.setup {
		if err := fn(ctx, cfg); err != nil {
			t.Fatalf("pgtest: set up test database %s: %v", name, err)
		}
	}
	return cfg
}

// drop drops the test's database, closing what connections are left.
func drop(t testing.TB, server *pgx.ConnConfig, name string) {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	conn, err := pgx.ConnectConfig(ctx, server)
	if err != nil {
		t.Errorf("pgtest: drop test database %s: %v", name, err)
		return
	}
	defer conn.Close(context.Background())
	if _, err := conn.Exec(ctx, "DROP DATABASE IF EXISTS "+pgx.Identifier{name}.Sanitize()+" WITH (FORCE)"); err != nil {
		t.Errorf("pgtest: drop test database %s: %v", name, err)
	}
}

// unreachable is the failure of a test without a server: where it looked
// and how to start one.
func unreachable(server string, err error) string {
	return fmt.Sprintf("pgtest: cannot reach PostgreSQL at %s: %v\n"+
		"start one with `docker compose up -d postgres`, or point SVCGEN_TEST_PG_URL or DATABASE_URL "+
		"at a server you may create databases on", redact(server), err)
}

// redact hides a URL's password; a keyword/value DSN is named, not shown.
func redact(server string) string {
	u, err := url.Parse(server)
	if err != nil || u.Scheme == "" {
		return "the configured server (a keyword/value DSN)"
	}
	return u.Redacted()
}

// seq tells apart the databases of one process's tests.
var seq atomic.Int64

// maxName is PostgreSQL's identifier limit (NAMEDATALEN - 1 bytes).
const maxName = 63

// dbName is the database of a test: test_, the test's name in lower case
// with everything but letters and digits as _, and a suffix unique to this
// run (the process and a sequence), within PostgreSQL's 63 bytes.
func dbName(test string) string {
	suffix := "_" + strconv.FormatInt(int64(os.Getpid()), 36) + "_" + strconv.FormatInt(time.Now().UnixNano()%(1<<40), 36) +
		"_" + strconv.FormatInt(seq.Add(1), 36)
	var b strings.Builder
	b.WriteString("test_")
	last := byte('_')
	for i := 0; i < len(test) && b.Len() < maxName-len(suffix); i++ {
		c := test[i]
		switch {
		case c >= 'a' && c <= 'z', c >= '0' && c <= '9':
		case c >= 'A' && c <= 'Z':
			c += 'a' - 'A'
		default:
			c = '_'
		}
		if c == '_' && last == '_' {
			continue
		}
		b.WriteByte(c)
		last = c
	}
	return strings.TrimRight(b.String(), "_") + suffix
}
