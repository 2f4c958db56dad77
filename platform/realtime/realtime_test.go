package realtime

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"log/slog"
	mrand "math/rand/v2"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"go.uber.org/goleak"

	"github.com/svcgen/svcgen/platform/compress"
)

func TestMain(m *testing.M) {
	if spec := os.Getenv(benchClientsEnv); spec != "" {
		os.Exit(runBenchClients(spec)) // the benchmarks' client process
	}
	goleak.VerifyTestMain(m)
}

func testConfig() Config {
	return Config{
		Path:            "/ws",
		PingInterval:    time.Minute,
		PingTimeout:     10 * time.Second,
		WriteTimeout:    10 * time.Second,
		SendQueue:       256,
		MaxMessageBytes: 4096,
	}
}

// startHub serves a hub on a loopback listener, the way the service mounts
// it; ticking false leaves the ticks to Flush.
func startHub(t *testing.T, cfg Config, ticking bool) (*Hub, *httptest.Server) {
	t.Helper()
	return startHubFrames(t, cfg, compress.FrameConfig{}, ticking)
}

func startHubFrames(t *testing.T, cfg Config, frame compress.FrameConfig, ticking bool) (*Hub, *httptest.Server) {
	t.Helper()
	hub, err := newHub(cfg, frame, prometheus.NewRegistry(), "test", slog.New(slog.NewTextHandler(io.Discard, nil)), ticking)
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.Handle("GET "+cfg.Path, hub)
	ts := httptest.NewServer(mux)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		if err := hub.Close(ctx); err != nil {
			t.Errorf("hub close: %v", err)
		}
		ts.Close()
	})
	return hub, ts
}

func wsURL(ts *httptest.Server) string { return "ws" + strings.TrimPrefix(ts.URL, "http") + "/ws" }

func dial(t *testing.T, ts *httptest.Server) *websocket.Conn {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	conn, _, err := websocket.Dial(ctx, wsURL(ts), nil)
	if err != nil {
		t.Fatal(err)
	}
	conn.SetReadLimit(4 * MaxBatchBytes)
	t.Cleanup(func() { conn.CloseNow() })
	return conn
}

func send(t *testing.T, conn *websocket.Conn, msg string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := conn.Write(ctx, websocket.MessageText, []byte(msg)); err != nil {
		t.Fatal(err)
	}
}

// waitFor polls cond until it holds; the hub handles client messages on
// its own goroutines.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("gave up waiting for %s", what)
		}
		time.Sleep(2 * time.Millisecond)
	}
}

func join(t *testing.T, hub *Hub, conn *websocket.Conn, room string, members int) {
	t.Helper()
	send(t, conn, `{"type":"join","room":"`+room+`"}`)
	waitFor(t, fmt.Sprintf("%d members in %s", members, room), func() bool { return hub.Members(room) == members })
}

// readFrame reads one frame and returns its kind and messages.
func readFrame(t *testing.T, conn *websocket.Conn, dec *Decoder) (byte, []string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	typ, frame, err := conn.Read(ctx)
	if err != nil {
		t.Fatalf("read: %v", err)
	}
	if typ != websocket.MessageBinary {
		t.Fatalf("frame type %v, want binary", typ)
	}
	msgs, err := dec.Messages(frame)
	if err != nil {
		t.Fatal(err)
	}
	out := make([]string, len(msgs))
	for i, m := range msgs {
		out[i] = string(m)
	}
	return frame[0], out
}

func decoder(t testing.TB, hub *Hub) *Decoder {
	t.Helper()
	dec, err := NewDecoder(hub.FrameConfig())
	if err != nil {
		t.Fatal(err)
	}
	return dec
}

func TestRoomsPublishAndBroadcast(t *testing.T) {
	hub, ts := startHub(t, testConfig(), true)
	dec := decoder(t, hub)
	a1, a2, b := dial(t, ts), dial(t, ts), dial(t, ts)
	join(t, hub, a1, "a", 1)
	join(t, hub, a2, "a", 2)
	join(t, hub, b, "b", 1)

	if n, err := hub.Publish("a", []byte("to a")); err != nil || n != 2 {
		t.Fatalf("Publish = %d, %v; want 2 members", n, err)
	}
	for _, c := range []*websocket.Conn{a1, a2} {
		if _, msgs := readFrame(t, c, dec); len(msgs) != 1 || msgs[0] != "to a" {
			t.Fatalf("room a member got %q", msgs)
		}
	}

	// A client's publish reaches the other members, not itself.
	send(t, a1, `{"type":"publish","room":"a","data":{"x":1}}`)
	if _, msgs := readFrame(t, a2, dec); len(msgs) != 1 || msgs[0] != `{"x":1}` {
		t.Fatalf("a2 got %q, want the data of a1's publish", msgs)
	}

	if n, err := hub.Broadcast([]byte("everyone")); err != nil || n != 3 {
		t.Fatalf("Broadcast = %d, %v; want 3", n, err)
	}
	for _, c := range []*websocket.Conn{a1, a2, b} {
		if _, msgs := readFrame(t, c, dec); len(msgs) != 1 || msgs[0] != "everyone" {
			t.Fatalf("got %q, want the broadcast (and nothing before it)", msgs)
		}
	}

	send(t, a2, `{"type":"leave","room":"a"}`)
	waitFor(t, "a2 to leave", func() bool { return hub.Members("a") == 1 })
	if n := testutil.ToFloat64(hub.metrics.connections); n != 3 {
		t.Fatalf("connections gauge %v, want 3", n)
	}
	if n := testutil.ToFloat64(hub.metrics.received); n != 5 {
		t.Fatalf("messages received %v, want 5 (3 joins, a publish, a leave)", n)
	}
}

// movement is a ~300-byte JSON update like a game client sends 20 times a
// second: a player id, centimetre positions (in the room's arena),
// velocities and angles that change every update, and fields that change every second or two (hp,
// stamina, animation, ping) or never (weapon, zone, team). The values come
// from a generator seeded by (player, seq): the same call makes the same
// bytes.
func movement(player, seq int) []byte {
	rng := mrand.New(mrand.NewPCG(uint64(player), uint64(seq)))
	id := mrand.New(mrand.NewPCG(uint64(player), 0)) // a player's id stays the same
	anims := []string{"idle", "walk", "run", "jump", "crouch"}
	// Players of one room (ten in a row) play in the same 200 m arena.
	cx, cy := float64((player/10)%20)*450-4500, float64((player/10)%7)*1200-3600
	return fmt.Appendf(nil, `{"type":"move","player":"%08x-%04x-%04x-%04x-%012x","seq":%d,"ts":%d,`+
		`"pos":{"x":%.2f,"y":%.2f,"z":%.2f},"vel":{"x":%.2f,"y":%.2f,"z":%.2f},"rot":{"yaw":%.1f,"pitch":%.1f},`+
		`"anim":%q,"hp":%d,"stamina":%d,"weapon":"rifle-mk%d","zone":"sector-%d","team":%q,"ping_ms":%d}`,
		id.Uint32(), id.Uint32()&0xffff, id.Uint32()&0xffff, id.Uint32()&0xffff, id.Uint64()&0xffffffffffff, seq, 1764324000000+int64(seq)*50+int64(rng.IntN(50)),
		cx+rng.Float64()*200-100, cy+rng.Float64()*200-100, rng.Float64()*50,
		rng.Float64()*14-7, rng.Float64()*2-1, rng.Float64()*14-7, rng.Float64()*360, rng.Float64()*60-30,
		anims[(player+seq/40)%len(anims)], 100-(player+seq/20)%60, 100-(player*7+seq/10)%100, 1+player%3, player%12, []string{"red", "blue"}[player%2], 20+(player*13+seq/20)%80)
}

func TestTickBatchesIntoOneLZ4Frame(t *testing.T) {
	cfg := testConfig()
	cfg.Tick = 50 * time.Millisecond
	hub, ts := startHub(t, cfg, false) // ticks by Flush: one tick, deterministically
	dec := decoder(t, hub)
	c := dial(t, ts)
	join(t, hub, c, "arena", 1)

	var want []string
	raw := 0
	for i := range 40 {
		m := movement(i, i)
		want = append(want, string(m))
		raw += len(m)
		if _, err := hub.Publish("arena", m); err != nil {
			t.Fatal(err)
		}
	}
	hub.Flush()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	_, frame, err := c.Read(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if frame[0] != compress.KindLZ4 {
		t.Fatalf("frame kind %#x, want LZ4 (%#x) for a %d-byte batch", frame[0], compress.KindLZ4, raw)
	}
	if len(frame) >= raw/2 {
		t.Fatalf("frame of %d bytes for %d bytes of messages: LZ4 should at least halve a batch of similar JSON", len(frame), raw)
	}
	msgs, err := dec.Messages(frame)
	if err != nil {
		t.Fatal(err)
	}
	if len(msgs) != len(want) {
		t.Fatalf("%d messages in the frame, want %d", len(msgs), len(want))
	}
	for i := range want {
		if string(msgs[i]) != want[i] {
			t.Fatalf("message %d = %q, want %q", i, msgs[i], want[i])
		}
	}
	// The counters move right after the write: the client may be faster.
	waitFor(t, "1 lz4 frame, 40 messages and the frame's bytes counted", func() bool {
		return testutil.ToFloat64(hub.metrics.frames[compress.KindLZ4]) == 1 &&
			testutil.ToFloat64(hub.metrics.sent) == 40 &&
			testutil.ToFloat64(hub.metrics.bytes[compress.KindLZ4]) == float64(len(frame))
	})

	// A small message alone goes raw.
	if _, err := hub.Publish("arena", []byte("hi")); err != nil {
		t.Fatal(err)
	}
	hub.Flush()
	if kind, msgs := readFrame(t, c, dec); kind != compress.KindRaw || len(msgs) != 1 || msgs[0] != "hi" {
		t.Fatalf("small message: kind %#x, %q; want raw [hi]", kind, msgs)
	}
}

func TestTickerSendsWithoutFlush(t *testing.T) {
	cfg := testConfig()
	cfg.Tick = 10 * time.Millisecond
	hub, ts := startHub(t, cfg, true)
	dec := decoder(t, hub)
	c := dial(t, ts)
	join(t, hub, c, "arena", 1)
	for i := range 3 {
		if _, err := hub.Publish("arena", []byte{byte('a' + i)}); err != nil {
			t.Fatal(err)
		}
	}
	var got []string
	for len(got) < 3 {
		_, msgs := readFrame(t, c, dec)
		got = append(got, msgs...)
	}
	if strings.Join(got, "") != "abc" {
		t.Fatalf("got %q, want a, b, c in order", got)
	}
}

func TestZstdDictFrames(t *testing.T) {
	cfg := testConfig()
	cfg.Tick = 50 * time.Millisecond
	hub, ts := startHubFrames(t, cfg, compress.FrameConfig{Mode: compress.ModeZstdDict}, false)
	dec := decoder(t, hub)
	c := dial(t, ts)
	join(t, hub, c, "arena", 1)
	for i := range 10 {
		if _, err := hub.Publish("arena", movement(i, i)); err != nil {
			t.Fatal(err)
		}
	}
	hub.Flush()
	kind, msgs := readFrame(t, c, dec)
	if kind != compress.KindZstdDict || len(msgs) != 10 || msgs[9] != string(movement(9, 9)) {
		t.Fatalf("kind %#x, %d messages; want zstd-dict with the 10 messages", kind, len(msgs))
	}
}

// TestSlowClientIsCutOff: a client that stops reading fills its TCP
// buffers, then its send queue; the hub drops it with 1013 while Publish
// keeps returning at once (the loop below would hang otherwise).
func TestSlowClientIsCutOff(t *testing.T) {
	cfg := testConfig()
	cfg.SendQueue = 8
	hub, ts := startHub(t, cfg, true)
	slow := dial(t, ts)
	join(t, hub, slow, "arena", 1)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()

	big := make([]byte, 16<<10)
	_, _ = rand.Read(big) // incompressible: the frames stay 16 KiB
	dropped := func() float64 { return testutil.ToFloat64(hub.metrics.dropped[ReasonSlow]) }
	for i := 0; dropped() == 0; i++ {
		if i == 100_000 {
			t.Fatal("100000 messages published and the client that does not read was not dropped")
		}
		if _, err := hub.Publish("arena", big); err != nil {
			t.Fatal(err)
		}
	}

	// Reading again, the slow client gets what was in flight, then the close.
	var err error
	for err == nil {
		_, _, err = slow.Read(ctx)
	}
	if code := websocket.CloseStatus(err); code != websocket.StatusTryAgainLater {
		t.Fatalf("slow client: %v (code %d), want close code 1013 (try again later)", err, code)
	}
	waitFor(t, "the slow client to leave the room", func() bool { return hub.Members("arena") == 0 })
	if n := dropped(); n != 1 {
		t.Fatalf("dropped{slow} = %v, want 1", n)
	}
}

func TestShutdownClosesWithGoingAway(t *testing.T) {
	hub, ts := startHub(t, testConfig(), true)
	conns := []*websocket.Conn{dial(t, ts), dial(t, ts)}
	waitFor(t, "2 clients", func() bool { return hub.Clients() == 2 })

	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	closed := make(chan error, 1)
	go func() { closed <- hub.Close(ctx) }()
	for _, c := range conns {
		_, _, err := c.Read(ctx)
		if code := websocket.CloseStatus(err); code != websocket.StatusGoingAway {
			t.Fatalf("read after shutdown: %v, want close code 1001 (going away)", err)
		}
	}
	if err := <-closed; err != nil {
		t.Fatalf("Close: %v", err)
	}
	if hub.Clients() != 0 {
		t.Fatalf("%d clients left after Close", hub.Clients())
	}
	// A new connection is refused.
	if _, resp, err := websocket.Dial(ctx, wsURL(ts), nil); err == nil || resp == nil || resp.StatusCode != http.StatusServiceUnavailable {
		t.Fatalf("dial after Close: %v, want 503", err)
	}
}

func TestOriginCheck(t *testing.T) {
	cfg := testConfig()
	cfg.Origins = []string{"game.example.com"}
	_, ts := startHub(t, cfg, true)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()

	_, resp, err := websocket.Dial(ctx, wsURL(ts), &websocket.DialOptions{HTTPHeader: http.Header{"Origin": {"https://evil.example.net"}}})
	if err == nil || resp == nil || resp.StatusCode != http.StatusForbidden {
		t.Fatalf("foreign origin: %v, want 403", err)
	}
	conn, _, err := websocket.Dial(ctx, wsURL(ts), &websocket.DialOptions{HTTPHeader: http.Header{"Origin": {"https://game.example.com"}}})
	if err != nil {
		t.Fatalf("allowed origin: %v", err)
	}
	conn.Close(websocket.StatusNormalClosure, "")
}

func TestOversizeMessageCloses1009(t *testing.T) {
	cfg := testConfig()
	cfg.MaxMessageBytes = 1024
	hub, ts := startHub(t, cfg, true)
	c := dial(t, ts)
	send(t, c, `{"type":"join","room":"`+strings.Repeat("x", 2000)+`"}`)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	_, _, err := c.Read(ctx)
	if code := websocket.CloseStatus(err); code != websocket.StatusMessageTooBig {
		t.Fatalf("after a 2 KB message: %v, want close code 1009", err)
	}
	waitFor(t, "the drop to be counted", func() bool { return testutil.ToFloat64(hub.metrics.dropped[ReasonReadLimit]) == 1 })
}

func TestBadMessageCloses1008(t *testing.T) {
	hub, ts := startHub(t, testConfig(), true)
	for _, msg := range []string{`not json`, `{"type":"dance"}`, `{"type":"publish","room":"nowhere","data":1}`, `{"type":"join","room":""}`} {
		c := dial(t, ts)
		send(t, c, msg)
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		_, _, err := c.Read(ctx)
		cancel()
		var ce websocket.CloseError
		if !errors.As(err, &ce) || ce.Code != websocket.StatusPolicyViolation || ce.Reason == "" {
			t.Fatalf("%s: %v, want close code 1008 with a reason", msg, err)
		}
	}
	waitFor(t, "4 drops", func() bool { return testutil.ToFloat64(hub.metrics.dropped[ReasonBadMessage]) == 4 })
}

// TestBadRoomNeverReachesOnJoin: a room name the hub refuses (too long, a
// NUL; encoding/json already makes invalid UTF-8 U+FFFD) closes the client before the OnJoin hook, and the
// database a hook asks, sees it.
func TestBadRoomNeverReachesOnJoin(t *testing.T) {
	hub, ts := startHub(t, testConfig(), true)
	var asked atomic.Int32
	hub.SetHooks(Hooks{OnJoin: func(context.Context, *Client, string) error {
		asked.Add(1)
		return nil
	}})
	for _, room := range []string{strings.Repeat("x", MaxRoomName+1), `a\u0000b`} {
		c := dial(t, ts)
		send(t, c, `{"type":"join","room":"`+room+`"}`)
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		_, _, err := c.Read(ctx)
		cancel()
		var ce websocket.CloseError
		if !errors.As(err, &ce) || ce.Code != websocket.StatusPolicyViolation || !strings.Contains(ce.Reason, "room name") {
			t.Fatalf("join %.20q: %v, want close code 1008 naming the room name", room, err)
		}
	}
	if n := asked.Load(); n != 0 {
		t.Fatalf("OnJoin was asked %d time(s) about a room the hub refuses", n)
	}
	c := dial(t, ts)
	join(t, hub, c, "lobby", 1)
	if n := asked.Load(); n != 1 {
		t.Fatalf("OnJoin asked %d time(s) for a good room, want 1", n)
	}
}

// TestJoinTryAgain: a hook that cannot decide (its backend is down) closes
// the client with 1013, try again later, not 1008 as for a bad message.
func TestJoinTryAgain(t *testing.T) {
	hub, ts := startHub(t, testConfig(), true)
	hub.SetHooks(Hooks{OnJoin: func(context.Context, *Client, string) error {
		return fmt.Errorf("room lookup failed: %w", ErrTryAgain)
	}})
	c := dial(t, ts)
	send(t, c, `{"type":"join","room":"lobby"}`)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	_, _, err := c.Read(ctx)
	var ce websocket.CloseError
	if !errors.As(err, &ce) || ce.Code != websocket.StatusTryAgainLater || !strings.Contains(ce.Reason, "room lookup failed") {
		t.Fatalf("%v, want close code 1013 with the hook's reason", err)
	}
	waitFor(t, "the drop counted as unavailable", func() bool { return testutil.ToFloat64(hub.metrics.dropped[ReasonUnavailable]) == 1 })
	if n := testutil.ToFloat64(hub.metrics.dropped[ReasonBadMessage]); n != 0 {
		t.Fatalf("counted as a bad message %v time(s)", n)
	}
}

func TestPingTimeoutDrops(t *testing.T) {
	cfg := testConfig()
	cfg.PingInterval = 20 * time.Millisecond
	cfg.PingTimeout = 50 * time.Millisecond
	hub, ts := startHub(t, cfg, true)
	_ = dial(t, ts) // never reads, so never answers a ping
	waitFor(t, "the ping timeout", func() bool { return testutil.ToFloat64(hub.metrics.dropped[ReasonPingTimeout]) == 1 })
	waitFor(t, "the client to be gone", func() bool { return hub.Clients() == 0 })
}

func TestBatchFormat(t *testing.T) {
	msgs := [][]byte{[]byte("one"), {}, bytes.Repeat([]byte{0, 0xff, '\n'}, 100)}
	var batch []byte
	for _, m := range msgs {
		batch = AppendMessage(batch, m)
	}
	var got [][]byte
	if err := SplitBatch(batch, func(m []byte) error { got = append(got, m); return nil }); err != nil {
		t.Fatal(err)
	}
	if len(got) != len(msgs) {
		t.Fatalf("%d messages, want %d", len(got), len(msgs))
	}
	for i := range msgs {
		if !bytes.Equal(got[i], msgs[i]) {
			t.Fatalf("message %d = %q, want %q", i, got[i], msgs[i])
		}
	}
	for _, bad := range [][]byte{[]byte{0x05, 'a'}, []byte{0x80}} {
		if err := SplitBatch(bad, func([]byte) error { return nil }); !errors.Is(err, ErrBadBatch) {
			t.Fatalf("SplitBatch(%x) = %v, want ErrBadBatch", bad, err)
		}
	}
}

func TestConfigValidate(t *testing.T) {
	if err := testConfig().Validate(); err != nil {
		t.Fatal(err)
	}
	bad := testConfig()
	bad.Path = "ws"
	bad.SendQueue = 0
	bad.PingTimeout = 0
	bad.Origins = []string{"[bad"}
	err := bad.Validate()
	for _, want := range []string{"REALTIME_PATH", "REALTIME_SEND_QUEUE", "REALTIME_PING_TIMEOUT", "REALTIME_ORIGINS"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("Validate() = %v, want it to name %s", err, want)
		}
	}
}

func TestMetricNames(t *testing.T) {
	reg := prometheus.NewRegistry()
	hub, err := NewHub(testConfig(), compress.FrameConfig{}, reg, "svc", slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	defer hub.Close(context.Background())
	hub.metrics.fanout.Observe(0)
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]bool{}
	for _, mf := range mfs {
		got[mf.GetName()] = true
	}
	for _, name := range []string{"svc_realtime_connections", "svc_realtime_messages_sent_total", "svc_realtime_messages_received_total",
		"svc_realtime_frames_sent_total", "svc_realtime_bytes_sent_total", "svc_realtime_clients_dropped_total", "svc_realtime_fanout_duration_seconds"} {
		if !got[name] {
			t.Errorf("metric %s is not registered", name)
		}
	}
	if _, err := NewHub(testConfig(), compress.FrameConfig{}, reg, "svc", slog.New(slog.NewTextHandler(io.Discard, nil))); err == nil {
		t.Error("a second hub on the same registry must fail")
	}
}
