// Package app is where the team wires its own pieces into the service:
// clients of other services, background jobs, extra routes. The generated
// main calls Setup once, after the platform is built and before the servers
// start listening.
package app

import (
	"context"
	"net/http"
)

// Setup adds the team's own dependencies and routes. Return an error to stop
// the start-up with that message. Long-running work must stop when ctx is
// done; register clean-up with d.OnShutdown.
//
// Example:
//
//	d.Mux.HandleFunc("GET /version", func(w http.ResponseWriter, _ *http.Request) {
//		w.Write([]byte("dev\n"))
//	})
func Setup(ctx context.Context, d *Deps) error {
	// Team edit: a build-info route outside the OpenAPI spec.
	d.Mux.HandleFunc("GET /version", func(w http.ResponseWriter, _ *http.Request) {
		_, _ = w.Write([]byte("legacy-catalog 2.0.1\n"))
	})
	return nil
}
