-- +goose Up
CREATE TABLE items (
    id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name       text        NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    quantity   integer     NOT NULL CHECK (quantity >= 0),
    price      bigint      NOT NULL CHECK (price >= 0),
    updated_at timestamptz NOT NULL DEFAULT now()
);

-- +goose Down
DROP TABLE items;
