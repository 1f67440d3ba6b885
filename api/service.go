package api

import (
	"context"
	"io"
	"time"

	"github.com/waymark-dns/waymark/api/route53"
	"github.com/waymark-dns/waymark/api/route53domains"
	"github.com/waymark-dns/waymark/controlplane"
)

// Service is what the HTTP API needs of the control plane: one interface
// per group of routes in the route table (router.go), each exactly the
// methods its handlers call. Every route is always registered, so a
// Service has all of them; *controlplane.Service does.
type Service interface {
	TenantService
	ZoneService
	DelegationSetService
	FleetService
	HealthCheckService
	CIDRService
	TagService
	AuditService
	DNSSECService
	TransferService
	AlarmService
	MetricsService
	QueryLogService
	// The Route 53-compatible API's needs (api/route53), mounted beside
	// the route table.
	route53.Service
}

// The compiler keeps Service and the control plane in step.
var _ Service = (*controlplane.Service)(nil)

// RegistrarService is what the API needs of the registrar
// (registrar.Service), kept apart from Service because the registrar is
// its own service over the control plane: the Route 53 Domains API's
// needs (api/route53domains) and the /v1 registrar API's (domains.go).
type RegistrarService interface {
	route53domains.Registrar
	DomainsService
	DomainTransferService
}

// TenantService serves sign-up, API keys and tokens, and authenticates
// every tenant request.
type TenantService interface {
	CreateTenant(ctx context.Context, name string) (controlplane.Tenant, controlplane.NewAPIKey, error)
	CreateAPIKey(ctx context.Context, tenantID, description string) (controlplane.NewAPIKey, error)
	ListAPIKeys(ctx context.Context, tenantID string) ([]controlplane.APIKey, error)
	DeleteAPIKey(ctx context.Context, tenantID, keyID string) error
	Authenticate(ctx context.Context, bearer string) (controlplane.Principal, error)
	IssueToken(ctx context.Context, p controlplane.Principal) (token string, expires time.Time, err error)
}

// ZoneService serves hosted zones, record sets, change batches and zone
// files.
type ZoneService interface {
	CreateZone(ctx context.Context, tenantID string, in controlplane.CreateZoneInput) (controlplane.Zone, controlplane.ChangeInfo, error)
	GetZone(ctx context.Context, tenantID, zoneID string) (controlplane.Zone, error)
	ListZones(ctx context.Context, tenantID string, in controlplane.ListZonesInput) (controlplane.ZonePage, error)
	UpdateZoneComment(ctx context.Context, tenantID, zoneID, comment string) (controlplane.Zone, error)
	DeleteZone(ctx context.Context, tenantID, zoneID string) (controlplane.ChangeInfo, error)
	ChangeRRSets(ctx context.Context, tenantID, zoneID string, b controlplane.ChangeBatch) (controlplane.ChangeInfo, error)
	ListRRSets(ctx context.Context, tenantID, zoneID string, in controlplane.ListRRSetsInput) (controlplane.RRSetPage, error)
	ExportZone(ctx context.Context, tenantID, zoneID string, w io.Writer) error
	ImportZone(ctx context.Context, tenantID, zoneID string, zoneFile string) (controlplane.ChangeInfo, error)
}

// FleetService serves the nameservers (snapshots), the fleet view and a
// change's propagation (GET /v1/changes/{id}).
type FleetService interface {
	WriteSnapshotServing(ctx context.Context, w io.Writer, serves []string) error
	WriteZoneSnapshot(ctx context.Context, zoneID string, w io.Writer) error
	ListNameservers(ctx context.Context) ([]controlplane.Nameserver, error)
	ChangeProgress(ctx context.Context, tenantID, changeID string) (controlplane.ChangeInfo, controlplane.Progress, error)
	WaitChange(ctx context.Context, tenantID, changeID string, timeout time.Duration) (controlplane.ChangeInfo, error)
	WaitChangeProgress(ctx context.Context, tenantID, changeID string, timeout time.Duration) (controlplane.ChangeInfo, controlplane.Progress, error)
}

// DelegationSetService serves /v1/delegationsets (reusable delegation sets).
type DelegationSetService interface {
	CreateDelegationSet(ctx context.Context, tenantID string, in controlplane.CreateDelegationSetInput) (controlplane.DelegationSet, error)
	GetDelegationSet(ctx context.Context, tenantID, setID string) (controlplane.DelegationSet, error)
	ListDelegationSets(ctx context.Context, tenantID string) ([]controlplane.DelegationSet, error)
	DeleteDelegationSet(ctx context.Context, tenantID, setID string) error
}

// AlarmService serves /v1/alarms.
type AlarmService interface {
	CreateAlarm(ctx context.Context, tenantID string, in controlplane.CreateAlarmInput) (controlplane.Alarm, error)
	GetAlarm(ctx context.Context, tenantID, id string) (controlplane.Alarm, error)
	ListAlarms(ctx context.Context, tenantID string) ([]controlplane.Alarm, error)
	DeleteAlarm(ctx context.Context, tenantID, id string) error
	AlarmHistory(ctx context.Context, tenantID, id string) ([]controlplane.AlarmHistoryItem, error)
}

// MetricsService serves the tenants' time series,
// /v1/hostedzones/{id}/metrics and /v1/healthchecks/{id}/metrics.
type MetricsService interface {
	QueryMetrics(ctx context.Context, tenantID string, q controlplane.MetricQuery) (controlplane.MetricSeries, error)
}

// HealthCheckService serves /v1/healthchecks.
type HealthCheckService interface {
	CreateHealthCheck(ctx context.Context, tenantID string, in controlplane.CreateHealthCheckInput) (controlplane.HealthCheck, error)
	GetHealthCheck(ctx context.Context, tenantID, id string) (controlplane.HealthCheck, error)
	ListHealthChecks(ctx context.Context, tenantID, marker string, maxItems int) (controlplane.HealthCheckPage, error)
	UpdateHealthCheck(ctx context.Context, tenantID, id string, in controlplane.UpdateHealthCheckInput) (controlplane.HealthCheck, error)
	DeleteHealthCheck(ctx context.Context, tenantID, id string) error
	HealthCheckStatus(ctx context.Context, tenantID, id string) (controlplane.HealthCheckStatus, error)
	HealthCheckHistory(ctx context.Context, tenantID, id string, before int64, maxItems int) ([]controlplane.HealthTransition, int64, error)
}

// CIDRService serves /v1/cidrcollections.
type CIDRService interface {
	CreateCIDRCollection(ctx context.Context, tenantID, name, callerRef string) (controlplane.CIDRCollection, bool, error)
	ListCIDRCollections(ctx context.Context, tenantID string) ([]controlplane.CIDRCollection, error)
	GetCIDRCollection(ctx context.Context, tenantID, id string) (controlplane.CIDRCollection, []controlplane.CIDRLocation, error)
	DeleteCIDRCollection(ctx context.Context, tenantID, id string) error
	ChangeCIDRCollection(ctx context.Context, tenantID, id string, version *int64, changes []controlplane.CIDRChange) (controlplane.CIDRChangeResult, error)
	ListCIDRBlocks(ctx context.Context, tenantID, id, location string) ([]controlplane.CIDRBlock, error)
}

// TagService serves the tags of hosted zones and health checks.
type TagService interface {
	ChangeTags(ctx context.Context, tenantID string, typ controlplane.TagResourceType, resourceID string, add []controlplane.Tag, remove []string) error
	ListTags(ctx context.Context, tenantID string, typ controlplane.TagResourceType, resourceID string) (controlplane.ResourceTags, error)
}
