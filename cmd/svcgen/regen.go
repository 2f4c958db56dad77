package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"

	"github.com/spf13/cobra"

	"github.com/svcgen/svcgen/generator"
)

// regenFlags are the flags of svcgen regen.
type regenFlags struct {
	preset     string
	features   string
	presetsDir string
	dryRun     bool
	force      bool
	overwrite  bool
	allowDirty bool
	restore    bool
	json       bool
	noTidy     bool
	clients    []string
}

// errConflicts makes regen exit 1 after writing a merge with conflicts.
var errConflicts = errors.New("merge conflicts")

func newRegenCmd(e *env) *cobra.Command {
	f := &regenFlags{}
	cmd := &cobra.Command{
		Use:   "regen [DIR]",
		Short: "Regenerate a service, keeping every edit",
		Long: `Regenerate the service in DIR (default .) from its .svcgen.yaml, its current
api/openapi.yaml and this svcgen, with --preset and --features changing the
recorded answers.

By ownership class: generated files are rewritten (a hand edit stops the run
unless --overwrite, which keeps the edit in a backup of that run under
.svcgen/backup/, see svcgen backup); scaffold files
are never touched (a new operation gets a new handler file; a removed one
leaves its file, reported as orphaned); merged files get a three-way merge
(git merge-file) of svcgen's previous render, your file and the new render,
with git conflict markers where both changed the same lines (exit 1).

Everything is rendered and merged in memory first; files are staged and
renamed into place with a journal, the manifest last, so an interrupted
regen is completed by the next one. It refuses a git work tree with
uncommitted changes unless --allow-dirty (svcgen's own files under .svcgen/
do not count), and a service with unresolved conflict markers in any merged
or scaffold file. --dry-run exits 1 when the regen would conflict or not
compile.`,
		Example: `  svcgen regen                       # after editing api/openapi.yaml
  svcgen regen --dry-run             # the unified diff of what would change
  svcgen regen --preset read-heavy   # switch presets
  svcgen regen --features +pool --json`,
		Args: maxArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			dir := "."
			if len(args) == 1 {
				dir = args[0]
			}
			return runRegen(cmd, e, f, dir)
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&f.preset, "preset", "", "switch the service to this preset")
	fl.StringVar(&f.features, "features", "", "feature changes to the recorded ones, e.g. +pool,-pgo")
	fl.StringVar(&f.presetsDir, "presets-dir", "", "directory of extra preset YAML files")
	fl.BoolVar(&f.dryRun, "dry-run", false, "print the unified diff of what would change, write nothing")
	fl.BoolVar(&f.overwrite, "overwrite", false, "overwrite hand-edited generated files (each run's are backed up under .svcgen/backup/)")
	fl.BoolVar(&f.allowDirty, "allow-dirty", false, "run on a git tree with uncommitted changes (the files it changes are backed up first)")
	fl.BoolVar(&f.force, "force", false, "both --overwrite and --allow-dirty")
	fl.BoolVar(&f.restore, "restore", false, "recreate files you deleted")
	fl.BoolVar(&f.json, "json", false, "print one JSON object per file: {path, class, action, note}")
	fl.BoolVar(&f.noTidy, "no-tidy", false, "do not run 'go mod tidy' after a change to go.mod")
	fl.StringArrayVar(&f.clients, "client", nil, "add or repoint a service this one calls, NAME=PATH (its OpenAPI document or its service directory); repeatable")
	_ = cmd.MarkFlagDirname("presets-dir")
	return cmd
}

func runRegen(cmd *cobra.Command, e *env, f *regenFlags, dir string) error {
	if err := generator.CheckToolchain(); err != nil {
		return err
	}
	cat, err := generator.LoadCatalog(f.presetsDir)
	if err != nil {
		return err
	}
	if f.force {
		f.overwrite, f.allowDirty = true, true
	}
	resumed := false
	if !f.dryRun {
		// svcgen's own unfinished work first: it is not the team's.
		if resumed, err = generator.Resume(dir); err != nil {
			return fmt.Errorf("completing the interrupted regen in %s: %w", dir, err)
		}
		if resumed {
			fmt.Fprintf(e.stderr, "completed the interrupted regen in %s\n", dir)
		}
		if err := generator.FinishTidy(cmd.Context(), dir, e.stderr, f.noTidy); err != nil {
			return err
		}
	}
	if err := refuseMarkers(e.stderr, dir); err != nil {
		return err
	}
	var dirty []string
	if !f.allowDirty && !f.dryRun {
		if dirty, err = generator.GitDirty(dir); err != nil {
			return err
		}
		if len(dirty) > 0 && !resumed {
			return fmt.Errorf("%s has uncommitted changes (%s): commit or stash them first, so the regen's own changes can be reviewed and undone, or pass --allow-dirty (the files the regen changes are then backed up first)", dir, summarize(dirty, 3))
		}
	}
	p, res, err := generator.PlanService(cmd.Context(), cat, dir, generator.PlanOptions{
		Answers: generator.AnswerChanges{Preset: f.preset, Features: generator.ParseFeatureFlag(f.features), Clients: f.clients},
		Regen:   generator.RegenOptions{Overwrite: f.overwrite, Restore: f.restore},
	})
	if err != nil {
		return err
	}
	if len(dirty) > 0 && resumed {
		// The tree holds the completed regen, uncommitted.
		if p.Drift() {
			return fmt.Errorf("the interrupted regen in %s is complete now, and uncommitted; this run would change more: review and commit it (git add -A && git commit), then run svcgen regen again", dir)
		}
		fmt.Fprintf(e.stdout, "%s: the interrupted regen is complete; nothing more to change. Review and commit it.\n", dir)
		return nil
	}
	if f.allowDirty && !f.dryRun {
		if p.Uncommitted, err = generator.GitUncommitted(dir); err != nil {
			return err
		}
	}
	p.Command = "svcgen " + strings.Join(os.Args[1:], " ")
	for _, w := range res.Warnings {
		fmt.Fprintf(e.stderr, "svcgen: warning: %s\n", w)
	}
	// The tree as it would be after the apply must compile; a plan with
	// hand edits is refused below anyway.
	var rep *generator.TypeCheckReport
	deferred := false // the check runs after go mod tidy instead
	if len(p.Paths(generator.HandEdit)) == 0 {
		rep, err = generator.TypeCheckPlan(cmd.Context(), dir, p)
		var le *generator.LoadError
		switch {
		case errors.As(err, &le) && p.GoModChanged() && !f.dryRun && !f.noTidy:
			// New requirements are not in go.sum until go mod tidy has run.
			deferred = true
		case errors.As(err, &le):
			fmt.Fprintf(e.stderr, "svcgen: warning: %v; the regen goes ahead unchecked\n", err)
		case err != nil:
			return err
		}
	}
	out := e.stdout
	switch {
	case f.json:
		if err := printJSON(out, p); err != nil {
			return err
		}
	case f.dryRun:
		printDiff(out, p)
	case rep != nil && len(rep.Findings) > 0:
		// Refused below: nothing to list as done.
	default:
		printPlan(out, dir, p)
	}
	if edits := p.Paths(generator.HandEdit); len(edits) > 0 {
		if !f.json {
			for _, c := range p.Changes {
				if c.Action == generator.HandEdit {
					fmt.Fprintf(e.stderr, "%s\n", shortDiff(c.Diff(), 20))
				}
			}
		}
		return fmt.Errorf("generated files edited by hand: %s; nothing was written. Move the change into a scaffold file (internal/app, internal/handler) or rerun with --overwrite to overwrite them (the edits are then kept in a backup of this run under .svcgen/backup/)", strings.Join(edits, ", "))
	}
	if rep != nil {
		if err := reportTypeCheck(e.stderr, rep); err != nil {
			return err
		}
	}
	if f.dryRun {
		if conflicts := p.Paths(generator.Conflict); len(conflicts) > 0 {
			return fmt.Errorf("%w predicted in %s; nothing was written: run it without --dry-run to get the <<<<<<< markers to resolve, or change the lines both sides changed first", errConflicts, strings.Join(conflicts, ", "))
		}
		if err := reportUnserved(e.stderr, dir, p, res, false); err != nil {
			return err
		}
		return nil
	}
	if os.Getenv("SVCGEN_TEST_CRASH_AFTER_WRITES") != "" {
		crashAfterWrites(os.Getenv("SVCGEN_TEST_CRASH_AFTER_WRITES"))
	}
	tidy := !f.noTidy && p.GoModChanged()
	if tidy {
		if err := generator.MarkTidyPending(dir); err != nil {
			return err
		}
	}
	if err := generator.Apply(dir, p); err != nil {
		return err
	}
	if b := p.Backup; b != nil {
		w := e.stdout
		if f.json {
			w = e.stderr
		}
		fmt.Fprintf(w, "backed up %d file(s) this regen replaced to %s/ (svcgen backup list %s; svcgen backup restore %s)\n", len(b.Files), b.Dir(), dir, b.ID)
	}
	if tidy {
		if err := generator.FinishTidy(cmd.Context(), dir, e.stderr, false); err != nil {
			return err
		}
	}
	if deferred {
		q := p.Scaffolds()
		rep, err := generator.TypeCheckPlan(cmd.Context(), dir, q)
		if err == nil && len(rep.Rewrites) > 0 {
			if err := generator.Apply(dir, q); err != nil {
				return err
			}
			for _, r := range rep.Rewrites {
				fmt.Fprintf(e.stdout, "  %s\n", r)
			}
		}
		var le *generator.LoadError
		switch {
		case errors.As(err, &le):
			fmt.Fprintf(e.stderr, "svcgen: warning: %v; the regen was written unchecked\n", err)
		case err != nil:
			return err
		case len(rep.Findings) > 0:
			generator.FormatFindings(e.stderr, rep.Findings)
			return fmt.Errorf("the service does not compile after this regen (checked after go mod tidy, which its new requirements needed): %d problem(s), listed above; the regen is written: fix them, or undo it with git", len(rep.Findings))
		default:
			fmt.Fprintf(e.stderr, "type check after go mod tidy: the service compiles (%.1fs)\n", rep.Took.Seconds())
		}
	}
	if conflicts := p.Paths(generator.Conflict); len(conflicts) > 0 {
		return fmt.Errorf("%w in %s: resolve the <<<<<<< markers, then run svcgen regen again", errConflicts, strings.Join(conflicts, ", "))
	}
	return reportUnserved(e.stderr, dir, p, res, true)
}

// reportUnserved prints the team's implementations that serve no
// operation after this regen, and fails the run while there are any.
func reportUnserved(w io.Writer, dir string, p *generator.Plan, res generator.Result, written bool) error {
	un, err := p.Unserved(dir, res)
	if err != nil || len(un) == 0 {
		return err
	}
	generator.FormatFindings(w, un)
	state := "the regen is written"
	if !written {
		state = "dry run: the regen would write and then exit 1"
	}
	return fmt.Errorf("%d implementation(s) serve no operation of the spec any more (listed above): %s; move their code to the operations that replace them and delete the files (svcgen check fails until then)", len(un), state)
}

// reportTypeCheck prints the rewrites and findings of a type check and
// returns the refusal when the tree would not compile.
func reportTypeCheck(w io.Writer, rep *generator.TypeCheckReport) error {
	for _, r := range rep.Rewrites {
		fmt.Fprintln(w, r)
	}
	switch {
	case rep.Skipped != "":
		fmt.Fprintf(w, "type check skipped: %s\n", rep.Skipped)
	case len(rep.Findings) > 0:
		fmt.Fprintf(w, "type check: the regenerated service would not compile (%.1fs):\n", rep.Took.Seconds())
		generator.FormatFindings(w, rep.Findings)
		return &generator.BrokenTreeError{Findings: rep.Findings}
	default:
		fmt.Fprintf(w, "type check: the regenerated service compiles (%.1fs)\n", rep.Took.Seconds())
	}
	return nil
}

// crashAfterWrites is a test hook: it ends the process abruptly, as a kill
// would, after n files of a regen have been renamed into place.
func crashAfterWrites(v string) {
	n, _ := strconv.Atoi(v)
	done := 0
	generator.ApplyHook = func(string) {
		if done == n {
			os.Exit(137)
		}
		done++
	}
}

func printJSON(w io.Writer, p *generator.Plan) error {
	enc := json.NewEncoder(w)
	for _, c := range p.Changes {
		if err := enc.Encode(struct {
			Path   string          `json:"path"`
			Class  generator.Class `json:"class"`
			Action string          `json:"action"`
			Note   string          `json:"note,omitempty"`
		}{c.Path, c.Class, generator.ActionWord(c.Action), c.Note}); err != nil {
			return err
		}
	}
	return nil
}

// printDiff prints the diff of every change, then one summary line.
func printDiff(w io.Writer, p *generator.Plan) {
	changed := 0
	counts := map[string]int{}
	for _, c := range p.Changes {
		switch c.Action {
		case generator.Unchanged, generator.Keep, generator.Deleted, generator.Orphan, generator.HandEdit:
			continue
		}
		changed++
		counts[generator.ActionWord(c.Action)]++
		fmt.Fprint(w, c.Diff())
	}
	if p.ManifestChanged {
		changed++
		counts["updated"]++
		fmt.Fprintf(w, "# %s would be rewritten\n", generator.ManifestPath)
	}
	if changed == 0 {
		fmt.Fprintln(w, "dry run: nothing would change")
		return
	}
	var parts []string
	for _, word := range []string{"created", "updated", "merged", "conflict", "removed"} {
		if counts[word] > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", counts[word], word))
		}
	}
	fmt.Fprintf(w, "dry run: %d file(s) would change (%s); nothing was written\n", changed, strings.Join(parts, ", "))
}

// printPlan prints one line per file that is not unchanged, then counts.
func printPlan(w io.Writer, dir string, p *generator.Plan) {
	counts := map[string]int{}
	for _, c := range p.Changes {
		word := generator.ActionWord(c.Action)
		counts[word]++
		if c.Action == generator.Unchanged || c.Action == generator.Keep || strings.HasPrefix(c.Path, generator.BaseDir+"/") {
			continue
		}
		line := fmt.Sprintf("  %-11s %s", word, c.Path)
		if c.Note != "" {
			line += "  (" + c.Note + ")"
		}
		fmt.Fprintln(w, line)
	}
	var parts []string
	for _, word := range []string{"created", "updated", "merged", "conflict", "removed", "orphaned", "skipped", "unchanged"} {
		if counts[word] > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", counts[word], word))
		}
	}
	fmt.Fprintf(w, "%s: %s\n", dir, strings.Join(parts, ", "))
}

// shortDiff keeps the first lines of a diff.
func shortDiff(d string, lines int) string {
	ls := strings.Split(strings.TrimRight(d, "\n"), "\n")
	if len(ls) > lines {
		ls = append(ls[:lines], fmt.Sprintf("... (%d more lines)", len(ls)-lines))
	}
	return strings.Join(ls, "\n")
}

func summarize(items []string, n int) string {
	if len(items) > n {
		return strings.Join(items[:n], "; ") + fmt.Sprintf("; and %d more", len(items)-n)
	}
	return strings.Join(items, "; ")
}

// checkFlags are the flags of svcgen check.
type checkFlags struct {
	presetsDir string
	json       bool
}

func newCheckCmd(e *env) *cobra.Command {
	f := &checkFlags{}
	cmd := &cobra.Command{
		Use:   "check [DIR...]",
		Short: "Fail when regen would change a service (drift check for CI)",
		Long: `Check each service DIR (default .): exit 0 when svcgen regen would change
nothing, 1 with the files that would change otherwise: the spec changed
without a regen, svcgen was upgraded, or a generated file was edited by hand.
Services are checked in parallel; nothing is written. A DIR without a
.svcgen.yaml that holds services below it is a fleet: each of them is
checked. --json prints the fleet's drift report as one JSON document
(schema/check.schema.json): per service its recorded svcgen version,
preset, features, status (up-to-date, drift, conflict-risk, error), the
pending changes by file class, the merges that would conflict and the hand
edits regen would refuse; then a summary. The exit code is the same.`,
		Example: `  svcgen check
  svcgen check services/*
  svcgen check --json fleet/ > drift.json`,
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) == 0 {
				args = []string{"."}
			}
			return runCheck(cmd.Context(), e, f, args)
		},
	}
	cmd.Flags().StringVar(&f.presetsDir, "presets-dir", "", "directory of extra preset YAML files")
	cmd.Flags().BoolVar(&f.json, "json", false, "print the drift report as one JSON document (schema/check.schema.json)")
	return cmd
}

func runCheck(ctx context.Context, e *env, f *checkFlags, dirs []string) error {
	if err := generator.CheckToolchain(); err != nil {
		return err
	}
	cat, err := generator.LoadCatalog(f.presetsDir)
	if err != nil {
		return err
	}
	dirs = expandCheckDirs(dirs)
	if f.json {
		return runCheckJSON(ctx, e, cat, dirs)
	}
	bad := 0
	for i, sc := range generator.CheckServices(ctx, cat, dirs) {
		dir, drift := dirs[i], sc.DriftLines()
		switch {
		case sc.Err() != nil:
			bad++
			fmt.Fprintf(e.stdout, "%s: error: %v\n", dir, sc.Err())
		case len(drift) > 0 || len(sc.Findings) > 0:
			bad++
			if len(drift) > 0 {
				fmt.Fprintf(e.stdout, "%s: regen would change %d file(s):\n", dir, len(drift))
				for _, d := range drift {
					fmt.Fprintf(e.stdout, "  %s\n", d)
				}
			}
			broken, unserved, markers := splitFindings(sc.Findings)
			if len(markers) > 0 {
				fmt.Fprintf(e.stdout, "%s: %d unresolved merge conflict(s):\n", dir, len(markers))
				var b strings.Builder
				generator.FormatFindings(&b, markers)
				fmt.Fprint(e.stdout, indentLines(b.String(), "  "))
			}
			if len(broken) > 0 {
				fmt.Fprintf(e.stdout, "%s: does not compile (as regen would leave it): %d problem(s):\n", dir, len(broken))
				var b strings.Builder
				generator.FormatFindings(&b, broken)
				fmt.Fprint(e.stdout, indentLines(b.String(), "  "))
			}
			if len(unserved) > 0 {
				fmt.Fprintf(e.stdout, "%s: %d implementation(s) serve no operation of the spec:\n", dir, len(unserved))
				var b strings.Builder
				generator.FormatFindings(&b, unserved)
				fmt.Fprint(e.stdout, indentLines(b.String(), "  "))
			}
		case sc.TypeCheckSkipped != "":
			fmt.Fprintf(e.stdout, "%s: up to date, but not type-checked: %s\n", dir, sc.TypeCheckSkipped)
		default:
			fmt.Fprintf(e.stdout, "%s: up to date\n", dir)
		}
	}
	if bad > 0 {
		return fmt.Errorf("%d of %d service(s) drifted or do not compile; run svcgen regen in each (or fix the problems above)", bad, len(dirs))
	}
	return nil
}

// splitFindings separates the findings of code that serves no operation
// and of conflict markers from those of code that does not compile.
func splitFindings(fs []generator.Finding) (broken, unserved, markers []generator.Finding) {
	for _, f := range fs {
		switch f.Kind {
		case generator.FindUnserved:
			unserved = append(unserved, f)
		case generator.FindConflictMarkers:
			markers = append(markers, f)
		default:
			broken = append(broken, f)
		}
	}
	return broken, unserved, markers
}

// refuseMarkers fails, listing them, when merged or scaffold files of the
// service in dir hold unresolved conflict markers.
func refuseMarkers(w io.Writer, dir string) error {
	markers, err := generator.ServiceMarkers(dir)
	if err != nil || len(markers) == 0 {
		return err
	}
	generator.FormatFindings(w, markers)
	return fmt.Errorf("%d unresolved merge conflict(s) in %s (listed above); nothing was written: resolve them, then run svcgen regen again", len(markers), strings.Join(markerFiles(markers), ", "))
}

func markerFiles(fs []generator.Finding) []string {
	var files []string
	for _, f := range fs {
		if len(files) == 0 || files[len(files)-1] != f.File {
			files = append(files, f.File)
		}
	}
	return files
}

// indentLines puts indent before every line of s.
func indentLines(s, indent string) string {
	lines := strings.SplitAfter(s, "\n")
	var b strings.Builder
	for _, l := range lines {
		if l != "" {
			b.WriteString(indent + l)
		}
	}
	return b.String()
}
