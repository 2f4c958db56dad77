// Package server builds the service's two HTTP servers: the public one (API
// under "/", /healthz, /readyz) and the admin one (/metrics, and
// /debug/pprof/ in a service with the pprof feature), and runs them until
// the context ends, then drains them.
package server

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/svcgen/svcgen/platform/apierr"
)

// ReadyTimeout bounds one /readyz check.
const ReadyTimeout = time.Second

// Config tunes the public server.
type Config struct {
	// Errors writes the server's own error answers (431) in the API's
	// error shape (main passes handler.WriteError); nil: apierr.Write.
	Errors apierr.WriteFunc
	// Addr is the listen address, ":8080".
	Addr string
	// ReadTimeout bounds reading a whole request, body included.
	ReadTimeout time.Duration
	// ReadHeaderTimeout bounds reading the headers (slowloris guard).
	ReadHeaderTimeout time.Duration
	// WriteTimeout bounds writing the response: a backstop above the
	// per-operation deadlines.
	WriteTimeout time.Duration
	// IdleTimeout closes idle keep-alive connections.
	IdleTimeout time.Duration
	// MaxBodyBytes limits request bodies; larger ones get 413. Zero: no limit.
	MaxBodyBytes int64
	// MaxHeaderBytes limits the request line and headers; larger ones get
	// 431 in the Errors shape. Zero: 1 MiB, net/http's default.
	MaxHeaderBytes int
	// MaxInFlight bounds the API requests served at once (Limit, wired in
	// internal/app). Zero: no limit.
	MaxInFlight int
	// MaxConns bounds the client connections kept: past it an idle
	// keep-alive connection is closed to make room, or, when none is
	// idle, the new one is answered 503 and closed. Zero: no limit.
	MaxConns int
}

// New returns an http.Server for h with cfg's timeouts, header and body
// limits.
func New(cfg Config, h http.Handler) *http.Server {
	limit := cfg.MaxHeaderBytes
	if limit <= 0 {
		limit = http.DefaultMaxHeaderBytes
	}
	write := cfg.Errors
	if write == nil {
		write = apierr.Write
	}
	h = limitRequest(h, limit, cfg.MaxBodyBytes, write)
	srv := &http.Server{
		Addr:              cfg.Addr,
		Handler:           h,
		ReadTimeout:       cfg.ReadTimeout,
		ReadHeaderTimeout: cfg.ReadHeaderTimeout,
		WriteTimeout:      cfg.WriteTimeout,
		IdleTimeout:       cfg.IdleTimeout,
		// net/http refuses headers past this itself, in plain text and
		// before any handler: twice the limit leaves the answer to
		// limitHeaders for all but absurd requests.
		MaxHeaderBytes: 2 * limit,
	}
	if cfg.MaxConns > 0 {
		srv.ConnState = newConnLimit(cfg.MaxConns).track
	}
	return srv
}

// limitRequest answers 431 in write's shape to a request whose request
// line and headers are larger than headerLimit bytes, and limits the body
// of a request that has one to bodyLimit bytes (http.MaxBytesReader: 413
// past it; <= 0: no limit). A request without a body, a GET, goes on as
// it came: http.MaxBytesHandler would copy every request (two
// allocations, 250 bytes) to wrap a body it does not have.
func limitRequest(h http.Handler, headerLimit int, bodyLimit int64, write apierr.WriteFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n := len(r.Method) + len(r.RequestURI) + len(" HTTP/1.1\r\n")
		for k, vs := range r.Header {
			for _, v := range vs {
				n += len(k) + len(": \r\n") + len(v)
			}
		}
		if n > headerLimit {
			write(w, http.StatusRequestHeaderFieldsTooLarge, "request headers too large")
			return
		}
		if bodyLimit > 0 && r.Body != nil && r.Body != http.NoBody {
			r2 := *r // as http.MaxBytesHandler does: the handler's request is its own
			r2.Body = http.MaxBytesReader(w, r.Body, bodyLimit)
			r = &r2
		}
		h.ServeHTTP(w, r)
	})
}

// NewMux mounts the API at "/" and at its own paths (apiPatterns, from
// the spec: a request the ServeMux matches exactly costs it one lookup,
// the catch-all "/" a second one and five allocations) beside the probes:
//
//	GET /healthz  200 {"status":"ok"} while the process serves (liveness)
//	GET /readyz   200 {"status":"ready"} when ready(ctx) succeeds within
//	              ReadyTimeout, else 503 {"status":"not ready"}; the cause
//	              is logged, not shown (the port is public)
//
// ready may be nil (always ready).
func NewMux(api http.Handler, ready func(context.Context) error, apiPatterns ...string) *http.ServeMux {
	mux := http.NewServeMux()
	mux.Handle("/", api)
	for _, p := range apiPatterns {
		mux.Handle(p, api)
	}
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		writeJSON(w, http.StatusOK, `{"status":"ok"}`)
	})
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, r *http.Request) {
		if ready != nil {
			ctx, cancel := context.WithTimeout(r.Context(), ReadyTimeout)
			defer cancel()
			if err := ready(ctx); err != nil {
				slog.WarnContext(r.Context(), "not ready", slog.String("error", err.Error()))
				writeJSON(w, http.StatusServiceUnavailable, `{"status":"not ready"}`)
				return
			}
		}
		writeJSON(w, http.StatusOK, `{"status":"ready"}`)
	})
	return mux
}

func writeJSON(w http.ResponseWriter, status int, body string) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_, _ = w.Write([]byte(body + "\n"))
}

// NewAdminMux serves /metrics from g and, in a service with the pprof
// feature, the /debug/pprof/ handlers (handlePprof), registered explicitly
// (never through http.DefaultServeMux). Bind it to a private address:
// metrics and profiles are not for the public.
func NewAdminMux(g prometheus.Gatherer) *http.ServeMux {
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", promhttp.HandlerFor(g, promhttp.HandlerOpts{}))
	handlePprof(mux)
	return mux
}

// Serve listens on each server's Addr and serves until ctx is done, then
// shuts them all down, letting in-flight requests finish within
// shutdownTimeout. A listen error is returned at once (nothing is left
// running); a clean shutdown returns nil.
func Serve(ctx context.Context, shutdownTimeout time.Duration, servers ...*http.Server) error {
	lns := make([]net.Listener, 0, len(servers))
	for _, s := range servers {
		ln, err := net.Listen("tcp", s.Addr)
		if err != nil {
			for _, l := range lns {
				_ = l.Close()
			}
			return fmt.Errorf("server: listen on %q: %w", s.Addr, err)
		}
		lns = append(lns, ln)
	}
	return ServeListeners(ctx, shutdownTimeout, servers, lns)
}

// ServeListeners is Serve on listeners already open (servers[i] on lns[i]),
// for tests on 127.0.0.1:0 and for socket activation.
func ServeListeners(ctx context.Context, shutdownTimeout time.Duration, servers []*http.Server, lns []net.Listener) error {
	if len(servers) != len(lns) {
		return fmt.Errorf("server: %d servers but %d listeners", len(servers), len(lns))
	}
	ctx, stop := context.WithCancel(ctx)
	defer stop()

	var (
		wg   sync.WaitGroup
		mu   sync.Mutex
		errs []error
	)
	for i, s := range servers {
		wg.Go(func() {
			if err := s.Serve(lns[i]); !errors.Is(err, http.ErrServerClosed) {
				mu.Lock()
				errs = append(errs, fmt.Errorf("server: serve on %s: %w", lns[i].Addr(), err))
				mu.Unlock()
				stop() // one server failing stops the others
			}
		})
	}

	<-ctx.Done()
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), shutdownTimeout)
	defer cancel()
	for _, s := range servers { // all at once: every listener closes now
		wg.Go(func() {
			if err := s.Shutdown(sctx); err != nil {
				_ = s.Close() // drain time is up: drop what is left
				mu.Lock()
				errs = append(errs, fmt.Errorf("server: shutdown %s: %w", s.Addr, err))
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	return errors.Join(errs...)
}
