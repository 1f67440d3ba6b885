package main

import (
	"context"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/nats-io/nats.go"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/waymark-dns/waymark/internal/metrics"
)

// cpMetrics are the API process's histograms, observed by its relay and
// tracker.
type cpMetrics struct {
	insync  prometheus.Histogram // submit → INSYNC
	publish prometheus.Histogram // outbox commit → JetStream ack recorded
}

func (m *cpMetrics) observeInSync(d time.Duration)  { m.insync.Observe(d.Seconds()) }
func (m *cpMetrics) observePublish(d time.Duration) { m.publish.Observe(d.Seconds()) }

// registerControlPlaneMetrics adds the API process's connection state,
// queue depths and propagation histograms to reg. The depths are read
// with one small query each at scrape time, bounded by a short timeout (a
// scrape never waits on a stuck database for long; a failed read reports
// -1).
func registerControlPlaneMetrics(reg *prometheus.Registry, pool *pgxpool.Pool, nc *nats.Conn) *cpMetrics {
	m := &cpMetrics{
		insync: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "waymark_change_insync_duration_seconds",
			Help:    "Time from a change's submission to its INSYNC on the live fleet, observed by the process that marked it.",
			Buckets: []float64{.01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30, 60, 300},
		}),
		publish: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "waymark_relay_publish_duration_seconds",
			Help:    "Time from an outbox event's transaction to the relay's recording of its JetStream ack.",
			Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 10},
		}),
	}
	reg.MustRegister(m.insync, m.publish)
	metrics.Connected(reg, "waymark_nats_connected", "1 while the process's NATS connection is up.", nc.IsConnected)
	reg.MustRegister(
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "waymark_postgres_connections",
			Help: "Open PostgreSQL connections in the pool."}, func() float64 { return float64(pool.Stat().TotalConns()) }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "waymark_postgres_connections_acquired",
			Help: "PostgreSQL connections in use."}, func() float64 { return float64(pool.Stat().AcquiredConns()) }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "waymark_outbox_depth",
			Help: "Outbox events not yet published to the zone stream."},
			countQuery(pool, `SELECT count(*) FROM outbox_event WHERE published_at IS NULL`)),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "waymark_changes_pending",
			Help: "Changes not yet INSYNC on the fleet."},
			countQuery(pool, `SELECT count(*) FROM change WHERE status = 'PENDING'`)),
	)
	return m
}

func countQuery(pool *pgxpool.Pool, sql string) func() float64 {
	return func() float64 {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		var n int64
		if err := pool.QueryRow(ctx, sql).Scan(&n); err != nil {
			return -1
		}
		return float64(n)
	}
}

// nsRegistry is where the i-th nameserver of `waymark dev` registers: the
// shared registry, its series told apart by a node label.
func nsRegistry(reg prometheus.Registerer, i int) prometheus.Registerer {
	return prometheus.WrapRegistererWith(prometheus.Labels{"node": "ns" + strconv.Itoa(i)}, reg)
}

// checkerRegistry is where the i-th health checker of `waymark dev`
// registers (its series already carry its region).
func checkerRegistry(reg prometheus.Registerer, i int) prometheus.Registerer {
	return prometheus.WrapRegistererWith(prometheus.Labels{"checker": strconv.Itoa(i)}, reg)
}
