package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/svcgen/svcgen/cmd/svcgen/internal/wizard"
	"github.com/svcgen/svcgen/generator"
)

// tutorialFlags are the flags of svcgen tutorial.
type tutorialFlags struct {
	preset     string
	to         string
	dir        string
	module     string
	presetsDir string
	step       int
	httpPort   int
	adminPort  int
	check      bool
	commands   bool
	list       bool
	reset      bool
	plain      bool
}

// progressFile is where the tutorial remembers, inside the service, the
// step the newcomer is on. It records position only: whether a step was
// done is always decided by looking at the service itself.
const progressFile = ".svcgen/tutorial.json"

// reportDir holds the outputs of the steps' commands that the checks read
// (the test and benchmark reports).
const reportDir = ".svcgen/tutorial"

type progress struct {
	// Preset is the preset the tutorial started from.
	Preset string `json:"preset"`
	// To is the preset of the last step's switch.
	To string `json:"to"`
	// Next is the step the newcomer is on (1-based); len(steps)+1 when done.
	Next int `json:"next"`
	// Shown is the furthest step whose instructions were printed.
	Shown int `json:"shown"`
}

func newTutorialCmd(e *env) *cobra.Command {
	f := &tutorialFlags{}
	cmd := &cobra.Command{
		Use:   "tutorial",
		Short: "A guided walk: generate, test, run, change, regenerate and measure a service",
		Long: `The onboarding walk for a newcomer, in ten steps: generate a service, run its
tests, start it, call it, add an operation to the spec, regenerate, implement
the new handler, watch the preset's signature metric in /metrics (a cache hit
for read-heavy), run the benchmarks, and switch the service to another preset.

Every step shows its commands and why they matter. Before going on, the
tutorial checks that the step really happened, by what it left behind: the
manifest and a clean svcgen check, a passing test report newer than the
sources, /healthz answering, the new operation in the spec and its handler
file, the handler answering instead of 501, the signature metric moved by the step's calls, a
benchmark report with results, the new preset in the manifest. A failed check
says what is missing and the command that fixes it.

On a terminal the walk is interactive. Otherwise (or with --plain) each run
checks the steps done so far, prints the next one and exits: 0 when the
checks passed, 1 when one failed. The position is kept in DIR/` + progressFile + `,
so running the command again continues where you stopped.

Flags for scripts and the curious:
  --step N            print step N (1-` + strconv.Itoa(len(tutorialSteps)) + `) instead of the next one
  --step N --check    check step N only; exit 1 with what is missing
  --check             check the steps done so far and the next one; print no instructions
  --step N --commands print step N's commands only, as a shell script
  --list              list the steps and which of them pass their checks
  --reset             forget the position and start again at step 1

Postgres and Redis: the steps that run the service use DATABASE_URL and
REDIS_URL (default the local ones on 127.0.0.1). Without them, start both with
docker compose (the service has a compose.yaml) or your package manager.
Benchmarks: BENCHTIME (e.g. BENCHTIME=100ms) shortens make bench.
Every feature the walk shows can explain itself: svcgen explain FEATURE.`,
		Example: `  svcgen tutorial                                  # read-heavy, in ./svcgen-tutorial
  svcgen tutorial --preset analytics --dir events-tutorial
  svcgen tutorial --dir svcgen-tutorial --check    # did I do it right?
  svcgen tutorial --dir svcgen-tutorial --step 4 --commands | sh`,
		Args: exactArgs(0),
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runTutorial(cmd, e, f)
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&f.preset, "preset", "read-heavy", "preset of the tutorial's service")
	fl.StringVar(&f.to, "to", "", "preset the last step switches to (default: hot-path, or read-heavy when starting from hot-path)")
	fl.StringVar(&f.dir, "dir", "svcgen-tutorial", "directory of the tutorial's service (its last element is the service name)")
	fl.StringVar(&f.module, "module", "", "Go module path of the service (step 1; default example.com/NAME)")
	fl.StringVar(&f.presetsDir, "presets-dir", "", "directory of extra preset YAML files")
	fl.IntVar(&f.step, "step", 0, "show (or with --check, check) step N only")
	fl.IntVar(&f.httpPort, "http-port", generator.DefaultHTTPPort, "public API port of the service (step 1)")
	fl.IntVar(&f.adminPort, "admin-port", generator.DefaultAdminPort, "metrics and pprof port of the service (step 1)")
	fl.BoolVar(&f.check, "check", false, "check only; print no instructions")
	fl.BoolVar(&f.commands, "commands", false, "with --step: print the step's commands only")
	fl.BoolVar(&f.list, "list", false, "list the steps and their checks")
	fl.BoolVar(&f.reset, "reset", false, "start again at step 1")
	fl.BoolVar(&f.plain, "plain", false, "plain text even on a terminal (never prompt)")
	return cmd
}

func runTutorial(cmd *cobra.Command, e *env, f *tutorialFlags) error {
	if f.commands && f.step == 0 {
		return &usageError{cmd: cmd, err: errors.New("--commands needs --step N")}
	}
	if f.step < 0 || f.step > len(tutorialSteps) {
		return &usageError{cmd: cmd, err: fmt.Errorf("--step %d: the steps are 1 to %d", f.step, len(tutorialSteps))}
	}
	ports := generator.Options{HTTPPort: f.httpPort, AdminPort: f.adminPort}
	if err := ports.ValidatePorts(); err != nil {
		return &usageError{cmd: cmd, err: portFlags(err)}
	}
	t, err := newTutorial(f)
	if err != nil {
		return err
	}
	if f.reset {
		if err := os.Remove(filepath.Join(t.dir, progressFile)); err != nil && !errors.Is(err, os.ErrNotExist) {
			return err
		}
		t.prog = progress{Preset: t.prog.Preset, To: t.prog.To, Next: 1}
	}
	w := e.stdout
	switch {
	case f.list:
		return t.list(w)
	case f.step > 0 && f.commands:
		fmt.Fprint(w, t.script(f.step))
		return nil
	case f.step > 0 && f.check:
		return t.checkOne(w, f.step)
	case f.step > 0:
		t.show(w, f.step)
		return nil
	case f.check:
		_, err := t.walk(w, false)
		return err
	}
	if !f.plain {
		if p, out, ok := e.prompter(); ok {
			return t.interactive(p, out)
		}
	}
	next, err := t.walk(w, true)
	if err != nil {
		return err
	}
	if next <= len(tutorialSteps) {
		t.show(w, next)
	}
	return nil
}

// tutorial is one newcomer's walk through one service.
type tutorial struct {
	cat       *generator.Catalog
	dir       string // as given, for the commands
	name      string
	module    string
	httpPort  int
	adminPort int
	prog      progress
	// features of the preset the walk started from: they choose the
	// signature metric.
	features []string
	starter  string
}

func newTutorial(f *tutorialFlags) (*tutorial, error) {
	cat, err := generator.LoadCatalog(f.presetsDir)
	if err != nil {
		return nil, err
	}
	abs, err := filepath.Abs(f.dir)
	if err != nil {
		return nil, err
	}
	name := filepath.Base(abs)
	if err := generator.ValidateName(name); err != nil {
		return nil, fmt.Errorf("--dir %s: its last element names the service: %w", f.dir, err)
	}
	module := f.module
	if module == "" {
		module = "example.com/" + name
	}
	if err := generator.ValidateModule(module); err != nil {
		return nil, fmt.Errorf("--module: %w", err)
	}
	t := &tutorial{cat: cat, dir: filepath.Clean(f.dir), name: name, module: module,
		httpPort: f.httpPort, adminPort: f.adminPort}
	t.prog = progress{Preset: f.preset, To: f.to, Next: 1}
	data, err := os.ReadFile(filepath.Join(abs, progressFile))
	if err == nil {
		if err := json.Unmarshal(data, &t.prog); err != nil {
			return nil, fmt.Errorf("%s: %w (delete it or run with --reset)", filepath.Join(f.dir, progressFile), err)
		}
	}
	// A generated service knows its answers better than the flags.
	if m, merr := generator.ReadManifest(abs); merr == nil {
		if err != nil && !f.reset {
			// Generated (step 1), position not recorded yet: the walk
			// starts from the service's preset.
			t.prog.Preset = m.Answers.Preset
		}
		t.module = m.Answers.Module
		if m.Answers.HTTPPort != 0 {
			t.httpPort = m.Answers.HTTPPort
		}
		if m.Answers.AdminPort != 0 {
			t.adminPort = m.Answers.AdminPort
		}
	}
	p, err := cat.Preset(t.prog.Preset)
	if err != nil {
		return nil, fmt.Errorf("--preset: %w", err)
	}
	t.starter = p.Starter
	t.features, err = cat.ResolveFeatures(p, nil)
	if err != nil {
		return nil, err
	}
	if t.prog.To == "" {
		t.prog.To = "hot-path"
		if t.prog.Preset == "hot-path" {
			t.prog.To = "read-heavy"
		}
	}
	if t.prog.To == t.prog.Preset {
		return nil, fmt.Errorf("--to %s: the last step switches to another preset than the one the tutorial starts from", t.prog.To)
	}
	if _, err := cat.Preset(t.prog.To); err != nil {
		return nil, fmt.Errorf("--to: %w", err)
	}
	if t.prog.Next < 1 {
		t.prog.Next = 1
	}
	return t, nil
}

// save records the position, once the service exists (svcgen new refuses a
// non-empty directory, so nothing is written before step 1 is done).
func (t *tutorial) save() error {
	if _, err := os.Stat(filepath.Join(t.dir, generator.ManifestPath)); err != nil {
		return nil
	}
	data, err := json.MarshalIndent(t.prog, "", "  ")
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Join(t.dir, ".svcgen"), 0o755); err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(t.dir, progressFile), append(data, '\n'), 0o644)
}

// walk checks the steps done so far (leniently: what they leave behind for
// good) and the next one (strictly), advancing past every step whose check
// passes. It returns the step to do next. The error is a failed check of a
// step done earlier, or of a step already shown and still not done.
func (t *tutorial) walk(w io.Writer, quietNext bool) (int, error) {
	var failed []string
	for n := 1; n < t.prog.Next && n <= len(tutorialSteps); n++ {
		s := tutorialSteps[n-1]
		if err := s.check(t, true); err != nil {
			var live *notRunningError
			if errors.As(err, &live) {
				fmt.Fprintf(w, "-  %2d. %s: not re-checked, the service is not running\n", n, s.title)
				continue
			}
			fmt.Fprintf(w, "✗  %2d. %s\n%s", n, s.title, indent(t.failure(n, err)))
			failed = append(failed, strconv.Itoa(n))
			continue
		}
		fmt.Fprintf(w, "✓  %2d. %s\n", n, s.title)
	}
	if len(failed) > 0 {
		return t.prog.Next, fmt.Errorf("the check of step %s failed (see above)", strings.Join(failed, ", "))
	}
	for t.prog.Next <= len(tutorialSteps) {
		n := t.prog.Next
		s := tutorialSteps[n-1]
		if n == 1 && quietNext {
			if _, err := os.Stat(t.dir); errors.Is(err, os.ErrNotExist) {
				return 1, nil // the beginning: show step 1
			}
		}
		if quietNext && n > max(t.prog.Shown, 1) {
			// Show a step before checking it, even when its check would
			// already pass: the newcomer reads every step.
			t.prog.Shown = n
			return n, t.save()
		}
		err := s.check(t, false)
		if err == nil {
			fmt.Fprintf(w, "✓  %2d. %s\n", n, s.title)
			t.prog.Next++
			if err := t.save(); err != nil {
				return n, err
			}
			continue
		}
		// Not done yet. A step the newcomer was already shown should be.
		if t.prog.Shown >= n {
			fmt.Fprintf(w, "✗  %2d. %s\n%s", n, s.title, indent(t.failure(n, err)))
			return n, fmt.Errorf("step %d is not done yet: %v", n, err)
		}
		fmt.Fprintf(w, "…  %2d. %s: not done yet (%v)\n", n, s.title, err)
		return n, fmt.Errorf("step %d is not done yet: %v", n, err)
	}
	fmt.Fprintf(w, "\nDone: every step of the tutorial passed its check. Next: svcgen explain, the\nservice's README.md, and docs/presets/ in svcgen's repository.\n")
	return t.prog.Next, nil
}

// checkOne checks step n strictly.
func (t *tutorial) checkOne(w io.Writer, n int) error {
	s := tutorialSteps[n-1]
	if err := s.check(t, false); err != nil {
		fmt.Fprintf(w, "✗  %2d. %s\n%s", n, s.title, indent(t.failure(n, err)))
		return fmt.Errorf("step %d: %v", n, err)
	}
	fmt.Fprintf(w, "✓  %2d. %s\n", n, s.title)
	return nil
}

// list prints every step with the result of its check: ✓ passed, ✗ failed
// (a step done earlier), - needs the running service, … not done yet.
// Steps done earlier are checked for what they leave behind for good, as
// walk does.
func (t *tutorial) list(w io.Writer) error {
	for i, s := range tutorialSteps {
		n := i + 1
		prior := n < t.prog.Next
		err := s.check(t, prior)
		var live *notRunningError
		mark := "✓"
		switch {
		case err == nil:
		case prior && errors.As(err, &live):
			mark = "-"
		case prior:
			mark = "✗"
		default:
			mark = "…"
		}
		fmt.Fprintf(w, "%s  %2d. %s\n", mark, n, s.title)
	}
	return nil
}

// failure is what a failed check prints: what is missing and the commands
// that fix it.
func (t *tutorial) failure(n int, err error) string {
	var b strings.Builder
	fmt.Fprintf(&b, "missing: %v\n", err)
	fmt.Fprintf(&b, "fix: do step %d (svcgen tutorial --dir %s --step %d shows it):\n", n, t.dir, n)
	for _, c := range tutorialSteps[n-1].commands(t) {
		fmt.Fprintf(&b, "    %s\n", strings.ReplaceAll(c, "\n", "\n    "))
	}
	return b.String()
}

// show prints step n: why, the commands, what to look for.
func (t *tutorial) show(w io.Writer, n int) {
	s := tutorialSteps[n-1]
	fmt.Fprintf(w, "\nStep %d of %d: %s\n\n%s\n\n", n, len(tutorialSteps), s.title, wrap(s.why(t), 78))
	fmt.Fprintln(w, "Run:")
	fmt.Fprintln(w)
	for _, c := range s.commands(t) {
		fmt.Fprintf(w, "    %s\n", strings.ReplaceAll(c, "\n", "\n    "))
	}
	fmt.Fprintf(w, "\nLook for: %s\n", wrap(s.lookFor(t), 78))
	fmt.Fprintf(w, "\nThen run svcgen tutorial --dir %s again: it checks the step and shows the next one.\n", t.dir)
}

// script is step n's commands as a shell script.
func (t *tutorial) script(n int) string {
	var b strings.Builder
	fmt.Fprintf(&b, "# svcgen tutorial, step %d: %s\nset -e\n", n, tutorialSteps[n-1].title)
	for _, c := range tutorialSteps[n-1].commands(t) {
		b.WriteString(c + "\n")
	}
	return b.String()
}

// interactive walks the steps with the wizard: show, wait, check, go on.
func (t *tutorial) interactive(p wizard.Prompter, out io.Writer) error {
	// The step the newcomer stopped at is shown again, not reported as
	// failed: they are about to do it.
	t.prog.Shown = t.prog.Next - 1
	next, err := t.walk(out, true)
	if err != nil {
		fmt.Fprintf(out, "\n%v\n", err)
	}
	for next <= len(tutorialSteps) {
		t.show(out, next)
		const (
			check = "I ran it: check the step"
			again = "Show the step again"
			stop  = "Stop here (the next run continues from this step)"
		)
		for {
			a, err := p.Select("Step "+strconv.Itoa(next), []string{check, again, stop}, check, nil)
			if err != nil {
				return err
			}
			if a == stop {
				fmt.Fprintf(out, "Progress kept; continue with: svcgen tutorial --dir %s\n", t.dir)
				return nil
			}
			if a == again {
				t.show(out, next)
				continue
			}
			if err := tutorialSteps[next-1].check(t, false); err != nil {
				fmt.Fprint(out, t.failure(next, err))
				continue
			}
			fmt.Fprintf(out, "✓  %2d. %s\n", next, tutorialSteps[next-1].title)
			next++
			t.prog.Next, t.prog.Shown = next, next
			if err := t.save(); err != nil {
				return err
			}
			break
		}
	}
	fmt.Fprintln(out, "\nDone: every step passed its check. Next: svcgen explain FEATURE and the service's README.md.")
	return nil
}

func indent(s string) string {
	return "      " + strings.ReplaceAll(strings.TrimRight(s, "\n"), "\n", "\n      ") + "\n"
}

// wrap breaks text at spaces so lines stay under width.
func wrap(s string, width int) string {
	var out []string
	for _, para := range strings.Split(s, "\n") {
		line := ""
		for _, word := range strings.Fields(para) {
			if line != "" && len(line)+1+len(word) > width {
				out = append(out, line)
				line = word
				continue
			}
			if line != "" {
				line += " "
			}
			line += word
		}
		out = append(out, line)
	}
	return strings.Join(out, "\n")
}

// newerThanSources reports the first source file of the service modified
// after t (Go files, go.mod, the spec), if any.
func newerThanSources(dir string, t time.Time) (string, error) {
	var found string
	err := filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err != nil || found != "" {
			return err
		}
		if d.IsDir() {
			switch d.Name() {
			case ".svcgen", ".git", "bin":
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(p, ".go") && d.Name() != "go.mod" && d.Name() != "openapi.yaml" {
			return nil
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		if info.ModTime().After(t) {
			found, _ = filepath.Rel(dir, p)
		}
		return nil
	})
	return found, err
}
