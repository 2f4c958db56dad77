package server

import (
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/svcgen/svcgen/platform/apierr"
)

// Limit sheds load: while max requests are in h, another one is answered
// 503 with Retry-After at once, in write's shape, instead of queueing
// behind them until every deadline has passed. Accepted requests keep
// their latency; the client (or the load balancer) retries elsewhere.
// max <= 0: no limit.
func Limit(h http.Handler, max int, write apierr.WriteFunc) http.Handler {
	if max <= 0 {
		return h
	}
	var inFlight atomic.Int64
	limit := int64(max)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if inFlight.Add(1) > limit {
			inFlight.Add(-1)
			write(w, http.StatusServiceUnavailable, "overloaded: too many requests in flight, retry in "+apierr.RetryAfter+"s")
			return
		}
		defer inFlight.Add(-1)
		h.ServeHTTP(w, r)
	})
}

// connLimit keeps at most max client connections: an http.Server's
// ConnState hook. Past max, a new connection makes room by closing an idle
// keep-alive one (a request racing that close gets a reset its client
// retries, as with any keep-alive timeout); with none idle the new one is
// answered 503 and closed before net/http reads from it.
//
// Every request moves its connection to active and back to idle: those
// two calls take no lock, they find the connection's flag in a sync.Map
// (read without locking once the connection is known) and set it.
type connLimit struct {
	// conns maps each connection counted to its *atomic.Bool, true while
	// idle; entries are added and removed under mu.
	conns sync.Map
	mu    sync.Mutex
	n     int // len(conns), under mu
	max   int
}

func newConnLimit(max int) *connLimit {
	return &connLimit{max: max}
}

// refused is what a connection past the limit gets: a whole HTTP/1.1
// answer, since no request of it has been read.
const refused = "HTTP/1.1 503 Service Unavailable\r\nRetry-After: " + apierr.RetryAfter + "\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: 28\r\nConnection: close\r\n\r\ntoo many connections, retry\n"

func (l *connLimit) track(c net.Conn, state http.ConnState) {
	switch state {
	case http.StateNew:
		l.mu.Lock()
		defer l.mu.Unlock()
		if l.n >= l.max && !l.closeIdle() {
			// Runs in Serve's accept loop: never wait on this client.
			_ = c.SetWriteDeadline(time.Now().Add(100 * time.Millisecond))
			_, _ = c.Write([]byte(refused))
			_ = c.Close()
			return
		}
		l.conns.Store(c, new(atomic.Bool))
		l.n++
	case http.StateActive, http.StateIdle:
		if idle, ok := l.conns.Load(c); ok {
			idle.(*atomic.Bool).Store(state == http.StateIdle)
		}
	case http.StateHijacked, http.StateClosed:
		l.mu.Lock()
		defer l.mu.Unlock()
		if _, ok := l.conns.LoadAndDelete(c); ok {
			l.n--
		}
	}
}

// closeIdle closes one idle connection, if there is one, and stops
// counting it (its StateClosed comes later). l.mu is held.
func (l *connLimit) closeIdle() bool {
	closed := false
	l.conns.Range(func(k, v any) bool {
		if !v.(*atomic.Bool).Load() {
			return true
		}
		l.conns.Delete(k)
		l.n--
		_ = k.(net.Conn).Close()
		closed = true
		return false
	})
	return closed
}
