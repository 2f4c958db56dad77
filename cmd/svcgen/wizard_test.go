package main

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/creack/pty"

	"github.com/svcgen/svcgen/generator"
)

// The wizard, driven through a pseudo-terminal the way a user drives it.

const (
	keyDown  = "\x1b[B"
	keyEnter = "\r"
	keySpace = " "
	keyCtrlC = "\x03"
)

// ptyTerm is a running svcgen on a pseudo-terminal. It answers the cursor
// position queries survey sends, and keeps everything svcgen drew.
type ptyTerm struct {
	t    *testing.T
	cmd  *exec.Cmd
	ptmx *os.File
	done chan struct{} // closed when the process has exited
	err  error         // the process's exit, valid after done

	mu     sync.Mutex
	raw    bytes.Buffer
	seen   int // bytes of stripped output consumed by expect
	dsrs   int // raw output scanned for cursor position queries
	update chan struct{}
}

func startTerm(t *testing.T, dir string, args ...string) *ptyTerm {
	t.Helper()
	bin, err := exec.LookPath("svcgen")
	if err != nil {
		t.Fatalf("svcgen is not on PATH (TestMain puts it there): %v", err)
	}
	cmd := exec.Command(bin, args...)
	cmd.Dir = dir
	cmd.Env = os.Environ()
	for k, v := range goEnvironment(t) {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	cmd.Env = append(cmd.Env, "TERM=xterm-256color", "NO_COLOR=1")
	ptmx, err := pty.StartWithSize(cmd, &pty.Winsize{Rows: termRows, Cols: termCols})
	if err != nil {
		t.Fatalf("start svcgen on a pty: %v", err)
	}
	tm := &ptyTerm{t: t, cmd: cmd, ptmx: ptmx, done: make(chan struct{}), update: make(chan struct{}, 1)}
	go tm.read()
	go func() {
		tm.err = cmd.Wait()
		close(tm.done)
	}()
	t.Cleanup(func() {
		select {
		case <-tm.done:
		default:
			_ = cmd.Process.Kill()
			<-tm.done
		}
		_ = ptmx.Close()
		if t.Failed() {
			t.Logf("terminal output:\n%s", tm.screen())
		}
	})
	return tm
}

var (
	dsrQuery = []byte("\x1b[6n")
	moveFar  = []byte("\x1b[999;999f")
)

const termRows, termCols = 50, 200

func (tm *ptyTerm) read() {
	buf := make([]byte, 4096)
	for {
		n, err := tm.ptmx.Read(buf)
		if n > 0 {
			tm.mu.Lock()
			tm.raw.Write(buf[:n])
			// Answer every new "where is the cursor?" query. survey asks
			// it after moving to (999, 999) to learn the terminal's size.
			for {
				i := bytes.Index(tm.raw.Bytes()[tm.dsrs:], dsrQuery)
				if i < 0 {
					break
				}
				reply := "\x1b[1;1R"
				if bytes.HasSuffix(tm.raw.Bytes()[:tm.dsrs+i], moveFar) {
					reply = fmt.Sprintf("\x1b[%d;%dR", termRows, termCols)
				}
				tm.dsrs += i + len(dsrQuery)
				_, _ = tm.ptmx.Write([]byte(reply))
			}
			tm.mu.Unlock()
			select {
			case tm.update <- struct{}{}:
			default:
			}
		}
		if err != nil {
			return
		}
	}
}

var ansi = regexp.MustCompile(`\x1b\[[0-9;?]*[ -/]*[@-~]|\x1b[^\[]|\r`)

func (tm *ptyTerm) screen() string {
	tm.mu.Lock()
	defer tm.mu.Unlock()
	return ansi.ReplaceAllString(tm.raw.String(), "")
}

// expect waits until re matches the output drawn since the last match, and
// returns the match.
func (tm *ptyTerm) expect(re string) []string {
	tm.t.Helper()
	rx := regexp.MustCompile(re)
	deadline := time.After(10 * time.Second)
	for {
		s := tm.screen()
		tm.mu.Lock()
		from := min(tm.seen, len(s))
		if loc := rx.FindStringSubmatchIndex(s[from:]); loc != nil {
			tm.seen = from + loc[1]
			tm.mu.Unlock()
			var m []string
			for i := 0; i+1 < len(loc); i += 2 {
				if loc[i] < 0 {
					m = append(m, "")
				} else {
					m = append(m, s[from+loc[i]:from+loc[i+1]])
				}
			}
			return m
		}
		tm.mu.Unlock()
		select {
		case <-tm.update:
		case <-tm.done:
			// Drain what is left, then give up if it is not there.
			time.Sleep(50 * time.Millisecond)
			if s := tm.screen(); !rx.MatchString(s[min(tm.seen, len(s)):]) {
				tm.t.Fatalf("svcgen exited (%v) before printing %q", tm.err, re)
			}
		case <-deadline:
			tm.t.Fatalf("no %q on the terminal after 10s", re)
		}
	}
}

// send types keys, each string in one write, once svcgen has gone quiet:
// survey asks the terminal where the cursor is before it reads a line and
// after each key, and a key that arrives while it waits for the answer is
// lost (it reads the answer through a throw-away buffer).
func (tm *ptyTerm) send(keys ...string) {
	tm.t.Helper()
	for _, k := range keys {
		tm.settle()
		if _, err := tm.ptmx.Write([]byte(k)); err != nil {
			tm.t.Fatalf("type %q: %v", k, err)
		}
	}
}

// settle waits until svcgen has drawn nothing for a moment (at most 2s).
func (tm *ptyTerm) settle() {
	size := func() int {
		tm.mu.Lock()
		defer tm.mu.Unlock()
		return tm.raw.Len()
	}
	deadline := time.Now().Add(2 * time.Second)
	for n := size(); time.Now().Before(deadline); {
		time.Sleep(60 * time.Millisecond)
		m := size()
		if m == n {
			return
		}
		n = m
	}
}

// wait waits for svcgen to exit and returns its exit status.
func (tm *ptyTerm) wait() int {
	tm.t.Helper()
	select {
	case <-tm.done:
	case <-time.After(60 * time.Second):
		tm.t.Fatal("svcgen did not exit within 60s")
	}
	var ee *exec.ExitError
	switch {
	case tm.err == nil:
		return 0
	case errors.As(tm.err, &ee):
		return ee.ExitCode()
	}
	tm.t.Fatalf("wait: %v", tm.err)
	return -1
}

func TestWizardOnTerminal(t *testing.T) {
	cat, err := generator.LoadCatalog("")
	if err != nil {
		t.Fatal(err)
	}
	const presetName = "read-heavy"
	preset, err := cat.Preset(presetName)
	if err != nil {
		t.Fatal(err)
	}
	presets := presetNames(cat)
	var features []string
	for _, f := range cat.Features() {
		features = append(features, f.Name)
	}
	// Add the first feature the preset lacks that can be added on its own.
	add := -1
	for i, f := range features {
		if slices.Contains(preset.Features, f) {
			continue
		}
		if _, err := cat.ResolveFeatures(preset, []string{"+" + f}); err == nil {
			add = i
			break
		}
	}
	if add < 0 {
		t.Fatalf("no feature can be added to %s", presetName)
	}
	def := defaultsFor("inv-svc")
	httpPort := def.HTTPPort + 1
	if httpPort == def.AdminPort {
		httpPort++
	}

	work := t.TempDir()
	out := filepath.Join(work, "out")
	tm := startTerm(t, work, "new", "--no-tidy", "--out", out)

	tm.expect(`Service name`)
	tm.send("inv-svc", keyEnter)
	tm.expect(`Go module path`)
	tm.send("example.com/acme/inv-svc", keyEnter)
	tm.expect(`Preset`)
	tm.expect(presetName) // the list is drawn
	for range slices.Index(presets, presetName) {
		tm.send(keyDown)
	}
	tm.send(keyEnter)
	tm.expect(`Features`)
	for range add {
		tm.send(keyDown)
	}
	tm.send(keySpace, keyEnter)
	tm.expect(`OpenAPI spec file`)
	tm.send(keyEnter)
	tm.expect(`HTTP port`)
	tm.send(strconv.Itoa(httpPort), keyEnter)
	tm.expect(`Admin port`)
	tm.send(keyEnter)

	m := tm.expect(`without questions:\n\s*(svcgen new [^\n]*)\n`)
	want := fmt.Sprintf("svcgen new inv-svc --preset %s --module example.com/acme/inv-svc --features +%s --http-port %d --out %s --no-tidy --yes",
		presetName, features[add], httpPort, shellQuote(out))
	if got := strings.TrimSpace(m[1]); got != want {
		t.Errorf("replay command:\n got %s\nwant %s", got, want)
	}
	tm.expect(`Generate inv-svc into ` + regexp.QuoteMeta(out) + `\?`)
	tm.send("y", keyEnter)
	tm.expect(`Created inv-svc in`)
	tm.expect(`Next steps:`)
	if code := tm.wait(); code != 0 {
		t.Fatalf("exit status %d", code)
	}

	for _, f := range []string{".svcgen.yaml", "go.mod", "cmd/inv-svc/main.go"} {
		if _, err := os.Stat(filepath.Join(out, f)); err != nil {
			t.Errorf("not generated: %v", err)
		}
	}
	manifest, err := os.ReadFile(filepath.Join(out, ".svcgen.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{presetName, "example.com/acme/inv-svc", features[add], strconv.Itoa(httpPort)} {
		if !bytes.Contains(manifest, []byte(s)) {
			t.Errorf(".svcgen.yaml does not record %q:\n%s", s, manifest)
		}
	}
}

func TestWizardSkipsWhatFlagsSay(t *testing.T) {
	work := t.TempDir()
	tm := startTerm(t, work, "new", "inv-svc", "--preset", "read-heavy", "--features", "+pool",
		"--spec", "", "--http-port", "8181", "--admin-port", "9191", "--dry-run")
	// Only the module path is left to ask.
	tm.expect(`Go module path`)
	tm.send(keyEnter)
	m := tm.expect(`without questions:\n\s*(svcgen new [^\n]*)\n`)
	want := "svcgen new inv-svc --preset read-heavy --module " + defaultsFor("inv-svc").Module +
		" --features +pool --http-port 8181 --admin-port 9191 --dry-run --yes"
	if got := strings.TrimSpace(m[1]); got != want {
		t.Errorf("replay command:\n got %s\nwant %s", got, want)
	}
	tm.expect(`Dry-run inv-svc into inv-svc\?`)
	tm.send("n", keyEnter)
	tm.expect(`Nothing written`)
	if code := tm.wait(); code != 0 {
		t.Fatalf("exit status %d", code)
	}
	if _, err := os.Stat(filepath.Join(work, "inv-svc")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("inv-svc written after a no: %v", err)
	}
}

func TestWizardInterrupted(t *testing.T) {
	work := t.TempDir()
	tm := startTerm(t, work, "new", "--no-tidy")
	tm.expect(`Service name`)
	tm.send("inv", keyCtrlC)
	tm.expect(`svcgen: interrupted`)
	if code := tm.wait(); code != exitInterrupted {
		t.Fatalf("exit status %d, want %d", code, exitInterrupted)
	}
	if entries, _ := os.ReadDir(work); len(entries) > 0 {
		t.Errorf("interrupted wizard wrote %v", entries)
	}
}

func TestWizardRejectsBadAnswers(t *testing.T) {
	work := t.TempDir()
	if err := os.MkdirAll(filepath.Join(work, "taken", "x"), 0o755); err != nil {
		t.Fatal(err)
	}
	tm := startTerm(t, work, "new", "--preset", "hot-path", "--features", "", "--spec", "", "--dry-run")
	tm.expect(`Service name`)
	tm.send("Bad_Name", keyEnter)
	tm.expect(`Bad_Name`) // the validation error names it
	tm.expect(`Service name`)
	// The question is asked again, with an empty line: a name whose
	// directory is taken.
	tm.send("taken", keyEnter)
	tm.expect(`not empty`)
	tm.send("fresh-svc", keyEnter)
	tm.expect(`Go module path`)
	tm.send(keyEnter)
	tm.expect(`HTTP port`)
	tm.send("99999", keyEnter)
	tm.expect(`between 1 and 65535`)
	tm.send(keyCtrlC)
	if code := tm.wait(); code != exitInterrupted {
		t.Fatalf("exit status %d, want %d", code, exitInterrupted)
	}
}
