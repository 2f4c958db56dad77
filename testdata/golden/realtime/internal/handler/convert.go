package handler

import (
	"example.com/golden-realtime/internal/api"
	"example.com/golden-realtime/internal/store"
)

// toAPIRoom adds the room's live member count from the hub.
func (h *Handler) toAPIRoom(r store.Room) api.Room {
	return h.toAPIRooms([]store.Room{r})[0]
}

// toAPIRooms adds the rooms' live member counts from the hub, asked once
// for all of them (with rooms across replicas that is one Redis round
// trip, not one a room).
func (h *Handler) toAPIRooms(rooms []store.Room) []api.Room {
	var members []int
	if h.Hub != nil {
		ids := make([]string, len(rooms))
		for i, r := range rooms {
			ids[i] = r.ID
		}
		members = h.Hub.MembersOf(ids)
	}
	out := make([]api.Room, len(rooms))
	for i, r := range rooms {
		out[i] = api.Room{ID: api.RoomID(r.ID), Title: r.Title, CreatedAt: r.CreatedAt}
		if members != nil {
			out[i].Members = int32(members[i])
		}
	}
	return out
}
