package main

import (
	"context"
	"errors"
	"flag"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/waymark-dns/waymark/controlplane"
	"github.com/waymark-dns/waymark/dnssec/parentds"
)

func runAPI(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("api", flag.ContinueOnError)
	dsn := fs.String("database-url", env("DATABASE_URL", defaultDatabaseURL), "PostgreSQL URL (DATABASE_URL)")
	natsURL := fs.String("nats-url", env("WAYMARK_NATS_URL", nats.DefaultURL), "NATS server or cluster URLs (WAYMARK_NATS_URL)")
	listen := fs.String("listen", env("WAYMARK_LISTEN", "127.0.0.1:8080"), "HTTP listen address (WAYMARK_LISTEN)")
	poolCfg := poolFlags(fs)
	signup := fs.Bool("signup", env("WAYMARK_SIGNUP", "") == "true", "open sign-up at POST /v1/signup (WAYMARK_SIGNUP=true)")
	allowPrivate := fs.Bool("allow-private-targets", env("WAYMARK_ALLOW_PRIVATE_TARGETS", "") == "true",
		"let health checks target private and loopback addresses (development only)")
	dbOpts, httpOpts := timeoutFlags(fs)
	replicas := replicasFlag(fs)
	qlogLimits := queryLogFlags(fs)
	parentResolver := fs.String("parent-ds-resolver", env("WAYMARK_PARENT_DS_RESOLVER", ""),
		"host:port of a recursive resolver: with it, a parent zone outside Waymark is asked through its nameservers for the zone's DS, and a KSK roll waits on it (ACTION_NEEDED while the operator must change the DS there; WAYMARK_PARENT_DS_RESOLVER); empty: only parents hosted here are checked")
	retention := fs.Duration("metrics-retention", envDuration("WAYMARK_METRICS_RETENTION", controlplane.DefaultMetricsRetention),
		"keep the tenants' per-minute query and probe metrics this long (WAYMARK_METRICS_RETENTION)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *retention < time.Hour {
		return errors.New("--metrics-retention must be at least 1h")
	}
	if err := checkReplicas(*replicas); err != nil {
		return err
	}
	qlog, err := qlogLimits()
	if err != nil {
		return err
	}
	sec, err := secretsFromEnv()
	if err != nil {
		return err
	}
	pool, err := poolCfg.pool()
	if err != nil {
		return err
	}
	log := newLogger()
	var dnssecOpts controlplane.DNSSECOptions
	if *parentResolver != "" {
		dnssecOpts.ParentDS = parentds.Lookup{Resolver: *parentResolver}
	}
	cp, err := startControlPlane(ctx, controlPlaneOptions{
		DatabaseURL:         *dsn,
		NATSURL:             *natsURL,
		Listen:              *listen,
		Pool:                pool,
		ReservedNames:       splitList(*poolCfg.reserved),
		AllowedNames:        splitList(*poolCfg.allowed),
		Secrets:             sec,
		SignupEnabled:       *signup,
		AllowPrivateTargets: *allowPrivate,
		Logger:              log,
		Database:            *dbOpts,
		HTTP:                *httpOpts,
		NATSReplicas:        *replicas,
		QueryLog:            qlog,
		DNSSEC:              dnssecOpts,
		MetricsRetention:    *retention,
		// The registrar and the built-in registry: /v1/domains, the
		// operator's /v1/registry/… (TLDs are configured there; none at
		// first) and the Route 53 Domains API.
		Registry: true,
	})
	if err != nil {
		return err
	}
	log.Info("api listening", "addr", cp.Addr, "nats", *natsURL)
	return cp.Wait(ctx)
}
