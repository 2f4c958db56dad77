package realtime

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"sync"
	"time"

	"github.com/coder/websocket"
)

// Client is one WebSocket connection of the hub. Three goroutines serve
// it: the HTTP handler's reads its messages, a writer sends its frames and
// a pinger keeps it alive; all three end when it is stopped.
type Client struct {
	ctx    context.Context // cancelled to cut the connection hard
	hub    *Hub
	conn   *websocket.Conn
	cancel context.CancelFunc
	rooms  map[string]struct{} // guarded by hub.mu
	wake   chan struct{}       // the writer has something to send
	done   chan struct{}       // closed by stop
	reason string              // close reason, set by stop
	queue  [][]byte            // messages waiting; guarded by mu
	out    [][]byte            // the batch being written; writer only
	id     uint64
	mu     sync.Mutex
	code   websocket.StatusCode // close code, set by stop; 0: no handshake
	dirty  bool                 // listed for the next tick
	gone   bool                 // stopped: drop what comes
}

func newClient(h *Hub, conn *websocket.Conn) *Client {
	ctx, cancel := context.WithCancel(context.Background())
	return &Client{
		ctx:    ctx,
		hub:    h,
		conn:   conn,
		cancel: cancel,
		rooms:  map[string]struct{}{},
		wake:   make(chan struct{}, 1),
		done:   make(chan struct{}),
	}
}

// ID is the client's number, unique within the hub's life.
func (c *Client) ID() uint64 { return c.id }

// Join adds the client to room (server side; clients send a join message).
func (c *Client) Join(room string) error { return c.hub.join(c, room) }

// Leave takes the client out of room.
func (c *Client) Leave(room string) { c.hub.leave(c, room) }

// Send queues msg for this client alone; false if it was dropped for it.
func (c *Client) Send(msg []byte) bool {
	if len(msg) > c.hub.MaxMessage() {
		return false
	}
	if !c.hub.deliver(c, append([]byte(nil), msg...)) {
		c.hub.dropSlow([]*Client{c})
		return false
	}
	return true
}

// enqueue adds m to the send queue. first reports that the queue was empty
// since the last write (the writer needs a wake-up); ok false that it is full.
func (c *Client) enqueue(m []byte) (first, ok bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.gone {
		return false, true
	}
	if len(c.queue) >= c.hub.cfg.SendQueue {
		return false, false
	}
	c.queue = append(c.queue, m)
	first = !c.dirty
	c.dirty = true
	return first, true
}

func (c *Client) wakeUp() {
	select {
	case c.wake <- struct{}{}:
	default:
	}
}

// stop ends the client once: its writer closes the connection with code
// and reason (0: without a handshake), and reason, when not empty, is
// counted as a drop. It never blocks.
func (c *Client) stop(code websocket.StatusCode, reason, dropReason string) {
	c.mu.Lock()
	if c.gone {
		c.mu.Unlock()
		return
	}
	c.gone = true
	c.code, c.reason = code, reason
	clear(c.queue)
	c.queue = c.queue[:0]
	c.mu.Unlock()
	if dropReason != "" {
		c.hub.metrics.dropped[dropReason].Inc()
		c.hub.log.Debug("realtime client dropped", "client", c.id, "reason", dropReason)
	}
	close(c.done)
}

// writeLoop writes what is queued each time it is woken, until stopped.
func (c *Client) writeLoop() {
	defer c.hub.wg.Done()
	defer c.finish()
	for {
		select {
		case <-c.done:
			return
		case <-c.wake:
		}
		c.mu.Lock()
		c.out, c.queue = c.queue, c.out[:0]
		c.dirty = false
		c.mu.Unlock()
		if len(c.out) == 0 {
			continue
		}
		err := c.hub.write(c, c.out)
		clear(c.out)
		if err != nil {
			reason := ReasonReadError
			if errors.Is(err, errWriteTimeout) {
				reason = ReasonWriteTimeout
			}
			select {
			case <-c.done: // stopped meanwhile: the write failed because of it
			default:
				c.stop(0, "", reason)
			}
			return
		}
	}
}

// finish closes the connection, with the close handshake when stop gave
// a code, and takes the client out of the hub.
func (c *Client) finish() {
	c.mu.Lock()
	code, reason := c.code, c.reason
	c.mu.Unlock()
	if code != 0 {
		_ = c.conn.Close(code, reason)
	}
	_ = c.conn.CloseNow()
	c.cancel()
	c.hub.unregister(c)
}

// pingLoop pings the client every PingInterval; a pong later than
// PingTimeout drops it.
func (c *Client) pingLoop() {
	defer c.hub.wg.Done()
	t := time.NewTicker(c.hub.cfg.PingInterval)
	defer t.Stop()
	for {
		select {
		case <-c.done:
			return
		case <-t.C:
		}
		ctx, cancel := context.WithTimeout(c.ctx, c.hub.cfg.PingTimeout)
		err := c.conn.Ping(ctx)
		cancel()
		if err != nil {
			select {
			case <-c.done:
			default:
				c.stop(0, "", ReasonPingTimeout)
			}
			return
		}
	}
}

// clientMessage is what a client sends.
type clientMessage struct {
	Type string          `json:"type"`
	Room string          `json:"room"`
	Data json.RawMessage `json:"data"`
}

// readLoop reads and handles the client's messages until the connection
// ends.
func (c *Client) readLoop() {
	var buf []byte
	for {
		_, r, err := c.conn.Reader(c.ctx)
		if err == nil {
			buf, err = readAll(buf[:0], r)
		}
		if err != nil {
			c.readFailed(err)
			return
		}
		c.hub.metrics.received.Inc()
		if err := c.handle(buf); err != nil {
			reason := err.Error()
			if len(reason) > 120 {
				reason = reason[:120]
			}
			code, why := websocket.StatusPolicyViolation, ReasonBadMessage
			if errors.Is(err, ErrTryAgain) {
				code, why = websocket.StatusTryAgainLater, ReasonUnavailable
			}
			c.stop(code, reason, why)
			return
		}
	}
}

func (c *Client) readFailed(err error) {
	select {
	case <-c.done:
		return // stopped by the hub: the read failed because of it
	default:
	}
	switch {
	case errors.Is(err, websocket.ErrMessageTooBig):
		c.stop(0, "", ReasonReadLimit) // the connection answered 1009 already
	case websocket.CloseStatus(err) != -1:
		c.stop(0, "", "") // the client closed
	default:
		c.stop(0, "", ReasonReadError)
	}
}

func (c *Client) handle(b []byte) error {
	var m clientMessage
	if err := json.Unmarshal(b, &m); err != nil {
		return fmt.Errorf("bad message: want JSON such as {\"type\":\"join\",\"room\":\"lobby\"}: %v", err)
	}
	switch m.Type {
	case "join":
		// The hub's own limits first: a name it would refuse never
		// reaches the OnJoin hook (and the database behind it).
		if err := checkRoom(m.Room); err != nil {
			return err
		}
		if h := c.hub.hooks.OnJoin; h != nil {
			if err := h(c.ctx, c, m.Room); err != nil {
				return fmt.Errorf("join %q refused: %w", m.Room, err)
			}
		}
		return c.hub.join(c, m.Room)
	case "leave":
		c.hub.leave(c, m.Room)
		return nil
	case "publish":
		if len(m.Data) == 0 {
			return errors.New("publish needs data")
		}
		_, err := c.hub.publish(m.Room, m.Data, c)
		return err
	default:
		return fmt.Errorf("unknown message type %q: want join, leave or publish", m.Type)
	}
}

// readAll reads r to its end into dst, reusing its capacity.
func readAll(dst []byte, r io.Reader) ([]byte, error) {
	for {
		if len(dst) == cap(dst) {
			dst = append(dst, 0)[:len(dst)]
		}
		n, err := r.Read(dst[len(dst):cap(dst)])
		dst = dst[:len(dst)+n]
		if err == io.EOF {
			return dst, nil
		}
		if err != nil {
			return dst, err
		}
	}
}
