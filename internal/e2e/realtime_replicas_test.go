package e2e

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/svcgen/svcgen/generator"
	"github.com/svcgen/svcgen/internal/loadbench"
)

// replicaProbe is a WebSocket client program built inside the generated
// realtime service (it uses the service's own realtime.Decoder and
// coder/websocket): it connects -per clients to each -ws URL, joins -room,
// has two clients (the first and the one a third of the way in: on
// replicas 1 and 2 of three) publish -n messages each, at most -window
// ahead of the slowest reader, and prints what the clients received as
// JSON.
const replicaProbe = `package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/coder/websocket"

	"MODULE/internal/platform/compress"
	"MODULE/internal/platform/realtime"
)

type result struct {
	Deliveries  int64   ` + "`json:\"deliveries\"`" + `
	Expected    int64   ` + "`json:\"expected\"`" + `
	Problems    []string ` + "`json:\"problems\"`" + `
	MsgsPerSec  float64 ` + "`json:\"msgs_per_sec\"`" + `
	P50Us       int64   ` + "`json:\"p50_us\"`" + `
	P99Us       int64   ` + "`json:\"p99_us\"`" + `
	CrossP50Us  int64   ` + "`json:\"cross_p50_us\"`" + `
	CrossP99Us  int64   ` + "`json:\"cross_p99_us\"`" + `
	Crossed     int64   ` + "`json:\"crossed\"`" + `
}

type data struct {
	From int   ` + "`json:\"from\"`" + `
	Seq  int   ` + "`json:\"seq\"`" + `
	T    int64 ` + "`json:\"t\"`" + `
}

func main() {
	urls := flag.String("ws", "", "comma-separated WebSocket URLs, one per replica")
	room := flag.String("room", "arena", "room")
	per := flag.Int("per", 3, "clients per replica")
	n := flag.Int("n", 1000, "messages per publisher")
	window := flag.Int("window", 64, "messages a publisher may be ahead of the slowest reader")
	flag.Parse()
	if err := run(strings.Split(*urls, ","), *room, *per, *n, *window); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}

type client struct {
	conn    *websocket.Conn
	replica int
	got     [2]atomic.Int64 // messages received from publisher 0 and 1
}

func run(urls []string, room string, per, n, window int) error {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	var clients []*client
	for r, u := range urls {
		for range per {
			conn, _, err := websocket.Dial(ctx, u, nil)
			if err != nil {
				return fmt.Errorf("dial %s: %w", u, err)
			}
			conn.SetReadLimit(1 << 20)
			defer conn.CloseNow()
			if err := conn.Write(ctx, websocket.MessageText, []byte(` + "`" + `{"type":"join","room":"` + "`" + `+room+` + "`" + `"}` + "`" + `)); err != nil {
				return err
			}
			clients = append(clients, &client{conn: conn, replica: r})
		}
	}
	fmt.Println("joined") // the test checks the members through the API, then says go
	var line string
	if _, err := fmt.Scanln(&line); err != nil {
		return err
	}

	pubs := []*client{clients[0], clients[len(clients)/3]} // on replicas 1 and 2 of three
	var (
		mu           sync.Mutex
		all, crossed []time.Duration
		problems     []string
		deliveries   atomic.Int64
		wg           sync.WaitGroup
	)
	expected := int64(0)
	for _, c := range clients {
		for _, pub := range pubs {
			if c != pub {
				expected += int64(n)
			}
		}
	}
	start := time.Now()
	for _, c := range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			dec, err := realtime.NewDecoder(compress.FrameConfig{})
			if err != nil {
				panic(err)
			}
			want := int64(0)
			for _, pub := range pubs {
				if pub != c {
					want += int64(n)
				}
			}
			next := [2]int{}
			for have := int64(0); have < want; {
				_, frame, err := c.conn.Read(ctx)
				if err != nil {
					mu.Lock()
					problems = append(problems, fmt.Sprintf("client on replica %d: read after %d of %d: %v", c.replica, have, want, err))
					mu.Unlock()
					return
				}
				now := time.Now().UnixNano()
				_ = dec.Decode(frame, func(msg []byte) error {
					var d data
					if err := json.Unmarshal(msg, &d); err != nil || d.From < 0 || d.From > 1 {
						mu.Lock()
						problems = append(problems, fmt.Sprintf("client on replica %d: message %q", c.replica, msg))
						mu.Unlock()
						return nil
					}
					if d.Seq != next[d.From] {
						mu.Lock()
						problems = append(problems, fmt.Sprintf("client on replica %d: publisher %d's message %d where %d was due", c.replica, d.From, d.Seq, next[d.From]))
						mu.Unlock()
					}
					next[d.From] = d.Seq + 1
					lat := time.Duration(now - d.T)
					mu.Lock()
					all = append(all, lat)
					if pubs[d.From].replica != c.replica {
						crossed = append(crossed, lat)
					}
					mu.Unlock()
					c.got[d.From].Add(1)
					deliveries.Add(1)
					have++
					return nil
				})
			}
		}()
	}
	for p, pub := range pubs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for seq := range n {
				for {
					slowest := int64(n)
					for _, c := range clients {
						if c != pub {
							slowest = min(slowest, c.got[p].Load())
						}
					}
					if int64(seq)-slowest < int64(window) {
						break
					}
					time.Sleep(200 * time.Microsecond)
				}
				msg := fmt.Sprintf(` + "`" + `{"type":"publish","room":%q,"data":{"from":%d,"seq":%d,"t":%d}}` + "`" + `, room, p, seq, time.Now().UnixNano())
				if err := pub.conn.Write(ctx, websocket.MessageText, []byte(msg)); err != nil {
					mu.Lock()
					problems = append(problems, fmt.Sprintf("publisher %d: %v", p, err))
					mu.Unlock()
					return
				}
			}
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)
	pct := func(d []time.Duration, q int) int64 {
		if len(d) == 0 {
			return 0
		}
		slices.Sort(d)
		return d[len(d)*q/100].Microseconds()
	}
	res := result{
		Deliveries: deliveries.Load(), Expected: expected, Problems: problems,
		MsgsPerSec: float64(deliveries.Load()) / elapsed.Seconds(),
		P50Us: pct(all, 50), P99Us: pct(all, 99), CrossP50Us: pct(crossed, 50), CrossP99Us: pct(crossed, 99),
		Crossed: int64(len(crossed)),
	}
	return json.NewEncoder(os.Stdout).Encode(res)
}
`

type probeResult struct {
	Problems   []string `json:"problems"`
	Deliveries int64    `json:"deliveries"`
	Expected   int64    `json:"expected"`
	MsgsPerSec float64  `json:"msgs_per_sec"`
	P50Us      int64    `json:"p50_us"`
	P99Us      int64    `json:"p99_us"`
	CrossP50Us int64    `json:"cross_p50_us"`
	CrossP99Us int64    `json:"cross_p99_us"`
	Crossed    int64    `json:"crossed"`
}

// TestRealtimeReplicas builds the realtime preset's service, runs three
// processes of it on one Redis (STORE=memory, the room created on each)
// and one alone, and drives WebSocket clients on 127.0.0.1 at them: the
// room's members on every replica get every message once, in each
// publisher's order; GET /rooms/{id} counts the members of all replicas
// (polled before the messages start). It logs
// deliveries/s and p50/p99 latency, for one replica and for three.
//
//	go test ./internal/e2e -run TestRealtimeReplicas -count=1 -v
func TestRealtimeReplicas(t *testing.T) {
	if testing.Short() {
		t.Skip("generates, builds and runs a service")
	}
	const (
		per    = 3    // clients per replica
		n      = 2000 // messages per publisher
		window = 64
	)
	name := "rtreplicas-svc"
	module := "example.com/" + name
	dir := GenerateService(t, generator.Options{Name: name, Module: module, Preset: "realtime"}, nil)
	probeDir := filepath.Join(dir, "cmd", "replicaprobe")
	if err := os.MkdirAll(probeDir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(probeDir, "main.go"), []byte(strings.ReplaceAll(replicaProbe, "MODULE", module)), 0o644); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	tmp := t.TempDir()
	bin, probe := filepath.Join(tmp, "svc"), filepath.Join(tmp, "probe")
	if err := loadbench.Build(ctx, dir, "./cmd/"+name, bin); err != nil {
		t.Fatal(err)
	}
	if err := loadbench.Build(ctx, dir, "./cmd/replicaprobe", probe); err != nil {
		t.Fatal(err)
	}
	client := &http.Client{Timeout: 5 * time.Second}
	prefix := fmt.Sprintf("rtreplicas:%d:", time.Now().UnixNano())

	start := func(label string, replicas int, redis bool, tick string) (bases []string, logs []string) {
		for i := range replicas {
			httpAddr, _ := loadbench.FreeAddr()
			adminAddr, _ := loadbench.FreeAddr()
			env := append(os.Environ(), "STORE=memory", "LOG_LEVEL=info", "HTTP_ADDR="+httpAddr, "ADMIN_ADDR="+adminAddr,
				"REALTIME_REDIS_PREFIX="+prefix+label+":", "REALTIME_SEND_QUEUE=4096", "REALTIME_TICK="+tick)
			if redis {
				env = append(env, "REDIS_URL="+redisURL())
			} else {
				env = append(env, "REDIS_URL=")
			}
			logPath := filepath.Join(tmp, fmt.Sprintf("%s-%d.log", label, i))
			startProcess(t, ctx, env, logPath, bin)
			bases = append(bases, "http://"+httpAddr)
			logs = append(logs, logPath)
		}
		for i, b := range bases {
			ready := false
			for deadline := time.Now().Add(30 * time.Second); !ready && time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
				code, err := do(ctx, client, http.MethodGet, b+"/readyz", "")
				ready = err == nil && code == http.StatusOK
			}
			if !ready {
				t.Fatalf("%s: %s/readyz did not answer 200 within 30s:\n%s", label, b, tail(logs[i]))
			}
			if code, err := do(ctx, client, http.MethodPost, b+"/rooms", `{"id":"arena","title":"Arena"}`); err != nil || code != http.StatusCreated && code != http.StatusOK {
				t.Fatalf("POST %s/rooms: %d, %v", b, code, err)
			}
		}
		return bases, logs
	}
	members := func(base string) int {
		resp, err := client.Get(base + "/rooms/arena")
		if err != nil {
			return -1
		}
		defer resp.Body.Close()
		var room struct {
			Members int `json:"members"`
		}
		if json.NewDecoder(resp.Body).Decode(&room) != nil {
			return -1
		}
		return room.Members
	}
	drive := func(label string, bases []string, per int) probeResult {
		var ws []string
		for _, b := range bases {
			ws = append(ws, "ws"+strings.TrimPrefix(b, "http")+"/ws")
		}
		cmd := exec.CommandContext(ctx, probe, "-ws", strings.Join(ws, ","), "-per", fmt.Sprint(per), "-n", fmt.Sprint(n), "-window", fmt.Sprint(window))
		stdin, err := cmd.StdinPipe()
		if err != nil {
			t.Fatal(err)
		}
		stdout, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		var errOut strings.Builder
		cmd.Stderr = &errOut
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		defer func() { _ = cmd.Wait() }()
		lines := bufio.NewScanner(stdout)
		lines.Buffer(nil, 1<<20)
		if !lines.Scan() || lines.Text() != "joined" {
			t.Fatalf("%s: probe: %q\n%s", label, lines.Text(), errOut.String())
		}
		// Every replica counts every replica's members.
		want := per * len(bases)
		deadline := time.Now().Add(20 * time.Second)
		for _, b := range bases {
			for members(b) != want {
				if time.Now().After(deadline) {
					t.Fatalf("%s: GET %s/rooms/arena counts %d members, want %d (all replicas')", label, b, members(b), want)
				}
				time.Sleep(20 * time.Millisecond)
			}
		}
		if len(bases) > 1 {
			time.Sleep(200 * time.Millisecond) // the subscriptions follow the joins by a few ms
		}
		if _, err := io.WriteString(stdin, "go\n"); err != nil {
			t.Fatal(err)
		}
		if !lines.Scan() {
			t.Fatalf("%s: probe ended without a result: %v\n%s", label, lines.Err(), errOut.String())
		}
		var r probeResult
		if err := json.Unmarshal(lines.Bytes(), &r); err != nil {
			t.Fatalf("%s: probe result %q: %v\n%s", label, lines.Text(), err, errOut.String())
		}
		return r
	}

	// The same 9 clients and 2 publishers on one replica, then on three;
	// with the preset's tick and with tick 0 (every message at once).
	type run struct {
		tick         string
		one, three   probeResult
		logs1, logs3 []string
	}
	runs := []*run{{tick: "50ms"}, {tick: "0s"}}
	for _, r := range runs {
		single, logs1 := start("single-"+r.tick, 1, false, r.tick)
		r.one, r.logs1 = drive("1 replica, tick "+r.tick, single, 3*per), logs1
		three, logs3 := start("replica-"+r.tick, 3, true, r.tick)
		r.three, r.logs3 = drive("3 replicas, tick "+r.tick, three, per), logs3
		for _, c := range []struct {
			label string
			r     probeResult
		}{{"1 replica, tick " + r.tick, r.one}, {"3 replicas, tick " + r.tick, r.three}} {
			if len(c.r.Problems) > 0 {
				t.Errorf("%s: %d problems, first: %s", c.label, len(c.r.Problems), c.r.Problems[0])
			}
			if c.r.Deliveries != c.r.Expected {
				t.Errorf("%s: %d deliveries, want %d (each message once to each other member)", c.label, c.r.Deliveries, c.r.Expected)
			}
		}
		if r.three.Crossed == 0 {
			t.Errorf("3 replicas, tick %s: no message crossed replicas", r.tick)
		}
		for _, l := range logs1 {
			if b, _ := os.ReadFile(l); !strings.Contains(string(b), "REDIS_URL is empty: the realtime hub serves this replica's clients only") {
				t.Errorf("the replica without REDIS_URL does not say it serves its own clients only:\n%s", tail(l))
			}
		}
		for _, l := range logs3 {
			if b, _ := os.ReadFile(l); !strings.Contains(string(b), "realtime relay connected to Redis") {
				t.Errorf("a replica with REDIS_URL did not log its relay's connection:\n%s", tail(l))
			}
		}
	}
	t.Logf("realtime preset, one room of %d clients (on 1 replica, or %d on each of 3), 2 publishers x %d messages, window %d, 127.0.0.1, shared machine:", 3*per, per, n, window)
	t.Logf("| tick | replicas | deliveries | msgs/s | p50 | p99 | across Redis: p50 | p99 |")
	t.Logf("|---|---|---|---|---|---|---|---|")
	ms := func(us int64) float64 { return float64(us) / 1000 }
	for _, r := range runs {
		t.Logf("| %s | 1 | %d | %.0f | %.1f ms | %.1f ms | - | - |", r.tick, r.one.Deliveries, r.one.MsgsPerSec, ms(r.one.P50Us), ms(r.one.P99Us))
		t.Logf("| %s | 3 | %d | %.0f | %.1f ms | %.1f ms | %.1f ms | %.1f ms |", r.tick, r.three.Deliveries, r.three.MsgsPerSec,
			ms(r.three.P50Us), ms(r.three.P99Us), ms(r.three.CrossP50Us), ms(r.three.CrossP99Us))
	}
}
