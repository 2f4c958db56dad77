package generator

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	"golang.org/x/mod/modfile"
	"golang.org/x/mod/semver"
)

// merge3 merges theirs (svcgen's new render) into ours (the file on disk)
// relative to base (svcgen's previous render) with git merge-file, so the
// result and its conflict markers are exactly git's. Without a base, every
// difference is a conflict.
func merge3(ours, base, theirs []byte, label string) ([]byte, int, error) {
	switch {
	case base != nil && bytes.Equal(base, theirs):
		return ours, 0, nil // svcgen changed nothing
	case base != nil && bytes.Equal(base, ours):
		return theirs, 0, nil // the user changed nothing
	}
	if _, err := exec.LookPath("git"); err != nil {
		return nil, 0, errors.New("merging needs git on PATH (svcgen uses git merge-file); install git")
	}
	tmp, err := os.MkdirTemp("", "svcgen-merge-")
	if err != nil {
		return nil, 0, err
	}
	defer os.RemoveAll(tmp)
	names := [3]string{filepath.Join(tmp, "ours"), filepath.Join(tmp, "base"), filepath.Join(tmp, "theirs")}
	for i, b := range [][]byte{ours, base, theirs} {
		if err := os.WriteFile(names[i], b, 0o600); err != nil {
			return nil, 0, err
		}
	}
	cmd := exec.Command("git", "merge-file", "-p", "-L", "yours", "-L", "base", "-L", label, names[0], names[1], names[2])
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err = cmd.Run()
	var ee *exec.ExitError
	switch {
	case err == nil:
		return stdout.Bytes(), 0, nil
	case errors.As(err, &ee) && ee.ExitCode() > 0 && ee.ExitCode() < 128:
		return stdout.Bytes(), ee.ExitCode(), nil
	}
	return nil, 0, fmt.Errorf("git merge-file: %v: %s", err, strings.TrimSpace(stderr.String()))
}

// mergeGoMod merges go.mod by its meaning, not its lines: `go mod tidy`
// rewrites the file a user keeps (indirect requirements, ordering), so a
// line merge would conflict on every change of svcgen's requirements. What
// svcgen changed between base and theirs (a module added, a version
// raised, the go directive) is applied to ours, keeping higher versions the
// team chose; a requirement svcgen dropped is left for `go mod tidy`, which
// regen runs next, to remove if nothing imports it.
func mergeGoMod(ours, base, theirs []byte, label string) ([]byte, int, error) {
	if base == nil {
		return merge3(ours, base, theirs, label)
	}
	o, err := modfile.Parse("go.mod", ours, nil)
	if err != nil {
		return nil, 0, fmt.Errorf("your go.mod: %w", err)
	}
	b, err := modfile.Parse("base go.mod", base, nil)
	if err != nil {
		return nil, 0, err
	}
	t, err := modfile.Parse("new go.mod", theirs, nil)
	if err != nil {
		return nil, 0, err
	}
	was := map[string]string{}
	for _, r := range b.Require {
		was[r.Mod.Path] = r.Mod.Version
	}
	have := map[string]string{}
	for _, r := range o.Require {
		have[r.Mod.Path] = r.Mod.Version
	}
	for _, r := range t.Require {
		p, v := r.Mod.Path, r.Mod.Version
		if was[p] == v {
			continue // svcgen did not change it
		}
		if cur, ok := have[p]; ok && semver.Compare(cur, v) >= 0 {
			continue // the team is already at this version or later
		}
		if err := o.AddRequire(p, v); err != nil {
			return nil, 0, err
		}
	}
	if t.Go != nil && (b.Go == nil || t.Go.Version != b.Go.Version) && (o.Go == nil || semver.Compare(gover(o.Go.Version), gover(t.Go.Version)) < 0) {
		if err := o.AddGoStmt(t.Go.Version); err != nil {
			return nil, 0, err
		}
	}
	if t.Module != nil && b.Module != nil && t.Module.Mod.Path != b.Module.Mod.Path {
		if err := o.AddModuleStmt(t.Module.Mod.Path); err != nil {
			return nil, 0, err
		}
	}
	o.Cleanup()
	out, err := o.Format()
	return out, 0, err
}

// gover makes a go directive comparable as a semver version.
func gover(v string) string {
	if strings.Count(v, ".") == 1 {
		v += ".0"
	}
	return "v" + v
}
