-- +goose Up
-- Delegation sets: the nameserver names a zone is delegated to, drawn from
-- the operator's pool. Every hosted zone is on exactly one set. A set made
-- for one zone (reusable = false) lives and dies with it; a reusable set
-- (POST /v1/delegationsets) is the tenant's, shared by the zones created on
-- it, and deleted only when none is left.
--   name_servers  pool names, in the order they are published
--   vanity_names  white-label names for a reusable set, one per pool name
--                 (same order), or NULL
CREATE TABLE delegation_set (
    id               text PRIMARY KEY,   -- N + base32
    tenant_id        text NOT NULL REFERENCES tenant (id) ON DELETE CASCADE,
    reusable         boolean NOT NULL DEFAULT false,
    caller_reference text,               -- reusable sets only
    name_servers     text[] NOT NULL,
    vanity_names     text[],
    created_at       timestamptz NOT NULL DEFAULT now(),
    UNIQUE (tenant_id, caller_reference)
);
CREATE INDEX delegation_set_tenant_idx ON delegation_set (tenant_id) WHERE reusable;

ALTER TABLE hosted_zone ADD COLUMN delegation_set_id text REFERENCES delegation_set (id);

-- Existing zones keep the names they were created with, which are in their
-- apex NS set (every zone got the configured names there); a zone whose NS
-- set was edited away keeps serving on what it now says.
INSERT INTO delegation_set (id, tenant_id, name_servers, created_at)
SELECT 'N' || substr(z.id, 2), z.tenant_id,
       coalesce((SELECT array_agg(lower(e.v) ORDER BY e.ord)
                   FROM rrset r, jsonb_array_elements_text(r.rdata) WITH ORDINALITY AS e(v, ord)
                  WHERE r.zone_id = z.id AND r.name = z.name AND r.type = 'NS' AND r.set_identifier = ''),
                '{}'),
       z.created_at
  FROM hosted_zone z;
UPDATE hosted_zone SET delegation_set_id = 'N' || substr(id, 2);
ALTER TABLE hosted_zone ALTER COLUMN delegation_set_id SET NOT NULL;
CREATE INDEX hosted_zone_delegation_set_idx ON hosted_zone (delegation_set_id);

-- The pool names each nameserver serves (empty: all of them).
ALTER TABLE nameserver ADD COLUMN serves text[] NOT NULL DEFAULT '{}';

-- +goose Down
ALTER TABLE nameserver DROP COLUMN serves;
ALTER TABLE hosted_zone DROP COLUMN delegation_set_id;
DROP TABLE delegation_set;
