package handler

import (
	"context"

	"example.com/golden-analytics/internal/api"
	"example.com/golden-analytics/internal/store"
)

// IngestEvents implements POST /events: the whole batch in one store call
// (COPY above store.CopyThreshold events, one INSERT below).
func (h *Handler) IngestEvents(ctx context.Context, req []api.EventInput) (*api.IngestResult, error) {
	events := make([]store.EventInput, len(req))
	for i := range req {
		events[i] = fromAPIEvent(&req[i])
	}
	n, err := h.Store.IngestEvents(ctx, events)
	if err != nil {
		return nil, err
	}
	return &api.IngestResult{Inserted: n}, nil
}
