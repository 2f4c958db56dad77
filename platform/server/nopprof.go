//go:build no_pprof

package server

import "net/http"

// handlePprof registers nothing: the service was generated without the
// pprof feature (svcgen regen --features +pprof adds /debug/pprof/).
func handlePprof(*http.ServeMux) {}
