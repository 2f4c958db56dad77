package realtime

import (
	"context"
	"encoding/binary"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/svcgen/svcgen/platform/compress"
)

// BenchmarkReplicas compares one hub with three replicas on one Redis, in
// the same run: benchReplicaRooms rooms of benchReplicaMembers clients
// (spread evenly over the replicas), one server-side Publish per op to a
// room in turn from the replica the room's number picks, tick 0 (every
// message at once, so the numbers are the relay's and not the tick's),
// WebSocket clients in this process on 127.0.0.1, with one message in
// flight at a time (window=1: the latency of an idle path) or up to
// benchReplicaWindow (the throughput, with queueing in the latency). It
// reports deliveries per second and the p50/p99 time from Publish to a
// client's decoded message, for all deliveries and, with replicas, for
// those that crossed Redis (two thirds):
//
//	REDIS_URL=redis://127.0.0.1:6379/0 go test -run '^$' -bench Replicas -benchtime 20000x ./internal/platform/realtime
func BenchmarkReplicas(b *testing.B) {
	for _, window := range []int{1, benchReplicaWindow} {
		for _, n := range []int{1, 3} {
			b.Run(fmt.Sprintf("window=%d/replicas=%d", window, n), func(b *testing.B) { benchReplicas(b, n, window) })
		}
	}
}

const (
	benchReplicaRooms   = 10
	benchReplicaMembers = 9
	benchReplicaWindow  = 64
)

func benchReplicas(b *testing.B, replicas, window int) {
	cfg := testConfig()
	cfg.PingInterval, cfg.WriteTimeout = time.Hour, time.Minute
	prefix := testPrefix(b)
	reps := make([]replica, replicas)
	for i := range reps {
		if replicas == 1 {
			reps[i] = startReplica(b, cfg, "")
			continue
		}
		redisURL := testRedisURL(b)
		c := relayConfig(prefix)
		c.PingInterval, c.WriteTimeout = cfg.PingInterval, cfg.WriteTimeout
		reps[i] = startReplica(b, c, redisURL)
	}

	var (
		mu           sync.Mutex
		all, crossed []time.Duration
		received     atomic.Int64
		credit       = make(chan struct{}, window*benchReplicaMembers)
		ctx, cancel  = context.WithCancel(context.Background())
		readers      sync.WaitGroup
	)
	defer func() { cancel(); readers.Wait() }()
	for range cap(credit) {
		credit <- struct{}{}
	}
	for room := range benchReplicaRooms {
		name := fmt.Sprintf("room-%d", room)
		for m := range benchReplicaMembers {
			at := m % replicas
			r := reps[at]
			conn := benchDial(b, r)
			if err := conn.Write(ctx, websocket.MessageText, []byte(`{"type":"join","room":"`+name+`"}`)); err != nil {
				b.Fatal(err)
			}
			dec, err := NewDecoder(compress.FrameConfig{})
			if err != nil {
				b.Fatal(err)
			}
			readers.Add(1)
			go func() {
				defer readers.Done()
				for {
					_, frame, err := conn.Read(ctx)
					if err != nil {
						return
					}
					now := time.Now().UnixNano()
					_ = dec.Decode(frame, func(msg []byte) error {
						d := time.Duration(now - int64(binary.LittleEndian.Uint64(msg)))
						mu.Lock()
						all = append(all, d)
						if int(msg[8]) != at {
							crossed = append(crossed, d)
						}
						mu.Unlock()
						received.Add(1)
						credit <- struct{}{}
						return nil
					})
				}
			}()
		}
		want := benchReplicaMembers / replicas
		for i, r := range reps {
			waitClients(b, func() bool { return r.hub.LocalMembers(name) == want+boolInt(i < benchReplicaMembers%replicas) })
		}
		if replicas > 1 {
			rdb := testRedis(b, testRedisURL(b))
			waitSubscribed(b, rdb, prefix, name, int64(replicas))
			_ = rdb.Close()
		}
	}

	msg := make([]byte, 300)
	for j := 9; j < len(msg); j++ {
		msg[j] = 'a' + byte(j%26)
	}
	b.ResetTimer()
	start := time.Now()
	op := 0
	for b.Loop() {
		for range benchReplicaMembers {
			<-credit
		}
		room := op % benchReplicaRooms
		from := room % replicas
		binary.LittleEndian.PutUint64(msg, uint64(time.Now().UnixNano()))
		msg[8] = byte(from)
		if _, err := reps[from].hub.Publish(fmt.Sprintf("room-%d", room), msg); err != nil {
			b.Fatal(err)
		}
		op++
	}
	want := int64(op * benchReplicaMembers)
	deadline := time.Now().Add(time.Minute)
	for received.Load() < want {
		if time.Now().After(deadline) {
			b.Fatalf("%d of %d deliveries after a minute", received.Load(), want)
		}
		time.Sleep(time.Millisecond)
	}
	elapsed := time.Since(start)
	b.StopTimer()
	mu.Lock()
	defer mu.Unlock()
	b.ReportMetric(float64(received.Load())/elapsed.Seconds(), "msgs/s")
	p50, p99 := percentiles(all)
	b.ReportMetric(float64(p50.Microseconds()), "p50-µs")
	b.ReportMetric(float64(p99.Microseconds()), "p99-µs")
	if replicas > 1 {
		p50, p99 = percentiles(crossed)
		b.ReportMetric(float64(p50.Microseconds()), "cross-p50-µs")
		b.ReportMetric(float64(p99.Microseconds()), "cross-p99-µs")
		b.ReportMetric(float64(len(crossed))/float64(len(all)), "crossed")
	}
	b.ReportMetric(0, "ns/op")
}

func boolInt(v bool) int {
	if v {
		return 1
	}
	return 0
}

func percentiles(d []time.Duration) (p50, p99 time.Duration) {
	if len(d) == 0 {
		return 0, 0
	}
	slices.Sort(d)
	return d[len(d)/2], d[len(d)*99/100]
}

func benchDial(tb testing.TB, r replica) *websocket.Conn {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	conn, _, err := websocket.Dial(ctx, "ws"+r.ts.URL[len("http"):]+"/ws", nil)
	if err != nil {
		tb.Fatal(err)
	}
	conn.SetReadLimit(4 * MaxBatchBytes)
	tb.Cleanup(func() { conn.CloseNow() })
	return conn
}
