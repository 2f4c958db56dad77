package e2e

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"text/tabwriter"
	"time"

	"github.com/svcgen/svcgen/generator"
	"github.com/svcgen/svcgen/internal/loadbench"
)

// BenchmarkLoadHotPathTracing measures what the tracing feature costs the
// hot-path service: the preset without tracing (--features -tracing), with
// tracing and no exporter (no OTEL_EXPORTER_OTLP_ENDPOINT: the default of
// an unconfigured service), and with the OTLP/HTTP exporter to an
// in-process collector sampling 1% of new traces
// (OTEL_TRACES_SAMPLER=parentbased_traceidratio, OTEL_TRACES_SAMPLER_ARG=0.01),
// each against the stdlib baseline measured in the same rounds:
// server CPU per request, p50 and p99 (medians over the rounds), and the
// allocations per request of the handler path (the service's own
// BenchmarkStackGetItem, tracing set up from the same environment).
//
//	go test ./internal/e2e -run '^$' -bench LoadHotPathTracing -benchtime 1x -v
func BenchmarkLoadHotPathTracing(b *testing.B) {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Minute)
	defer cancel()
	col := newCollector(b)
	sampled := []string{"OTEL_EXPORTER_OTLP_ENDPOINT=" + col.srv.URL,
		"OTEL_TRACES_SAMPLER=parentbased_traceidratio", "OTEL_TRACES_SAMPLER_ARG=0.01"}
	type variant struct {
		name     string
		features []string
		env      []string
		dir, bin string
		allocs   float64
		reports  []loadbench.Report
	}
	variants := []*variant{
		{name: "tracing off (-tracing)", features: []string{"-tracing"}},
		{name: "tracing on, no exporter"},
		{name: "tracing on, OTLP, 1% sampled", env: sampled},
	}
	bins := b.TempDir()
	for i, v := range variants {
		if i < 2 {
			name := fmt.Sprintf("bench-trace-%d-svc", i)
			v.dir = GenerateService(b, generator.Options{Name: name, Module: "example.com/" + name, Preset: "hot-path", Features: v.features}, nil)
			v.bin = filepath.Join(bins, name)
			if err := loadbench.Build(ctx, v.dir, "./cmd/"+name, v.bin); err != nil {
				b.Fatal(err)
			}
		} else {
			v.dir, v.bin = variants[1].dir, variants[1].bin // the same binary, configured
		}
		v.allocs = stackAllocsEnv(b, v.dir, v.env)
	}
	baseBin := filepath.Join(bins, "baseline")
	if err := loadbench.Build(ctx, ".", "github.com/svcgen/svcgen/internal/loadbench/baseline", baseBin); err != nil {
		b.Fatal(err)
	}
	bh := loadbench.BaselineHandler(1)
	breq := httptest.NewRequest(http.MethodGet, "/items/1", nil)
	baseAllocs := testing.AllocsPerRun(20000, func() { bh.ServeHTTP(httptest.NewRecorder(), breq) })

	const items = 1000
	opts := loadbench.Options{Workers: 2 * runtime.GOMAXPROCS(0), Duration: 5 * time.Second, Warmup: time.Second, MinID: 1, MaxID: items}
	rounds := 3
	var bases []loadbench.Report
	check := func(r loadbench.Report) {
		if r.Failed > 0 {
			b.Fatalf("%s: %d of %d requests failed: %v", r.Name, r.Failed, r.Requests, r.Errors)
		}
	}
	for b.Loop() {
		for round := range rounds {
			addr, _ := loadbench.FreeAddr()
			bl, err := loadbench.Run(ctx, loadbench.Target{Name: "stdlib baseline", Cmd: exec.Command(baseBin, "-addr", addr, "-items", fmt.Sprint(items)), URL: "http://" + addr}, opts)
			if err != nil {
				b.Fatal(err)
			}
			check(bl)
			bases = append(bases, bl)
			for _, v := range variants {
				addr, _ := loadbench.FreeAddr()
				admin, _ := loadbench.FreeAddr()
				cmd := exec.Command(v.bin)
				cmd.Env = append(os.Environ(), "STORE=memory", "HTTP_ADDR="+addr, "ADMIN_ADDR="+admin, "LOG_LEVEL=warn", "OTEL_BSP_SCHEDULE_DELAY=1000")
				cmd.Env = append(cmd.Env, v.env...)
				r, err := loadbench.Run(ctx, loadbench.Target{Name: v.name, Cmd: cmd, URL: "http://" + addr, Setup: loadbench.SeedItems(items)}, opts)
				if err != nil {
					b.Fatal(err)
				}
				check(r)
				v.reports = append(v.reports, r)
				b.Logf("round %d:\n%s", round+1, loadbench.Compare(bl, r))
			}
		}
	}
	col.mu.Lock()
	exported := len(col.spans)
	col.mu.Unlock()
	if exported == 0 {
		b.Fatal("the sampled variant exported no span to the collector")
	}

	med := loadbench.MedianOf
	cpu := func(r loadbench.Report) float64 { return float64(r.CPUPerReq) }
	p50 := func(r loadbench.Report) float64 { return float64(r.P50) }
	p99 := func(r loadbench.Report) float64 { return float64(r.P99) }
	var tab strings.Builder
	tw := tabwriter.NewWriter(&tab, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "variant\tCPU/req\tCPU/req ratio\tallocs/req\tp50 ratio\tp99 ratio\n")
	fmt.Fprintf(tw, "stdlib baseline\t%.1f µs\t1.00\t%.0f\t1.00\t1.00\n", med(bases, cpu)/1e3, baseAllocs)
	for i, v := range variants {
		c := med(v.reports, cpu) / med(bases, cpu)
		fmt.Fprintf(tw, "%s\t%.1f µs\t%.2f\t%.0f\t%.2f\t%.2f\n", v.name, med(v.reports, cpu)/1e3, c, v.allocs,
			med(v.reports, p50)/med(bases, p50), med(v.reports, p99)/med(bases, p99))
		b.ReportMetric(c, fmt.Sprintf("v%d-cpu/req-ratio", i))
		b.ReportMetric(v.allocs, fmt.Sprintf("v%d-allocs/op", i))
	}
	tw.Flush()
	b.Logf("medians of %d rounds; allocs/req through httptest (the stack benchmark), the baseline's by AllocsPerRun; %d spans exported at 1%%:\n%s", rounds, exported, tab.String())
}

// stackAllocsEnv runs the generated service's BenchmarkStackGetItem with
// env added to the environment (the benchmark sets tracing up from it as
// main does) and returns its allocs/op.
func stackAllocsEnv(b *testing.B, dir string, env []string) float64 {
	b.Helper()
	cmd := exec.Command("go", "test", "-run", "^$", "-bench", "StackGetItem", "-benchmem", "-benchtime", "20000x", "./internal/app")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), env...)
	out, err := cmd.CombinedOutput()
	if err != nil {
		b.Fatalf("generated service benchmark: %v\n%s", err, out)
	}
	m := benchLine.FindSubmatch(out)
	if m == nil {
		b.Fatalf("no BenchmarkStackGetItem result in:\n%s", out)
	}
	allocs, _ := strconv.ParseFloat(string(m[2]), 64)
	return allocs
}
