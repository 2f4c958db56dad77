package generator

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
)

// AnswerChanges are changes to a service's recorded answers, as svcgen
// regen's flags give them.
type AnswerChanges struct {
	// Preset switches the service to this preset ("" keeps the recorded one).
	Preset string
	// Features are "+name" and "-name" changes added to the recorded
	// overrides (the later sign of a feature wins).
	Features []string
	// Clients are NAME=PATH values that add or repoint a service this one
	// calls (PATH: its OpenAPI document or its service directory).
	Clients []string
}

// apply makes the changes to the answers o; dir is the service's
// directory, which client paths are relative to. Without changes it
// still writes the recorded feature overrides in their one form (sorted,
// signed, each feature once), as the manifest records them.
func (a AnswerChanges) apply(c *Catalog, dir string, o *Options) error {
	if a.Preset != "" {
		if _, err := c.Preset(a.Preset); err != nil {
			return err
		}
		o.Preset = a.Preset
	}
	if err := CheckFeatureFlag(a.Features); err != nil {
		return fmt.Errorf("--features: %w", err)
	}
	o.Features = MergeFeatureOverrides(o.Features, a.Features)
	for _, v := range a.Clients {
		cl, err := ParseClientFlag(v, dir)
		if err != nil {
			return err
		}
		o.Clients = MergeClients(o.Clients, []Client{cl})
	}
	return nil
}

// PlanOptions say how PlanService renders a service again.
type PlanOptions struct {
	// Answers change the recorded answers before the render.
	Answers AnswerChanges
	// Regen says how the plan treats the team's files. Its Catalog, when
	// nil, is the catalog PlanService renders with.
	Regen RegenOptions
}

// PlanService renders the service in dir again, from its manifest, its
// current spec and the changed answers, and plans the regeneration: the
// one pipeline behind svcgen regen and svcgen check. It reads dir and
// writes nothing.
func PlanService(ctx context.Context, c *Catalog, dir string, opts PlanOptions) (*Plan, Result, error) {
	var res Result
	m, err := ReadManifest(dir)
	if err != nil {
		return nil, res, err
	}
	req, err := RegenRequest(c, dir, m)
	if err != nil {
		return nil, res, err
	}
	if err := opts.Answers.apply(c, dir, &req.Options); err != nil {
		return nil, res, err
	}
	if len(opts.Answers.Clients) > 0 {
		// A client added or repointed: read the specs again.
		if req.Clients, err = ReadClientSpecs(dir, req.Options.Clients); err != nil {
			return nil, res, err
		}
	}
	res, err = Generate(ctx, req)
	if err != nil {
		return nil, res, err
	}
	if m.Adopted != nil {
		adopted := m
		adopted.Answers = req.Options
		if res, _, err = AdoptResult(res, adopted); err != nil {
			return nil, res, err
		}
	}
	if opts.Regen.Catalog == nil {
		opts.Regen.Catalog = c
	}
	p, err := PlanRegen(dir, m, res, opts.Regen)
	return p, res, err
}

// Unserved are the team's implementations of operations gone from the
// spec, in the tree as the plan leaves it (none in an adopted service,
// whose handlers are its own); res is the render the plan was made from.
func (p *Plan) Unserved(dir string, res Result) ([]Finding, error) {
	if p.adopted {
		return nil, nil
	}
	files := map[string][]byte{}
	for _, c := range p.Changes {
		if c.New != nil {
			files[c.Path] = c.New
		}
	}
	return UnservedHandlers(dir, res.Operations, files)
}

// GoModChanged reports whether the plan writes go.mod, or svcgen's render
// of it (a dependency dropped: go mod tidy then removes what nothing
// imports any more).
func (p *Plan) GoModChanged() bool {
	for _, c := range p.Changes {
		if (c.Path == "go.mod" || c.Path == BaseDir+"/go.mod") && c.New != nil {
			return true
		}
	}
	return false
}

// ServiceMarkers are the unresolved conflict markers in the merged and
// scaffold files of the service in dir.
func ServiceMarkers(dir string) ([]Finding, error) {
	m, err := ReadManifest(dir)
	if err != nil {
		return nil, err
	}
	return ConflictMarkers(dir, m)
}

// MarkTidyPending records, before a regen that changes go.mod is applied,
// that its go mod tidy has not run yet: FinishTidy runs it and drops the
// mark, in this regen or, when this one is interrupted, in the next.
func MarkTidyPending(dir string) error {
	return os.WriteFile(filepath.Join(dir, TidyPendingPath), []byte("go mod tidy has not finished after the regen of go.mod; svcgen regen runs it\n"), 0o644)
}

// FinishTidy runs the go mod tidy a regen of dir left unfinished (its
// marker TidyPendingPath is there), printing progress, then drops the
// marker. It does nothing when skip is set or no tidy is pending.
func FinishTidy(ctx context.Context, dir string, progress io.Writer, skip bool) error {
	marker := filepath.Join(dir, TidyPendingPath)
	if _, err := os.Stat(marker); err != nil || skip {
		return nil
	}
	if err := Tidy(ctx, dir, progress); err != nil {
		return err
	}
	return os.Remove(marker)
}

// CheckServices checks the services in dirs in parallel (CheckService),
// keeping their order.
func CheckServices(ctx context.Context, c *Catalog, dirs []string) []ServiceCheck {
	out := make([]ServiceCheck, len(dirs))
	var wg sync.WaitGroup
	sem := make(chan struct{}, runtime.GOMAXPROCS(0))
	for i, dir := range dirs {
		wg.Go(func() {
			sem <- struct{}{}
			defer func() { <-sem }()
			out[i] = CheckService(ctx, c, dir)
		})
	}
	wg.Wait()
	return out
}

// CheckService reports what a regen of dir would do, without writing, by
// ownership class: the files it would change (the plan's Drift rule),
// which merges would conflict (the merge regen runs, in memory), which
// generated files carry hand edits, and why the tree would not compile
// after it (type-checked as regen does, with the same rewrites of
// untouched stubs), implementations serving no operation and unresolved
// conflict markers. A pending interrupted regen counts as drift.
func CheckService(ctx context.Context, c *Catalog, dir string) ServiceCheck {
	sc := ServiceCheck{Path: dir, Pending: []ClassChanges{}, Conflicts: []ConflictFile{}, HandEdited: []string{}, Findings: []Finding{}}
	fail := func(err error) ServiceCheck {
		sc.Status, sc.Error = StatusError, err.Error()
		return sc
	}
	if _, err := os.Stat(filepath.Join(dir, TidyPendingPath)); err == nil {
		sc.TidyPending = true
	}
	m, merr := ReadManifest(dir)
	sc.Name, sc.Module, sc.Recorded, sc.Preset, sc.Features = m.Answers.Name, m.Answers.Module, m.Svcgen, m.Answers.Preset, m.Features
	if Pending(dir) {
		// What the tree holds is half a regen until svcgen regen completes
		// it (the manifest too).
		sc.RegenPending, sc.Status = true, StatusDrift
		return sc
	}
	if merr != nil {
		return fail(merr)
	}
	markers, err := ConflictMarkers(dir, m)
	if err != nil {
		return fail(err)
	}
	if len(markers) > 0 {
		sc.Findings, sc.Status = markers, StatusConflictRisk
		return sc
	}
	p, res, err := PlanService(ctx, c, dir, PlanOptions{})
	if err != nil {
		return fail(err)
	}
	if len(p.Paths(HandEdit)) == 0 {
		rep, err := TypeCheckPlan(ctx, dir, p)
		var le *LoadError
		switch {
		case errors.As(err, &le):
			sc.TypeCheckSkipped = strings.Join(strings.Fields(le.Error()), " ")
		case err != nil:
			return fail(err)
		case rep.Skipped != "":
			sc.TypeCheckSkipped = rep.Skipped
		default:
			sc.Findings = append(sc.Findings, rep.Findings...)
		}
	}
	by := map[string][]FileChange{}
	for _, ch := range p.Changes {
		// svcgen's own copies under .svcgen/base change with the merged
		// files they mirror, and with the manifest: not listed.
		if !ch.Drifts() || strings.HasPrefix(ch.Path, BaseDir+"/") {
			continue
		}
		fc := FileChange{Path: ch.Path, Action: ActionWord(ch.Action), Note: ch.Note}
		by[string(ch.Class)] = append(by[string(ch.Class)], fc)
		sc.Changes = append(sc.Changes, fc)
		sc.Changed++
		switch ch.Action {
		case Conflict:
			sc.Conflicts = append(sc.Conflicts, ConflictFile{Path: ch.Path, Hunks: bytes.Count(ch.New, []byte("<<<<<<< yours\n"))})
		case HandEdit:
			sc.HandEdited = append(sc.HandEdited, ch.Path)
		}
	}
	if p.ManifestChanged {
		note := "answers or file hashes"
		if m.Svcgen != Version {
			note = "svcgen " + m.Svcgen + " -> " + Version
		}
		fc := FileChange{Path: ManifestPath, Action: "updated", Note: note}
		by["manifest"] = []FileChange{fc}
		sc.Changes = append(sc.Changes, fc)
		sc.Changed++
	}
	sc.Pending = GroupByClass(by)
	un, err := p.Unserved(dir, res)
	if err != nil {
		return fail(err)
	}
	sc.Findings = append(sc.Findings, un...)
	switch {
	case len(sc.Conflicts) > 0 || len(sc.HandEdited) > 0 || len(sc.Findings) > 0:
		sc.Status = StatusConflictRisk
	case p.Drift() || sc.TidyPending:
		sc.Status = StatusDrift
	default:
		sc.Status = StatusUpToDate
	}
	return sc
}

// Err is why the service could not be checked (status error), or nil.
func (sc ServiceCheck) Err() error {
	if sc.Status == StatusError {
		return errors.New(sc.Error)
	}
	return nil
}

// DriftLines are svcgen check's lines for the service: one per file a
// regen would change, in the plan's order, the manifest when nothing else
// changes, and the unfinished work of an earlier regen.
func (sc ServiceCheck) DriftLines() []string {
	if sc.Status == StatusError {
		return nil
	}
	if sc.RegenPending {
		return []string{"an interrupted regen is pending (.svcgen/stage): run svcgen regen, which completes it"}
	}
	var drift []string
	manifest := false
	for _, c := range sc.Changes {
		if c.Path == ManifestPath {
			manifest = true
			continue
		}
		d := c.Action + " " + c.Path
		if strings.HasPrefix(c.Note, "rewrote untouched") || strings.HasPrefix(c.Note, "removed untouched") {
			d += " (" + c.Note + ")"
		}
		drift = append(drift, d)
	}
	if manifest && len(drift) == 0 {
		drift = append(drift, "updated "+ManifestPath+" (svcgen version or answers)")
	}
	if sc.TidyPending {
		drift = append(drift, "go mod tidy did not finish after the last regen: run svcgen regen (or go mod tidy)")
	}
	return drift
}
