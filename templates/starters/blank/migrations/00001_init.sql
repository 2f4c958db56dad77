-- The service's first migration (goose format): create its tables here, or
-- add the next one beside it as 00002_what.sql. `make migrate` applies them
-- to DATABASE_URL.

-- +goose Up
SELECT 1;

-- +goose Down
SELECT 1;
