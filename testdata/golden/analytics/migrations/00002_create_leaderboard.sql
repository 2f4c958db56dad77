-- +goose Up
-- Per-player totals for the leaderboard: score sums the numeric "score"
-- field of the events' payloads. internal/platform/matview refreshes it
-- CONCURRENTLY, which needs the unique index; reads never wait on it.
CREATE MATERIALIZED VIEW leaderboard AS
SELECT player_id,
       coalesce(sum((payload->>'score')::numeric) FILTER (WHERE jsonb_typeof(payload->'score') = 'number'), 0)::bigint AS score,
       count(*) AS events,
       max(created_at) AS last_event_at
FROM events
GROUP BY player_id;
CREATE UNIQUE INDEX leaderboard_player_id_idx ON leaderboard (player_id);
-- Top-N reads: an index scan of the first N entries.
CREATE INDEX leaderboard_score_idx ON leaderboard (score DESC, player_id);

-- +goose Down
DROP MATERIALIZED VIEW leaderboard;
