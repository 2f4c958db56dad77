package handler

import (
	"context"

	"example.com/legacy-catalog/internal/api"
)

// BatchGetItems implements GET /items?ids=1,2,3: one store call (one query)
// for all ids; the ones not found are listed in Missing.
func (h *Handler) BatchGetItems(ctx context.Context, params api.BatchGetItemsParams) (*api.ItemList, error) {
	ids := make([]int64, len(params.Ids))
	for i, id := range params.Ids {
		ids[i] = int64(id)
	}
	items, err := h.Store.GetItems(ctx, ids)
	if err != nil {
		return nil, err
	}
	out := &api.ItemList{Items: make([]api.Item, len(items)), Missing: []api.ItemID{}}
	found := make(map[int64]struct{}, len(items))
	for i, it := range items {
		out.Items[i] = toAPIItem(it)
		found[it.ID] = struct{}{}
	}
	for _, id := range ids {
		if _, ok := found[id]; !ok {
			found[id] = struct{}{} // report a repeated id once
			out.Missing = append(out.Missing, api.ItemID(id))
		}
	}
	return out, nil
}
