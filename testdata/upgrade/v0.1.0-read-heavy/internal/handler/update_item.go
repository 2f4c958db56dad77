package handler

import (
	"context"

	"example.com/legacy-catalog/internal/api"
)

// UpdateItem implements PUT /items/{id}.
func (h *Handler) UpdateItem(ctx context.Context, req *api.ItemInput, params api.UpdateItemParams) (*api.Item, error) {
	it, err := h.Store.UpdateItem(ctx, int64(params.ID), fromAPIInput(req))
	if err != nil {
		return nil, err
	}
	out := toAPIItem(it)
	return &out, nil
}
