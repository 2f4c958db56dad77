package handler

import (
	"context"

	"example.com/golden-realtime/internal/api"
)

// GetRoom implements GET /rooms/{id}, with the room's live member count.
func (h *Handler) GetRoom(ctx context.Context, params api.GetRoomParams) (*api.Room, error) {
	r, err := h.Store.GetRoom(ctx, string(params.ID))
	if err != nil {
		return nil, err
	}
	out := h.toAPIRoom(r)
	return &out, nil
}
