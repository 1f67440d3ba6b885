-- +goose Up
-- TLDs run by other registries, which the registrar sells through its EPP
-- client (registrar/external.go): the registry's EPP address, the
-- registrar's login there, the CA its server certificate is checked
-- against, and the prices tenants pay. The password and the client
-- certificate's private key are sealed with the master key (AES-256-GCM,
-- bound to the TLD: a sealed blob copied to another row does not open)
-- and never returned by the API. A TLD is either the built-in registry's
-- (registry_tld) or an external registry's, never both.
CREATE TABLE registry_external (
    tld             text PRIMARY KEY,
    epp_address     text NOT NULL,
    client_id       text NOT NULL,
    client_cert_pem text NOT NULL,
    ca_pem          text NOT NULL DEFAULT '',
    sealed          bytea NOT NULL,
    currency        text NOT NULL,
    registration    bigint NOT NULL,
    renewal         bigint NOT NULL,
    transfer        bigint NOT NULL,
    restoration     bigint NOT NULL,
    created_at      timestamptz NOT NULL,
    updated_at      timestamptz NOT NULL
);

-- +goose Down
DROP TABLE registry_external;
