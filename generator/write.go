package generator

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"
)

// Write puts res into dir atomically: every file is written into a temporary
// directory beside dir, which is then renamed into place. dir must not
// exist or be empty; otherwise the error says so and nothing is written.
func Write(dir string, res Result) error {
	dir = filepath.Clean(dir)
	if err := CheckTarget(dir); err != nil {
		return err
	}
	parent := filepath.Dir(dir)
	if err := os.MkdirAll(parent, 0o755); err != nil {
		return fmt.Errorf("creating %s: %w", parent, err)
	}
	tmp, err := os.MkdirTemp(parent, "."+filepath.Base(dir)+".svcgen-")
	if err != nil {
		return fmt.Errorf("creating a temporary directory beside %s: %w", dir, err)
	}
	done := false
	defer func() {
		if !done {
			_ = os.RemoveAll(tmp)
		}
	}()
	if err := os.Chmod(tmp, 0o755); err != nil {
		return err
	}
	for _, f := range res.Files {
		p := filepath.Join(tmp, filepath.FromSlash(f.Path))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			return err
		}
		if err := os.WriteFile(p, f.Content, os.FileMode(f.Mode)); err != nil {
			return fmt.Errorf("writing %s: %w", f.Path, err)
		}
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

// Tidy runs `go mod tidy` in dir, printing a progress line to progress.
func Tidy(ctx context.Context, dir string, progress io.Writer) error {
	if err := CheckToolchain(); err != nil {
		return err
	}
	fmt.Fprintf(progress, "running go mod tidy in %s (downloads modules on first use; skip with --no-tidy)...\n", dir)
	start := time.Now()
	cmd := exec.CommandContext(ctx, "go", "mod", "tidy")
	cmd.Dir = dir
	out, err := cmd.CombinedOutput()
	if err != nil {
		return fmt.Errorf("go mod tidy in %s failed: %w\n%s\nthe service is written; fix the cause and run `go mod tidy` there again", dir, err, strings.TrimSpace(string(out)))
	}
	fmt.Fprintf(progress, "go mod tidy done in %.1fs\n", time.Since(start).Seconds())
	return nil
}
