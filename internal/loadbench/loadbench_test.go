package loadbench

import (
	"context"
	"math"
	"net/http"
	"net/http/httptest"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

// baselineTarget builds (once per test) and returns a fresh baseline server.
func baselineTarget(t *testing.T, bin, name string) Target {
	t.Helper()
	addr, err := FreeAddr()
	if err != nil {
		t.Fatal(err)
	}
	return Target{
		Name: name,
		Cmd:  exec.Command(bin, "-addr", addr, "-items", "1000"),
		URL:  "http://" + addr,
	}
}

// TestBaselineAgainstItself loads the baseline twice with the same options:
// the harness is sound when the two runs agree (ratios near 1).
func TestBaselineAgainstItself(t *testing.T) {
	if testing.Short() {
		t.Skip("load benchmark: skipped with -short")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()

	bin := filepath.Join(t.TempDir(), "baseline")
	if err := Build(ctx, ".", "./baseline", bin); err != nil {
		t.Fatal(err)
	}
	opts := Options{Rate: 2000, Duration: 3 * time.Second, Warmup: time.Second, MinID: 1, MaxID: 1000}

	a, err := Run(ctx, baselineTarget(t, bin, "baseline-a"), opts)
	if err != nil {
		t.Fatal(err)
	}
	b, err := Run(ctx, baselineTarget(t, bin, "baseline-b"), opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("constant rate %d/s for %v:\n%s", opts.Rate, opts.Duration, Compare(a, b))

	for _, r := range []Report{a, b} {
		if r.Failed != 0 || r.Requests == 0 {
			t.Errorf("%s: %d of %d requests failed: %v", r.Name, r.Failed, r.Requests, r.Errors)
		}
		if r.CPU <= 0 || r.CPUPerReq <= 0 {
			t.Errorf("%s: no server CPU time measured (%v)", r.Name, r.CPU)
		}
		if r.ProcessCPU < r.CPU {
			t.Errorf("%s: whole-life CPU %v below load-window CPU %v", r.Name, r.ProcessCPU, r.CPU)
		}
	}
	// The ratios are reported, not asserted: the machine is small and
	// shared, and timing assertions make flaky tests.
	t.Logf("identical servers: CPU/req ratio %.2f, req/s ratio %.2f (near 1 when the harness is sound)",
		float64(b.CPUPerReq)/float64(a.CPUPerReq), b.ReqPerSec/a.ReqPerSec)
}

// TestRunPairedBaselineAgainstItself: two baselines loaded in alternating
// slices agree, and each report counts only its own slices.
func TestRunPairedBaselineAgainstItself(t *testing.T) {
	if testing.Short() {
		t.Skip("load benchmark: skipped with -short")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()

	bin := filepath.Join(t.TempDir(), "baseline")
	if err := Build(ctx, ".", "./baseline", bin); err != nil {
		t.Fatal(err)
	}
	opts := Options{Rate: 2000, Duration: 4 * time.Second, Warmup: 500 * time.Millisecond, MinID: 1, MaxID: 1000}
	a, b, err := RunPaired(ctx, baselineTarget(t, bin, "baseline-a"), baselineTarget(t, bin, "baseline-b"), opts, 4)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("paired, constant rate %d/s, 4 slices of 1s each:\n%s", opts.Rate, Compare(a, b))
	for _, r := range []Report{a, b} {
		if r.Failed != 0 || r.Requests == 0 {
			t.Errorf("%s: %d of %d requests failed: %v", r.Name, r.Failed, r.Requests, r.Errors)
		}
		if r.CPU <= 0 || r.CPUPerReq <= 0 || r.ProcessCPU < r.CPU {
			t.Errorf("%s: CPU %v, process CPU %v: want 0 < CPU <= process CPU", r.Name, r.CPU, r.ProcessCPU)
		}
		// 4 slices of 1s at 2000/s: about 8000 requests, not both targets'.
		if r.Requests < 6000 || r.Requests > 9000 {
			t.Errorf("%s: %d requests, want about 8000 (its own 4 slices)", r.Name, r.Requests)
		}
		if r.Duration < 3*time.Second || r.Duration > 6*time.Second {
			t.Errorf("%s: measured for %v, want its 4 slices of 1s", r.Name, r.Duration)
		}
	}
	if r := float64(a.Requests) / float64(b.Requests); r < 0.8 || r > 1.25 {
		t.Errorf("requests a/b = %.2f, want about 1 at the same rate", r)
	}
}

// TestMaxRate runs the baseline flat out with a few workers, a smoke test of
// the max-rate mode.
func TestMaxRate(t *testing.T) {
	if testing.Short() {
		t.Skip("load benchmark: skipped with -short")
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	bin := filepath.Join(t.TempDir(), "baseline")
	if err := Build(ctx, ".", "./baseline", bin); err != nil {
		t.Fatal(err)
	}
	r, err := Run(ctx, baselineTarget(t, bin, "baseline"), Options{Workers: 4, Duration: 2 * time.Second, Warmup: -1})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("max rate, 4 workers: %.0f req/s, p50 %v, p99 %v, CPU/req %v, %d failed",
		r.ReqPerSec, r.P50, r.P99, r.CPUPerReq, r.Failed)
	if r.Failed != 0 || r.ReqPerSec < 100 {
		t.Errorf("max rate: %.0f req/s, %d failed: %v", r.ReqPerSec, r.Failed, r.Errors)
	}
}

func TestRunRefusesNonLoopback(t *testing.T) {
	_, err := Run(context.Background(), Target{Name: "x", Cmd: exec.Command("true"), URL: "http://10.0.0.1:80"}, Options{})
	if err == nil || !strings.Contains(err.Error(), "loopback") {
		t.Fatalf("err = %v, want a loopback-only error", err)
	}
}

func TestRunReportsEarlyExit(t *testing.T) {
	addr, err := FreeAddr()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("sh", "-c", "echo boom >&2; exit 3")
	_, err = Run(context.Background(), Target{Name: "x", Cmd: cmd, URL: "http://" + addr}, Options{StartTimeout: 5 * time.Second})
	if err == nil || !strings.Contains(err.Error(), "exited") || !strings.Contains(err.Error(), "boom") {
		t.Fatalf("err = %v, want early exit with the server's output", err)
	}
}

func TestProcCPU(t *testing.T) {
	cmd := exec.Command("sleep", "5")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { _ = cmd.Process.Kill(); _ = cmd.Wait() }()
	if _, err := procCPU(cmd.Process.Pid); err != nil {
		t.Fatal(err)
	}
}

// BenchmarkBaselineGetItem is the baseline's GET /items/{id} through
// httptest, shaped like the generated services' BenchmarkStackGetItem
// (internal/app), for allocation and instruction counts that do not
// depend on the machine's load.
func BenchmarkBaselineGetItem(b *testing.B) {
	h := BaselineHandler(1)
	req := httptest.NewRequest(http.MethodGet, "/items/1", nil)
	b.ReportAllocs()
	for b.Loop() {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code != http.StatusOK {
			b.Fatalf("status %d", rec.Code)
		}
	}
}

// TestRoundRatios: each round's B/A in order, their median the upper
// middle one, the input left unsorted.
func TestRoundRatios(t *testing.T) {
	a := []Report{{CPUPerReq: 10}, {CPUPerReq: 20}, {CPUPerReq: 40}, {CPUPerReq: 10}}
	b := []Report{{CPUPerReq: 11}, {CPUPerReq: 18}, {CPUPerReq: 44}, {CPUPerReq: 13}}
	cpu := func(r Report) float64 { return float64(r.CPUPerReq) }
	v := RoundRatios(a, b, cpu)
	if want := []float64{1.1, 0.9, 1.1, 1.3}; !slices.EqualFunc(v, want, func(x, y float64) bool { return math.Abs(x-y) < 1e-9 }) {
		t.Errorf("RoundRatios = %v, want %v", v, want)
	}
	if m := Median(v); math.Abs(m-1.1) > 1e-9 || v[1] != 0.9 {
		t.Errorf("Median = %v (want 1.1), input now %v (want it unsorted)", m, v)
	}
	if m := MedianOf(a, cpu); m != 20 {
		t.Errorf("MedianOf(a) = %v, want 20", m)
	}
}

// TestPeakRSS reads a child's own peak RSS: a sleep of a few hundred KiB,
// not the test binary's tens of MiB that the rusage of an exec'd child
// reports.
func TestPeakRSS(t *testing.T) {
	cmd := exec.Command("sleep", "5")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { _ = cmd.Process.Kill(); _ = cmd.Wait() }()
	kib := peakRSS(cmd.Process.Pid)
	if kib <= 0 || kib > 16<<10 {
		t.Fatalf("peak RSS of sleep: %d KiB, want between 1 KiB and 16 MiB", kib)
	}
	if peakRSS(-1) != 0 {
		t.Error("peakRSS of no process is not 0")
	}
}
