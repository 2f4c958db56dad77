package handler

import (
	"context"
	"errors"
	"net/http"

	"example.com/golden-realtime/internal/api"
	"example.com/golden-realtime/internal/store"
)

// CreateRoom implements POST /rooms: 201 with the room, 409 when the id is
// taken.
func (h *Handler) CreateRoom(ctx context.Context, req *api.RoomInput) (api.CreateRoomRes, error) {
	r, err := h.Store.CreateRoom(ctx, string(req.ID), req.Title)
	if errors.Is(err, store.ErrExists) {
		return &api.Error{Code: http.StatusConflict, Message: "room " + string(req.ID) + " exists"}, nil
	}
	if err != nil {
		return nil, err
	}
	out := h.toAPIRoom(r)
	return &out, nil
}
