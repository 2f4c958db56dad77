package e2e

import (
	"context"
	"os/exec"
	"regexp"
	"strconv"
	"testing"
	"time"

	"github.com/svcgen/svcgen/generator"
)

var pgoLine = regexp.MustCompile(`pgo-bench: base_cpu_ns_per_req=(\d+) pgo_cpu_ns_per_req=(\d+) ratio=([\d.]+)`)

// BenchmarkPGO runs the generated hot-path service's own `make pgo-bench`
// command (internal/platform/load/pgobench): in one run it builds the
// service without a profile, records one under the service's load
// scenario, builds with it, and loads both builds on 127.0.0.1 in
// alternating rounds (memory store, so the service's own CPU is compared).
// It reports the process CPU per request of both builds and pgo/nopgo
// (below 1: PGO saves CPU).
//
//	go test ./internal/e2e -run '^$' -bench PGO -benchtime 1x -v
func BenchmarkPGO(b *testing.B) {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Minute)
	defer cancel()
	name := "bench-pgo-svc"
	dir := GenerateService(b, generator.Options{Name: name, Module: "example.com/" + name, Preset: "hot-path"}, nil)
	for b.Loop() {
		cmd := exec.CommandContext(ctx, "go", "run", "./internal/platform/load/pgobench",
			"-rounds", "5", "-duration", "8s", "-warmup", "2s", "-profile-seconds", "20")
		cmd.Dir = dir
		out, err := cmd.CombinedOutput()
		if err != nil {
			b.Fatalf("pgobench: %v\n%s", err, out)
		}
		b.Logf("%s", out)
		m := pgoLine.FindSubmatch(out)
		if m == nil {
			b.Fatalf("no result line in:\n%s", out)
		}
		base, _ := strconv.ParseFloat(string(m[1]), 64)
		pgo, _ := strconv.ParseFloat(string(m[2]), 64)
		b.ReportMetric(base/1e3, "nopgo-cpu-µs/req")
		b.ReportMetric(pgo/1e3, "pgo-cpu-µs/req")
		b.ReportMetric(pgo/base, "pgo/nopgo-cpu-ratio")
	}
}
