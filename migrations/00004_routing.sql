-- +goose Up
-- Routing policies and alias records (docs/routing.md). The routing fields
-- live in rrset.routing / alias_target / health_check_id (00001); these
-- indexes serve the reverse look-ups: which aliases point at a record set
-- (refusing dangling aliases), which record sets use a CIDR collection.
CREATE INDEX rrset_alias_target_idx ON rrset ((alias_target->>'hosted_zone_id'), (alias_target->>'dns_name'), type)
    WHERE alias_target IS NOT NULL;
CREATE INDEX rrset_cidr_collection_idx ON rrset ((routing->'cidr_routing'->>'collection_id'))
    WHERE routing ? 'cidr_routing';

-- CIDR collections (Route 53's CreateCidrCollection): named locations, each
-- a set of CIDR blocks. version counts changes; ChangeCidrCollection
-- compares it (optimistic concurrency).
CREATE TABLE cidr_collection (
    id               text PRIMARY KEY,   -- lowercase UUID v4, as Route 53's
    tenant_id        text NOT NULL REFERENCES tenant (id) ON DELETE CASCADE,
    name             text NOT NULL,
    caller_reference text NOT NULL,
    version          bigint NOT NULL DEFAULT 1,
    created_at       timestamptz NOT NULL DEFAULT now(),
    UNIQUE (tenant_id, name),
    UNIQUE (tenant_id, caller_reference)
);

-- A location exists while it has at least one block.
CREATE TABLE cidr_block (
    collection_id text NOT NULL REFERENCES cidr_collection (id) ON DELETE CASCADE,
    location_name text COLLATE "C" NOT NULL,
    cidr          cidr NOT NULL,
    PRIMARY KEY (collection_id, location_name, cidr)
);

-- +goose Down
DROP TABLE cidr_block;
DROP TABLE cidr_collection;
DROP INDEX rrset_cidr_collection_idx;
DROP INDEX rrset_alias_target_idx;
