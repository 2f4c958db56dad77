package handler

import (
	"context"
	"net/http"

	"example.com/golden-analytics/internal/api"
	"example.com/golden-analytics/internal/store"
)

// QueryEvents implements GET /events?from=&to=&player_id=&limit=.
func (h *Handler) QueryEvents(ctx context.Context, params api.QueryEventsParams) (*api.EventList, error) {
	if !params.From.Before(params.To) {
		return nil, &api.ErrorStatusCode{
			StatusCode: http.StatusBadRequest,
			Response:   api.Error{Code: http.StatusBadRequest, Message: "from must be before to"},
		}
	}
	events, err := h.Store.QueryEvents(ctx, store.Query{
		From:     params.From,
		To:       params.To,
		PlayerID: int64(params.PlayerID.Or(0)),
		Limit:    int(params.Limit.Or(1000)),
	})
	if err != nil {
		return nil, err
	}
	out := &api.EventList{Events: make([]api.Event, len(events))}
	for i, e := range events {
		out.Events[i] = toAPIEvent(e)
	}
	return out, nil
}
