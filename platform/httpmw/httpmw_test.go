package httpmw_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"go.uber.org/goleak"

	"github.com/svcgen/svcgen/platform/httpmw"
	"github.com/svcgen/svcgen/platform/metrics"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

var routes = []httpmw.Route{
	{Name: "GetItem", Method: "GET", Pattern: "/items/:id", Timeout: 20 * time.Millisecond},
	{Name: "Stats", Method: "GET", Pattern: "/items/stats"},
	{Name: "Slow", Method: "GET", Pattern: "/slow/{id}", Timeout: 10 * time.Millisecond},
	{Name: "Panics", Method: "POST", Pattern: "/panic"},
	{Name: "Files", Pattern: "/static/*path"},
}

// router stands for chi, echo or gin: it knows nothing of the middleware.
func router(t *testing.T) http.Handler {
	t.Helper()
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch {
		case strings.HasPrefix(r.URL.Path, "/slow/"):
			<-r.Context().Done() // a DB call running into the deadline
			http.Error(w, r.Context().Err().Error(), http.StatusInternalServerError)
		case r.URL.Path == "/silent":
			<-r.Context().Done()
		case r.URL.Path == "/panic":
			panic("boom")
		default:
			dl, ok := r.Context().Deadline()
			if !ok {
				t.Errorf("%s: no deadline", r.URL.Path)
			}
			w.Header().Set("X-Budget", time.Until(dl).Round(10*time.Millisecond).String())
			w.Header().Set("X-Route", httpmw.RouteName(r.Context()))
			_, _ = w.Write([]byte("ok"))
		}
	})
}

func serve(h http.Handler, method, path string) *httptest.ResponseRecorder {
	w := httptest.NewRecorder()
	h.ServeHTTP(w, httptest.NewRequest(method, path, nil))
	return w
}

func TestRoutesDeadlinesErrorsMetrics(t *testing.T) {
	reg := prometheus.NewRegistry()
	m := metrics.NewHTTP(reg, "svc", httpmw.Names(routes))
	mw, err := httpmw.New(httpmw.Config{Routes: routes, Metrics: m, Default: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	h := mw.Wrap(router(t))

	// Each route is matched whatever the router's pattern syntax, and
	// runs under its own deadline.
	for path, want := range map[string]string{"/items/7": "GetItem", "/items/stats": "Stats", "/static/a/b.css": "Files", "/nowhere": httpmw.Unknown} {
		w := serve(h, "GET", path)
		if w.Code != 200 || w.Header().Get("X-Route") != want {
			t.Errorf("GET %s: %d, route %q, want %q", path, w.Code, w.Header().Get("X-Route"), want)
		}
	}
	if b := serve(h, "GET", "/items/7").Header().Get("X-Budget"); b != "20ms" {
		t.Errorf("GetItem runs under %s, want 20ms", b)
	}
	if b := serve(h, "GET", "/items/stats").Header().Get("X-Budget"); b != "1s" {
		t.Errorf("Stats runs under %s, want the default 1s", b)
	}

	// A handler failing because its deadline passed answers 504 JSON, as
	// does one that wrote nothing by then.
	for _, path := range []string{"/slow/1", "/silent"} {
		w := serve(h, "GET", path)
		var e httpmw.Error
		if w.Code != http.StatusGatewayTimeout || json.Unmarshal(w.Body.Bytes(), &e) != nil || e.Code != 504 {
			t.Errorf("GET %s: %d %q, want a 504 JSON error", path, w.Code, w.Body.String())
		}
	}

	// A panic is a 500 JSON error, not a dropped connection.
	w := serve(h, "POST", "/panic")
	if w.Code != 500 || !strings.Contains(w.Body.String(), `"code":500`) {
		t.Errorf("panic: %d %q", w.Code, w.Body.String())
	}

	if err := testutil.GatherAndCompare(reg, strings.NewReader(`
# HELP svc_http_requests_total HTTP requests answered, by operation and status code.
# TYPE svc_http_requests_total counter
svc_http_requests_total{code="200",operation="Files"} 1
svc_http_requests_total{code="200",operation="GetItem"} 2
svc_http_requests_total{code="200",operation="Panics"} 0
svc_http_requests_total{code="200",operation="Slow"} 0
svc_http_requests_total{code="200",operation="Stats"} 2
svc_http_requests_total{code="200",operation="unknown"} 1
svc_http_requests_total{code="201",operation="Files"} 0
svc_http_requests_total{code="201",operation="GetItem"} 0
svc_http_requests_total{code="201",operation="Panics"} 0
svc_http_requests_total{code="201",operation="Slow"} 0
svc_http_requests_total{code="201",operation="Stats"} 0
svc_http_requests_total{code="201",operation="unknown"} 0
svc_http_requests_total{code="204",operation="Files"} 0
svc_http_requests_total{code="204",operation="GetItem"} 0
svc_http_requests_total{code="204",operation="Panics"} 0
svc_http_requests_total{code="204",operation="Slow"} 0
svc_http_requests_total{code="204",operation="Stats"} 0
svc_http_requests_total{code="204",operation="unknown"} 0
svc_http_requests_total{code="500",operation="Files"} 0
svc_http_requests_total{code="500",operation="GetItem"} 0
svc_http_requests_total{code="500",operation="Panics"} 1
svc_http_requests_total{code="500",operation="Slow"} 0
svc_http_requests_total{code="500",operation="Stats"} 0
svc_http_requests_total{code="500",operation="unknown"} 0
svc_http_requests_total{code="504",operation="Slow"} 1
svc_http_requests_total{code="504",operation="unknown"} 1
`), "svc_http_requests_total"); err != nil {
		t.Error(err)
	}
}

func TestBadRoutes(t *testing.T) {
	for _, tc := range []struct {
		want   string
		routes []httpmw.Route
	}{
		{"no Name", []httpmw.Route{{Method: "GET", Pattern: "/a"}}},
		{"start it with /", []httpmw.Route{{Name: "A", Pattern: "a"}}},
		{"use a positive deadline", []httpmw.Route{{Name: "A", Pattern: "/a", Timeout: -time.Second}}},
		{"routes A and B have the same pattern", []httpmw.Route{{Name: "A", Method: "GET", Pattern: "/a/:id"}, {Name: "B", Method: "GET", Pattern: "/a/{id}"}}},
	} {
		if _, err := httpmw.New(httpmw.Config{Routes: tc.routes}); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%+v: %v, want %q", tc.routes, err, tc.want)
		}
	}
}

func TestServerTimeouts(t *testing.T) {
	srv := httpmw.NewServer(":0", http.NotFoundHandler(), 2*time.Second)
	if srv.ReadHeaderTimeout == 0 || srv.ReadTimeout == 0 || srv.IdleTimeout == 0 || srv.WriteTimeout != 7*time.Second {
		t.Errorf("timeouts: %+v", srv)
	}
	ctx, cancel := httpmw.Budget(context.Background(), httpmw.DBBudget)
	defer cancel()
	if dl, ok := ctx.Deadline(); !ok || time.Until(dl) > httpmw.DBBudget {
		t.Errorf("budget deadline %v", dl)
	}
}
