// Command ab compares two server builds on loopback the way
// BenchmarkLoadHotPath compares a generated service with the stdlib
// baseline: the two run side by side and are loaded in alternating slices
// (loadbench.RunPaired), each round with fresh processes, and ab prints
// every round's table, then each ratio's median over the rounds. Use it
// to see what a change to a generated service costs (its build before
// against its build after), or how noisy the machine is (one binary
// twice): a round's CPU ratio moves by a few percent from one pair of
// processes to the next, so a change of 1-2% needs nine rounds or more.
//
//	go run ./internal/loadbench/ab -a /tmp/before/svc -b /tmp/after/svc -rounds 9
//	go run ./internal/loadbench/ab -a /tmp/baseline -a-baseline -b /tmp/svc -b-env HTTP_MAX_CONNS=0
//
// A generated service is started with STORE=memory, its ports on
// 127.0.0.1 and items 1..N created through its API; -a-baseline or
// -b-baseline starts internal/loadbench/baseline instead (-addr, -items).
// -a-env and -b-env add KEY=VALUE settings, comma-separated.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"runtime"
	"strings"
	"time"

	"github.com/svcgen/svcgen/internal/loadbench"
)

// side is one of the two servers compared.
type side struct {
	bin, env string
	baseline bool
}

func main() {
	var a, b side
	flag.StringVar(&a.bin, "a", "", "the first server's binary (the ratios' denominator)")
	flag.StringVar(&b.bin, "b", "", "the second server's binary")
	flag.BoolVar(&a.baseline, "a-baseline", false, "-a is internal/loadbench/baseline, not a generated service")
	flag.BoolVar(&b.baseline, "b-baseline", false, "-b is internal/loadbench/baseline, not a generated service")
	flag.StringVar(&a.env, "a-env", "", "KEY=VALUE,... added to -a's environment")
	flag.StringVar(&b.env, "b-env", "", "KEY=VALUE,... added to -b's environment")
	rounds := flag.Int("rounds", 9, "rounds, each with fresh processes")
	nslices := flag.Int("slices", 10, "alternating slices per round")
	duration := flag.Duration("duration", 10*time.Second, "load per server per round")
	items := flag.Int("items", 1000, "items 1..N requested (GET /items/{id})")
	flag.Parse()
	if err := run(a, b, *rounds, *nslices, *duration, *items); err != nil {
		fmt.Fprintf(os.Stderr, "ab: %v\n", err)
		os.Exit(1)
	}
}

func run(a, b side, rounds, nslices int, d time.Duration, items int) error {
	if a.bin == "" || b.bin == "" {
		return errors.New("-a and -b name the two binaries to compare")
	}
	if rounds < 1 {
		return errors.New("-rounds must be at least 1")
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	opts := loadbench.Options{Workers: 2 * runtime.GOMAXPROCS(0), Duration: d, Warmup: time.Second, MinID: 1, MaxID: items}
	var as, bs []loadbench.Report
	for r := 0; r < rounds; r++ {
		ta, err := target("A", a, items)
		if err != nil {
			return err
		}
		tb, err := target("B", b, items)
		if err != nil {
			return err
		}
		ra, rb, err := loadbench.RunPaired(ctx, ta, tb, opts, nslices)
		if err != nil {
			return err
		}
		for _, rep := range []loadbench.Report{ra, rb} {
			if rep.Failed > 0 {
				return fmt.Errorf("%s: %d of %d requests failed: %v", rep.Name, rep.Failed, rep.Requests, rep.Errors)
			}
		}
		fmt.Printf("round %d of %d:\n%s\n", r+1, rounds, loadbench.Compare(ra, rb))
		as, bs = append(as, ra), append(bs, rb)
	}
	fmt.Printf("B/A over %d rounds (median, then each round):\n", rounds)
	for _, m := range []struct {
		name string
		f    func(loadbench.Report) float64
	}{
		{"CPU/req", func(r loadbench.Report) float64 { return float64(r.CPUPerReq) }},
		{"p50", func(r loadbench.Report) float64 { return float64(r.P50) }},
		{"p99", func(r loadbench.Report) float64 { return float64(r.P99) }},
		{"req/s", func(r loadbench.Report) float64 { return r.ReqPerSec }},
	} {
		v := loadbench.RoundRatios(as, bs, m.f)
		fmt.Printf("  %-8s %.3f  %s\n", m.name, loadbench.Median(v), format(v))
	}
	return nil
}

// target is how a side is started: a generated service or the baseline,
// on free loopback ports.
func target(name string, s side, items int) (loadbench.Target, error) {
	addr, err := loadbench.FreeAddr()
	if err != nil {
		return loadbench.Target{}, err
	}
	t := loadbench.Target{Name: name + " " + s.bin, URL: "http://" + addr}
	env := os.Environ()
	if s.baseline {
		t.Cmd = exec.Command(s.bin, "-addr", addr, "-items", fmt.Sprint(items))
	} else {
		admin, err := loadbench.FreeAddr()
		if err != nil {
			return loadbench.Target{}, err
		}
		t.Cmd = exec.Command(s.bin)
		env = append(env, "STORE=memory", "HTTP_ADDR="+addr, "ADMIN_ADDR="+admin, "LOG_LEVEL=warn")
		t.Setup = loadbench.SeedItems(items)
	}
	if s.env != "" {
		env = append(env, strings.Split(s.env, ",")...)
	}
	t.Cmd.Env = env
	return t, nil
}

func format(v []float64) string {
	parts := make([]string, len(v))
	for i, x := range v {
		parts[i] = fmt.Sprintf("%.3f", x)
	}
	return strings.Join(parts, " ")
}
