-- +goose Up
-- A TLD whose domain creates wait for the registry operator's decision,
-- as in a sunrise or land-rush period: a create is answered 1001 and the
-- domain is pendingCreate (out of the DNS) until the operator approves it
-- (the delegation is published) or rejects it (the name is released);
-- either way the sponsor gets a poll message (panData, RFC 5731 s3.3)
-- with the command's clTRID.
ALTER TABLE registry_tld ADD COLUMN create_approval boolean NOT NULL DEFAULT false;
ALTER TABLE registry_domain ADD COLUMN create_cltrid text NOT NULL DEFAULT '';
ALTER TABLE registry_poll ADD COLUMN cl_trid text NOT NULL DEFAULT '';

-- +goose Down
ALTER TABLE registry_poll DROP COLUMN cl_trid;
ALTER TABLE registry_domain DROP COLUMN create_cltrid;
ALTER TABLE registry_tld DROP COLUMN create_approval;
