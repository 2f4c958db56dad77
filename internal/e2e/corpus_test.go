package e2e

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ogen-go/ogen"
	"github.com/ogen-go/ogen/gen"
	"github.com/ogen-go/ogen/location"
	"go.uber.org/zap"

	"github.com/svcgen/svcgen/generator"
)

// largeSpecs are the examples that take minutes each; they run with
// SVCGEN_CORPUS_LARGE=1.
var largeSpecs = []string{"api.github.com.json", "k8s.json"}

// readHeavy are the corpus specs also generated with the read-heavy preset.
var readHeavy = []string{"petstore.yml", "petstore-expanded.yml", "matchmaking.yaml", "billing-problems.yaml"}

// corpusSpec is one spec of the corpus.
type corpusSpec struct {
	// name is its path under its corpus ("autorest/header.json").
	name string
	// file is its path on disk.
	file string
}

// corpusSpecs lists ogen's own examples (from the pinned module, its
// subfolders included) and svcgen's testdata/specs.
func corpusSpecs(t *testing.T) []corpusSpec {
	t.Helper()
	out, err := exec.Command("go", "list", "-m", "-f", "{{.Dir}}", "github.com/ogen-go/ogen").Output()
	if err != nil {
		t.Fatalf("finding the ogen module: %v", err)
	}
	var specs []corpusSpec
	large := os.Getenv("SVCGEN_CORPUS_LARGE") != ""
	for _, root := range []struct{ dir, prefix string }{
		{filepath.Join(strings.TrimSpace(string(out)), "_testdata", "examples"), ""},
		{filepath.Join("..", "..", "testdata", "specs"), "testdata/specs/"},
	} {
		err := filepath.WalkDir(root.dir, func(p string, d os.DirEntry, err error) error {
			if err != nil || d.IsDir() {
				return err
			}
			switch filepath.Ext(p) {
			case ".json", ".yml", ".yaml":
			default:
				return nil
			}
			if !large && slices.Contains(largeSpecs, d.Name()) {
				return nil
			}
			rel, _ := filepath.Rel(root.dir, p)
			specs = append(specs, corpusSpec{name: root.prefix + filepath.ToSlash(rel), file: p})
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	if len(specs) < 10 {
		t.Fatalf("only %d specs found", len(specs))
	}
	return specs
}

// ogenGenerates says whether ogen itself generates a server from the spec,
// skipping what it cannot do (nil), or why not.
func ogenGenerates(spec []byte, file string) error {
	parsed, err := ogen.Parse(spec)
	if err != nil {
		return err
	}
	opts := gen.Options{}
	opts.Parser.File = location.NewFile(path.Base(file), file, spec)
	opts.Generator.IgnoreNotImplemented = []string{"all"}
	opts.Logger = zap.NewNop()
	_, err = gen.NewGenerator(parsed, opts)
	return err
}

// corpusRow is one line of the corpus table.
type corpusRow struct {
	spec, preset, result string
	seconds              float64
}

// TestCorpus generates a service from every spec ogen itself can generate
// (ogen's examples and testdata/specs), then builds and vets it. Two
// services are proved at a time, sharing the build cache; the table and
// the N/N count are logged at the end.
func TestCorpus(t *testing.T) {
	if testing.Short() {
		t.Skip("the corpus builds dozens of services")
	}
	c, err := generator.LoadCatalog("")
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	var (
		mu   sync.Mutex
		rows []corpusRow
	)
	record := func(r corpusRow) {
		mu.Lock()
		defer mu.Unlock()
		rows = append(rows, r)
	}
	sem := make(chan struct{}, 2)
	t.Run("specs", func(t *testing.T) {
		for _, s := range corpusSpecs(t) {
			spec, err := os.ReadFile(s.file)
			if err != nil {
				t.Fatal(err)
			}
			if err := ogenGenerates(spec, s.file); err != nil {
				record(corpusRow{spec: s.name, preset: "-", result: "not in the corpus: ogen cannot generate it: " + firstLine(err.Error())})
				continue
			}
			presets := []string{"hot-path"}
			if slices.Contains(readHeavy, path.Base(s.name)) {
				presets = append(presets, "read-heavy")
			}
			for _, preset := range presets {
				t.Run(s.name+"/"+preset, func(t *testing.T) {
					t.Parallel()
					sem <- struct{}{}
					defer func() { <-sem }()
					began := time.Now()
					result := proveSpec(t, c, s, spec, preset)
					record(corpusRow{spec: s.name, preset: preset, result: result, seconds: time.Since(began).Seconds()})
					if result != "ok" && !strings.HasPrefix(result, "ok ") {
						t.Errorf("%s with %s: %s", s.name, preset, result)
					}
				})
			}
		}
	})
	sort.Slice(rows, func(i, j int) bool {
		return rows[i].spec < rows[j].spec || rows[i].spec == rows[j].spec && rows[i].preset < rows[j].preset
	})
	var b strings.Builder
	n, ok := 0, 0
	fmt.Fprintf(&b, "%-52s %-10s %6s  %s\n", "spec", "preset", "s", "result")
	for _, r := range rows {
		fmt.Fprintf(&b, "%-52s %-10s %6.1f  %s\n", r.spec, r.preset, r.seconds, r.result)
		if r.preset == "-" {
			continue
		}
		n++
		if r.result == "ok" || strings.HasPrefix(r.result, "ok ") {
			ok++
		}
	}
	t.Logf("corpus:\n%s", b.String())
	t.Logf("corpus: %d/%d services built and vetted in %v", ok, n, time.Since(start).Round(time.Second))
	if ok != n {
		t.Errorf("corpus: %d/%d services built and vetted; the failures are above", ok, n)
	}
}

// proveSpec generates spec with preset (skipping what ogen cannot do
// when it must), writes and tidies the service, builds and vets it; it
// returns "ok" or where it failed with the first lines of the output.
func proveSpec(t *testing.T, c *generator.Catalog, s corpusSpec, spec []byte, preset string) string {
	name := "corpus-" + strings.Trim(regexp.MustCompile(`[^a-z0-9]+`).ReplaceAllString(strings.ToLower(strings.TrimSuffix(path.Base(s.name), path.Ext(s.name))), "-"), "-")
	o := generator.Options{Name: name, Module: "example.com/" + name, Preset: preset, Spec: path.Base(s.name)}
	res, err := generator.Generate(context.Background(), generator.Request{Catalog: c, Options: o, Spec: spec})
	skipped := ""
	var se *generator.SpecError
	if errors.As(err, &se) && se.Unsupported != "" {
		o.SkipUnsupported = []string{"all"}
		res, err = generator.Generate(context.Background(), generator.Request{Catalog: c, Options: o, Spec: spec})
		skipped = fmt.Sprintf(" (--skip-unsupported all: %d warnings)", len(res.Warnings))
	}
	if err != nil {
		return "generate: " + firstLines(err.Error(), 3)
	}
	for _, w := range res.Warnings {
		t.Logf("warning: %s", w)
	}
	dir := filepath.Join(t.TempDir(), name)
	if err := generator.Write(dir, res); err != nil {
		return "write: " + firstLines(err.Error(), 3)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	if err := generator.Tidy(ctx, dir, &bytes.Buffer{}); err != nil {
		return "tidy: " + firstLines(err.Error(), 3)
	}
	for _, step := range [][]string{{"build", "./..."}, {"vet", "./..."}} {
		cmd := exec.CommandContext(ctx, "go", step...)
		cmd.Dir = dir
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Logf("go %s in %s: %v\n%s", strings.Join(step, " "), dir, err, out)
			return fmt.Sprintf("go %s: %s", step[0], compilerLines(string(out), 3))
		}
	}
	return "ok" + skipped
}

// compilerLines are the first n "file:line:col: message" lines of go
// build's output (its first lines when there are none).
func compilerLines(out string, n int) string {
	var lines []string
	for _, l := range strings.Split(out, "\n") {
		if regexp.MustCompile(`^\S+\.go:\d+:\d+: `).MatchString(strings.TrimSpace(l)) {
			lines = append(lines, strings.TrimSpace(l))
		}
	}
	if len(lines) == 0 {
		return firstLines(out, n)
	}
	return strings.Join(lines[:min(n, len(lines))], " | ")
}

func firstLine(s string) string { return firstLines(s, 1) }

func firstLines(s string, n int) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	return strings.Join(lines[:min(n, len(lines))], " | ")
}
