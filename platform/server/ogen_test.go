//go:build !service

package server_test

import (
	"context"
	"net/http"
	"testing"

	"github.com/svcgen/svcgen/platform/apierr"
	"github.com/svcgen/svcgen/platform/apierr/ogentest"
)

type thingHandler struct{ ogentest.UnimplementedHandler }

func (thingHandler) CreateThing(_ context.Context, t *ogentest.Thing) (*ogentest.Thing, error) {
	return t, nil
}

// newAPI is the API the servers mount: in svcgen's own tree, a real ogen
// server (platform/apierr/ogentest; services have their own internal/api
// and api_test.go instead) with GET /things/{id} unimplemented and POST
// /things echoing the thing.
func newAPI(t *testing.T) http.Handler {
	t.Helper()
	api, err := ogentest.NewServer(thingHandler{}, ogentest.WithErrorHandler(apierr.ErrorHandler))
	if err != nil {
		t.Fatal(err)
	}
	return api
}
