// Package ogentest is a tiny ogen server (two operations, see openapi.yaml)
// that the platform packages' tests run against, so they exercise ogen's real
// routing, decoding, middleware and error paths without depending on the
// service's own spec.
package ogentest

//go:generate go run github.com/ogen-go/ogen/cmd/ogen@v1.25.0 --target . --package ogentest --clean --config ogen.yml openapi.yaml
