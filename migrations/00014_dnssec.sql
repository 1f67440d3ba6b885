-- +goose Up
-- DNSSEC (docs/dnssec.md). A zone's signing state, and its keys.
--
-- dnssec_status is Route 53's ServeSignature. dnssec is the signing
-- material as nameservers receive it (zonecfg.DNSSEC: public keys, the
-- control plane's signatures over the DNSKEY set, ZSKs wrapped under the
-- fleet key); the snapshot copies it as it is. NULL: not signed.
ALTER TABLE hosted_zone
    ADD COLUMN dnssec_status text NOT NULL DEFAULT 'NOT_SIGNING'
        CHECK (dnssec_status IN ('SIGNING', 'NOT_SIGNING', 'DELETING', 'ACTION_NEEDED', 'INTERNAL_FAILURE')),
    ADD COLUMN dnssec jsonb;

-- One row per key. Private keys are sealed with AES-256-GCM under the
-- master key, the zone id and key name as associated data: no private key
-- is ever stored in plain text. KSK statuses are Route 53's (ACTIVE,
-- INACTIVE); a ZSK is PUBLISHED (in the DNSKEY set, not signing yet),
-- ACTIVE (signing) or RETIRED (published until signatures made with it
-- have expired from caches). status_since drives the rollovers.
CREATE TABLE dnssec_key (
    zone_id          text        NOT NULL REFERENCES hosted_zone (id) ON DELETE CASCADE,
    name             text        NOT NULL,
    kind             text        NOT NULL CHECK (kind IN ('KSK', 'ZSK')),
    status           text        NOT NULL CHECK (status IN ('ACTIVE', 'INACTIVE', 'PUBLISHED', 'RETIRED')),
    algorithm        smallint    NOT NULL,
    key_tag          integer     NOT NULL,
    public_key       text        NOT NULL,
    sealed_private   bytea       NOT NULL,
    caller_reference text        NOT NULL DEFAULT '',
    created_at       timestamptz NOT NULL,
    updated_at       timestamptz NOT NULL,
    status_since     timestamptz NOT NULL,
    PRIMARY KEY (zone_id, name)
);

-- +goose Down
DROP TABLE dnssec_key;
ALTER TABLE hosted_zone DROP COLUMN dnssec, DROP COLUMN dnssec_status;
