-- +goose Up
-- What the nameservers know of a secondary zone (zonecfg.Secondary's JSON:
-- the primaries NOTIFY is accepted from, their TSIG keys wrapped under the
-- fleet key, and whether the zone is past its SOA expire). Written by the
-- refresh leader (controlplane/secondary_refresh.go) with the event that
-- carries it, and put in snapshots; NULL until the leader first sees the
-- zone, and for ordinary zones.
ALTER TABLE hosted_zone ADD COLUMN secondary_state jsonb,
    -- Set by POST /v1/hostedzones/{id}/secondary/refresh; the leader
    -- clears it when it takes the request.
    ADD COLUMN secondary_refresh_requested timestamptz;
-- The leader lists the secondary zones every few seconds.
CREATE INDEX hosted_zone_secondary ON hosted_zone (id) WHERE secondary IS NOT NULL;

-- +goose Down
DROP INDEX hosted_zone_secondary;
ALTER TABLE hosted_zone DROP COLUMN secondary_refresh_requested, DROP COLUMN secondary_state;
