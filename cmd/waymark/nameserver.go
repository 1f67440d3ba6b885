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
	"github.com/waymark-dns/waymark/dataplane"
)

// nameserverOptions configures one nameserver: DNS listener plus sync node.
type nameserverOptions struct {
	NodeID     string
	Region     string
	Listen     string
	NATSURL    string
	NATS       *nats.Conn // in-process use; NATSURL is dialed when nil
	APIURL     string
	AdminToken string
	CacheDir   string
	// GeoIPDB and LatencyTable are the routing inputs (files); empty
	// means none (see docs/routing.md).
	GeoIPDB      string
	LatencyTable string
	Logger       *slog.Logger
	ReportDelay  time.Duration
}

// nameserver is a running DNS server fed by a sync node.
type nameserver struct {
	Server *dataplane.Server
	Node   *dataplane.Node
	done   chan error
}

// startNameserver binds the DNS sockets (answering SERVFAIL until the
// initial sync is done) and starts syncing.
func startNameserver(ctx context.Context, o nameserverOptions) (*nameserver, error) {
	store := dataplane.NewStore()
	srv := dataplane.NewServer(store, dataplane.Config{Addr: o.Listen, Logger: o.Logger.With("component", "dns")})
	if err := srv.Start(ctx); err != nil {
		return nil, fmt.Errorf("dns listen %s: %w", o.Listen, err)
	}
	nc := o.NATS
	if nc == nil {
		var err error
		nc, err = nats.Connect(o.NATSURL, nats.Name("waymark-nameserver-"+o.NodeID), nats.MaxReconnects(-1),
			nats.RetryOnFailedConnect(true), nats.ReconnectWait(500*time.Millisecond))
		if err != nil {
			_ = srv.Shutdown(context.Background())
			return nil, fmt.Errorf("nats %s: %w", o.NATSURL, err)
		}
	}
	stopRouting, err := dataplane.StartRouting(ctx, nc, srv.Handler(), dataplane.RoutingOptions{
		GeoIPPath:        o.GeoIPDB,
		LatencyTablePath: o.LatencyTable,
		NodeID:           o.NodeID,
		Region:           o.Region,
		Logger:           o.Logger.With("component", "routing"),
	})
	if err != nil {
		_ = srv.Shutdown(context.Background())
		return nil, err
	}
	node, err := dataplane.NewNode(dataplane.NodeConfig{
		NodeID:      o.NodeID,
		Region:      o.Region,
		NATS:        nc,
		SnapshotURL: o.APIURL,
		AdminToken:  o.AdminToken,
		CacheDir:    o.CacheDir,
		Store:       store,
		SetReady:    srv.SetReady,
		ReportDelay: o.ReportDelay,
		Logger:      o.Logger.With("component", "sync"),
	})
	if err != nil {
		stopRouting()
		_ = srv.Shutdown(context.Background())
		return nil, err
	}
	ns := &nameserver{Server: srv, Node: node, done: make(chan error, 1)}
	go func() {
		err := node.Run(ctx)
		sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(sctx)
		stopRouting()
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

func runNameserver(ctx context.Context, args []string) error {
	host, _ := os.Hostname()
	fs := flag.NewFlagSet("nameserver", flag.ContinueOnError)
	region := fs.String("region", env("WAYMARK_REGION", ""), "region this nameserver runs in (WAYMARK_REGION), e.g. eu-west-1")
	nodeID := fs.String("node-id", env("WAYMARK_NODE_ID", host), "unique id of this nameserver in the fleet (WAYMARK_NODE_ID)")
	listen := fs.String("listen", env("WAYMARK_DNS_LISTEN", "127.0.0.1:5300"), "DNS listen address, UDP and TCP (WAYMARK_DNS_LISTEN)")
	natsURL := fs.String("nats-url", env("WAYMARK_NATS_URL", nats.DefaultURL), "NATS URLs (WAYMARK_NATS_URL)")
	apiURL := fs.String("api", env("WAYMARK_API", "http://127.0.0.1:8080"), "control-plane API base URL for snapshots (WAYMARK_API)")
	geoip := fs.String("geoip-db", env("WAYMARK_GEOIP_DB", ""), "MaxMind-format GeoIP database for geolocation and latency routing (WAYMARK_GEOIP_DB)")
	latency := fs.String("latency-table", env("WAYMARK_LATENCY_TABLE", ""), "latency table overriding great-circle distance (WAYMARK_LATENCY_TABLE)")
	cacheDir := fs.String("cache-dir", env("WAYMARK_CACHE_DIR", ""), "directory for the on-disk zone cache (WAYMARK_CACHE_DIR); empty disables it")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *region == "" {
		return errors.New("--region is required")
	}
	token := os.Getenv("WAYMARK_ADMIN_TOKEN")
	if token == "" {
		return errors.New("WAYMARK_ADMIN_TOKEN must be set: the nameserver reads snapshots with it")
	}
	log := newLogger().With("node", *nodeID, "region", *region)
	ns, err := startNameserver(ctx, nameserverOptions{
		NodeID: *nodeID, Region: *region, Listen: *listen, NATSURL: *natsURL,
		APIURL: *apiURL, AdminToken: token, CacheDir: *cacheDir,
		GeoIPDB: *geoip, LatencyTable: *latency, Logger: log,
	})
	if err != nil {
		return err
	}
	log.Info("nameserver listening", "udp", ns.Server.UDPAddr(), "tcp", ns.Server.TCPAddr())
	return <-ns.done
}
