package handler

import (
	"context"

	"example.com/golden-realtime/internal/api"
)

// ListRooms implements GET /rooms?limit=N, ordered by id.
func (h *Handler) ListRooms(ctx context.Context, params api.ListRoomsParams) (*api.RoomList, error) {
	rooms, err := h.Store.ListRooms(ctx, int(params.Limit.Or(100)))
	if err != nil {
		return nil, err
	}
	return &api.RoomList{Rooms: h.toAPIRooms(rooms)}, nil
}
