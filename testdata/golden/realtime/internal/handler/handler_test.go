package handler

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/prometheus/client_golang/prometheus"
	"go.uber.org/goleak"

	"example.com/golden-realtime/internal/api"
	"example.com/golden-realtime/internal/config"
	"example.com/golden-realtime/internal/platform/realtime"
	"example.com/golden-realtime/internal/platform/timeout"
	"example.com/golden-realtime/internal/store"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// newService serves the API as main wires it (ogen server, JSON errors,
// deadlines) beside a real hub at /ws, on the given store.
func newService(t *testing.T, s store.Store) (*httptest.Server, *realtime.Hub) {
	t.Helper()
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	all := config.Default()
	cfg := all.Realtime
	cfg.Tick = 0 // every message at once: the test need not wait for a tick
	hub, err := realtime.NewHub(cfg, all.Compress.Frame, prometheus.NewRegistry(), "test", log)
	if err != nil {
		t.Fatal(err)
	}
	h := New(s, log)
	h.Hub = hub
	srv, err := api.NewServer(h,
		api.WithErrorHandler(ErrorHandler(h)),
		api.WithMiddleware(timeout.Middleware(timeout.Config{Default: 5 * time.Second})),
	)
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.Handle("/", srv)
	mux.Handle("GET "+cfg.Path, hub)
	ts := httptest.NewServer(mux)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := hub.Close(ctx); err != nil {
			t.Errorf("hub close: %v", err)
		}
		ts.Close()
	})
	return ts, hub
}

// call sends one request and decodes the JSON answer into out.
func call(t *testing.T, ts *httptest.Server, method, target, body string, out any) int {
	t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, ts.URL+target, rd)
	if err != nil {
		t.Fatal(err)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := ts.Client().Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, target, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if out != nil {
		if err := json.Unmarshal(b, out); err != nil {
			t.Fatalf("%s %s: %d, body %q is not JSON: %v", method, target, resp.StatusCode, b, err)
		}
	}
	return resp.StatusCode
}

func TestRoomsCRUD(t *testing.T) {
	ts, _ := newService(t, store.NewMemory())

	var room api.Room
	if code := call(t, ts, "POST", "/rooms", `{"id":"arena-1","title":"Arena 1"}`, &room); code != 201 {
		t.Fatalf("create: status %d, want 201", code)
	}
	if room.ID != "arena-1" || room.Title != "Arena 1" || room.Members != 0 || room.CreatedAt.IsZero() {
		t.Fatalf("created %+v", room)
	}
	var e api.Error
	if code := call(t, ts, "POST", "/rooms", `{"id":"arena-1","title":"again"}`, &e); code != 409 || e.Code != 409 {
		t.Fatalf("duplicate: status %d, body %+v; want 409", code, e)
	}
	if code := call(t, ts, "POST", "/rooms", `{"id":"Bad Id!","title":"x"}`, &e); code != 400 {
		t.Fatalf("bad id: status %d, want 400", code)
	}
	if code := call(t, ts, "POST", "/rooms", `{"id":"arena-2","title":"x","titel":"y"}`, &e); code != 400 || !strings.Contains(e.Message, "titel") {
		t.Fatalf("unknown field: status %d, body %+v; want 400 naming the field", code, e)
	}
	if code := call(t, ts, "POST", "/rooms", `{"id":"lobby","title":"Lobby"}`, nil); code != 201 {
		t.Fatalf("create lobby: status %d", code)
	}

	var list api.RoomList
	if code := call(t, ts, "GET", "/rooms", "", &list); code != 200 || len(list.Rooms) != 2 || list.Rooms[0].ID != "arena-1" {
		t.Fatalf("list: status %d, %+v", code, list)
	}
	if code := call(t, ts, "GET", "/rooms?limit=1", "", &list); code != 200 || len(list.Rooms) != 1 {
		t.Fatalf("list limit 1: status %d, %+v", code, list)
	}
	if code := call(t, ts, "GET", "/rooms?limit=0", "", &e); code != 400 {
		t.Fatalf("limit 0: status %d, want 400", code)
	}

	if code := call(t, ts, "DELETE", "/rooms/lobby", "", nil); code != 204 {
		t.Fatalf("delete: status %d, want 204", code)
	}
	if code := call(t, ts, "GET", "/rooms/lobby", "", &e); code != 404 || e.Code != 404 {
		t.Fatalf("get deleted: status %d, %+v; want 404", code, e)
	}
	if code := call(t, ts, "DELETE", "/rooms/lobby", "", &e); code != 404 {
		t.Fatalf("delete again: status %d, want 404", code)
	}
	if code := call(t, ts, "POST", "/rooms/lobby/messages", `{"type":"x","data":1}`, &e); code != 404 {
		t.Fatalf("publish to a missing room: status %d, want 404", code)
	}
}

// TestPublishReachesMembers connects a real WebSocket client, joins a
// room, and publishes to it through the API.
func TestPublishReachesMembers(t *testing.T) {
	ts, hub := newService(t, store.NewMemory())
	if code := call(t, ts, "POST", "/rooms", `{"id":"arena","title":"Arena"}`, nil); code != 201 {
		t.Fatalf("create: status %d", code)
	}

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	conn, _, err := websocket.Dial(ctx, "ws"+strings.TrimPrefix(ts.URL, "http")+"/ws", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.CloseNow()
	if err := conn.Write(ctx, websocket.MessageText, []byte(`{"type":"join","room":"arena"}`)); err != nil {
		t.Fatal(err)
	}
	for hub.Members("arena") != 1 { // the join is handled on the server's reader
		if ctx.Err() != nil {
			t.Fatal("the client never joined")
		}
		time.Sleep(5 * time.Millisecond)
	}

	var room api.Room
	if code := call(t, ts, "GET", "/rooms/arena", "", &room); code != 200 || room.Members != 1 {
		t.Fatalf("get: status %d, %+v; want 1 member", code, room)
	}
	var res api.PublishResult
	if code := call(t, ts, "POST", "/rooms/arena/messages", `{"type":"announcement","data":{"text":"round starts"}}`, &res); code != 202 || res.Delivered != 1 {
		t.Fatalf("publish: status %d, %+v; want 202, delivered 1", code, res)
	}

	typ, frame, err := conn.Read(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if typ != websocket.MessageBinary {
		t.Fatalf("frame type %v, want binary", typ)
	}
	dec, err := realtime.NewDecoder(hub.FrameConfig())
	if err != nil {
		t.Fatal(err)
	}
	msgs, err := dec.Messages(frame)
	if err != nil || len(msgs) != 1 {
		t.Fatalf("decode: %d messages, %v; want 1", len(msgs), err)
	}
	var got struct {
		Data map[string]string `json:"data"`
		Room string            `json:"room"`
		Type string            `json:"type"`
	}
	if err := json.Unmarshal(msgs[0], &got); err != nil {
		t.Fatalf("message %q: %v", msgs[0], err)
	}
	if got.Room != "arena" || got.Type != "announcement" || got.Data["text"] != "round starts" {
		t.Fatalf("got %+v", got)
	}

	// Deleting the room takes its members out of it.
	if code := call(t, ts, "DELETE", "/rooms/arena", "", nil); code != 204 {
		t.Fatalf("delete: status %d", code)
	}
	if n := hub.Members("arena"); n != 0 {
		t.Fatalf("members after delete: %d, want 0", n)
	}
	conn.Close(websocket.StatusNormalClosure, "")
}
