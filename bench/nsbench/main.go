// Command nsbench serves one master file with the Waymark data plane, for
// benchmarks against other nameservers (see ../dns_vs_knot.sh). It is not
// the production nameserver: no control plane, no sync, ready at once.
package main

import (
	"context"
	"crypto/rand"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"runtime/debug"
	"runtime/pprof"
	"syscall"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/waymark-dns/waymark/dataplane"
	"github.com/waymark-dns/waymark/event"
	"github.com/waymark-dns/waymark/internal/dnstest"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "nsbench:", err)
		os.Exit(1)
	}
}

func run() error {
	zoneFile := flag.String("zone", "", "master file to serve")
	origin := flag.String("origin", "", "zone origin, e.g. bench.example.")
	addr := flag.String("addr", "127.0.0.1:5300", "UDP and TCP listen address")
	workers := flag.Int("udp-workers", 0, "UDP reader goroutines (0: GOMAXPROCS)")
	cpuProfile := flag.String("cpuprofile", "", "write a CPU profile of the serving time to this file")
	routed := flag.Bool("routed", false, "serve A sets named wt<N> as weighted groups and geo<N> as geolocation groups (see routed.go)")
	geoDB := flag.String("geoip-db", "", "MaxMind-format GeoIP database for routed answers (bench/mkgeoip makes one)")
	rrlRate := flag.Int("rrl-rate", 0, "response rate limit per client prefix and class (0: off, as Knot without mod-rrl)")
	rrlSlip := flag.Int("rrl-slip", 2, "send every Nth limited response truncated (-1: none)")
	rrlTable := flag.Int("rrl-table-size", 0, "rate-limit buckets (0: the default)")
	cookies := flag.Bool("cookies", false, "answer DNS cookies (as Knot's mod-cookies)")
	tcpMax := flag.Int("tcp-max-conns", 0, "open TCP connections at most (0: the nameserver's default)")
	sign := flag.Bool("sign", false, "sign the zone with DNSSEC (fresh keys) and sign DO=1 answers online (../dnssec_vs_knot.sh)")
	sigCache := flag.Int("sig-cache", 0, "signature cache size with -sign (0: the nameserver's default)")
	sigBudget := flag.Int("sign-budget", -1, "fresh signatures per second for UDP answers, per node and per zone, with -sign (-1: unlimited, so that dnsperf counts real answers, not TC; 0: the nameserver's default)")
	withMetrics := flag.Bool("metrics", false, "count answers for Prometheus (query metrics and latency) and per zone for the tenants' metrics, as `waymark nameserver` does by default")
	flag.Parse()
	if *zoneFile == "" || *origin == "" {
		return fmt.Errorf("-zone and -origin are required")
	}
	f, err := os.Open(*zoneFile)
	if err != nil {
		return err
	}
	sets, err := dnstest.ReadZone(f, *origin)
	_ = f.Close()
	if err != nil {
		return err
	}
	if *routed {
		sets = routedSets(sets)
	}
	store := dataplane.NewStore()
	st := event.ZoneState{ID: "ZBENCH", Name: *origin, Version: 1, RRSets: sets}
	if *sign {
		fleetKey := make([]byte, 32)
		if _, err := rand.Read(fleetKey); err != nil {
			return err
		}
		if st.DNSSEC, err = signingMaterial(st.ID, *origin, fleetKey); err != nil {
			return err
		}
		store.SetSigning(dataplane.SigningConfig{FleetKey: fleetKey, CacheSize: *sigCache, Budget: *sigBudget, ZoneBudget: *sigBudget})
	}
	if err := store.ReplaceZone(st); err != nil {
		return err
	}
	n := len(sets)
	sets = nil
	// The parsed file is garbage now: give it back, so that the resident
	// size measured is the served zone's.
	debug.FreeOSMemory()
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	srv := dataplane.NewServer(store, dataplane.Config{
		Addr: *addr, Logger: log, UDPWorkers: *workers,
		RRL:     dataplane.RRLConfig{Rate: *rrlRate, Slip: *rrlSlip, TableSize: *rrlTable},
		TCP:     dataplane.TCPConfig{MaxConns: *tcpMax},
		Cookies: dataplane.CookieConfig{Off: !*cookies},
		// The per-zone counters are only counted here: publishing them
		// (ZoneQueryReporter) is off the query path.
		CountZoneQueries: *withMetrics,
	})
	if *withMetrics {
		dataplane.NewMetrics(prometheus.NewRegistry()).EnableMetrics(srv)
	}
	if *geoDB != "" {
		db, err := dataplane.OpenGeoDB(*geoDB)
		if err != nil {
			return err
		}
		defer func() { _ = db.Close() }()
		srv.Handler().SetRouting(dataplane.Routing{GeoIP: db, Health: dataplane.HealthMap{}})
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := srv.Start(ctx); err != nil {
		return err
	}
	srv.SetReady(true)
	fmt.Fprintf(os.Stderr, "nsbench: serving %d record sets of %s on %s\n", n, *origin, srv.UDPAddr())
	if *cpuProfile != "" {
		pf, err := os.Create(*cpuProfile)
		if err != nil {
			return err
		}
		if err := pprof.StartCPUProfile(pf); err != nil {
			return err
		}
		defer func() { pprof.StopCPUProfile(); _ = pf.Close() }()
	}
	<-ctx.Done()
	fmt.Fprintf(os.Stderr, "nsbench: %s\n", srv.Stats())
	sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	return srv.Shutdown(sctx)
}
