package main

import (
	"bytes"
	"errors"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/svcgen/svcgen/cmd/svcgen/internal/wizard"
	"github.com/svcgen/svcgen/generator"
)

func TestShellQuote(t *testing.T) {
	for in, want := range map[string]string{
		"":                        "''",
		"inventory-svc":           "inventory-svc",
		"+cache3,-pgo":            "+cache3,-pgo",
		"github.com/acme/x":       "github.com/acme/x",
		"/tmp/my dir":             "'/tmp/my dir'",
		"it's":                    `'it'\''s'`,
		"--features=-pgo,+cache3": "--features=-pgo,+cache3",
	} {
		if got := shellQuote(in); got != want {
			t.Errorf("shellQuote(%q) = %s, want %s", in, got, want)
		}
	}
}

func TestReplayCommand(t *testing.T) {
	opts := generator.Options{Name: "inv", Module: "example.com/inv", Preset: "read-heavy",
		Features: []string{"-pgo", "+pool"}, Spec: "api/my spec.yaml",
		HTTPPort: generator.DefaultHTTPPort, AdminPort: 9999}
	got := replayCommand(opts, &newFlags{out: "svc", noTidy: true})
	want := "svcgen new inv --preset read-heavy --module example.com/inv --features=-pgo,+pool " +
		"--spec 'api/my spec.yaml' --admin-port 9999 --out svc --no-tidy --yes"
	if got != want {
		t.Errorf("got  %s\nwant %s", got, want)
	}
}

// fakePrompter answers from a script, in order, and fails the test on a
// question it does not expect.
type fakePrompter struct {
	t       *testing.T
	answers []fakeAnswer
}

type fakeAnswer struct {
	msg string // the question must contain it
	val any    // string, []string, bool or error
}

func (f *fakePrompter) next(msg string) any {
	f.t.Helper()
	if len(f.answers) == 0 {
		f.t.Fatalf("unexpected question %q", msg)
	}
	a := f.answers[0]
	f.answers = f.answers[1:]
	if !strings.Contains(msg, a.msg) {
		f.t.Fatalf("question %q, want one about %q", msg, a.msg)
	}
	return a.val
}

func answer[T any](f *fakePrompter, msg string) (T, error) {
	var zero T
	switch v := f.next(msg).(type) {
	case error:
		return zero, v
	case T:
		return v, nil
	default:
		f.t.Fatalf("answer %v to %q has the wrong type", v, msg)
		return zero, nil
	}
}

func (f *fakePrompter) Input(msg, def string, validate func(string) error) (string, error) {
	v, err := answer[string](f, msg)
	if err != nil {
		return "", err
	}
	if v == "" {
		v = def
	}
	if validate != nil {
		if err := validate(v); err != nil {
			f.t.Fatalf("%q: answer %q rejected: %v", msg, v, err)
		}
	}
	return v, nil
}

func (f *fakePrompter) Select(msg string, options []string, def string, describe func(string) string) (string, error) {
	v, err := answer[string](f, msg)
	if err == nil && !slices.Contains(options, v) {
		f.t.Fatalf("%q: %q is not one of %q", msg, v, options)
	}
	if describe != nil && describe(v) == "" {
		f.t.Errorf("%q: option %q has no description", msg, v)
	}
	return v, err
}

func (f *fakePrompter) MultiSelect(msg string, options, defaults []string, _ func(string) string) ([]string, error) {
	change, err := answer[[]string](f, msg)
	if err != nil {
		return nil, err
	}
	return generator.ApplyFeatureOverrides(defaults, change), nil
}

func (f *fakePrompter) Confirm(msg string, def bool) (bool, error) {
	return answer[bool](f, msg)
}

func runWithPrompter(t *testing.T, p wizard.Prompter, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errOut bytes.Buffer
	e := &env{stdin: strings.NewReader(""), stdout: &out, stderr: &errOut,
		prompt: func() (wizard.Prompter, io.Writer, bool) { return p, &out, true }}
	code = run(e, args)
	return code, out.String(), errOut.String()
}

func TestWizardFlow(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "svc")
	p := &fakePrompter{t: t, answers: []fakeAnswer{
		{"Service name", "inv-svc"},
		{"Go module path", "example.com/inv-svc"},
		{"Preset", "read-heavy"},
		{"Features", []string{"+pool"}}, // relative to what is checked
		{"OpenAPI spec", ""},
		{"HTTP port", "8181"},
		{"Admin port", ""},
		{"Dry-run inv-svc into " + dir, true},
	}}
	code, stdout, stderr := runWithPrompter(t, p, "new", "--out", dir, "--dry-run")
	if code != 0 {
		t.Fatalf("exit %d\nstderr: %s", code, stderr)
	}
	want := "svcgen new inv-svc --preset read-heavy --module example.com/inv-svc --features +pool --http-port 8181 --out " +
		shellQuote(dir) + " --dry-run --yes"
	if !strings.Contains(stdout, want) {
		t.Errorf("stdout has no replay command %q:\n%s", want, stdout)
	}
	if !strings.Contains(stdout, "would write") {
		t.Errorf("no dry-run listing:\n%s", stdout)
	}
	if _, err := os.Stat(dir); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("dry run wrote %s", dir)
	}
	if len(p.answers) > 0 {
		t.Errorf("questions not asked: %v", p.answers)
	}
}

func TestWizardInterruptedExitCode(t *testing.T) {
	p := &fakePrompter{t: t, answers: []fakeAnswer{{"Service name", wizard.ErrInterrupted}}}
	code, _, stderr := runWithPrompter(t, p, "new")
	const want = "svcgen: interrupted: nothing was written\n"
	if code != exitInterrupted || stderr != want {
		t.Errorf("exit %d, stderr %q; want %d, %q", code, stderr, exitInterrupted, want)
	}
}

func TestRunNoStackTraceOnPanic(t *testing.T) {
	var out, errOut bytes.Buffer
	e := &env{stdin: strings.NewReader(""), stdout: &out, stderr: &errOut,
		prompt: func() (wizard.Prompter, io.Writer, bool) { panic("boom") }}
	t.Setenv("SVCGEN_DEBUG", "")
	code := run(e, []string{"new", "x", "--preset", "hot-path", "--dry-run"})
	if code != exitInternal {
		t.Errorf("exit %d, want %d", code, exitInternal)
	}
	if s := errOut.String(); !strings.HasPrefix(s, "svcgen: internal error: boom\n") || strings.Contains(s, "goroutine") {
		t.Errorf("stderr:\n%s", s)
	}
}
