package handler

import (
	"context"
	"strings"

	"example.com/legacy-inventory/internal/api"
)

// GetItem implements GET /items/{id}.
func (h *Handler) GetItem(ctx context.Context, params api.GetItemParams) (*api.Item, error) {
	it, err := h.Store.GetItem(ctx, int64(params.ID))
	if err != nil {
		return nil, err
	}
	out := toAPIItem(it)
	// Team edit: trace lookups while we chase a cache bug.
	h.Log.DebugContext(ctx, "get item", "id", params.ID, "name_len", len(strings.TrimSpace(out.Name)))
	return &out, nil
}
