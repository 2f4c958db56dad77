// Package handler implements the API: one file per operation, each a method
// on Handler. ogen's generated server (internal/api) decodes and validates
// requests, then calls these methods.
package handler

import (
	"context"
	"errors"
	"log/slog"
	"net/http"

	"example.com/golden-realtime/internal/api"
	"example.com/golden-realtime/internal/platform/apierr"
	"example.com/golden-realtime/internal/platform/realtime"
	"example.com/golden-realtime/internal/store"
)

// Handler implements api.Handler. Operations not implemented yet fall back
// to api.UnimplementedHandler (501).
type Handler struct {
	api.UnimplementedHandler
	Store store.Store
	Log   *slog.Logger
	// Hub is the WebSocket hub (set by main); nil in tests that need none.
	Hub *realtime.Hub
}

// New returns a Handler on s.
func New(s store.Store, log *slog.Logger) *Handler {
	return &Handler{Store: s, Log: log}
}

// NewError turns an error returned by an operation into the JSON error
// response: store.ErrNotFound is 404, the rest is mapped by apierr.Status
// (deadline 504, cancelled 499, anything unknown 500).
func (h *Handler) NewError(ctx context.Context, err error) *api.ErrorStatusCode {
	status := apierr.Status(err)
	if errors.Is(err, store.ErrNotFound) {
		status = http.StatusNotFound
	}
	if status >= http.StatusInternalServerError && h.Log != nil {
		h.Log.ErrorContext(ctx, "request failed", "status", status, "error", err)
	}
	return &api.ErrorStatusCode{
		StatusCode: status,
		Response:   api.Error{Code: int32(status), Message: apierr.Message(status, err)},
	}
}
