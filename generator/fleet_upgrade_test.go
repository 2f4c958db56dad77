package generator

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// fakeService is a git repository with a manifest and one generated
// file; its regen rewrites the file to content.
func fakeService(t *testing.T) string {
	t.Helper()
	needGit(t)
	for k, v := range map[string]string{
		"GIT_AUTHOR_NAME": "Team", "GIT_AUTHOR_EMAIL": "team@example.com",
		"GIT_COMMITTER_NAME": "Team", "GIT_COMMITTER_EMAIL": "team@example.com",
		"GIT_CONFIG_GLOBAL": "/dev/null", "GIT_CONFIG_NOSYSTEM": "1",
	} {
		t.Setenv(k, v)
	}
	dir := t.TempDir()
	writeFile(t, dir, ManifestPath, "svcgen: v0.9.0\nanswers:\n  name: svc\n  module: example.com/svc\n  preset: hot-path\nfeatures: []\nfiles: []\n")
	writeFile(t, dir, "gen.go", "package svc // v0.9.0\n")
	gitRun(t, dir, "init", "-q", "-b", "main")
	gitRun(t, dir, "add", "-A")
	gitRun(t, dir, "commit", "-q", "-m", "init")
	return dir
}

func gitRun(t *testing.T, dir string, args ...string) string {
	t.Helper()
	out, err := exec.Command("git", append([]string{"-C", dir}, args...)...).CombinedOutput()
	if err != nil {
		t.Fatalf("git %v: %v\n%s", args, err, out)
	}
	return strings.TrimSpace(string(out))
}

// rewriteRegen is a regen that writes content into gen.go, reports it, and
// leaves a backup the way regen does.
func rewriteRegen(content string) RegenFunc {
	return func(_ context.Context, dir string) RegenOutcome {
		if err := os.WriteFile(filepath.Join(dir, "gen.go"), []byte(content), 0o644); err != nil {
			return RegenOutcome{Err: err}
		}
		if err := os.MkdirAll(filepath.Join(dir, BackupDir, "20260101-000000"), 0o755); err != nil {
			return RegenOutcome{Err: err}
		}
		return RegenOutcome{Files: []RegenFile{{Path: "gen.go", Class: "generated", Action: "updated"}, {Path: ManifestPath, Class: "manifest", Action: "updated"}}}
	}
}

// TestUpgradeService covers fleet upgrade's branch handling without a
// real regen: a commit on a new branch, the same tree again (no commit),
// new content (a new commit from main), failing tests (a pull request
// saying so), a refused regen (an issue, no branch left), a branch the
// team pushed to (skipped), and the refusals.
func TestUpgradeService(t *testing.T) {
	ctx := context.Background()
	was := Version
	Version = "v1.0.0"
	t.Cleanup(func() { Version = was })
	dir := fakeService(t)
	main := gitRun(t, dir, "rev-parse", "main")
	opts := UpgradeOptions{Branch: "svcgen/upgrade", Regen: rewriteRegen("package svc // v1.0.0\n"), Test: "test -f gen.go"}

	u := UpgradeService(ctx, dir, opts)
	if u.Status != UpgradeUpgraded || u.Action != "pr" || !u.Committed || u.Tests == nil || !u.Tests.Passed {
		t.Fatalf("first run: %+v", u)
	}
	if got := gitRun(t, dir, "rev-parse", "svcgen/upgrade^"); got != main {
		t.Errorf("the upgrade commit's parent is %s, want main %s", got, main)
	}
	msg := gitRun(t, dir, "log", "-1", "--format=%B", "svcgen/upgrade")
	for _, want := range []string{"svcgen: upgrade to " + Version, "generated (1):", "updated     gen.go", "test -f gen.go: passed", UpgradeTrailer + Version} {
		if !strings.Contains(msg, want) {
			t.Errorf("commit message lacks %q:\n%s", want, msg)
		}
	}
	if st := gitRun(t, dir, "status", "--porcelain", "--untracked-files=all"); st != "" || gitRun(t, dir, "symbolic-ref", "--short", "HEAD") != "main" {
		t.Errorf("the checkout is not back on main, clean (the run's backup removed):\n%s", st)
	}
	if _, err := os.Stat(filepath.Join(dir, BackupDir, "20260101-000000")); err == nil {
		t.Error("the backup the run made is still there")
	}

	again := UpgradeService(ctx, dir, opts)
	if again.Committed || again.Commit != u.Commit || again.Status != UpgradeUpgraded {
		t.Errorf("second run with the same regen: committed %v at %s, want the branch left at %s", again.Committed, again.Commit, u.Commit)
	}

	opts.Regen = rewriteRegen("package svc // v1.0.1\n")
	newer := UpgradeService(ctx, dir, opts)
	if !newer.Committed || newer.Commit == u.Commit || gitRun(t, dir, "rev-parse", "svcgen/upgrade^") != main {
		t.Errorf("new content: want a new commit on main, got %+v", newer)
	}

	opts.Test = "echo 'FAIL: TestThing' >&2; exit 1"
	failing := UpgradeService(ctx, dir, opts)
	if failing.Status != UpgradeTestsFailed || failing.Action != "pr" || !strings.Contains(failing.Body, "FAIL: TestThing") || !strings.Contains(failing.Title, "tests fail") {
		t.Errorf("failing tests: %s %s %q\n%s", failing.Status, failing.Action, failing.Title, failing.Body)
	}
	opts.Test = ""

	refused := fakeService(t)
	opts.Regen = func(context.Context, string) RegenOutcome {
		return RegenOutcome{Err: errors.New("generated files edited by hand: gen.go"), Log: "svcgen/gen.go\n+// edit\n"}
	}
	r := UpgradeService(ctx, refused, opts)
	if r.Status != UpgradeFailed || r.Action != "issue" || !strings.Contains(r.Body, "generated files edited by hand: gen.go") {
		t.Errorf("refused regen: %+v", r)
	}
	if out, err := exec.Command("git", "-C", refused, "rev-parse", "--verify", "-q", "refs/heads/svcgen/upgrade").CombinedOutput(); err == nil {
		t.Errorf("a refused regen left branch svcgen/upgrade at %s", out)
	}

	// The team takes the branch over: the next run leaves it alone.
	gitRun(t, dir, "checkout", "-q", "svcgen/upgrade")
	writeFile(t, dir, "gen.go", "package svc // resolved by the team\n")
	gitRun(t, dir, "commit", "-q", "-am", "resolve")
	tip := gitRun(t, dir, "rev-parse", "HEAD")
	gitRun(t, dir, "checkout", "-q", "main")
	opts.Regen = rewriteRegen("package svc // v1.0.2\n")
	s := UpgradeService(ctx, dir, opts)
	if s.Status != UpgradeSkipped || gitRun(t, dir, "rev-parse", "svcgen/upgrade") != tip {
		t.Errorf("a branch with the team's commit: %s (%s), want skipped and the branch at %s", s.Status, s.Error, tip)
	}

	// Never a downgrade.
	newerSvc := fakeService(t)
	replaceIn := strings.Replace(readFile(t, newerSvc, ManifestPath), "svcgen: v0.9.0", "svcgen: v99.0.0", 1)
	writeFile(t, newerSvc, ManifestPath, replaceIn)
	gitRun(t, newerSvc, "commit", "-q", "-am", "upgraded by hand")
	if d := UpgradeService(ctx, newerSvc, opts); d.Status != UpgradeSkipped || !strings.Contains(d.Error, "newer than this") {
		t.Errorf("a service recorded by a newer svcgen: %s %q, want skipped", d.Status, d.Error)
	}
	if out, err := exec.Command("git", "-C", newerSvc, "rev-parse", "--verify", "-q", "refs/heads/svcgen/upgrade").CombinedOutput(); err == nil {
		t.Errorf("a skipped downgrade left branch svcgen/upgrade at %s", out)
	}

	for _, tc := range []struct {
		name, want string
		setup      func(dir string)
	}{
		{"dirty", "uncommitted changes", func(dir string) { writeFile(t, dir, "gen.go", "package svc // wip\n") }},
		{"on the branch", "checked out on svcgen/upgrade", func(dir string) { gitRun(t, dir, "checkout", "-q", "-b", "svcgen/upgrade") }},
		{"not git", "not in a git work tree", func(dir string) { _ = os.RemoveAll(filepath.Join(dir, ".git")) }},
	} {
		d := fakeService(t)
		tc.setup(d)
		if u := UpgradeService(ctx, d, opts); u.Status != UpgradeError || !strings.Contains(u.Error, tc.want) {
			t.Errorf("%s: %s %q, want error saying %q", tc.name, u.Status, u.Error, tc.want)
		}
	}
}
