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
	out := &api.RoomList{Rooms: make([]api.Room, len(rooms))}
	for i, r := range rooms {
		out.Rooms[i] = h.toAPIRoom(r)
	}
	return out, nil
}
