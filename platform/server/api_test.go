//go:build service

package server_test

import (
	"io"
	"net/http"
	"testing"

	ht "github.com/ogen-go/ogen/http"
	"github.com/ogen-go/ogen/ogenerrors"

	"github.com/svcgen/svcgen/platform/apierr"
)

// newAPI is the API the servers mount, answering as ogen's server does
// (the service's own internal/app/api_test.go drives its real one): GET
// /things/{id} unimplemented, POST /things reads the body and echoes it,
// read errors go to the error handler as ogen's decode errors.
func newAPI(t *testing.T) http.Handler {
	t.Helper()
	op := ogenerrors.OperationContext{Name: "CreateThing", ID: "createThing"}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /things/{id}", func(w http.ResponseWriter, r *http.Request) {
		apierr.ErrorHandler(r.Context(), w, r, ht.ErrNotImplemented)
	})
	mux.HandleFunc("POST /things", func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(r.Body)
		if err != nil {
			apierr.ErrorHandler(r.Context(), w, r, &ogenerrors.DecodeRequestError{OperationContext: op, Err: err})
			return
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusCreated)
		_, _ = w.Write(body)
	})
	return mux
}
