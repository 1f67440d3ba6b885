-- +goose Up
-- The audit log (CloudTrail's role): one row per mutating API call, on
-- /v1 or the Route 53 API. A successful call's row is written in the same
-- transaction as its effect (controlplane/audit.go); a failed call's row
-- afterwards, on its own. seq orders the log and pages it; id is the
-- entry's public id. tenant_id is NULL for operator calls made before a
-- tenant exists (POST /v1/tenants before its insert). No foreign key: the
-- log is history and outlives what it names.
CREATE TABLE audit_log (
    seq        bigserial PRIMARY KEY,
    id         text NOT NULL UNIQUE,
    at         timestamptz NOT NULL,
    tenant_id  text,
    key_id     text NOT NULL DEFAULT '',
    source     text NOT NULL DEFAULT '',
    request_id text NOT NULL DEFAULT '',
    api        text NOT NULL,
    operation  text NOT NULL,
    target     text NOT NULL,
    result     text NOT NULL,
    status     integer
);
CREATE INDEX audit_log_tenant_seq ON audit_log (tenant_id, seq DESC);

-- Alarms (CloudWatch's PutMetricAlarm, controlplane/alarms.go): a metric
-- of the tenant's own resource, compared with a threshold over periods.
-- state is CloudWatch's OK, ALARM or INSUFFICIENT_DATA; the evaluator
-- (controlplane/alarmeval.go, one leader) changes it in the same
-- transaction as the alarm_history row and the notification rows, so a
-- failover can neither lose nor repeat a transition's notifications.
-- Actions hold webhook URLs and secrets (the secrets are never returned).
CREATE TABLE alarm (
    id                  text PRIMARY KEY,
    tenant_id           text NOT NULL REFERENCES tenant (id) ON DELETE CASCADE,
    name                text NOT NULL,
    namespace           text NOT NULL,
    metric_name         text NOT NULL,
    resource_id         text NOT NULL,
    statistic           text NOT NULL,
    period              integer NOT NULL,
    evaluation_periods  integer NOT NULL,
    datapoints_to_alarm integer NOT NULL,
    threshold           double precision NOT NULL,
    comparison          text NOT NULL,
    alarm_actions       jsonb NOT NULL DEFAULT '[]',
    ok_actions          jsonb NOT NULL DEFAULT '[]',
    insufficient_data_actions jsonb NOT NULL DEFAULT '[]',
    state               text NOT NULL DEFAULT 'INSUFFICIENT_DATA',
    state_reason        text NOT NULL DEFAULT '',
    state_changed_at    timestamptz NOT NULL,
    created_at          timestamptz NOT NULL,
    UNIQUE (tenant_id, name)
);
CREATE INDEX alarm_resource_idx ON alarm (namespace, resource_id);

-- Every state transition of an alarm, newest last.
CREATE TABLE alarm_history (
    id         bigserial PRIMARY KEY,
    alarm_id   text NOT NULL REFERENCES alarm (id) ON DELETE CASCADE,
    at         timestamptz NOT NULL,
    old_state  text NOT NULL,
    new_state  text NOT NULL,
    reason     text NOT NULL DEFAULT ''
);
CREATE INDEX alarm_history_alarm_idx ON alarm_history (alarm_id, id);

-- A health check's own notifications: webhooks told of every status
-- change, without an alarm. last_transition_id is the notifier's cursor
-- in health_check_transition, moved in the transaction that queues the
-- notifications.
CREATE TABLE health_check_notify (
    check_id           text PRIMARY KEY REFERENCES health_check (id) ON DELETE CASCADE,
    tenant_id          text NOT NULL REFERENCES tenant (id) ON DELETE CASCADE,
    actions            jsonb NOT NULL DEFAULT '[]',
    last_transition_id bigint NOT NULL DEFAULT 0
);

-- The webhook outbox and its delivery history (controlplane/webhook.go):
-- one row per action of a transition, from an alarm or a health check.
CREATE TABLE notification (
    id              bigserial PRIMARY KEY,
    tenant_id       text NOT NULL,
    source          text NOT NULL,       -- 'alarm' or 'healthcheck'
    source_id       text NOT NULL,
    history_id      bigint,              -- alarm_history.id or health_check_transition.id
    url             text NOT NULL,
    secret          text NOT NULL DEFAULT '',
    body            bytea NOT NULL,
    status          text NOT NULL DEFAULT 'pending', -- pending, delivered, failed
    attempts        integer NOT NULL DEFAULT 0,
    last_error      text NOT NULL DEFAULT '',
    last_status     integer,
    created_at      timestamptz NOT NULL,
    next_attempt_at timestamptz NOT NULL,
    delivered_at    timestamptz
);
CREATE INDEX notification_pending_idx ON notification (next_attempt_at) WHERE status = 'pending';
CREATE INDEX notification_source_idx ON notification (source, source_id, id);

-- +goose Down
DROP TABLE notification;
DROP TABLE health_check_notify;
DROP TABLE alarm_history;
DROP TABLE alarm;
DROP TABLE audit_log;
