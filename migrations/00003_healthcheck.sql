-- +goose Up
-- Health checks. config is the check's configuration as JSON (the fields of
-- event.HealthCheck other than id and version). A deleted check keeps its
-- row (deleted_at set) so that its caller reference is never reused, as in
-- Route 53. revision is taken from health_check_revision on every write:
-- the aggregator follows configuration changes with "revision > last seen".
CREATE SEQUENCE health_check_revision;

CREATE TABLE health_check (
    id                text PRIMARY KEY,   -- lowercase UUID v4
    tenant_id         text NOT NULL REFERENCES tenant (id) ON DELETE CASCADE,
    caller_reference  text NOT NULL,
    type              text NOT NULL,
    config            jsonb NOT NULL,
    version           bigint NOT NULL DEFAULT 1,
    revision          bigint NOT NULL DEFAULT nextval('health_check_revision'),
    healthy           boolean NOT NULL,   -- the current aggregate status
    status_changed_at timestamptz NOT NULL DEFAULT now(),
    created_at        timestamptz NOT NULL DEFAULT now(),
    deleted_at        timestamptz,
    UNIQUE (tenant_id, caller_reference)
);
CREATE INDEX health_check_tenant_idx ON health_check (tenant_id, created_at, id) WHERE deleted_at IS NULL;
CREATE INDEX health_check_revision_idx ON health_check (revision);
CREATE INDEX rrset_health_check_idx ON rrset (health_check_id) WHERE health_check_id IS NOT NULL;

-- Each region's view of a check ("checker" in Route 53's terms): the
-- status after the failure threshold, the streak of results that disagree
-- with it, the last observation and the last failure.
CREATE TABLE health_check_checker (
    check_id            text NOT NULL REFERENCES health_check (id) ON DELETE CASCADE,
    region              text NOT NULL,
    healthy             boolean NOT NULL,
    streak              integer NOT NULL DEFAULT 0,
    last_ok             boolean NOT NULL,
    node_id             text NOT NULL DEFAULT '',
    checked_at          timestamptz NOT NULL,
    reason              text NOT NULL DEFAULT '',
    last_failure_at     timestamptz,
    last_failure_reason text NOT NULL DEFAULT '',
    PRIMARY KEY (check_id, region)
);

-- Transitions of the aggregate status, newest last.
CREATE TABLE health_check_transition (
    id       bigserial PRIMARY KEY,
    check_id text NOT NULL REFERENCES health_check (id) ON DELETE CASCADE,
    healthy  boolean NOT NULL,
    at       timestamptz NOT NULL,
    reason   text NOT NULL DEFAULT ''
);
CREATE INDEX health_check_transition_check_idx ON health_check_transition (check_id, id);

-- +goose Down
DROP TABLE health_check_transition;
DROP TABLE health_check_checker;
DROP INDEX rrset_health_check_idx;
DROP TABLE health_check;
DROP SEQUENCE health_check_revision;
