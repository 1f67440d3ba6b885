package client

import (
	"context"
	"time"
)

// DNSSEC operations (docs/dnssec.md).
var (
	opCreateKeySigningKey     = operation{"createKeySigningKey", "POST", "/v1/hostedzones/{id}/keysigningkeys"}
	opDeleteKeySigningKey     = operation{"deleteKeySigningKey", "DELETE", "/v1/hostedzones/{id}/keysigningkeys/{name}"}
	opActivateKeySigningKey   = operation{"activateKeySigningKey", "POST", "/v1/hostedzones/{id}/keysigningkeys/{name}/activate"}
	opDeactivateKeySigningKey = operation{"deactivateKeySigningKey", "POST", "/v1/hostedzones/{id}/keysigningkeys/{name}/deactivate"}
	opGetDNSSEC               = operation{"getDNSSEC", "GET", "/v1/hostedzones/{id}/dnssec"}
	opEnableDNSSEC            = operation{"enableDNSSEC", "POST", "/v1/hostedzones/{id}/dnssec/enable"}
	opDisableDNSSEC           = operation{"disableDNSSEC", "POST", "/v1/hostedzones/{id}/dnssec/disable"}
	opRollZSK                 = operation{"rollZSK", "POST", "/v1/hostedzones/{id}/dnssec/zsk-rollover"}
)

func dnssecOperations() []operation {
	return []operation{opCreateKeySigningKey, opDeleteKeySigningKey, opActivateKeySigningKey, opDeactivateKeySigningKey,
		opGetDNSSEC, opEnableDNSSEC, opDisableDNSSEC, opRollZSK}
}

// CreateKeySigningKeyInput is the body of CreateKeySigningKey.
type CreateKeySigningKeyInput struct {
	Name            string `json:"name"`
	Status          string `json:"status"` // ACTIVE or INACTIVE
	CallerReference string `json:"caller_reference,omitempty"`
}

// KeySigningKey is a zone's KSK: what to give the registrar is DSRecord.
type KeySigningKey struct {
	Name                     string    `json:"name"`
	KeyTag                   int       `json:"key_tag"`
	Flag                     int       `json:"flag"`
	SigningAlgorithmMnemonic string    `json:"signing_algorithm_mnemonic"`
	SigningAlgorithmType     int       `json:"signing_algorithm_type"`
	DigestAlgorithmMnemonic  string    `json:"digest_algorithm_mnemonic"`
	DigestAlgorithmType      int       `json:"digest_algorithm_type"`
	DigestValue              string    `json:"digest_value"`
	PublicKey                string    `json:"public_key"`
	DSRecord                 string    `json:"ds_record"`
	DNSKEYRecord             string    `json:"dnskey_record"`
	Status                   string    `json:"status"`
	StatusMessage            string    `json:"status_message"`
	CreatedAt                time.Time `json:"created_at"`
	LastModifiedAt           time.Time `json:"last_modified_at"`
}

// ZoneSigningKey is a zone's ZSK, which Waymark owns and rolls.
type ZoneSigningKey struct {
	Name                     string    `json:"name"`
	KeyTag                   int       `json:"key_tag"`
	SigningAlgorithmMnemonic string    `json:"signing_algorithm_mnemonic"`
	DNSKEYRecord             string    `json:"dnskey_record"`
	Status                   string    `json:"status"`
	CreatedAt                time.Time `json:"created_at"`
	StatusSince              time.Time `json:"status_since"`
}

// CreateKeySigningKeyOutput is the answer of CreateKeySigningKey.
type CreateKeySigningKeyOutput struct {
	KeySigningKey KeySigningKey `json:"key_signing_key"`
	Change        Change        `json:"change"`
}

// DNSSECStatus is a zone's signing status.
type DNSSECStatus struct {
	ServeSignature string `json:"serve_signature"` // SIGNING, NOT_SIGNING, DELETING, …
	StatusMessage  string `json:"status_message"`
}

// DNSSECOutput is the answer of GetDNSSEC.
type DNSSECOutput struct {
	Status          DNSSECStatus     `json:"status"`
	KeySigningKeys  []KeySigningKey  `json:"key_signing_keys"`
	ZoneSigningKeys []ZoneSigningKey `json:"zone_signing_keys"`
}

// CreateKeySigningKey adds a KSK to a zone (at most two).
func (c *Client) CreateKeySigningKey(ctx context.Context, zoneID string, in CreateKeySigningKeyInput) (*CreateKeySigningKeyOutput, error) {
	return callOut[CreateKeySigningKeyOutput](ctx, c, request{op: opCreateKeySigningKey, pathArgs: []string{zoneID}, body: in})
}

// DeleteKeySigningKey deletes an INACTIVE KSK.
func (c *Client) DeleteKeySigningKey(ctx context.Context, zoneID, name string) (*ChangeOutput, error) {
	return callOut[ChangeOutput](ctx, c, request{op: opDeleteKeySigningKey, pathArgs: []string{zoneID, name}})
}

// ActivateKeySigningKey makes a KSK ACTIVE.
func (c *Client) ActivateKeySigningKey(ctx context.Context, zoneID, name string) (*ChangeOutput, error) {
	return callOut[ChangeOutput](ctx, c, request{op: opActivateKeySigningKey, pathArgs: []string{zoneID, name}})
}

// DeactivateKeySigningKey makes a KSK INACTIVE.
func (c *Client) DeactivateKeySigningKey(ctx context.Context, zoneID, name string) (*ChangeOutput, error) {
	return callOut[ChangeOutput](ctx, c, request{op: opDeactivateKeySigningKey, pathArgs: []string{zoneID, name}})
}

// GetDNSSEC returns a zone's signing status and keys.
func (c *Client) GetDNSSEC(ctx context.Context, zoneID string) (*DNSSECOutput, error) {
	return callOut[DNSSECOutput](ctx, c, request{op: opGetDNSSEC, pathArgs: []string{zoneID}})
}

// EnableDNSSEC signs a zone, creating a KSK if it has none.
func (c *Client) EnableDNSSEC(ctx context.Context, zoneID string) (*ChangeOutput, error) {
	return callOut[ChangeOutput](ctx, c, request{op: opEnableDNSSEC, pathArgs: []string{zoneID}})
}

// DisableDNSSEC stops signing a zone.
func (c *Client) DisableDNSSEC(ctx context.Context, zoneID string) (*ChangeOutput, error) {
	return callOut[ChangeOutput](ctx, c, request{op: opDisableDNSSEC, pathArgs: []string{zoneID}})
}

// RollZSK starts a zone-signing key rollover now.
func (c *Client) RollZSK(ctx context.Context, zoneID string) (*ChangeOutput, error) {
	return callOut[ChangeOutput](ctx, c, request{op: opRollZSK, pathArgs: []string{zoneID}})
}
