package e2e

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/svcgen/svcgen/generator"
	"github.com/svcgen/svcgen/internal/loadbench"
)

// BenchmarkLoadHotPath runs the generated hot-path service (all of the
// preset's middleware on, the in-memory store so only the HTTP stack is
// compared) and a plain net/http ServeMux + encoding/json server side by
// side on loopback, loaded in alternating slices (loadbench.RunPaired),
// and reports the candidate/baseline ratios of server CPU per request,
// p50, p99 and req/s (medians over the rounds), with the load average
// beside each round.
//
//	go test ./internal/e2e -run '^$' -bench LoadHotPath -benchtime 1x -v
func BenchmarkLoadHotPath(b *testing.B) {
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Minute)
	defer cancel()
	name := "bench-hot-path-svc"
	dir := GenerateService(b, generator.Options{Name: name, Module: "example.com/" + name, Preset: "hot-path"}, nil)
	bins := b.TempDir()
	svc, base := filepath.Join(bins, "svc"), filepath.Join(bins, "baseline")
	if err := loadbench.Build(ctx, dir, "./cmd/"+filepath.Base(dir), svc); err != nil {
		b.Fatal(err)
	}
	if err := loadbench.Build(ctx, ".", "github.com/svcgen/svcgen/internal/loadbench/baseline", base); err != nil {
		b.Fatal(err)
	}
	svcAllocs, svcNs := stackAllocs(b, dir)
	// testing.Benchmark cannot run inside a benchmark (it waits for the
	// benchmark lock this one holds): count the baseline's allocations
	// with AllocsPerRun.
	bh := loadbench.BaselineHandler(1)
	breq := httptest.NewRequest(http.MethodGet, "/items/1", nil)
	baseAllocs := testing.AllocsPerRun(20000, func() { bh.ServeHTTP(httptest.NewRecorder(), breq) })
	b.Logf("handler path through httptest: generated %.0f allocs/op (%.0f ns/op); stdlib %.0f allocs/op", svcAllocs, svcNs, baseAllocs)
	b.ReportMetric(svcAllocs, "svc-allocs/op")
	b.ReportMetric(baseAllocs, "base-allocs/op")

	const items = 1000
	// Each round starts both servers and loads them in alternating 1 s
	// slices (loadbench.RunPaired), so the shared machine's other load
	// falls on both alike; the CPU counted is each server process's own.
	// The load is closed-loop (2*GOMAXPROCS clients, each sending its next
	// request when the last is answered): it never queues requests past
	// the hot-path deadline on a busy machine, as a constant rate can.
	opts := loadbench.Options{Workers: 2 * runtime.GOMAXPROCS(0), Duration: 10 * time.Second, Warmup: time.Second, MinID: 1, MaxID: items}
	const rounds, slices = 3, 10
	var cands, bases []loadbench.Report
	for b.Loop() {
		for r := 0; r < rounds; r++ {
			addr, _ := loadbench.FreeAddr()
			admin, _ := loadbench.FreeAddr()
			cmd := exec.Command(svc)
			cmd.Env = append(os.Environ(), "STORE=memory", "HTTP_ADDR="+addr, "ADMIN_ADDR="+admin, "LOG_LEVEL=warn")
			addr2, _ := loadbench.FreeAddr()
			load := loadAvg()
			cand, bl, err := loadbench.RunPaired(ctx,
				loadbench.Target{Name: "generated hot-path", Cmd: cmd, URL: "http://" + addr, Setup: loadbench.SeedItems(items)},
				loadbench.Target{Name: "stdlib baseline", Cmd: exec.Command(base, "-addr", addr2, "-items", fmt.Sprint(items)), URL: "http://" + addr2},
				opts, slices)
			if err != nil {
				b.Fatal(err)
			}
			for _, r := range []loadbench.Report{cand, bl} {
				if r.Failed > 0 {
					b.Fatalf("%s: %d of %d requests failed: %v", r.Name, r.Failed, r.Requests, r.Errors)
				}
			}
			b.Logf("round %d (load average before: %s, after: %s):\n%s", r+1, load, loadAvg(), loadbench.Compare(bl, cand))
			cands, bases = append(cands, cand), append(bases, bl)
		}
	}
	med := loadbench.MedianOf
	cpu := func(r loadbench.Report) float64 { return float64(r.CPUPerReq) }
	p50 := func(r loadbench.Report) float64 { return float64(r.P50) }
	p99 := func(r loadbench.Report) float64 { return float64(r.P99) }
	rps := func(r loadbench.Report) float64 { return r.ReqPerSec }
	rss := func(r loadbench.Report) float64 { return float64(r.MaxRSS) }
	// The rounds are pairs: the ratio of each round, then their median.
	ratio := func(f func(loadbench.Report) float64) float64 {
		return loadbench.Median(loadbench.RoundRatios(bases, cands, f))
	}
	b.ReportMetric(ratio(cpu), "cpu/req-ratio")
	b.ReportMetric(ratio(p50), "p50-ratio")
	b.ReportMetric(ratio(p99), "p99-ratio")
	b.ReportMetric(ratio(rps), "req/s-ratio")
	b.ReportMetric(ratio(rss), "max-rss-ratio")
	b.ReportMetric(med(cands, cpu)/1e3, "svc-cpu-µs/req")
	b.ReportMetric(med(bases, cpu)/1e3, "base-cpu-µs/req")
	b.ReportMetric(med(cands, p50)/1e3, "svc-p50-µs")
	b.ReportMetric(med(bases, p50)/1e3, "base-p50-µs")
	b.ReportMetric(med(cands, p99)/1e3, "svc-p99-µs")
	b.ReportMetric(med(bases, p99)/1e3, "base-p99-µs")
}

// loadAvg is the machine's 1, 5 and 15 minute load averages.
func loadAvg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "?"
	}
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return "?"
	}
	return strings.Join(f[:3], " ")
}

var benchLine = regexp.MustCompile(`BenchmarkStackGetItem\S*\s+\d+\s+([\d.]+) ns/op\s+\d+ B/op\s+(\d+) allocs/op`)

// stackAllocs runs the generated service's own full-stack benchmark
// (internal/app: ServeMux, metrics, ogen, deadline, handler, memory store).
func stackAllocs(b *testing.B, dir string) (allocs, ns float64) {
	b.Helper()
	cmd := exec.Command("go", "test", "-run", "^$", "-bench", "StackGetItem", "-benchmem", "-benchtime", "20000x", "./internal/app")
	cmd.Dir = dir
	out, err := cmd.CombinedOutput()
	if err != nil {
		b.Fatalf("generated service benchmark: %v\n%s", err, out)
	}
	m := benchLine.FindSubmatch(out)
	if m == nil {
		b.Fatalf("no BenchmarkStackGetItem result in:\n%s", out)
	}
	ns, _ = strconv.ParseFloat(string(m[1]), 64)
	allocs, _ = strconv.ParseFloat(string(m[2]), 64)
	return allocs, ns
}
