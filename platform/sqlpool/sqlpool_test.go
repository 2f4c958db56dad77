package sqlpool_test

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"go.uber.org/goleak"

	"github.com/svcgen/svcgen/platform/sqlpool"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// conn is a driver connection that only pings: the pool's accounting is
// database/sql's, the same for every driver.
type conn struct{}

func (conn) Prepare(string) (driver.Stmt, error) { return nil, driver.ErrSkip }
func (conn) Close() error                        { return nil }
func (conn) Begin() (driver.Tx, error)           { return nil, driver.ErrSkip }
func (conn) Ping(context.Context) error          { return nil }

type connector struct{}

func (connector) Connect(context.Context) (driver.Conn, error) { return conn{}, nil }
func (connector) Driver() driver.Driver                        { return nil }

func TestConfigureAndCollect(t *testing.T) {
	db := sql.OpenDB(connector{})
	defer db.Close()
	cfg := sqlpool.Default()
	if err := sqlpool.Configure(db, cfg); err != nil {
		t.Fatal(err)
	}
	if got := db.Stats().MaxOpenConnections; got != cfg.MaxOpenConns {
		t.Errorf("MaxOpenConnections %d, want %d", got, cfg.MaxOpenConns)
	}
	c, err := db.Conn(context.Background()) // one connection in use
	if err != nil {
		t.Fatal(err)
	}
	reg := prometheus.NewPedanticRegistry()
	reg.MustRegister(sqlpool.NewCollector(db, "svc"))
	if err := testutil.GatherAndCompare(reg, strings.NewReader(`
# HELP svc_db_connections Open connections by state.
# TYPE svc_db_connections gauge
svc_db_connections{state="idle"} 0
svc_db_connections{state="in_use"} 1
`), "svc_db_connections"); err != nil {
		t.Error(err)
	}
	_ = c.Close()
	if n := testutil.CollectAndCount(sqlpool.NewCollector(db, "svc")); n != 8 {
		t.Errorf("%d metrics, want 8", n)
	}
}

func TestBadConfig(t *testing.T) {
	for _, tc := range []struct {
		want string
		cfg  sqlpool.Config
	}{
		{"MaxOpenConns 0", sqlpool.Config{MaxIdleConns: 1}},
		{"use 1 to MaxOpenConns (5)", sqlpool.Config{MaxOpenConns: 5, MaxIdleConns: 6}},
		{"use 0 (never)", sqlpool.Config{MaxOpenConns: 5, MaxIdleConns: 5, ConnMaxLifetime: -1}},
	} {
		db := sql.OpenDB(connector{})
		if err := sqlpool.Configure(db, tc.cfg); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%+v: %v, want %q", tc.cfg, err, tc.want)
		}
		_ = db.Close()
	}
}
