// Package httpmw is net/http middleware for a service whose routes are
// served by chi, echo, gin, gorilla/mux, httprouter or http.ServeMux: one
// http.Handler around the router gives every route its own deadline (an
// expired one answers 504 with a JSON error), recovers panics (500 with a
// JSON error, the stack logged), and records RED metrics per route
// (internal/platform/metrics).
//
// Routes are matched as http.ServeMux matches them, so the middleware
// knows a request's route before the router runs: chi's and ServeMux's
// {id}, echo's, gin's and httprouter's :id and *rest are all accepted.
//
//	mw, err := httpmw.New(httpmw.Config{
//		Default: httpmw.DefaultTimeout,
//		Routes: []httpmw.Route{
//			{Name: "GetPlayer", Method: "GET", Pattern: "/players/{id}", Timeout: 50 * time.Millisecond},
//		},
//		Metrics: metrics.NewHTTP(reg, "my_service", httpmw.Names(routes)),
//	})
//	srv := httpmw.NewServer(":8080", mw.Wrap(router), mw.MaxTimeout())
package httpmw

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"runtime/debug"
	"strings"
	"sync"
	"time"

	"github.com/svcgen/svcgen/platform/metrics"
)

// DefaultTimeout, DBBudget and CacheBudget are the preset's (defaults.go).

// Unknown names the requests that match no route.
const Unknown = metrics.Unknown

// Route is one route of the service.
type Route struct {
	// Name labels the route's metrics ("GetPlayer").
	Name string
	// Method is the HTTP method ("GET"); empty matches every method.
	Method string
	// Pattern is the route's path as the router has it: "/players/{id}",
	// "/players/:id", "/static/*path".
	Pattern string
	// Timeout is the route's deadline; Config.Default when zero.
	Timeout time.Duration
}

// Config configures New.
type Config struct {
	// Metrics records the RED metrics; nil records none. Create it with
	// metrics.NewHTTP(reg, namespace, Names(routes)).
	Metrics *metrics.HTTP
	// Logger receives recovered panics; slog.Default() when nil.
	Logger *slog.Logger
	// Routes are the service's routes.
	Routes []Route
	// Default is the deadline of requests whose route has none, and of
	// those that match no route; DefaultTimeout when zero.
	Default time.Duration
}

// Middleware is the configured middleware.
type Middleware struct {
	mux     *http.ServeMux
	metrics *metrics.HTTP
	log     *slog.Logger
	routes  map[string]Route // by ServeMux pattern
	writers sync.Pool
	def     time.Duration
}

// New checks the routes and returns the middleware. An invalid or
// duplicate pattern is an error naming the route.
func New(cfg Config) (*Middleware, error) {
	m := &Middleware{mux: http.NewServeMux(), metrics: cfg.Metrics, log: cfg.Logger, routes: map[string]Route{}, def: cfg.Default}
	if m.log == nil {
		m.log = slog.Default()
	}
	if m.def <= 0 {
		m.def = DefaultTimeout
	}
	m.writers.New = func() any { return new(deadlineWriter) }
	for i, rt := range cfg.Routes {
		if rt.Name == "" {
			return nil, fmt.Errorf("httpmw: route %d (%s %s): no Name: it labels the route's metrics", i, rt.Method, rt.Pattern)
		}
		if rt.Timeout < 0 {
			return nil, fmt.Errorf("httpmw: route %s: Timeout %v: use a positive deadline, or 0 for the default", rt.Name, rt.Timeout)
		}
		p, err := servePattern(rt.Method, rt.Pattern)
		if err != nil {
			return nil, fmt.Errorf("httpmw: route %s: %w", rt.Name, err)
		}
		if prev, ok := m.routes[p]; ok {
			return nil, fmt.Errorf("httpmw: routes %s and %s have the same pattern %q", prev.Name, rt.Name, p)
		}
		if err := handle(m.mux, p); err != nil {
			return nil, fmt.Errorf("httpmw: route %s: %w", rt.Name, err)
		}
		m.routes[p] = rt
	}
	return m, nil
}

// Names returns the routes' names, for metrics.NewHTTP.
func Names(routes []Route) []string {
	out := make([]string, 0, len(routes))
	for _, r := range routes {
		out = append(out, r.Name)
	}
	return out
}

// MaxTimeout is the longest deadline of any route: NewServer's write
// timeout is past it, so a deadline's 504 always reaches the client.
func (m *Middleware) MaxTimeout() time.Duration {
	max := m.def
	for _, r := range m.routes {
		if r.Timeout > max {
			max = r.Timeout
		}
	}
	return max
}

// handle registers pattern on mux, turning ServeMux's panic on a bad or
// conflicting pattern into an error.
func handle(mux *http.ServeMux, pattern string) (err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("%v", p)
		}
	}()
	mux.Handle(pattern, http.NotFoundHandler())
	return nil
}

// servePattern turns a router's pattern into ServeMux's: ":id" becomes
// "{id}", "*rest" (or a trailing "*") becomes "{rest...}".
func servePattern(method, pattern string) (string, error) {
	if !strings.HasPrefix(pattern, "/") {
		return "", fmt.Errorf("pattern %q: start it with /", pattern)
	}
	segs := strings.Split(pattern, "/")
	for i, s := range segs {
		switch {
		case strings.HasPrefix(s, ":") && len(s) > 1:
			segs[i] = "{" + s[1:] + "}"
		case s == "*" && i == len(segs)-1:
			segs[i] = "{rest...}"
		case strings.HasPrefix(s, "*") && i == len(segs)-1:
			segs[i] = "{" + s[1:] + "...}"
		}
	}
	p := strings.Join(segs, "/")
	if method != "" {
		p = strings.ToUpper(method) + " " + p
	}
	return p, nil
}

// route returns the route of r (Unknown, with the default deadline, when
// none matches).
func (m *Middleware) route(r *http.Request) Route {
	if _, p := m.mux.Handler(r); p != "" {
		if rt, ok := m.routes[p]; ok {
			if rt.Timeout == 0 {
				rt.Timeout = m.def
			}
			return rt
		}
	}
	return Route{Name: Unknown, Timeout: m.def}
}

type routeKey struct{}

// RouteName returns the name of the route serving ctx's request ("" outside
// the middleware).
func RouteName(ctx context.Context) string {
	rt, _ := ctx.Value(routeKey{}).(Route)
	return rt.Name
}

// Wrap returns next (the router) behind the middleware.
func (m *Middleware) Wrap(next http.Handler) http.Handler {
	var h http.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rt, _ := r.Context().Value(routeKey{}).(Route)
		m.serve(w, r, rt, next)
	})
	if m.metrics != nil {
		h = m.metrics.Middleware(h, func(r *http.Request) (string, bool) {
			rt, _ := r.Context().Value(routeKey{}).(Route)
			return rt.Name, rt.Name != Unknown
		})
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rt := m.route(r)
		h.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), routeKey{}, rt)))
	})
}

// serve runs next under the route's deadline and recovers its panics.
func (m *Middleware) serve(w http.ResponseWriter, r *http.Request, rt Route, next http.Handler) {
	ctx, cancel := context.WithTimeout(r.Context(), rt.Timeout)
	defer cancel()
	dw := m.writers.Get().(*deadlineWriter)
	dw.ResponseWriter, dw.ctx, dw.wrote, dw.discard = w, ctx, false, false
	defer func() {
		p := recover()
		if p != nil && p != http.ErrAbortHandler {
			m.log.Error("panic serving a request", "route", rt.Name, "method", r.Method, "path", r.URL.Path, "panic", fmt.Sprint(p), "stack", string(debug.Stack()))
			if !dw.wrote {
				WriteError(w, http.StatusInternalServerError, "internal error")
			}
		}
		if p == nil && !dw.wrote && errors.Is(ctx.Err(), context.DeadlineExceeded) {
			WriteError(w, http.StatusGatewayTimeout, "deadline of "+rt.Name+" ("+rt.Timeout.String()+") exceeded")
		}
		dw.ResponseWriter, dw.ctx = nil, nil
		m.writers.Put(dw)
		if p == http.ErrAbortHandler {
			panic(p)
		}
	}()
	next.ServeHTTP(dw, r.WithContext(ctx))
}

// deadlineWriter answers 504 in place of the error status a handler
// writes once its deadline has passed (its DB call failed with
// context.DeadlineExceeded): the client learns it was a timeout, and the
// handler's error body is dropped.
type deadlineWriter struct {
	http.ResponseWriter
	ctx     context.Context
	wrote   bool
	discard bool
}

func (w *deadlineWriter) WriteHeader(code int) {
	if w.wrote {
		return
	}
	if code < 200 { // informational: the final status follows
		w.ResponseWriter.WriteHeader(code)
		return
	}
	w.wrote = true
	if code >= 500 && errors.Is(w.ctx.Err(), context.DeadlineExceeded) {
		w.discard = true
		WriteError(w.ResponseWriter, http.StatusGatewayTimeout, "deadline exceeded")
		return
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *deadlineWriter) Write(b []byte) (int, error) {
	if !w.wrote {
		w.WriteHeader(http.StatusOK)
	}
	if w.discard {
		return len(b), nil
	}
	return w.ResponseWriter.Write(b)
}

// Unwrap lets http.ResponseController reach the connection's writer
// (Flush, deadlines, Hijack for WebSockets).
func (w *deadlineWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// Flush sends buffered data to the client if the underlying writer can.
func (w *deadlineWriter) Flush() {
	if !w.wrote {
		w.WriteHeader(http.StatusOK)
	}
	if f, ok := w.ResponseWriter.(http.Flusher); ok && !w.discard {
		f.Flush()
	}
}

// Error is the JSON body of an error: {"code":504,"message":"..."}.
type Error struct {
	Message string `json:"message"`
	Code    int    `json:"code"`
}

// WriteError answers status with an Error body; use it from handlers too,
// so every error of the service has one shape.
func WriteError(w http.ResponseWriter, status int, msg string) {
	h := w.Header()
	h.Del("Content-Length")
	h.Set("Content-Type", "application/json; charset=utf-8")
	h.Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(Error{Code: status, Message: msg})
}

// Budget gives one DB or cache call its own deadline inside the route's:
// the earlier of the two applies.
func Budget(ctx context.Context, d time.Duration) (context.Context, context.CancelFunc) {
	return context.WithTimeout(ctx, d)
}

// NewServer returns an http.Server for h with read, header, write and
// idle timeouts and a header size limit: the write timeout is maxTimeout
// (Middleware.MaxTimeout) plus 5s, so a deadline's 504 is written before
// the connection is cut.
func NewServer(addr string, h http.Handler, maxTimeout time.Duration) *http.Server {
	return &http.Server{
		Addr:              addr,
		Handler:           h,
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       10 * time.Second,
		WriteTimeout:      maxTimeout + 5*time.Second,
		IdleTimeout:       2 * time.Minute,
		MaxHeaderBytes:    64 << 10,
	}
}
