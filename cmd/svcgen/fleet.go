package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/svcgen/svcgen/generator"
)

// fleetFlags are the flags of svcgen fleet upgrade.
type fleetFlags struct {
	fleet       string
	wave        string
	branch      string
	base        string
	test        string
	out         string
	presetsDir  string
	testTimeout time.Duration
	json        bool
	noTidy      bool
	noGate      bool
}

func newFleetCmd(e *env) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "fleet",
		Short: "Keep many services current: upgrade branches, pull requests, waves",
		Long: `Commands for a fleet of generated services. svcgen check --json DIR...
reports the drift of a fleet; svcgen fleet upgrade puts each service's
regen on a branch for a pull request. See docs/fleet.md.`,
	}
	cmd.AddCommand(newFleetUpgradeCmd(e))
	return cmd
}

func newFleetUpgradeCmd(e *env) *cobra.Command {
	f := &fleetFlags{}
	cmd := &cobra.Command{
		Use:   "upgrade [DIR...]",
		Short: "Regenerate each service on an upgrade branch, test it and write the pull request",
		Long: `For each service DIR (a checkout of its repository; a directory holding
services below it is a fleet), or each service of a wave of --fleet FILE:
create or update the branch --branch from the checked-out commit (--base),
run svcgen regen on it, run --test, commit with a message listing the
changes by file class, and write the pull request's title and body, or an
issue's when the regen conflicts or is refused. The checkout is left on the
branch it was on. Nothing is pushed and nothing is opened: the generated
.github/workflows/svcgen-upgrade.yml does that with git push and gh, from
the files under --out (per service: action, branch, committed, title.txt,
body.md, result.json; and report.json).

A run whose regen gives the branch the tree it already holds leaves the
branch alone (committed: false). A branch whose last commit is not
svcgen's (the team pushed to it) is skipped. With --fleet, --wave picks the
wave (default next: the first with a service not up to date); a wave runs
only once every service of the waves before it is up to date on its
checked-out branch, unless --no-gate. Exit 1 only when an upgrade could not
run (status error); conflicts and failing tests are reported, not errors.`,
		Example: `  svcgen fleet upgrade . --test "make test" --out "$RUNNER_TEMP/svcgen-upgrade"
  svcgen fleet upgrade --fleet fleet.yaml --wave canary --json
  svcgen fleet upgrade fleet/ --test "go build ./..." --no-tidy`,
		RunE: func(cmd *cobra.Command, args []string) error {
			return runFleetUpgrade(cmd.Context(), e, f, args)
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&f.fleet, "fleet", "", "fleet file: the services in rollout waves, the canary first (docs/fleet.md)")
	fl.StringVar(&f.wave, "wave", "next", "the wave of --fleet to upgrade: its name, or next (the first wave not up to date)")
	fl.StringVar(&f.branch, "branch", "svcgen/upgrade", "the upgrade branch ({name} becomes the service's name, for several services in one repository)")
	fl.StringVar(&f.base, "base", "", "the commit the branch starts from (default: the checked-out one)")
	fl.StringVar(&f.test, "test", "make test", "shell command run in the service after a clean regen (\"\" runs none)")
	fl.DurationVar(&f.testTimeout, "test-timeout", 30*time.Minute, "time limit of --test")
	fl.StringVar(&f.out, "out", "", "directory to write each service's pull request or issue to (outside the checkouts)")
	fl.BoolVar(&f.json, "json", false, "print the report as JSON (schema/fleet-upgrade.schema.json)")
	fl.BoolVar(&f.noTidy, "no-tidy", false, "do not run 'go mod tidy' when the regen changes go.mod")
	fl.BoolVar(&f.noGate, "no-gate", false, "upgrade the wave even when services of earlier waves are not up to date")
	fl.StringVar(&f.presetsDir, "presets-dir", "", "directory of extra preset YAML files")
	_ = cmd.MarkFlagDirname("out")
	_ = cmd.MarkFlagFilename("fleet", "yaml", "yml")
	return cmd
}

func runFleetUpgrade(ctx context.Context, e *env, f *fleetFlags, args []string) error {
	if err := generator.CheckToolchain(); err != nil {
		return err
	}
	cat, err := generator.LoadCatalog(f.presetsDir)
	if err != nil {
		return err
	}
	rep := generator.UpgradeReport{Svcgen: generator.Version, Services: []generator.ServiceUpgrade{}}
	var dirs []string
	switch {
	case f.fleet != "" && len(args) > 0:
		return errors.New("pass service directories or --fleet FILE, not both")
	case f.fleet != "":
		fleet, err := generator.ReadFleet(f.fleet)
		if err != nil {
			return err
		}
		// No wave left to upgrade leaves dirs empty: the report says so.
		if dirs, rep.Wave, err = pickWave(ctx, e, cat, fleet, f); err != nil {
			return err
		}
	default:
		if len(args) == 0 {
			args = []string{"."}
		}
		if dirs, err = generator.ExpandServices(args); err != nil {
			return err
		}
	}
	if err := checkBranches(ctx, dirs, f.branch); err != nil {
		return err
	}
	for _, dir := range dirs {
		opts := generator.UpgradeOptions{
			Branch:      serviceBranch(f.branch, dir),
			Base:        f.base,
			Test:        f.test,
			TestTimeout: f.testTimeout,
			Regen: func(ctx context.Context, dir string) generator.RegenOutcome {
				return regenForUpgrade(ctx, f, dir)
			},
		}
		u := generator.UpgradeService(ctx, dir, opts)
		rep.Services = append(rep.Services, u)
		if !f.json {
			printUpgradeLine(e.stdout, u)
		}
	}
	rep.Summarize()
	if f.out != "" {
		if err := writeUpgradeFiles(f.out, rep); err != nil {
			return err
		}
	}
	if f.json {
		enc := json.NewEncoder(e.stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(rep); err != nil {
			return err
		}
	} else if len(rep.Services) > 0 {
		printUpgradeSummary(e.stdout, rep)
	}
	if n := rep.Summary.Statuses[generator.UpgradeError]; n > 0 {
		return fmt.Errorf("%d of %d upgrade(s) could not run (status error, reason above)", n, len(dirs))
	}
	return nil
}

// pickWave returns the services of the wave to upgrade; nil when every
// wave is up to date.
func pickWave(ctx context.Context, e *env, cat *generator.Catalog, fleet *generator.Fleet, f *fleetFlags) ([]string, string, error) {
	upToDate := func(dirs []string) []string {
		var behind []string
		for _, sc := range generator.CheckServices(ctx, cat, dirs) {
			if sc.Status != generator.StatusUpToDate {
				behind = append(behind, sc.Path+" ("+sc.Status+")")
			}
		}
		return behind
	}
	if f.wave == "next" {
		for _, name := range fleet.WaveNames() {
			dirs, _, _ := fleet.Wave(name)
			if len(upToDate(dirs)) > 0 {
				fmt.Fprintf(e.stderr, "wave %s: the first wave with services not up to date\n", name)
				return dirs, name, nil
			}
		}
		fmt.Fprintf(e.stderr, "every wave of %s is up to date with svcgen %s\n", f.fleet, generator.Version)
		return nil, "", nil
	}
	dirs, before, err := fleet.Wave(f.wave)
	if err != nil {
		return nil, "", err
	}
	if !f.noGate {
		if behind := upToDate(before); len(behind) > 0 {
			return nil, "", fmt.Errorf("wave %s waits for the waves before it: %s not up to date with svcgen %s on the checked-out branch; merge their upgrade pull requests first (or pass --no-gate)", f.wave, summarize(behind, 5), generator.Version)
		}
	}
	return dirs, f.wave, nil
}

// serviceBranch fills {name} in the branch pattern.
func serviceBranch(pattern, dir string) string {
	if !strings.Contains(pattern, "{name}") {
		return pattern
	}
	name := filepath.Base(filepath.Clean(dir))
	if m, err := generator.ReadManifest(dir); err == nil && m.Answers.Name != "" {
		name = m.Answers.Name
	}
	return strings.ReplaceAll(pattern, "{name}", name)
}

// checkBranches refuses two services of one repository on one branch: the
// second upgrade would replace the first's commit.
func checkBranches(ctx context.Context, dirs []string, pattern string) error {
	seen := map[string]string{}
	for _, d := range dirs {
		top, err := gitTop(ctx, d)
		if err != nil {
			continue // reported by the upgrade itself
		}
		key := top + "\x00" + serviceBranch(pattern, d)
		if other, ok := seen[key]; ok {
			return fmt.Errorf("%s and %s are in one repository (%s) and would share branch %s: pass --branch 'svcgen/upgrade-{name}' to give each service its own", other, d, top, serviceBranch(pattern, d))
		}
		seen[key] = d
	}
	return nil
}

func gitTop(ctx context.Context, dir string) (string, error) {
	var out bytes.Buffer
	cmd := exec.CommandContext(ctx, "git", "-C", dir, "rev-parse", "--show-toplevel")
	cmd.Stdout = &out
	if err := cmd.Run(); err != nil {
		return "", err
	}
	return strings.TrimSpace(out.String()), nil
}

// regenForUpgrade runs svcgen regen --json on dir in-process and reads
// back its report.
func regenForUpgrade(ctx context.Context, f *fleetFlags, dir string) generator.RegenOutcome {
	var stdout, stderr bytes.Buffer
	e := &env{stdin: strings.NewReader(""), stdout: &stdout, stderr: &stderr}
	cmd := &cobra.Command{}
	cmd.SetContext(ctx)
	err := runRegen(cmd, e, &regenFlags{json: true, noTidy: f.noTidy, presetsDir: f.presetsDir}, dir)
	out := generator.RegenOutcome{Log: stderr.String()}
	sc := bufio.NewScanner(&stdout)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		var r struct {
			Path   string `json:"path"`
			Class  string `json:"class"`
			Action string `json:"action"`
			Note   string `json:"note"`
		}
		if json.Unmarshal(sc.Bytes(), &r) == nil && r.Path != "" {
			out.Files = append(out.Files, generator.RegenFile{Path: r.Path, Class: r.Class, Action: r.Action, Note: r.Note})
		} else if line := strings.TrimSpace(sc.Text()); line != "" {
			out.Log += line + "\n"
		}
	}
	switch {
	case errors.Is(err, errConflicts):
		out.Conflicts = true
	case err != nil:
		out.Err = err
	}
	if err == nil || out.Conflicts {
		// The manifest is not in regen's report; it changes with the version.
		out.Files = append(out.Files, generator.RegenFile{Path: generator.ManifestPath, Class: "manifest", Action: "updated"})
	}
	return out
}

func printUpgradeLine(w io.Writer, u generator.ServiceUpgrade) {
	changed := 0
	for _, c := range u.Changes {
		changed += c.Count
	}
	line := fmt.Sprintf("%s: %s", u.Path, u.Status)
	switch u.Status {
	case generator.UpgradeUpgraded, generator.UpgradeTestsFailed, generator.UpgradeConflict:
		what := "committed " + short(u.Commit)
		if !u.Committed {
			what = "already at " + short(u.Commit)
		}
		line += fmt.Sprintf(" (%s -> %s, %d file(s); branch %s %s; %s)", u.From, u.To, changed, u.Branch, what, u.Action)
	case generator.UpgradeFailed, generator.UpgradeSkipped, generator.UpgradeError:
		line += ": " + u.Error
	}
	fmt.Fprintln(w, line)
	for _, c := range u.Conflicts {
		fmt.Fprintf(w, "  conflict %s (%d hunk(s))\n", c.Path, c.Hunks)
	}
}

func short(sha string) string {
	if len(sha) > 12 {
		return sha[:12]
	}
	return sha
}

func printUpgradeSummary(w io.Writer, rep generator.UpgradeReport) {
	var parts []string
	for _, s := range []string{generator.UpgradeUpgraded, generator.UpgradeTestsFailed, generator.UpgradeConflict, generator.UpgradeFailed, generator.UpgradeUpToDate, generator.UpgradeSkipped, generator.UpgradeError} {
		if n := rep.Summary.Statuses[s]; n > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", n, s))
		}
	}
	fmt.Fprintf(w, "%d service(s): %s; %d pull request(s), %d issue(s), %d branch(es) to push\n", rep.Summary.Services, strings.Join(parts, ", "), rep.Summary.PullRequests, rep.Summary.Issues, rep.Summary.Committed)
}

// writeUpgradeFiles writes, per service, what the workflow's gh steps read:
// DIR/<name>/{action,branch,committed,path,title.txt,body.md,result.json},
// and DIR/report.json.
func writeUpgradeFiles(dir string, rep generator.UpgradeReport) error {
	used := map[string]int{}
	for _, u := range rep.Services {
		name := u.Name
		if name == "" {
			name = filepath.Base(filepath.Clean(u.Path))
		}
		used[name]++
		if n := used[name]; n > 1 {
			name += "-" + strconv.Itoa(n)
		}
		sub := filepath.Join(dir, name)
		if err := os.MkdirAll(sub, 0o755); err != nil {
			return err
		}
		abs, _ := filepath.Abs(u.Path)
		result, err := json.MarshalIndent(u, "", "  ")
		if err != nil {
			return err
		}
		for file, content := range map[string]string{
			"action":      u.Action + "\n",
			"branch":      u.Branch + "\n",
			"committed":   strconv.FormatBool(u.Committed) + "\n",
			"path":        abs + "\n",
			"title.txt":   u.Title + "\n",
			"body.md":     u.Body,
			"result.json": string(result) + "\n",
		} {
			if err := os.WriteFile(filepath.Join(sub, file), []byte(content), 0o644); err != nil {
				return err
			}
		}
	}
	all, err := json.MarshalIndent(rep, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(dir, "report.json"), append(all, '\n'), 0o644)
}
