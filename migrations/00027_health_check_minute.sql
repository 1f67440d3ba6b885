-- +goose Up
-- Per-minute rollups of a health check's probes, by checker region: how
-- many observations the aggregator applied, in how many of them the
-- region's view (after the failure threshold) was healthy, and the sums
-- and counts of the probes' connect times and times to first byte in
-- milliseconds. Averages and percentages are read as sum / count, so an
-- observation counted twice (a flush retried after a lost commit, two
-- aggregators during a failover) leaves them unchanged. Pruned with the
-- zone rollups by PruneMetrics (by minute, hence the index).
CREATE TABLE health_check_minute (
    check_id        text NOT NULL REFERENCES health_check (id) ON DELETE CASCADE,
    minute          timestamptz NOT NULL,
    region          text NOT NULL,
    samples         bigint NOT NULL,
    healthy_samples bigint NOT NULL,
    connect_ms_sum  double precision NOT NULL DEFAULT 0,
    connect_count   bigint NOT NULL DEFAULT 0,
    ttfb_ms_sum     double precision NOT NULL DEFAULT 0,
    ttfb_count      bigint NOT NULL DEFAULT 0,
    PRIMARY KEY (check_id, minute, region)
);
CREATE INDEX health_check_minute_minute_idx ON health_check_minute (minute);

-- +goose Down
DROP TABLE health_check_minute;
