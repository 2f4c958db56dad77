package routes

import (
	"net/http"

	"github.com/go-chi/chi/v5" // want `uses chi \(github.com/go-chi/chi/v5, imported in 2 file\(s\) of package routes\): a third-party router in place of http.ServeMux \+ ogen`
)

// ID is the route's id parameter.
func ID(r *http.Request) string { return chi.URLParam(r, "id") }
