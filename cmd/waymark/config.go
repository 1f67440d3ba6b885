package main

import (
	"encoding/hex"
	"flag"
	"fmt"
	"github.com/waymark-dns/waymark/dnssec"
	"log/slog"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/waymark-dns/waymark/controlplane"
	"github.com/waymark-dns/waymark/nspool"
)

// defaultDatabaseURL is the local PostgreSQL server of a developer machine.
const defaultDatabaseURL = "postgres://postgres@127.0.0.1:5432/waymark?sslmode=disable"

// env returns the environment variable key, or def when it is unset.
func env(key, def string) string {
	if v, ok := os.LookupEnv(key); ok && v != "" {
		return v
	}
	return def
}

// secrets are the keys every API process of one deployment must share.
type secrets struct {
	MasterKey  []byte // encrypts API key secrets at rest
	JWTKey     []byte // signs short-lived tokens
	AdminToken string // the operator's bearer token
	// FleetKey wraps DNSSEC zone-signing keys for the nameservers
	// (WAYMARK_FLEET_KEY, optional: derived from the master key).
	FleetKey []byte
}

// secretsFromEnv reads WAYMARK_MASTER_KEY and WAYMARK_JWT_KEY (hex, 32
// bytes each) and WAYMARK_ADMIN_TOKEN.
func secretsFromEnv() (secrets, error) {
	var s secrets
	var err error
	if s.MasterKey, err = hexKey("WAYMARK_MASTER_KEY"); err != nil {
		return s, err
	}
	if s.JWTKey, err = hexKey("WAYMARK_JWT_KEY"); err != nil {
		return s, err
	}
	if s.FleetKey, err = fleetKeyFromEnv(); err != nil {
		return s, err
	}
	if s.FleetKey == nil {
		s.FleetKey = dnssec.FleetKeyFrom(s.MasterKey)
	}
	s.AdminToken = os.Getenv("WAYMARK_ADMIN_TOKEN")
	if len(s.AdminToken) < 16 {
		return s, fmt.Errorf("WAYMARK_ADMIN_TOKEN must be set to at least 16 characters")
	}
	return s, nil
}

// fleetKeyFromEnv reads WAYMARK_FLEET_KEY (hex, 32 bytes), the key that
// unwraps DNSSEC zone-signing keys on nameservers; nil when unset.
func fleetKeyFromEnv() ([]byte, error) {
	if strings.TrimSpace(os.Getenv("WAYMARK_FLEET_KEY")) == "" {
		return nil, nil
	}
	return hexKey("WAYMARK_FLEET_KEY")
}

func hexKey(name string) ([]byte, error) {
	v := strings.TrimSpace(os.Getenv(name))
	if v == "" {
		return nil, fmt.Errorf("%s must be set (64 hex characters; `openssl rand -hex 32`)", name)
	}
	b, err := hex.DecodeString(v)
	if err != nil || len(b) != 32 {
		return nil, fmt.Errorf("%s must be 64 hex characters (32 bytes)", name)
	}
	return b, nil
}

// splitList splits a comma-separated setting, dropping empty items.
func splitList(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

// newLogger returns the process logger: text for a terminal, JSON when
// WAYMARK_LOG_FORMAT=json.
func newLogger() *slog.Logger {
	level := slog.LevelInfo
	if strings.EqualFold(os.Getenv("WAYMARK_LOG_LEVEL"), "debug") {
		level = slog.LevelDebug
	}
	opts := &slog.HandlerOptions{Level: level}
	if os.Getenv("WAYMARK_LOG_FORMAT") == "json" {
		return slog.New(slog.NewJSONHandler(os.Stderr, opts))
	}
	return slog.New(slog.NewTextHandler(os.Stderr, opts))
}

// defaultPool is the nameserver pool when WAYMARK_NAMESERVERS is unset:
// eight names without addresses (the API needs only names; a nameserver
// then listens on --listen alone and serves every zone there).
const defaultPool = controlplane.DefaultPool

// poolSettings are the operator's nameserver pool settings, shared by the
// api and nameserver roles (docs/delegation.md).
type poolSettings struct {
	spec, reserved, allowed *string
	setSize                 *int
}

// poolFlags registers the pool settings on fs.
func poolFlags(fs *flag.FlagSet) poolSettings {
	size, _ := strconv.Atoi(env("WAYMARK_DELEGATION_SET_SIZE", "0"))
	return poolSettings{
		spec: fs.String("nameservers", env("WAYMARK_NAMESERVERS", defaultPool),
			"the nameserver pool: name[=addr[/addr...]],... (WAYMARK_NAMESERVERS)"),
		setSize: fs.Int("delegation-set-size", size,
			"names in a delegation set; 0: 4, or the pool's size when smaller (WAYMARK_DELEGATION_SET_SIZE)"),
		reserved: fs.String("reserved-names", env("WAYMARK_RESERVED_NAMES", ""),
			"names no tenant may host at or below, comma-separated (WAYMARK_RESERVED_NAMES)"),
		allowed: fs.String("allowed-names", env("WAYMARK_ALLOWED_NAMES", ""),
			"exact names allowed despite the public suffix list or --reserved-names (WAYMARK_ALLOWED_NAMES)"),
	}
}

// pool parses the pool settings.
func (p poolSettings) pool() (nspool.Pool, error) {
	return nspool.Parse(*p.spec, *p.setSize)
}

// envDuration is env for a duration setting; an unparsable value is
// reported by the flag package when the flag is parsed.
func envDuration(key string, def time.Duration) time.Duration {
	v := os.Getenv(key)
	if v == "" {
		return def
	}
	d, err := time.ParseDuration(v)
	if err != nil {
		fmt.Fprintf(os.Stderr, "%s=%q is not a duration (such as 5s); using %s\n", key, v, def)
		return def
	}
	return d
}

// timeoutFlags registers the API process's database and HTTP timeouts on
// fs (each with its WAYMARK_* environment variable; docs/operations.md
// lists them) and returns where they are stored. Zero means the default.
func timeoutFlags(fs *flag.FlagSet) (*controlplane.DatabaseOptions, *httpOptions) {
	db, h := &controlplane.DatabaseOptions{}, &httpOptions{}
	d := func(p *time.Duration, name, key, usage string) {
		fs.DurationVar(p, name, envDuration(key, 0), usage+" ("+key+"; 0 = default)")
	}
	d(&db.ConnectTimeout, "db-connect-timeout", "WAYMARK_DB_CONNECT_TIMEOUT", "PostgreSQL connect timeout")
	d(&db.StatementTimeout, "db-statement-timeout", "WAYMARK_DB_STATEMENT_TIMEOUT", "PostgreSQL statement_timeout")
	d(&db.LockTimeout, "db-lock-timeout", "WAYMARK_DB_LOCK_TIMEOUT", "PostgreSQL lock_timeout")
	d(&db.IdleInTransactionTimeout, "db-idle-in-transaction-timeout", "WAYMARK_DB_IDLE_IN_TRANSACTION_TIMEOUT",
		"PostgreSQL idle_in_transaction_session_timeout")
	d(&h.ReadHeaderTimeout, "http-read-header-timeout", "WAYMARK_HTTP_READ_HEADER_TIMEOUT", "time to read request headers")
	d(&h.ReadTimeout, "http-read-timeout", "WAYMARK_HTTP_READ_TIMEOUT", "time to read a whole request")
	d(&h.WriteTimeout, "http-write-timeout", "WAYMARK_HTTP_WRITE_TIMEOUT", "time to write a response (long polls extend it)")
	d(&h.IdleTimeout, "http-idle-timeout", "WAYMARK_HTTP_IDLE_TIMEOUT", "keep-alive idle timeout")
	d(&h.RequestTimeout, "request-timeout", "WAYMARK_REQUEST_TIMEOUT", "deadline of every request (long polls add their wait)")
	d(&h.GateInterval, "db-check-interval", "WAYMARK_DB_CHECK_INTERVAL", "how often the database is checked")
	d(&h.GateTimeout, "db-check-timeout", "WAYMARK_DB_CHECK_TIMEOUT", "how long one database check may take")
	return db, h
}

// replicasFlag registers --nats-replicas (WAYMARK_NATS_REPLICAS): the
// replica count of the zone stream and of every KV bucket, applied when
// they are created and, by the API's relay and health aggregator, to
// existing ones on start. 3 on a three-node NATS cluster survives the loss
// of any one node; it must not exceed the cluster's size.
func replicasFlag(fs *flag.FlagSet) *int {
	n, _ := strconv.Atoi(env("WAYMARK_NATS_REPLICAS", "1"))
	return fs.Int("nats-replicas", n,
		"replicas of the zone stream and KV buckets, 1-5; at most the NATS cluster's size (WAYMARK_NATS_REPLICAS)")
}

// checkReplicas rejects a replica count JetStream would refuse.
func checkReplicas(n int) error {
	if n < 1 || n > 5 {
		return fmt.Errorf("--nats-replicas %d: must be 1 to 5", n)
	}
	return nil
}

// envInt is env for an integer setting; an unparsable value is reported
// and the default used, as envDuration does.
func envInt(key string, def int) int {
	v := os.Getenv(key)
	if v == "" {
		return def
	}
	n, err := strconv.Atoi(v)
	if err != nil {
		fmt.Fprintf(os.Stderr, "%s=%q is not an integer; using %d\n", key, v, def)
		return def
	}
	return n
}
