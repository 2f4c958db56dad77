// Package handler implements the API: one file per operation, each a method
// on Handler. ogen's generated server (internal/api) decodes and validates
// requests, then calls these methods.
package handler

import (
	"errors"
	"log/slog"
	"net/http"

	"example.com/legacy-catalog/internal/api"
	"example.com/legacy-catalog/internal/platform/apierr"
	"example.com/legacy-catalog/internal/store"
)

// Handler implements api.Handler. Operations not implemented yet fall back
// to api.UnimplementedHandler (501).
type Handler struct {
	api.UnimplementedHandler
	Store store.Store
	Log   *slog.Logger
}

// New returns a Handler on s.
func New(s store.Store, log *slog.Logger) *Handler {
	return &Handler{Store: s, Log: log}
}

// ErrorStatus maps an error an operation returned to its HTTP status: add
// the service's domain errors here. The answer is written in the spec's
// error shape by errors.go (generated); the rest is apierr.Status
// (deadline 504, cancelled 499, bad input 400, anything unknown 500, and
// logged).
func (h *Handler) ErrorStatus(err error) int {
	if errors.Is(err, store.ErrNotFound) {
		return http.StatusNotFound
	}
	return apierr.Status(err)
}
