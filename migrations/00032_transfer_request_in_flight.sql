-- +goose Up
-- A transfer in at an external registry is recorded before its EPP
-- request is sent, so until the request is answered the registry knows
-- nothing of it. requesting_until marks that window (the schedule's
-- clock, until the request's answer is recorded or, when the requesting
-- process died, until it passes): the worker does not ask the registry
-- about such a transfer, which would find nothing pending and fail it.
ALTER TABLE registrar_transfer ADD COLUMN requesting_until timestamptz;

-- +goose Down
ALTER TABLE registrar_transfer DROP COLUMN requesting_until;
