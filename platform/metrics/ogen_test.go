//go:build !service

// The tests through a real ogen server (platform/apierr/ogentest) run only
// in svcgen's own tree: services do not get ogentest, and their
// internal/app/api_test.go drives their real API through the same metrics.

package metrics_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/svcgen/svcgen/platform/apierr"
	"github.com/svcgen/svcgen/platform/apierr/ogentest"
	"github.com/svcgen/svcgen/platform/metrics"
)

type thingHandler struct{ ogentest.UnimplementedHandler }

func (thingHandler) GetThing(_ context.Context, p ogentest.GetThingParams) (*ogentest.Thing, error) {
	return &ogentest.Thing{ID: p.ID}, nil
}

// newAPI is the ogen test server wrapped the way main.go wraps the API.
func newAPI(t testing.TB, reg *prometheus.Registry) http.Handler {
	t.Helper()
	srv, err := ogentest.NewServer(thingHandler{}, ogentest.WithErrorHandler(apierr.ErrorHandler))
	if err != nil {
		t.Fatal(err)
	}
	m := metrics.NewHTTP(reg, "svc", []string{"getThing", "createThing"})
	return m.Middleware(srv, func(r *http.Request) (string, bool) {
		rt, ok := srv.FindPath(r.Method, r.URL)
		return rt.OperationID(), ok
	})
}

func TestRED(t *testing.T) {
	reg := prometheus.NewRegistry()
	ts := httptest.NewServer(newAPI(t, reg))
	defer ts.Close()

	for path, want := range map[string]int{"/things/1": 200, "/things/x": 400, "/nope": 404} {
		resp, err := ts.Client().Get(ts.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		_, _ = io.ReadAll(resp.Body)
		_ = resp.Body.Close()
		if resp.StatusCode != want {
			t.Errorf("GET %s: %d, want %d", path, resp.StatusCode, want)
		}
	}
	resp, err := ts.Client().Post(ts.URL+"/things", "application/json", strings.NewReader(`{"id":1}`))
	if err != nil {
		t.Fatal(err)
	}
	_, _ = io.ReadAll(resp.Body)
	_ = resp.Body.Close() // 501: UnimplementedHandler

	want := `
# HELP svc_http_requests_in_flight HTTP requests being served.
# TYPE svc_http_requests_in_flight gauge
svc_http_requests_in_flight 0
`
	if err := testutil.GatherAndCompare(reg, strings.NewReader(want), "svc_http_requests_in_flight"); err != nil {
		t.Error(err)
	}
	for _, c := range []struct {
		op, code string
		want     float64
	}{
		{"getThing", "200", 1}, {"getThing", "400", 1}, {"unknown", "404", 1}, {"createThing", "501", 1},
		{"getThing", "500", 0}, {"createThing", "201", 0}, // pre-resolved, so present at 0
	} {
		if got, ok := sample(t, reg, "svc_http_requests_total", c.op, c.code); !ok || got != c.want {
			t.Errorf("requests_total{operation=%q,code=%q} = %v (present %v), want %v", c.op, c.code, got, ok, c.want)
		}
	}
	n, err := testutil.GatherAndCount(reg, "svc_http_request_duration_seconds")
	if err != nil || n != 3 { // getThing, createThing, unknown
		t.Errorf("duration series = %d (%v), want 3", n, err)
	}
}

// BenchmarkOgen is a GET by id through the real ogen server, with and
// without the middleware (route lookup via FindPath included).
func BenchmarkOgen(b *testing.B) {
	srv, err := ogentest.NewServer(thingHandler{}, ogentest.WithErrorHandler(apierr.ErrorHandler))
	if err != nil {
		b.Fatal(err)
	}
	wrapped := newAPI(b, prometheus.NewRegistry())
	for name, h := range map[string]http.Handler{"bare": srv, "wrapped": wrapped} {
		b.Run(name, func(b *testing.B) {
			r := httptest.NewRequest("GET", "/things/42", nil)
			b.ReportAllocs()
			for b.Loop() {
				h.ServeHTTP(nopWriter{h: http.Header{}}, r)
			}
		})
	}
}
