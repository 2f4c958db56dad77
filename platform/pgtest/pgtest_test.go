package pgtest_test

import (
	"context"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"go.uber.org/goleak"

	"github.com/svcgen/svcgen/platform/pgtest"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// exists reports whether the server has a database called name.
func exists(t *testing.T, name string) bool {
	t.Helper()
	conn, err := pgx.Connect(context.Background(), pgtest.URL())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	var n int
	if err := conn.QueryRow(context.Background(), "SELECT count(*) FROM pg_database WHERE datname = $1", name).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n == 1
}

// TestNewDB: a database named after the test, with the schema applied
// and the pool configured, dropped once the test is over, even with a
// connection left open.
func TestNewDB(t *testing.T) {
	var name string
	var leftOpen *pgx.Conn
	t.Run("Items/With Spaces", func(t *testing.T) {
		pool := pgtest.NewDB(t,
			pgtest.Schema(`CREATE TABLE items (id bigint PRIMARY KEY); INSERT INTO items VALUES (1), (2);`),
			pgtest.Config(func(cfg *pgxpool.Config) { cfg.MaxConns = 3 }))
		ctx := context.Background()
		if err := pool.QueryRow(ctx, "SELECT current_database()").Scan(&name); err != nil {
			t.Fatal(err)
		}
		if !strings.HasPrefix(name, "test_testnewdb_items_with_spaces_") || len(name) > 63 {
			t.Errorf("database %q: want test_<test name>_<unique suffix>, at most 63 bytes", name)
		}
		var n int
		if err := pool.QueryRow(ctx, "SELECT count(*) FROM items").Scan(&n); err != nil || n != 2 {
			t.Errorf("schema: %d rows, %v; want 2", n, err)
		}
		if got := pool.Config().MaxConns; got != 3 {
			t.Errorf("MaxConns %d, want 3 from Config", got)
		}
		cfg := pool.Config().ConnConfig.Copy()
		var err error
		if leftOpen, err = pgx.ConnectConfig(ctx, cfg); err != nil {
			t.Fatal(err)
		}
	})
	if name == "" {
		t.Fatal("no database")
	}
	if exists(t, name) {
		t.Errorf("database %s still exists after its test", name)
	}
	if err := leftOpen.Ping(context.Background()); err == nil {
		t.Error("a connection the test left open survived the drop")
	}
	_ = leftOpen.Close(context.Background())
}

// TestTwoDatabases: two databases of one test are two.
func TestTwoDatabases(t *testing.T) {
	a, b := pgtest.NewDB(t), pgtest.NewDB(t)
	var na, nb string
	if err := a.QueryRow(context.Background(), "SELECT current_database()").Scan(&na); err != nil {
		t.Fatal(err)
	}
	if err := b.QueryRow(context.Background(), "SELECT current_database()").Scan(&nb); err != nil {
		t.Fatal(err)
	}
	if na == nb {
		t.Errorf("both pools are on %s", na)
	}
}

// TestSetup: setups run in order on the new database, before the pool.
func TestSetup(t *testing.T) {
	var order []string
	step := func(name string) pgtest.Option {
		return pgtest.Setup(func(ctx context.Context, cfg *pgxpool.Config) error {
			if !strings.HasPrefix(cfg.ConnConfig.Database, "test_testsetup_") {
				t.Errorf("setup %s on database %q, want the test's", name, cfg.ConnConfig.Database)
			}
			order = append(order, name)
			return nil
		})
	}
	pgtest.NewDB(t, step("migrate"), step("seed"))
	if strings.Join(order, ",") != "migrate,seed" {
		t.Errorf("setups ran %v", order)
	}
}

// TestURL: SVCGEN_TEST_PG_URL, else DATABASE_URL, else the local default.
func TestURL(t *testing.T) {
	t.Setenv("SVCGEN_TEST_PG_URL", "")
	t.Setenv("DATABASE_URL", "")
	if got := pgtest.URL(); got != pgtest.DefaultURL {
		t.Errorf("URL() = %q without either variable, want %q", got, pgtest.DefaultURL)
	}
	t.Setenv("DATABASE_URL", "postgres://db/app")
	if got := pgtest.URL(); got != "postgres://db/app" {
		t.Errorf("URL() = %q, want DATABASE_URL", got)
	}
	t.Setenv("SVCGEN_TEST_PG_URL", "postgres://test/postgres")
	if got := pgtest.URL(); got != "postgres://test/postgres" {
		t.Errorf("URL() = %q, want SVCGEN_TEST_PG_URL first", got)
	}
}
