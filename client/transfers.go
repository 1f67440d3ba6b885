package client

import (
	"context"
	"time"
)

// Zone transfer operations (docs/transfers.md).
var (
	opListTSIGKeys  = operation{"listTSIGKeys", "GET", "/v1/tsigkeys"}
	opCreateTSIGKey = operation{"createTSIGKey", "POST", "/v1/tsigkeys"}
	opDeleteTSIGKey = operation{"deleteTSIGKey", "DELETE", "/v1/tsigkeys/{name}"}
	opGetTransfers  = operation{"getTransfers", "GET", "/v1/hostedzones/{id}/transfers"}
	opPutTransfers  = operation{"putTransfers", "PUT", "/v1/hostedzones/{id}/transfers"}
	// opRefreshSecondary asks for a secondary zone's refresh now.
	opRefreshSecondary = operation{"refreshSecondary", "POST", "/v1/hostedzones/{id}/secondary/refresh"}
)

func transferOperations() []operation {
	return []operation{opListTSIGKeys, opCreateTSIGKey, opDeleteTSIGKey, opGetTransfers, opPutTransfers, opRefreshSecondary}
}

// CreateTSIGKeyInput is the body of CreateTSIGKey.
type CreateTSIGKeyInput struct {
	Name      string `json:"name"`
	Algorithm string `json:"algorithm"` // hmac-sha256 or hmac-sha512
}

// TSIGKey is a TSIG key; Secret (base64) is set only by CreateTSIGKey.
type TSIGKey struct {
	Name        string    `json:"name"`
	Algorithm   string    `json:"algorithm"`
	CreatedAt   time.Time `json:"created_at"`
	HostedZones []string  `json:"hosted_zones"`
	Secret      string    `json:"secret,omitempty"`
}

// TSIGKeyOutput is CreateTSIGKey's response.
type TSIGKeyOutput struct {
	TSIGKey TSIGKey `json:"tsig_key"`
}

// TSIGKeysOutput is ListTSIGKeys' response.
type TSIGKeysOutput struct {
	TSIGKeys []TSIGKey `json:"tsig_keys"`
}

// TransferConfig is a zone's transfer configuration.
type TransferConfig struct {
	Allow  []TransferAllow  `json:"allow,omitempty"`
	Notify []TransferNotify `json:"notify,omitempty"`
}

// TransferAllow lets requests signed with TSIGKey from CIDRs transfer.
type TransferAllow struct {
	TSIGKey string   `json:"tsig_key"`
	CIDRs   []string `json:"cidrs"`
}

// TransferNotify is a secondary to NOTIFY.
type TransferNotify struct {
	Address string `json:"address"`
	Port    int    `json:"port,omitempty"`
	TSIGKey string `json:"tsig_key,omitempty"`
}

// TransfersOutput is GetTransfers' response.
type TransfersOutput struct {
	Transfers    TransferConfig `json:"transfers"`
	Version      int64          `json:"version"`
	Available    bool           `json:"available"`
	Reason       string         `json:"reason,omitempty"`
	RoutedRRSets int            `json:"routed_rrsets"`
	Note         string         `json:"note"`
}

// PutTransfersOutput is PutTransfers' response.
type PutTransfersOutput struct {
	Transfers TransferConfig `json:"transfers"`
	Change    Change         `json:"change"`
}

// ListTSIGKeys lists the tenant's TSIG keys.
func (c *Client) ListTSIGKeys(ctx context.Context) (*TSIGKeysOutput, error) {
	return callOut[TSIGKeysOutput](ctx, c, request{op: opListTSIGKeys})
}

// CreateTSIGKey creates a TSIG key; keep the secret, it is not shown again.
func (c *Client) CreateTSIGKey(ctx context.Context, in CreateTSIGKeyInput) (*TSIGKeyOutput, error) {
	return callOut[TSIGKeyOutput](ctx, c, request{op: opCreateTSIGKey, body: in})
}

// DeleteTSIGKey deletes a TSIG key no zone uses.
func (c *Client) DeleteTSIGKey(ctx context.Context, name string) error {
	return c.call(ctx, request{op: opDeleteTSIGKey, pathArgs: []string{name}}, nil)
}

// GetTransfers returns a zone's transfer configuration and status.
func (c *Client) GetTransfers(ctx context.Context, zoneID string) (*TransfersOutput, error) {
	return callOut[TransfersOutput](ctx, c, request{op: opGetTransfers, pathArgs: []string{zoneID}})
}

// PutTransfers replaces a zone's transfer configuration.
func (c *Client) PutTransfers(ctx context.Context, zoneID string, in TransferConfig) (*PutTransfersOutput, error) {
	return callOut[PutTransfersOutput](ctx, c, request{op: opPutTransfers, pathArgs: []string{zoneID}, body: in})
}

// RefreshSecondary asks the control plane to check a secondary zone's
// primaries now, as a NOTIFY from one of them would; the zone's Secondary
// state shows the outcome a moment later.
func (c *Client) RefreshSecondary(ctx context.Context, zoneID string) (*HostedZoneOutput, error) {
	return callOut[HostedZoneOutput](ctx, c, request{op: opRefreshSecondary, pathArgs: []string{zoneID}})
}
