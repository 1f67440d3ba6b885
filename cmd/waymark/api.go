package main

import (
	"context"
	"errors"
	"flag"
	"log/slog"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/waymark-dns/waymark/controlplane"
	"github.com/waymark-dns/waymark/dnssec/parentds"
	"github.com/waymark-dns/waymark/internal/clock"
	"github.com/waymark-dns/waymark/registrar"
)

func runAPI(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("api", flag.ContinueOnError)
	dsn := fs.String("database-url", env("DATABASE_URL", defaultDatabaseURL), "PostgreSQL URL (DATABASE_URL)")
	snapDSN := fs.String("snapshot-database-url", env("WAYMARK_SNAPSHOT_DATABASE_URL", ""),
		"PostgreSQL URL of a streaming replica that full nameserver snapshots (GET /v1/nameserver/snapshot) are read from, e.g. one near the nameservers (WAYMARK_SNAPSHOT_DATABASE_URL); one zone's refetch and everything else stay on --database-url; empty: the primary")
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
	lifecycle := fs.Bool("lifecycle", env("WAYMARK_LIFECYCLE", "true") != "false",
		"campaign for the registrar lifecycle's leadership and run it on the system clock: auto-renewals, expiries, transfers, registrant verification, mail (WAYMARK_LIFECYCLE=false turns it off)")
	lifecycleInterval := fs.Duration("lifecycle-interval", envDuration("WAYMARK_LIFECYCLE_INTERVAL", registrar.DefaultLifecycleInterval),
		"time between the lifecycle leader's passes (WAYMARK_LIFECYCLE_INTERVAL)")
	exportRate := fs.Int("export-rate", envInt("WAYMARK_EXPORT_RATE", controlplane.DefaultExportRate),
		"record sets per second one tenant's zone exports read, all together (WAYMARK_EXPORT_RATE); -1 no limit")
	alarmInterval := fs.Duration("alarm-interval", envDuration("WAYMARK_ALARM_INTERVAL", controlplane.DefaultAlarmInterval),
		"time between the alarm leader's evaluations of every alarm, which also send health checks' notify webhooks (WAYMARK_ALARM_INTERVAL)")
	mailDir := fs.String("mail-dir", env("WAYMARK_MAIL_DIR", ""),
		"write the lifecycle's mail to registrants (verification, holds, expiry notices) as files in this directory (WAYMARK_MAIL_DIR); empty: the mail stays in the outbox (registrar_mail)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *lifecycleInterval <= 0 {
		return errors.New("--lifecycle-interval must be positive")
	}
	if *alarmInterval < time.Second {
		return errors.New("--alarm-interval must be at least 1s")
	}
	if *exportRate == 0 || *exportRate < -1 {
		return errors.New("--export-rate must be positive, or -1 for no limit")
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
		SnapshotDatabaseURL: *snapDSN,
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
		ExportRate:          *exportRate,
		AlarmInterval:       *alarmInterval,
		// The registrar and the built-in registry: /v1/domains, the
		// operator's /v1/registry/… (TLDs are configured there; none at
		// first) and the Route 53 Domains API.
		Registry:  true,
		Lifecycle: apiLifecycle(*lifecycle, *lifecycleInterval, *mailDir, log),
	})
	if err != nil {
		return err
	}
	log.Info("api listening", "addr", cp.Addr, "nats", *natsURL)
	return cp.Wait(ctx)
}

// apiLifecycle is the registrar lifecycle `waymark api` runs (nil: off):
// on the system clock, its mail written to mailDir, or left in the outbox
// without one.
func apiLifecycle(on bool, interval time.Duration, mailDir string, log *slog.Logger) *registrar.LifecycleConfig {
	if !on {
		return nil
	}
	cfg := &registrar.LifecycleConfig{Clock: clock.System{}, Interval: interval, Logger: log.With("component", "lifecycle")}
	if mailDir != "" {
		cfg.Mailer = registrar.FileMailer{Dir: mailDir}
	}
	return cfg
}
