// Package ogentest is a tiny ogen server (two operations, see openapi.yaml)
// that platform/apierr's tests in svcgen's own tree drive into ogen's real
// routing, decoding and error paths. It is generated as a service's
// internal/api is (svcgen's in-process ogen run and post-processing) by
// svcgen's test generator/ogentest_test.go, which fails when these files are
// stale; `go test ./generator -run TestOgentest -update` rewrites them.
// Services never get this package (it is a subdirectory of apierr, which the
// copy leaves out).
package ogentest
