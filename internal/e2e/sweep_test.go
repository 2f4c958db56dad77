package e2e

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/svcgen/svcgen/generator"
	"github.com/svcgen/svcgen/internal/loadbench"
)

// sweepVariant is one preset with one feature added or removed.
type sweepVariant struct {
	preset   string
	change   string // "+cache3", "-pool"
	features []string
}

func (v sweepVariant) name() string { return v.preset + v.change }

// sweepVariants lists every preset with each feature it lacks added and
// each feature it can lose removed (the preset's other features or its
// starter need the rest), keeping one variant per resolved feature set.
func sweepVariants(t *testing.T, c *generator.Catalog) []sweepVariant {
	var out []sweepVariant
	seen := map[string]string{}
	for _, p := range c.Presets() {
		base, err := c.ResolveFeatures(p, nil)
		if err != nil {
			t.Fatal(err)
		}
		seen[p.Name+" "+strings.Join(base, ",")] = p.Name
		for _, f := range c.Features() {
			change := "+" + f.Name
			if slices.Contains(p.Features, f.Name) {
				change = "-" + f.Name
			}
			features, err := c.ResolveFeatures(p, []string{change})
			if err != nil {
				continue // needed by another feature or the starter
			}
			key := p.Name + " " + strings.Join(features, ",")
			if prev, dup := seen[key]; dup {
				t.Logf("%s%s: the same features as %s", p.Name, change, prev)
				continue
			}
			seen[key] = p.Name + change
			out = append(out, sweepVariant{preset: p.Name, change: change, features: features})
		}
	}
	return out
}

// requireServices fails the test when Postgres or Redis cannot be reached
// and CI=true, and skips it otherwise.
func requireServices(t *testing.T) {
	t.Helper()
	for name, raw := range map[string]string{"PostgreSQL (SVCGEN_TEST_PG_URL)": pgURL(), "Redis (SVCGEN_TEST_REDIS_URL)": redisURL()} {
		u, err := url.Parse(raw)
		if err != nil {
			t.Fatalf("%s %q: %v", name, raw, err)
		}
		conn, err := net.DialTimeout("tcp", u.Host, 2*time.Second)
		if err == nil {
			conn.Close()
			continue
		}
		if os.Getenv("CI") == "true" {
			t.Fatalf("%s at %s is not reachable (%v): CI must provide it (scripts/services.sh starts both)", name, u.Host, err)
		}
		t.Skipf("%s at %s is not reachable (%v); start it (scripts/services.sh) to run this test", name, u.Host, err)
	}
}

// sweepRun runs a go command of a variant, every one with the same
// environment, and returns how long it took.
func sweepRun(t *testing.T, dir string, name string, args ...string) time.Duration {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "GOFLAGS=-mod=mod")
	start := time.Now()
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("%s %s failed after %v: %v\n%s", name, strings.Join(args, " "), time.Since(start).Round(time.Millisecond), err, out)
	}
	return time.Since(start)
}

// generateInto renders o into dir (emptied first) and tidies it.
func generateInto(t *testing.T, c *generator.Catalog, o generator.Options, dir string) {
	t.Helper()
	res, err := generator.Generate(context.Background(), generator.Request{Catalog: c, Options: o})
	if err != nil {
		t.Fatal(err)
	}
	if err := os.RemoveAll(dir); err != nil {
		t.Fatal(err)
	}
	writeTidy(t, dir, res)
}

// TestSweep proves that every preset, with each feature it lacks added
// and each feature it can lose removed, makes a service that generates,
// vets, builds and starts on its own defaults: the binary, given only the
// database, Redis and two free ports, answers GET /healthz and /readyz
// with 200 and exits 0 on SIGTERM.
//
// It is cheap by construction. Variants that resolve to the same features
// are proved once. Two workers prove them, each in its own fixed
// directory, with the same service name and module path for every
// variant: a package a variant does not change has the same path and
// content as in the worker's previous variant, so Go's build cache keeps
// it and only the packages a feature touches are compiled again. Vet and
// build run once per variant.
func TestSweep(t *testing.T) {
	if testing.Short() {
		t.Skip("generates, builds and starts dozens of services")
	}
	requireServices(t)
	c, err := generator.LoadCatalog("")
	if err != nil {
		t.Fatal(err)
	}
	variants := sweepVariants(t, c)
	if len(variants) < 30 {
		t.Fatalf("only %d variants: the sweep lost its features", len(variants))
	}
	start := time.Now()
	var passed atomic.Int32
	var mu sync.Mutex
	var timings []string
	// Two workers take the variants in order, which groups them by
	// preset: a worker's next variant mostly shares its starter (and so
	// ogen's large internal/api package) with its last.
	root := t.TempDir()
	queue := make(chan int, len(variants))
	for i := range variants {
		queue <- i
	}
	close(queue)
	var wg sync.WaitGroup
	for w := range 2 {
		dir := filepath.Join(root, fmt.Sprint("worker", w), "sweep")
		wg.Go(func() {
			for i := range queue {
				v := variants[i]
				t.Run(v.name(), func(t *testing.T) {
					line := sweepOne(t, c, i, v, dir)
					if !t.Failed() {
						passed.Add(1)
						mu.Lock()
						timings = append(timings, line)
						mu.Unlock()
					}
				})
			}
		})
	}
	wg.Wait()
	slices.Sort(timings)
	t.Logf("per variant (generate+tidy / vet / build / migrate+start+stop):\n  %s", strings.Join(timings, "\n  "))
	t.Logf("sweep: %d/%d variants generated, vetted, built and started in %v",
		passed.Load(), len(variants), time.Since(start).Round(time.Second))
}

// sweepOne proves one variant in dir and returns its timings.
func sweepOne(t *testing.T, c *generator.Catalog, i int, v sweepVariant, dir string) string {
	o := generator.Options{Name: "sweep", Module: "example.com/sweep", Preset: v.preset, Features: []string{v.change}}
	t0 := time.Now()
	generateInto(t, c, o, dir)
	gen := time.Since(t0)
	vet := sweepRun(t, dir, "go", "vet", "./...")
	// The structs whose fields depend on the feature set: config.Config
	// and app.Deps (the presets' own are checked by TestMatrix).
	vet += sweepRun(t, dir, fieldalignment(t), "./internal/config/", "./internal/app/")
	bin := filepath.Join(t.TempDir(), "sweep")
	build := sweepRun(t, dir, "go", "build", "-o", bin, "./cmd/sweep")

	t1 := time.Now()
	dbURL := createDatabase(t, fmt.Sprintf("sweep_%d", i))
	startService(t, bin, dbURL)
	return fmt.Sprintf("%-26s %5.1fs %5.1fs %5.1fs %5.1fs", v.name(),
		gen.Seconds(), vet.Seconds(), build.Seconds(), time.Since(t1).Seconds())
}

// startService migrates a fresh database, runs the binary with nothing
// but the service URLs and free ports set, waits for /healthz and /readyz
// to answer 200, then stops it with SIGTERM and expects exit status 0.
func startService(t *testing.T, bin, dbURL string) {
	t.Helper()
	httpAddr, err := loadbench.FreeAddr()
	if err != nil {
		t.Fatal(err)
	}
	adminAddr, err := loadbench.FreeAddr()
	if err != nil {
		t.Fatal(err)
	}
	env := append(os.Environ(), "DATABASE_URL="+dbURL, "REDIS_URL="+redisURL(),
		"HTTP_ADDR="+httpAddr, "ADMIN_ADDR="+adminAddr)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	mig := exec.CommandContext(ctx, bin, "-migrate", "up")
	mig.Env = env
	if out, err := mig.CombinedOutput(); err != nil {
		t.Fatalf("%s -migrate up: %v\n%s", bin, err, out)
	}

	var log strings.Builder
	var logMu sync.Mutex
	cmd := exec.Command(bin)
	cmd.Env = env
	w := &lockedWriter{w: &log, mu: &logMu}
	cmd.Stdout, cmd.Stderr = w, w
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan struct{})
	var exitErr error
	go func() { exitErr = cmd.Wait(); close(exited) }()
	output := func() string { logMu.Lock(); defer logMu.Unlock(); return log.String() }
	stop := func() {
		select {
		case <-exited:
		default:
			_ = cmd.Process.Kill()
			<-exited
		}
	}
	defer stop()

	client := &http.Client{Timeout: 2 * time.Second}
	for _, path := range []string{"/healthz", "/readyz"} {
		if err := waitOK(ctx, client, "http://"+httpAddr+path, exited, &exitErr); err != nil {
			stop()
			t.Fatalf("GET %s: %v\nservice output:\n%s", path, err, output())
		}
	}
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case <-exited:
		if exitErr != nil {
			t.Fatalf("after SIGTERM the service exited with %v (want 0)\nservice output:\n%s", exitErr, output())
		}
	case <-time.After(45 * time.Second):
		t.Fatalf("the service did not exit within 45s of SIGTERM\nservice output:\n%s", output())
	}
	if out := output(); strings.Contains(out, `"level":"ERROR"`) {
		t.Errorf("the service logged errors on its own defaults:\n%s", out)
	}
}

// waitOK polls url until it answers 200; it fails when the process ends
// first (exited closes, with *exitErr) or ctx expires.
func waitOK(ctx context.Context, client *http.Client, url string, exited chan struct{}, exitErr *error) error {
	var last string
	for {
		select {
		case <-exited:
			return fmt.Errorf("the service exited before answering 200 (%v)", *exitErr)
		case <-ctx.Done():
			return fmt.Errorf("no 200 before the deadline; last: %s", last)
		case <-time.After(100 * time.Millisecond):
		}
		resp, err := client.Get(url)
		if err != nil {
			last = err.Error()
			continue
		}
		resp.Body.Close()
		if resp.StatusCode == http.StatusOK {
			return nil
		}
		last = resp.Status
	}
}

// lockedWriter serializes the service's stdout and stderr into one log.
type lockedWriter struct {
	w  *strings.Builder
	mu *sync.Mutex
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}
