package generator

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"golang.org/x/mod/semver"
)

// The statuses of a service in a fleet upgrade.
const (
	UpgradeUpToDate    = "up-to-date"   // nothing to upgrade: no branch, no pull request
	UpgradeUpgraded    = "upgraded"     // the branch holds a clean regen whose tests pass: a pull request
	UpgradeTestsFailed = "tests-failed" // a clean regen whose tests fail: a pull request saying so
	UpgradeConflict    = "conflict"     // the regen conflicts: the branch holds the markers, an issue lists them
	UpgradeFailed      = "failed"       // regen refused (a hand edit, code that would not compile): an issue, no branch
	UpgradeSkipped     = "skipped"      // the branch has commits of the team's: left alone
	UpgradeError       = "error"        // the upgrade could not run (not a git work tree, uncommitted changes, git failed)
)

// UpgradeTrailer ends the message of every commit fleet upgrade makes; a
// branch whose last commit lacks it has the team's work and is left alone.
const UpgradeTrailer = "Svcgen-Upgrade: "

// RegenFile is one file of a regen's report.
type RegenFile struct {
	Path   string
	Class  string
	Action string
	Note   string
}

// RegenOutcome is what a regen run by fleet upgrade did.
type RegenOutcome struct {
	// Err is why the regen failed; nil for a clean regen and for one that
	// wrote conflicts (Conflicts).
	Err error
	// Files are its report, one entry per file (svcgen regen --json).
	Files []RegenFile
	// Log is what it printed besides the report.
	Log string
	// Conflicts is true when it wrote merges with conflict markers.
	Conflicts bool
}

// RegenFunc regenerates the service in dir in place.
type RegenFunc func(ctx context.Context, dir string) RegenOutcome

// UpgradeOptions are how fleet upgrade treats one service repository.
type UpgradeOptions struct {
	// Regen runs the regen (svcgen regen, in-process).
	Regen RegenFunc
	// Branch is the upgrade branch, created or updated from Base.
	Branch string
	// Base is the commit the branch starts from; "" is the checked-out
	// branch (the default branch in CI).
	Base string
	// Test is the shell command run in the service after a clean regen
	// ("" runs none).
	Test string
	// TestTimeout bounds Test.
	TestTimeout time.Duration
}

// UpgradeReport is the JSON document of `svcgen fleet upgrade --json`; its
// schema is published as schema/fleet-upgrade.schema.json.
type UpgradeReport struct {
	// Svcgen is the version services are upgraded to.
	Svcgen string `json:"svcgen"`
	// Wave is the wave upgraded ("" for services given on the command line).
	Wave string `json:"wave,omitempty"`
	// Services are the upgrades, in order.
	Services []ServiceUpgrade `json:"services"`
	// Summary counts them.
	Summary UpgradeSummary `json:"summary"`
}

// UpgradeSummary counts a fleet upgrade.
type UpgradeSummary struct {
	// Statuses counts the services by status.
	Statuses map[string]int `json:"statuses"`
	// Services is the number of services.
	Services int `json:"services"`
	// PullRequests and Issues count the services whose upgrade is a pull
	// request and an issue.
	PullRequests int `json:"pull_requests"`
	Issues       int `json:"issues"`
	// Committed counts the branches that got a new commit (to push).
	Committed int `json:"committed"`
}

// ServiceUpgrade is the upgrade of one service.
type ServiceUpgrade struct {
	// Tests is the test run, when one ran.
	Tests *TestRun `json:"tests,omitempty"`
	// Path is the service's directory.
	Path string `json:"path"`
	// Name and Module are the service's, from its manifest.
	Name   string `json:"name,omitempty"`
	Module string `json:"module,omitempty"`
	// From is the svcgen version the base branch records; To is this svcgen.
	From string `json:"from,omitempty"`
	To   string `json:"to"`
	// Status is up-to-date, upgraded, tests-failed, conflict, failed, skipped or error.
	Status string `json:"status" jsonschema:"enum=up-to-date,enum=upgraded,enum=tests-failed,enum=conflict,enum=failed,enum=skipped,enum=error"`
	// Action is what the workflow opens: pr (a pull request from Branch),
	// issue, or none.
	Action string `json:"action" jsonschema:"enum=pr,enum=issue,enum=none"`
	// Branch is the upgrade branch; Base the commit it starts from.
	Branch string `json:"branch,omitempty"`
	Base   string `json:"base,omitempty"`
	// Commit is the branch's commit after the run ("" when there is no branch).
	Commit string `json:"commit,omitempty"`
	// Error says what went wrong (status failed or error) or why the
	// service was skipped.
	Error string `json:"error,omitempty"`
	// Title and Body are the pull request's or issue's (Markdown).
	Title string `json:"title,omitempty"`
	Body  string `json:"body,omitempty"`
	// Changes are the files the regen changed, by ownership class.
	Changes []ClassChanges `json:"changes"`
	// Conflicts are the files written with conflict markers.
	Conflicts []ConflictFile `json:"conflicts"`
	// Committed is true when this run moved Branch to a new commit (push
	// it); false when the branch already held the same tree.
	Committed bool `json:"committed"`
}

// TestRun is the test command's run on the upgrade branch.
type TestRun struct {
	// Command is the shell command.
	Command string `json:"command"`
	// Output is the last lines of its output.
	Output string `json:"output,omitempty"`
	// Seconds is how long it took.
	Seconds float64 `json:"seconds"`
	// Passed is true when it exited 0.
	Passed bool `json:"passed"`
}

// Summarize fills r.Summary from r.Services.
func (r *UpgradeReport) Summarize() {
	s := UpgradeSummary{Statuses: map[string]int{}, Services: len(r.Services)}
	for _, u := range r.Services {
		s.Statuses[u.Status]++
		switch u.Action {
		case "pr":
			s.PullRequests++
		case "issue":
			s.Issues++
		}
		if u.Committed {
			s.Committed++
		}
	}
	r.Summary = s
}

// git runs git in dir and returns its trimmed output; the error carries
// git's own message.
func git(ctx context.Context, dir string, args ...string) (string, error) {
	cmd := exec.CommandContext(ctx, "git", append([]string{"-C", dir}, args...)...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		msg := strings.TrimSpace(stderr.String())
		if msg == "" {
			msg = err.Error()
		}
		return "", fmt.Errorf("git %s: %s", strings.Join(args, " "), msg)
	}
	return strings.TrimSpace(stdout.String()), nil
}

// ownWorkPaths are svcgen's working files, kept out of an upgrade commit.
// They are unstaged after `git add -A` rather than excluded from it: a
// pathspec naming a path the service's .gitignore leaves out (as the
// generated one does) makes git add fail.
var ownWorkPaths = []string{stageDir, BackupDir, TidyPendingPath}

// UpgradeService upgrades the service in dir, the checkout of its
// repository: it creates or updates the branch opts.Branch from the base,
// regenerates the service on it, runs the tests, commits with a message
// listing the changes by class, and returns the pull request's or
// issue's title and body. The checkout is left on the branch it was on,
// clean. A run that would give the branch the tree it already has leaves
// the branch alone.
func UpgradeService(ctx context.Context, dir string, opts UpgradeOptions) ServiceUpgrade {
	u := ServiceUpgrade{Path: dir, To: Version, Action: "none", Branch: opts.Branch, Changes: []ClassChanges{}, Conflicts: []ConflictFile{}}
	fail := func(err error) ServiceUpgrade {
		u.Status, u.Action, u.Error = UpgradeError, "none", err.Error()
		return u
	}
	if _, err := exec.LookPath("git"); err != nil {
		return fail(errors.New("fleet upgrade needs git on PATH"))
	}
	if inside, err := git(ctx, dir, "rev-parse", "--is-inside-work-tree"); err != nil || inside != "true" {
		return fail(fmt.Errorf("%s is not in a git work tree: fleet upgrade commits the regen on branch %s; run git init and commit the service first, or use svcgen regen", dir, opts.Branch))
	}
	if dirty, err := GitDirty(dir); err != nil {
		return fail(err)
	} else if len(dirty) > 0 {
		return fail(fmt.Errorf("%s has uncommitted changes (%s): commit or stash them; fleet upgrade works from committed history only", dir, strings.Join(dirty, "; ")))
	}
	orig, err := git(ctx, dir, "symbolic-ref", "-q", "--short", "HEAD")
	detached := err != nil
	if detached {
		if orig, err = git(ctx, dir, "rev-parse", "HEAD"); err != nil {
			return fail(fmt.Errorf("%s has no commit yet: commit the service first", dir))
		}
	}
	if orig == opts.Branch {
		return fail(fmt.Errorf("%s is checked out on %s, the upgrade branch: check out the default branch, which the upgrade starts from", dir, opts.Branch))
	}
	baseRef := opts.Base
	if baseRef == "" {
		baseRef = "HEAD"
	}
	base, err := git(ctx, dir, "rev-parse", "--verify", "-q", baseRef+"^{commit}")
	if err != nil {
		return fail(fmt.Errorf("--base %s is not a commit in %s", baseRef, dir))
	}
	u.Base = base
	// The existing branch: local, or the remote's in a fresh CI clone.
	tip := ""
	for _, ref := range []string{"refs/heads/" + opts.Branch, "refs/remotes/origin/" + opts.Branch} {
		if t, err := git(ctx, dir, "rev-parse", "--verify", "-q", ref+"^{commit}"); err == nil {
			tip = t
			break
		}
	}
	if tip != "" {
		msg, err := git(ctx, dir, "log", "-1", "--format=%B", tip)
		if err != nil {
			return fail(err)
		}
		if !strings.Contains(msg, "\n"+UpgradeTrailer) && !strings.HasPrefix(msg, UpgradeTrailer) {
			u.Status, u.Commit = UpgradeSkipped, tip
			u.Error = fmt.Sprintf("branch %s has commits that are not svcgen's (its last commit has no %q trailer): left alone; merge or delete it, and the next run updates it again", opts.Branch, strings.TrimSpace(UpgradeTrailer))
			return u
		}
	}
	backups := listBackups(dir)
	if _, err := git(ctx, dir, "checkout", "-q", "-B", opts.Branch, base); err != nil {
		return fail(err)
	}
	// Whatever happens next, the checkout goes back where it was and the
	// branch where it belongs.
	final := tip
	defer func() {
		removeNewBackups(dir, backups)
		_, _ = git(context.WithoutCancel(ctx), dir, "reset", "-q", "--hard")
		_, _ = git(context.WithoutCancel(ctx), dir, "clean", "-q", "-fd", "-e", ".svcgen", "--", ".")
		back := []string{"checkout", "-q", orig}
		if detached {
			back = []string{"checkout", "-q", "--detach", orig}
		}
		if _, err := git(context.WithoutCancel(ctx), dir, back...); err != nil && u.Error == "" {
			u.Status, u.Error = UpgradeError, err.Error()
		}
		if final == "" {
			_, _ = git(context.WithoutCancel(ctx), dir, "branch", "-q", "-D", opts.Branch)
		} else {
			_, _ = git(context.WithoutCancel(ctx), dir, "branch", "-q", "-f", opts.Branch, final)
		}
	}()
	if m, err := ReadManifest(dir); err == nil {
		u.Name, u.Module, u.From = m.Answers.Name, m.Answers.Module, m.Svcgen
	} else {
		return fail(err)
	}
	if semver.IsValid(u.From) && semver.IsValid(Version) && semver.Compare(u.From, Version) > 0 {
		// Never a downgrade: it would undo what the newer svcgen wrote.
		u.Status = UpgradeSkipped
		u.Error = fmt.Sprintf("the service records svcgen %s, newer than this %s: run svcgen %s or later", u.From, Version, u.From)
		return u
	}

	out := opts.Regen(ctx, dir)
	u.Changes = regenChanges(out.Files)
	if out.Err != nil {
		u.Status, u.Action, u.Error = UpgradeFailed, "issue", out.Err.Error()
		u.Title = fmt.Sprintf("svcgen: the upgrade of %s to %s needs you", u.Name, Version)
		u.Body = upgradeBody(u, out.Log)
		return u
	}
	if out.Conflicts {
		for _, f := range out.Files {
			if f.Action == "conflict" {
				b, _ := os.ReadFile(filepath.Join(dir, filepath.FromSlash(f.Path)))
				u.Conflicts = append(u.Conflicts, ConflictFile{Path: f.Path, Hunks: bytes.Count(b, []byte("<<<<<<< yours\n"))})
			}
		}
	}
	if _, err := git(ctx, dir, "add", "-A", "--", "."); err != nil {
		return fail(err)
	}
	if _, err := git(ctx, dir, append([]string{"reset", "-q", "--"}, ownWorkPaths...)...); err != nil {
		return fail(err)
	}
	staged, err := git(ctx, dir, "diff", "--cached", "--name-only")
	if err != nil {
		return fail(err)
	}
	if staged == "" {
		u.Status, u.Changes = UpgradeUpToDate, []ClassChanges{}
		return u
	}
	if len(u.Conflicts) == 0 && opts.Test != "" {
		u.Tests = runTest(ctx, dir, opts.Test, opts.TestTimeout)
	}
	tree, err := git(ctx, dir, "write-tree")
	if err != nil {
		return fail(err)
	}
	switch {
	case len(u.Conflicts) > 0:
		u.Status, u.Action = UpgradeConflict, "issue"
		u.Title = fmt.Sprintf("svcgen: the upgrade of %s to %s conflicts in %s", u.Name, Version, strings.Join(conflictPaths(u.Conflicts), ", "))
	case u.Tests != nil && !u.Tests.Passed:
		u.Status, u.Action = UpgradeTestsFailed, "pr"
		u.Title = fmt.Sprintf("svcgen: upgrade %s to %s (tests fail)", u.Name, Version)
	default:
		u.Status, u.Action = UpgradeUpgraded, "pr"
		u.Title = fmt.Sprintf("svcgen: upgrade %s to %s", u.Name, Version)
	}
	u.Body = upgradeBody(u, "")
	if tip != "" {
		if old, err := git(ctx, dir, "rev-parse", tip+"^{tree}"); err == nil && old == tree {
			u.Commit = tip // the branch already holds this upgrade
			return u
		}
	}
	msg := commitMessage(u)
	if _, err := git(ctx, dir, "commit", "-q", "--no-verify", "-m", msg); err != nil {
		return fail(fmt.Errorf("%w (set git's user.name and user.email for the commit)", err))
	}
	commit, err := git(ctx, dir, "rev-parse", "HEAD")
	if err != nil {
		return fail(err)
	}
	u.Commit, u.Committed, final = commit, true, commit
	return u
}

// regenChanges groups a regen's report by class, leaving out what it did
// not change.
func regenChanges(files []RegenFile) []ClassChanges {
	by := map[string][]FileChange{}
	for _, f := range files {
		switch f.Action {
		case "unchanged", "skipped", "orphaned", "":
			continue
		}
		if strings.HasPrefix(f.Path, BaseDir+"/") {
			continue
		}
		class := f.Class
		if f.Path == ManifestPath {
			class = "manifest"
		}
		by[class] = append(by[class], FileChange{Path: f.Path, Action: f.Action, Note: f.Note})
	}
	return GroupByClass(by)
}

func conflictPaths(cs []ConflictFile) []string {
	var out []string
	for _, c := range cs {
		out = append(out, c.Path)
	}
	return out
}

// commitMessage lists the upgrade's changes by class.
func commitMessage(u ServiceUpgrade) string {
	var b strings.Builder
	subject := fmt.Sprintf("svcgen: upgrade to %s", Version)
	if len(u.Conflicts) > 0 {
		subject += " (conflicts in " + strings.Join(conflictPaths(u.Conflicts), ", ") + ")"
	}
	fmt.Fprintf(&b, "%s\n\nsvcgen regen of %s from %s to %s.\n", subject, u.Name, u.From, Version)
	for _, c := range u.Changes {
		fmt.Fprintf(&b, "\n%s (%d):\n", c.Class, c.Count)
		for _, f := range c.Files {
			fmt.Fprintf(&b, "  %-11s %s\n", f.Action, f.Path)
		}
	}
	if u.Tests != nil {
		state := "passed"
		if !u.Tests.Passed {
			state = "FAILED"
		}
		fmt.Fprintf(&b, "\n%s: %s\n", u.Tests.Command, state)
	}
	fmt.Fprintf(&b, "\n%s%s\n", UpgradeTrailer, Version)
	return b.String()
}

// upgradeBody is the pull request's or issue's Markdown.
func upgradeBody(u ServiceUpgrade, log string) string {
	var b strings.Builder
	switch u.Status {
	case UpgradeConflict:
		fmt.Fprintf(&b, "The upgrade of **%s** (`%s`) from svcgen `%s` to `%s` conflicts: the team edited lines svcgen changes too.\n\n", u.Name, u.Module, u.From, Version)
		b.WriteString("| file | conflicting hunks |\n|---|---|\n")
		for _, c := range u.Conflicts {
			fmt.Fprintf(&b, "| `%s` | %d |\n", c.Path, c.Hunks)
		}
		fmt.Fprintf(&b, "\nBranch `%s` holds the regen with the `<<<<<<< yours` / `>>>>>>> svcgen %s` markers. To finish it:\n\n", u.Branch, Version)
		fmt.Fprintf(&b, "```sh\ngit fetch origin %s && git checkout %s\n# resolve the markers in %s, then:\nsvcgen regen && svcgen check\ngit commit -am \"svcgen: resolve the upgrade to %s\" && git push\n```\n\n", u.Branch, u.Branch, strings.Join(conflictPaths(u.Conflicts), ", "), Version)
		fmt.Fprintf(&b, "then open a pull request from `%s`. Once the branch has your commit the scheduled upgrade leaves it alone.\n\n", u.Branch)
	case UpgradeFailed:
		fmt.Fprintf(&b, "`svcgen regen` refused to upgrade **%s** (`%s`) from svcgen `%s` to `%s`; nothing was committed.\n\n", u.Name, u.Module, u.From, Version)
		fmt.Fprintf(&b, "```\n%s\n```\n\n", u.Error)
		if log = strings.TrimSpace(log); log != "" {
			fmt.Fprintf(&b, "<details><summary>regen's output</summary>\n\n```\n%s\n```\n</details>\n\n", tail(log, 60))
		}
		b.WriteString("Fix it on the default branch (run `svcgen regen` there to see the same message); the next scheduled upgrade then opens the pull request.\n\n")
	default:
		fmt.Fprintf(&b, "Upgrades **%s** (`%s`) from svcgen `%s` to `%s` with `svcgen regen`: generated files rewritten, merged files three-way merged, scaffold files untouched.\n\n", u.Name, u.Module, u.From, Version)
	}
	if len(u.Changes) > 0 {
		b.WriteString("| class | files | changes |\n|---|---|---|\n")
		for _, c := range u.Changes {
			counts := map[string]int{}
			var words []string
			for _, f := range c.Files {
				if counts[f.Action] == 0 {
					words = append(words, f.Action)
				}
				counts[f.Action]++
			}
			var parts []string
			for _, w := range words {
				parts = append(parts, fmt.Sprintf("%d %s", counts[w], w))
			}
			fmt.Fprintf(&b, "| %s | %d | %s |\n", c.Class, c.Count, strings.Join(parts, ", "))
		}
		b.WriteString("\n")
		for _, c := range u.Changes {
			fmt.Fprintf(&b, "<details><summary>%s: %d file(s)</summary>\n\n", c.Class, c.Count)
			for _, f := range c.Files {
				line := fmt.Sprintf("- %s `%s`", f.Action, f.Path)
				if f.Note != "" {
					line += " (" + f.Note + ")"
				}
				b.WriteString(line + "\n")
			}
			b.WriteString("</details>\n\n")
		}
	}
	if t := u.Tests; t != nil {
		if t.Passed {
			fmt.Fprintf(&b, "`%s` passed on the branch (%.1fs).\n", t.Command, t.Seconds)
		} else {
			fmt.Fprintf(&b, "**`%s` failed on the branch** (%.1fs): fix the service on this branch before merging.\n\n<details><summary>its last lines</summary>\n\n```\n%s\n```\n</details>\n", t.Command, t.Seconds, t.Output)
		}
	}
	return b.String()
}

// runTest runs command with sh in dir.
func runTest(ctx context.Context, dir, command string, timeout time.Duration) *TestRun {
	if timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, timeout)
		defer cancel()
	}
	start := time.Now()
	cmd := exec.CommandContext(ctx, "sh", "-c", command)
	cmd.Dir = dir
	cmd.WaitDelay = 5 * time.Second
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	t := &TestRun{Command: command, Passed: err == nil, Seconds: time.Since(start).Seconds()}
	text := out.String()
	if ctx.Err() != nil {
		text += fmt.Sprintf("\n(stopped after %s)\n", timeout)
	}
	t.Output = tail(text, 40)
	return t
}

// tail keeps the last n lines of s.
func tail(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = append([]string{fmt.Sprintf("... (%d lines before)", len(lines)-n)}, lines[len(lines)-n:]...)
	}
	return strings.Join(lines, "\n")
}

// listBackups are the entries of the service's backup directory.
func listBackups(dir string) map[string]bool {
	out := map[string]bool{}
	entries, _ := os.ReadDir(filepath.Join(dir, BackupDir))
	for _, e := range entries {
		out[e.Name()] = true
	}
	return out
}

// removeNewBackups removes the backups made since listBackups: what
// they hold is in the repository's history.
func removeNewBackups(dir string, before map[string]bool) {
	entries, _ := os.ReadDir(filepath.Join(dir, BackupDir))
	for _, e := range entries {
		if !before[e.Name()] {
			_ = os.RemoveAll(filepath.Join(dir, BackupDir, e.Name()))
		}
	}
}
