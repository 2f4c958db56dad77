// Package loadbench drives a server process with a bounded HTTP load on
// loopback and measures it: throughput, latency quantiles, errors and, most
// usefully on a small shared machine, the server's own CPU time per request.
//
// It exists to compare a generated svcgen service with the hand-written
// stdlib baseline in ./baseline on the same request, GET /items/{id}:
//
//	base, err := loadbench.Run(ctx, baselineTarget, opts)
//	cand, err := loadbench.Run(ctx, generatedTarget, opts)
//	fmt.Print(loadbench.Compare(base, cand))
//
// Run owns the server process: it starts Target.Cmd, waits until the server
// answers, seeds it (Target.Setup), warms it up, attacks it with vegeta, then
// stops it with SIGTERM. Traffic goes only to loopback addresses, and every
// phase is bounded in time.
package loadbench

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"text/tabwriter"
	"time"

	vegeta "github.com/tsenart/vegeta/v12/lib"
)

// Target is one server under test.
type Target struct {
	// Name labels the target in reports.
	Name string
	// Cmd is the built server binary with its arguments and environment,
	// not yet started. Run starts it, so a Cmd serves one Run only. When
	// Cmd.Stdout or Cmd.Stderr is nil, the output is kept (the last few KiB)
	// for error messages.
	Cmd *exec.Cmd
	// URL is the server's base URL, e.g. http://127.0.0.1:18080. Its host
	// must be a loopback address.
	URL string
	// Setup, when set, runs once the server answers and before the warm-up,
	// e.g. to POST the items that the load then reads.
	Setup func(ctx context.Context, baseURL string) error
}

// Options shape the load. The zero value is usable: max rate with
// 2*GOMAXPROCS workers for 3 s after a 1 s warm-up, ids 1..1000.
type Options struct {
	// Rate is the constant request rate per second; 0 means as fast as
	// Workers can go.
	Rate int
	// Workers is the number of concurrent clients at max rate, and the
	// initial worker count at a constant rate (default 2*GOMAXPROCS).
	Workers int
	// Duration is the measured attack (default 3s, at most 10m).
	Duration time.Duration
	// Warmup is an unmeasured attack before it (default 1s; negative: none).
	Warmup time.Duration
	// MinID and MaxID bound the item ids requested, round robin
	// (default 1..1000).
	MinID, MaxID int
	// Path is the request path format with one %d for the id
	// (default "/items/%d").
	Path string
	// ReadyPath is polled with GET until it answers 2xx (default "/healthz").
	ReadyPath string
	// StartTimeout bounds the wait for ReadyPath (default 15s).
	StartTimeout time.Duration
	// RequestTimeout bounds each request (default 5s).
	RequestTimeout time.Duration
}

// Report is what one Run measured.
type Report struct {
	// StatusCodes counts responses by status code ("0" is a transport error).
	StatusCodes map[string]int
	// Name is the Target's name.
	Name string
	// Errors lists up to five distinct error messages seen.
	Errors []string
	// Requests is the number of requests sent in the measured window.
	Requests uint64
	// Failed counts requests that got a transport error or a non-2xx status.
	Failed uint64
	// Duration is the measured window, from first request to last response.
	Duration time.Duration
	// ReqPerSec is the rate of successful requests.
	ReqPerSec float64
	// P50 and P99 are latency quantiles as the client saw them.
	P50, P99 time.Duration
	// CPU is the server's user+system CPU time during the measured window
	// (from /proc/<pid>/stat, in clock ticks: 10 ms resolution at 100 Hz).
	CPU time.Duration
	// CPUPerReq is CPU divided by Requests.
	CPUPerReq time.Duration
	// ProcessCPU is the server's user+system CPU over its whole life
	// (start, setup, warm-up and load), from its rusage.
	ProcessCPU time.Duration
	// MaxRSS is the server's peak resident set size in KiB (VmHWM in
	// /proc/<pid>/status just before it is stopped; the rusage's maxrss
	// would count the parent's memory the child had before its exec). 0:
	// not known.
	MaxRSS int64
}

func (o Options) withDefaults() Options {
	if o.Workers <= 0 {
		o.Workers = 2 * runtime.GOMAXPROCS(0)
	}
	if o.Duration <= 0 {
		o.Duration = 3 * time.Second
	}
	if o.Duration > 10*time.Minute {
		o.Duration = 10 * time.Minute
	}
	if o.Warmup == 0 {
		o.Warmup = time.Second
	}
	if o.MinID <= 0 && o.MaxID <= 0 {
		o.MinID, o.MaxID = 1, 1000
	}
	if o.MinID <= 0 {
		o.MinID = 1
	}
	if o.MaxID < o.MinID {
		o.MaxID = o.MinID
	}
	if o.Path == "" {
		o.Path = "/items/%d"
	}
	if o.ReadyPath == "" {
		o.ReadyPath = "/healthz"
	}
	if o.StartTimeout <= 0 {
		o.StartTimeout = 15 * time.Second
	}
	if o.RequestTimeout <= 0 {
		o.RequestTimeout = 5 * time.Second
	}
	return o
}

// Run starts t's server, loads it as opts say, stops it and reports. The
// server is stopped on every path out, including errors and ctx's end.
func Run(ctx context.Context, t Target, opts Options) (Report, error) {
	opts = opts.withDefaults()
	rep := Report{Name: t.Name}
	base, err := loopbackURL(t.URL)
	if err != nil {
		return rep, fmt.Errorf("loadbench: %s: %w", t.Name, err)
	}
	if t.Cmd == nil {
		return rep, fmt.Errorf("loadbench: %s: no command", t.Name)
	}

	out := &tailBuffer{max: 8 << 10}
	if t.Cmd.Stdout == nil {
		t.Cmd.Stdout = out
	}
	if t.Cmd.Stderr == nil {
		t.Cmd.Stderr = out
	}
	if err := t.Cmd.Start(); err != nil {
		return rep, fmt.Errorf("loadbench: %s: start: %w", t.Name, err)
	}
	exited := make(chan struct{})
	var waitErr error
	go func() { waitErr = t.Cmd.Wait(); close(exited) }()

	fail := func(err error) (Report, error) {
		stop(t.Cmd, exited)
		return rep, fmt.Errorf("loadbench: %s: %w\nserver output:\n%s", t.Name, err, out.String())
	}

	if err := waitReady(ctx, base+opts.ReadyPath, opts.StartTimeout, exited); err != nil {
		return fail(err)
	}
	if t.Setup != nil {
		if err := t.Setup(ctx, base); err != nil {
			return fail(fmt.Errorf("setup: %w", err))
		}
	}

	client := newClient(opts)
	defer client.CloseIdleConnections()
	targeter := itemTargeter(base, opts)
	if opts.Warmup > 0 {
		attack(ctx, newAttacker(client, opts), targeter, opts, opts.Warmup, nil)
	}

	pid := t.Cmd.Process.Pid
	cpu0, err := procCPU(pid)
	if err != nil {
		return fail(err)
	}
	var m vegeta.Metrics
	attack(ctx, newAttacker(client, opts), targeter, opts, opts.Duration, &m)
	cpu1, err := procCPU(pid)
	if err != nil {
		return fail(err)
	}
	m.Close()
	if err := ctx.Err(); err != nil {
		return fail(err)
	}

	select {
	case <-exited:
		return fail(fmt.Errorf("server exited during the load: %v", waitErr))
	default:
	}
	rep.MaxRSS = peakRSS(pid)
	stop(t.Cmd, exited)

	rep.Requests = m.Requests
	rep.StatusCodes = m.StatusCodes
	for code, n := range m.StatusCodes {
		if c, _ := strconv.Atoi(code); c < 200 || c > 299 {
			rep.Failed += uint64(n)
		}
	}
	rep.Errors = m.Errors
	if len(rep.Errors) > 5 {
		rep.Errors = rep.Errors[:5]
	}
	rep.Duration = m.Duration + m.Wait
	rep.ReqPerSec = m.Throughput
	rep.P50 = m.Latencies.P50
	rep.P99 = m.Latencies.P99
	rep.CPU = cpu1 - cpu0
	if m.Requests > 0 {
		rep.CPUPerReq = rep.CPU / time.Duration(m.Requests)
	}
	if ru, ok := t.Cmd.ProcessState.SysUsage().(*syscall.Rusage); ok {
		rep.ProcessCPU = time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
	}
	return rep, nil
}

// RunPaired starts a's and b's servers side by side and loads them in
// turn, slices times each, in the order a b, b a, a b... (each slice
// Duration/slices long), after one warm-up each. The machine's other load
// then falls on both alike: a slow minute on a shared machine lands in a
// slice of each, not in one target's whole run as with two Runs one after
// the other. Each Report sums its target's slices: CPU is the server's
// own CPU during them (from /proc), Requests, Failed and the latency
// quantiles are over all of them, and ReqPerSec is the successful
// requests over the slices' total time. Both servers are stopped on every
// path out.
func RunPaired(ctx context.Context, a, b Target, opts Options, slices int) (Report, Report, error) {
	opts = opts.withDefaults()
	if slices < 1 {
		slices = 1
	}
	sa, err := startServer(ctx, a, opts)
	if err != nil {
		return Report{Name: a.Name}, Report{Name: b.Name}, err
	}
	defer sa.stop()
	sb, err := startServer(ctx, b, opts)
	if err != nil {
		return Report{Name: a.Name}, Report{Name: b.Name}, err
	}
	defer sb.stop()
	for _, s := range []*server{sa, sb} {
		s.warm(ctx)
	}
	slice := opts.Duration / time.Duration(slices)
	for i := 0; i < slices; i++ {
		order := []*server{sa, sb}
		if i%2 == 1 {
			order = []*server{sb, sa}
		}
		for _, s := range order {
			if err := s.measure(ctx, slice); err != nil {
				return sa.rep, sb.rep, err
			}
		}
	}
	ra, err := sa.finish()
	if err != nil {
		return ra, sb.rep, err
	}
	rb, err := sb.finish()
	return ra, rb, err
}

// server is one Target's running server while RunPaired measures it.
type server struct {
	t        Target
	opts     Options
	out      *tailBuffer
	exited   chan struct{}
	waitErr  error
	client   *http.Client
	targeter vegeta.Targeter
	m        vegeta.Metrics
	rep      Report
	active   time.Duration
	stopped  bool
}

func startServer(ctx context.Context, t Target, opts Options) (*server, error) {
	s := &server{t: t, opts: opts, rep: Report{Name: t.Name}, out: &tailBuffer{max: 8 << 10}, exited: make(chan struct{})}
	base, err := loopbackURL(t.URL)
	if err != nil {
		return nil, fmt.Errorf("loadbench: %s: %w", t.Name, err)
	}
	if t.Cmd == nil {
		return nil, fmt.Errorf("loadbench: %s: no command", t.Name)
	}
	if t.Cmd.Stdout == nil {
		t.Cmd.Stdout = s.out
	}
	if t.Cmd.Stderr == nil {
		t.Cmd.Stderr = s.out
	}
	if err := t.Cmd.Start(); err != nil {
		return nil, fmt.Errorf("loadbench: %s: start: %w", t.Name, err)
	}
	go func() { s.waitErr = t.Cmd.Wait(); close(s.exited) }()
	if err := waitReady(ctx, base+opts.ReadyPath, opts.StartTimeout, s.exited); err != nil {
		return nil, s.fail(err)
	}
	if t.Setup != nil {
		if err := t.Setup(ctx, base); err != nil {
			return nil, s.fail(fmt.Errorf("setup: %w", err))
		}
	}
	s.client = newClient(opts)
	s.targeter = itemTargeter(base, opts)
	return s, nil
}

// fail stops the server and returns err with the server's output.
func (s *server) fail(err error) error {
	s.stop()
	return fmt.Errorf("loadbench: %s: %w\nserver output:\n%s", s.t.Name, err, s.out.String())
}

func (s *server) stop() {
	if s.stopped {
		return
	}
	s.stopped = true
	if s.client != nil {
		s.client.CloseIdleConnections()
	}
	stop(s.t.Cmd, s.exited)
}

func (s *server) warm(ctx context.Context) {
	if s.opts.Warmup > 0 {
		attack(ctx, newAttacker(s.client, s.opts), s.targeter, s.opts, s.opts.Warmup, nil)
	}
}

// measure runs one slice of load and adds it to the server's report.
func (s *server) measure(ctx context.Context, d time.Duration) error {
	pid := s.t.Cmd.Process.Pid
	cpu0, err := procCPU(pid)
	if err != nil {
		return s.fail(err)
	}
	start := time.Now()
	attack(ctx, newAttacker(s.client, s.opts), s.targeter, s.opts, d, &s.m)
	s.active += time.Since(start)
	cpu1, err := procCPU(pid)
	if err != nil {
		return s.fail(err)
	}
	if err := ctx.Err(); err != nil {
		return s.fail(err)
	}
	select {
	case <-s.exited:
		return s.fail(fmt.Errorf("server exited during the load: %v", s.waitErr))
	default:
	}
	s.rep.CPU += cpu1 - cpu0
	return nil
}

// finish stops the server and completes its report.
func (s *server) finish() (Report, error) {
	s.rep.MaxRSS = peakRSS(s.t.Cmd.Process.Pid)
	s.stop()
	s.m.Close()
	rep := &s.rep
	rep.Requests = s.m.Requests
	rep.StatusCodes = s.m.StatusCodes
	var ok uint64
	for code, n := range s.m.StatusCodes {
		if c, _ := strconv.Atoi(code); c < 200 || c > 299 {
			rep.Failed += uint64(n)
		} else {
			ok += uint64(n)
		}
	}
	rep.Errors = s.m.Errors
	if len(rep.Errors) > 5 {
		rep.Errors = rep.Errors[:5]
	}
	rep.Duration = s.active
	if s.active > 0 {
		rep.ReqPerSec = float64(ok) / s.active.Seconds()
	}
	rep.P50 = s.m.Latencies.P50
	rep.P99 = s.m.Latencies.P99
	if s.m.Requests > 0 {
		rep.CPUPerReq = rep.CPU / time.Duration(s.m.Requests)
	}
	if ru, ok := s.t.Cmd.ProcessState.SysUsage().(*syscall.Rusage); ok {
		rep.ProcessCPU = time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
	}
	return *rep, nil
}

// loopbackURL checks that raw is an http URL on a loopback host and returns
// it without a trailing slash.
func loopbackURL(raw string) (string, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return "", fmt.Errorf("target URL: %w", err)
	}
	if u.Scheme != "http" {
		return "", fmt.Errorf("target URL %q: want http://127.0.0.1:PORT", raw)
	}
	host := u.Hostname()
	if ip := net.ParseIP(host); host != "localhost" && (ip == nil || !ip.IsLoopback()) {
		return "", fmt.Errorf("target URL %q: load goes only to loopback addresses", raw)
	}
	return strings.TrimRight(raw, "/"), nil
}

// waitReady polls url until it answers 2xx, the process exits, or timeout.
func waitReady(ctx context.Context, url string, timeout time.Duration, exited <-chan struct{}) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	client := &http.Client{Timeout: time.Second}
	var last error
	for {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		if err != nil {
			return err
		}
		resp, err := client.Do(req)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode/100 == 2 {
				return nil
			}
			err = fmt.Errorf("GET %s: %s", url, resp.Status)
		}
		last = err
		select {
		case <-exited:
			return errors.New("server exited before it answered")
		case <-ctx.Done():
			return fmt.Errorf("server did not answer within %v: %v", timeout, last)
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// newClient is the HTTP client every attack on one target shares, so the
// measured attack reuses the warm-up's keep-alive connections.
func newClient(opts Options) *http.Client {
	return &http.Client{
		Timeout: opts.RequestTimeout,
		Transport: &http.Transport{
			Proxy:               nil, // loopback only, never through a proxy
			DialContext:         (&net.Dialer{KeepAlive: 30 * time.Second}).DialContext,
			MaxIdleConnsPerHost: opts.Workers,
		},
	}
}

// newAttacker returns a vegeta attacker for one attack (a stopped attacker
// cannot attack again).
func newAttacker(client *http.Client, opts Options) *vegeta.Attacker {
	w := uint64(opts.Workers)
	maxW := w // max rate: exactly Workers clients
	if opts.Rate > 0 {
		maxW = vegeta.DefaultMaxWorkers // as many as the rate needs
	}
	return vegeta.NewAttacker(
		vegeta.Client(client),
		vegeta.Workers(w),
		vegeta.MaxWorkers(maxW),
		vegeta.Redirects(vegeta.NoFollow),
	)
}

// itemTargeter requests opts.Path for ids MinID..MaxID, round robin.
func itemTargeter(base string, opts Options) vegeta.Targeter {
	var next atomic.Uint64
	span := uint64(opts.MaxID - opts.MinID + 1)
	return func(t *vegeta.Target) error {
		id := opts.MinID + int((next.Add(1)-1)%span)
		t.Method = http.MethodGet
		t.URL = base + fmt.Sprintf(opts.Path, id)
		return nil
	}
}

// attack runs one attack of length d and adds its results to m (if non-nil).
// It returns early when ctx ends.
func attack(ctx context.Context, atk *vegeta.Attacker, tr vegeta.Targeter, opts Options, d time.Duration, m *vegeta.Metrics) {
	pacer := vegeta.Rate{Freq: opts.Rate, Per: time.Second} // Freq 0: max rate
	done := make(chan struct{})
	defer close(done)
	go func() {
		select {
		case <-ctx.Done():
			atk.Stop()
		case <-done:
		}
	}()
	for res := range atk.Attack(tr, pacer, d, "load") {
		if m != nil {
			m.Add(res)
		}
	}
}

// stop sends SIGTERM and waits up to 10 s for the process to exit, then kills it.
func stop(cmd *exec.Cmd, exited <-chan struct{}) {
	select {
	case <-exited:
		return
	default:
	}
	_ = cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-exited:
	case <-time.After(10 * time.Second):
		_ = cmd.Process.Kill()
		<-exited
	}
}

var clockTicks = sync.OnceValue(func() int64 {
	out, err := exec.Command("getconf", "CLK_TCK").Output()
	if err == nil {
		if n, err := strconv.ParseInt(strings.TrimSpace(string(out)), 10, 64); err == nil && n > 0 {
			return n
		}
	}
	// USER_HZ is 100 on every Linux architecture Go supports; /proc/<pid>/stat
	// reports in it whatever the kernel's internal HZ.
	return 100
})

// procCPU returns the user+system CPU time the process (all its threads) has
// used so far, from /proc/<pid>/stat.
func procCPU(pid int) (time.Duration, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, fmt.Errorf("read server CPU time: %w", err)
	}
	// The command name (field 2) may hold spaces; fields after it are plain.
	i := bytes.LastIndexByte(b, ')')
	var f []string
	if i >= 0 {
		f = strings.Fields(string(b[i+1:]))
	}
	if len(f) < 13 {
		return 0, fmt.Errorf("read server CPU time: unexpected /proc/%d/stat", pid)
	}
	utime, err1 := strconv.ParseInt(f[11], 10, 64) // field 14
	stime, err2 := strconv.ParseInt(f[12], 10, 64) // field 15
	if err := errors.Join(err1, err2); err != nil {
		return 0, fmt.Errorf("read server CPU time: %w", err)
	}
	return time.Duration(utime+stime) * time.Second / time.Duration(clockTicks()), nil
}

// peakRSS is the process's peak resident set size in KiB (VmHWM), 0 when
// /proc does not say.
func peakRSS(pid int) int64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0
	}
	for line := range strings.Lines(string(b)) {
		if v, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			n, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
			return n
		}
	}
	return 0
}

// Median is the median of v (of an even count, the upper of the two
// middle values); v is left as it is.
func Median(v []float64) float64 {
	s := slices.Sorted(slices.Values(v))
	return s[len(s)/2]
}

// MedianOf is the median of f over the reports of the rounds.
func MedianOf(rs []Report, f func(Report) float64) float64 {
	v := make([]float64, len(rs))
	for i, r := range rs {
		v[i] = f(r)
	}
	return Median(v)
}

// RoundRatios are f(b[i]) / f(a[i]) for each round's pair of reports
// (RunPaired's, a the baseline), in round order: take their Median rather
// than the ratio of medians, since the machine's load falls on a round's
// two servers alike.
func RoundRatios(a, b []Report, f func(Report) float64) []float64 {
	v := make([]float64, len(a))
	for i := range a {
		v[i] = f(b[i]) / f(a[i])
	}
	return v
}

// Compare formats a table of cand against base, with cand/base ratios: below
// 1 is better for CPU/req and latency, above 1 is better for req/s.
func Compare(base, cand Report) string {
	var sb strings.Builder
	tw := tabwriter.NewWriter(&sb, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintf(tw, "metric\t%s\t%s\tratio\t\n", name(base, "base"), name(cand, "cand"))
	row := func(metric string, b, c float64, format func(float64) string) {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t\n", metric, format(b), format(c), ratio(c, b))
	}
	dur := func(v float64) string { return time.Duration(v).Round(100 * time.Nanosecond).String() }
	num := func(v float64) string { return strconv.FormatFloat(v, 'f', 0, 64) }
	row("CPU/req", float64(base.CPUPerReq), float64(cand.CPUPerReq), dur)
	row("p50", float64(base.P50), float64(cand.P50), dur)
	row("p99", float64(base.P99), float64(cand.P99), dur)
	row("req/s", base.ReqPerSec, cand.ReqPerSec, num)
	row("requests", float64(base.Requests), float64(cand.Requests), num)
	if base.MaxRSS > 0 && cand.MaxRSS > 0 {
		mib := func(v float64) string { return strconv.FormatFloat(v/1024, 'f', 1, 64) + "MiB" }
		row("max RSS", float64(base.MaxRSS), float64(cand.MaxRSS), mib)
	}
	fmt.Fprintf(tw, "errors\t%d\t%d\t\t\n", base.Failed, cand.Failed)
	tw.Flush()
	return sb.String()
}

func name(r Report, def string) string {
	if r.Name == "" {
		return def
	}
	return r.Name
}

func ratio(c, b float64) string {
	if b == 0 {
		return "-"
	}
	return strconv.FormatFloat(c/b, 'f', 2, 64)
}

// FreeAddr returns a 127.0.0.1:PORT address that was free a moment ago, for
// a server under test to listen on.
func FreeAddr() (string, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer l.Close()
	return l.Addr().String(), nil
}

// Build compiles the main package pkg of the module in dir into out.
func Build(ctx context.Context, dir, pkg, out string) error {
	cmd := exec.CommandContext(ctx, "go", "build", "-o", out, pkg)
	cmd.Dir = dir
	if b, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("go build %s: %w\n%s", pkg, err, b)
	}
	return nil
}

// tailBuffer keeps the last max bytes written to it.
type tailBuffer struct {
	mu  sync.Mutex
	buf []byte
	max int
}

func (t *tailBuffer) Write(p []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.buf = append(t.buf, p...)
	if over := len(t.buf) - t.max; over > 0 {
		t.buf = append(t.buf[:0], t.buf[over:]...)
	}
	return len(p), nil
}

func (t *tailBuffer) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return string(t.buf)
}
