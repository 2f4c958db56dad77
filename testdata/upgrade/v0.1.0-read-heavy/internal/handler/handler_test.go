package handler

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"go.uber.org/goleak"

	"example.com/legacy-catalog/internal/api"
	"example.com/legacy-catalog/internal/platform/timeout"
	"example.com/legacy-catalog/internal/store"
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

func seed(t *testing.T, s store.Store, n int) []store.Item {
	t.Helper()
	items := make([]store.Item, n)
	for i := range items {
		it, err := s.CreateItem(context.Background(), store.ItemInput{Name: fmt.Sprintf("item-%d", i), Quantity: int32(i), Price: int64(100 * i)})
		if err != nil {
			t.Fatal(err)
		}
		items[i] = it
	}
	return items
}

func TestGetItem(t *testing.T) {
	s := store.NewMemory()
	items := seed(t, s, 1)
	srv := newServer(t, s, time.Second)

	var got api.Item
	if code := call(t, srv, "GET", fmt.Sprintf("/items/%d", items[0].ID), "", &got); code != 200 {
		t.Fatalf("status %d, want 200", code)
	}
	if int64(got.ID) != items[0].ID || got.Name != items[0].Name {
		t.Fatalf("got %+v, want %+v", got, items[0])
	}

	var e api.Error
	if code := call(t, srv, "GET", "/items/424242", "", &e); code != 404 || e.Code != 404 || e.Message == "" {
		t.Fatalf("missing item: status %d, body %+v; want 404 with a message", code, e)
	}
	if code := call(t, srv, "GET", "/items/abc", "", &e); code != 400 || e.Code != 400 {
		t.Fatalf("bad id: status %d, body %+v; want 400", code, e)
	}
	if code := call(t, srv, "GET", "/items/0", "", &e); code != 400 {
		t.Fatalf("id 0 (below minimum): status %d, want 400", code)
	}
}

func TestBatchGetItems(t *testing.T) {
	s := store.NewMemory()
	items := seed(t, s, 5)
	srv := newServer(t, s, time.Second)

	ids := make([]string, 0, len(items)+1)
	for _, it := range items {
		ids = append(ids, fmt.Sprint(it.ID))
	}
	ids = append(ids, "999")
	var got api.ItemList
	if code := call(t, srv, "GET", "/items?ids="+strings.Join(ids, ","), "", &got); code != 200 {
		t.Fatalf("status %d, want 200", code)
	}
	if len(got.Items) != len(items) || len(got.Missing) != 1 || got.Missing[0] != 999 {
		t.Fatalf("got %d items and missing %v; want %d items and [999]", len(got.Items), got.Missing, len(items))
	}

	tooMany := strings.Repeat("1,", 100) + "1"
	var e api.Error
	if code := call(t, srv, "GET", "/items?ids="+tooMany, "", &e); code != 400 {
		t.Fatalf("101 ids: status %d, want 400", code)
	}
	if code := call(t, srv, "GET", "/items", "", &e); code != 400 {
		t.Fatalf("no ids: status %d, want 400", code)
	}
}

func TestCreateAndUpdateItem(t *testing.T) {
	s := store.NewMemory()
	srv := newServer(t, s, time.Second)

	var created api.Item
	if code := call(t, srv, "POST", "/items", `{"name":"potion","quantity":5,"price":250}`, &created); code != 201 {
		t.Fatalf("create: status %d, want 201", code)
	}
	if created.ID == 0 || created.Name != "potion" || created.Quantity != 5 || created.Price != 250 {
		t.Fatalf("created %+v", created)
	}

	var e api.Error
	if code := call(t, srv, "POST", "/items", `{"name":"","quantity":5,"price":250}`, &e); code != 400 {
		t.Fatalf("empty name: status %d, want 400", code)
	}
	if code := call(t, srv, "POST", "/items", `{"name":"x","quantity":-1,"price":250}`, &e); code != 400 {
		t.Fatalf("negative quantity: status %d, want 400", code)
	}
	if code := call(t, srv, "POST", "/items", `{"name":`, &e); code != 400 {
		t.Fatalf("broken JSON: status %d, want 400", code)
	}
	if code := call(t, srv, "POST", "/items", `{"name":"x","quantity":1,"price":1,"colour":"red"}`, &e); code != 400 || !strings.Contains(e.Message, "colour") {
		t.Fatalf("unknown field: status %d, body %+v; want 400 naming the field", code, e)
	}

	var updated api.Item
	target := fmt.Sprintf("/items/%d", created.ID)
	if code := call(t, srv, "PUT", target, `{"name":"elixir","quantity":1,"price":900}`, &updated); code != 200 {
		t.Fatalf("update: status %d, want 200", code)
	}
	if updated.ID != created.ID || updated.Name != "elixir" {
		t.Fatalf("updated %+v", updated)
	}
	if code := call(t, srv, "PUT", "/items/777", `{"name":"x","quantity":1,"price":1}`, &e); code != 404 {
		t.Fatalf("update missing: status %d, want 404", code)
	}
}

// slowStore answers only when the request's deadline has passed.
type slowStore struct{ store.Store }

func (slowStore) GetItem(ctx context.Context, _ int64) (store.Item, error) {
	<-ctx.Done()
	return store.Item{}, ctx.Err()
}

func TestTimeout(t *testing.T) {
	srv := newServer(t, slowStore{store.NewMemory()}, 20*time.Millisecond)
	start := time.Now()
	var e api.Error
	if code := call(t, srv, "GET", "/items/1", "", &e); code != http.StatusGatewayTimeout || e.Code != 504 {
		t.Fatalf("status %d, body %+v; want 504 JSON", code, e)
	}
	if d := time.Since(start); d > time.Second {
		t.Fatalf("took %s; the 20ms deadline was not applied", d)
	}
}

func BenchmarkGetItem(b *testing.B) {
	s := store.NewMemory()
	it, _ := s.CreateItem(context.Background(), store.ItemInput{Name: "bench", Quantity: 1, Price: 1})
	srv := newServer(b, s, time.Second)
	target := fmt.Sprintf("/items/%d", it.ID)
	b.ReportAllocs()
	for b.Loop() {
		rec := httptest.NewRecorder()
		srv.ServeHTTP(rec, httptest.NewRequest("GET", target, nil))
		if rec.Code != 200 {
			b.Fatalf("status %d", rec.Code)
		}
	}
}

func BenchmarkBatchGetItems(b *testing.B) {
	s := store.NewMemory()
	ids := make([]string, 50)
	for i := range ids {
		it, _ := s.CreateItem(context.Background(), store.ItemInput{Name: "bench", Quantity: 1, Price: 1})
		ids[i] = fmt.Sprint(it.ID)
	}
	srv := newServer(b, s, time.Second)
	target := "/items?ids=" + strings.Join(ids, ",")
	b.ReportAllocs()
	for b.Loop() {
		rec := httptest.NewRecorder()
		srv.ServeHTTP(rec, httptest.NewRequest("GET", target, nil))
		if rec.Code != 200 {
			b.Fatalf("status %d", rec.Code)
		}
	}
}
