-- +goose Up
-- Tenants and their API keys. Secrets are stored encrypted (AES-GCM with the
-- operator's master key), never in plain text and never only hashed, so that
-- AWS SigV4 signatures can be verified with them later.
CREATE TABLE tenant (
    id           text PRIMARY KEY,
    name         text NOT NULL,
    zone_quota   integer,            -- NULL: the service default
    record_quota integer,            -- NULL: the service default
    created_at   timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX tenant_name_key ON tenant (lower(name));

CREATE TABLE api_key (
    id           text PRIMARY KEY,   -- public key id, e.g. AKW...
    tenant_id    text NOT NULL REFERENCES tenant (id) ON DELETE CASCADE,
    secret_nonce bytea NOT NULL,
    secret_enc   bytea NOT NULL,
    description  text NOT NULL DEFAULT '',
    created_at   timestamptz NOT NULL DEFAULT now(),
    last_used_at timestamptz
);
CREATE INDEX api_key_tenant_idx ON api_key (tenant_id);

-- Hosted zones. version is bumped by every committed change batch; it is the
-- zone's SOA serial on the nameservers.
CREATE TABLE hosted_zone (
    id               text PRIMARY KEY,  -- Z + base32
    tenant_id        text NOT NULL REFERENCES tenant (id) ON DELETE CASCADE,
    name             text NOT NULL,     -- canonical: lowercase, trailing dot
    caller_reference text NOT NULL,
    comment          text NOT NULL DEFAULT '',
    version          bigint NOT NULL DEFAULT 1,
    rrset_count      integer NOT NULL DEFAULT 0,
    created_at       timestamptz NOT NULL DEFAULT now(),
    UNIQUE (tenant_id, caller_reference)
);
CREATE INDEX hosted_zone_tenant_name_idx ON hosted_zone (tenant_id, name, id);
CREATE INDEX hosted_zone_name_idx ON hosted_zone (name);

-- Record sets. sort_name is zonecfg.SortKey(name): Route 53's listing order.
-- Routing fields and alias targets live in routing/alias (jsonb) so that the
-- routing-policy work adds validation, not columns.
CREATE TABLE rrset (
    zone_id         text NOT NULL REFERENCES hosted_zone (id) ON DELETE CASCADE,
    sort_name       text COLLATE "C" NOT NULL,
    name            text NOT NULL,
    type            text COLLATE "C" NOT NULL,
    set_identifier  text COLLATE "C" NOT NULL DEFAULT '',
    ttl             bigint NOT NULL,
    records         jsonb NOT NULL,        -- values as submitted
    rdata           jsonb NOT NULL,        -- canonical values, same order
    routing         jsonb,
    alias_target    jsonb,
    health_check_id text,
    updated_version bigint NOT NULL,
    PRIMARY KEY (zone_id, sort_name, type, set_identifier)
);

-- Changes: one row per accepted change batch (and per zone creation).
CREATE TABLE change (
    id           text PRIMARY KEY,      -- C + base32
    tenant_id    text NOT NULL REFERENCES tenant (id) ON DELETE CASCADE,
    zone_id      text NOT NULL,         -- not a foreign key: a deleted zone's change stays readable
    zone_version bigint NOT NULL,
    status       text NOT NULL DEFAULT 'PENDING' CHECK (status IN ('PENDING', 'INSYNC')),
    comment      text NOT NULL DEFAULT '',
    submitted_at timestamptz NOT NULL DEFAULT now(),
    insync_at    timestamptz,
    stream_seq   bigint                 -- JetStream sequence, set by the relay
);
CREATE INDEX change_pending_idx ON change (stream_seq) WHERE status = 'PENDING';
CREATE INDEX change_zone_idx ON change (zone_id);

-- The transactional outbox: zone events written in the same transaction as
-- the records, published in id order by the relay.
CREATE TABLE outbox_event (
    id           bigserial PRIMARY KEY,
    zone_id      text NOT NULL,
    zone_version bigint NOT NULL,
    change_id    text,
    payload      jsonb NOT NULL,
    created_at   timestamptz NOT NULL DEFAULT now(),
    published_at timestamptz,
    stream_seq   bigint
);
CREATE INDEX outbox_event_unpublished_idx ON outbox_event (id) WHERE published_at IS NULL;

-- The nameserver fleet, as seen through heartbeats.
CREATE TABLE nameserver (
    node_id        text PRIMARY KEY,
    region         text NOT NULL,
    applied_seq    bigint NOT NULL DEFAULT 0,
    ready          boolean NOT NULL DEFAULT false,
    zones          integer NOT NULL DEFAULT 0,
    first_seen_at  timestamptz NOT NULL DEFAULT now(),
    last_heartbeat timestamptz NOT NULL DEFAULT now()
);

-- +goose Down
DROP TABLE nameserver;
DROP TABLE outbox_event;
DROP TABLE change;
DROP TABLE rrset;
DROP TABLE hosted_zone;
DROP TABLE api_key;
DROP TABLE tenant;
