package main

import (
	"context"
	"fmt"
	"io"
	"path/filepath"
	"strings"
	"testing"

	"github.com/svcgen/svcgen/generator"
)

// fleet writes n services of the four presets under a temp dir.
func fleet(b *testing.B, n int) []string {
	b.Helper()
	cat, err := generator.LoadCatalog("")
	if err != nil {
		b.Fatal(err)
	}
	presets := cat.Presets()
	root := b.TempDir()
	dirs := make([]string, n)
	for i := range dirs {
		name := fmt.Sprintf("svc-%02d", i)
		res, err := generator.Generate(context.Background(), generator.Request{Catalog: cat, Options: generator.Options{Name: name, Preset: presets[i%len(presets)].Name}})
		if err != nil {
			b.Fatal(err)
		}
		dirs[i] = filepath.Join(root, name)
		if err := generator.Write(dirs[i], res); err != nil {
			b.Fatal(err)
		}
	}
	return dirs
}

func runQuiet(b *testing.B, args ...string) {
	var stderr strings.Builder
	if code := Run(args, strings.NewReader(""), io.Discard, &stderr); code != 0 {
		b.Fatalf("svcgen %s: exit %d: %s", strings.Join(args, " "), code, stderr.String())
	}
}

// BenchmarkRegenUnchanged and BenchmarkCheckUnchanged: one hot-path service
// that is up to date.
//
//	go test ./cmd/svcgen -run '^$' -bench 'Unchanged|Fleet' -benchtime 5x
func BenchmarkRegenUnchanged(b *testing.B) {
	dir := fleet(b, 1)[0]
	for b.Loop() {
		runQuiet(b, "regen", dir)
	}
}

func BenchmarkCheckUnchanged(b *testing.B) {
	dir := fleet(b, 1)[0]
	for b.Loop() {
		runQuiet(b, "check", dir)
	}
}

// BenchmarkCheckFleet90 checks 90 services in one run, as a fleet's CI
// would.
func BenchmarkCheckFleet90(b *testing.B) {
	dirs := fleet(b, 90)
	for b.Loop() {
		runQuiet(b, append([]string{"check"}, dirs...)...)
	}
}
