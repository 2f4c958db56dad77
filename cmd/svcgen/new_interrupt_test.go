package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// TestNewInterruptedInTidy starts svcgen new as a process, lets it reach
// go mod tidy against a module proxy that never answers, and sends the
// signal while tidy waits on it: the target, and everything around it,
// must be left as it was.
func TestNewInterruptedInTidy(t *testing.T) {
	for _, sig := range []syscall.Signal{syscall.SIGINT, syscall.SIGTERM} {
		t.Run(sig.String(), func(t *testing.T) {
			work := t.TempDir()
			n := startNewInTidy(t, work)
			if err := n.cmd.Process.Signal(sig); err != nil {
				t.Fatal(err)
			}
			got, err := n.wait()
			var ee *exec.ExitError
			if !errors.As(err, &ee) || ee.ExitCode() != exitInterrupted {
				t.Fatalf("exit: %v, want status %d\nstderr:\n%s", err, exitInterrupted, got)
			}
			if want := "svcgen: interrupted: nothing was written to out/svc\n"; !strings.HasSuffix(got, want) {
				t.Errorf("stderr does not end with %q:\n%s", want, got)
			}
			if n.stdout.Len() > 0 {
				t.Errorf("stdout: %s", n.stdout.String())
			}
			// Neither the target, nor the parent svcgen created for it, nor the
			// temporary tree is left.
			if entries, _ := os.ReadDir(work); len(entries) > 0 {
				var names []string
				for _, e := range entries {
					names = append(names, e.Name())
				}
				t.Errorf("left in the working directory: %v", names)
			}
		})
	}
}

// TestNewKilledInTidy: SIGKILL runs no cleanup, so the temporary tree stays
// beside the target; the next svcgen new for that target removes it, says
// so, and writes the service.
func TestNewKilledInTidy(t *testing.T) {
	work := t.TempDir()
	n := startNewInTidy(t, work)
	// The whole process group, as when a terminal or a CI job is killed:
	// go mod tidy would otherwise keep stderr open.
	if err := syscall.Kill(-n.cmd.Process.Pid, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	_, _ = n.wait()
	left, _ := filepath.Glob(filepath.Join(work, "out", ".svc.svcgen-*"))
	if len(left) != 1 {
		t.Fatalf("after SIGKILL: %v, want the one temporary tree", left)
	}
	cmd := exec.Command(n.bin, "new", "svc", "--preset", "hot-path", "--module", "example.com/svc", "--yes", "--out", "out/svc", "--no-tidy")
	cmd.Dir = work
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("second svcgen new: %v\n%s", err, out)
	}
	if want := "removed " + filepath.Join("out", filepath.Base(left[0])) + ", left by an svcgen new that was killed"; !strings.Contains(string(out), want) {
		t.Errorf("output lacks %q:\n%s", want, out)
	}
	entries, _ := os.ReadDir(filepath.Join(work, "out"))
	if len(entries) != 1 || entries[0].Name() != "svc" {
		t.Errorf("out/ holds %v, want only svc", entries)
	}
	if _, err := os.Stat(filepath.Join(work, "out", "svc", ".svcgen-owner")); !os.IsNotExist(err) {
		t.Errorf("the owner file reached the service: %v", err)
	}
}

// newInTidy is a running svcgen new waiting in go mod tidy.
type newInTidy struct {
	cmd    *exec.Cmd
	lines  chan string
	stdout *bytes.Buffer
	all    *strings.Builder
	mu     *sync.Mutex
	bin    string
}

// wait drains stderr, waits for the process and returns all it printed
// there.
func (n *newInTidy) wait() (string, error) {
	for range n.lines {
	}
	err := n.cmd.Wait()
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.all.String(), err
}

// startNewInTidy starts `svcgen new svc --out out/svc` in work against a
// module proxy that never answers and returns once go mod tidy has asked it
// for a module.
func startNewInTidy(t *testing.T, work string) *newInTidy {
	t.Helper()
	bin, err := exec.LookPath("svcgen")
	if err != nil {
		t.Fatalf("svcgen is not on PATH (TestMain puts it there): %v", err)
	}
	asked := make(chan string, 1)
	proxy := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case asked <- r.URL.Path:
		default:
		}
		<-r.Context().Done() // never answers
	}))
	t.Cleanup(proxy.Close)
	cmd := exec.Command(bin, "new", "svc", "--preset", "hot-path", "--module", "example.com/svc", "--yes", "--out", "out/svc")
	cmd.Dir = work
	cmd.Env = append(os.Environ(),
		"GOPROXY="+proxy.URL, "GOSUMDB=off", "GOFLAGS=-modcacherw", "GOTOOLCHAIN=local",
		"GOMODCACHE="+t.TempDir(), "GOWORK=off")
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.WaitDelay = 10 * time.Second
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	n := &newInTidy{cmd: cmd, lines: make(chan string, 100), stdout: &bytes.Buffer{}, all: &strings.Builder{}, mu: &sync.Mutex{}, bin: bin}
	cmd.Stdout = n.stdout
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) })
	go func() {
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			n.mu.Lock()
			n.all.WriteString(sc.Text() + "\n")
			n.mu.Unlock()
			n.lines <- sc.Text()
		}
		close(n.lines)
	}()
	timeout := time.After(2 * time.Minute)
	for phase := false; !phase; {
		select {
		case l, ok := <-n.lines:
			if !ok {
				n.mu.Lock()
				defer n.mu.Unlock()
				t.Fatalf("svcgen ended before go mod tidy:\n%s", n.all.String())
			}
			phase = strings.HasPrefix(l, "running go mod tidy for out/svc ")
		case <-timeout:
			t.Fatal("no progress line of go mod tidy")
		}
	}
	select {
	case p := <-asked: // tidy is waiting on the proxy now
		t.Logf("go mod tidy asked the proxy for %s", p)
	case <-timeout:
		t.Fatal("go mod tidy never asked the module proxy")
	}
	return n
}

// TestNewInterruptedAtEachStep cancels svcgen new's context at the moment
// it prints each step: before tidy and after it nothing is left; once the
// service is in place it is whole, go.sum included, and the message says so.
func TestNewInterruptedAtEachStep(t *testing.T) {
	for _, tc := range []struct {
		at       string // what svcgen prints when the interrupt comes
		complete bool
	}{
		{at: "running go mod tidy"},
		{at: "go mod tidy done"},
		{at: "Created svc in", complete: true},
	} {
		t.Run(tc.at, func(t *testing.T) {
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			var out, errOut bytes.Buffer
			trigger := func(w *bytes.Buffer) io.Writer {
				return writerFunc(func(p []byte) (int, error) {
					if strings.Contains(string(p), tc.at) {
						cancel()
					}
					return w.Write(p)
				})
			}
			dir := filepath.Join(t.TempDir(), "svc")
			e := &env{stdin: strings.NewReader(""), stdout: trigger(&out), stderr: trigger(&errOut), ctx: ctx}
			code := run(e, []string{"new", "svc", "--preset", "hot-path", "--module", "example.com/svc", "--yes", "--out", dir})
			if code != exitInterrupted {
				t.Fatalf("exit %d, want %d\nstdout:\n%s\nstderr:\n%s", code, exitInterrupted, out.String(), errOut.String())
			}
			entries, _ := os.ReadDir(filepath.Dir(dir))
			if !tc.complete {
				if want := "svcgen: interrupted: nothing was written to " + dir + "\n"; !strings.HasSuffix(errOut.String(), want) {
					t.Errorf("stderr does not end with %q:\n%s", want, errOut.String())
				}
				if len(entries) > 0 {
					t.Errorf("left beside the target: %v", entries)
				}
				return
			}
			if want := "svcgen: interrupted after the service was complete: " + dir + " has every file"; !strings.Contains(errOut.String(), want) {
				t.Errorf("stderr has no %q:\n%s", want, errOut.String())
			}
			for _, f := range []string{"go.mod", "go.sum", ".svcgen.yaml", "cmd/svc/main.go"} {
				if _, err := os.Stat(filepath.Join(dir, f)); err != nil {
					t.Errorf("complete service: %v", err)
				}
			}
			if len(entries) != 1 {
				t.Errorf("beside the target: %v, want the service only", entries)
			}
		})
	}
}

type writerFunc func(p []byte) (int, error)

func (f writerFunc) Write(p []byte) (int, error) { return f(p) }
