package handler

import (
	"example.com/golden-realtime/internal/api"
	"example.com/golden-realtime/internal/store"
)

// toAPIRoom adds the room's live member count from the hub.
func (h *Handler) toAPIRoom(r store.Room) api.Room {
	out := api.Room{ID: api.RoomID(r.ID), Title: r.Title, CreatedAt: r.CreatedAt}
	if h.Hub != nil {
		out.Members = int32(h.Hub.Members(r.ID))
	}
	return out
}
