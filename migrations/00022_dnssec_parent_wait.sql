-- +goose Up
-- A key-signing key roll with a parent outside Waymark (controlplane/
-- dnssec_remote.go): when the parent's nameservers were first seen without
-- the leaving key's DS, and the largest TTL they gave its DS set; the key
-- leaves that TTL after. dnssec_message is what the operator is told to do
-- at the parent (ACTION_NEEDED when dnssec_action_needed).
ALTER TABLE dnssec_key ADD COLUMN parent_ds_gone_at timestamptz,
    ADD COLUMN parent_ds_ttl integer NOT NULL DEFAULT 0;
ALTER TABLE hosted_zone ADD COLUMN dnssec_message text NOT NULL DEFAULT '',
    ADD COLUMN dnssec_action_needed boolean NOT NULL DEFAULT false;

-- +goose Down
ALTER TABLE hosted_zone DROP COLUMN dnssec_action_needed, DROP COLUMN dnssec_message;
ALTER TABLE dnssec_key DROP COLUMN parent_ds_ttl, DROP COLUMN parent_ds_gone_at;
