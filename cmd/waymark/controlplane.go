package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/waymark-dns/waymark/api"
	"github.com/waymark-dns/waymark/controlplane"
	"github.com/waymark-dns/waymark/event"
	"github.com/waymark-dns/waymark/healthcfg"
	"github.com/waymark-dns/waymark/healthcheck"
	"github.com/waymark-dns/waymark/internal/clock"
	"github.com/waymark-dns/waymark/internal/httpcomp"
	"github.com/waymark-dns/waymark/internal/metrics"
	"github.com/waymark-dns/waymark/migrations"
	"github.com/waymark-dns/waymark/nspool"
	"github.com/waymark-dns/waymark/registrar"
	"github.com/waymark-dns/waymark/registrar/registry"
)

// controlPlaneOptions is what an API process needs, from flags and env.
type controlPlaneOptions struct {
	// RegistryClock is the built-in registry's test clock (`waymark
	// dev`), which POST /v1/registry/clock advances; nil: no such route.
	RegistryClock *clock.Test
	DatabaseURL   string
	// SnapshotDatabaseURL, when set, is a PostgreSQL replica full
	// snapshots are read from (controlplane.Config.SnapshotPool).
	SnapshotDatabaseURL string
	NATSURL             string
	Listen              string
	Pool                nspool.Pool
	// PredictableSets, ReservedNames, AllowedNames: controlplane.Config.
	PredictableSets bool
	ReservedNames   []string
	AllowedNames    []string
	Secrets         secrets
	SignupEnabled   bool
	RateLimit       float64
	// ExportRate is controlplane.Config.ExportRate (0: its default).
	ExportRate int
	// AllowPrivateTargets lets health checks probe private and loopback
	// addresses; MinHealthInterval allows intervals under 10 s. Both are
	// for development.
	AllowPrivateTargets bool
	MinHealthInterval   int
	Logger              *slog.Logger
	// Database bounds every wait on PostgreSQL; HTTP the server's
	// timeouts and request deadline (docs/operations.md).
	Database controlplane.DatabaseOptions
	HTTP     httpOptions
	// DNSSEC are the signing timings; DNSSECInterval how often the
	// leader takes due rollover steps (docs/dnssec.md).
	DNSSEC         controlplane.DNSSECOptions
	DNSSECInterval time.Duration
	// AlarmInterval is how often the alarm leader evaluates alarms and
	// delivers webhooks. Zero means 10 s.
	AlarmInterval time.Duration
	// MetricsRetention is how long the tenants' per-minute metrics are
	// kept (--metrics-retention); zero means
	// controlplane.DefaultMetricsRetention.
	MetricsRetention time.Duration
	// NATSReplicas is the replica count of the zone stream and the KV
	// buckets (--nats-replicas); 0 means 1.
	NATSReplicas int
	// QueryLog bounds the query log stream (--querylog-max-bytes,
	// --querylog-max-age); zero fields take event's defaults.
	QueryLog queryLogLimits
	// Metrics is the process's Prometheus registry, served at GET
	// /metrics on the API port; nil makes one (role "api").
	Metrics *prometheus.Registry
	// Registry runs the built-in registry (registrar/registry) and the
	// registrar on the control plane's database, so that the API serves
	// the Route 53 Domains API (`waymark dev`).
	Registry bool
	// Lifecycle, with Registry, campaigns for the registrar lifecycle's
	// leadership and runs it (auto-renewals, expiries, transfers,
	// registrant verification, mail; registrar/lifecycle.go) with this
	// configuration; nil runs none (`waymark dev` runs its own, on a test
	// clock). The external registries' worker runs with it.
	Lifecycle *registrar.LifecycleConfig
}

// httpOptions are the API server's timeouts; zero fields take defaults.
type httpOptions struct {
	ReadHeaderTimeout time.Duration // default 10 s
	ReadTimeout       time.Duration // whole request, body included; default 60 s
	WriteTimeout      time.Duration // response; long polls extend it; default 60 s
	IdleTimeout       time.Duration // keep-alive; default 120 s
	RequestTimeout    time.Duration // handler deadline; default api.DefaultRequestTimeout
	GateInterval      time.Duration // database check period; default 1 s
	GateTimeout       time.Duration // one database check; default 1 s
}

// newHTTPServer is the API's server with o's timeouts (o has its
// defaults): slow headers and slow bodies are cut off, idle keep-alive
// connections closed.
func newHTTPServer(h http.Handler, o httpOptions) *http.Server {
	return &http.Server{
		Handler:           h,
		ReadHeaderTimeout: o.ReadHeaderTimeout,
		ReadTimeout:       o.ReadTimeout,
		WriteTimeout:      o.WriteTimeout,
		IdleTimeout:       o.IdleTimeout,
	}
}

func (o httpOptions) withDefaults() httpOptions {
	def := func(d *time.Duration, v time.Duration) {
		if *d <= 0 {
			*d = v
		}
	}
	def(&o.ReadHeaderTimeout, 10*time.Second)
	def(&o.ReadTimeout, 60*time.Second)
	def(&o.WriteTimeout, 60*time.Second)
	def(&o.IdleTimeout, 120*time.Second)
	def(&o.RequestTimeout, api.DefaultRequestTimeout)
	return o
}

// controlPlane is a running API process: HTTP server, outbox relay and
// fleet tracker, sharing one database pool and one NATS connection.
type controlPlane struct {
	Service *controlplane.Service
	// Registry and Registrar are nil unless controlPlaneOptions.Registry.
	Registry  *registry.Registry
	Registrar *registrar.Service
	Addr      string // the bound HTTP address
	pool      *pgxpool.Pool
	snapPool  *pgxpool.Pool // nil without SnapshotDatabaseURL
	nc        *nats.Conn
	srv       *http.Server
	done      chan error
}

// startControlPlane migrates the database, connects to NATS (retrying in
// the background when it is down: events wait in the outbox meanwhile) and
// starts serving. It returns once the HTTP listener is bound.
func startControlPlane(ctx context.Context, o controlPlaneOptions) (*controlPlane, error) {
	log := o.Logger
	if err := migrations.EnsureDatabase(ctx, o.DatabaseURL); err != nil {
		return nil, err
	}
	if err := migrations.Up(ctx, o.DatabaseURL, log.With("component", "migrate")); err != nil {
		return nil, err
	}
	pool, err := controlplane.NewPool(ctx, o.DatabaseURL, o.Database)
	if err != nil {
		return nil, fmt.Errorf("database: %w", err)
	}
	var snapPool *pgxpool.Pool
	closePools := func() {
		pool.Close()
		if snapPool != nil {
			snapPool.Close()
		}
	}
	if o.SnapshotDatabaseURL != "" {
		// Connections are made on demand: a replica that is down makes
		// the snapshots fail (nameservers try their other APIs and their
		// caches), not the API.
		if snapPool, err = controlplane.NewPool(ctx, o.SnapshotDatabaseURL, o.Database); err != nil {
			closePools()
			return nil, fmt.Errorf("snapshot database: %w", err)
		}
	}
	nc, err := nats.Connect(o.NATSURL,
		nats.Name("waymark-api"),
		nats.MaxReconnects(-1),
		nats.RetryOnFailedConnect(true),
		nats.ReconnectWait(500*time.Millisecond))
	if err != nil {
		closePools()
		return nil, fmt.Errorf("nats %s: %w", o.NATSURL, err)
	}
	js, err := jetstream.New(nc)
	if err != nil {
		nc.Close()
		closePools()
		return nil, fmt.Errorf("jetstream: %w", err)
	}

	svc, err := controlplane.New(pool, controlplane.Config{
		Pool:            o.Pool,
		PredictableSets: o.PredictableSets,
		ReservedNames:   o.ReservedNames,
		AllowedNames:    o.AllowedNames,
		MasterKey:       o.Secrets.MasterKey,
		JWTKey:          o.Secrets.JWTKey,
		FleetKey:        o.Secrets.FleetKey,
		DNSSEC:          o.DNSSEC,
		Logger:          log,
		QueryLogs:       js,
		RelayWake:       nc,
		SnapshotPool:    snapPool,
		ExportRate:      o.ExportRate,
		HealthChecks: controlplane.HealthCheckOptions{Options: healthcfg.Options{
			AllowPrivateTargets: o.AllowPrivateTargets,
			MinRequestInterval:  o.MinHealthInterval,
		}},
	})
	if err != nil {
		nc.Close()
		closePools()
		return nil, err
	}
	var reg *registry.Registry
	var rsvc *registrar.Service
	var rapi api.RegistrarService // stays a nil interface without a registry
	if o.Registry {
		rc := registry.Config{Pool: o.Pool}
		if o.RegistryClock != nil {
			rc.Now = o.RegistryClock.Now
		}
		if reg, err = registry.Open(ctx, pool, svc, rc); err != nil {
			nc.Close()
			closePools()
			return nil, fmt.Errorf("registry: %w", err)
		}
		if rsvc, err = registrar.New(ctx, pool, svc, reg, registrar.Config{}); err != nil {
			nc.Close()
			closePools()
			return nil, fmt.Errorf("registrar: %w", err)
		}
		rapi = rsvc
	}

	ln, err := net.Listen("tcp", o.Listen)
	if err != nil {
		nc.Close()
		closePools()
		return nil, fmt.Errorf("listen %s: %w", o.Listen, err)
	}
	agg, err := healthcheck.NewAggregator(healthcheck.AggregatorConfig{
		NATS:     nc,
		Store:    svc,
		Replicas: o.NATSReplicas,
		Logger:   log,
	})
	if err != nil {
		_ = ln.Close()
		nc.Close()
		closePools()
		return nil, err
	}
	ho := o.HTTP.withDefaults()
	gate := api.NewDatabaseGate(pool.Ping, api.GateOptions{Interval: ho.GateInterval, Timeout: ho.GateTimeout})
	if o.Metrics == nil {
		o.Metrics = metrics.NewRegistry("api")
	}
	cpm := registerControlPlaneMetrics(o.Metrics, pool, nc)
	router := api.NewRouter(api.Config{
		Metrics:        o.Metrics,
		Database:       gate,
		RequestTimeout: ho.RequestTimeout,
		WriteTimeout:   ho.WriteTimeout,
		Service:        svc,
		RegistryClock:  o.RegistryClock,
		Registrar:      rapi,
		AdminToken:     o.Secrets.AdminToken,
		SignupEnabled:  o.SignupEnabled,
		RateLimit:      o.RateLimit,
		Logger:         log.With("component", "api"),
		ReadyFunc:      func(ctx context.Context) error { return pool.Ping(ctx) },
		// test-answer asks a live nameserver over NATS, so that the
		// answer is the one a nameserver really gives.
		TestAnswer: func(ctx context.Context, req event.TestAnswerRequest) (event.TestAnswerResponse, error) {
			return event.RequestTestAnswer(ctx, nc, req)
		},
	})
	cp := &controlPlane{
		Service:   svc,
		Registry:  reg,
		Registrar: rsvc,
		Addr:      ln.Addr().String(),
		pool:      pool,
		snapPool:  snapPool,
		nc:        nc,
		srv:       newHTTPServer(httpcomp.Prefix("/v1/nameserver/", router), ho),
		done:      make(chan error, 16),
	}
	relay := controlplane.NewRelay(pool, js, controlplane.RelayConfig{
		Replicas: o.NATSReplicas, Logger: log,
		ObservePublish: cpm.observePublish, ObserveInSync: cpm.observeInSync})
	svc.AttachRelay(relay)
	tracker := controlplane.NewTracker(pool, nc, controlplane.TrackerConfig{Logger: log,
		ObserveInSync: cpm.observeInSync})
	go gate.Run(ctx)
	go ensureQueryLogStream(ctx, js, event.QueryLogStreamConfig(o.NATSReplicas, o.QueryLog.MaxBytes, o.QueryLog.MaxAge),
		log.With("component", "querylog"))
	go func() { cp.done <- nameErr("relay", relay.Run(ctx)) }()
	go func() { cp.done <- nameErr("tracker", tracker.Run(ctx)) }()
	// Every API process campaigns; exactly one aggregates health.
	go func() {
		cp.done <- nameErr("health", svc.RunLeader(ctx, controlplane.DefaultHealthLockKey, agg.Run))
	}()
	// And exactly one takes the DNSSEC rollover steps.
	go func() {
		cp.done <- nameErr("dnssec", svc.RunLeader(ctx, controlplane.DefaultDNSSECLockKey, func(ctx context.Context) error {
			return svc.RunDNSSEC(ctx, o.DNSSECInterval)
		}))
	}()
	// And exactly one keeps the secondary zones up to date with their
	// primaries.
	go func() {
		cp.done <- nameErr("secondary", svc.RunLeader(ctx, controlplane.DefaultSecondaryLockKey, func(ctx context.Context) error {
			return svc.RunSecondaries(ctx, controlplane.SecondaryOptions{NATS: nc})
		}))
	}()
	// And exactly one evaluates alarms and delivers their webhooks.
	go func() {
		cp.done <- nameErr("alarms", svc.RunLeader(ctx, controlplane.DefaultAlarmLockKey, func(ctx context.Context) error {
			return svc.RunAlarms(ctx, o.AlarmInterval)
		}))
	}()
	// Every process ingests the nameservers' query reports (each report
	// reaches one of them), and one prunes the metrics past retention.
	go func() { cp.done <- nameErr("zone-queries", svc.RunZoneQueryIngest(ctx, js, o.NATSReplicas)) }()
	go func() {
		cp.done <- nameErr("metrics-retention", svc.RunLeader(ctx, controlplane.DefaultMetricsLockKey, func(ctx context.Context) error {
			return svc.RunMetricsRetention(ctx, o.MetricsRetention, 0)
		}))
	}()
	if rsvc != nil && o.Lifecycle != nil {
		lc := rsvc.NewLifecycle(*o.Lifecycle)
		go func() { cp.done <- nameErr("lifecycle", lc.Run(ctx)) }()
		// The external registries' EPP worker (registrar/external_worker.go)
		// leads with the lifecycle's switch: both are the registrar's work
		// in the background.
		xw := rsvc.NewExternalWorker(registrar.ExternalConfig{Logger: o.Lifecycle.Logger})
		go func() { cp.done <- nameErr("external-registries", xw.Run(ctx)) }()
	}
	go func() {
		err := cp.srv.Serve(ln)
		if errors.Is(err, http.ErrServerClosed) {
			err = nil
		}
		cp.done <- nameErr("http", err)
	}()
	return cp, nil
}

// Wait blocks until ctx ends or a component fails, then shuts down: HTTP
// first (in-flight requests finish), then NATS and the database.
func (cp *controlPlane) Wait(ctx context.Context) error {
	var err error
	select {
	case <-ctx.Done():
	case err = <-cp.done:
	}
	cp.Close()
	return err
}

// Close stops serving and releases the connections.
func (cp *controlPlane) Close() {
	sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	// Long polls answer now, while the database is still there, instead
	// of failing when it is closed after the shutdown's grace period.
	cp.Service.Drain()
	_ = cp.srv.Shutdown(sctx)
	_ = cp.nc.Drain()
	cp.pool.Close()
	if cp.snapPool != nil {
		cp.snapPool.Close()
	}
}

func nameErr(component string, err error) error {
	if err == nil || errors.Is(err, context.Canceled) {
		return nil
	}
	return fmt.Errorf("%s: %w", component, err)
}
