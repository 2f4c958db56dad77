package handler

import (
	"context"
	"strings"

	"example.com/legacy-catalog/internal/api"
)

// GetItem implements GET /items/{id}.
func (h *Handler) GetItem(ctx context.Context, params api.GetItemParams) (*api.Item, error) {
	it, err := h.Store.GetItem(ctx, int64(params.ID))
	if err != nil {
		return nil, err
	}
	out := toAPIItem(it)
	// Team edit: names are shown trimmed.
	out.Name = strings.TrimSpace(out.Name)
	return &out, nil
}
