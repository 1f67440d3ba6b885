package client

import (
	"context"
	"net/url"
	"strconv"
	"time"
)

// Metric operations: the time series of a zone's queries and of a health
// check's probes (docs/observability.md).
var (
	opGetZoneMetrics        = operation{"getZoneMetrics", "GET", "/v1/hostedzones/{id}/metrics"}
	opGetHealthCheckMetrics = operation{"getHealthCheckMetrics", "GET", "/v1/healthchecks/{id}/metrics"}
)

func metricOperations() []operation {
	return []operation{opGetZoneMetrics, opGetHealthCheckMetrics}
}

// MetricsInput selects a time series. Metric is required: dns_queries,
// nxdomain_queries or change_pending_seconds for a zone;
// health_check_status, percentage_healthy, connection_time or
// time_to_first_byte (milliseconds) for a health check. Zero Start and
// End mean the server's defaults (the last hour); zero Period means 60 s.
// RCode and Region narrow a zone's dns_queries; Region also narrows a
// health check's probe metrics to one checker region.
type MetricsInput struct {
	Metric     string
	Start, End time.Time
	Period     time.Duration
	RCode      string
	Region     string
}

func (in MetricsInput) query() url.Values {
	q := url.Values{"metric": {in.Metric}}
	if !in.Start.IsZero() {
		q.Set("start", in.Start.UTC().Format(time.RFC3339))
	}
	if !in.End.IsZero() {
		q.Set("end", in.End.UTC().Format(time.RFC3339))
	}
	if in.Period > 0 {
		q.Set("period", strconv.Itoa(int(in.Period/time.Second)))
	}
	if in.RCode != "" {
		q.Set("rcode", in.RCode)
	}
	if in.Region != "" {
		q.Set("region", in.Region)
	}
	return q
}

// Datapoint is one period of a time series; Timestamp is its start.
type Datapoint struct {
	Timestamp time.Time `json:"timestamp"`
	Value     float64   `json:"value"`
}

// MetricSeries is a time series, oldest first: a period without data has
// no datapoint. Period is in seconds.
type MetricSeries struct {
	Metric     string      `json:"metric"`
	Period     int         `json:"period"`
	Datapoints []Datapoint `json:"datapoints"`
}

// GetZoneMetrics returns a time series of a hosted zone.
func (c *Client) GetZoneMetrics(ctx context.Context, zoneID string, in MetricsInput) (*MetricSeries, error) {
	return callOut[MetricSeries](ctx, c, request{op: opGetZoneMetrics, pathArgs: []string{zoneID}, query: in.query()})
}

// GetHealthCheckMetrics returns a time series of a health check.
func (c *Client) GetHealthCheckMetrics(ctx context.Context, checkID string, in MetricsInput) (*MetricSeries, error) {
	return callOut[MetricSeries](ctx, c, request{op: opGetHealthCheckMetrics, pathArgs: []string{checkID}, query: in.query()})
}
