package controlplane

import (
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/waymark-dns/waymark/nspool"
	"github.com/waymark-dns/waymark/zonecfg"
)

// Defaults for Config fields left zero.
const (
	DefaultZoneQuota   = 500
	DefaultRecordQuota = 10000
	DefaultTokenTTL    = 15 * time.Minute
	DefaultKeyQuota    = 20
)

// DefaultPool is the nameserver pool of a Service configured without one.
const DefaultPool = "ns1.waymark.test.,ns2.waymark.test.,ns3.waymark.test.,ns4.waymark.test.," +
	"ns5.waymark.test.,ns6.waymark.test.,ns7.waymark.test.,ns8.waymark.test."

// Config configures a Service. The zero value of every field but Pool-level
// ones is usable; New fills in defaults.
type Config struct {
	// Pool is the operator's nameserver pool; every zone's delegation set
	// is drawn from it (delegation.go). Default: ns1.waymark.test. …
	// ns8.waymark.test. without addresses, sets of 4.
	Pool nspool.Pool
	// PredictableSets assigns the first free names of the pool, in pool
	// order, instead of a random choice among them, so that a newcomer's
	// first zones in `waymark dev` are on the first names (127.0.0.1).
	PredictableSets bool
	// ReservedNames are names the operator keeps: no tenant may host a zone
	// at or below one of them (InvalidDomainName).
	ReservedNames []string
	// AllowedNames are exceptions to the public suffix and reserved-name
	// rules: these exact names may be hosted. The fleet's own domains are
	// never allowed.
	AllowedNames []string
	// Hostmaster is the SOA RNAME of new zones. Default: hostmaster.<first NS's parent>.
	Hostmaster string
	// DefaultZoneQuota is the number of hosted zones a tenant may have
	// unless its own quota says otherwise. Default 500.
	DefaultZoneQuota int
	// DefaultRecordQuota is the number of record sets a zone may hold
	// unless the tenant's quota says otherwise. Default 10,000.
	DefaultRecordQuota int
	// MasterKey encrypts API key secrets at rest (AES-256-GCM); 32 bytes.
	MasterKey []byte
	// JWTKey signs the short-lived tokens of POST /v1/tokens (HMAC-SHA256).
	JWTKey []byte
	// TokenTTL is the lifetime of those tokens. Default 15 minutes.
	TokenTTL time.Duration
	// NowFunc returns the current time. Default time.Now.
	NowFunc func() time.Time
	// Rand is the source of ids and secrets. Default crypto/rand.Reader.
	Rand io.Reader
	// Logger receives operational logs, each tagged with the component
	// that wrote it (controlplane, or a leader's or loop's own name), so
	// it should carry no component of its own. Default: discard.
	Logger *slog.Logger
	// HealthChecks are the operator's settings for health checks.
	HealthChecks HealthCheckOptions
	// AuthCacheTTL is how long a successful API key authentication is
	// remembered (default DefaultAuthCacheTTL; negative: not at all). A
	// key deleted through another API process keeps working here for at
	// most that long; through this one it stops at once.
	AuthCacheTTL time.Duration
	// ExportRate is how many record sets per second one tenant's zone
	// exports read, all its exports together (default DefaultExportRate;
	// negative: no limit). An export over it waits between pages; it is
	// the cost budget that keeps one tenant's exports to a small share of
	// the API's and PostgreSQL's CPU (bulk.go).
	ExportRate int
	// FleetKey wraps the ZSKs that nameservers receive (AES-256-GCM, 32
	// bytes). Default: derived from MasterKey (dnssec.FleetKeyFrom).
	FleetKey []byte
	// DNSSEC are the signing settings (dnssec.go).
	DNSSEC DNSSECOptions
	// RelayWake, when set, is the NATS connection on which the relay is
	// woken after a commit that wrote outbox events (outbox.go says why
	// not NOTIFY). Nil: NOTIFY.
	RelayWake *nats.Conn
	// QueryLogs is the JetStream the query log stream is read from
	// (ReadQueryLogs); nil: reads answer ServiceUnavailable.
	QueryLogs jetstream.JetStream
	// SnapshotPool, when set, is where full snapshots (WriteSnapshot,
	// WriteSnapshotServing, Snapshot) are read: a PostgreSQL streaming
	// replica near the nameservers. It is safe because a snapshot's
	// stream position is read in the same REPEATABLE READ transaction as
	// its zones, so a replica behind the primary yields an older snapshot
	// with the older position that goes with it, and the nameserver
	// consumes the stream from there. One zone's refetch (ZoneSnapshot,
	// WriteZoneSnapshot) stays on the primary: a nameserver refetches a
	// zone because an event it consumed was newer than what it had, and
	// a lagging replica might not hold that event yet. Nil: the primary.
	SnapshotPool *pgxpool.Pool
	// OnLeader, if set, is called with true when RunLeader starts leading
	// for key and with false when it stops (tests wait on it).
	OnLeader func(key int64, leading bool)
}

// Service implements the control plane's operations on a PostgreSQL pool.
// It is safe for concurrent use.
type Service struct {
	pool *pgxpool.Pool
	cfg  Config
	// log is cfg.Logger with component=controlplane; the leaders and
	// loops derive their own components from cfg.Logger instead.
	log *slog.Logger

	// wake carries relay wake-ups to the waker goroutine (outbox.go),
	// started by the first commit that needs one.
	wakeOnce sync.Once
	wake     chan struct{}
	// relay is this process's relay (AttachRelay), woken directly while
	// it leads.
	relay atomic.Pointer[Relay]

	// changes is the one change notifier that every long poll shares
	// (notifier.go), made by the first WaitChange.
	notifierOnce sync.Once
	changes      *changeNotifier
	// drain is closed by Drain: long polls answer at once.
	drain                chan struct{}
	drainInit, drainOnce sync.Once

	auth *authCache // successful API key authentications

	// keeper publishes delegations outside the tenants' zones
	// (SetDelegationKeeper, dnssec_parent.go).
	keeper atomic.Pointer[DelegationKeeper]
	// bulk bounds the pool connections held at once by work one tenant
	// can multiply cheaply: zone export pages and the first reads of long
	// polls (bulk.go). The rest of the pool stays free for other requests.
	bulk chan struct{}
	// firstReads coalesces the first reads of long polls on one change.
	firstReads changeReads
	// exports paces each tenant's exports at Config.ExportRate.
	exports *tenantRates
}

// New returns a Service using pool, which must reach a migrated database.
func New(pool *pgxpool.Pool, cfg Config) (*Service, error) {
	if pool == nil {
		return nil, errors.New("controlplane: nil pool")
	}
	if len(cfg.Pool.Servers) == 0 {
		p, err := nspool.Parse(DefaultPool, 0)
		if err != nil {
			return nil, err
		}
		cfg.Pool = p
	}
	nsPool, err := cfg.Pool.WithSetSize(cfg.Pool.SetSize)
	if err != nil {
		return nil, fmt.Errorf("controlplane: %w", err)
	}
	cfg.Pool = nsPool
	for _, list := range [][]string{cfg.ReservedNames, cfg.AllowedNames} {
		for i, n := range list {
			c, err := zonecfg.CanonicalName(n)
			if err != nil {
				return nil, fmt.Errorf("controlplane: name %q: %w", n, err)
			}
			list[i] = c
		}
	}
	if cfg.Hostmaster == "" {
		cfg.Hostmaster = "hostmaster.waymark.test."
	}
	if cfg.DefaultZoneQuota <= 0 {
		cfg.DefaultZoneQuota = DefaultZoneQuota
	}
	if cfg.DefaultRecordQuota <= 0 {
		cfg.DefaultRecordQuota = DefaultRecordQuota
	}
	if cfg.HealthChecks.Quota <= 0 {
		cfg.HealthChecks.Quota = DefaultHealthCheckQuota
	}
	if len(cfg.MasterKey) != 32 {
		return nil, errors.New("controlplane: master key must be 32 bytes")
	}
	if len(cfg.JWTKey) < 32 {
		return nil, errors.New("controlplane: JWT key must be at least 32 bytes")
	}
	if cfg.TokenTTL <= 0 {
		cfg.TokenTTL = DefaultTokenTTL
	}
	if cfg.NowFunc == nil {
		cfg.NowFunc = time.Now
	}
	if cfg.Rand == nil {
		cfg.Rand = rand.Reader
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.AuthCacheTTL == 0 {
		cfg.AuthCacheTTL = DefaultAuthCacheTTL
	}
	if cfg.ExportRate == 0 {
		cfg.ExportRate = DefaultExportRate
	}
	return &Service{pool: pool, cfg: cfg, log: cfg.Logger.With("component", "controlplane"), auth: newAuthCache(cfg.AuthCacheTTL, DefaultAuthCacheSize),
		bulk:    make(chan struct{}, bulkConns(pool.Config().MaxConns)),
		exports: newTenantRates(cfg.ExportRate)}, nil
}

func (s *Service) now() time.Time { return s.cfg.NowFunc().UTC() }
