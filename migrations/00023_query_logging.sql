-- +goose Up
-- Query logging configurations (docs/observability.md): at most one per
-- hosted zone, as in Route 53. hosted_zone.query_logging is what
-- nameservers receive (zonecfg.QueryLogging's JSON; NULL: logging off);
-- the snapshot copies it as it is.
CREATE TABLE IF NOT EXISTS query_logging_config (
    id         text        PRIMARY KEY,
    tenant_id  text        NOT NULL REFERENCES tenant (id) ON DELETE CASCADE,
    zone_id    text        NOT NULL UNIQUE REFERENCES hosted_zone (id) ON DELETE CASCADE,
    created_at timestamptz NOT NULL
);

ALTER TABLE hosted_zone ADD COLUMN IF NOT EXISTS query_logging jsonb;

-- +goose Down
ALTER TABLE hosted_zone DROP COLUMN query_logging;
DROP TABLE query_logging_config;
