-- +goose Up
-- A change batch may carry an idempotency key (the Idempotency-Key
-- header): a retry with the same key and the same batch answers the
-- change the first attempt made, so a client that lost the answer (a
-- 503 or a timeout after the commit) never applies a batch twice nor is
-- told it failed. request_hash tells a retry from another batch that
-- reuses the key.
ALTER TABLE change ADD COLUMN idempotency_key text, ADD COLUMN request_hash bytea;
CREATE UNIQUE INDEX change_idempotency_key_idx ON change (tenant_id, idempotency_key) WHERE idempotency_key IS NOT NULL;

-- +goose Down
DROP INDEX change_idempotency_key_idx;
ALTER TABLE change DROP COLUMN request_hash, DROP COLUMN idempotency_key;
