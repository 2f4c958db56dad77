-- +goose Up
CREATE TABLE events (
    id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    player_id  bigint      NOT NULL,
    type       text        NOT NULL CHECK (length(type) BETWEEN 1 AND 64),
    payload    jsonb       NOT NULL DEFAULT 'null',
    created_at timestamptz NOT NULL
);
-- Time-range queries, all players and one player.
CREATE INDEX events_created_at_idx ON events (created_at);
CREATE INDEX events_player_id_created_at_idx ON events (player_id, created_at);

-- +goose Down
DROP TABLE events;
