package server_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"go.uber.org/goleak"

	"github.com/svcgen/svcgen/platform/apierr"
	"github.com/svcgen/svcgen/platform/server"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// run serves srvs on 127.0.0.1:0 listeners until the returned stop is called;
// stop returns ServeListeners' result.
func run(t *testing.T, shutdown time.Duration, srvs ...*http.Server) (urls []string, stop func() error) {
	t.Helper()
	lns := make([]net.Listener, len(srvs))
	for i := range srvs {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		lns[i], urls = ln, append(urls, "http://"+ln.Addr().String())
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- server.ServeListeners(ctx, shutdown, srvs, lns) }()
	var once bool
	var result error
	stop = func() error {
		if !once {
			once = true
			cancel()
			result = <-done
		}
		return result
	}
	t.Cleanup(func() { _ = stop() })
	return urls, stop
}

func get(t *testing.T, url string) (int, string) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func TestPublicMux(t *testing.T) {
	api := newAPI(t)
	var notReady atomic.Pointer[error]
	mux := server.NewMux(api, func(ctx context.Context) error {
		if dl, ok := ctx.Deadline(); !ok || time.Until(dl) > server.ReadyTimeout {
			return errors.New("readiness check not bounded by ReadyTimeout")
		}
		if err := notReady.Load(); err != nil {
			return *err
		}
		return nil
	})
	srv := server.New(server.Config{Addr: "unused", ReadHeaderTimeout: time.Second, MaxBodyBytes: 64}, mux)
	urls, stop := run(t, 5*time.Second, srv)
	defer http.DefaultClient.CloseIdleConnections()

	if code, body := get(t, urls[0]+"/healthz"); code != 200 || !strings.Contains(body, `"ok"`) {
		t.Errorf("/healthz: %d %s", code, body)
	}
	if code, body := get(t, urls[0]+"/readyz"); code != 200 || !strings.Contains(body, `"ready"`) {
		t.Errorf("/readyz: %d %s", code, body)
	}
	down := errors.New("db: \"down\"")
	notReady.Store(&down)
	code, body := get(t, urls[0]+"/readyz")
	var r struct{ Status, Error string }
	if err := json.Unmarshal([]byte(body), &r); err != nil || code != 503 || r.Status != "not ready" || r.Error != "" {
		t.Errorf("/readyz not ready: %d %s (%v); want 503 without the cause, which stays in the log", code, body, err)
	}
	if code, _ := get(t, urls[0]+"/things/1"); code != 501 {
		t.Errorf("API under /: %d, want 501 from the unimplemented handler", code)
	}

	small := `{"id":1}`
	resp, err := http.Post(urls[0]+"/things", "application/json", strings.NewReader(small))
	if err != nil {
		t.Fatal(err)
	}
	_ = resp.Body.Close()
	if resp.StatusCode != 201 {
		t.Errorf("small body: %d, want 201", resp.StatusCode)
	}
	big := `{"id":1,"pad":"` + strings.Repeat("x", 100) + `"}`
	resp, err = http.Post(urls[0]+"/things", "application/json", strings.NewReader(big))
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	_ = resp.Body.Close()
	if resp.StatusCode != http.StatusRequestEntityTooLarge || !strings.Contains(string(b), `"code":413`) {
		t.Errorf("body past MaxBodyBytes: %d %s, want 413", resp.StatusCode, b)
	}
	if err := stop(); err != nil {
		t.Errorf("clean shutdown returned %v", err)
	}
}

// TestHeaderLimit: headers past MaxHeaderBytes get 431 in the Errors
// shape, from the handler chain rather than net/http's plain text.
func TestHeaderLimit(t *testing.T) {
	write := func(w http.ResponseWriter, status int, msg string) {
		apierr.WriteBody(w, status, "application/problem+json", []byte(`{"status":`+strconv.Itoa(status)+`}`))
	}
	srv := server.New(server.Config{Addr: "unused", ReadHeaderTimeout: time.Second, MaxHeaderBytes: 4096, Errors: write},
		http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusNoContent) }))
	urls, stop := run(t, 5*time.Second, srv)
	defer http.DefaultClient.CloseIdleConnections()
	for _, c := range []struct {
		size int
		want int
	}{
		{100, http.StatusNoContent},
		{5000, http.StatusRequestHeaderFieldsTooLarge},
	} {
		req, _ := http.NewRequest("GET", urls[0]+"/x", nil)
		req.Header.Set("X-Pad", strings.Repeat("p", c.size))
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		_ = resp.Body.Close()
		if resp.StatusCode != c.want {
			t.Errorf("%d-byte header: %d %s, want %d", c.size, resp.StatusCode, b, c.want)
		}
		if c.want == http.StatusRequestHeaderFieldsTooLarge && (string(b) != `{"status":431}` || resp.Header.Get("Content-Type") != "application/problem+json") {
			t.Errorf("431 body %q (%s), want the Errors shape", b, resp.Header.Get("Content-Type"))
		}
	}
	if err := stop(); err != nil {
		t.Errorf("clean shutdown returned %v", err)
	}
}

func TestNewTimeouts(t *testing.T) {
	s := server.New(server.Config{Addr: ":1", ReadTimeout: 1, ReadHeaderTimeout: 2, WriteTimeout: 3, IdleTimeout: 4}, http.NotFoundHandler())
	if s.Addr != ":1" || s.ReadTimeout != 1 || s.ReadHeaderTimeout != 2 || s.WriteTimeout != 3 || s.IdleTimeout != 4 {
		t.Errorf("timeouts not applied: %+v", s)
	}
}

func TestAdminMux(t *testing.T) {
	reg := prometheus.NewRegistry()
	reg.MustRegister(prometheus.NewCounter(prometheus.CounterOpts{Name: "svc_test_total", Help: "test"}))
	urls, _ := run(t, time.Second, &http.Server{Handler: server.NewAdminMux(reg), ReadHeaderTimeout: time.Second})
	defer http.DefaultClient.CloseIdleConnections()

	if code, body := get(t, urls[0]+"/metrics"); code != 200 || !strings.Contains(body, "svc_test_total 0") {
		t.Errorf("/metrics: %d %s", code, body)
	}
	checkPprof(t, urls[0])
}

func TestGracefulDrain(t *testing.T) {
	started, release := make(chan struct{}), make(chan struct{})
	srv := &http.Server{ReadHeaderTimeout: time.Second, Handler: http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		close(started)
		<-release
		_, _ = io.WriteString(w, "done")
	})}
	urls, stop := run(t, 5*time.Second, srv)

	type result struct {
		err  error
		body string
	}
	got := make(chan result, 1)
	client := &http.Client{}
	defer client.CloseIdleConnections()
	go func() {
		resp, err := client.Get(urls[0])
		if err != nil {
			got <- result{err: err}
			return
		}
		b, err := io.ReadAll(resp.Body)
		_ = resp.Body.Close()
		got <- result{body: string(b), err: err}
	}()
	<-started

	stopped := make(chan error, 1)
	go func() { stopped <- stop() }()
	// The listener closes at once: new connections are refused...
	deadline := time.Now().Add(2 * time.Second)
	for {
		c, err := net.DialTimeout("tcp", strings.TrimPrefix(urls[0], "http://"), 100*time.Millisecond)
		if err != nil {
			break
		}
		_ = c.Close()
		if time.Now().After(deadline) {
			t.Fatal("listener still open during shutdown")
		}
		time.Sleep(10 * time.Millisecond)
	}
	select {
	case err := <-stopped:
		t.Fatalf("shutdown returned (%v) before the in-flight request finished", err)
	default:
	}
	// ...while the request in flight completes.
	close(release)
	if r := <-got; r.err != nil || r.body != "done" {
		t.Errorf("in-flight request: %q, %v", r.body, r.err)
	}
	if err := <-stopped; err != nil {
		t.Errorf("clean shutdown returned %v", err)
	}
}

func TestShutdownTimeout(t *testing.T) {
	release := make(chan struct{})
	started := make(chan struct{})
	srv := &http.Server{ReadHeaderTimeout: time.Second, Handler: http.HandlerFunc(func(http.ResponseWriter, *http.Request) {
		close(started)
		<-release
	})}
	urls, stop := run(t, 50*time.Millisecond, srv)
	client := &http.Client{}
	errc := make(chan error, 1)
	go func() {
		resp, err := client.Get(urls[0])
		if err == nil {
			_ = resp.Body.Close()
		}
		errc <- err
	}()
	<-started
	if err := stop(); err == nil || !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("stop with a stuck request = %v, want a deadline error", err)
	}
	close(release) // the handler goroutine ends; its connection was closed
	<-errc
	client.CloseIdleConnections()
}

func TestServeListenError(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	ok := &http.Server{Addr: "127.0.0.1:0", ReadHeaderTimeout: time.Second}
	taken := &http.Server{Addr: ln.Addr().String(), ReadHeaderTimeout: time.Second}
	start := time.Now()
	err = server.Serve(context.Background(), time.Second, ok, taken)
	if err == nil || !strings.Contains(err.Error(), ln.Addr().String()) {
		t.Errorf("Serve on a taken port = %v, want an error naming %s", err, ln.Addr())
	}
	if time.Since(start) > 5*time.Second {
		t.Error("listen error was not returned at once")
	}
}

func TestServeShutsDownOnCancel(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	err := server.Serve(ctx, time.Second,
		&http.Server{Addr: "127.0.0.1:0", ReadHeaderTimeout: time.Second},
		&http.Server{Addr: "127.0.0.1:0", ReadHeaderTimeout: time.Second})
	if err != nil {
		t.Errorf("Serve = %v, want nil on a clean shutdown", err)
	}
}

// TestGuard: text PostgreSQL refuses never reaches the handler (400 in the
// error shape), other text does, as sent; the writer passes unwrapped.
func TestGuard(t *testing.T) {
	var reached atomic.Int32
	var got atomic.Value
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		reached.Add(1)
		b := []byte{}
		if r.Body != nil { // a client-side request without a body
			b, _ = io.ReadAll(r.Body)
		}
		got.Store(string(b))
		if r.URL.Path == "/down" {
			w.WriteHeader(http.StatusServiceUnavailable)
			return
		}
		w.WriteHeader(http.StatusOK)
	})
	g := server.Guard(h, apierr.Write)
	cases := []struct {
		name, path, ctype, body string
		want                    int
	}{
		{"plain get", "/things?ids=1&ids=2", "", "", 200},
		{"escaped utf-8 query", "/things?name=%C3%A9t%C3%A9", "", "", 200},
		{"NUL in query", "/things?name=a%00b", "", "", 400},
		{"bad utf-8 in query", "/things?name=%ff%fe", "", "", 400},
		{"json", "/things", "application/json", `{"id":1,"name":"été"}`, 200},
		{"json escaped backslash", "/things", "application/json", `{"name":"a\\u0000b"}`, 200},
		{"json NUL escape", "/things", "application/json; charset=utf-8", `{"name":"a\u0000b"}`, 400},
		{"json three backslashes", "/things", "application/json", `{"name":"a\\\u0000b"}`, 400},
		{"json raw NUL", "/things", "application/json", "{\"name\":\"a\x00b\"}", 400},
		{"json bad utf-8", "/things", "application/problem+json", "{\"name\":\"a\xff\xfeb\"}", 400},
		{"form", "/things", "application/x-www-form-urlencoded", "name=caf%C3%A9", 200},
		{"form NUL", "/things", "application/x-www-form-urlencoded", "name=a%00b", 400},
		{"binary is not text", "/things", "application/octet-stream", "\x00\xff", 200},
	}
	for _, c := range cases {
		reached.Store(0)
		var body io.Reader
		method := http.MethodGet
		if c.body != "" {
			body, method = strings.NewReader(c.body), http.MethodPost
		}
		r, err := http.NewRequest(method, "http://svc"+c.path, body)
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		if c.ctype != "" {
			r.Header.Set("Content-Type", c.ctype)
		}
		w := httptest.NewRecorder()
		g.ServeHTTP(w, r)
		if w.Code != c.want {
			t.Errorf("%s: %d %s, want %d", c.name, w.Code, w.Body.String(), c.want)
			continue
		}
		switch {
		case c.want == 400 && (reached.Load() != 0 || !strings.Contains(w.Body.String(), `"code":400`)):
			t.Errorf("%s: refused input reached the handler (%d) or the answer is not the error shape: %s", c.name, reached.Load(), w.Body.String())
		case c.want == 200 && got.Load() != c.body:
			t.Errorf("%s: the handler read %q, want the body as sent", c.name, got.Load())
		}
	}

	r, _ := http.NewRequest(http.MethodGet, "http://svc/", nil)
	r.URL.Path = "/a\x00b" // as net/http decodes /a%00b
	w := httptest.NewRecorder()
	g.ServeHTTP(w, r)
	if w.Code != 400 {
		t.Errorf("NUL in the path: %d, want 400", w.Code)
	}
	r, _ = http.NewRequest(http.MethodGet, "http://svc/down", nil)
	w = httptest.NewRecorder()
	g.ServeHTTP(w, r)
	if w.Code != 503 {
		t.Errorf("503 from the handler: %d", w.Code)
	}
	// The handler writes to the writer Guard was given, not a wrapper:
	// Retry-After is set where a 503 is written, not by Guard.
	var seen http.ResponseWriter
	w = httptest.NewRecorder()
	server.Guard(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { seen = w }), apierr.Write).
		ServeHTTP(w, httptest.NewRequest(http.MethodGet, "/things", nil))
	if seen != http.ResponseWriter(w) {
		t.Errorf("the handler got %T, want Guard's own writer", seen)
	}
}

// TestBodyTimeout408: a body that does not arrive within ReadTimeout is
// answered 408 in the error shape, not an empty 200.
func TestBodyTimeout408(t *testing.T) {
	api := newAPI(t)
	// Guard reads the body itself; without it the API (ogen) does, and its
	// error handler answers.
	for name, h := range map[string]http.Handler{"guarded": server.Guard(api, apierr.Write), "api alone": api} {
		srv := server.New(server.Config{Addr: "unused", ReadTimeout: 200 * time.Millisecond, ReadHeaderTimeout: time.Second}, h)
		urls, stop := run(t, 5*time.Second, srv)
		conn, err := net.Dial("tcp", strings.TrimPrefix(urls[0], "http://"))
		if err != nil {
			t.Fatal(err)
		}
		_, _ = io.WriteString(conn, "POST /things HTTP/1.1\r\nHost: svc\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{\"id\":")
		_ = conn.SetReadDeadline(time.Now().Add(5 * time.Second))
		b, _ := io.ReadAll(conn)
		_ = conn.Close()
		if !strings.HasPrefix(string(b), "HTTP/1.1 408") || !strings.Contains(string(b), `"code":408`) {
			t.Errorf("%s: body cut short: %q, want a 408 in the error shape", name, b)
		}
		if err := stop(); err != nil {
			t.Error(err)
		}
	}
}

// TestMalformedChunks400: a chunked body net/http cannot parse is the
// client's fault, answered 400 in the error shape, not counted as a
// client that went away (499).
func TestMalformedChunks400(t *testing.T) {
	api := newAPI(t)
	srv := server.New(server.Config{Addr: "unused", ReadTimeout: 5 * time.Second, ReadHeaderTimeout: time.Second}, server.Guard(api, apierr.Write))
	urls, stop := run(t, 5*time.Second, srv)
	conn, err := net.Dial("tcp", strings.TrimPrefix(urls[0], "http://"))
	if err != nil {
		t.Fatal(err)
	}
	_, _ = io.WriteString(conn, "POST /things HTTP/1.1\r\nHost: svc\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n{}\r\n0\r\n\r\n")
	_ = conn.SetReadDeadline(time.Now().Add(5 * time.Second))
	b, _ := io.ReadAll(conn)
	_ = conn.Close()
	if !strings.HasPrefix(string(b), "HTTP/1.1 400") || !strings.Contains(string(b), `"code":400`) {
		t.Errorf("malformed chunk size: %q, want a 400 in the error shape", b)
	}
	if err := stop(); err != nil {
		t.Error(err)
	}
}

// TestLimitSheds: past MaxInFlight requests in the handler, the next is
// answered 503 with Retry-After at once; once one finishes, requests pass
// again.
func TestLimitSheds(t *testing.T) {
	release := make(chan struct{})
	var entered atomic.Int32
	h := server.Limit(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		entered.Add(1)
		<-release
		w.WriteHeader(http.StatusNoContent)
	}), 2, apierr.Write)
	done := make(chan int, 2)
	for range 2 {
		go func() {
			w := httptest.NewRecorder()
			h.ServeHTTP(w, httptest.NewRequest(http.MethodGet, "/things/1", nil))
			done <- w.Code
		}()
	}
	for entered.Load() < 2 {
		time.Sleep(time.Millisecond)
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, httptest.NewRequest(http.MethodGet, "/things/1", nil))
	if w.Code != 503 || w.Header().Get("Retry-After") != apierr.RetryAfter || !strings.Contains(w.Body.String(), `"code":503`) {
		t.Errorf("third request while 2 are in flight: %d %q %s, want 503 with Retry-After", w.Code, w.Header().Get("Retry-After"), w.Body.String())
	}
	close(release)
	for range 2 {
		if code := <-done; code != 204 {
			t.Errorf("an accepted request: %d, want 204", code)
		}
	}
	w = httptest.NewRecorder()
	h.ServeHTTP(w, httptest.NewRequest(http.MethodGet, "/things/1", nil))
	if w.Code != 204 {
		t.Errorf("after the others finished: %d, want 204", w.Code)
	}
	if server.Limit(http.NotFoundHandler(), 0, apierr.Write) == nil {
		t.Error("Limit with 0 must serve without a limit")
	}
}

// TestMaxConns: past MaxConns, a new connection closes an idle keep-alive
// one to make room; with every connection busy it is answered 503.
func TestMaxConns(t *testing.T) {
	release := make(chan struct{})
	var entered atomic.Int32
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/slow" {
			entered.Add(1)
			<-release
		}
		w.WriteHeader(http.StatusNoContent)
	})
	srv := server.New(server.Config{Addr: "unused", ReadHeaderTimeout: time.Second, MaxConns: 2}, h)
	urls, stop := run(t, 5*time.Second, srv)
	addr := strings.TrimPrefix(urls[0], "http://")
	var conns []net.Conn
	defer func() {
		for _, c := range conns {
			_ = c.Close()
		}
	}()
	dial := func() net.Conn {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		conns = append(conns, c)
		return c
	}
	read := func(c net.Conn) string {
		_ = c.SetReadDeadline(time.Now().Add(5 * time.Second))
		b := make([]byte, 512)
		n, _ := c.Read(b)
		return string(b[:n])
	}
	// A client sees its answer a moment before the server marks the
	// connection idle; a connection opened in that moment is refused as
	// if all were busy. served retries such a refusal a few times, as a
	// client would.
	served := func(path string, answered func(net.Conn) bool) net.Conn {
		for try := 0; ; try++ {
			c := dial()
			_, _ = io.WriteString(c, "GET "+path+" HTTP/1.1\r\nHost: svc\r\n\r\n")
			if answered(c) {
				return c
			}
			if try == 20 {
				t.Fatalf("GET %s on a new connection: refused 20 times", path)
			}
			time.Sleep(10 * time.Millisecond)
		}
	}
	fast := func(c net.Conn) bool {
		got := read(c)
		if !strings.HasPrefix(got, "HTTP/1.1 204") && !strings.HasPrefix(got, "HTTP/1.1 503") {
			t.Fatalf("GET /fast: %q, want 204 (or 503 while the limit is reached)", got)
		}
		return strings.HasPrefix(got, "HTTP/1.1 204")
	}
	// Two idle keep-alive connections, then a third: one idle goes.
	served("/fast", fast)
	served("/fast", fast)
	served("/fast", fast)
	// Two busy connections: each makes room by closing an idle one.
	for want := int32(1); want <= 2; want++ {
		served("/slow", func(c net.Conn) bool {
			for deadline := time.Now().Add(2 * time.Second); time.Now().Before(deadline); {
				if entered.Load() >= want {
					return true
				}
				_ = c.SetReadDeadline(time.Now().Add(5 * time.Millisecond))
				b := make([]byte, 512)
				if n, _ := c.Read(b); n > 0 {
					if !strings.HasPrefix(string(b[:n]), "HTTP/1.1 503") {
						t.Fatalf("GET /slow: %q before the handler released it", b[:n])
					}
					return false
				}
			}
			t.Fatal("GET /slow never reached the handler")
			return false
		})
	}
	// With both in the handler, a new connection is refused with 503.
	d := dial()
	_ = d.SetReadDeadline(time.Now().Add(5 * time.Second))
	got, _ := io.ReadAll(d)
	if !strings.HasPrefix(string(got), "HTTP/1.1 503") || !strings.Contains(string(got), "Retry-After: "+apierr.RetryAfter) {
		t.Errorf("a connection past MaxConns with none idle: %q, want 503 with Retry-After", got)
	}
	close(release)
	if err := stop(); err != nil {
		t.Error(err)
	}
}

// BenchmarkOverload offers twice the capacity of a backend (8 requests
// at a time, 5ms each, like a database pool: 1,600/s) over loopback, at a
// steady 3,200/s whatever the answers take (an open loop, as real clients
// are), without and with Limit at the capacity, and reports the p99 of
// the accepted requests and the share shed:
//
//	go test ./internal/platform/server -run '^$' -bench Overload -benchtime 3000x
//
// Without the limit every request queues behind the pool and the p99
// grows with the run; with it the accepted ones keep about the backend's
// own latency and the rest get 503 at once. (The load is sent in bursts
// of 16 every 5ms: a ticker is not reliable below a millisecond.)
func BenchmarkOverload(b *testing.B) {
	const capacity, work = 8, 5 * time.Millisecond
	const burst = 2 * capacity // sent every work period: 2x capacity
	for _, limit := range []int{0, capacity} {
		name := "unlimited"
		if limit > 0 {
			name = "limit=capacity"
		}
		b.Run(name, func(b *testing.B) {
			pool := make(chan struct{}, capacity)
			backend := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				pool <- struct{}{}
				time.Sleep(work)
				<-pool
				w.WriteHeader(http.StatusNoContent)
			})
			ts := httptest.NewServer(server.Limit(backend, limit, apierr.Write))
			defer ts.Close()
			client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 512}}
			defer client.CloseIdleConnections()
			var (
				shed      atomic.Int64
				mu        sync.Mutex
				latencies []time.Duration
				wg        sync.WaitGroup
			)
			b.ResetTimer()
			tick := time.NewTicker(work)
			for i := range b.N {
				if i%burst == 0 {
					<-tick.C
				}
				wg.Go(func() {
					start := time.Now()
					resp, err := client.Get(ts.URL)
					if err != nil {
						b.Error(err)
						return
					}
					_, _ = io.Copy(io.Discard, resp.Body)
					_ = resp.Body.Close()
					if resp.StatusCode == http.StatusServiceUnavailable {
						shed.Add(1)
						return
					}
					mu.Lock()
					latencies = append(latencies, time.Since(start))
					mu.Unlock()
				})
			}
			tick.Stop()
			wg.Wait()
			b.StopTimer()
			if len(latencies) == 0 {
				b.Fatal("no request was accepted")
			}
			slices.Sort(latencies)
			p99 := latencies[len(latencies)*99/100]
			b.ReportMetric(float64(p99.Microseconds())/1000, "p99-ms")
			b.ReportMetric(float64(shed.Load())*100/float64(b.N), "%shed")
		})
	}
}

// TestBodyLimitOnlyWrapsBodies: a request without a body reaches the
// handler as it came, without allocating; one with a body gets its own
// copy of the request, its body limited to MaxBodyBytes.
func TestBodyLimitOnlyWrapsBodies(t *testing.T) {
	var got *http.Request
	var readErr error
	h := server.New(server.Config{Addr: "unused", MaxBodyBytes: 8}, http.HandlerFunc(func(_ http.ResponseWriter, r *http.Request) {
		got = r
		if r.Body != http.NoBody {
			_, readErr = io.ReadAll(r.Body)
		}
	})).Handler
	w := httptest.NewRecorder()

	get := httptest.NewRequest(http.MethodGet, "/things/1", nil)
	get.Body = http.NoBody // as net/http's server gives a request without one
	h.ServeHTTP(w, get)
	if got != get {
		t.Error("GET: the handler got a copy of the request")
	}
	if n := testing.AllocsPerRun(1000, func() { h.ServeHTTP(w, get) }); n != 0 {
		t.Errorf("a GET through the limits allocates %v times, want 0", n)
	}

	post := httptest.NewRequest(http.MethodPost, "/things", strings.NewReader(`{"id":1234567}`))
	h.ServeHTTP(w, post)
	var tooLarge *http.MaxBytesError
	if got == post || !errors.As(readErr, &tooLarge) {
		t.Errorf("POST past MaxBodyBytes: copy %v, read error %v; want a copy whose body stops at 8 bytes", got != post, readErr)
	}
}
