package audit

import (
	"context"
	"os"
	"path/filepath"
	"reflect"
	"testing"
)

// TestUsesDetected: the database APIs and drivers each fixture uses, from
// the type-checked calls and imports (svcgen adopt chooses its packages
// by them).
func TestUsesDetected(t *testing.T) {
	r, err := Run(context.Background(), []string{fixtures}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	type uses struct {
		apis, drivers, routers []string
		ogen                   bool
	}
	want := map[string]uses{
		"clean-svc":              {apis: []string{"pgx"}, drivers: []string{"github.com/jackc/pgx/v5/stdlib"}, ogen: true}, // goose runs the migrations through database/sql
		"legacy-chi":             {apis: []string{"database/sql"}, drivers: []string{"github.com/lib/pq"}, routers: []string{"chi"}},
		"sqlx-echo":              {apis: []string{"database/sql"}, drivers: []string{"github.com/lib/pq"}, routers: []string{"echo"}},
		"gin-boil":               {apis: []string{"database/sql"}, drivers: []string{"github.com/lib/pq"}, routers: []string{"gin"}},
		"mixed-fleet/cmd/api":    {apis: []string{"pgx", "redis"}},
		"mixed-fleet/cmd/worker": {apis: []string{"redis"}},
	}
	for _, s := range r.Services {
		got := uses{apis: s.Uses.DBAPIs, drivers: s.Uses.SQLDrivers, routers: s.Uses.Routers, ogen: s.Uses.Ogen}
		if w, ok := want[s.Name]; !ok || !reflect.DeepEqual(got, w) {
			t.Errorf("%s uses %+v, want %+v", s.Name, got, w)
		}
	}
}

// TestPoolSetByHelper: pool limits set by a helper of the service's in
// another package (svcgen adopt's sqlpool.Configure) count for the
// sql.Open they follow; a helper that sets only some still fails.
func TestPoolSetByHelper(t *testing.T) {
	for name, tc := range map[string]struct {
		helper string
		want   Status
	}{
		"all":  {"db.SetMaxOpenConns(25)\n\tdb.SetMaxIdleConns(25)\n\tdb.SetConnMaxLifetime(time.Minute)\n", Pass},
		"some": {"db.SetMaxOpenConns(25)\n\t_ = time.Minute\n", Fail},
	} {
		t.Run(name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "svc")
			files := map[string]string{
				"go.mod":       "module example.com/svc\n\ngo 1.26.0\n",
				"pool/pool.go": "package pool\n\nimport (\n\t\"database/sql\"\n\t\"time\"\n)\n\nfunc Configure(db *sql.DB) {\n\t" + tc.helper + "}\n",
				"main.go":      "package main\n\nimport (\n\t\"database/sql\"\n\n\t\"example.com/svc/pool\"\n)\n\nfunc main() {\n\tdb, err := sql.Open(\"x\", \"\")\n\tif err != nil {\n\t\tpanic(err)\n\t}\n\tpool.Configure(db)\n}\n",
			}
			for p, src := range files {
				full := filepath.Join(dir, filepath.FromSlash(p))
				if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(full, []byte(src), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			r, err := Run(context.Background(), []string{dir}, Options{})
			if err != nil {
				t.Fatal(err)
			}
			s := r.Services[0]
			if len(s.Errors) > 0 {
				t.Fatal(s.Errors)
			}
			if got := s.Checks[0].Status; got != tc.want {
				t.Errorf("dbpool %s, want %s: %+v", got, tc.want, s.Checks[0].Findings)
			}
		})
	}
}
