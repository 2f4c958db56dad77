package realtime

import (
	"bufio"
	"context"
	"encoding/binary"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/svcgen/svcgen/platform/compress"
)

// The movement replay: benchPlayers players in rooms of benchRoomSize,
// each sending benchRate updates a second; every update goes to the other
// members of its room. One iteration replays one second of play (benchRate
// ticks) as fast as the hub takes it.
const (
	benchPlayers  = 1000
	benchRoomSize = 10
	benchRate     = 20
)

// countingListener counts the bytes the server writes on its connections:
// the WebSocket frames, headers included, as they go on the wire.
type countingListener struct {
	net.Listener
	written *atomic.Int64
}

func (l countingListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	return countingConn{Conn: c, written: l.written}, nil
}

type countingConn struct {
	net.Conn
	written *atomic.Int64
}

func (c countingConn) Write(p []byte) (int, error) {
	n, err := c.Conn.Write(p)
	c.written.Add(int64(n))
	return n, err
}

// cpuTime is the process's user + system CPU time so far.
func cpuTime(tb testing.TB) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		tb.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// benchHub is a hub on a loopback server with n connected clients: in a
// child process that reads and discards (onFrame nil), so that the CPU
// measured is the server's alone, or in this process, handing every frame
// to onFrame.
type benchHub struct {
	hub     *Hub
	ts      *httptest.Server
	written *atomic.Int64
	conns   []*websocket.Conn
	wg      sync.WaitGroup
}

func newBenchHub(tb testing.TB, cfg Config, frame compress.FrameConfig, n int, onFrame func(i int, frame []byte)) *benchHub {
	tb.Helper()
	hub, err := newHub(cfg, frame, prometheus.NewRegistry(), "bench", slog.New(slog.NewTextHandler(io.Discard, nil)), false)
	if err != nil {
		tb.Fatal(err)
	}
	b := &benchHub{hub: hub, written: new(atomic.Int64)}
	mux := http.NewServeMux()
	mux.Handle("GET /ws", hub)
	b.ts = httptest.NewUnstartedServer(mux)
	b.ts.Listener = countingListener{Listener: b.ts.Listener, written: b.written}
	b.ts.Start()
	tb.Cleanup(b.close)

	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	url := "ws" + strings.TrimPrefix(b.ts.URL, "http") + "/ws"
	if onFrame == nil {
		startClientProcess(tb, url, n, benchRoomSize)
		waitClients(tb, func() bool { return hub.Clients() == n && memberships(hub) == n })
		return b
	}
	for i := range n {
		conn, _, err := websocket.Dial(ctx, url, nil)
		if err != nil {
			tb.Fatalf("client %d: %v", i, err)
		}
		conn.SetReadLimit(4 * MaxBatchBytes)
		b.conns = append(b.conns, conn)
		b.wg.Add(1)
		go func() {
			defer b.wg.Done()
			var buf []byte
			for {
				_, r, err := conn.Reader(context.Background())
				if err != nil {
					return
				}
				if onFrame == nil {
					if _, err := io.Copy(io.Discard, r); err != nil {
						return
					}
					continue
				}
				if buf, err = readAll(buf[:0], r); err != nil {
					return
				}
				onFrame(i, buf)
			}
		}()
	}
	waitClients(tb, func() bool { return hub.Clients() == n })
	return b
}

// benchClientsEnv makes the test binary a client process: "URL N ROOMSIZE".
const benchClientsEnv = "REALTIME_BENCH_CLIENTS"

// startClientProcess runs n clients in a child process (this test binary
// again) that join rooms of roomSize and discard what they receive. It
// ends when the hub closes the connections, or when this process goes.
func startClientProcess(tb testing.TB, url string, n, roomSize int) {
	tb.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$", "-test.bench=^$")
	cmd.Env = append(os.Environ(), fmt.Sprintf("%s=%s %d %d", benchClientsEnv, url, n, roomSize))
	cmd.Stderr = os.Stderr
	stdin, err := cmd.StdinPipe()
	if err != nil {
		tb.Fatal(err)
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		tb.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		tb.Fatalf("start the client process: %v", err)
	}
	tb.Cleanup(func() {
		stdin.Close() // the child exits when its stdin closes
		_ = cmd.Wait()
	})
	line, err := bufio.NewReader(out).ReadString('\n')
	if err != nil || line != "ready\n" {
		tb.Fatalf("client process: %q, %v", line, err)
	}
}

// runBenchClients is the client process: spec is "URL N ROOMSIZE".
func runBenchClients(spec string) int {
	var (
		url     string
		n, size int
		wg      sync.WaitGroup
		ctx     = context.Background()
	)
	if _, err := fmt.Sscan(spec, &url, &n, &size); err != nil {
		fmt.Fprintf(os.Stderr, "%s=%q: %v\n", benchClientsEnv, spec, err)
		return 2
	}
	for i := range n {
		dctx, cancel := context.WithTimeout(ctx, time.Minute)
		conn, _, err := websocket.Dial(dctx, url, nil)
		if err == nil {
			conn.SetReadLimit(4 * MaxBatchBytes)
			err = conn.Write(dctx, websocket.MessageText, fmt.Appendf(nil, `{"type":"join","room":"room-%d"}`, i/size))
		}
		cancel()
		if err != nil {
			fmt.Fprintf(os.Stderr, "client %d: %v\n", i, err)
			return 1
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer conn.CloseNow()
			for {
				_, r, err := conn.Reader(ctx)
				if err != nil {
					return
				}
				if _, err := io.Copy(io.Discard, r); err != nil {
					return
				}
			}
		}()
	}
	fmt.Println("ready")
	go func() {
		_, _ = io.Copy(io.Discard, os.Stdin)
		os.Exit(0) // the benchmark is gone
	}()
	wg.Wait()
	return 0
}

// memberships counts (client, room) pairs.
func memberships(h *Hub) int {
	h.mu.RLock()
	defer h.mu.RUnlock()
	n := 0
	for _, members := range h.rooms {
		n += len(members)
	}
	return n
}

func waitClients(tb testing.TB, cond func() bool) {
	tb.Helper()
	deadline := time.Now().Add(time.Minute)
	for !cond() {
		if time.Now().After(deadline) {
			tb.Fatal("the benchmark's clients did not get ready within a minute")
		}
		time.Sleep(time.Millisecond)
	}
}

func (b *benchHub) close() {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	_ = b.hub.Close(ctx)
	for _, c := range b.conns {
		c.CloseNow()
	}
	b.wg.Wait()
	b.ts.Close()
}

// replayCase is one way to send the stream.
type replayCase struct {
	name  string
	frame compress.FrameConfig
	tick  bool // batch per tick, else one frame per message
}

var replayCases = []replayCase{
	{name: "raw/per-message", frame: compress.FrameConfig{Threshold: 1 << 30}},
	{name: "lz4/per-message", frame: compress.FrameConfig{Mode: compress.ModeLZ4, Threshold: 1}},
	{name: "raw/tick", frame: compress.FrameConfig{Threshold: 1 << 30}, tick: true},
	{name: "lz4/tick", frame: compress.FrameConfig{Mode: compress.ModeLZ4}, tick: true},
	{name: "zstd-dict/per-message", frame: compress.FrameConfig{Mode: compress.ModeZstdDict}},
	{name: "zstd-dict/tick", frame: compress.FrameConfig{Mode: compress.ModeZstdDict}, tick: true},
}

// replayResult is what one replay measured.
type replayResult struct {
	cpu        time.Duration
	wire       int64 // bytes written on the connections
	deliveries int64 // messages delivered (updates x other room members)
	updates    int64
}

// replayMovement replays seconds of play through a hub with benchPlayers
// connected clients and measures the process CPU and the bytes written.
func replayMovement(tb testing.TB, rc replayCase, seconds int, timer func(start bool)) replayResult {
	tb.Helper()
	cfg := Config{
		Path:            "/ws",
		PingInterval:    time.Hour,
		PingTimeout:     time.Minute,
		WriteTimeout:    time.Minute,
		SendQueue:       benchRate * benchRoomSize * 4, // the replay runs faster than real time
		MaxMessageBytes: 4096,
	}
	if rc.tick {
		cfg.Tick = time.Second / benchRate
	}
	bh := newBenchHub(tb, cfg, rc.frame, benchPlayers, nil)
	hub := bh.hub
	var written atomic.Int64
	wrote := make(chan struct{}, 1)
	hub.written = func(n int) { // set before any message is published
		written.Add(int64(n))
		select {
		case wrote <- struct{}{}:
		default:
		}
	}
	// waitWritten waits until n messages have been written to the clients.
	waitWritten := func(n int64) {
		deadline := time.Now().Add(2 * time.Minute)
		for written.Load() < n {
			select {
			case <-wrote:
			case <-time.After(time.Second):
				if d := dropped(hub); d > 0 {
					tb.Fatalf("%s: %v clients dropped during the replay", rc.name, d)
				}
				if time.Now().After(deadline) {
					tb.Fatalf("%s: %d of %d messages written after 2 minutes", rc.name, written.Load(), n)
				}
			}
		}
	}
	// The players, with the rooms their clients joined.
	type player struct {
		c    *Client
		room string
	}
	var players []player
	hub.mu.RLock()
	for room, members := range hub.rooms {
		for c := range members {
			players = append(players, player{c: c, room: room})
		}
	}
	hub.mu.RUnlock()
	// One second of updates, made before the clock starts; replayed each second.
	msgs := make([][]byte, benchRate*benchPlayers)
	for t := range benchRate {
		for p := range benchPlayers {
			msgs[t*benchPlayers+p] = movement(p, t)
		}
	}

	if timer != nil {
		timer(true)
	}
	wire0, cpu0 := bh.written.Load(), cpuTime(tb)
	var res replayResult
	for range seconds {
		for t := range benchRate {
			for p, pl := range players {
				n, err := hub.publish(pl.room, msgs[t*benchPlayers+p], pl.c)
				if err != nil {
					tb.Fatal(err)
				}
				res.deliveries += int64(n)
				res.updates++
			}
			hub.Flush()
			// A tick lasts 50 ms in play: the writers are done long before
			// the next. Waiting for them here keeps one tick in one batch
			// while replaying faster than real time.
			waitWritten(res.deliveries)
		}
	}
	res.cpu = cpuTime(tb) - cpu0
	res.wire = bh.written.Load() - wire0
	if timer != nil {
		timer(false)
	}
	return res
}

func dropped(h *Hub) float64 {
	var n float64
	for _, c := range h.metrics.dropped {
		n += testutil.ToFloat64(c)
	}
	return n
}

var (
	rawOnce sync.Once
	rawWire float64 // raw per-message bytes per delivered message, measured in this run
)

// BenchmarkMovement replays the movement stream through the hub for each
// way of sending it and reports bytes on the wire and the server's process
// CPU (the clients run in a child process) per delivered message, with the wire bytes
// as a ratio of raw per-message frames measured in the same run:
//
//	go test -run '^$' -bench Movement -benchtime 1x ./internal/platform/realtime
func BenchmarkMovement(b *testing.B) {
	for _, rc := range replayCases {
		b.Run(rc.name, func(b *testing.B) {
			if rc.name != replayCases[0].name { // the baseline, unless this is it
				rawOnce.Do(func() {
					r := replayMovement(b, replayCases[0], 1, nil)
					rawWire = float64(r.wire) / float64(r.deliveries)
				})
			}
			b.StopTimer()
			res := replayMovement(b, rc, b.N, func(start bool) {
				if start {
					b.StartTimer()
				} else {
					b.StopTimer()
				}
			})
			perMsg := float64(res.wire) / float64(res.deliveries)
			rawOnce.Do(func() { rawWire = perMsg })
			b.ReportMetric(perMsg, "wire-B/msg")
			b.ReportMetric(float64(res.cpu.Nanoseconds())/float64(res.deliveries), "cpu-ns/msg")
			b.ReportMetric(float64(res.cpu.Nanoseconds())/float64(res.updates), "cpu-ns/update")
			b.ReportMetric(perMsg/rawWire, "wire-vs-raw")
			b.ReportMetric(0, "ns/op") // one op is a second of play: its wall time says little
		})
	}
}

// BenchmarkFanout publishes one message at a time to a room of 1000
// clients on 127.0.0.1 (tick 0: sent at once) and waits until every client
// has decoded it; it reports deliveries per second and the p50/p99 time
// from Publish to a client's decoded message.
func BenchmarkFanout(b *testing.B) {
	const clients = 1000
	var (
		mu        sync.Mutex
		latencies []time.Duration
		received  atomic.Int64
		round     = make(chan struct{}, 1)
	)
	decoders := make([]*Decoder, clients)
	for i := range decoders {
		d, err := NewDecoder(compress.FrameConfig{})
		if err != nil {
			b.Fatal(err)
		}
		decoders[i] = d
	}
	cfg := Config{Path: "/ws", PingInterval: time.Hour, PingTimeout: time.Minute, WriteTimeout: time.Minute, SendQueue: 64, MaxMessageBytes: 4096}
	bh := newBenchHub(b, cfg, compress.FrameConfig{}, clients, func(i int, frame []byte) {
		now := time.Now().UnixNano()
		_ = decoders[i].Decode(frame, func(msg []byte) error {
			sent := int64(binary.LittleEndian.Uint64(msg))
			mu.Lock()
			latencies = append(latencies, time.Duration(now-sent))
			mu.Unlock()
			if received.Add(1)%clients == 0 {
				round <- struct{}{}
			}
			return nil
		})
	})
	hub := bh.hub
	i := 0
	hub.mu.RLock()
	conns := make([]*Client, 0, clients)
	for c := range hub.clients {
		conns = append(conns, c)
	}
	hub.mu.RUnlock()
	for _, c := range conns {
		if err := c.Join("arena"); err != nil {
			b.Fatal(err)
		}
		i++
	}
	msg := make([]byte, 300)
	for j := 8; j < len(msg); j++ {
		msg[j] = 'a' + byte(j%26)
	}

	b.ResetTimer()
	start := time.Now()
	for b.Loop() {
		binary.LittleEndian.PutUint64(msg, uint64(time.Now().UnixNano()))
		if n, err := hub.Publish("arena", msg); err != nil || n != clients {
			b.Fatalf("Publish = %d, %v; want %d", n, err, clients)
		}
		select {
		case <-round:
		case <-time.After(time.Minute):
			b.Fatalf("%d of %d deliveries after a minute", received.Load()%clients, clients)
		}
	}
	elapsed := time.Since(start)
	b.StopTimer()
	mu.Lock()
	slices.Sort(latencies)
	p50, p99 := latencies[len(latencies)/2], latencies[len(latencies)*99/100]
	mu.Unlock()
	b.ReportMetric(float64(received.Load())/elapsed.Seconds(), "msgs/s")
	b.ReportMetric(float64(p50.Microseconds()), "p50-µs")
	b.ReportMetric(float64(p99.Microseconds()), "p99-µs")
}
