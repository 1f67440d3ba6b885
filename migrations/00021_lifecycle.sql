-- +goose Up
-- The domain lifecycle (registrar/lifecycle.go, registrar/transfer.go):
-- idempotent ledger entries per period, the years a grace period would
-- give back, transfers between tenants and in from other registrars,
-- registrant verification and the mail outbox.

-- A charge the lifecycle makes is keyed by domain, kind and period (the
-- expiry it renews from), so that a replayed batch never charges twice.
ALTER TABLE registrar_ledger ADD COLUMN period text;
CREATE UNIQUE INDEX registrar_ledger_period_idx ON registrar_ledger (domain, kind, period) WHERE period IS NOT NULL;

-- The years the command that opened the current grace period added
-- (renew, auto-renew, transfer): a delete inside it takes them back.
ALTER TABLE registry_domain ADD COLUMN rgp_years integer NOT NULL DEFAULT 0;
CREATE INDEX registry_transfer_due_idx ON registry_transfer (act_by) WHERE status = 'pending';

-- An operation that waits for something other than its zone changes (a
-- transfer's approval or acceptance): settling by INSYNC skips it.
ALTER TABLE registrar_operation ADD COLUMN held boolean NOT NULL DEFAULT false;

-- The registrant of the domain has not verified their email in time: the
-- registrar put the domain on clientHold.
ALTER TABLE registrar_domain ADD COLUMN unverified_hold boolean NOT NULL DEFAULT false;

-- Transfers the registrar tracks: 'in' from another registrar of the
-- registry (with the auth code; the registry's registry_transfer holds
-- its state), 'tenant' from one tenant to another (the registry is not
-- involved; the receiving tenant accepts with the password).
CREATE TABLE registrar_transfer (
    operation_id   text PRIMARY KEY,   -- the receiving side's operation ('in') or the giving side's ('tenant')
    domain         text NOT NULL,
    kind           text NOT NULL CHECK (kind IN ('in', 'tenant')),
    from_tenant    text REFERENCES tenant (id),
    to_tenant      text NOT NULL REFERENCES tenant (id),
    password_hash  bytea,
    request        jsonb NOT NULL DEFAULT '{}',  -- contacts, auto_renew, privacy of the new registration
    status         text NOT NULL CHECK (status IN ('pending', 'approved', 'rejected', 'cancelled', 'expired')),
    requested_at   timestamptz NOT NULL,
    expires_at     timestamptz NOT NULL,  -- 'tenant': cancelled unless accepted by then
    settled_at     timestamptz
);
CREATE UNIQUE INDEX registrar_transfer_pending_idx ON registrar_transfer (domain) WHERE status = 'pending';
CREATE INDEX registrar_transfer_due_idx ON registrar_transfer (expires_at) WHERE status = 'pending';

-- Registrant email verification (ICANN RAA: within 15 days, or the
-- domains go on clientHold). One row per tenant and address; the token's
-- SHA-256 is stored, the token travels only in the mail.
CREATE TABLE registrar_verification (
    tenant_id    text NOT NULL REFERENCES tenant (id),
    email        text NOT NULL,        -- lower case
    token_hash   bytea NOT NULL UNIQUE,
    started_at   timestamptz NOT NULL,
    due_at       timestamptz NOT NULL,
    verified_at  timestamptz,
    PRIMARY KEY (tenant_id, email)
);
CREATE INDEX registrar_verification_due_idx ON registrar_verification (due_at) WHERE verified_at IS NULL;

-- The mail outbox: a mail is written in the transaction that decides it
-- (exactly once, by dedupe) and sent afterwards (at least once).
CREATE TABLE registrar_mail (
    id          bigserial PRIMARY KEY,
    tenant_id   text NOT NULL,
    domain      text NOT NULL DEFAULT '',
    kind        text NOT NULL,
    dedupe      text NOT NULL UNIQUE,
    recipient   text NOT NULL,
    subject     text NOT NULL,
    body        text NOT NULL,
    created_at  timestamptz NOT NULL,
    sent_at     timestamptz,
    attempts    integer NOT NULL DEFAULT 0
);
CREATE INDEX registrar_mail_unsent_idx ON registrar_mail (id) WHERE sent_at IS NULL;

-- +goose Down
DROP TABLE registrar_mail;
DROP TABLE registrar_verification;
DROP TABLE registrar_transfer;
ALTER TABLE registrar_domain DROP COLUMN unverified_hold;
ALTER TABLE registrar_operation DROP COLUMN held;
DROP INDEX registry_transfer_due_idx;
ALTER TABLE registry_domain DROP COLUMN rgp_years;
DROP INDEX registrar_ledger_period_idx;
ALTER TABLE registrar_ledger DROP COLUMN period;
