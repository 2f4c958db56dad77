package realtime

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/redis/go-redis/v9"

	"github.com/svcgen/svcgen/platform/compress"
)

// testRedisURL is REDIS_URL, else SVCGEN_TEST_REDIS_URL (svcgen's own
// tests); the tests of rooms across replicas skip without either (start
// one with `docker compose up -d redis`).
func testRedisURL(tb testing.TB) string {
	tb.Helper()
	u := os.Getenv("REDIS_URL")
	if u == "" {
		u = os.Getenv("SVCGEN_TEST_REDIS_URL")
	}
	if u == "" {
		tb.Skip("REDIS_URL is not set: the tests of rooms across replicas need a Redis server " +
			"(docker compose up -d redis, then REDIS_URL=redis://127.0.0.1:6379/0)")
	}
	return u
}

// testRedis connects to url and fails the test when Redis does not answer.
func testRedis(tb testing.TB, redisURL string) redis.UniversalClient {
	tb.Helper()
	rdb, err := NewRedis(redisURL)
	if err != nil {
		tb.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := rdb.Ping(ctx).Err(); err != nil {
		_ = rdb.Close()
		tb.Fatalf("cannot reach Redis at %s: %v", redisURL, err)
	}
	return rdb
}

// testPrefix keeps each test's channels and keys apart from the others'
// on a shared Redis.
func testPrefix(tb testing.TB) string {
	return fmt.Sprintf("test-%s-%d:", tb.Name(), time.Now().UnixNano())
}

func relayConfig(prefix string) Config {
	cfg := testConfig()
	cfg.RedisPrefix = prefix
	cfg.PresenceInterval = 200 * time.Millisecond
	cfg.RedisTimeout = time.Second
	return cfg
}

// replica is one hub of a test "deployment", served on its own listener
// and spanning replicas through its own Redis client.
type replica struct {
	hub *Hub
	ts  *httptest.Server
}

// startReplica starts a hub on redisURL ("": alone, without Redis); the
// hub closes before its Redis client at the end of the test.
func startReplica(tb testing.TB, cfg Config, redisURL string) replica {
	tb.Helper()
	hub, err := newHub(cfg, compress.FrameConfig{}, prometheus.NewRegistry(), "test", slog.New(slog.NewTextHandler(io.Discard, nil)), true)
	if err != nil {
		tb.Fatal(err)
	}
	if redisURL != "" {
		rdb := testRedis(tb, redisURL)
		tb.Cleanup(func() { _ = rdb.Close() }) // after the hub's close, registered below
		if err := hub.UseRedis(rdb); err != nil {
			tb.Fatal(err)
		}
	}
	mux := http.NewServeMux()
	mux.Handle("GET "+cfg.Path, hub)
	ts := httptest.NewServer(mux)
	tb.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		if err := hub.Close(ctx); err != nil {
			tb.Errorf("hub close: %v", err)
		}
		ts.Close()
	})
	return replica{hub: hub, ts: ts}
}

// waitSubscribed waits until n replicas are subscribed to room: messages
// published from then on reach them all.
func waitSubscribed(tb testing.TB, rdb redis.UniversalClient, prefix, room string, n int64) {
	tb.Helper()
	channel := prefix + "room:" + room
	deadline := time.Now().Add(20 * time.Second)
	for {
		got, err := rdb.PubSubNumSub(context.Background(), channel).Result()
		if err == nil && got[channel] == n {
			return
		}
		if time.Now().After(deadline) {
			tb.Fatalf("gave up waiting for %d replicas to subscribe to %s: %v %v", n, channel, got, err)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// joinLocal sends a join and waits until the hub has it.
func joinLocal(t *testing.T, hub *Hub, conn *websocket.Conn, room string, members int) {
	t.Helper()
	send(t, conn, `{"type":"join","room":"`+room+`"}`)
	waitFor(t, fmt.Sprintf("%d local members in %s", members, room), func() bool { return hub.LocalMembers(room) == members })
}

// seqMsg is what the tests' clients publish.
type seqMsg struct {
	From string `json:"from"`
	Seq  int    `json:"seq"`
}

// readUntil reads conn's messages until one equal to end and returns
// those before it.
func readUntil(t *testing.T, conn *websocket.Conn, end string) []string {
	t.Helper()
	dec, err := NewDecoder(compress.FrameConfig{})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for {
		_, msgs := readFrame(t, conn, dec)
		for _, m := range msgs {
			if m == end {
				return got
			}
			got = append(got, m)
		}
	}
}

// checkSequences checks that msgs hold, for each publisher of want,
// exactly its messages 0..want-1 once each and in order.
func checkSequences(t *testing.T, who string, msgs []string, want map[string]int) {
	t.Helper()
	next := map[string]int{}
	for _, raw := range msgs {
		var m seqMsg
		if err := json.Unmarshal([]byte(raw), &m); err != nil {
			t.Fatalf("%s: message %q: %v", who, raw, err)
		}
		if _, ok := want[m.From]; !ok {
			t.Fatalf("%s got a message of %q, which it should not: %s", who, m.From, raw)
		}
		if m.Seq != next[m.From] {
			t.Fatalf("%s: %s's message %d arrived where %d was due (lost, repeated or out of order)", who, m.From, m.Seq, next[m.From])
		}
		next[m.From]++
	}
	for from, n := range want {
		if next[from] != n {
			t.Errorf("%s got %d of %s's %d messages", who, next[from], from, n)
		}
	}
}

func publishSeq(t *testing.T, conn *websocket.Conn, room, from string, n int) {
	t.Helper()
	for i := range n {
		send(t, conn, fmt.Sprintf(`{"type":"publish","room":%q,"data":{"from":%q,"seq":%d}}`, room, from, i))
	}
}

// Three replicas on one Redis: what a client publishes reaches the room's
// members on every replica once, in the order it was published, and
// Members counts all of them.
func TestRelayAcrossReplicas(t *testing.T) {
	redisURL := testRedisURL(t)
	prefix := testPrefix(t)
	cfg := relayConfig(prefix)
	cfg.Tick = 10 * time.Millisecond // the batching path, as in production
	cfg.SendQueue = 4096             // the readers read once everything is sent
	reps := []replica{startReplica(t, cfg, redisURL), startReplica(t, cfg, redisURL), startReplica(t, cfg, redisURL)}
	a := dial(t, reps[0].ts)  // publishes
	a2 := dial(t, reps[0].ts) // a's neighbour on the same replica: must not get a's messages twice
	b := dial(t, reps[1].ts)  // publishes too
	c := dial(t, reps[2].ts)
	other := dial(t, reps[2].ts) // in another room: gets nothing of arena's
	joinLocal(t, reps[0].hub, a, "arena", 1)
	joinLocal(t, reps[0].hub, a2, "arena", 2)
	joinLocal(t, reps[1].hub, b, "arena", 1)
	joinLocal(t, reps[2].hub, c, "arena", 1)
	joinLocal(t, reps[2].hub, other, "elsewhere", 1)

	rdb := testRedis(t, redisURL)
	defer rdb.Close()
	waitSubscribed(t, rdb, prefix, "arena", 3)
	for i, r := range reps {
		waitFor(t, fmt.Sprintf("replica %d to count 4 members in arena", i+1), func() bool { return r.hub.Members("arena") == 4 })
	}
	if n := reps[0].hub.Members("elsewhere"); n != 1 {
		t.Errorf("replica 1 counts %d members in elsewhere, want 1 (on replica 3)", n)
	}
	// A list of rooms in one round trip counts as each room alone does.
	if got := reps[1].hub.MembersOf([]string{"arena", "nobody", "elsewhere"}); !slices.Equal(got, []int{4, 0, 1}) {
		t.Errorf("replica 2 MembersOf(arena, nobody, elsewhere) = %v, want [4 0 1]", got)
	}

	const n = 300
	var wg sync.WaitGroup
	wg.Add(2)
	go func() { defer wg.Done(); publishSeq(t, a, "arena", "a", n) }()
	go func() { defer wg.Done(); publishSeq(t, b, "arena", "b", n) }()
	wg.Wait()
	// Messages of one publisher keep their order; "end" from each
	// publisher's replica then tells the readers that all came (it follows
	// a's messages on replica 1's relay and b's on replica 2's).
	defer func() {
		if !t.Failed() {
			return
		}
		for i, r := range reps {
			m := r.hub.relay.m
			t.Logf("replica %d: published %v received %v dropped %v/%v errors %v up %v", i+1, testutil.ToFloat64(m.published), testutil.ToFloat64(m.received),
				testutil.ToFloat64(m.dropped[RelayDropQueueFull]), testutil.ToFloat64(m.dropped[RelayDropRedisError]), testutil.ToFloat64(m.errors), testutil.ToFloat64(m.up))
		}
	}()
	waitFor(t, "the relays to send everything", func() bool {
		return testutil.ToFloat64(reps[0].hub.relay.m.published) >= n && testutil.ToFloat64(reps[1].hub.relay.m.published) >= n
	})
	send(t, a, `{"type":"publish","room":"arena","data":"end-a"}`)
	send(t, b, `{"type":"publish","room":"arena","data":"end-b"}`)

	checkSequences(t, "a (replica 1)", readUntil(t, a, `"end-b"`), map[string]int{"b": n})
	checkSequences(t, "b (replica 2)", readUntil(t, b, `"end-a"`), map[string]int{"a": n})
	checkSequences(t, "a2 (replica 1, beside a)", readBothEnds(t, a2), map[string]int{"a": n, "b": n})
	checkSequences(t, "c (replica 3)", readBothEnds(t, c), map[string]int{"a": n, "b": n})

	// Broadcast reaches every client of every replica.
	if _, err := reps[1].hub.Broadcast([]byte("to-all")); err != nil {
		t.Fatal(err)
	}
	for i, conn := range []*websocket.Conn{a, a2, b, c, other} {
		if got := readUntil(t, conn, "to-all"); len(got) != 0 {
			t.Errorf("client %d: %q before the broadcast", i, got)
		}
	}

	// CloseRoom on one replica empties the room everywhere.
	reps[2].hub.CloseRoom("arena")
	for i, r := range reps {
		waitFor(t, fmt.Sprintf("replica %d to close arena", i+1), func() bool { return r.hub.LocalMembers("arena") == 0 })
	}
	waitSubscribed(t, rdb, prefix, "arena", 0)
}

// readBothEnds reads a client's messages up to "end-a" and "end-b",
// which come in either order (the two publishers' relays are independent),
// and returns the others.
func readBothEnds(t *testing.T, conn *websocket.Conn) []string {
	t.Helper()
	dec, err := NewDecoder(compress.FrameConfig{})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for ends := 0; ends < 2; {
		_, msgs := readFrame(t, conn, dec)
		for _, m := range msgs {
			switch {
			case m == `"end-a"` || m == `"end-b"`:
				ends++
			case ends == 2:
				t.Fatalf("message %s after both ends", m)
			default:
				got = append(got, m)
			}
		}
	}
	return got
}

// A replica that closes takes only its own clients with it; one that dies
// without a word stops counting after three presence intervals.
func TestRelayReplicaGone(t *testing.T) {
	redisURL := testRedisURL(t)
	prefix := testPrefix(t)
	cfg := relayConfig(prefix)
	reps := []replica{startReplica(t, cfg, redisURL), startReplica(t, cfg, redisURL), startReplica(t, cfg, redisURL)}
	conns := make([]*websocket.Conn, len(reps))
	for i, r := range reps {
		conns[i] = dial(t, r.ts)
		joinLocal(t, r.hub, conns[i], "arena", 1)
	}
	rdb := testRedis(t, redisURL)
	defer rdb.Close()
	waitSubscribed(t, rdb, prefix, "arena", 3)
	waitFor(t, "3 members everywhere", func() bool { return reps[0].hub.Members("arena") == 3 })

	// Replica 3 shuts down: its client gets 1001, its members leave Redis
	// at once, replicas 1 and 2 go on.
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	closed := make(chan error, 1)
	go func() { _, _, err := conns[2].Read(ctx); closed <- err }() // answers the close handshake
	if err := reps[2].hub.Close(ctx); err != nil {
		t.Fatal(err)
	}
	if err := <-closed; websocket.CloseStatus(err) != websocket.StatusGoingAway {
		t.Fatalf("replica 3's client: %v, want 1001 going away", err)
	}
	if n := reps[0].hub.Members("arena"); n != 2 {
		t.Errorf("after replica 3 closed, replica 1 counts %d members, want 2", n)
	}
	waitSubscribed(t, rdb, prefix, "arena", 2)
	send(t, conns[0], `{"type":"publish","room":"arena","data":"still here"}`)
	if got := readUntil(t, conns[1], `"still here"`); len(got) != 0 {
		t.Errorf("replica 2's client got %q first", got)
	}

	// Replica 2 "dies": its relay stops without cleaning up, as a killed
	// process would. Its entry expires; replica 1 keeps serving.
	reps[1].hub.relay.stop(false)
	start := time.Now()
	waitFor(t, "replica 2's members to expire", func() bool { return reps[0].hub.Members("arena") == 1 })
	if took := time.Since(start); took > 10*cfg.PresenceInterval {
		t.Errorf("replica 2's members took %s to expire, want about 3 presence intervals (%s)", took, 3*cfg.PresenceInterval)
	}
	if n, err := reps[0].hub.Publish("arena", []byte("alone")); err != nil || n != 1 {
		t.Errorf("Publish on replica 1 = %d, %v; want 1, nil", n, err)
	}
	if got := readUntil(t, conns[0], "alone"); len(got) != 0 {
		t.Errorf("replica 1's client got %q first", got)
	}
}

// proxy forwards TCP connections to a Redis server until it is closed;
// Close cuts every connection, as a network partition or a Redis restart
// would.
type proxy struct {
	ln     net.Listener
	target string
	conns  []net.Conn
	mu     sync.Mutex
	wg     sync.WaitGroup
}

func startProxy(tb testing.TB, addr, target string) *proxy {
	tb.Helper()
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		tb.Fatal(err)
	}
	p := &proxy{ln: ln, target: target}
	p.wg.Add(1)
	go p.accept()
	tb.Cleanup(p.Close)
	return p
}

func (p *proxy) accept() {
	defer p.wg.Done()
	for {
		in, err := p.ln.Accept()
		if err != nil {
			return
		}
		out, err := net.Dial("tcp", p.target)
		if err != nil {
			_ = in.Close()
			continue
		}
		p.mu.Lock()
		p.conns = append(p.conns, in, out)
		p.mu.Unlock()
		p.wg.Add(2)
		go func() { defer p.wg.Done(); _, _ = io.Copy(out, in); _ = out.Close() }()
		go func() { defer p.wg.Done(); _, _ = io.Copy(in, out); _ = in.Close() }()
	}
}

func (p *proxy) Close() {
	_ = p.ln.Close()
	p.mu.Lock()
	for _, c := range p.conns {
		_ = c.Close()
	}
	p.conns = nil
	p.mu.Unlock()
	p.wg.Wait()
}

// Redis going away degrades a replica to local delivery, without blocking
// its clients; when Redis is back, delivery across replicas resumes.
func TestRelayRedisOutage(t *testing.T) {
	redisURL := testRedisURL(t)
	u, err := url.Parse(redisURL)
	if err != nil {
		t.Fatal(err)
	}
	target := u.Host
	p := startProxy(t, "127.0.0.1:0", target)
	proxied := *u
	proxied.Host = p.ln.Addr().String()

	prefix := testPrefix(t)
	cfg := relayConfig(prefix)
	cfg.RedisTimeout = 300 * time.Millisecond
	r1 := startReplica(t, cfg, proxied.String()) // reaches Redis through the proxy
	r2 := startReplica(t, cfg, redisURL)
	a, a2, b := dial(t, r1.ts), dial(t, r1.ts), dial(t, r2.ts)
	joinLocal(t, r1.hub, a, "arena", 1)
	joinLocal(t, r1.hub, a2, "arena", 2)
	joinLocal(t, r2.hub, b, "arena", 1)
	rdb := testRedis(t, redisURL)
	defer rdb.Close()
	waitSubscribed(t, rdb, prefix, "arena", 2)
	send(t, a, `{"type":"publish","room":"arena","data":"before"}`)
	if got := readUntil(t, b, `"before"`); len(got) != 0 {
		t.Fatalf("b got %q first", got)
	}
	if got := readUntil(t, a2, `"before"`); len(got) != 0 {
		t.Fatalf("a2 got %q first", got)
	}

	// Redis is cut off from replica 1.
	p.Close()
	m := r1.hub.relay.m
	waitFor(t, "replica 1 to notice Redis is gone", func() bool { return testutil.ToFloat64(m.up) == 0 })
	if testutil.ToFloat64(m.outages) < 1 {
		t.Error("relay_outages_total did not count the outage")
	}
	// Local delivery goes on, at once.
	start := time.Now()
	publishSeq(t, a, "arena", "a", 50)
	send(t, a, `{"type":"publish","room":"arena","data":"during"}`)
	checkSequences(t, "a2 during the outage", readUntil(t, a2, `"during"`), map[string]int{"a": 50})
	if took := time.Since(start); took > 5*time.Second {
		t.Errorf("local delivery during the outage took %s: the relay held the hub up", took)
	}
	start = time.Now()
	if n := r1.hub.Members("arena"); n != 2 {
		t.Errorf("Members during the outage = %d, want replica 1's own 2", n)
	}
	if took := time.Since(start); took > 3*cfg.RedisTimeout+time.Second {
		t.Errorf("Members during the outage took %s, want about REDIS_TIMEOUT (%s)", took, cfg.RedisTimeout)
	}
	waitFor(t, "the messages for replica 2 to be counted as dropped", func() bool {
		return testutil.ToFloat64(m.dropped[RelayDropRedisError]) > 0
	})

	// Redis is back (on the same address): replica 1 resubscribes and
	// delivery across replicas resumes; what was published meanwhile is
	// not replayed.
	startProxy(t, proxied.Host, target)
	waitFor(t, "replica 1 to reconnect", func() bool { return testutil.ToFloat64(m.up) == 1 })
	waitSubscribed(t, rdb, prefix, "arena", 2)
	// The publishing side's connection pool may still be backing off its
	// dials: probe until a write goes through.
	sent := testutil.ToFloat64(m.published)
	waitFor(t, "replica 1's relay to write to Redis again", func() bool {
		if _, err := r1.hub.Publish("arena", []byte("probe")); err != nil {
			t.Fatal(err)
		}
		time.Sleep(50 * time.Millisecond)
		return testutil.ToFloat64(m.published) > sent
	})
	send(t, a, `{"type":"publish","room":"arena","data":"after"}`)
	// What the relay wrote once Redis was back arrives late; the rest is
	// lost. Either way no message comes twice nor out of order.
	last := -1
	for _, raw := range readUntil(t, b, `"after"`) {
		var m seqMsg
		if raw == `"during"` || raw == "probe" {
			last = 50
			continue
		}
		if err := json.Unmarshal([]byte(raw), &m); err != nil || m.From != "a" || m.Seq <= last || last == 50 {
			t.Fatalf("b: message %s after a's message %d: repeated or out of order", raw, last)
		}
		last = m.Seq
	}
	for _, m := range readUntil(t, a2, `"after"`) {
		if m != "probe" {
			t.Errorf("a2 got %q before \"after\"", m)
		}
	}
	if _, err := r2.hub.Publish("arena", []byte("back")); err != nil {
		t.Fatal(err)
	}
	for _, conn := range []*websocket.Conn{a, a2} {
		for _, m := range readUntil(t, conn, "back") {
			if m != "probe" {
				t.Errorf("got %q before replica 2's message", m)
			}
		}
	}
}
