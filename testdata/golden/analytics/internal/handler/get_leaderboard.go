package handler

import (
	"context"

	"example.com/golden-analytics/internal/api"
)

// GetLeaderboard implements GET /leaderboard?limit=: the top players by
// total score, read from the leaderboard materialized view.
func (h *Handler) GetLeaderboard(ctx context.Context, params api.GetLeaderboardParams) (*api.Leaderboard, error) {
	entries, err := h.Store.Leaderboard(ctx, int(params.Limit.Or(100)))
	if err != nil {
		return nil, err
	}
	out := &api.Leaderboard{Entries: make([]api.LeaderboardEntry, len(entries))}
	for i, e := range entries {
		out.Entries[i] = api.LeaderboardEntry{
			Rank:     int32(i + 1),
			PlayerID: api.PlayerID(e.PlayerID),
			Score:    e.Score,
			Events:   e.Events,
		}
	}
	return out, nil
}
