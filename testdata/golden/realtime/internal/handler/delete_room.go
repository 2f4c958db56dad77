package handler

import (
	"context"

	"example.com/golden-realtime/internal/api"
)

// DeleteRoom implements DELETE /rooms/{id}; the room's members are taken
// out of it on the hub and stay connected.
func (h *Handler) DeleteRoom(ctx context.Context, params api.DeleteRoomParams) error {
	if err := h.Store.DeleteRoom(ctx, string(params.ID)); err != nil {
		return err
	}
	if h.Hub != nil {
		h.Hub.CloseRoom(string(params.ID))
	}
	return nil
}
