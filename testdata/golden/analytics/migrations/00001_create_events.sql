-- +goose Up
-- Partitioned by range of created_at, one partition per month:
-- internal/platform/partition creates the partitions ahead and drops those
-- past retention. The primary key must include the partition key.
CREATE TABLE events (
    id         bigint GENERATED ALWAYS AS IDENTITY,
    player_id  bigint      NOT NULL,
    type       text        NOT NULL CHECK (length(type) BETWEEN 1 AND 64),
    payload    jsonb       NOT NULL DEFAULT 'null',
    created_at timestamptz NOT NULL,
    PRIMARY KEY (id, created_at)
) PARTITION BY RANGE (created_at);
-- Rows outside every partition land here; the job moves them into their
-- partition when it creates it.
CREATE TABLE events_default PARTITION OF events DEFAULT;
-- Indexes on the parent: every partition gets them, present and future.
-- Time-range queries, all players and one player.
CREATE INDEX events_created_at_idx ON events (created_at);
CREATE INDEX events_player_id_created_at_idx ON events (player_id, created_at);

-- +goose Down
DROP TABLE events;
