package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"os"
	"runtime/debug"
	"strconv"
	"strings"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/waymark-dns/waymark/dataplane"
	"github.com/waymark-dns/waymark/internal/metrics"
	"github.com/waymark-dns/waymark/nspool"
)

// nameserverOptions configures one nameserver: DNS listener plus sync node.
type nameserverOptions struct {
	// FleetKey unwraps the ZSKs of signed zones; without it their DO=1
	// answers are SERVFAIL.
	FleetKey []byte
	NodeID   string
	Region   string
	Listen   string
	NATSURL  string
	NATS     *nats.Conn // in-process use; NATSURL is dialed when nil
	// APIURL is the control-plane base URL, or several comma-separated
	// (nearest first): dataplane.NodeConfig.SnapshotURL and FallbackURLs.
	APIURL     string
	AdminToken string
	CacheDir   string
	// GeoIPDB and LatencyTable are the routing inputs (files); empty
	// means none (see docs/routing.md).
	GeoIPDB      string
	LatencyTable string
	Logger       *slog.Logger
	ReportDelay  time.Duration
	// Pool is the operator's pool, Serve the names of it this nameserver
	// serves (all when empty). With addresses in the pool the nameserver
	// listens on each served name's addresses, on Listen's port, and
	// answers there only for the zones on that name's delegation sets;
	// without any it listens on Listen and serves every zone there.
	Pool  nspool.Pool
	Serve []string
	// Hostmaster is the SOA RNAME of the fleet's own zones.
	Hostmaster string
	// Limits are the TCP, rate-limiting, cookie and signing-budget settings.
	Limits dnsLimits
	// Metrics, when set, receives the DNS and sync metrics.
	Metrics prometheus.Registerer
	// QueryLogQueue is the number of query log entries waiting to be
	// published at most (--querylog-queue); 0: dataplane's default.
	QueryLogQueue int
	// DnstapSocket, when set, is the unix socket of a dnstap collector
	// that gets every query and answer (--dnstap-socket).
	DnstapSocket string
}

// nameserver is a running DNS server fed by a sync node.
type nameserver struct {
	Server  *dataplane.Server   // the first listener
	Servers []*dataplane.Server // one per address
	// Listening describes the listeners: "ns1.waymark.test. 127.0.0.1:5300".
	Listening []string
	Node      *dataplane.Node
	nc        *nats.Conn // its NATS connection (waymark_nats_connected)
	done      chan error
}

// listener is one address a nameserver answers on, in one view.
type listener struct {
	addr string
	name string // pool name; "" without views
	view int
}

// plan returns the served pool (nil without views) and the listeners.
func (o nameserverOptions) plan() (nspool.Pool, []listener, error) {
	served := o.Pool
	if len(o.Serve) > 0 {
		var err error
		if served, err = o.Pool.Select(o.Serve); err != nil {
			return nspool.Pool{}, nil, err
		}
	}
	withAddrs := 0
	for _, s := range o.Pool.Servers {
		if len(s.Addrs) > 0 {
			withAddrs++
		}
	}
	if withAddrs == 0 {
		// Names only: no way to tell views apart by address.
		if len(o.Serve) > 0 {
			return nspool.Pool{}, nil, errors.New("--serve needs the pool names' addresses in WAYMARK_NAMESERVERS")
		}
		return nspool.Pool{}, []listener{{addr: o.Listen}}, nil
	}
	_, port, err := net.SplitHostPort(o.Listen)
	if err != nil {
		return nspool.Pool{}, nil, fmt.Errorf("listen address %q: %w", o.Listen, err)
	}
	var ls []listener
	for v, s := range served.Servers {
		if len(s.Addrs) == 0 {
			return nspool.Pool{}, nil, fmt.Errorf("pool name %s has no address to listen on", s.Name)
		}
		for _, a := range s.Addrs {
			ls = append(ls, listener{addr: net.JoinHostPort(a.String(), port), name: s.Name, view: v})
		}
	}
	return served, ls, nil
}

// startNameserver binds the DNS sockets (answering SERVFAIL until the
// initial sync is done) and starts syncing.
func startNameserver(ctx context.Context, o nameserverOptions) (*nameserver, error) {
	served, listeners, err := o.plan()
	if err != nil {
		return nil, err
	}
	store := dataplane.NewStoreViews(served.Names())
	signing := o.Limits.Signing
	signing.FleetKey = o.FleetKey
	store.SetSigning(signing)
	store.SetJournal(o.Limits.Journal)
	if len(o.Pool.Servers) > 0 {
		if err := store.SetSystemZones(o.Pool.SystemZones(o.hostmaster())); err != nil {
			return nil, fmt.Errorf("the fleet's own zones: %w", err)
		}
	}
	ns := &nameserver{done: make(chan error, 1)}
	var dm *dataplane.Metrics
	if o.Metrics != nil {
		dm = dataplane.NewMetrics(o.Metrics)
	}
	base := dataplane.NewHandler(store)
	// NATS first: the query log publishes on it, and the handlers of the
	// listeners share the query log. Connecting does not wait for NATS.
	nc := o.NATS
	if nc == nil {
		var err error
		nlog := o.Logger.With("component", "nats")
		nc, err = nats.Connect(o.NATSURL, nats.Name("waymark-nameserver-"+o.NodeID), nats.MaxReconnects(-1),
			nats.RetryOnFailedConnect(true), nats.ReconnectWait(500*time.Millisecond),
			// Which NATS server a nameserver is on, and when it moved,
			// is what an operator asks first after losing a NATS node.
			nats.ConnectHandler(func(c *nats.Conn) { nlog.Info("nats connected", "server", c.ConnectedUrlRedacted()) }),
			nats.DisconnectErrHandler(func(_ *nats.Conn, err error) { nlog.Warn("nats disconnected", "err", err) }),
			nats.ReconnectHandler(func(c *nats.Conn) { nlog.Info("nats reconnected", "server", c.ConnectedUrlRedacted()) }))
		if err != nil {
			return nil, fmt.Errorf("nats %s: %w", o.NATSURL, err)
		}
	}
	qctx, stopQueryLog := context.WithCancel(context.WithoutCancel(ctx))
	shutdown := func() {
		for _, s := range ns.Servers {
			_ = s.Shutdown(context.Background())
		}
		stopQueryLog()
		if o.NATS == nil {
			nc.Close()
		}
	}
	ql, err := startQueryLog(qctx, nc, o.NodeID, o.Region, o.QueryLogQueue, o.Logger.With("component", "querylog"))
	if err != nil {
		shutdown()
		return nil, err
	}
	base.SetQueryLog(ql)
	// NOTIFYs from secondary zones' primaries go to the control plane's
	// refresh leader on core NATS, at most one per zone per interval.
	relay := dataplane.NewNotifyRelay(dataplane.NotifyRelayConfig{Publish: nc.Publish, NodeID: o.NodeID,
		Logger: o.Logger.With("component", "notify-relay")})
	base.SetNotifyRelay(relay)
	go func() { _ = relay.Run(qctx) }()
	var tap *dataplane.Dnstap
	if o.DnstapSocket != "" {
		if tap, err = dataplane.NewDnstap(dataplane.DnstapConfig{Socket: o.DnstapSocket, Identity: o.NodeID,
			Version: "waymark", Logger: o.Logger.With("component", "dnstap")}); err != nil {
			shutdown()
			return nil, fmt.Errorf("dnstap: %w", err)
		}
		go tap.Run(qctx)
	}
	if dm != nil {
		dm.SetQueryLog(ql)
		if tap != nil {
			dm.SetDnstap(tap)
		}
	}
	for _, l := range listeners {
		srv := dataplane.NewServer(store, dataplane.Config{Addr: l.addr, Logger: o.Logger.With("component", "dns"),
			Handler: base.ForView(l.view), TCP: o.Limits.TCP, RRL: o.Limits.RRL, Cookies: o.Limits.Cookies,
			CountZoneQueries: o.Limits.ZoneQueryInterval > 0})
		if dm != nil {
			dm.EnableMetrics(srv)
		}
		srv.SetDnstap(tap)
		if err := srv.Start(ctx); err != nil {
			shutdown()
			return nil, fmt.Errorf("dns listen %s: %w", l.addr, err)
		}
		ns.Servers = append(ns.Servers, srv)
		desc := srv.UDPAddr().String()
		if l.name != "" {
			desc = l.name + " " + desc
		}
		ns.Listening = append(ns.Listening, desc)
	}
	srv := ns.Servers[0]
	ns.Server = srv
	var zq *dataplane.ZoneQueryReporter
	if o.Limits.ZoneQueryInterval > 0 {
		zq, err = dataplane.NewZoneQueryReporter(dataplane.ZoneQueryReporterConfig{Store: store, NATS: nc,
			NodeID: o.NodeID, Region: o.Region, Interval: o.Limits.ZoneQueryInterval,
			Logger: o.Logger.With("component", "zone-queries")})
		if err != nil {
			shutdown()
			return nil, err
		}
	}
	stopRouting, err := dataplane.StartRouting(ctx, nc, base, dataplane.RoutingOptions{
		GeoIPPath:        o.GeoIPDB,
		LatencyTablePath: o.LatencyTable,
		NodeID:           o.NodeID,
		Region:           o.Region,
		CacheDir:         o.CacheDir,
		Logger:           o.Logger.With("component", "routing"),
	})
	if err != nil {
		shutdown()
		return nil, err
	}
	// The APIs in the order they are tried; none is a node that starts
	// from its cache only.
	apis := splitList(o.APIURL)
	if len(apis) == 0 {
		apis = []string{""}
	}
	node, err := dataplane.NewNode(dataplane.NodeConfig{
		NodeID:       o.NodeID,
		Region:       o.Region,
		NATS:         nc,
		SnapshotURL:  apis[0],
		FallbackURLs: apis[1:],
		AdminToken:   o.AdminToken,
		CacheDir:     o.CacheDir,
		Store:        store,
		Serves:       served.Names(),
		SetReady:     base.SetReady,
		ReportDelay:  o.ReportDelay,
		Logger:       o.Logger,
	})
	if err != nil {
		stopRouting()
		shutdown()
		return nil, err
	}
	ns.Node = node
	ns.nc = nc
	if dm != nil {
		dm.SetNode(node)
	}
	logDNSLimits(o.Logger.With("component", "dns"), o.Limits)
	// NOTIFYs leave from the first listener's address when it is a
	// specific one: secondaries accept NOTIFY from their primaries only.
	var notifyFrom netip.Addr
	if ap, err := netip.ParseAddrPort(srv.UDPAddr().String()); err == nil && !ap.Addr().IsUnspecified() {
		notifyFrom = ap.Addr()
	}
	go func() {
		_ = dataplane.NewNotifier(store, dataplane.NotifyConfig{LocalAddr: notifyFrom,
			Logger: o.Logger.With("component", "notify")}).Run(ctx)
	}()
	go reportDNSStats(ctx, ns.Servers, o.Limits.StatsInterval, o.Logger.With("component", "dns"))
	// The tenants' per-zone query counts; its last report goes out after
	// the servers stop, before NATS closes.
	reported := make(chan struct{})
	if zq != nil {
		go func() {
			defer close(reported)
			_ = zq.Run(ctx)
		}()
	} else {
		close(reported)
	}
	go func() {
		err := node.Run(ctx)
		sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		for _, s := range ns.Servers {
			_ = s.Shutdown(sctx)
		}
		<-reported
		stopRouting()
		stopQueryLog()
		if o.NATS == nil {
			nc.Close()
		}
		if errors.Is(err, context.Canceled) {
			err = nil
		}
		ns.done <- err
	}()
	return ns, nil
}

func (o nameserverOptions) hostmaster() string {
	if o.Hostmaster != "" {
		return o.Hostmaster
	}
	return "hostmaster." + nspool.Parent(o.Pool.Servers[0].Name)
}

func runNameserver(ctx context.Context, args []string) error {
	host, _ := os.Hostname()
	fs := flag.NewFlagSet("nameserver", flag.ContinueOnError)
	region := fs.String("region", env("WAYMARK_REGION", ""), "region this nameserver runs in (WAYMARK_REGION), e.g. eu-west-1")
	nodeID := fs.String("node-id", env("WAYMARK_NODE_ID", host), "unique id of this nameserver in the fleet (WAYMARK_NODE_ID)")
	listen := fs.String("listen", env("WAYMARK_DNS_LISTEN", "127.0.0.1:5300"), "DNS listen address, UDP and TCP (WAYMARK_DNS_LISTEN)")
	natsURL := fs.String("nats-url", env("WAYMARK_NATS_URL", nats.DefaultURL), "NATS URLs (WAYMARK_NATS_URL)")
	apiURL := fs.String("api", env("WAYMARK_API", "http://127.0.0.1:8080"),
		"control-plane API base URLs for snapshots and zone refetches, comma-separated, tried in order: the nearest first (WAYMARK_API); when none answers the nameserver serves its cache")
	geoip := fs.String("geoip-db", env("WAYMARK_GEOIP_DB", ""), "MaxMind-format GeoIP database for geolocation and latency routing (WAYMARK_GEOIP_DB)")
	latency := fs.String("latency-table", env("WAYMARK_LATENCY_TABLE", ""), "latency table overriding great-circle distance (WAYMARK_LATENCY_TABLE)")
	cacheDir := fs.String("cache-dir", env("WAYMARK_CACHE_DIR", ""), "directory for the on-disk zone cache (WAYMARK_CACHE_DIR); empty disables it")
	poolCfg := poolFlags(fs)
	serve := fs.String("serve", env("WAYMARK_SERVE", ""), "pool names this nameserver serves, e.g. ns1,ns2 (WAYMARK_SERVE); empty: all")
	limitFlags := dnsLimitFlags(fs)
	metricsListen := fs.String("metrics-listen", env("WAYMARK_METRICS_LISTEN", ""), "address serving Prometheus metrics at /metrics, e.g. 127.0.0.1:9153 (WAYMARK_METRICS_LISTEN); empty: none")
	memLimit := fs.String("memory-limit", env("WAYMARK_MEMORY_LIMIT", ""),
		"soft memory limit of the process, as GOMEMLIMIT: 512MiB, 2GiB, bytes (WAYMARK_MEMORY_LIMIT); empty leaves GOMEMLIMIT or none")
	defQueue, _ := strconv.Atoi(env("WAYMARK_QUERYLOG_QUEUE", "8192"))
	qlogQueue := fs.Int("querylog-queue", defQueue,
		"query log entries waiting to be published at most; more are dropped and counted, never the answers (WAYMARK_QUERYLOG_QUEUE)")
	dnstapSocket := fs.String("dnstap-socket", env("WAYMARK_DNSTAP_SOCKET", ""),
		"unix socket of a dnstap collector (e.g. dnstap -u PATH) that gets every query and answer as Frame Streams; empty: none (WAYMARK_DNSTAP_SOCKET)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *qlogQueue < 1 {
		return errors.New("--querylog-queue: at least 1")
	}
	if *memLimit != "" {
		limit, err := parseMemoryLimit(*memLimit)
		if err != nil {
			return fmt.Errorf("--memory-limit: %w", err)
		}
		// The garbage collector works harder as the heap nears the limit,
		// so a load's garbage cannot push the process far past it; it is
		// soft: live zones beyond it are kept, at the cost of GC time.
		debug.SetMemoryLimit(limit)
	}
	limits, err := limitFlags()
	if err != nil {
		return err
	}
	pool, err := poolCfg.pool()
	if err != nil {
		return err
	}
	if *region == "" {
		return errors.New("--region is required")
	}
	token := os.Getenv("WAYMARK_ADMIN_TOKEN")
	if token == "" {
		return errors.New("WAYMARK_ADMIN_TOKEN must be set: the nameserver reads snapshots with it")
	}
	fleetKey, err := fleetKeyFromEnv()
	if err != nil {
		return err
	}
	log := newLogger().With("node", *nodeID, "region", *region)
	reg := metrics.NewRegistry("nameserver")
	if *metricsListen != "" {
		addr, err := metrics.Serve(ctx, *metricsListen, reg, log)
		if err != nil {
			return fmt.Errorf("metrics listen: %w", err)
		}
		log.Info("metrics listening", "addr", addr)
	}
	if fleetKey == nil {
		log.Warn("WAYMARK_FLEET_KEY is not set: DNSSEC-signed zones answer SERVFAIL to DO=1 queries")
	}
	ns, err := startNameserver(ctx, nameserverOptions{
		FleetKey: fleetKey, NodeID: *nodeID, Region: *region, Listen: *listen, NATSURL: *natsURL,
		APIURL: *apiURL, AdminToken: token, CacheDir: *cacheDir,
		GeoIPDB: *geoip, LatencyTable: *latency, Logger: log,
		Pool: pool, Serve: splitList(*serve), Limits: limits,
		Metrics: reg, QueryLogQueue: *qlogQueue, DnstapSocket: *dnstapSocket,
	})
	if err != nil {
		return err
	}
	metrics.Connected(reg, "waymark_nats_connected", "1 while the process's NATS connection is up.", ns.nc.IsConnected)
	log.Info("nameserver listening", "on", strings.Join(ns.Listening, ", "))
	return <-ns.done
}

// parseMemoryLimit reads a size as GOMEMLIMIT does: a number of bytes with
// an optional unit B, KiB, MiB, GiB or TiB.
func parseMemoryLimit(s string) (int64, error) {
	num, mult := strings.TrimSpace(s), int64(1)
	for _, u := range []struct {
		suffix string
		mult   int64
	}{{"TiB", 1 << 40}, {"GiB", 1 << 30}, {"MiB", 1 << 20}, {"KiB", 1 << 10}, {"B", 1}} {
		if rest, ok := strings.CutSuffix(num, u.suffix); ok {
			num, mult = rest, u.mult
			break
		}
	}
	n, err := strconv.ParseInt(num, 10, 64)
	if err != nil || n <= 0 {
		return 0, fmt.Errorf("%q is not a size such as 512MiB or 2GiB", s)
	}
	if n > (1<<63-1)/mult {
		return 0, fmt.Errorf("%q is too large", s)
	}
	return n * mult, nil
}
