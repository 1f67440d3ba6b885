-- +goose Up
-- Secondary zones (controlplane/secondary.go, docs/transfers.md): a zone
-- whose records come from primaries outside Waymark. secondary is the
-- configuration given at creation (primaries with the names of the
-- tenant's TSIG keys), NULL for an ordinary zone; the status columns are
-- what the last transfer did.
ALTER TABLE hosted_zone ADD COLUMN secondary jsonb,
    ADD COLUMN secondary_serial bigint,
    ADD COLUMN secondary_success_at timestamptz,
    ADD COLUMN secondary_error text NOT NULL DEFAULT '';

-- +goose Down
ALTER TABLE hosted_zone DROP COLUMN secondary_error, DROP COLUMN secondary_success_at,
    DROP COLUMN secondary_serial, DROP COLUMN secondary;
