//go:build no_clients

package apierr

// outboundStatus knows no calls to other services: the service was
// generated without the clients feature.
func outboundStatus(error) (status int, ok bool) { return 0, false }
