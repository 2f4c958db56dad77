package audit

import (
	"context"
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
