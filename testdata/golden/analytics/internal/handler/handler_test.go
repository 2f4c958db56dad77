package handler

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"go.uber.org/goleak"

	"example.com/golden-analytics/internal/api"
	"example.com/golden-analytics/internal/platform/timeout"
	"example.com/golden-analytics/internal/store"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// newServer returns the API as main wires it: ogen server, JSON errors and
// per-operation deadlines, on the given store.
func newServer(tb testing.TB, s store.Store, deadline time.Duration) *api.Server {
	tb.Helper()
	h := New(s, slog.New(slog.NewTextHandler(io.Discard, nil)))
	srv, err := api.NewServer(h,
		api.WithErrorHandler(ErrorHandler(h)),
		api.WithMiddleware(timeout.Middleware(timeout.Config{Default: deadline})),
	)
	if err != nil {
		tb.Fatal(err)
	}
	return srv
}

// call sends one request through srv and decodes the JSON answer into out.
func call(t *testing.T, srv http.Handler, method, target, body string, out any) int {
	t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req := httptest.NewRequest(method, target, rd)
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	rec := httptest.NewRecorder()
	srv.ServeHTTP(rec, req)
	if out != nil {
		if err := json.Unmarshal(rec.Body.Bytes(), out); err != nil {
			t.Fatalf("%s %s: %d, body %q is not JSON: %v", method, target, rec.Code, rec.Body, err)
		}
	}
	return rec.Code
}

var start = time.Date(2026, 1, 1, 10, 0, 0, 0, time.UTC)

// eventsJSON is a batch of n events of player, one second apart from start.
func eventsJSON(n int, player int64) string {
	var b strings.Builder
	b.WriteByte('[')
	for i := range n {
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, `{"player_id":%d,"type":"login","payload":{"n":%d},"created_at":%q}`,
			player, i, start.Add(time.Duration(i)*time.Second).Format(time.RFC3339))
	}
	b.WriteByte(']')
	return b.String()
}

func rangeQuery(from, to time.Time, extra string) string {
	return "/events?from=" + url.QueryEscape(from.Format(time.RFC3339)) + "&to=" + url.QueryEscape(to.Format(time.RFC3339)) + extra
}

func TestIngestAndQuery(t *testing.T) {
	srv := newServer(t, store.NewMemory(), time.Second)

	var res api.IngestResult
	if code := call(t, srv, "POST", "/events", eventsJSON(3, 7), &res); code != 200 || res.Inserted != 3 {
		t.Fatalf("ingest: status %d, %+v; want 200 and 3", code, res)
	}
	if code := call(t, srv, "POST", "/events", eventsJSON(120, 8), &res); code != 200 || res.Inserted != 120 {
		t.Fatalf("ingest 120: status %d, %+v", code, res)
	}
	// A string payload and none at all are accepted.
	body := fmt.Sprintf(`[{"player_id":9,"type":"chat","payload":"gg","created_at":%q},{"player_id":9,"type":"logout","created_at":%q}]`,
		start.Format(time.RFC3339), start.Add(time.Second).Format(time.RFC3339))
	if code := call(t, srv, "POST", "/events", body, &res); code != 200 || res.Inserted != 2 {
		t.Fatalf("ingest string payload: status %d, %+v", code, res)
	}

	var list api.EventList
	if code := call(t, srv, "GET", rangeQuery(start, start.Add(time.Hour), "&player_id=7"), "", &list); code != 200 || len(list.Events) != 3 {
		t.Fatalf("query player 7: status %d, %d events; want 3", code, len(list.Events))
	}
	if string(list.Events[0].Payload) != `{"n":0}` || int64(list.Events[0].PlayerID) != 7 {
		t.Fatalf("first event %+v", list.Events[0])
	}
	if code := call(t, srv, "GET", rangeQuery(start, start.Add(time.Hour), "&limit=50"), "", &list); code != 200 || len(list.Events) != 50 {
		t.Fatalf("query limit 50: status %d, %d events", code, len(list.Events))
	}
	if code := call(t, srv, "GET", rangeQuery(start, start.Add(time.Hour), "&player_id=9"), "", &list); code != 200 || len(list.Events) != 2 ||
		string(list.Events[0].Payload) != `"gg"` || string(list.Events[1].Payload) != "null" {
		t.Fatalf("query player 9: status %d, %+v", code, list.Events)
	}
}

func TestLeaderboard(t *testing.T) {
	srv := newServer(t, store.NewMemory(), time.Second)
	body := fmt.Sprintf(`[{"player_id":1,"type":"match_end","payload":{"score":5},"created_at":%[1]q},`+
		`{"player_id":2,"type":"match_end","payload":{"score":9},"created_at":%[1]q},`+
		`{"player_id":1,"type":"match_end","payload":{"score":7},"created_at":%[1]q}]`, start.Format(time.RFC3339))
	var res api.IngestResult
	if code := call(t, srv, "POST", "/events", body, &res); code != 200 || res.Inserted != 3 {
		t.Fatalf("ingest: status %d, %+v", code, res)
	}
	var lb api.Leaderboard
	if code := call(t, srv, "GET", "/leaderboard", "", &lb); code != 200 || len(lb.Entries) != 2 {
		t.Fatalf("leaderboard: status %d, %+v", code, lb)
	}
	if e := lb.Entries[0]; e.Rank != 1 || e.PlayerID != 1 || e.Score != 12 || e.Events != 2 {
		t.Fatalf("first entry %+v, want player 1 with 12 points from 2 events", e)
	}
	if code := call(t, srv, "GET", "/leaderboard?limit=1", "", &lb); code != 200 || len(lb.Entries) != 1 {
		t.Fatalf("leaderboard limit 1: status %d, %+v", code, lb)
	}
	var e api.Error
	if code := call(t, srv, "GET", "/leaderboard?limit=1001", "", &e); code != 400 {
		t.Fatalf("leaderboard limit 1001: status %d, want 400", code)
	}
}

func TestBadRequests(t *testing.T) {
	srv := newServer(t, store.NewMemory(), time.Second)
	var e api.Error
	for _, tc := range []struct{ method, target, body string }{
		{"POST", "/events", `[]`}, // minItems 1
		{"POST", "/events", `[{"player_id":0,"type":"x","created_at":"2026-01-01T00:00:00Z"}]`}, // player_id minimum 1
		{"POST", "/events", `[{"player_id":1,"type":"","created_at":"2026-01-01T00:00:00Z"}]`},  // type minLength 1
		{"POST", "/events", `[{"player_id":1,"type":"x","created_at":"yesterday"}]`},            // not a date-time
		{"POST", "/events", `{"player_id":1}`},                                                  // not an array
		{"GET", "/events?from=2026-01-01T00:00:00Z", ""},                                        // to missing
		{"GET", rangeQuery(start, start.Add(time.Hour), "&limit=0"), ""},                        // limit minimum 1
		{"GET", rangeQuery(start.Add(time.Hour), start, ""), ""},                                // from after to
	} {
		if code := call(t, srv, tc.method, tc.target, tc.body, &e); code != 400 || e.Code != 400 || e.Message == "" {
			t.Errorf("%s %s %s: status %d, %+v; want 400 JSON", tc.method, tc.target, tc.body, code, e)
		}
	}
	if code := call(t, srv, "POST", "/events", eventsJSON(10001, 1), &e); code != 400 {
		t.Errorf("10001 events: status %d, want 400", code)
	}
}

// slowStore answers only when the request's deadline has passed.
type slowStore struct{ store.Store }

func (slowStore) QueryEvents(ctx context.Context, _ store.Query) ([]store.Event, error) {
	<-ctx.Done()
	return nil, ctx.Err()
}

func TestTimeout(t *testing.T) {
	srv := newServer(t, slowStore{store.NewMemory()}, 20*time.Millisecond)
	began := time.Now()
	var e api.Error
	if code := call(t, srv, "GET", rangeQuery(start, start.Add(time.Hour), ""), "", &e); code != http.StatusGatewayTimeout || e.Code != 504 {
		t.Fatalf("status %d, body %+v; want 504 JSON", code, e)
	}
	if d := time.Since(began); d > time.Second {
		t.Fatalf("took %s; the 20ms deadline was not applied", d)
	}
}

func BenchmarkIngest100(b *testing.B) {
	srv := newServer(b, store.NewMemory(), time.Second)
	body := eventsJSON(100, 1)
	b.ReportAllocs()
	for b.Loop() {
		req := httptest.NewRequest("POST", "/events", strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		rec := httptest.NewRecorder()
		srv.ServeHTTP(rec, req)
		if rec.Code != 200 {
			b.Fatalf("status %d", rec.Code)
		}
	}
}

func BenchmarkQuery(b *testing.B) {
	s := store.NewMemory()
	in := make([]store.EventInput, 1000)
	for i := range in {
		in[i] = store.EventInput{PlayerID: int64(1 + i%10), Type: "login", CreatedAt: start.Add(time.Duration(i) * time.Second)}
	}
	if _, err := s.IngestEvents(context.Background(), in); err != nil {
		b.Fatal(err)
	}
	srv := newServer(b, s, time.Second)
	target := rangeQuery(start, start.Add(time.Hour), "&player_id=3&limit=100")
	b.ReportAllocs()
	for b.Loop() {
		rec := httptest.NewRecorder()
		srv.ServeHTTP(rec, httptest.NewRequest("GET", target, nil))
		if rec.Code != 200 {
			b.Fatalf("status %d", rec.Code)
		}
	}
}
