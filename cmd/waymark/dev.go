package main

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/waymark-dns/waymark/controlplane"
	"github.com/waymark-dns/waymark/internal/clock"
	"github.com/waymark-dns/waymark/internal/metrics"
	"github.com/waymark-dns/waymark/nspool"
)

// devDir holds what `waymark dev` keeps between runs: secrets, the
// embedded NATS server's storage, nameserver caches and dev.env.
const devDir = ".waymark"

func runDev(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("dev", flag.ContinueOnError)
	dsn := fs.String("database-url", env("DATABASE_URL", defaultDatabaseURL), "PostgreSQL URL (DATABASE_URL); the database is created if missing")
	natsURL := fs.String("nats-url", env("WAYMARK_NATS_URL", ""), "external NATS (WAYMARK_NATS_URL); empty runs an embedded server")
	listen := fs.String("listen", env("WAYMARK_LISTEN", "127.0.0.1:8080"), "API listen address")
	rdapListen := fs.String("rdap", env("WAYMARK_RDAP_LISTEN", "127.0.0.1:8081"), "RDAP listen address of the built-in registry (unauthenticated)")
	eppListen := fs.String("epp", env("WAYMARK_EPP_LISTEN", "127.0.0.1:8700"), "EPP (TLS) listen address of the built-in registry")
	dnsListen := fs.String("dns", env("WAYMARK_DNS_LISTEN", "127.0.0.1:5300"), "DNS address of the first nameserver; the others take the next ports")
	regions := fs.String("regions", env("WAYMARK_REGIONS", "us-east-1"), "comma-separated regions, one in-process nameserver each")
	checkRegions := fs.String("checker-regions", env("WAYMARK_CHECKER_REGIONS", "us-east-1,eu-west-1,ap-southeast-1"), "regions of the in-process health checkers")
	geoip := fs.String("geoip-db", env("WAYMARK_GEOIP_DB", ""), "MaxMind-format GeoIP database for the nameservers")
	latency := fs.String("latency-table", env("WAYMARK_LATENCY_TABLE", ""), "latency table for the nameservers")
	tenantName := fs.String("tenant", "dev", "name of the dev tenant")
	signup := fs.Bool("signup", false, "open sign-up at POST /v1/signup")
	poolSize := fs.Int("pool", 8, "nameserver pool names ns1.waymark.test. … on consecutive loopback addresses from --dns's")
	limitFlags := dnsLimitFlags(fs)
	qlogLimits := queryLogFlags(fs)
	dnstapSocket := fs.String("dnstap-socket", env("WAYMARK_DNSTAP_SOCKET", ""),
		"unix socket of a dnstap collector for the nameservers' queries and answers; with several regions each gets PATH.<region>; empty: none")
	if err := fs.Parse(args); err != nil {
		return err
	}
	limits, err := limitFlags()
	if err != nil {
		return err
	}
	qlog, err := qlogLimits()
	if err != nil {
		return err
	}
	log := newLogger()
	if err := os.MkdirAll(devDir, 0o700); err != nil {
		return err
	}
	sec, err := devSecrets(filepath.Join(devDir, "secrets.env"))
	if err != nil {
		return err
	}

	if *natsURL == "" {
		ns, err := server.NewServer(&server.Options{
			ServerName: "waymark-dev",
			Host:       "127.0.0.1",
			Port:       -1,
			JetStream:  true,
			StoreDir:   filepath.Join(devDir, "nats"),
			NoSigs:     true,
			NoLog:      true,
		})
		if err != nil {
			return fmt.Errorf("embedded nats: %w", err)
		}
		go ns.Start()
		if !ns.ReadyForConnections(10 * time.Second) {
			return errors.New("embedded nats did not start")
		}
		defer ns.Shutdown()
		*natsURL = ns.ClientURL()
	}

	host, port, err := net.SplitHostPort(*dnsListen)
	if err != nil {
		return fmt.Errorf("--dns: %w", err)
	}
	pool, err := devPool(host, *poolSize)
	if err != nil {
		return err
	}
	// One registry for every role of the process, served on the API port.
	reg := metrics.NewRegistry("dev")
	// The built-in registry's clock: a test clock, advanced through the
	// operator API (POST /v1/registry/clock).
	regClock := clock.NewTest(devClockStart(filepath.Join(devDir, "registry-clock")))
	cp, err := startControlPlane(ctx, controlPlaneOptions{
		RegistryClock:       regClock,
		Metrics:             reg,
		DatabaseURL:         *dsn,
		NATSURL:             *natsURL,
		Listen:              *listen,
		Pool:                pool,
		PredictableSets:     true,
		Secrets:             sec,
		SignupEnabled:       *signup,
		AllowPrivateTargets: true,
		MinHealthInterval:   1,
		Logger:              log,
		// Short DNSSEC timings, so that a roll can be watched.
		DNSSEC:         devDNSSEC(),
		DNSSECInterval: 5 * time.Second,
		QueryLog:       qlog,
		// The built-in registry for test., and the registrar on it.
		Registry: true,
	})
	if err != nil {
		return err
	}
	apiURL := "http://" + cp.Addr

	token, err := devKey(ctx, cp.Service, *tenantName, filepath.Join(devDir, "dev.env"))
	if err != nil {
		cp.Close()
		return err
	}

	devReg, err := startDevRegistry(ctx, cp, regClock, *rdapListen, *eppListen, devDir, log)
	if err != nil {
		cp.Close()
		return err
	}
	defer devReg.Close()

	basePort, _ := strconv.Atoi(port)
	var dnsAddrs []string
	for i, region := range splitList(*regions) {
		addr := net.JoinHostPort(host, strconv.Itoa(basePort+i))
		ns, err := startNameserver(ctx, nameserverOptions{
			FleetKey:     sec.FleetKey,
			NodeID:       "dev-" + region,
			Region:       region,
			Listen:       addr,
			NATSURL:      *natsURL,
			APIURL:       apiURL,
			AdminToken:   sec.AdminToken,
			CacheDir:     filepath.Join(devDir, "cache-"+region),
			GeoIPDB:      *geoip,
			LatencyTable: *latency,
			Logger:       log.With("node", "dev-"+region),
			Pool:         pool,
			Limits:       limits,
			Metrics:      nsRegistry(reg, i),
			DnstapSocket: devDnstapSocket(*dnstapSocket, region, len(splitList(*regions))),
		})
		if err != nil {
			cp.Close()
			return err
		}
		dnsAddrs = append(dnsAddrs, fmt.Sprintf("%s (%s; %s)", addr, region, strings.Join(ns.Listening, ", ")))
		go func() {
			if err := <-ns.done; err != nil {
				log.Error("nameserver stopped", "region", region, "err", err)
			}
		}()
	}

	// Health checkers for three regions, sharing the dev NATS server.
	hcRegions := splitList(*checkRegions)
	if len(hcRegions) > 0 {
		hnc, err := nats.Connect(*natsURL, nats.Name("waymark-dev-healthcheckers"), nats.MaxReconnects(-1))
		if err != nil {
			cp.Close()
			return fmt.Errorf("nats for health checkers: %w", err)
		}
		defer hnc.Close()
		for i, region := range hcRegions {
			go func() {
				if err := runChecker(ctx, hnc, region, "dev-hc-"+region, true, 1, log, checkerRegistry(reg, i)); err != nil {
					log.Error("health checker stopped", "region", region, "err", err)
				}
			}()
		}
	}

	envFile := filepath.Join(devDir, "dev.env")
	if err := writeDevEnv(envFile, apiURL, token, sec.AdminToken, net.JoinHostPort(host, port), pool.String(), devReg); err != nil {
		cp.Close()
		return err
	}
	fmt.Printf(`
Waymark is running.
  API          %s   (openapi.yaml describes it)
  console      %s/console/   (sign in with the API key below)
  DNS          %s   (UDP and TCP)
  NATS         %s
  checkers     %s
  PostgreSQL   %s
  RDAP         %s   (built-in registry for test., no authentication)
  EPP          %s   (TLS; registrar %s, client certificate %s)
  TLD DS       %s   (trust anchor of test.; the registry's clock is a test clock: POST /v1/registry/clock)
  tenant       %s
  API key      %s
  DNSSEC       short timings for development: DNSKEY TTL 1m, ZSK roll every 1h, retired keys kept 5m

  source %s    # sets WAYMARK_API, WAYMARK_API_KEY, WAYMARK_ADMIN_TOKEN, WAYMARK_DNS, WAYMARK_NAMESERVERS, WAYMARK_RDAP, WAYMARK_EPP*, WAYMARK_TLD_DS, AWS_*
  curl -s -H "Authorization: Bearer $WAYMARK_API_KEY" $WAYMARK_API/v1/hostedzones
  aws route53 list-hosted-zones      # the Route 53 API, same key (docs/route53.md)
  aws route53domains check-domain-availability --domain-name example.test   # Route 53 Domains (docs/route53domains.md)

Press Ctrl-C to stop.
`, apiURL, apiURL, strings.Join(dnsAddrs, ", "), *natsURL, strings.Join(hcRegions, ", "), redactURL(*dsn), devReg.RDAPURL, devReg.EPPAddr, devEPPClientID, devReg.EPPCert, devReg.TLDDS, *tenantName, token, envFile)
	return cp.Wait(ctx)
}

// devDNSSEC returns the DNSSEC timings of `waymark dev`: minutes, not
// days, so that a roll can be watched.
func devDNSSEC() controlplane.DNSSECOptions {
	return controlplane.DNSSECOptions{DNSKEYTTL: time.Minute, ZSKLifetime: time.Hour, RetireAfter: 5 * time.Minute}
}

// devSecrets loads the dev secrets from path, creating them on first run.
// Environment variables, when set, win.
func devSecrets(path string) (secrets, error) {
	vals, err := readEnvFile(path)
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return secrets{}, err
	}
	changed := false
	for _, k := range []string{"WAYMARK_MASTER_KEY", "WAYMARK_JWT_KEY", "WAYMARK_ADMIN_TOKEN"} {
		if v := os.Getenv(k); v != "" {
			vals[k] = v
			continue
		}
		if vals[k] == "" {
			var b [32]byte
			if _, err := rand.Read(b[:]); err != nil {
				return secrets{}, err
			}
			vals[k] = hex.EncodeToString(b[:])
			changed = true
		}
	}
	if changed {
		var sb strings.Builder
		sb.WriteString("# Secrets of this machine's `waymark dev`; keep them out of version control.\n")
		for _, k := range []string{"WAYMARK_MASTER_KEY", "WAYMARK_JWT_KEY", "WAYMARK_ADMIN_TOKEN"} {
			fmt.Fprintf(&sb, "%s=%s\n", k, vals[k])
		}
		if err := os.WriteFile(path, []byte(sb.String()), 0o600); err != nil {
			return secrets{}, err
		}
	}
	for k, v := range vals {
		if strings.HasPrefix(k, "WAYMARK_") && os.Getenv(k) == "" {
			_ = os.Setenv(k, v)
		}
	}
	return secretsFromEnv()
}

// devKey returns a working API key token for the dev tenant: the one saved
// in dev.env when it still authenticates, else a new key (creating the
// tenant on first run).
func devKey(ctx context.Context, svc *controlplane.Service, name, envPath string) (string, error) {
	if vals, err := readEnvFile(envPath); err == nil {
		if tok := vals["WAYMARK_API_KEY"]; tok != "" {
			if _, err := svc.Authenticate(ctx, tok); err == nil {
				return tok, nil
			}
		}
	}
	t, err := svc.TenantByName(ctx, name)
	switch {
	case controlplane.IsCode(err, controlplane.CodeNoSuchTenant):
		_, key, err := svc.CreateTenant(ctx, name)
		if err != nil {
			return "", fmt.Errorf("create dev tenant: %w", err)
		}
		return key.Token, nil
	case err != nil:
		return "", err
	}
	key, err := svc.CreateAPIKey(ctx, t.ID, "waymark dev")
	if err != nil {
		return "", fmt.Errorf("create dev key: %w", err)
	}
	return key.Token, nil
}

func writeDevEnv(path, apiURL, token, admin, dnsAddr, pool string, reg *devRegistry) error {
	_, port, _ := net.SplitHostPort(dnsAddr)
	content := fmt.Sprintf(`# Written by waymark dev: source it to use the API with curl.
export WAYMARK_API=%s
export WAYMARK_API_KEY=%s
export WAYMARK_ADMIN_TOKEN=%s
export WAYMARK_DNS=%s
export WAYMARK_DNS_PORT=%s
# The nameserver pool: each name answers on its address, port WAYMARK_DNS_PORT.
export WAYMARK_NAMESERVERS=%s
# RDAP of the built-in registry (test.): $WAYMARK_RDAP/domain/example.test
export WAYMARK_RDAP=%s
# EPP of the built-in registry (TLS, RFC 5734): a registrar login, new at each start.
export WAYMARK_EPP=%s
export WAYMARK_EPP_CLIENT_ID=%s
export WAYMARK_EPP_PASSWORD=%s
export WAYMARK_EPP_CERT=%s
export WAYMARK_EPP_KEY=%s
export WAYMARK_EPP_CA=%s
# The DS of the signed test. zone: the trust anchor of a private validating resolver.
export WAYMARK_TLD_DS=%q
# Registrant mail (verification, holds, expiry) is written to files here.
export WAYMARK_MAIL_DIR=%s
`, apiURL, token, admin, dnsAddr, port, pool, reg.RDAPURL, reg.EPPAddr, devEPPClientID, reg.EPPPassword, reg.EPPCert, reg.EPPKey, reg.EPPCA,
		reg.TLDDS, filepath.Join(filepath.Dir(reg.EPPCA), "mail"))
	// The same key as an AWS key pair, for the Route 53 API: the AWS CLI
	// and SDKs read these (docs/route53.md).
	if keyID, secret, ok := strings.Cut(strings.TrimPrefix(token, controlplane.TokenPrefix), "_"); ok {
		content += fmt.Sprintf(`export AWS_ACCESS_KEY_ID=%s
export AWS_SECRET_ACCESS_KEY=%s
export AWS_REGION=us-east-1
export AWS_DEFAULT_REGION=us-east-1
export AWS_ENDPOINT_URL_ROUTE_53=%s
export AWS_ENDPOINT_URL_ROUTE_53_DOMAINS=%s
export AWS_EC2_METADATA_DISABLED=true
`, keyID, secret, apiURL, apiURL)
	}
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, []byte(content), 0o600); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}

// readEnvFile reads KEY=VALUE lines (optionally prefixed by export).
func readEnvFile(path string) (map[string]string, error) {
	vals := map[string]string{}
	f, err := os.Open(path)
	if err != nil {
		return vals, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		line = strings.TrimPrefix(line, "export ")
		if k, v, ok := strings.Cut(line, "="); ok {
			vals[strings.TrimSpace(k)] = strings.TrimSpace(v)
		}
	}
	return vals, sc.Err()
}

// redactURL hides a password in a database URL for printing.
func redactURL(s string) string {
	if i := strings.Index(s, "://"); i >= 0 {
		if j := strings.Index(s[i+3:], "@"); j >= 0 {
			cred := s[i+3 : i+3+j]
			if k := strings.Index(cred, ":"); k >= 0 {
				return s[:i+3] + cred[:k] + ":***" + s[i+3+j:]
			}
		}
	}
	return s
}

// devPool is the dev nameserver pool: n names ns1.waymark.test. … on
// consecutive loopback addresses from first (127.0.0.1, 127.0.0.2, …), in
// sets of 4. All of 127.0.0.0/8 is the loopback interface on Linux, so the
// addresses need no setup.
func devPool(first string, n int) (nspool.Pool, error) {
	addr, err := netip.ParseAddr(first)
	if err != nil || !addr.Is4() || !addr.IsLoopback() {
		return nspool.Pool{}, fmt.Errorf("--dns: the dev pool needs an IPv4 loopback address, not %q", first)
	}
	var items []string
	for i := 1; i <= n; i++ {
		items = append(items, fmt.Sprintf("ns%d.waymark.test.=%s", i, addr))
		addr = addr.Next()
		if !addr.IsLoopback() {
			return nspool.Pool{}, errors.New("--pool: the pool runs past 127.255.255.255")
		}
	}
	return nspool.Parse(strings.Join(items, ","), 0)
}

// devDnstapSocket is the dnstap socket of the dev nameserver of region:
// path itself with one region, path.<region> with several.
func devDnstapSocket(path, region string, regions int) string {
	if path == "" || regions == 1 {
		return path
	}
	return path + "." + region
}
