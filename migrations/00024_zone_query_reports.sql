-- +goose Up
-- The nameservers' query reports already added to zone_query_minute, by
-- (node, interval start, part): ingest records a report here in the same
-- transaction as its counts, so a redelivered report is recognised and
-- not counted twice (IngestZoneQueryReport). Rows are kept for
-- ZoneQueryReportKeyRetention, longer than the report stream keeps a
-- report; older reports are refused.
CREATE TABLE zone_query_report (
    node_id        text NOT NULL,
    interval_start timestamptz NOT NULL,
    part           integer NOT NULL,
    received_at    timestamptz NOT NULL,
    PRIMARY KEY (node_id, interval_start, part)
);
CREATE INDEX zone_query_report_start_idx ON zone_query_report (interval_start);

-- +goose Down
DROP TABLE zone_query_report;
