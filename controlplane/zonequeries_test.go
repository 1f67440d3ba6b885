package controlplane

import (
	"context"
	"fmt"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/waymark-dns/waymark/event"
	"github.com/waymark-dns/waymark/internal/natstest"
	"github.com/waymark-dns/waymark/internal/testkit"
)

// TestIntegrationZoneQueryIngest: reports published on the stream reach
// the rollups through the consumer; the same report published again (a
// nameserver retrying after a lost ack, bypassing JetStream's duplicate
// window) and the same report ingested again (a redelivery) count once;
// a malformed one is dropped without blocking the others.
func TestIntegrationZoneQueryIngest(t *testing.T) {
	t.Parallel()
	var now atomic.Pointer[time.Time]
	t0 := time.Now().UTC().Truncate(time.Minute)
	set := func(t time.Time) { now.Store(&t) }
	set(t0.Add(30 * time.Second))
	e := newZoneEnv(t, func(c *Config) { c.NowFunc = func() time.Time { return *now.Load() } })
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	tenant := testTenant(t, e.pool)
	z := e.mustZone(t, tenant, "ingest.test.")
	ns := natstest.Run(t)
	nc, err := nats.Connect(ns.ClientURL())
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	js, _ := jetstream.New(nc)
	done := make(chan error, 1)
	go func() { done <- e.s.RunZoneQueryIngest(ctx, js, 1) }()
	testkit.Eventually(t, 10*time.Second, func() error {
		_, err := js.Stream(ctx, event.ZoneQueriesStream)
		return err
	})
	rep := event.ZoneQueryReport{NodeID: "ns-a", Region: "eu-west-1", Start: t0.Add(10 * time.Second),
		End: t0.Add(20 * time.Second), Counts: []event.ZoneQueryCount{
			{ZoneID: z.ID, RCode: "NOERROR", Queries: 40}, {ZoneID: z.ID, RCode: "NXDOMAIN", Queries: 2},
			{ZoneID: "ZGONE", RCode: "NOERROR", Queries: 5}}}
	publish := func(r event.ZoneQueryReport, msgID string) {
		b, err := r.Encode()
		if err != nil {
			t.Fatal(err)
		}
		if _, err := js.Publish(ctx, event.ZoneQueriesSubject, b, jetstream.WithMsgID(msgID)); err != nil {
			t.Fatal(err)
		}
	}
	publish(rep, rep.MsgID())
	publish(rep, "bypass-dedupe") // same report, new message
	if _, err := js.Publish(ctx, event.ZoneQueriesSubject, []byte(`{"v":1}`)); err != nil {
		t.Fatal(err)
	}
	other := rep
	other.NodeID, other.Region = "ns-b", "us-east-1"
	other.Counts = []event.ZoneQueryCount{{ZoneID: z.ID, RCode: "NOERROR", Queries: 8}}
	publish(other, other.MsgID())

	series := func(q MetricQuery) []Datapoint {
		q.Namespace, q.ResourceID, q.Metric = NamespaceHostedZone, z.ID, MetricDNSQueries
		q.Start, q.End, q.Period = t0, t0.Add(time.Minute), time.Minute
		got, err := e.s.QueryMetrics(ctx, tenant, q)
		if err != nil {
			t.Fatal(err)
		}
		return got.Datapoints
	}
	testkit.Eventually(t, 10*time.Second, func() error {
		if got := series(MetricQuery{}); !slices.Equal(got, []Datapoint{{t0, 50}}) {
			return fmt.Errorf("series %+v, want 50 in %s", got, t0)
		}
		return nil
	})
	// Everything was acked or dropped: nothing left for the consumer.
	testkit.Eventually(t, 10*time.Second, func() error {
		c, err := js.Consumer(ctx, event.ZoneQueriesStream, zoneQueryConsumer)
		if err != nil {
			return err
		}
		info, err := c.Info(ctx)
		if err != nil {
			return err
		}
		if info.NumPending != 0 || info.NumAckPending != 0 {
			return fmt.Errorf("%d pending, %d unacked", info.NumPending, info.NumAckPending)
		}
		return nil
	})
	// A direct redelivery is recognised too.
	if added, err := e.s.IngestZoneQueryReport(ctx, rep); err != nil || added {
		t.Errorf("re-ingest: added %v, %v", added, err)
	}
	if got := series(MetricQuery{}); !slices.Equal(got, []Datapoint{{t0, 50}}) {
		t.Errorf("after a redelivery: %+v", got)
	}
	if got := series(MetricQuery{RCode: "NXDOMAIN"}); !slices.Equal(got, []Datapoint{{t0, 2}}) {
		t.Errorf("NXDOMAIN: %+v", got)
	}
	if got := series(MetricQuery{Region: "us-east-1"}); !slices.Equal(got, []Datapoint{{t0, 8}}) {
		t.Errorf("us-east-1: %+v", got)
	}
	// A second part of the same interval is another report.
	part := rep
	part.Part = 1
	part.Counts = []event.ZoneQueryCount{{ZoneID: z.ID, RCode: "SERVFAIL", Queries: 1}}
	if added, err := e.s.IngestZoneQueryReport(ctx, part); err != nil || !added {
		t.Errorf("part 1: added %v, %v", added, err)
	}

	// Retention: a report too old to deduplicate is refused; pruning
	// drops rollups older than the retention and report identities older
	// than the key retention.
	set(t0.Add(ZoneQueryReportKeyRetention + time.Minute))
	late := rep
	late.NodeID = "ns-late"
	if added, err := e.s.IngestZoneQueryReport(ctx, late); err != nil || added {
		t.Errorf("a report older than the key retention: added %v, %v", added, err)
	}
	if err := e.s.PruneMetricsOnce(ctx, 24*time.Hour); err != nil {
		t.Fatal(err)
	}
	var keys, rows int
	if err := e.pool.QueryRow(ctx, `SELECT (SELECT count(*) FROM zone_query_report), (SELECT count(*) FROM zone_query_minute)`).Scan(&keys, &rows); err != nil {
		t.Fatal(err)
	}
	if keys != 0 || rows != 4 {
		t.Errorf("after pruning report keys: %d keys, %d rollup rows; want 0 and 4", keys, rows)
	}
	set(t0.Add(24*time.Hour + time.Minute))
	if err := e.s.PruneMetricsOnce(ctx, 24*time.Hour); err != nil {
		t.Fatal(err)
	}
	if got := series(MetricQuery{}); len(got) != 0 {
		t.Errorf("after the retention: %+v", got)
	}
	cancel()
	if err := <-done; err != nil {
		t.Errorf("RunZoneQueryIngest: %v", err)
	}
}
