-- +goose Up
-- The registrar (registrar/): what tenants register, through which
-- registry, the operations (Route 53 Domains' OperationId and statuses)
-- and the ledger of charges and refunds.

-- A domain a tenant holds. registry_domain (00018) is the registry's
-- record for names of the built-in registry.
CREATE TABLE registrar_domain (
    name            text PRIMARY KEY,
    tenant_id       text NOT NULL REFERENCES tenant (id),
    hosted_zone_id  text,              -- the zone the domain is delegated to, if Waymark hosts it
    auto_renew      boolean NOT NULL DEFAULT true,
    privacy         boolean NOT NULL DEFAULT true,
    contacts        jsonb NOT NULL,    -- registrant, admin, tech, billing (RFC 5733 fields)
    created_at      timestamptz NOT NULL,
    updated_at      timestamptz NOT NULL
);
CREATE INDEX registrar_domain_tenant_idx ON registrar_domain (tenant_id, name);

-- Operations. change_ids are the hosted-zone changes the operation waits
-- for: it is SUCCESSFUL only when all of them are INSYNC.
CREATE TABLE registrar_operation (
    id               text PRIMARY KEY,
    tenant_id        text NOT NULL REFERENCES tenant (id),
    domain           text NOT NULL,
    type             text NOT NULL,
    status           text NOT NULL CHECK (status IN ('SUBMITTED', 'IN_PROGRESS', 'SUCCESSFUL', 'ERROR', 'FAILED')),
    flag             text NOT NULL DEFAULT '',
    message          text NOT NULL DEFAULT '',
    caller_reference text,
    change_ids       text[] NOT NULL DEFAULT '{}',
    submitted_at     timestamptz NOT NULL,
    updated_at       timestamptz NOT NULL,
    UNIQUE (tenant_id, caller_reference)
);
CREATE INDEX registrar_operation_tenant_idx ON registrar_operation (tenant_id, submitted_at DESC, id);
-- One operation in progress per domain: a second one is a DuplicateRequest
-- naming this one.
CREATE UNIQUE INDEX registrar_operation_pending_idx ON registrar_operation (domain)
    WHERE status IN ('SUBMITTED', 'IN_PROGRESS');

-- The ledger: one row per charge or refund; (operation, kind) is unique,
-- so a retried or replayed step never charges twice.
CREATE TABLE registrar_ledger (
    id            bigserial PRIMARY KEY,
    tenant_id     text NOT NULL REFERENCES tenant (id),
    domain        text NOT NULL,
    operation_id  text NOT NULL,
    kind          text NOT NULL,       -- register, renew, autorenew, transfer, restore, refund
    amount        bigint NOT NULL,     -- minor units; refunds are negative
    currency      text NOT NULL,
    created_at    timestamptz NOT NULL,
    UNIQUE (operation_id, kind)
);
CREATE INDEX registrar_ledger_tenant_idx ON registrar_ledger (tenant_id, id);

-- +goose Down
DROP TABLE registrar_ledger;
DROP TABLE registrar_operation;
DROP TABLE registrar_domain;
