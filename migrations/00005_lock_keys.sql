-- +goose Up
-- Advisory locks are per database, but a Waymark deployment is per schema
-- (tests give every test its own schema, and two deployments may share a
-- database). waymark_lock_key scopes a lock key to the current schema, so
-- that relays, health aggregators and write locks of different deployments
-- never wait on each other.
-- +goose StatementBegin
CREATE FUNCTION waymark_lock_key(k1 bigint, k2 bigint DEFAULT 0) RETURNS bigint
LANGUAGE sql STABLE PARALLEL SAFE
AS $$ SELECT hashtextextended(current_schema() || ':' || k1::text || ':' || k2::text, 0) $$;
-- +goose StatementEnd

-- +goose Down
DROP FUNCTION waymark_lock_key(bigint, bigint);
