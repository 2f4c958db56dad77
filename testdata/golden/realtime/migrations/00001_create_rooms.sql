-- +goose Up
CREATE TABLE rooms (
    id         text        PRIMARY KEY CHECK (id ~ '^[a-z0-9][a-z0-9_-]{0,63}$'),
    title      text        NOT NULL CHECK (length(title) BETWEEN 1 AND 200),
    created_at timestamptz NOT NULL DEFAULT now()
);

-- +goose Down
DROP TABLE rooms;
