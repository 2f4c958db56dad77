package generator

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// Write puts res into dir atomically: every file is written into a temporary
// directory beside dir, which is then renamed into place. dir must not
// exist or be empty; otherwise the error says so and nothing is written.
func Write(dir string, res Result) error {
	return WriteService(context.Background(), dir, res, WriteOptions{})
}

// WriteOptions say what WriteService does to the new tree before it moves
// it into place.
type WriteOptions struct {
	// Tidy runs `go mod tidy` in the new tree before the rename, so that
	// go.sum arrives with the rest of the service or not at all.
	Tidy bool
	// Progress receives tidy's progress lines (nil: none).
	Progress io.Writer
}

// InterruptedError is an interrupt (a signal, a cancelled context) that
// stopped svcgen new. Complete says which of the only two states it left:
// the whole service at Dir (go.sum included when tidy ran), or nothing.
type InterruptedError struct {
	// Dir is the target directory.
	Dir string
	// Complete is true when the service was already in place.
	Complete bool
	// Err is the context's error.
	Err error
}

func (e *InterruptedError) Error() string {
	switch {
	case e.Complete:
		return fmt.Sprintf("interrupted after the service was complete: %s has every file (go.sum too, when tidied)", e.Dir)
	case e.Dir == "":
		return "interrupted: nothing was written"
	}
	return fmt.Sprintf("interrupted: nothing was written to %s", e.Dir)
}

func (e *InterruptedError) Unwrap() error { return e.Err }

// TidyError is a failed `go mod tidy` of a new service. Nothing was written
// to Dir.
type TidyError struct {
	// Dir is the target directory.
	Dir string
	// Output is what go mod tidy printed.
	Output string
	// Err is the go command's error.
	Err error
}

func (e *TidyError) Error() string {
	return fmt.Sprintf("go mod tidy failed (%v), so nothing was written to %s:\n%s", e.Err, e.Dir, e.Output)
}

func (e *TidyError) Unwrap() error { return e.Err }

// WriteService is Write for svcgen new. With opt.Tidy, `go mod tidy` runs
// inside the temporary directory (the module path is go.mod's and the
// directory beside the target resolves relative paths the same), and the
// rename moves the tidied tree into place. Whatever stops it before the
// rename (ctx cancelled, a failed tidy, a write error) removes the
// temporary directory: the target then holds nothing; once the rename is
// done it holds the whole service. A cancelled ctx gives an
// *InterruptedError, a failed tidy a *TidyError.
func WriteService(ctx context.Context, dir string, res Result, opt WriteOptions) error {
	dir = filepath.Clean(dir)
	interrupted := func() error {
		if err := ctx.Err(); err != nil {
			return &InterruptedError{Dir: dir, Err: err}
		}
		return nil
	}
	if err := interrupted(); err != nil {
		return err
	}
	if err := CheckTarget(dir); err != nil {
		return err
	}
	parent := filepath.Dir(dir)
	// The parents this call creates go again when it writes nothing.
	var created []string
	for p := parent; ; p = filepath.Dir(p) {
		if _, err := os.Stat(p); err == nil || filepath.Dir(p) == p {
			break
		}
		created = append(created, p)
	}
	if err := os.MkdirAll(parent, 0o755); err != nil {
		return fmt.Errorf("creating %s: %w", parent, err)
	}
	done := false
	defer func() {
		if !done {
			for _, p := range created {
				_ = os.Remove(p) // only while empty
			}
		}
	}()
	progress := opt.Progress
	if progress == nil {
		progress = io.Discard
	}
	for _, left := range removeLeftovers(parent, filepath.Base(dir)) {
		fmt.Fprintf(progress, "removed %s, left by an svcgen new that was killed\n", left)
	}
	tmp, err := os.MkdirTemp(parent, "."+filepath.Base(dir)+".svcgen-")
	if err != nil {
		return fmt.Errorf("creating a temporary directory beside %s: %w", dir, err)
	}
	defer func() {
		if !done {
			_ = os.RemoveAll(tmp)
		}
	}()
	if err := os.Chmod(tmp, 0o755); err != nil {
		return err
	}
	// The owner's pid lets a later run remove this directory if the
	// process is killed (SIGKILL runs no deferred cleanup).
	owner := filepath.Join(tmp, ownerFile)
	if err := os.WriteFile(owner, []byte(strconv.Itoa(os.Getpid())), 0o644); err != nil {
		return err
	}
	for _, f := range res.Files {
		if err := interrupted(); err != nil {
			return err
		}
		p := filepath.Join(tmp, filepath.FromSlash(f.Path))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			return err
		}
		if err := os.WriteFile(p, f.Content, os.FileMode(f.Mode)); err != nil {
			return fmt.Errorf("writing %s: %w", f.Path, err)
		}
	}
	if opt.Tidy {
		fmt.Fprintf(progress, "running go mod tidy for %s before moving it into place (downloads modules on first use; skip with --no-tidy)...\n", dir)
		start := time.Now()
		out, err := goModTidy(ctx, tmp)
		if ierr := interrupted(); ierr != nil {
			return ierr
		}
		if err != nil {
			return &TidyError{Dir: dir, Output: tidyOutput(strings.ReplaceAll(out, tmp, dir)), Err: err}
		}
		fmt.Fprintf(progress, "go mod tidy done in %.1fs\n", time.Since(start).Seconds())
	}
	if err := interrupted(); err != nil {
		return err
	}
	if err := os.Remove(owner); err != nil {
		return err
	}
	// An empty target directory is replaced; rename cannot replace it.
	if _, err := os.Stat(dir); err == nil {
		if err := os.Remove(dir); err != nil {
			return fmt.Errorf("replacing empty directory %s: %w", dir, err)
		}
	}
	if err := os.Rename(tmp, dir); err != nil {
		return fmt.Errorf("moving the service into %s: %w", dir, err)
	}
	done = true
	return nil
}

// ownerFile, in the temporary directory of svcgen new, holds the pid of
// the process writing it.
const ownerFile = ".svcgen-owner"

// removeLeftovers removes the temporary directories of earlier runs of
// svcgen new for the target base in parent whose process is gone, and
// returns their paths. A directory without an owner file, or whose owner
// still runs, is left alone.
func removeLeftovers(parent, base string) []string {
	matches, _ := filepath.Glob(filepath.Join(parent, "."+base+".svcgen-*"))
	var removed []string
	for _, m := range matches {
		data, err := os.ReadFile(filepath.Join(m, ownerFile))
		if err != nil {
			continue
		}
		pid, err := strconv.Atoi(strings.TrimSpace(string(data)))
		if err != nil || pid <= 0 || processAlive(pid) {
			continue
		}
		if os.RemoveAll(m) == nil {
			removed = append(removed, m)
		}
	}
	return removed
}

// processAlive reports whether pid runs; when it cannot tell, it says yes.
func processAlive(pid int) bool {
	p, err := os.FindProcess(pid)
	if err != nil {
		return false
	}
	err = p.Signal(syscall.Signal(0))
	return err == nil || !errors.Is(err, os.ErrProcessDone)
}

// goModTidy runs `go mod tidy` in dir and returns what it printed. A
// cancelled ctx stops it. The service is tidied as a module of its own,
// whatever go.work lies around it.
func goModTidy(ctx context.Context, dir string) (string, error) {
	if err := CheckToolchain(); err != nil {
		return "", err
	}
	cmd := exec.CommandContext(ctx, "go", "mod", "tidy")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "GOWORK=off")
	// go may leave children (git, for direct downloads) holding the output
	// pipe after it is killed: do not wait for them for long.
	cmd.WaitDelay = 5 * time.Second
	out, err := cmd.CombinedOutput()
	return string(out), err
}

// CheckTarget returns an error unless dir is missing or an empty directory:
// svcgen new writes only there.
func CheckTarget(dir string) error {
	entries, err := os.ReadDir(dir)
	switch {
	case errors.Is(err, os.ErrNotExist):
		return nil
	case err != nil:
		st, serr := os.Stat(dir)
		if serr == nil && !st.IsDir() {
			return fmt.Errorf("target %s exists and is not a directory: choose another --out", dir)
		}
		return fmt.Errorf("target %s: %w", dir, err)
	case len(entries) > 0:
		names := make([]string, 0, 3)
		for i, e := range entries {
			if i == 3 {
				names = append(names, "...")
				break
			}
			names = append(names, e.Name())
		}
		return fmt.Errorf("target directory %s is not empty (%s): choose another --out, or use `svcgen regen` for an existing service", dir, strings.Join(names, ", "))
	}
	return nil
}

// DryRun prints what Write would write: one line per file with its class and
// size, then a summary.
func DryRun(w io.Writer, dir string, res Result) {
	fmt.Fprintf(w, "would write %d files into %s:\n", len(res.Files), dir)
	counts := map[Class]int{}
	var total int
	for _, f := range res.Files {
		counts[f.Class]++
		total += len(f.Content)
		fmt.Fprintf(w, "  %-9s %8s  %s\n", f.Class, size(len(f.Content)), f.Path)
	}
	fmt.Fprintf(w, "%d generated, %d scaffold, %d merged; %s in all; features: %s\n",
		counts[Generated], counts[Scaffold], counts[Merged], size(total), strings.Join(res.Features, ", "))
}

func size(n int) string {
	if n < 1024 {
		return fmt.Sprintf("%d B", n)
	}
	return fmt.Sprintf("%.1f KB", float64(n)/1024)
}

// Tidy runs `go mod tidy` in dir (a service a regen wrote), printing a
// progress line to progress.
func Tidy(ctx context.Context, dir string, progress io.Writer) error {
	if err := CheckToolchain(); err != nil {
		return err
	}
	fmt.Fprintf(progress, "running go mod tidy in %s (downloads modules on first use; skip with --no-tidy)...\n", dir)
	start := time.Now()
	out, err := goModTidy(ctx, dir)
	if err != nil {
		return fmt.Errorf("go mod tidy in %s failed: %w\n%s\nthe regen is written; fix the cause and run svcgen regen there again (it finishes the tidy), or go mod tidy", dir, err, tidyOutput(out))
	}
	fmt.Fprintf(progress, "go mod tidy done in %.1fs\n", time.Since(start).Seconds())
	return nil
}

// tidyOutput keeps what says why go mod tidy failed: its lines but the
// "go: downloading" ones, at most a dozen.
func tidyOutput(out string) string {
	const most = 12
	var keep []string
	n := 0
	for _, l := range strings.Split(strings.TrimSpace(out), "\n") {
		if strings.HasPrefix(l, "go: downloading ") || strings.TrimSpace(l) == "" {
			continue
		}
		if n++; n <= most {
			keep = append(keep, l)
		}
	}
	if n > most {
		keep = append(keep, fmt.Sprintf("... (%d more lines)", n-most))
	}
	return strings.Join(keep, "\n")
}
