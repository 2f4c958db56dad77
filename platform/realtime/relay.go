package realtime

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"
)

// Rooms across replicas. With UseRedis, every replica of the service
// relays what its clients publish through Redis pub/sub, so the members of
// one room see each other whichever replica they are connected to:
//
//	channel <prefix>room:<room>   a room's messages, subscribed by the
//	                              replicas with a local member of it
//	channel <prefix>all           Broadcast and CloseRoom's of every room
//	hash    <prefix>members:<room> field: replica id, value: "count expiry-ms"
//
// A relayed payload is an envelope: kind(1 byte) origin(8 bytes, the
// sending replica's id) then, for kindMessages, a batch (batch.go) of the
// messages one replica published to that room since its last write to
// Redis. A replica drops the envelopes it sent itself: its own clients had
// them from the local fan-out already.
//
// Order: one publisher's messages to one room reach every member in the
// order they were published (one replica writes them in order, Redis keeps
// the order of one connection's PUBLISH, one connection receives them).
// Messages of different publishers, or of one publisher to different
// rooms, have no order between them across replicas.
//
// Redis down: the relay never blocks the hub. Local delivery goes on,
// messages for other replicas are dropped and counted
// (<ns>_realtime_relay_dropped_total{reason="redis_error"}),
// <ns>_realtime_relay_up is 0, and the relay reconnects with backoff; once
// it is back it resubscribes the local rooms and delivery across replicas
// resumes (what was published meanwhile is not replayed).

const (
	kindMessages  byte = 0 // batch of messages for the channel's room (or everyone on the all channel)
	kindCloseRoom byte = 1 // body: the room name; sent on the all channel

	envelopeHeader = 9 // kind + origin

	// RelayQueue is how many messages may wait for the relay's writer; past
	// it (Redis slower than the publishers) they are dropped for the other
	// replicas and counted, local delivery is not affected.
	RelayQueue = 8192

	relayMinBackoff = 100 * time.Millisecond
	relayMaxBackoff = 5 * time.Second
)

// Why a message for other replicas was dropped, the reason label of
// <ns>_realtime_relay_dropped_total.
const (
	RelayDropQueueFull  = "queue_full"  // RelayQueue messages already waited
	RelayDropRedisError = "redis_error" // the PUBLISH failed (Redis down or slow)
)

// relayItem is one message waiting for the writer.
type relayItem struct {
	room string // "" with kindMessages: Broadcast
	msg  []byte // read-only, shared with the local queues
	kind byte
}

// relay connects a hub to the other replicas through Redis.
type relay struct {
	ctx        context.Context
	hub        *Hub
	rdb        redis.UniversalClient
	log        *slog.Logger
	m          *relayMetrics
	cancel     context.CancelFunc
	ps         *redis.PubSub       // the subscription; nil while Redis is down; guarded by mu
	subscribed map[string]struct{} // rooms subscribed on ps; guarded by subMu
	dirty      map[string]struct{} // rooms whose local membership changed; guarded by mu
	presented  map[string]int      // rooms and counts last written to Redis; heartbeat only
	kick       chan struct{}       // dirty has rooms
	wake       chan struct{}       // out has messages
	prefix     string
	roomPrefix string // prefix + "room:"
	allChannel string
	idText     string      // id in base 36: the presence hashes' field
	out        []relayItem // guarded by outMu
	spare      []relayItem
	wg         sync.WaitGroup
	interval   time.Duration
	timeout    time.Duration
	id         uint64
	mu         sync.Mutex
	subMu      sync.Mutex // serializes SUBSCRIBE / UNSUBSCRIBE
	outMu      sync.Mutex
	up         bool // guarded by mu
	warned     bool // the loss of Redis is logged; guarded by mu
}

// NewRedis returns a client for REDIS_URL (redis://, rediss://, or a
// cluster as redis://host:6379?addr=host2:6379), with a short dial timeout
// so a Redis outage is noticed quickly.
func NewRedis(rawURL string) (redis.UniversalClient, error) {
	u, err := url.Parse(rawURL)
	if err != nil {
		return nil, fmt.Errorf("REDIS_URL: %w", err)
	}
	if u.Query().Has("addr") {
		opt, err := redis.ParseClusterURL(rawURL)
		if err != nil {
			return nil, fmt.Errorf("REDIS_URL: %w", err)
		}
		opt.ContextTimeoutEnabled = true
		if opt.DialTimeout == 0 {
			opt.DialTimeout = time.Second
		}
		c := redis.NewClusterClient(opt)
		traceRedis(c)
		return c, nil
	}
	opt, err := redis.ParseURL(rawURL)
	if err != nil {
		return nil, fmt.Errorf("REDIS_URL: %w", err)
	}
	opt.ContextTimeoutEnabled = true
	opt.DialTimeout = time.Second
	c := redis.NewClient(opt)
	traceRedis(c)
	return c, nil
}

// UseRedis spans the hub's rooms across every replica connected to the
// same Redis (and Config.RedisPrefix): what a client publishes reaches the
// room's members on the other replicas too, Members counts them, and
// Broadcast and CloseRoom act on every replica. Call it once, before the
// hub serves; Close stops it. rdb stays the caller's to close, after the
// hub. Without UseRedis the hub serves this process's clients only.
func (h *Hub) UseRedis(rdb redis.UniversalClient) error {
	if rdb == nil {
		return errors.New("realtime: UseRedis needs a Redis client")
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.relay != nil {
		return errors.New("realtime: UseRedis called twice")
	}
	if h.closed {
		return errors.New("realtime: UseRedis after Close")
	}
	m, err := newRelayMetrics(h.reg, h.namespace)
	if err != nil {
		return err
	}
	var idb [8]byte
	_, _ = rand.Read(idb[:])
	ctx, cancel := context.WithCancel(context.Background())
	r := &relay{
		ctx:        ctx,
		hub:        h,
		rdb:        rdb,
		log:        h.log,
		m:          m,
		cancel:     cancel,
		subscribed: map[string]struct{}{},
		dirty:      map[string]struct{}{},
		presented:  map[string]int{},
		kick:       make(chan struct{}, 1),
		wake:       make(chan struct{}, 1),
		prefix:     h.cfg.RedisPrefix,
		roomPrefix: h.cfg.RedisPrefix + "room:",
		allChannel: h.cfg.RedisPrefix + "all",
		interval:   h.cfg.PresenceInterval,
		timeout:    h.cfg.RedisTimeout,
		id:         binary.LittleEndian.Uint64(idb[:]),
	}
	r.idText = strconv.FormatUint(r.id, 36)
	for room := range h.rooms {
		r.dirty[room] = struct{}{}
	}
	h.relay = r
	r.wg.Add(4)
	go r.receive()
	go r.sync()
	go r.write()
	go r.heartbeat()
	h.log.Info("realtime rooms span replicas through Redis", "replica", r.idText, "prefix", r.prefix)
	return nil
}

// changed notes that room's local membership changed. Called with hub.mu
// held; it never blocks.
func (r *relay) changed(room string) {
	r.mu.Lock()
	r.dirty[room] = struct{}{}
	r.mu.Unlock()
	select {
	case r.kick <- struct{}{}:
	default:
	}
}

// send queues a message for the other replicas; it never blocks.
func (r *relay) send(kind byte, room string, msg []byte) {
	r.outMu.Lock()
	if len(r.out) >= RelayQueue {
		r.outMu.Unlock()
		r.m.dropped[RelayDropQueueFull].Inc()
		return
	}
	r.out = append(r.out, relayItem{room: room, msg: msg, kind: kind})
	r.outMu.Unlock()
	select {
	case r.wake <- struct{}{}:
	default:
	}
}

func (r *relay) channel(room string) string {
	if room == "" {
		return r.allChannel
	}
	return r.roomPrefix + room
}

func (r *relay) presenceKey(room string) string { return r.prefix + "members:" + room }

// setUp records the subscription's state, logging and counting changes.
func (r *relay) setUp(up bool, err error) {
	r.mu.Lock()
	was, warned := r.up, r.warned
	r.up = up
	r.warned = !up
	r.mu.Unlock()
	switch {
	case up && !was:
		r.m.up.Set(1)
		r.log.Info("realtime relay connected to Redis: rooms span replicas", "replica", r.idText)
	case !up && was:
		r.m.up.Set(0)
		r.m.outages.Inc()
		r.log.Warn("realtime relay lost Redis: delivering to this replica's clients only until it is back",
			"replica", r.idText, "error", err)
	case !up && !warned: // Redis unreachable from the start
		r.log.Warn("realtime relay cannot reach Redis: delivering to this replica's clients only until it can",
			"replica", r.idText, "error", err)
	}
}

// connected reports whether the subscription is up.
func (r *relay) connected() bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.up
}

// receive keeps a subscription open and hands what arrives to the hub;
// after an error it reconnects with backoff and resubscribes.
func (r *relay) receive() {
	defer r.wg.Done()
	backoff := relayMinBackoff
	for r.ctx.Err() == nil {
		ps := r.rdb.Subscribe(r.ctx) // no channel yet: no connection either
		err := r.subscribeAll(ps)
		if err == nil {
			r.setUp(true, nil)
			backoff = relayMinBackoff
			err = r.read(ps)
		}
		r.mu.Lock()
		r.ps = nil
		r.mu.Unlock()
		_ = ps.Close()
		if r.ctx.Err() != nil {
			return
		}
		r.setUp(false, err)
		select {
		case <-r.ctx.Done():
			return
		case <-time.After(backoff):
		}
		backoff = min(2*backoff, relayMaxBackoff)
	}
}

// subscribeAll subscribes a new PubSub to the all channel and to every
// room with a local member, and makes it the relay's.
func (r *relay) subscribeAll(ps *redis.PubSub) error {
	r.subMu.Lock()
	defer r.subMu.Unlock()
	r.mu.Lock()
	r.ps = ps
	r.mu.Unlock()
	clear(r.subscribed)
	channels := []string{r.allChannel}
	r.hub.mu.RLock()
	for room := range r.hub.rooms {
		r.subscribed[room] = struct{}{}
		channels = append(channels, r.channel(room))
	}
	r.hub.mu.RUnlock()
	ctx, cancel := context.WithTimeout(r.ctx, r.timeout+time.Second) // + the dial
	defer cancel()
	if err := ps.Subscribe(ctx, channels...); err != nil {
		return fmt.Errorf("subscribe: %w", err)
	}
	// Wait for the first confirmation: the connection is up.
	if _, err := ps.ReceiveTimeout(ctx, r.timeout+time.Second); err != nil {
		return fmt.Errorf("subscribe: %w", err)
	}
	return nil
}

// read handles the subscription's messages until it fails. The heartbeat
// pings it every interval, so silence for three intervals is a dead
// connection.
func (r *relay) read(ps *redis.PubSub) error {
	for {
		msg, err := ps.ReceiveTimeout(r.ctx, 3*r.interval)
		if err != nil {
			return err
		}
		if m, ok := msg.(*redis.Message); ok {
			r.handle(m.Channel, m.Payload)
		}
	}
}

// handle delivers one envelope from another replica to the local clients.
func (r *relay) handle(channel, payload string) {
	if len(payload) < envelopeHeader {
		r.m.bad.Inc()
		return
	}
	if binary.LittleEndian.Uint64([]byte(payload[1:envelopeHeader])) == r.id {
		return // ours: the local clients have it already
	}
	body := []byte(payload[envelopeHeader:]) // one copy, shared read-only by the members' queues
	switch payload[0] {
	case kindMessages:
		room := ""
		if channel != r.allChannel {
			room = strings.TrimPrefix(channel, r.roomPrefix)
		}
		n, err := r.hub.deliverRemote(room, body)
		if err != nil {
			r.m.bad.Inc()
			return
		}
		r.m.received.Add(float64(n))
	case kindCloseRoom:
		r.hub.closeRoomLocal(string(body))
	default:
		r.m.bad.Inc()
	}
}

// sync keeps the room subscriptions and the presence hash in step with
// the local membership: a room is subscribed while it has a local member.
func (r *relay) sync() {
	defer r.wg.Done()
	var rooms []string
	for {
		select {
		case <-r.ctx.Done():
			return
		case <-r.kick:
		}
		r.mu.Lock()
		rooms = rooms[:0]
		for room := range r.dirty {
			rooms = append(rooms, room)
		}
		clear(r.dirty)
		ps := r.ps
		r.mu.Unlock()
		if len(rooms) == 0 {
			continue
		}
		r.resubscribe(ps, rooms)
		r.present(rooms)
	}
}

func (r *relay) resubscribe(ps *redis.PubSub, rooms []string) {
	r.subMu.Lock()
	defer r.subMu.Unlock()
	r.mu.Lock()
	current := r.ps
	r.mu.Unlock()
	if ps == nil || ps != current {
		return // down, or a new subscription that subscribed every room itself
	}
	var sub, unsub []string
	r.hub.mu.RLock()
	for _, room := range rooms {
		_, want := r.hub.rooms[room]
		_, have := r.subscribed[room]
		switch {
		case want && !have:
			sub = append(sub, r.channel(room))
			r.subscribed[room] = struct{}{}
		case !want && have:
			unsub = append(unsub, r.channel(room))
			delete(r.subscribed, room)
		}
	}
	r.hub.mu.RUnlock()
	ctx, cancel := context.WithTimeout(r.ctx, r.timeout)
	defer cancel()
	// An error means a broken connection: read sees it too and the next
	// subscription subscribes every local room again.
	if len(sub) > 0 {
		_ = ps.Subscribe(ctx, sub...)
	}
	if len(unsub) > 0 {
		_ = ps.Unsubscribe(ctx, unsub...)
	}
}

// present writes the local member counts of rooms (all of them with nil)
// to their presence hashes, each valid for three intervals.
func (r *relay) present(rooms []string) {
	counts := make(map[string]int, len(rooms))
	r.hub.mu.RLock()
	if rooms == nil {
		for room, members := range r.hub.rooms {
			counts[room] = len(members)
		}
	} else {
		for _, room := range rooms {
			counts[room] = len(r.hub.rooms[room])
		}
	}
	r.hub.mu.RUnlock()
	if rooms == nil {
		for room := range r.presented {
			if _, ok := counts[room]; !ok {
				counts[room] = 0 // left since the last heartbeat
			}
		}
	}
	ttl := 3 * r.interval
	expiry := strconv.FormatInt(time.Now().Add(ttl).UnixMilli(), 10)
	ctx, cancel := context.WithTimeout(r.ctx, r.timeout)
	defer cancel()
	pipe := r.rdb.Pipeline()
	for room, n := range counts {
		key := r.presenceKey(room)
		if n == 0 {
			pipe.HDel(ctx, key, r.idText)
			continue
		}
		pipe.HSet(ctx, key, r.idText, strconv.Itoa(n)+" "+expiry)
		pipe.PExpire(ctx, key, ttl)
	}
	if _, err := pipe.Exec(ctx); err != nil {
		r.m.errors.Inc()
		return // the next heartbeat writes them all again
	}
	for room, n := range counts {
		if n == 0 {
			delete(r.presented, room)
		} else {
			r.presented[room] = n
		}
	}
}

// heartbeat refreshes the presence of every local room and pings the
// subscription every interval.
func (r *relay) heartbeat() {
	defer r.wg.Done()
	t := time.NewTicker(r.interval)
	defer t.Stop()
	for {
		select {
		case <-r.ctx.Done():
			return
		case <-t.C:
		}
		r.mu.Lock()
		ps := r.ps
		r.mu.Unlock()
		if ps != nil {
			ctx, cancel := context.WithTimeout(r.ctx, r.timeout)
			_ = ps.Ping(ctx) // the pong arrives in read
			cancel()
		}
		r.present(nil)
	}
}

// remoteMembers sums the other replicas' live member counts of each room,
// in one pipelined round trip; while the subscription is down it does not
// ask Redis.
func (r *relay) remoteMembers(rooms []string) ([]int, error) {
	if !r.connected() {
		return nil, errRedisDown
	}
	ctx, cancel := context.WithTimeout(r.ctx, r.timeout)
	defer cancel()
	cmds := make([]*redis.MapStringStringCmd, len(rooms))
	if _, err := r.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		for i, room := range rooms {
			cmds[i] = p.HGetAll(ctx, r.presenceKey(room))
		}
		return nil
	}); err != nil {
		return nil, err
	}
	now := time.Now().UnixMilli()
	out := make([]int, len(rooms))
	for i, cmd := range cmds {
		for replica, v := range cmd.Val() {
			if replica == r.idText {
				continue // the local count is exact
			}
			count, expiry, ok := strings.Cut(v, " ")
			n, err1 := strconv.Atoi(count)
			exp, err2 := strconv.ParseInt(expiry, 10, 64)
			if !ok || err1 != nil || err2 != nil || exp < now {
				continue // a replica that stopped without saying so: expired
			}
			out[i] += n
		}
	}
	return out, nil
}

// write sends the queued messages to Redis: all that waited since the
// last write go in one pipeline, one PUBLISH per room with the room's
// messages in one batch, in the order they were published.
func (r *relay) write() {
	defer r.wg.Done()
	var (
		groups   []relayGroup
		index    = map[relayKey]int{}
		payloads [][]byte
	)
	for {
		select {
		case <-r.ctx.Done():
			return
		case <-r.wake:
		}
		r.outMu.Lock()
		items := r.out
		r.out, r.spare = r.spare[:0], nil
		r.outMu.Unlock()
		if len(items) == 0 {
			continue
		}

		groups = groups[:0]
		clear(index)
		for i, it := range items {
			key := relayKey{room: it.room, kind: it.kind}
			g, ok := index[key]
			if !ok || groups[g].size+len(it.msg)+binary.MaxVarintLen64 > r.hub.maxBatch {
				g = len(groups)
				index[key] = g
				groups = append(groups, relayGroup{room: it.room, kind: it.kind})
			}
			groups[g].items = append(groups[g].items, i)
			groups[g].size += len(it.msg) + binary.MaxVarintLen64
		}
		for len(payloads) < len(groups) {
			payloads = append(payloads, nil)
		}
		ctx, cancel := context.WithTimeout(r.ctx, r.timeout)
		pipe := r.rdb.Pipeline()
		for gi, g := range groups {
			p := payloads[gi][:0]
			p = append(p, g.kind)
			p = binary.LittleEndian.AppendUint64(p, r.id)
			channel := r.channel(g.room)
			if g.kind == kindCloseRoom {
				p = append(p, items[g.items[0]].msg...)
				channel = r.allChannel
			} else {
				for _, i := range g.items {
					p = AppendMessage(p, items[i].msg)
				}
			}
			payloads[gi] = p
			pipe.Publish(ctx, channel, p)
		}
		_, err := pipe.Exec(ctx)
		cancel()
		if err != nil {
			r.m.errors.Inc()
			r.m.dropped[RelayDropRedisError].Add(float64(len(items)))
		} else {
			r.m.published.Add(float64(len(items)))
		}
		for gi := range groups {
			groups[gi].items = groups[gi].items[:0]
		}
		clear(items)
		r.outMu.Lock()
		if r.spare == nil {
			r.spare = items[:0]
		}
		r.outMu.Unlock()
		if err != nil {
			// Redis is failing: let what comes meanwhile pile up (up to
			// RelayQueue) rather than spin on a refused connection.
			select {
			case <-r.ctx.Done():
				return
			case <-time.After(relayMinBackoff):
			}
		}
	}
}

var errRedisDown = errors.New("realtime: Redis is unreachable")

type relayKey struct {
	room string
	kind byte
}

type relayGroup struct {
	room  string
	items []int
	size  int
	kind  byte
}

// stop ends the relay's goroutines and, with clean, takes this replica's
// members out of the presence hashes (a replica that dies skips it: its
// entries expire after three presence intervals).
func (r *relay) stop(clean bool) {
	r.cancel()
	r.mu.Lock()
	if r.ps != nil {
		_ = r.ps.Close() // unblocks read, which does not watch ctx
	}
	r.mu.Unlock()
	r.wg.Wait()
	r.m.up.Set(0)
	if !clean || len(r.presented) == 0 {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), r.timeout)
	defer cancel()
	pipe := r.rdb.Pipeline()
	for room := range r.presented {
		pipe.HDel(ctx, r.presenceKey(room), r.idText)
	}
	if _, err := pipe.Exec(ctx); err != nil {
		r.log.Warn("realtime relay: could not remove this replica's members from Redis; they expire on their own",
			"error", err, "after", 3*r.interval)
	}
}
