-- +goose Up
-- Per-minute rollups of the queries each zone got, by nameserver region and
-- rcode (Route 53's DNSQueries per hosted zone), summed over the region's
-- nameservers: a nameserver's report adds to the row of its minute. Rows
-- older than the retention are pruned by PruneMetrics (by minute, hence
-- the index).
CREATE TABLE zone_query_minute (
    zone_id text NOT NULL REFERENCES hosted_zone (id) ON DELETE CASCADE,
    minute  timestamptz NOT NULL,
    region  text NOT NULL,
    rcode   text NOT NULL,
    queries bigint NOT NULL,
    PRIMARY KEY (zone_id, minute, region, rcode)
);
CREATE INDEX zone_query_minute_minute_idx ON zone_query_minute (minute);

-- +goose Down
DROP TABLE zone_query_minute;
