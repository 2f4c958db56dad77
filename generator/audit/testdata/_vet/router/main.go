// Command router imports chi too, but through routes the module already
// has it: the PackageFact of routes says so, and main is not reported
// again.
package main

import (
	"net/http"
	"time"

	"github.com/go-chi/chi/v5"

	"example.com/router/internal/routes"
)

func main() {
	r := chi.NewRouter()
	r.Mount("/", routes.New())
	srv := &http.Server{Addr: "127.0.0.1:8080", Handler: r, ReadHeaderTimeout: time.Second}
	_ = srv.ListenAndServe()
}
