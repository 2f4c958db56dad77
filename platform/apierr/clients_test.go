//go:build !no_clients

package apierr_test

import (
	"context"
	"fmt"
	"net/http"
	"testing"

	"github.com/svcgen/svcgen/platform/apierr"
	"github.com/svcgen/svcgen/platform/outbound"
)

// TestStatusOutbound: a failed call to another service answers what the
// client decided (503 unavailable or breaker open, 504 out of time), even
// when the cause inside says otherwise.
func TestStatusOutbound(t *testing.T) {
	for _, want := range []int{http.StatusServiceUnavailable, http.StatusGatewayTimeout} {
		dep := &outbound.Error{Err: context.Canceled, Dependency: "inventory", Operation: "getItem", Status: want, Attempts: 3}
		if got := apierr.Status(fmt.Errorf("load: %w", dep)); got != want {
			t.Errorf("Status(%v) = %d, want %d", dep, got, want)
		}
	}
}
