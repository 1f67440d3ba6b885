-- +goose Up
-- The zone version of the change that gave each DNSSEC key its status:
-- rollovers wait until that change is INSYNC, then a TTL (docs/dnssec.md).
ALTER TABLE dnssec_key ADD COLUMN since_version bigint NOT NULL DEFAULT 0;

-- +goose Down
ALTER TABLE dnssec_key DROP COLUMN since_version;
