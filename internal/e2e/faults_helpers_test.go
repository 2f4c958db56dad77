package e2e

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/svcgen/svcgen/internal/loadbench"
)

// pgBin is where Debian's PostgreSQL 15 keeps initdb, postgres and pg_isready.
const pgBin = "/usr/lib/postgresql/15/bin"

// needFaultTools skips (fails under CI=true) when the binaries the fault
// suite starts its own servers from are missing.
func needFaultTools(t *testing.T) {
	t.Helper()
	for _, p := range []string{filepath.Join(pgBin, "initdb"), filepath.Join(pgBin, "postgres"), filepath.Join(pgBin, "pg_isready"), "/usr/bin/redis-server"} {
		if _, err := os.Stat(p); err != nil {
			msg := fmt.Sprintf("%s not found: the fault suite starts private servers from it (apt-get install -y postgresql-15 redis-server)", p)
			if os.Getenv("CI") == "true" {
				t.Fatal(msg)
			}
			t.Skip(msg)
		}
	}
	if _, err := exec.LookPath("psql"); err != nil {
		t.Fatal("psql not found (apt-get install -y postgresql-client): the fault suite reads its database with it")
	}
}

// privatePG is a PostgreSQL cluster of the test's own, in a temporary
// folder on a free port: stopping it hurts nobody else.
type privatePG struct {
	cred *syscall.Credential // the postgres user's when the test runs as root
	cmd  *exec.Cmd           // the postmaster
	done chan struct{}       // closed when it has exited
	dir  string
	data string
	port string
	URL  string
}

func startPrivatePG(t *testing.T) *privatePG {
	t.Helper()
	dir := t.TempDir()
	p := &privatePG{dir: dir, data: filepath.Join(dir, "data")}
	if os.Geteuid() == 0 { // initdb and postgres refuse to run as root
		u, err := user.Lookup("postgres")
		if err != nil {
			t.Fatalf("running as root, the private PostgreSQL needs the postgres user: %v", err)
		}
		uid, _ := strconv.Atoi(u.Uid)
		gid, _ := strconv.Atoi(u.Gid)
		p.cred = &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}
		// Let that user reach the folder: the test's temporary folders are 0700.
		for _, d := range []string{filepath.Dir(dir), dir} {
			if err := os.Chmod(d, 0o711); err != nil {
				t.Fatal(err)
			}
		}
		if err := os.Chown(dir, uid, gid); err != nil {
			t.Fatal(err)
		}
	}
	if out, err := p.command(filepath.Join(pgBin, "initdb"), "-D", p.data, "-U", "postgres", "-A", "trust",
		"-E", "UTF8", "--no-sync", "--no-instructions").CombinedOutput(); err != nil {
		t.Fatalf("initdb: %v\n%s", err, out)
	}
	addr, err := loadbench.FreeAddr()
	if err != nil {
		t.Fatal(err)
	}
	_, p.port, _ = net.SplitHostPort(addr)
	p.URL = "postgres://postgres@127.0.0.1:" + p.port + "/postgres?sslmode=disable"
	if err := p.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = p.Stop() })
	return p
}

func (p *privatePG) command(name string, args ...string) *exec.Cmd {
	cmd := exec.Command(name, args...)
	cmd.Dir = p.dir
	// Pdeathsig: a server of the test's own never outlives it, even when
	// the test binary is killed (-timeout) before its clean-ups run.
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: p.cred, Pdeathsig: syscall.SIGKILL}
	return cmd
}

// Start runs the postmaster (not through pg_ctl, which would detach it)
// and waits until it accepts connections.
func (p *privatePG) Start() error {
	logf, err := os.OpenFile(filepath.Join(p.dir, "postgres.log"), os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
	if err != nil {
		return err
	}
	p.cmd = p.command(filepath.Join(pgBin, "postgres"), "-D", p.data, "-p", p.port,
		"-c", "listen_addresses=127.0.0.1", "-c", "unix_socket_directories="+p.dir,
		"-c", "fsync=off", "-c", "synchronous_commit=off", "-c", "full_page_writes=off")
	p.cmd.Stdout, p.cmd.Stderr = logf, logf
	if err := p.cmd.Start(); err != nil {
		logf.Close()
		return fmt.Errorf("postgres: %w", err)
	}
	p.done = make(chan struct{})
	go func() { _ = p.cmd.Wait(); logf.Close(); close(p.done) }()
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		select {
		case <-p.done:
			return fmt.Errorf("postgres exited at start\n%s", tail(filepath.Join(p.dir, "postgres.log")))
		default:
		}
		if exec.Command(filepath.Join(pgBin, "pg_isready"), "-q", "-h", "127.0.0.1", "-p", p.port, "-t", "1").Run() == nil {
			return nil
		}
	}
	return fmt.Errorf("postgres on port %s not ready within 30s\n%s", p.port, tail(filepath.Join(p.dir, "postgres.log")))
}

// Stop is an immediate shutdown (SIGQUIT to the postmaster, what
// `pg_ctl stop -m immediate` sends): every backend is cut at once, as in
// a crash, and the next start runs crash recovery.
func (p *privatePG) Stop() error {
	if p.cmd == nil || p.cmd.Process == nil {
		return nil
	}
	select {
	case <-p.done:
		return nil
	default:
	}
	if err := p.cmd.Process.Signal(syscall.SIGQUIT); err != nil {
		return err
	}
	select {
	case <-p.done:
		return nil
	case <-time.After(10 * time.Second):
		_ = p.cmd.Process.Kill()
		<-p.done
		return errors.New("postgres ignored SIGQUIT for 10s: killed")
	}
}

// privateRedis is a redis-server of the test's own, without persistence:
// after a kill -9 it comes back empty, as a cache may.
type privateRedis struct {
	cmd  *exec.Cmd
	done chan struct{}
	dir  string
	Addr string
	URL  string
}

func startPrivateRedis(t *testing.T) *privateRedis {
	t.Helper()
	addr, err := loadbench.FreeAddr()
	if err != nil {
		t.Fatal(err)
	}
	r := &privateRedis{dir: t.TempDir(), Addr: addr, URL: "redis://" + addr + "/0"}
	if err := r.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(r.Kill)
	return r
}

// Start starts redis-server on r.Addr and waits until it answers PING.
func (r *privateRedis) Start() error {
	_, port, _ := net.SplitHostPort(r.Addr)
	logf, err := os.OpenFile(filepath.Join(r.dir, "redis.log"), os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
	if err != nil {
		return err
	}
	r.cmd = exec.Command("/usr/bin/redis-server", "--port", port, "--bind", "127.0.0.1", "--save", "",
		"--appendonly", "no", "--dir", r.dir, "--protected-mode", "no")
	r.cmd.Stdout, r.cmd.Stderr = logf, logf
	r.cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := r.cmd.Start(); err != nil {
		logf.Close()
		return fmt.Errorf("redis-server: %w", err)
	}
	r.done = make(chan struct{})
	go func() { _ = r.cmd.Wait(); logf.Close(); close(r.done) }()
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if redisPing(r.Addr) == nil {
			return nil
		}
	}
	return fmt.Errorf("redis-server on %s did not answer PING within 10s\n%s", r.Addr, tail(filepath.Join(r.dir, "redis.log")))
}

// Kill is kill -9.
func (r *privateRedis) Kill() {
	if r.cmd == nil || r.cmd.Process == nil {
		return
	}
	select {
	case <-r.done:
	default:
		_ = r.cmd.Process.Kill()
		<-r.done
	}
}

func redisPing(addr string) error {
	c, err := net.DialTimeout("tcp", addr, time.Second)
	if err != nil {
		return err
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(time.Second))
	if _, err := c.Write([]byte("PING\r\n")); err != nil {
		return err
	}
	line, err := bufio.NewReader(c).ReadString('\n')
	if err != nil {
		return err
	}
	if !strings.HasPrefix(line, "+PONG") {
		return fmt.Errorf("PING answered %q", line)
	}
	return nil
}

// svcProc is one running service binary.
type svcProc struct {
	cmd     *exec.Cmd
	done    chan struct{}
	err     error // Wait's, once done is closed
	log     string
	HTTP    string // http://127.0.0.1:PORT
	Admin   string
	exitAt  time.Time
	started time.Time
}

func startSvc(t *testing.T, ctx context.Context, bin string, env []string, logPath string) *svcProc {
	t.Helper()
	httpAddr, _ := loadbench.FreeAddr()
	adminAddr, _ := loadbench.FreeAddr()
	logf, err := os.Create(logPath)
	if err != nil {
		t.Fatal(err)
	}
	p := &svcProc{done: make(chan struct{}), log: logPath, HTTP: "http://" + httpAddr, Admin: "http://" + adminAddr}
	p.cmd = exec.Command(bin)
	p.cmd.Env = append(env[:len(env):len(env)], "HTTP_ADDR="+httpAddr, "ADMIN_ADDR="+adminAddr)
	p.cmd.Stdout, p.cmd.Stderr = logf, logf
	p.cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	p.started = time.Now()
	go func() { p.err = p.cmd.Wait(); p.exitAt = time.Now(); logf.Close(); close(p.done) }()
	t.Cleanup(func() {
		select {
		case <-p.done:
		default:
			_ = p.cmd.Process.Kill()
			<-p.done
		}
	})
	client := &http.Client{Timeout: 2 * time.Second}
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		select {
		case <-p.done:
			t.Fatalf("%s exited before it was ready: %v\n%s", bin, p.err, tail(logPath))
		case <-ctx.Done():
			t.Fatal(ctx.Err())
		default:
		}
		if code, err := do(ctx, client, http.MethodGet, p.HTTP+"/readyz", ""); err == nil && code == http.StatusOK {
			return p
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s did not answer /readyz 200 within 30s\n%s", bin, tail(logPath))
		}
	}
}

// outcome is one answer (or failure) of the load.
type outcome struct {
	at   time.Time // when it came back
	kind string    // what was asked: see the load functions
	code int       // 0: no HTTP answer (connection refused, reset, timeout)
	// bad503 is set on a 503 without Retry-After or not in the spec's
	// error shape ({"code":503,"message":"..."}).
	bad503 bool
}

// recorder collects outcomes from the load workers.
type recorder struct {
	mu  sync.Mutex
	out []outcome
}

func (r *recorder) add(o outcome) {
	r.mu.Lock()
	r.out = append(r.out, o)
	r.mu.Unlock()
}

// window returns the outcomes that came back in [from, to) (a zero to: up
// to now), of any of kinds (none: all).
func (r *recorder) window(from, to time.Time, kinds ...string) []outcome {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []outcome
	for _, o := range r.out {
		if o.at.Before(from) || !to.IsZero() && !o.at.Before(to) {
			continue
		}
		if len(kinds) == 0 || slices.Contains(kinds, o.kind) {
			out = append(out, o)
		}
	}
	return out
}

// firstOK is when the first 2xx of one of kinds came back at or after
// from, or the zero time.
func (r *recorder) firstOK(from time.Time, kinds ...string) time.Time {
	for _, o := range r.window(from, time.Time{}, kinds...) {
		if o.code >= 200 && o.code < 300 {
			return o.at
		}
	}
	return time.Time{}
}

// counts are a scenario's answers by class.
type counts struct {
	total, ok, c4xx, c503, c5xx, other, bad503, c500 int
	codes                                            map[int]int
}

func count(list []outcome) counts {
	c := counts{codes: map[int]int{}}
	for _, o := range list {
		c.total++
		c.codes[o.code]++
		switch {
		case o.code == 0:
			c.other++
		case o.code < 300:
			c.ok++
		case o.code < 500:
			c.c4xx++
		case o.code == http.StatusServiceUnavailable:
			c.c503++
		default:
			c.c5xx++
		}
		if o.code == http.StatusInternalServerError {
			c.c500++
		}
		if o.bad503 {
			c.bad503++
		}
	}
	return c
}

// codeList is "200×12, 503×3" for the log.
func (c counts) codeList() string {
	keys := make([]int, 0, len(c.codes))
	for k := range c.codes {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	parts := make([]string, 0, len(keys))
	for _, k := range keys {
		name := strconv.Itoa(k)
		if k == 0 {
			name = "conn-error"
		}
		parts = append(parts, fmt.Sprintf("%s×%d", name, c.codes[k]))
	}
	return strings.Join(parts, ", ")
}

// request is one load request.
type request struct {
	method, url, body, kind string
}

// runLoad runs workers, each sending next's requests one after another
// with a short pause (bounded load), until stop is closed or ctx ends.
func runLoad(ctx context.Context, rec *recorder, workers int, stop <-chan struct{}, next func(rng *rand.Rand, w, seq int) request) *sync.WaitGroup {
	client := &http.Client{Timeout: 3 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: workers}}
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			rng := rand.New(rand.NewPCG(uint64(w), uint64(time.Now().UnixNano())))
			for seq := 0; ; seq++ {
				select {
				case <-stop:
					return
				case <-ctx.Done():
					return
				case <-time.After(2 * time.Millisecond):
				}
				rq := next(rng, w, seq)
				rec.add(send(ctx, client, rq))
			}
		})
	}
	return &wg
}

// send sends one request and classifies its answer.
func send(ctx context.Context, client *http.Client, rq request) outcome {
	var body io.Reader
	if rq.body != "" {
		body = strings.NewReader(rq.body)
	}
	req, err := http.NewRequestWithContext(ctx, rq.method, rq.url, body)
	if err != nil {
		return outcome{at: time.Now(), kind: rq.kind}
	}
	if rq.body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := client.Do(req)
	if err != nil {
		return outcome{at: time.Now(), kind: rq.kind}
	}
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<16))
	resp.Body.Close()
	o := outcome{at: time.Now(), kind: rq.kind, code: resp.StatusCode}
	if resp.StatusCode == http.StatusServiceUnavailable {
		o.bad503 = !errorShape(resp.Header, b, http.StatusServiceUnavailable) || resp.Header.Get("Retry-After") == ""
	}
	return o
}

// errorShape reports whether an answer is the starter spec's Error:
// JSON {"code":status,"message":"..."}.
func errorShape(h http.Header, b []byte, status int) bool {
	if !strings.HasPrefix(h.Get("Content-Type"), "application/json") {
		return false
	}
	var e struct {
		Message *string `json:"message"`
		Code    int     `json:"code"`
	}
	return json.Unmarshal(b, &e) == nil && e.Code == status && e.Message != nil && *e.Message != ""
}

// rawCase is one malformed request, sent byte for byte on its own
// connection.
type rawCase struct {
	name string
	raw  []byte
	// trickle sends raw one byte at a time with this pause (slowloris).
	trickle time.Duration
	// want is the status expected: an exact code, 4 for any 4xx, or
	// closed when the server should hang up without an answer.
	want int
}

// closed is rawCase.want for a connection the server ends without
// answering; closedOr4xx accepts that or a 4xx.
const (
	closed      = -1
	closedOr4xx = -2
)

// readFinal reads the final answer, past any 1xx (100 Continue).
func readFinal(br *bufio.Reader) (*http.Response, error) {
	for {
		resp, err := http.ReadResponse(br, nil)
		if err != nil || resp.StatusCode >= 200 || resp.StatusCode == http.StatusSwitchingProtocols {
			return resp, err
		}
	}
}

// rawResult is what a rawCase got.
type rawResult struct {
	err     error
	name    string
	code    int // 0: no answer
	elapsed time.Duration
	shapeOK bool
}

// rawRequest builds a request: the Host, Content-Length (unless headers
// set it or Transfer-Encoding) and Connection: close headers are added.
func rawRequest(method, target string, headers []string, body []byte) []byte {
	var b bytes.Buffer
	fmt.Fprintf(&b, "%s %s HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n", method, target)
	hasLen := false
	for _, h := range headers {
		l := strings.ToLower(h)
		if strings.HasPrefix(l, "content-length:") || strings.HasPrefix(l, "transfer-encoding:") {
			hasLen = true
		}
		b.WriteString(h + "\r\n")
	}
	if !hasLen && (body != nil || method == http.MethodPost || method == http.MethodPut) {
		fmt.Fprintf(&b, "Content-Length: %d\r\n", len(body))
	}
	b.WriteString("\r\n")
	b.Write(body)
	return b.Bytes()
}

// sendRaw sends c on a new connection to addr (host:port) and reads the
// answer, waiting at most within.
func sendRaw(addr string, c rawCase, within time.Duration) rawResult {
	res := rawResult{name: c.name}
	start := time.Now()
	conn, err := net.DialTimeout("tcp", addr, 2*time.Second)
	if err != nil {
		res.err = err
		return res
	}
	defer conn.Close()
	_ = conn.SetDeadline(start.Add(within))
	go func() { // write while reading: the server may answer (413) before the body is all sent
		if c.trickle == 0 {
			_, _ = conn.Write(c.raw)
			return
		}
		for i := range c.raw {
			if _, err := conn.Write(c.raw[i : i+1]); err != nil {
				return
			}
			time.Sleep(c.trickle)
		}
	}()
	resp, err := readFinal(bufio.NewReader(conn))
	res.elapsed = time.Since(start)
	if err != nil {
		var ne net.Error
		if errors.As(err, &ne) && ne.Timeout() {
			res.err = fmt.Errorf("no answer and the connection still open after %v", within)
		}
		return res // code 0: closed without an answer (or res.err)
	}
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<16))
	resp.Body.Close()
	res.code = resp.StatusCode
	res.shapeOK = errorShape(resp.Header, b, resp.StatusCode)
	return res
}

// ioCopy copies an answer's body (at most 4 MiB) to w and closes it.
func ioCopy(w io.Writer, resp *http.Response) (int64, error) {
	defer resp.Body.Close()
	return io.Copy(w, io.LimitReader(resp.Body, 4<<20))
}
