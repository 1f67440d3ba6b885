-- +goose Up
-- How many record sets each nameserver holds but cannot serve (it answers
-- SERVFAIL for their names), from its heartbeats: non-zero means the
-- planes disagree on what is valid, which GET /v1/nameservers shows.
ALTER TABLE nameserver ADD COLUMN unservable integer NOT NULL DEFAULT 0;

-- +goose Down
ALTER TABLE nameserver DROP COLUMN unservable;
