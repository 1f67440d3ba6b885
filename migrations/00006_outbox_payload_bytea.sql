-- +goose Up
-- The outbox payload is the encoded zone event that the relay publishes as
-- it is: bytea stores those bytes, where jsonb parsed them on insert and
-- was cast back to text on every read. Rows already written keep their
-- content (jsonb's text form, which is what the relay published).
ALTER TABLE outbox_event ALTER COLUMN payload TYPE bytea USING convert_to(payload::text, 'UTF8');

-- +goose Down
ALTER TABLE outbox_event ALTER COLUMN payload TYPE jsonb USING convert_from(payload, 'UTF8')::jsonb;
