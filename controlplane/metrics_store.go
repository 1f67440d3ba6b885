package controlplane

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// Metric names a tenant can read (GET …/metrics?metric=, and what alarms
// evaluate). Hosted-zone metrics come from the per-minute rollups of the
// nameservers' query counts; health-check metrics from the check's status
// history.
const (
	// MetricDNSQueries is the number of queries a hosted zone got.
	MetricDNSQueries = "dns_queries"
	// MetricNXDOMAINQueries is the number of those answered NXDOMAIN.
	MetricNXDOMAINQueries = "nxdomain_queries"
	// MetricChangePendingSeconds is, at the end of each period, how long
	// the zone's oldest change still PENDING had been waiting (0 when
	// none was): an alarm on it says a change is stuck.
	MetricChangePendingSeconds = "change_pending_seconds"
	// MetricHealthCheckStatus is 1 while a check is healthy, 0 while not
	// (the lowest status seen in each period, as CloudWatch's Minimum).
	MetricHealthCheckStatus = "health_check_status"
	// MetricHealthPercentageHealthy is the percentage of the check's
	// checker regions whose view (after the failure threshold) was
	// healthy, averaged over the period's observations of each region and
	// then over the regions (Route 53's HealthCheckPercentageHealthy).
	MetricHealthPercentageHealthy = "percentage_healthy"
	// MetricHealthConnectionTime is the mean TCP connect time of the
	// period's probes, in milliseconds (Route 53's ConnectionTime).
	MetricHealthConnectionTime = "connection_time"
	// MetricHealthTimeToFirstByte is the mean time from the start of the
	// connect to the first byte of the HTTP response, in milliseconds
	// (Route 53's TimeToFirstByte; HTTP and HTTPS checks only).
	MetricHealthTimeToFirstByte = "time_to_first_byte"
)

// Metric namespaces, as in an alarm's metric.namespace.
const (
	NamespaceHostedZone  = "hostedzone"
	NamespaceHealthCheck = "healthcheck"
)

// MetricQuery selects one time series of one resource of a tenant. RCode
// and Region, when set, keep only the queries answered with that rcode
// (NOERROR, NXDOMAIN, …) or by the nameservers of that region (RCode
// applies to dns_queries only); Region also keeps only the probes of
// one checker region for the health check probe metrics
// (percentage_healthy, connection_time, time_to_first_byte).
type MetricQuery struct {
	Namespace  string
	ResourceID string
	Metric     string
	Start, End time.Time
	Period     time.Duration
	RCode      string
	Region     string
}

// Datapoint is one period of a time series: Timestamp is the period's
// start. A period without data has no datapoint (for dns_queries a period
// with no queries at all has none: CloudWatch's "missing data").
type Datapoint struct {
	Timestamp time.Time `json:"timestamp"`
	Value     float64   `json:"value"`
}

// MetricSeries is a metric's datapoints, oldest first.
type MetricSeries struct {
	Metric     string      `json:"metric"`
	Period     int         `json:"period"` // seconds
	Datapoints []Datapoint `json:"datapoints"`
}

// MaxMetricDatapoints bounds one read: start, end and period must not ask
// for more periods than this.
const MaxMetricDatapoints = 1440

// MetricsReader is what alarm evaluation needs of the metrics: the time
// series of a tenant's own resource. *Service implements it.
type MetricsReader interface {
	QueryMetrics(ctx context.Context, tenantID string, q MetricQuery) (MetricSeries, error)
}

var _ MetricsReader = (*Service)(nil)

// QueryMetrics returns the time series q selects, of a resource tenantID
// owns: another tenant's zone or check answers as a missing one. Period is
// a whole number of minutes (the rollups' grain); Start is rounded down to
// it and End up. Errors: NoSuchHostedZone, NoSuchHealthCheck, InvalidInput.
func (s *Service) QueryMetrics(ctx context.Context, tenantID string, q MetricQuery) (MetricSeries, error) {
	if err := q.check(); err != nil {
		return MetricSeries{}, err
	}
	start, end := q.Start.UTC().Truncate(q.Period), q.End.UTC()
	if t := end.Truncate(q.Period); !t.Equal(end) {
		end = t.Add(q.Period)
	}
	out := MetricSeries{Metric: q.Metric, Period: int(q.Period / time.Second), Datapoints: []Datapoint{}}
	var err error
	switch {
	case q.Metric == MetricChangePendingSeconds:
		out.Datapoints, err = s.changePending(ctx, tenantID, q.ResourceID, start, end, q.Period)
	case q.Namespace == NamespaceHostedZone:
		if q.Metric == MetricNXDOMAINQueries {
			q.RCode = "NXDOMAIN"
		}
		out.Datapoints, err = s.zoneQueries(ctx, tenantID, q, start, end)
	case q.Metric == MetricHealthCheckStatus:
		out.Datapoints, err = s.healthStatusSeries(ctx, tenantID, q.ResourceID, start, end, q.Period)
	case q.Namespace == NamespaceHealthCheck:
		out.Datapoints, err = s.healthProbeSeries(ctx, tenantID, q, start, end)
	}
	return out, err
}

func (q MetricQuery) check() error {
	switch {
	case q.Namespace == NamespaceHostedZone && q.Metric == MetricDNSQueries:
	case q.Namespace == NamespaceHostedZone && (q.Metric == MetricNXDOMAINQueries || q.Metric == MetricChangePendingSeconds):
		if q.RCode != "" || q.Region != "" {
			return Errorf(CodeInvalidInput, "rcode and region apply to %s only", MetricDNSQueries)
		}
	case q.Namespace == NamespaceHealthCheck && q.Metric == MetricHealthCheckStatus:
		if q.RCode != "" || q.Region != "" {
			return Errorf(CodeInvalidInput, "%s is the check's aggregate status: it has no rcode or region", MetricHealthCheckStatus)
		}
	case q.Namespace == NamespaceHealthCheck && (q.Metric == MetricHealthPercentageHealthy ||
		q.Metric == MetricHealthConnectionTime || q.Metric == MetricHealthTimeToFirstByte):
		if q.RCode != "" {
			return Errorf(CodeInvalidInput, "rcode applies to %s only", MetricDNSQueries)
		}
	default:
		return Errorf(CodeInvalidInput, "unknown metric %q in namespace %q", q.Metric, q.Namespace)
	}
	switch {
	case q.Period <= 0 || q.Period%time.Minute != 0:
		return Errorf(CodeInvalidInput, "period must be a positive multiple of 60 seconds")
	case q.Start.IsZero() || q.End.IsZero() || !q.End.After(q.Start):
		return Errorf(CodeInvalidInput, "start and end are required, and end must be after start")
	case q.End.Sub(q.Start)/q.Period > MaxMetricDatapoints:
		return Errorf(CodeInvalidInput, "at most %d datapoints per request: widen the period or narrow the range", MaxMetricDatapoints)
	}
	return nil
}

// zoneQueries sums the rollups of the zone into periods.
func (s *Service) zoneQueries(ctx context.Context, tenantID string, q MetricQuery, start, end time.Time) ([]Datapoint, error) {
	var ok bool
	err := s.pool.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM hosted_zone WHERE id = $1 AND tenant_id = $2)`,
		q.ResourceID, tenantID).Scan(&ok)
	if err != nil {
		return nil, fmt.Errorf("read zone: %w", err)
	}
	if !ok {
		return nil, errNoSuchZone(q.ResourceID)
	}
	// With an rcode, a period in which the zone got queries but none with
	// that rcode is a 0, not missing data: an NXDOMAIN-rate alarm sees
	// the rate fall to nothing.
	rows, err := s.pool.Query(ctx, `SELECT date_bin($2::interval, minute, $3::timestamptz) AS p,
	         COALESCE(sum(queries) FILTER (WHERE $5 = '' OR rcode = $5), 0)::float8
	    FROM zone_query_minute
	   WHERE zone_id = $1 AND minute >= $3 AND minute < $4 AND ($6 = '' OR region = $6)
	   GROUP BY p ORDER BY p`,
		q.ResourceID, q.Period, start, end, strings.ToUpper(q.RCode), q.Region)
	if err != nil {
		return nil, fmt.Errorf("read zone queries: %w", err)
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (Datapoint, error) {
		var d Datapoint
		err := r.Scan(&d.Timestamp, &d.Value)
		d.Timestamp = d.Timestamp.UTC()
		return d, err
	})
}

// changePending measures, at each period's end (or now, for the period
// in progress), the age of the zone's oldest change submitted before and
// not INSYNC by then. Periods that start after now have no datapoint.
func (s *Service) changePending(ctx context.Context, tenantID, zoneID string, start, end time.Time, period time.Duration) ([]Datapoint, error) {
	var ok bool
	err := s.pool.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM hosted_zone WHERE id = $1 AND tenant_id = $2)`,
		zoneID, tenantID).Scan(&ok)
	if err != nil {
		return nil, fmt.Errorf("read zone: %w", err)
	}
	if !ok {
		return nil, errNoSuchZone(zoneID)
	}
	rows, err := s.pool.Query(ctx, `WITH c AS (
	        SELECT submitted_at, insync_at FROM change
	         WHERE zone_id = $1 AND tenant_id = $2 AND submitted_at < $4
	           AND (insync_at IS NULL OR insync_at >= $3)),
	     p AS (
	        SELECT t, least(t + $5::interval, $6::timestamptz) AS at
	          FROM generate_series($3::timestamptz, $4::timestamptz - $5::interval, $5::interval) AS t
	         WHERE t < $6)
	    SELECT p.t, COALESCE((SELECT extract(epoch FROM p.at - min(c.submitted_at))::float8 FROM c
	                           WHERE c.submitted_at < p.at AND (c.insync_at IS NULL OR c.insync_at >= p.at)), 0)
	      FROM p ORDER BY p.t`,
		zoneID, tenantID, start, end, period, s.cfg.NowFunc().UTC())
	if err != nil {
		return nil, fmt.Errorf("read pending changes: %w", err)
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (Datapoint, error) {
		var d Datapoint
		err := r.Scan(&d.Timestamp, &d.Value)
		d.Timestamp = d.Timestamp.UTC()
		return d, err
	})
}

// healthStatusSeries replays the check's transitions over the periods: a
// period's value is the lowest status in force during it. Periods before
// the check existed have no datapoint.
func (s *Service) healthStatusSeries(ctx context.Context, tenantID, id string, start, end time.Time, period time.Duration) ([]Datapoint, error) {
	var created time.Time
	var healthy bool
	err := s.pool.QueryRow(ctx, `SELECT created_at, healthy FROM health_check
	    WHERE id = $1 AND tenant_id = $2 AND deleted_at IS NULL`, id, tenantID).Scan(&created, &healthy)
	if err == pgx.ErrNoRows {
		return nil, errNoSuchHealthCheck(id)
	}
	if err != nil {
		return nil, fmt.Errorf("read health check: %w", err)
	}
	rows, err := s.pool.Query(ctx, `(SELECT at, healthy FROM health_check_transition
	        WHERE check_id = $1 AND at < $2 ORDER BY id DESC LIMIT 1)
	    UNION ALL
	    (SELECT at, healthy FROM health_check_transition
	        WHERE check_id = $1 AND at >= $2 AND at < $3 ORDER BY id)`, id, start, end)
	if err != nil {
		return nil, fmt.Errorf("read health transitions: %w", err)
	}
	type tr struct {
		at      time.Time
		healthy bool
	}
	trs, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (tr, error) {
		var t tr
		return t, r.Scan(&t.at, &t.healthy)
	})
	if err != nil {
		return nil, fmt.Errorf("read health transitions: %w", err)
	}
	// Creation writes the first transition (the initial status), so the
	// status in force at start is the last transition before it, or,
	// for a range that starts before the check existed, the first one.
	cur, i := healthy, 0
	if len(trs) > 0 {
		cur = trs[0].healthy
		if trs[0].at.Before(start) {
			i = 1
		}
	}
	var out []Datapoint
	for p := start; p.Before(end); p = p.Add(period) {
		pend := p.Add(period)
		if !pend.After(created) {
			continue
		}
		low := cur
		for i < len(trs) && trs[i].at.Before(pend) {
			cur = trs[i].healthy
			low = low && cur
			i++
		}
		v := 0.0
		if low {
			v = 1
		}
		out = append(out, Datapoint{Timestamp: p, Value: v})
	}
	return out, nil
}

// healthProbeSeries reads a probe metric of the check from its per-minute
// rollups (health_check_minute). A period without observations (or, for
// the times, without a measured probe) has no datapoint.
func (s *Service) healthProbeSeries(ctx context.Context, tenantID string, q MetricQuery, start, end time.Time) ([]Datapoint, error) {
	var ok bool
	err := s.pool.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM health_check
	    WHERE id = $1 AND tenant_id = $2 AND deleted_at IS NULL)`, q.ResourceID, tenantID).Scan(&ok)
	if err != nil {
		return nil, fmt.Errorf("read health check: %w", err)
	}
	if !ok {
		return nil, errNoSuchHealthCheck(q.ResourceID)
	}
	var sql string
	switch q.Metric {
	case MetricHealthPercentageHealthy:
		// Each region's share of healthy observations, then the mean
		// over the regions: a region probing more often does not weigh
		// more.
		sql = `SELECT p, avg(pct) FROM (
		        SELECT date_bin($2::interval, minute, $3::timestamptz) AS p,
		               100 * sum(healthy_samples)::float8 / sum(samples) AS pct
		          FROM health_check_minute
		         WHERE check_id = $1 AND minute >= $3 AND minute < $4 AND ($5 = '' OR region = $5)
		         GROUP BY p, region HAVING sum(samples) > 0) r
		    GROUP BY p ORDER BY p`
	case MetricHealthConnectionTime:
		sql = `SELECT date_bin($2::interval, minute, $3::timestamptz) AS p, sum(connect_ms_sum) / sum(connect_count)
		    FROM health_check_minute
		   WHERE check_id = $1 AND minute >= $3 AND minute < $4 AND ($5 = '' OR region = $5)
		   GROUP BY p HAVING sum(connect_count) > 0 ORDER BY p`
	default: // MetricHealthTimeToFirstByte
		sql = `SELECT date_bin($2::interval, minute, $3::timestamptz) AS p, sum(ttfb_ms_sum) / sum(ttfb_count)
		    FROM health_check_minute
		   WHERE check_id = $1 AND minute >= $3 AND minute < $4 AND ($5 = '' OR region = $5)
		   GROUP BY p HAVING sum(ttfb_count) > 0 ORDER BY p`
	}
	rows, err := s.pool.Query(ctx, sql, q.ResourceID, q.Period, start, end, q.Region)
	if err != nil {
		return nil, fmt.Errorf("read health check metrics: %w", err)
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (Datapoint, error) {
		var d Datapoint
		err := r.Scan(&d.Timestamp, &d.Value)
		d.Timestamp = d.Timestamp.UTC()
		return d, err
	})
}

// ZoneQueryCount is one nameserver's count of queries for one zone, with
// one rcode, during one minute.
type ZoneQueryCount struct {
	ZoneID  string
	Minute  time.Time
	Region  string
	RCode   string
	Queries uint64
}

// RecordZoneQueries adds nameserver counts to the rollups. Counts of zones
// that no longer exist are dropped. Nameservers' reports come in through
// IngestZoneQueryReport, which also makes each count once.
func (s *Service) RecordZoneQueries(ctx context.Context, counts []ZoneQueryCount) error {
	return recordZoneQueries(ctx, s.pool, counts)
}

// execer is a pool or a transaction.
type execer interface {
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
}

func recordZoneQueries(ctx context.Context, db execer, counts []ZoneQueryCount) error {
	if len(counts) == 0 {
		return nil
	}
	n := len(counts)
	zones, regions, rcodes := make([]string, n), make([]string, n), make([]string, n)
	minutes, queries := make([]time.Time, n), make([]int64, n)
	for i, c := range counts {
		zones[i], regions[i], rcodes[i] = c.ZoneID, c.Region, c.RCode
		minutes[i], queries[i] = c.Minute.UTC().Truncate(time.Minute), int64(c.Queries)
	}
	// Rows in a fixed order, so that two ingesters adding to the same
	// rows lock them in the same order and never deadlock.
	_, err := db.Exec(ctx, `INSERT INTO zone_query_minute AS m (zone_id, minute, region, rcode, queries)
	    SELECT v.zone_id, v.minute, v.region, v.rcode, sum(v.queries)
	      FROM unnest($1::text[], $2::timestamptz[], $3::text[], $4::text[], $5::bigint[])
	           AS v(zone_id, minute, region, rcode, queries)
	      JOIN hosted_zone z ON z.id = v.zone_id
	     GROUP BY v.zone_id, v.minute, v.region, v.rcode
	     ORDER BY v.zone_id, v.minute, v.region, v.rcode
	    ON CONFLICT (zone_id, minute, region, rcode) DO UPDATE SET queries = m.queries + excluded.queries`,
		zones, minutes, regions, rcodes, queries)
	if err != nil {
		return fmt.Errorf("record zone queries: %w", err)
	}
	return nil
}

// PruneMetrics deletes the rollups older than before, the zones' and the
// health checks': the retention limit. It returns how many rows went.
func (s *Service) PruneMetrics(ctx context.Context, before time.Time) (int64, error) {
	var n int64
	for _, table := range []string{"zone_query_minute", "health_check_minute"} {
		tag, err := s.pool.Exec(ctx, `DELETE FROM `+table+` WHERE minute < $1`, before)
		if err != nil {
			return n, fmt.Errorf("prune metrics: %w", err)
		}
		n += tag.RowsAffected()
	}
	return n, nil
}
