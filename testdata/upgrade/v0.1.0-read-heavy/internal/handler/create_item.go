package handler

import (
	"context"

	"example.com/legacy-catalog/internal/api"
)

// CreateItem implements POST /items (201 with the new item).
func (h *Handler) CreateItem(ctx context.Context, req *api.ItemInput) (*api.Item, error) {
	it, err := h.Store.CreateItem(ctx, fromAPIInput(req))
	if err != nil {
		return nil, err
	}
	out := toAPIItem(it)
	return &out, nil
}
