package controlplane

import (
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/waymark-dns/waymark/zonecfg"
)

// Defaults for Config fields left zero.
const (
	DefaultZoneQuota   = 500
	DefaultRecordQuota = 10000
	DefaultTokenTTL    = 15 * time.Minute
	DefaultKeyQuota    = 20
)

// Config configures a Service. The zero value of every field but Pool-level
// ones is usable; New fills in defaults.
type Config struct {
	// NameServers are the names put in the apex NS record set of every new
	// zone (the delegation set). Default: ns1.waymark.test., ns2.waymark.test.
	NameServers []string
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
	// Logger receives operational logs. Default: discard.
	Logger *slog.Logger
	// HealthChecks are the operator's settings for health checks.
	HealthChecks HealthCheckOptions
	// OnLeader, if set, is called with true when RunLeader starts leading
	// for key and with false when it stops (tests wait on it).
	OnLeader func(key int64, leading bool)
}

// Service implements the control plane's operations on a PostgreSQL pool.
// It is safe for concurrent use.
type Service struct {
	pool *pgxpool.Pool
	cfg  Config

	// wake carries relay wake-ups to the waker goroutine (outbox.go),
	// started by the first commit that needs one.
	wakeOnce sync.Once
	wake     chan struct{}
}

// New returns a Service using pool, which must reach a migrated database.
func New(pool *pgxpool.Pool, cfg Config) (*Service, error) {
	if pool == nil {
		return nil, errors.New("controlplane: nil pool")
	}
	if len(cfg.NameServers) == 0 {
		cfg.NameServers = []string{"ns1.waymark.test.", "ns2.waymark.test."}
	}
	for i, ns := range cfg.NameServers {
		n, err := zonecfg.CanonicalName(ns)
		if err != nil {
			return nil, fmt.Errorf("controlplane: name server %q: %w", ns, err)
		}
		cfg.NameServers[i] = n
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
	return &Service{pool: pool, cfg: cfg}, nil
}

func (s *Service) now() time.Time { return s.cfg.NowFunc().UTC() }
