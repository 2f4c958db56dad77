// Package platform holds the platform packages of generated services as
// real Go: each directory below is a package that svcgen's own tests
// compile, vet, lint and test in place, and that `svcgen new` and
// `svcgen regen` copy into a service's internal/platform/ with its imports
// rewritten (github.com/svcgen/svcgen/platform/cache becomes
// <module>/internal/platform/cache) and svcgen's header on top.
//
// A feature names the packages it ships in its feature.yaml
// (`packages: [cache]`). A file that only some services get says so with a
// build constraint on the features it needs: `//go:build !no_tracing` is
// copied only into services with tracing, `//go:build no_tracing` only into
// those without it. The constraint line itself is not copied. svcgen's test
// command builds and tests the packages both ways (no tags: every feature
// on; `-tags` with every no_<feature>: every optional feature off). See
// docs/platform.md.
package platform

import "embed"

// FS is the tree of platform packages; this file is not part of any copy.
//
//go:embed all:*
var FS embed.FS
