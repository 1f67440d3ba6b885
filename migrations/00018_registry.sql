-- +goose Up
-- The built-in registry (registrar/registry): the TLDs an operator runs,
-- and per TLD the objects of EPP (RFC 5731-5733): domains, hosts,
-- contacts, DS records (RFC 5910) and each registrar's poll queue. The
-- registry's view only: which tenant a domain serves is the registrar's
-- business (00019).

-- A TLD and its policy. Durations are seconds; prices are integer minor
-- units of currency. zone_id is the TLD's system zone (a hosted zone of
-- the registry's tenant, on its own delegation set).
CREATE TABLE registry_tld (
    tld               text PRIMARY KEY,   -- canonical, trailing dot: "test."
    zone_id           text NOT NULL REFERENCES hosted_zone (id),
    currency          text NOT NULL DEFAULT 'USD',
    price_register    bigint NOT NULL,
    price_renew       bigint NOT NULL,
    price_transfer    bigint NOT NULL,
    price_restore     bigint NOT NULL,
    add_grace         bigint NOT NULL DEFAULT 432000,    -- 5 d
    renew_grace       bigint NOT NULL DEFAULT 432000,    -- 5 d
    autorenew_grace   bigint NOT NULL DEFAULT 3888000,   -- 45 d
    transfer_grace    bigint NOT NULL DEFAULT 432000,    -- 5 d
    redemption        bigint NOT NULL DEFAULT 2592000,   -- 30 d
    pending_delete    bigint NOT NULL DEFAULT 432000,    -- 5 d
    transfer_lock     bigint NOT NULL DEFAULT 5184000,   -- 60 d after create/transfer
    transfer_wait     bigint NOT NULL DEFAULT 432000,    -- auto-approve after 5 d
    negative_ttl      bigint NOT NULL DEFAULT 60,        -- the TLD zone's SOA minimum
    delegation_ttl    bigint NOT NULL DEFAULT 3600,      -- NS, glue, DS in the TLD zone
    created_at        timestamptz NOT NULL
);

-- Reserved names cannot be registered; premium names cost price_register
-- instead of the TLD's price (and renew at it).
CREATE TABLE registry_name_rule (
    tld    text NOT NULL REFERENCES registry_tld (tld) ON DELETE CASCADE,
    label  text NOT NULL,               -- the label below the TLD
    kind   text NOT NULL CHECK (kind IN ('reserved', 'premium')),
    price  bigint,                      -- premium only
    PRIMARY KEY (tld, label)
);

-- Registrars (EPP clients). The built-in registrar is one of them.
CREATE TABLE registry_registrar (
    id            text PRIMARY KEY,     -- EPP clID
    name          text NOT NULL,
    password_hash bytea,                -- EPP login (NULL: no EPP login)
    created_at    timestamptz NOT NULL
);

CREATE TABLE registry_contact (
    id            text PRIMARY KEY,     -- EPP contact id, unique in the registry
    roid          text NOT NULL UNIQUE,
    registrar_id  text NOT NULL REFERENCES registry_registrar (id),
    info          jsonb NOT NULL,       -- RFC 5733 postalInfo, voice, fax, email
    auth_info     text NOT NULL DEFAULT '',
    created_at    timestamptz NOT NULL,
    updated_at    timestamptz NOT NULL
);

-- A domain name while it exists in the registry (through redemption and
-- pending delete); the row is deleted on release, so the name is free.
--   statuses   EPP statuses (RFC 5731 s2.3), e.g. clientHold, serverHold
--   rgp        RGP state (RFC 3915): addPeriod, renewPeriod,
--              autoRenewPeriod, transferPeriod, redemptionPeriod,
--              pendingDelete, or '' outside a grace period
--   rgp_until  end of that period
CREATE TABLE registry_domain (
    name           text PRIMARY KEY,
    tld            text NOT NULL REFERENCES registry_tld (tld),
    roid           text NOT NULL UNIQUE,
    registrar_id   text NOT NULL REFERENCES registry_registrar (id),
    registrant     text REFERENCES registry_contact (id),
    admin          text REFERENCES registry_contact (id),
    tech           text REFERENCES registry_contact (id),
    billing        text REFERENCES registry_contact (id),
    nameservers    text[] NOT NULL DEFAULT '{}',   -- host names, in order
    auth_info      text NOT NULL,
    statuses       text[] NOT NULL DEFAULT '{}',
    rgp            text NOT NULL DEFAULT '',
    rgp_until      timestamptz,
    created_at     timestamptz NOT NULL,
    updated_at     timestamptz NOT NULL,
    expires_at     timestamptz NOT NULL,
    transfer_locked_until timestamptz,
    published      jsonb NOT NULL DEFAULT '[]',      -- what the TLD zone holds for it (registry.go replace)
    deleted_at     timestamptz                     -- entered redemption
);
CREATE INDEX registry_domain_expires_idx ON registry_domain (expires_at);
CREATE INDEX registry_domain_rgp_idx ON registry_domain (rgp_until) WHERE rgp_until IS NOT NULL;

-- Hosts (RFC 5732). A host inside a domain of the registry (subordinate)
-- carries glue addresses; an external host has none.
CREATE TABLE registry_host (
    name          text PRIMARY KEY,
    roid          text NOT NULL UNIQUE,
    registrar_id  text NOT NULL REFERENCES registry_registrar (id),
    domain        text REFERENCES registry_domain (name) ON DELETE CASCADE, -- superordinate
    addrs         text[] NOT NULL DEFAULT '{}',
    created_at    timestamptz NOT NULL,
    updated_at    timestamptz NOT NULL
);

-- DS records (RFC 5910 dsData).
CREATE TABLE registry_ds (
    domain       text NOT NULL REFERENCES registry_domain (name) ON DELETE CASCADE,
    key_tag      integer NOT NULL,
    algorithm    smallint NOT NULL,
    digest_type  smallint NOT NULL,
    digest       text NOT NULL,         -- upper-case hex
    PRIMARY KEY (domain, key_tag, algorithm, digest_type, digest)
);

-- A registrar's poll queue (RFC 5730 s2.9.2.3).
CREATE TABLE registry_poll (
    id            bigserial PRIMARY KEY,
    registrar_id  text NOT NULL REFERENCES registry_registrar (id),
    domain        text NOT NULL,
    kind          text NOT NULL,        -- e.g. transferRequested, autoRenewed, deleted
    message       text NOT NULL,
    created_at    timestamptz NOT NULL,
    acked_at      timestamptz
);
CREATE INDEX registry_poll_queue_idx ON registry_poll (registrar_id, id) WHERE acked_at IS NULL;

-- A pending or settled transfer (RFC 5731 s3.2.4).
CREATE TABLE registry_transfer (
    domain         text NOT NULL REFERENCES registry_domain (name) ON DELETE CASCADE,
    gaining        text NOT NULL REFERENCES registry_registrar (id),
    losing         text NOT NULL REFERENCES registry_registrar (id),
    status         text NOT NULL CHECK (status IN ('pending', 'clientApproved', 'clientRejected',
                                                     'clientCancelled', 'serverApproved', 'serverCancelled')),
    requested_at   timestamptz NOT NULL,
    act_by         timestamptz NOT NULL,
    settled_at     timestamptz,
    years          integer NOT NULL DEFAULT 1
);
CREATE UNIQUE INDEX registry_transfer_pending_idx ON registry_transfer (domain) WHERE status = 'pending';

-- +goose Down
DROP TABLE registry_transfer;
DROP TABLE registry_poll;
DROP TABLE registry_ds;
DROP TABLE registry_host;
DROP TABLE registry_domain;
DROP TABLE registry_contact;
DROP TABLE registry_registrar;
DROP TABLE registry_name_rule;
DROP TABLE registry_tld;
