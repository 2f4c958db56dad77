//go:build !service

package outbound_test

// svcgen's tree only (never copied into a service): importing golden makes
// this package accept the -update flag, so that `go test ./... -update`
// runs from svcgen's root.
import _ "github.com/svcgen/svcgen/internal/golden"
