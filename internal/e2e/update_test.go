package e2e

// This package has no golden files; importing golden makes it accept the
// -update flag, so that `go test ./... -update` runs from the root.
import _ "github.com/svcgen/svcgen/internal/golden"
