package api

import (
	"context"
	"time"

	"github.com/waymark-dns/waymark/controlplane"
)

// Service is what the HTTP API needs of the control plane: exactly the
// methods the handlers call. *controlplane.Service satisfies it.
type Service interface {
	// Tenants and credentials.
	CreateTenant(ctx context.Context, name string) (controlplane.Tenant, controlplane.NewAPIKey, error)
	CreateAPIKey(ctx context.Context, tenantID, description string) (controlplane.NewAPIKey, error)
	ListAPIKeys(ctx context.Context, tenantID string) ([]controlplane.APIKey, error)
	DeleteAPIKey(ctx context.Context, tenantID, keyID string) error
	Authenticate(ctx context.Context, bearer string) (controlplane.Principal, error)
	IssueToken(ctx context.Context, p controlplane.Principal) (token string, expires time.Time, err error)

	// Hosted zones.
	CreateZone(ctx context.Context, tenantID string, in controlplane.CreateZoneInput) (controlplane.Zone, controlplane.ChangeInfo, error)
	GetZone(ctx context.Context, tenantID, zoneID string) (controlplane.Zone, error)
	ListZones(ctx context.Context, tenantID string, in controlplane.ListZonesInput) (controlplane.ZonePage, error)
	UpdateZoneComment(ctx context.Context, tenantID, zoneID, comment string) (controlplane.Zone, error)
	DeleteZone(ctx context.Context, tenantID, zoneID string) (controlplane.ChangeInfo, error)

	// Record sets and changes.
	ChangeRRSets(ctx context.Context, tenantID, zoneID string, b controlplane.ChangeBatch) (controlplane.ChangeInfo, error)
	ListRRSets(ctx context.Context, tenantID, zoneID string, in controlplane.ListRRSetsInput) (controlplane.RRSetPage, error)
	GetChange(ctx context.Context, tenantID, changeID string) (controlplane.ChangeInfo, error)

	// Zone files.
	ExportZone(ctx context.Context, tenantID, zoneID string) (string, error)
	ImportZone(ctx context.Context, tenantID, zoneID string, zoneFile string) (controlplane.ChangeInfo, error)
}

// The compiler keeps Service and the control plane in step.
var _ Service = (*controlplane.Service)(nil)
