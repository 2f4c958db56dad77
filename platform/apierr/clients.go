//go:build !no_clients

package apierr

import (
	"errors"

	"github.com/svcgen/svcgen/platform/outbound"
)

// outboundStatus is the status of a failed call to another service: an
// *outbound.Error's HTTPStatus, 503 (unavailable or breaker open) or 504
// (out of time); ok is false for any other error.
func outboundStatus(err error) (status int, ok bool) {
	var dep *outbound.Error
	if errors.As(err, &dep) {
		return dep.HTTPStatus(), true
	}
	return 0, false
}
