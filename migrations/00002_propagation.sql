-- +goose Up
-- Fleet tracking written by every API process's tracker. live_until is the
-- receive time of the last heartbeat plus the tracker's liveness timeout, so
-- that readers decide liveness without knowing the timeout. sent_at is the
-- nameserver's own send time: a tracker that lags behind never overwrites a
-- newer report with an older one.
ALTER TABLE nameserver
    ADD COLUMN live_until timestamptz NOT NULL DEFAULT now(),
    ADD COLUMN sent_at    timestamptz;

-- The relay prunes published outbox rows after a retention period.
CREATE INDEX outbox_event_published_idx ON outbox_event (published_at) WHERE published_at IS NOT NULL;

-- +goose Down
DROP INDEX outbox_event_published_idx;
ALTER TABLE nameserver DROP COLUMN sent_at, DROP COLUMN live_until;
