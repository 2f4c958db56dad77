// Package realtime is the service's WebSocket data plane: a Hub of
// connected clients grouped in rooms. Publish fans a message out to a
// room's members, Broadcast to every client.
//
// Each client has a bounded send queue: a client that falls SendQueue
// messages behind is disconnected with close code 1013 (try again later),
// never buffered without limit, and a publisher never waits for a client.
// With a Tick, the messages queued for a client during one tick leave in
// ONE binary frame (a batch, see batch.go), compressed with LZ4 (or zstd
// with a dictionary) when it is large enough to pay; with Tick 0 every
// message leaves at once in a frame of its own. Clients are pinged every
// PingInterval, a frame must be written within WriteTimeout, a client
// message above MaxMessageBytes closes the connection with 1009, and the
// browser's Origin must match Origins (same origin by default).
//
// Alone, a hub serves the clients of its own process. With UseRedis
// (relay.go) the rooms span every replica on the same Redis: a room's
// members see each other whichever replica holds their connection.
//
// Client messages are JSON text (or binary) frames:
//
//	{"type":"join","room":"lobby"}
//	{"type":"leave","room":"lobby"}
//	{"type":"publish","room":"lobby","data":{...}}   data goes, as is, to the room's other members
package realtime

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"path"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/coder/websocket"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/svcgen/svcgen/platform/compress"
	"github.com/svcgen/svcgen/platform/pool"
)

const (
	// MaxRoomName is the longest room name, in bytes.
	MaxRoomName = 128
	// MaxRoomsPerClient is how many rooms one client may be in.
	MaxRoomsPerClient = 32
	// MaxBatchBytes bounds the uncompressed batch of one frame (lower when
	// the frame codec's MaxSize is); a tick's messages beyond it go in
	// further frames.
	MaxBatchBytes = 256 << 10
)

// ErrMessageTooLarge is returned for a message that does not fit in a
// frame (Hub.MaxMessage).
var ErrMessageTooLarge = errors.New("realtime: message above the frame size limit")

// Config tunes the hub; config.go fills it from REALTIME_* variables.
type Config struct {
	// Path is where the endpoint is mounted (GET).
	Path string
	// RedisPrefix starts the Redis channel and key names of UseRedis: the
	// replicas of one service share it ("realtime:" when empty).
	RedisPrefix string
	// Origins are host patterns (path.Match syntax) allowed in a browser's
	// Origin header besides the request's own host; empty: same origin only.
	Origins []string
	// Tick coalesces a client's messages into one frame per tick; 0 sends
	// every message at once in its own frame.
	Tick time.Duration
	// PingInterval is how often clients are pinged.
	PingInterval time.Duration
	// PingTimeout disconnects a client whose pong is later.
	PingTimeout time.Duration
	// WriteTimeout bounds writing one frame.
	WriteTimeout time.Duration
	// MaxMessageBytes is the largest client message (1009 above it).
	MaxMessageBytes int64
	// SendQueue is how many messages may wait for one client; keep it above
	// what a client receives in one tick.
	SendQueue int
	// PresenceInterval is how often, with UseRedis, a replica refreshes its
	// room memberships in Redis and pings its subscription; the members of
	// a replica silent for three intervals stop counting (2s when 0).
	PresenceInterval time.Duration
	// RedisTimeout bounds one Redis call of UseRedis: a publish, a
	// (un)subscribe, a Members read (200ms when 0).
	RedisTimeout time.Duration
}

// Validate reports every bad field, naming its variable.
func (c Config) Validate() error {
	var errs []error
	if !strings.HasPrefix(c.Path, "/") {
		errs = append(errs, fmt.Errorf("REALTIME_PATH=%q: want an absolute path such as /ws", c.Path))
	}
	for _, p := range c.Origins {
		if _, err := path.Match(p, ""); err != nil {
			errs = append(errs, fmt.Errorf("REALTIME_ORIGINS: pattern %q: %v", p, err))
		}
	}
	if c.Tick < 0 {
		errs = append(errs, fmt.Errorf("REALTIME_TICK=%s: want 0 (no batching) or a positive duration such as 50ms", c.Tick))
	}
	positive := func(name string, v time.Duration) {
		if v <= 0 {
			errs = append(errs, fmt.Errorf("%s=%s: want a positive duration", name, v))
		}
	}
	positive("REALTIME_PING_INTERVAL", c.PingInterval)
	positive("REALTIME_PING_TIMEOUT", c.PingTimeout)
	positive("REALTIME_WRITE_TIMEOUT", c.WriteTimeout)
	if c.SendQueue < 1 {
		errs = append(errs, fmt.Errorf("REALTIME_SEND_QUEUE=%d: want 1 or more messages", c.SendQueue))
	}
	if c.MaxMessageBytes < 1 {
		errs = append(errs, fmt.Errorf("REALTIME_MAX_MESSAGE_BYTES=%d: want 1 or more", c.MaxMessageBytes))
	}
	if c.PresenceInterval < 0 {
		errs = append(errs, fmt.Errorf("REALTIME_PRESENCE_INTERVAL=%s: want a positive duration such as 2s (0: the default)", c.PresenceInterval))
	}
	if c.RedisTimeout < 0 {
		errs = append(errs, fmt.Errorf("REALTIME_REDIS_TIMEOUT=%s: want a positive duration such as 200ms (0: the default)", c.RedisTimeout))
	}
	if strings.ContainsAny(c.RedisPrefix, " \t\r\n") {
		errs = append(errs, fmt.Errorf("REALTIME_REDIS_PREFIX=%q: want a name without spaces, such as myservice:rt:", c.RedisPrefix))
	}
	return errors.Join(errs...)
}

// Hooks let the service take part in a client's life; every field may be nil.
type Hooks struct {
	// Authorize runs before the upgrade; an error answers 403 with its text.
	Authorize func(r *http.Request) error
	// OnConnect runs once the client is registered, before its first
	// message is read: join rooms server-side here (c.Join).
	OnConnect func(ctx context.Context, c *Client)
	// OnJoin approves a client's join message; an error closes the
	// connection with 1008 (policy violation) and the error's text, one
	// that wraps ErrTryAgain with 1013 (try again later): the client did
	// nothing wrong and may reconnect, e.g. while the database is down.
	OnJoin func(ctx context.Context, c *Client, room string) error
}

// ErrTryAgain, wrapped in a hook's error, says the hook could not decide
// now (a backend is down): the client is closed with 1013, not 1008.
var ErrTryAgain = errors.New("try again later")

// Hub holds the connected clients and their rooms. It is an http.Handler:
// mount it on the public mux at Config.Path.
type Hub struct {
	log       *slog.Logger
	metrics   *Metrics
	reg       prometheus.Registerer // the relay's metrics go here too
	relay     *relay                // nil: this process's clients only; set by UseRedis
	bufs      *pool.Pool[*[]byte]
	rooms     map[string]map[*Client]struct{}
	clients   map[*Client]struct{}
	stop      chan struct{}
	hooks     Hooks
	frameCfg  compress.FrameConfig
	accept    websocket.AcceptOptions
	dirty     []*Client // clients with queued messages, woken at the next tick
	spare     []*Client
	framer    *compress.Framer // safe for concurrent use
	written   func(msgs int)   // benchmarks: called after each frame write; nil otherwise
	namespace string
	cfg       Config
	wg        sync.WaitGroup
	mu        sync.RWMutex // rooms, clients, Client.rooms, closed
	dirtyMu   sync.Mutex
	nextID    uint64
	maxBatch  int // bytes of batch per frame
	closed    bool
}

// NewHub returns a running hub; stop it with Close. frame is the codec of
// its frames (the compression feature's COMPRESS_FRAME_* settings); its
// metrics are registered on reg under namespace.
func NewHub(cfg Config, frame compress.FrameConfig, reg prometheus.Registerer, namespace string, log *slog.Logger) (*Hub, error) {
	return newHub(cfg, frame, reg, namespace, log, true)
}

// newHub builds a hub; ticking false leaves flushing to Flush (benchmarks
// replay ticks faster than the clock).
func newHub(cfg Config, frame compress.FrameConfig, reg prometheus.Registerer, namespace string, log *slog.Logger, ticking bool) (*Hub, error) {
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("realtime config: %w", err)
	}
	if cfg.RedisPrefix == "" {
		cfg.RedisPrefix = "realtime:"
	}
	if cfg.PresenceInterval == 0 {
		cfg.PresenceInterval = 2 * time.Second
	}
	if cfg.RedisTimeout == 0 {
		cfg.RedisTimeout = 200 * time.Millisecond
	}
	maxBatch := MaxBatchBytes
	if frame.MaxSize > 0 && frame.MaxSize < maxBatch {
		maxBatch = frame.MaxSize
	}
	if maxBatch < 1024 {
		return nil, fmt.Errorf("realtime: the frame size limit (COMPRESS_FRAME_MAX_BYTES=%d) is too small for the hub: want 1024 bytes or more", frame.MaxSize)
	}
	m, err := NewMetrics(reg, namespace)
	if err != nil {
		return nil, err
	}
	h := &Hub{
		log:       log,
		metrics:   m,
		reg:       reg,
		namespace: namespace,
		bufs:      pool.NewSlices[byte](4<<10, 2*MaxBatchBytes),
		rooms:     map[string]map[*Client]struct{}{},
		clients:   map[*Client]struct{}{},
		stop:      make(chan struct{}),
		frameCfg:  frame,
		accept: websocket.AcceptOptions{
			OriginPatterns:  cfg.Origins,
			CompressionMode: websocket.CompressionDisabled, // frames are compressed by the hub, once per batch
		},
		cfg:      cfg,
		maxBatch: maxBatch,
	}
	h.framer, err = compress.NewFramer(h.frameCfg)
	if err != nil {
		return nil, fmt.Errorf("realtime: %w", err)
	}
	if ticking && cfg.Tick > 0 {
		h.wg.Add(1)
		go h.ticker()
	}
	return h, nil
}

// MaxMessage is the largest message Publish, Broadcast and Client.Send
// take: one must fit in a frame.
func (h *Hub) MaxMessage() int { return h.maxBatch - binary.MaxVarintLen64 }

// FrameConfig is the compress configuration of the hub's frames; a
// Decoder built with it reads them.
func (h *Hub) FrameConfig() compress.FrameConfig { return h.frameCfg }

// SetHooks installs hooks; call it before the hub serves.
func (h *Hub) SetHooks(hooks Hooks) { h.hooks = hooks }

func (h *Hub) ticker() {
	defer h.wg.Done()
	t := time.NewTicker(h.cfg.Tick)
	defer t.Stop()
	for {
		select {
		case <-h.stop:
			return
		case <-t.C:
			h.Flush()
		}
	}
}

// Flush sends what is queued now instead of at the next tick.
func (h *Hub) Flush() {
	h.dirtyMu.Lock()
	list := h.dirty
	h.dirty, h.spare = h.spare[:0], nil
	h.dirtyMu.Unlock()
	for _, c := range list {
		c.wakeUp()
	}
	clear(list)
	h.dirtyMu.Lock()
	if h.spare == nil {
		h.spare = list[:0]
	}
	h.dirtyMu.Unlock()
}

// ServeHTTP upgrades the request to a WebSocket and serves the client
// until it leaves, is dropped or the hub closes.
func (h *Hub) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if h.hooks.Authorize != nil {
		if err := h.hooks.Authorize(r); err != nil {
			http.Error(w, err.Error(), http.StatusForbidden)
			return
		}
	}
	h.mu.Lock()
	if h.closed {
		h.mu.Unlock()
		http.Error(w, "shutting down", http.StatusServiceUnavailable)
		return
	}
	h.wg.Add(1) // this goroutine: hijacked connections are not awaited by http.Server
	h.mu.Unlock()
	defer h.wg.Done()

	conn, err := websocket.Accept(w, r, &h.accept)
	if err != nil {
		h.log.DebugContext(r.Context(), "websocket upgrade refused", "error", err, "origin", r.Header.Get("Origin"))
		return // Accept has answered
	}
	conn.SetReadLimit(h.cfg.MaxMessageBytes)
	c := newClient(h, conn)

	h.mu.Lock()
	if h.closed {
		h.mu.Unlock()
		_ = conn.Close(websocket.StatusGoingAway, "server shutting down")
		return
	}
	h.nextID++
	c.id = h.nextID
	h.clients[c] = struct{}{}
	h.wg.Add(2)
	h.mu.Unlock()
	h.metrics.connections.Inc()

	go c.writeLoop()
	go c.pingLoop()
	if h.hooks.OnConnect != nil {
		h.hooks.OnConnect(c.ctx, c)
	}
	c.readLoop()
}

// unregister removes a finished client from the hub and its rooms.
func (h *Hub) unregister(c *Client) {
	h.mu.Lock()
	for room := range c.rooms {
		h.leaveLocked(c, room)
	}
	_, ok := h.clients[c]
	delete(h.clients, c)
	h.mu.Unlock()
	if ok {
		h.metrics.connections.Dec()
	}
}

// checkRoom refuses a room name the hub does not take: empty, longer than
// MaxRoomName, not UTF-8 or holding a NUL (text PostgreSQL refuses).
func checkRoom(room string) error {
	if room == "" || len(room) > MaxRoomName {
		return fmt.Errorf("room name must be 1 to %d bytes", MaxRoomName)
	}
	if !utf8.ValidString(room) || strings.IndexByte(room, 0) >= 0 {
		return errors.New("room name must be UTF-8 text without NUL characters")
	}
	return nil
}

func (h *Hub) join(c *Client, room string) error {
	if err := checkRoom(room); err != nil {
		return err
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if _, ok := h.clients[c]; !ok {
		return errors.New("client is gone")
	}
	if _, ok := c.rooms[room]; ok {
		return nil
	}
	if len(c.rooms) >= MaxRoomsPerClient {
		return fmt.Errorf("a client may be in at most %d rooms", MaxRoomsPerClient)
	}
	members := h.rooms[room]
	if members == nil {
		members = map[*Client]struct{}{}
		h.rooms[room] = members
	}
	members[c] = struct{}{}
	c.rooms[room] = struct{}{}
	if h.relay != nil {
		h.relay.changed(room)
	}
	return nil
}

func (h *Hub) leave(c *Client, room string) {
	h.mu.Lock()
	h.leaveLocked(c, room)
	h.mu.Unlock()
}

func (h *Hub) leaveLocked(c *Client, room string) {
	if _, ok := c.rooms[room]; !ok {
		return
	}
	delete(c.rooms, room)
	if members := h.rooms[room]; members != nil {
		delete(members, c)
		if len(members) == 0 {
			delete(h.rooms, room)
		}
	}
	if h.relay != nil {
		h.relay.changed(room)
	}
}

// Members returns how many clients are in room. With UseRedis it counts
// every replica's (the others' as of their last presence write, at most
// one PresenceInterval old); while Redis is down or does not answer
// within RedisTimeout, this replica's only.
func (h *Hub) Members(room string) int {
	return h.MembersOf([]string{room})[0]
}

// MembersOf returns Members of each room, in the order given, asking Redis
// once (one pipelined round trip) for all of them: a list of rooms costs
// what one room does.
func (h *Hub) MembersOf(rooms []string) []int {
	out := make([]int, len(rooms))
	h.mu.RLock()
	for i, room := range rooms {
		out[i] = len(h.rooms[room])
	}
	r := h.relay
	h.mu.RUnlock()
	if r == nil || len(rooms) == 0 {
		return out
	}
	remote, err := r.remoteMembers(rooms)
	if err != nil {
		if !errors.Is(err, errRedisDown) {
			r.m.errors.Inc()
		}
		return out
	}
	for i, n := range remote {
		out[i] += n
	}
	return out
}

// LocalMembers returns how many of this replica's clients are in room.
func (h *Hub) LocalMembers(room string) int {
	h.mu.RLock()
	defer h.mu.RUnlock()
	return len(h.rooms[room])
}

// Clients returns how many clients are connected.
func (h *Hub) Clients() int {
	h.mu.RLock()
	defer h.mu.RUnlock()
	return len(h.clients)
}

// CloseRoom takes every member out of room (they stay connected) and
// returns how many there were on this replica; with UseRedis the other
// replicas close it too.
func (h *Hub) CloseRoom(room string) int {
	n := h.closeRoomLocal(room)
	h.mu.RLock()
	if h.relay != nil {
		h.relay.send(kindCloseRoom, room, []byte(room))
	}
	h.mu.RUnlock()
	return n
}

func (h *Hub) closeRoomLocal(room string) int {
	h.mu.Lock()
	defer h.mu.Unlock()
	members := h.rooms[room]
	for c := range members {
		delete(c.rooms, room)
	}
	delete(h.rooms, room)
	if members != nil && h.relay != nil {
		h.relay.changed(room)
	}
	return len(members)
}

// Publish queues msg for every member of room and returns how many it was
// queued for on this replica. It never waits for a client: one whose
// queue is full is disconnected instead. With UseRedis, msg goes to the
// room's members on the other replicas too. msg is copied; the caller may
// reuse it.
func (h *Hub) Publish(room string, msg []byte) (int, error) {
	return h.publish(room, msg, nil)
}

func (h *Hub) publish(room string, msg []byte, from *Client) (int, error) {
	if len(msg) > h.MaxMessage() {
		return 0, ErrMessageTooLarge
	}
	start := time.Now()
	m := bytes.Clone(msg) // shared, read-only, by every member's queue
	var slow []*Client
	h.mu.RLock()
	members := h.rooms[room]
	if from != nil {
		if _, ok := members[from]; !ok {
			h.mu.RUnlock()
			return 0, fmt.Errorf("not a member of room %q: join it first", room)
		}
	}
	n := 0
	for c := range members {
		if c == from {
			continue
		}
		if !h.deliver(c, m) {
			slow = append(slow, c)
			continue
		}
		n++
	}
	if h.relay != nil {
		h.relay.send(kindMessages, room, m)
	}
	h.mu.RUnlock()
	h.dropSlow(slow)
	h.metrics.fanout.Observe(time.Since(start).Seconds())
	return n, nil
}

// deliverRemote queues a batch relayed by another replica for the local
// members of room ("": every local client) and returns how many messages
// were queued. The batch is not copied: it must stay unchanged.
func (h *Hub) deliverRemote(room string, batch []byte) (int, error) {
	var slow []*Client
	n := 0
	h.mu.RLock()
	err := SplitBatch(batch, func(m []byte) error {
		if room == "" {
			for c := range h.clients {
				if h.deliver(c, m) {
					n++
				} else {
					slow = append(slow, c)
				}
			}
			return nil
		}
		for c := range h.rooms[room] {
			if h.deliver(c, m) {
				n++
			} else {
				slow = append(slow, c)
			}
		}
		return nil
	})
	h.mu.RUnlock()
	h.dropSlow(slow)
	return n, err
}

// Broadcast queues msg for every connected client (of every replica with
// UseRedis) and returns how many of this replica's it was queued for.
func (h *Hub) Broadcast(msg []byte) (int, error) {
	if len(msg) > h.MaxMessage() {
		return 0, ErrMessageTooLarge
	}
	start := time.Now()
	m := bytes.Clone(msg)
	var slow []*Client
	n := 0
	h.mu.RLock()
	for c := range h.clients {
		if !h.deliver(c, m) {
			slow = append(slow, c)
			continue
		}
		n++
	}
	if h.relay != nil {
		h.relay.send(kindMessages, "", m)
	}
	h.mu.RUnlock()
	h.dropSlow(slow)
	h.metrics.fanout.Observe(time.Since(start).Seconds())
	return n, nil
}

// deliver queues m for c and wakes its writer (now, or at the next tick);
// false means c's queue is full.
func (h *Hub) deliver(c *Client, m []byte) bool {
	first, ok := c.enqueue(m)
	if !ok {
		return false
	}
	if first {
		if h.cfg.Tick == 0 {
			c.wakeUp()
		} else {
			h.dirtyMu.Lock()
			h.dirty = append(h.dirty, c)
			h.dirtyMu.Unlock()
		}
	}
	return true
}

func (h *Hub) dropSlow(slow []*Client) {
	for _, c := range slow {
		c.stop(websocket.StatusTryAgainLater, "send queue full: the client reads too slowly", ReasonSlow)
	}
}

// Close disconnects every client with 1001 (going away) and waits, until
// ctx is done, for the hub's goroutines to end; then it cuts the
// connections that are left and waits for them.
func (h *Hub) Close(ctx context.Context) error {
	h.mu.Lock()
	if h.closed {
		h.mu.Unlock()
		return nil
	}
	h.closed = true
	clients := make([]*Client, 0, len(h.clients))
	for c := range h.clients {
		clients = append(clients, c)
	}
	r := h.relay
	h.mu.Unlock()
	close(h.stop)
	if r != nil {
		r.stop(true) // first: nothing more from the other replicas; this one's members leave Redis
	}
	for _, c := range clients {
		c.stop(websocket.StatusGoingAway, "server shutting down", "")
	}
	done := make(chan struct{})
	go func() {
		h.wg.Wait()
		close(done)
	}()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		for _, c := range clients {
			c.cancel()
		}
		<-done
		return fmt.Errorf("realtime: close: %w", ctx.Err())
	}
}

// write sends msgs to c: one frame per maxBatch bytes of batch with a tick,
// one frame per message without.
func (h *Hub) write(c *Client, msgs [][]byte) error {
	if h.cfg.Tick == 0 {
		for i := range msgs {
			if err := h.writeFrame(c, msgs[i:i+1]); err != nil {
				return err
			}
		}
		return nil
	}
	start, size := 0, 0
	for i, m := range msgs {
		if size+len(m)+binary.MaxVarintLen64 > h.maxBatch && i > start {
			if err := h.writeFrame(c, msgs[start:i]); err != nil {
				return err
			}
			start, size = i, 0
		}
		size += len(m) + binary.MaxVarintLen64
	}
	return h.writeFrame(c, msgs[start:])
}

// writeFrame encodes msgs as one batch in one frame and writes it. Both
// buffers are pooled and go back to the pool before it returns: the
// connection has copied the frame by then.
func (h *Hub) writeFrame(c *Client, msgs [][]byte) error {
	raw, frame := h.bufs.Get(), h.bufs.Get()
	defer h.bufs.Put(raw)
	defer h.bufs.Put(frame)
	for _, m := range msgs {
		*raw = AppendMessage(*raw, m)
	}
	out, err := h.framer.AppendFrame((*frame)[:0], *raw)
	*frame = out[:0] // keep the grown buffer for the pool
	if err != nil {
		return fmt.Errorf("realtime: encode frame: %w", err)
	}
	ctx, cancel := context.WithTimeout(c.ctx, h.cfg.WriteTimeout)
	err = c.conn.Write(ctx, websocket.MessageBinary, out)
	cancel()
	if err != nil {
		if ctx.Err() == context.DeadlineExceeded {
			return errWriteTimeout
		}
		return err
	}
	h.metrics.sent.Add(float64(len(msgs)))
	h.metrics.frame(out[0], len(out))
	if h.written != nil {
		h.written(len(msgs))
	}
	return nil
}

var errWriteTimeout = errors.New("write timeout")
