package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"

	"github.com/svcgen/svcgen/generator/audit"
)

// TestVetMatchesAudit builds svcgen-vet, runs go vet -vettool with it on
// copies of audit fixtures, and checks that it reports exactly the
// findings svcgen audit reports for the same fixture (check, file:line and
// message): the same
// analyzers, one driven package by package with facts in files (go vet),
// the other over the whole service in memory.
func TestVetMatchesAudit(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the vet tool and vets three services")
	}
	repo, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	tool := filepath.Join(t.TempDir(), "svcgen-vet")
	if runtime.GOOS == "windows" {
		tool += ".exe"
	}
	build := exec.Command("go", "build", "-o", tool, "./cmd/svcgen-vet")
	build.Dir = repo
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build ./cmd/svcgen-vet: %v\n%s", err, out)
	}
	for _, fixture := range []string{
		"testdata/audit/legacy-chi",
		"testdata/audit/sqlx-echo",
		"generator/audit/testdata/gorm-shop",
		// A monorepo: svcgen audit splits it into cmd/api and cmd/worker,
		// which share internal/; go vet sees each package once.
		"testdata/audit/mixed-fleet",
	} {
		t.Run(filepath.Base(fixture), func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), filepath.Base(fixture))
			if err := os.CopyFS(dir, os.DirFS(filepath.Join(repo, fixture))); err != nil {
				t.Fatal(err)
			}
			vet := vetFindings(t, tool, dir)
			r, err := audit.Run(context.Background(), []string{dir}, audit.Options{})
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, s := range r.Services {
				for _, c := range s.Checks {
					for _, f := range c.Findings {
						got = append(got, fmt.Sprintf("%s %s:%d: %s", c.ID, f.File, f.Line, f.Message))
					}
				}
			}
			slices.Sort(got)
			got = slices.Compact(got) // a package shared by two services counts once
			if len(got) == 0 {
				t.Fatal("svcgen audit found nothing: the fixture lost its marks")
			}
			if !slices.Equal(vet, got) {
				t.Errorf("go vet -vettool=svcgen-vet and svcgen audit differ:\nvet:\n  %s\naudit:\n  %s",
					strings.Join(vet, "\n  "), strings.Join(got, "\n  "))
			}
			t.Logf("%s: %d findings in %d service(s), the same under go vet and svcgen audit", filepath.Base(fixture), len(got), len(r.Services))
		})
	}
}

// vetFindings runs go vet -vettool=tool -json ./... in dir and returns its
// findings as "check file:line: message", sorted, files relative to dir.
func vetFindings(t *testing.T, tool, dir string) []string {
	t.Helper()
	env := append(os.Environ(), "GOFLAGS=-mod=mod", "GOWORK=off")
	// The fixture's modules first: go vet -json writes to stderr, where go
	// also says what it downloads on a cold module cache.
	dl := exec.Command("go", "mod", "download")
	dl.Dir, dl.Env = dir, env
	if out, err := dl.CombinedOutput(); err != nil {
		t.Fatalf("go mod download: %v\n%s", err, out)
	}
	cmd := exec.Command("go", "vet", "-vettool="+tool, "-json", "./...")
	cmd.Dir, cmd.Env = dir, env
	var stdout, stderr strings.Builder
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("go vet -vettool: %v\n%s%s", err, stdout.String(), stderr.String())
	}
	// -json prints one object per package after a "# pkg" line:
	// {"pkg": {"analyzer": [{"posn": "file:line:col", "message": ...}]}}.
	dec := json.NewDecoder(strings.NewReader(stripComments(stderr.String() + stdout.String())))
	abs, err := filepath.EvalSymlinks(dir)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for dec.More() {
		var pkgs map[string]map[string]json.RawMessage
		if err := dec.Decode(&pkgs); err != nil {
			t.Fatalf("go vet -json output: %v\n%s", err, stderr.String())
		}
		for _, byAnalyzer := range pkgs {
			for name, raw := range byAnalyzer {
				var diags []struct {
					Posn    string `json:"posn"`
					Message string `json:"message"`
				}
				if err := json.Unmarshal(raw, &diags); err != nil {
					t.Fatalf("%s: %v: %s (an analyzer error?)", name, err, raw)
				}
				for _, d := range diags {
					file, line := splitPosn(d.Posn)
					for _, base := range []string{abs, dir} {
						if rel, err := filepath.Rel(base, file); err == nil && !strings.HasPrefix(rel, "..") {
							file = filepath.ToSlash(rel)
							break
						}
					}
					out = append(out, fmt.Sprintf("%s %s:%s: %s", name, file, line, d.Message))
				}
			}
		}
	}
	slices.Sort(out)
	return out
}

// stripComments drops go vet's "# package" lines between the JSON objects.
func stripComments(s string) string {
	var b strings.Builder
	for _, l := range strings.Split(s, "\n") {
		// "# pkg" heads each package; go may still report a download.
		if !strings.HasPrefix(l, "#") && !strings.HasPrefix(l, "go: downloading ") {
			b.WriteString(l + "\n")
		}
	}
	return b.String()
}

// splitPosn splits "file:line:col" into the file and the line.
func splitPosn(p string) (file, line string) {
	i := strings.LastIndex(p, ":")
	j := strings.LastIndex(p[:i], ":")
	return p[:j], p[j+1 : i]
}
