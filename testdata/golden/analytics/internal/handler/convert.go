package handler

import (
	"github.com/go-faster/jx"

	"example.com/golden-analytics/internal/api"
	"example.com/golden-analytics/internal/store"
)

func toAPIEvent(e store.Event) api.Event {
	return api.Event{
		ID:        e.ID,
		PlayerID:  api.PlayerID(e.PlayerID),
		Type:      e.Type,
		Payload:   jx.Raw(e.Payload),
		CreatedAt: e.CreatedAt,
	}
}

func fromAPIEvent(e *api.EventInput) store.EventInput {
	return store.EventInput{
		PlayerID:  int64(e.PlayerID),
		Type:      e.Type,
		Payload:   []byte(e.Payload),
		CreatedAt: e.CreatedAt,
	}
}
