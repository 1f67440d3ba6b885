-- +goose Up
-- Zone transfers (docs/transfers.md): TSIG keys, and each zone's transfer
-- configuration.
--
-- A TSIG key's secret is sealed with AES-256-GCM under the master key, the
-- tenant id and key name as associated data (dnssec.Seal); it is shown
-- once, at creation, and never stored in plain text.
CREATE TABLE tsig_key (
    tenant_id     text        NOT NULL REFERENCES tenant (id) ON DELETE CASCADE,
    name          text        NOT NULL,
    algorithm     text        NOT NULL CHECK (algorithm IN ('hmac-sha256', 'hmac-sha512')),
    sealed_secret bytea       NOT NULL,
    created_at    timestamptz NOT NULL,
    PRIMARY KEY (tenant_id, name)
);

-- transfer_config is the tenant's configuration as PUT (allow, notify;
-- keys by name). transfers is what nameservers receive (zonecfg.Transfers:
-- the secrets of the keys it uses wrapped under the fleet key); the
-- snapshot copies it as it is. NULL: no transfers.
ALTER TABLE hosted_zone
    ADD COLUMN transfer_config jsonb,
    ADD COLUMN transfers jsonb;

-- Which keys a zone's configuration uses: a key in use cannot be deleted.
CREATE TABLE zone_tsig_key (
    zone_id   text NOT NULL REFERENCES hosted_zone (id) ON DELETE CASCADE,
    tenant_id text NOT NULL,
    key_name  text NOT NULL,
    PRIMARY KEY (zone_id, key_name),
    FOREIGN KEY (tenant_id, key_name) REFERENCES tsig_key (tenant_id, name) ON DELETE RESTRICT
);

-- +goose Down
DROP TABLE zone_tsig_key;
ALTER TABLE hosted_zone DROP COLUMN transfers, DROP COLUMN transfer_config;
DROP TABLE tsig_key;
