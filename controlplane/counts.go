package controlplane

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"
)

// ZoneCounts is a tenant's hosted-zone count and the quotas that apply to
// it: Route 53's GetHostedZoneCount, GetAccountLimit and
// GetHostedZoneLimit read them.
type ZoneCounts struct {
	Zones int
	// ZoneQuota is how many zones the tenant may have, RecordQuota how
	// many record sets each zone may hold.
	ZoneQuota   int
	RecordQuota int
}

// ZoneCounts returns the tenant's zone count and quotas.
func (s *Service) ZoneCounts(ctx context.Context, tenantID string) (ZoneCounts, error) {
	var zq, rq *int32
	var out ZoneCounts
	err := s.pool.QueryRow(ctx,
		`SELECT zone_quota, record_quota, (SELECT count(*) FROM hosted_zone WHERE tenant_id = $1)
		   FROM tenant WHERE id = $1`, tenantID).Scan(&zq, &rq, &out.Zones)
	if errors.Is(err, pgx.ErrNoRows) {
		return ZoneCounts{}, Errorf(CodeNoSuchTenant, "no tenant found with id %s", tenantID)
	}
	if err != nil {
		return ZoneCounts{}, fmt.Errorf("count zones: %w", err)
	}
	out.ZoneQuota, out.RecordQuota = s.cfg.DefaultZoneQuota, s.cfg.DefaultRecordQuota
	if zq != nil {
		out.ZoneQuota = int(*zq)
	}
	if rq != nil {
		out.RecordQuota = int(*rq)
	}
	return out, nil
}

// HealthCheckCounts returns how many health checks the tenant has and may
// have.
func (s *Service) HealthCheckCounts(ctx context.Context, tenantID string) (count, quota int, err error) {
	if err := s.pool.QueryRow(ctx, `SELECT count(*) FROM health_check WHERE tenant_id = $1 AND deleted_at IS NULL`, tenantID).Scan(&count); err != nil {
		return 0, 0, fmt.Errorf("count health checks: %w", err)
	}
	return count, s.cfg.HealthChecks.Quota, nil
}
