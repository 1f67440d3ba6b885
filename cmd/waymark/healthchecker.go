package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/waymark-dns/waymark/healthcheck"
	"github.com/waymark-dns/waymark/internal/metrics"
)

func runHealthchecker(ctx context.Context, args []string) error {
	host, _ := os.Hostname()
	fs := flag.NewFlagSet("healthchecker", flag.ContinueOnError)
	region := fs.String("region", env("WAYMARK_REGION", ""), "region this checker probes from (WAYMARK_REGION)")
	nodeID := fs.String("node-id", env("WAYMARK_NODE_ID", host), "unique id among the checkers of the region (WAYMARK_NODE_ID)")
	natsURL := fs.String("nats-url", env("WAYMARK_NATS_URL", nats.DefaultURL), "NATS URLs (WAYMARK_NATS_URL)")
	allowPrivate := fs.Bool("allow-private-targets", env("WAYMARK_ALLOW_PRIVATE_TARGETS", "") == "true",
		"probe private and loopback addresses too; must match the API's setting (development only)")
	replicas := replicasFlag(fs)
	metricsListen := fs.String("metrics-listen", env("WAYMARK_METRICS_LISTEN", ""), "address serving Prometheus metrics at /metrics, e.g. 127.0.0.1:9154 (WAYMARK_METRICS_LISTEN); empty: none")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if err := checkReplicas(*replicas); err != nil {
		return err
	}
	if *region == "" {
		return errors.New("--region is required")
	}
	log := newLogger()
	nc, err := nats.Connect(*natsURL, nats.Name("waymark-healthchecker"), nats.MaxReconnects(-1),
		nats.RetryOnFailedConnect(true), nats.ReconnectWait(500*time.Millisecond))
	if err != nil {
		return fmt.Errorf("nats %s: %w", *natsURL, err)
	}
	defer nc.Close()
	reg := metrics.NewRegistry("healthchecker")
	metrics.Connected(reg, "waymark_nats_connected", "1 while the process's NATS connection is up.", nc.IsConnected)
	if *metricsListen != "" {
		addr, err := metrics.Serve(ctx, *metricsListen, reg, log)
		if err != nil {
			return fmt.Errorf("metrics listen: %w", err)
		}
		log.Info("metrics listening", "addr", addr)
	}
	log.Info("health checker running", "nats", *natsURL, "region", *region, "node", *nodeID)
	return runChecker(ctx, nc, *region, *nodeID, *allowPrivate, *replicas, log, reg)
}

// runChecker probes the checks of one region until ctx ends.
// replicas applies only if this checker creates the configuration bucket;
// reg, when set, receives the probe metrics.
func runChecker(ctx context.Context, nc *nats.Conn, region, nodeID string, allowPrivate bool, replicas int, log *slog.Logger, reg prometheus.Registerer) error {
	c, err := healthcheck.NewChecker(healthcheck.Config{
		Region:              region,
		NodeID:              nodeID,
		NATS:                nc,
		AllowPrivateTargets: allowPrivate,
		Replicas:            replicas,
		Logger:              log,
		Metrics:             reg,
	})
	if err != nil {
		return err
	}
	return c.Run(ctx)
}
