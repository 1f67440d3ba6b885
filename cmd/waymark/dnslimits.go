package main

import (
	"context"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"strconv"
	"time"

	"github.com/waymark-dns/waymark/dataplane"
)

// dnsLimits are the nameserver's protections against hostile traffic (TCP
// limits, response rate limiting, DNS cookies, signing budgets), set by flags or
// environment on `waymark nameserver` and `waymark dev` alike. Every one
// is described in docs/operations.md.
type dnsLimits struct {
	TCP     dataplane.TCPConfig
	RRL     dataplane.RRLConfig
	Cookies dataplane.CookieConfig
	// Signing holds the signing budgets and the signature cache bound
	// (FleetKey and the clock are set by the caller).
	Signing dataplane.SigningConfig
	// Journal bounds the IXFR journal (dataplane/journal.go).
	Journal dataplane.JournalConfig
	// StatsInterval is how often the counters are logged when they
	// changed; 0 never.
	StatsInterval time.Duration
	// ZoneQueryInterval is how often the per-zone query counts are
	// published for the tenants' metrics; 0 turns per-zone counting off.
	ZoneQueryInterval time.Duration
}

// dnsLimitFlags registers the flags on fs; the returned function, called
// after fs.Parse, checks them and returns the limits.
func dnsLimitFlags(fs *flag.FlagSet) func() (dnsLimits, error) {
	var errs []error
	envInt := func(name string, def int) int {
		v := os.Getenv(name)
		if v == "" {
			return def
		}
		n, err := strconv.Atoi(v)
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", name, err))
		}
		return n
	}
	envDur := func(name string, def time.Duration) time.Duration {
		v := os.Getenv(name)
		if v == "" {
			return def
		}
		d, err := time.ParseDuration(v)
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", name, err))
		}
		return d
	}
	envBool := func(name string) bool {
		v := os.Getenv(name)
		if v == "" {
			return false
		}
		b, err := strconv.ParseBool(v)
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", name, err))
		}
		return b
	}
	tcpMax := fs.Int("tcp-max-conns", envInt("WAYMARK_TCP_MAX_CONNS", 0), "open TCP connections at most; past it an idle one is closed (WAYMARK_TCP_MAX_CONNS); 0: 10,000 or half the descriptor limit")
	tcpPerIP := fs.Int("tcp-max-conns-per-ip", envInt("WAYMARK_TCP_MAX_CONNS_PER_IP", dataplane.DefaultTCPMaxConnsPerIP), "open TCP connections per client address (WAYMARK_TCP_MAX_CONNS_PER_IP)")
	tcpIdle := fs.Duration("tcp-idle-timeout", envDur("WAYMARK_TCP_IDLE_TIMEOUT", dataplane.DefaultTCPIdleTimeout), "close TCP connections idle this long (WAYMARK_TCP_IDLE_TIMEOUT)")
	tcpPressure := fs.Duration("tcp-pressure-idle-timeout", envDur("WAYMARK_TCP_PRESSURE_IDLE_TIMEOUT", dataplane.DefaultTCPPressureIdleTimeout), "idle timeout while over 3/4 of --tcp-max-conns are open (WAYMARK_TCP_PRESSURE_IDLE_TIMEOUT)")
	tcpIO := fs.Duration("tcp-io-timeout", envDur("WAYMARK_TCP_IO_TIMEOUT", dataplane.DefaultTCPIOTimeout), "time to finish reading a started query or writing an answer (WAYMARK_TCP_IO_TIMEOUT)")
	rrlOff := fs.Bool("rrl-off", envBool("WAYMARK_RRL_OFF"), "disable response rate limiting (WAYMARK_RRL_OFF)")
	rrlRate := fs.Int("rrl-rate", envInt("WAYMARK_RRL_RATE", dataplane.DefaultRRLRate), "UDP responses per second per client prefix and response class (WAYMARK_RRL_RATE)")
	rrlWindow := fs.Int("rrl-window", envInt("WAYMARK_RRL_WINDOW", dataplane.DefaultRRLWindow), "seconds of excess a rate-limit bucket remembers (WAYMARK_RRL_WINDOW)")
	rrlSlip := fs.Int("rrl-slip", envInt("WAYMARK_RRL_SLIP", dataplane.DefaultRRLSlip), "send every Nth limited response truncated (TC=1); 1 all, -1 none (WAYMARK_RRL_SLIP)")
	rrlV4 := fs.Int("rrl-ipv4-prefix", envInt("WAYMARK_RRL_IPV4_PREFIX", 24), "IPv4 prefix length counted as one client (WAYMARK_RRL_IPV4_PREFIX)")
	rrlV6 := fs.Int("rrl-ipv6-prefix", envInt("WAYMARK_RRL_IPV6_PREFIX", 56), "IPv6 prefix length counted as one client (WAYMARK_RRL_IPV6_PREFIX)")
	rrlTable := fs.Int("rrl-table-size", envInt("WAYMARK_RRL_TABLE_SIZE", dataplane.DefaultRRLTableSize), "rate-limit buckets, 16 octets each (WAYMARK_RRL_TABLE_SIZE)")
	cookiesOff := fs.Bool("cookies-off", envBool("WAYMARK_COOKIES_OFF"), "disable DNS cookies (WAYMARK_COOKIES_OFF)")
	secret := fs.String("cookie-secret", os.Getenv("WAYMARK_COOKIE_SECRET"), "server cookie secret, 32 hex characters, shared by every server of an anycast address (WAYMARK_COOKIE_SECRET); empty: random per process")
	prev := fs.String("cookie-secret-prev", os.Getenv("WAYMARK_COOKIE_SECRET_PREV"), "the previous cookie secret, still accepted during a rotation (WAYMARK_COOKIE_SECRET_PREV)")
	signBudget := fs.Int("signing-budget", envInt("WAYMARK_SIGNING_BUDGET", dataplane.DefaultSigningBudget), "fresh DNSSEC signatures per second for UDP answers, the whole node; over it TC=1 (WAYMARK_SIGNING_BUDGET); -1 unlimited")
	zoneBudget := fs.Int("zone-signing-budget", envInt("WAYMARK_ZONE_SIGNING_BUDGET", dataplane.DefaultZoneSigningBudget), "fresh DNSSEC signatures per second for UDP answers of any one zone (WAYMARK_ZONE_SIGNING_BUDGET); -1 unlimited")
	sigCache := fs.Int("signature-cache-size", envInt("WAYMARK_SIGNATURE_CACHE_SIZE", dataplane.DefaultSignatureCacheSize), "signatures the signature cache keeps (WAYMARK_SIGNATURE_CACHE_SIZE)")
	journal := fs.Int("ixfr-journal-bytes", envInt("WAYMARK_IXFR_JOURNAL_BYTES", dataplane.DefaultJournalBytes), "memory for the IXFR journal of every zone together, oldest deltas dropped first (WAYMARK_IXFR_JOURNAL_BYTES); -1 none: IXFR answered in full")
	zoneJournal := fs.Int("ixfr-zone-journal-bytes", envInt("WAYMARK_IXFR_ZONE_JOURNAL_BYTES", dataplane.DefaultJournalZoneBytes), "memory for one zone's IXFR journal (WAYMARK_IXFR_ZONE_JOURNAL_BYTES)")
	stats := fs.Duration("stats-interval", envDur("WAYMARK_DNS_STATS_INTERVAL", time.Minute), "log the DNS protection counters this often when they changed; 0 never (WAYMARK_DNS_STATS_INTERVAL)")
	zoneQueries := fs.Duration("zone-metrics-interval", envDur("WAYMARK_ZONE_METRICS_INTERVAL", dataplane.DefaultZoneQueryInterval),
		"count queries per zone and publish the counts this often, for the tenants' metrics; it must divide a minute; 0 off (WAYMARK_ZONE_METRICS_INTERVAL)")
	return func() (dnsLimits, error) {
		l := dnsLimits{
			ZoneQueryInterval: *zoneQueries,
			TCP: dataplane.TCPConfig{
				MaxConns: *tcpMax, MaxConnsPerIP: *tcpPerIP,
				IdleTimeout: *tcpIdle, PressureIdleTimeout: *tcpPressure, IOTimeout: *tcpIO,
			},
			RRL: dataplane.RRLConfig{
				Off: *rrlOff, Rate: *rrlRate, Window: *rrlWindow, Slip: *rrlSlip,
				IPv4Prefix: *rrlV4, IPv6Prefix: *rrlV6, TableSize: *rrlTable,
			},
			Cookies:       dataplane.CookieConfig{Off: *cookiesOff},
			Signing:       dataplane.SigningConfig{Budget: *signBudget, ZoneBudget: *zoneBudget, CacheSize: *sigCache},
			Journal:       dataplane.JournalConfig{MaxBytes: *journal, MaxZoneBytes: *zoneJournal},
			StatsInterval: *stats,
		}
		if *rrlSlip == 0 {
			l.RRL.Slip = -1 // 0 on the command line means never, as in BIND
		}
		switch {
		case *tcpMax < 0 || *tcpPerIP <= 0:
			errs = append(errs, errors.New("--tcp-max-conns must be 0 (automatic) or positive, --tcp-max-conns-per-ip positive"))
		case *rrlRate <= 0 || *rrlWindow <= 0 || *rrlTable <= 0:
			errs = append(errs, errors.New("--rrl-rate, --rrl-window and --rrl-table-size must be positive"))
		case *signBudget == 0 || *signBudget < -1 || *zoneBudget == 0 || *zoneBudget < -1:
			// 0 would mean "the default" to the library, surprising on a
			// command line; -1 is the only way to say unlimited.
			errs = append(errs, errors.New("--signing-budget and --zone-signing-budget must be positive, or -1 for unlimited"))
		case *zoneQueries != 0 && (*zoneQueries < time.Second || *zoneQueries > time.Minute || time.Minute%*zoneQueries != 0):
			errs = append(errs, errors.New("--zone-metrics-interval must divide a minute (1s … 60s), or be 0 for off"))
		case *journal == 0 || *journal < -1 || *zoneJournal <= 0:
			errs = append(errs, errors.New("--ixfr-journal-bytes must be positive or -1 (none), --ixfr-zone-journal-bytes positive"))
		case *sigCache <= 0:
			errs = append(errs, errors.New("--signature-cache-size must be positive"))
		case *rrlV4 < 1 || *rrlV4 > 32 || *rrlV6 < 1 || *rrlV6 > 128:
			errs = append(errs, errors.New("--rrl-ipv4-prefix must be 1..32 and --rrl-ipv6-prefix 1..128"))
		}
		for _, s := range []struct {
			name, v string
			dst     *[]byte
		}{{"--cookie-secret", *secret, &l.Cookies.Secret}, {"--cookie-secret-prev", *prev, &l.Cookies.PrevSecret}} {
			if s.v == "" {
				continue
			}
			b, err := hex.DecodeString(s.v)
			if err != nil || len(b) != 16 {
				errs = append(errs, fmt.Errorf("%s must be 32 hex characters (16 octets; `openssl rand -hex 16`)", s.name))
				continue
			}
			*s.dst = b
		}
		if l.Cookies.PrevSecret != nil && l.Cookies.Secret == nil {
			errs = append(errs, errors.New("--cookie-secret-prev needs --cookie-secret"))
		}
		return l, errors.Join(errs...)
	}
}

// reportDNSStats logs the protection counters of the servers (one per
// listening address), summed, every interval when they changed, until ctx
// is done.
func reportDNSStats(ctx context.Context, srvs []*dataplane.Server, interval time.Duration, log *slog.Logger) {
	if interval <= 0 {
		return
	}
	t := time.NewTicker(interval)
	defer t.Stop()
	var last dataplane.StatsSnapshot
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			var st dataplane.StatsSnapshot
			for _, srv := range srvs {
				st = st.Add(srv.Stats())
			}
			if st != last {
				last = st
				log.Info("dns protection counters", st.LogArgs()...)
			}
		}
	}
}

// logDNSLimits says at start which protections are on and at what
// settings (zero TCP fields are the defaults; see docs/operations.md).
func logDNSLimits(log *slog.Logger, l dnsLimits) {
	rrl := "off"
	if !l.RRL.Off && l.RRL.Rate > 0 {
		rrl = fmt.Sprintf("%d/s per prefix and class, window %d s, slip %d", l.RRL.Rate, l.RRL.Window, l.RRL.Slip)
	}
	cookies := "on, random secret (set --cookie-secret to share it across an anycast fleet)"
	switch {
	case l.Cookies.Off:
		cookies = "off"
	case l.Cookies.Secret != nil && l.Cookies.PrevSecret != nil:
		cookies = "on, configured secret and a previous one"
	case l.Cookies.Secret != nil:
		cookies = "on, configured secret"
	}
	log.Info("dns protections", "rrl", rrl, "cookies", cookies,
		"tcp_max_conns", l.TCP.MaxConns, "tcp_max_conns_per_ip", l.TCP.MaxConnsPerIP, // 0: automatic
		"tcp_idle_timeout", l.TCP.IdleTimeout, "tcp_io_timeout", l.TCP.IOTimeout,
		"signing_budget", l.Signing.Budget, "zone_signing_budget", l.Signing.ZoneBudget, // -1: unlimited
		"signature_cache_size", l.Signing.CacheSize, "ixfr_journal_bytes", l.Journal.MaxBytes)
}
