-- +goose Up
-- Domains registered at an external registry (registry_external) through
-- the registrar's EPP client (registrar/external_worker.go). The tenant's
-- row is written with the operation and the charge, in the request's
-- transaction; what the registry answered (ROID, statuses, expiry,
-- nameservers, DS) is recorded by the worker. registry is NULL for the
-- built-in registry's domains, which keep all of this in registry_domain.
ALTER TABLE registrar_domain
    ADD COLUMN registry        text,           -- the external TLD (registry_external.tld)
    ADD COLUMN ext_state       text CHECK (ext_state IN ('creating', 'registered')),
    ADD COLUMN ext_roid        text NOT NULL DEFAULT '',
    ADD COLUMN ext_statuses    text[] NOT NULL DEFAULT '{}',
    ADD COLUMN ext_nameservers jsonb NOT NULL DEFAULT '[]',  -- [{name, glue_ips}]
    ADD COLUMN ext_ds          jsonb NOT NULL DEFAULT '[]',  -- [registry.DS]
    ADD COLUMN ext_created_at  timestamptz,
    ADD COLUMN ext_expires_at  timestamptz;

-- The EPP work of an operation on an external domain, done outside the
-- request's transaction by one leader. state: queued (to send), sent (the
-- command may have reached the registry: the next attempt asks with info
-- before sending again), pending (answered 1001; cl_trid/sv_trid are the
-- command's, settled by the registry's poll message), done.
CREATE TABLE registrar_epp_job (
    operation_id text PRIMARY KEY REFERENCES registrar_operation (id),
    tld          text NOT NULL,
    domain       text NOT NULL,
    command      text NOT NULL CHECK (command IN ('create', 'renew', 'update', 'delete', 'restore')),
    request      jsonb NOT NULL,
    state        text NOT NULL CHECK (state IN ('queued', 'sent', 'pending', 'done')),
    cl_trid      text NOT NULL DEFAULT '',
    sv_trid      text NOT NULL DEFAULT '',
    attempts     integer NOT NULL DEFAULT 0,
    next_at      timestamptz NOT NULL,
    last_error   text NOT NULL DEFAULT '',
    created_at   timestamptz NOT NULL,
    updated_at   timestamptz NOT NULL
);
CREATE INDEX registrar_epp_job_due_idx ON registrar_epp_job (next_at) WHERE state IN ('queued', 'sent');
CREATE INDEX registrar_epp_job_pending_idx ON registrar_epp_job (tld, domain) WHERE state = 'pending';

-- +goose Down
DROP TABLE registrar_epp_job;
ALTER TABLE registrar_domain DROP COLUMN registry, DROP COLUMN ext_state, DROP COLUMN ext_roid, DROP COLUMN ext_statuses,
    DROP COLUMN ext_nameservers, DROP COLUMN ext_ds, DROP COLUMN ext_created_at, DROP COLUMN ext_expires_at;
