package dbpool_test

import (
	"context"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"go.uber.org/goleak"

	"github.com/svcgen/svcgen/platform/dbpool"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// pgURL is the test database: SVCGEN_TEST_PG_URL, DATABASE_URL, or the local one.
func pgURL() string {
	for _, env := range []string{"SVCGEN_TEST_PG_URL", "DATABASE_URL"} {
		if v := os.Getenv(env); v != "" {
			return v
		}
	}
	return "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable"
}

func TestNewAppliesLimits(t *testing.T) {
	ctx := context.Background()
	cfg := dbpool.Config{
		URL: pgURL(), MaxConns: 7, MinConns: 2,
		MaxConnLifetime: 10 * time.Minute, MaxConnIdleTime: 3 * time.Minute, HealthCheckPeriod: 20 * time.Second,
	}
	pool, err := dbpool.New(ctx, cfg)
	if err != nil {
		t.Fatalf("%v\nThe test needs Postgres at %s (set SVCGEN_TEST_PG_URL or DATABASE_URL to use another); "+
			"start one with: docker run -d -p 5432:5432 -e POSTGRES_HOST_AUTH_METHOD=trust postgres:16", err, dbpool.Redact(cfg.URL))
	}
	defer pool.Close()

	pc := pool.Config()
	if pc.MaxConns != 7 || pc.MinConns != 2 || pc.MaxConnLifetime != 10*time.Minute ||
		pc.MaxConnLifetimeJitter != time.Minute || pc.MaxConnIdleTime != 3*time.Minute || pc.HealthCheckPeriod != 20*time.Second {
		t.Errorf("limits not applied: %+v", pc)
	}

	var one int
	if err := pool.QueryRow(ctx, "select 1").Scan(&one); err != nil || one != 1 {
		t.Fatalf("select 1: %d, %v", one, err)
	}

	reg := prometheus.NewRegistry()
	reg.MustRegister(dbpool.NewCollector(pool, "svc"))
	if err := testutil.GatherAndCompare(reg, strings.NewReader(`
# HELP svc_db_pool_max_conns Pool size limit.
# TYPE svc_db_pool_max_conns gauge
svc_db_pool_max_conns 7
# HELP svc_db_pool_acquired_conns Connections in use.
# TYPE svc_db_pool_acquired_conns gauge
svc_db_pool_acquired_conns 0
`), "svc_db_pool_max_conns", "svc_db_pool_acquired_conns"); err != nil {
		t.Error(err)
	}
	if n := testutil.CollectAndCount(dbpool.NewCollector(pool, "svc")); n != 13 {
		t.Errorf("collector exports %d metrics, want 13", n)
	}
	if err := testutil.CollectAndCompare(dbpool.NewCollector(pool, "svc"), strings.NewReader(""), "svc_db_pool_acquires_total"); err == nil {
		t.Error("acquires_total is 0 after a query")
	}
	if problems, err := testutil.GatherAndLint(reg); err != nil || len(problems) > 0 {
		t.Errorf("metric lint: %v %v", problems, err)
	}
}

func TestNewDefaults(t *testing.T) {
	pool, err := dbpool.New(context.Background(), dbpool.Config{URL: pgURL() + "&pool_max_conns=3"})
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()
	if got := pool.Config().MaxConns; got != 3 {
		t.Errorf("MaxConns = %d; zero Config.MaxConns must keep the URL's pool_max_conns=3", got)
	}
}

func TestNewErrors(t *testing.T) {
	const secret = "s3cr3tpw"
	cases := []struct {
		want string
		cfg  dbpool.Config
	}{
		{"empty", dbpool.Config{}},
		{"parse database URL", dbpool.Config{URL: "postgres://u:" + secret + "@127.0.0.1:5432/db?sslmode=bogus"}},
		{"ping postgres://u:xxxxx@127.0.0.1:1/db", dbpool.Config{URL: "postgres://u:" + secret + "@127.0.0.1:1/db?sslmode=disable"}},
		{"MinConns 5 is above MaxConns 2", dbpool.Config{URL: pgURL(), MaxConns: 2, MinConns: 5}},
		{"MaxConns -1", dbpool.Config{URL: pgURL(), MaxConns: -1}},
		{"MaxConnLifetime -1s", dbpool.Config{URL: pgURL(), MaxConnLifetime: -time.Second}},
	}
	for _, c := range cases {
		pool, err := dbpool.New(context.Background(), c.cfg)
		if err == nil {
			pool.Close()
			t.Errorf("New(%+v) succeeded", c.cfg)
			continue
		}
		if !strings.Contains(err.Error(), c.want) || strings.Contains(err.Error(), secret) {
			t.Errorf("New error %q: want it to contain %q and not the password", err, c.want)
		}
	}
}

func TestRedact(t *testing.T) {
	for in, want := range map[string]string{
		"postgres://u:pw@h:5432/db":                     "postgres://u:xxxxx@h:5432/db",
		"postgres://u@h/db?password=pw&sslmode=disable": "postgres://u@h/db?password=xxxxx&sslmode=disable",
		"host=h user=u password=pw dbname=db":           "host=h user=u password=xxxxx dbname=db",
		"host=h password = 'p w\\'x' dbname=db":         "host=h password = xxxxx dbname=db",
		"postgres://h/db":                               "postgres://h/db",
	} {
		if got := dbpool.Redact(in); got != want {
			t.Errorf("Redact(%q) = %q, want %q", in, got, want)
		}
	}
}
