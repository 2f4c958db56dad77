package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"

	"github.com/svcgen/svcgen/generator"
)

// expandCheckDirs turns check's arguments into service directories: a
// directory holding services below it (a fleet) stands for them; any other
// argument is kept, so it is reported as the service it is not.
func expandCheckDirs(args []string) []string {
	var out []string
	for _, a := range args {
		if _, err := os.Stat(filepath.Join(a, generator.ManifestPath)); err == nil {
			out = append(out, a)
			continue
		}
		found, err := generator.FindServices(a)
		if err != nil || len(found) == 0 {
			out = append(out, a)
			continue
		}
		out = append(out, found...)
	}
	return out
}

// runCheckJSON prints the drift report of the services in dirs as one JSON
// document (schema/check.schema.json); it fails, as check does, when any
// service drifted, would conflict or could not be checked.
func runCheckJSON(ctx context.Context, e *env, cat *generator.Catalog, dirs []string) error {
	rep := generator.CheckReport{Svcgen: generator.Version, Services: inspectServices(ctx, cat, dirs)}
	rep.Summarize()
	enc := json.NewEncoder(e.stdout)
	enc.SetIndent("", "  ")
	if err := enc.Encode(rep); err != nil {
		return err
	}
	if bad := rep.Summary.Services - rep.Summary.UpToDate; bad > 0 {
		return fmt.Errorf("%d of %d service(s) drifted, would conflict or could not be checked (the JSON report says which and why); run svcgen regen in each", bad, len(dirs))
	}
	return nil
}

// inspectServices inspects the services in parallel, keeping their order.
func inspectServices(ctx context.Context, cat *generator.Catalog, dirs []string) []generator.ServiceCheck {
	out := make([]generator.ServiceCheck, len(dirs))
	var wg sync.WaitGroup
	sem := make(chan struct{}, runtime.GOMAXPROCS(0))
	for i, dir := range dirs {
		wg.Go(func() {
			sem <- struct{}{}
			defer func() { <-sem }()
			out[i] = inspectService(ctx, cat, dir)
		})
	}
	wg.Wait()
	return out
}

// inspectService is checkService's report by ownership class: what a regen
// of dir would change, which merges would conflict (the merge regen runs,
// in memory), which generated files carry hand edits, and why the tree
// would not compile after it.
func inspectService(ctx context.Context, cat *generator.Catalog, dir string) generator.ServiceCheck {
	sc := generator.ServiceCheck{Path: dir, Pending: []generator.ClassChanges{}, Conflicts: []generator.ConflictFile{}, HandEdited: []string{}, Findings: []generator.Finding{}}
	fail := func(err error) generator.ServiceCheck {
		sc.Status, sc.Error = generator.StatusError, err.Error()
		return sc
	}
	if _, err := os.Stat(filepath.Join(dir, generator.TidyPendingPath)); err == nil {
		sc.TidyPending = true
	}
	m, merr := generator.ReadManifest(dir)
	sc.Name, sc.Module, sc.Recorded, sc.Preset, sc.Features = m.Answers.Name, m.Answers.Module, m.Svcgen, m.Answers.Preset, m.Features
	if generator.Pending(dir) {
		// What the tree holds is half a regen until svcgen regen completes
		// it (the manifest too).
		sc.RegenPending, sc.Status = true, generator.StatusDrift
		return sc
	}
	if merr != nil {
		return fail(merr)
	}
	markers, err := generator.ConflictMarkers(dir, m)
	if err != nil {
		return fail(err)
	}
	if len(markers) > 0 {
		sc.Findings, sc.Status = markers, generator.StatusConflictRisk
		return sc
	}
	p, res, err := planService(ctx, cat, dir, nil, generator.RegenOptions{})
	if err != nil {
		return fail(err)
	}
	if len(p.Paths(generator.HandEdit)) == 0 {
		rep, err := generator.TypeCheckPlan(ctx, dir, p)
		var le *generator.LoadError
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
	by := map[string][]generator.FileChange{}
	for _, c := range p.Changes {
		switch c.Action {
		case generator.Unchanged, generator.Keep, generator.Deleted, generator.Orphan:
			continue
		}
		if strings.HasPrefix(c.Path, generator.BaseDir+"/") {
			continue
		}
		fc := generator.FileChange{Path: c.Path, Action: generator.ActionWord(c.Action), Note: c.Note}
		by[string(c.Class)] = append(by[string(c.Class)], fc)
		sc.Changes = append(sc.Changes, fc)
		sc.Changed++
		switch c.Action {
		case generator.Conflict:
			sc.Conflicts = append(sc.Conflicts, generator.ConflictFile{Path: c.Path, Hunks: bytes.Count(c.New, []byte("<<<<<<< yours\n"))})
		case generator.HandEdit:
			sc.HandEdited = append(sc.HandEdited, c.Path)
		}
	}
	if p.ManifestChanged {
		note := "answers or file hashes"
		if m.Svcgen != generator.Version {
			note = "svcgen " + m.Svcgen + " -> " + generator.Version
		}
		fc := generator.FileChange{Path: generator.ManifestPath, Action: "updated", Note: note}
		by["manifest"] = []generator.FileChange{fc}
		sc.Changes = append(sc.Changes, fc)
		sc.Changed++
	}
	sc.Pending = generator.GroupByClass(by)
	un, err := unservedHandlers(dir, p, res)
	if err != nil {
		return fail(err)
	}
	sc.Findings = append(sc.Findings, un...)
	switch {
	case len(sc.Conflicts) > 0 || len(sc.HandEdited) > 0 || len(sc.Findings) > 0:
		sc.Status = generator.StatusConflictRisk
	case sc.Changed > 0 || sc.TidyPending:
		sc.Status = generator.StatusDrift
	default:
		sc.Status = generator.StatusUpToDate
	}
	return sc
}
