package handler

import (
	"context"
	"encoding/json"
	"errors"

	"example.com/golden-realtime/internal/api"
)

// serverMessage is what the members of a room receive.
type serverMessage struct {
	Room string          `json:"room"`
	Type string          `json:"type"`
	Data json.RawMessage `json:"data"`
}

// PublishRoomMessage implements POST /rooms/{id}/messages: the message is
// queued for every member of the room on this replica's hub and leaves
// with their next frame.
func (h *Handler) PublishRoomMessage(ctx context.Context, req *api.RoomMessage, params api.PublishRoomMessageParams) (*api.PublishResult, error) {
	id := string(params.ID)
	if _, err := h.Store.GetRoom(ctx, id); err != nil {
		return nil, err
	}
	if h.Hub == nil {
		return nil, errors.New("no realtime hub")
	}
	msg, err := json.Marshal(serverMessage{Room: id, Type: req.Type, Data: json.RawMessage(req.Data)})
	if err != nil {
		return nil, err
	}
	n, err := h.Hub.Publish(id, msg)
	if err != nil {
		return nil, err
	}
	return &api.PublishResult{Delivered: int32(n)}, nil
}
