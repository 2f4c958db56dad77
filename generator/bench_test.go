package generator

import (
	"context"
	"path/filepath"
	"strconv"
	"testing"
)

// BenchmarkNewHotPath measures `svcgen new` of the hot-path preset without
// go mod tidy: load the catalog, render (ogen included) and write the tree.
//
//	go test ./generator -run '^$' -bench NewHotPath -count 10
func BenchmarkNewHotPath(b *testing.B) {
	ctx := context.Background()
	root := b.TempDir()
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		c, err := LoadCatalog("")
		if err != nil {
			b.Fatal(err)
		}
		res, err := Generate(ctx, Request{Catalog: c, Options: Options{Name: "bench-svc", Module: "example.com/bench-svc", Preset: "hot-path"}})
		if err != nil {
			b.Fatal(err)
		}
		if err := Write(filepath.Join(root, strconv.Itoa(i)), res); err != nil {
			b.Fatal(err)
		}
	}
}
