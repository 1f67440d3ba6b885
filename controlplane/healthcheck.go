package controlplane

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"slices"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/waymark-dns/waymark/event"
)

// healthCheckTypesText lists the accepted types for error messages.
const healthCheckTypesText = "HTTP, HTTPS, HTTP_STR_MATCH, HTTPS_STR_MATCH, TCP or CALCULATED"

// Limits and defaults of health checks, Route 53's unless noted.
const (
	DefaultHealthCheckQuota      = 200 // per tenant, Route 53's default limit
	DefaultRequestInterval       = 30
	DefaultFailureThreshold      = 3
	MaxHealthCheckFieldLength    = 255
	MaxChildHealthChecks         = 256
	MaxHealthThreshold           = 256
	MinCustomRegions             = 3
	MaxHealthCheckRegions        = 64
	MaxHealthCheckCallerRefLen   = 64
	DefaultHealthCheckPageSize   = 100
	MaxHealthCheckPageSize       = 1000
	DefaultHealthHistoryPage     = 100
	MaxHealthHistoryPage         = 1000
	standardMinRequestInterval   = 10
	standardOtherRequestInterval = 30
)

// HealthCheckOptions are the operator's settings for health checks.
type HealthCheckOptions struct {
	// AllowPrivateTargets lets checks probe private, loopback, link-local
	// and other non-public addresses (waymark dev, tests). Route 53 refuses
	// them, and so does Waymark by default: otherwise a tenant could make
	// the checkers probe the operator's own network.
	AllowPrivateTargets bool
	// MinRequestInterval, in seconds, allows request intervals shorter
	// than Route 53's 10 s (down to this value) for development and
	// tests. Zero means 10: only 10 and 30 are accepted.
	MinRequestInterval int
	// Quota is the number of health checks a tenant may have. Default 200.
	Quota int
}

// HealthChecks is the control plane with health checks: the Service plus
// the operator's health check options. It has every method of Service,
// so it can stand wherever a Service is used (the API's Config.Service).
type HealthChecks struct {
	*Service
	opts HealthCheckOptions
}

// WithHealthChecks returns s with health check operations configured by
// opts.
func (s *Service) WithHealthChecks(opts HealthCheckOptions) *HealthChecks {
	if opts.MinRequestInterval <= 0 || opts.MinRequestInterval > standardMinRequestInterval {
		opts.MinRequestInterval = standardMinRequestInterval
	}
	if opts.Quota <= 0 {
		opts.Quota = DefaultHealthCheckQuota
	}
	return &HealthChecks{Service: s, opts: opts}
}

// HealthCheckConfig is a check's configuration, in Route 53's terms.
// Fields that do not apply to the type are empty.
type HealthCheckConfig struct {
	Type              string
	IPAddress         string
	FQDN              string
	Port              int
	ResourcePath      string
	SearchString      string
	RequestInterval   int // seconds
	FailureThreshold  int
	Inverted          bool
	Disabled          bool
	EnableSNI         bool
	Regions           []string
	ChildHealthChecks []string
	HealthThreshold   int
}

// HealthCheck is a stored health check with its current status.
type HealthCheck struct {
	ID              string
	CallerReference string
	Config          HealthCheckConfig
	// Version starts at 1 and goes up by one on every update.
	Version         int64
	Healthy         bool
	StatusChangedAt time.Time
	CreatedAt       time.Time
}

// CreateHealthCheckInput is what a caller gives to create a check.
type CreateHealthCheckInput struct {
	CallerReference string
	Config          HealthCheckConfig
}

// UpdateHealthCheckInput changes the fields that are set. Version, when
// set, must equal the stored version (optimistic concurrency). Type,
// RequestInterval and whether the check uses an IP address cannot change.
// ResetElements names fields to set back to their defaults:
// FullyQualifiedDomainName, Regions, ResourcePath, ChildHealthChecks.
type UpdateHealthCheckInput struct {
	Version           *int64
	IPAddress         *string
	FQDN              *string
	Port              *int
	ResourcePath      *string
	SearchString      *string
	FailureThreshold  *int
	Inverted          *bool
	Disabled          *bool
	EnableSNI         *bool
	Regions           *[]string
	ChildHealthChecks *[]string
	HealthThreshold   *int
	ResetElements     []string
}

// HealthCheckPage is one page of ListHealthChecks, ordered by id.
// NextMarker, set when IsTruncated, is the id the next page starts at.
type HealthCheckPage struct {
	HealthChecks []HealthCheck
	IsTruncated  bool
	NextMarker   string
	MaxItems     int
}

// CheckerStatus is one region's view of a check: its status after the
// failure threshold, its last observation, and its last failure.
type CheckerStatus struct {
	Region            string
	Healthy           bool
	CheckedAt         time.Time
	Reason            string
	NodeID            string
	LastFailureAt     *time.Time
	LastFailureReason string
}

// HealthCheckStatus is a check's aggregate status and its checkers.
type HealthCheckStatus struct {
	Healthy         bool
	StatusChangedAt time.Time
	Checkers        []CheckerStatus
}

// HealthTransition is one change of a check's aggregate status.
type HealthTransition struct {
	Healthy bool
	At      time.Time
	Reason  string
}

// storedConfig is the JSON of health_check.config.
type storedConfig struct {
	IPAddress         string   `json:"ip_address,omitempty"`
	FQDN              string   `json:"fqdn,omitempty"`
	Port              int      `json:"port,omitempty"`
	ResourcePath      string   `json:"resource_path,omitempty"`
	SearchString      string   `json:"search_string,omitempty"`
	RequestInterval   int      `json:"request_interval,omitempty"`
	FailureThreshold  int      `json:"failure_threshold,omitempty"`
	Inverted          bool     `json:"inverted,omitempty"`
	Disabled          bool     `json:"disabled,omitempty"`
	EnableSNI         bool     `json:"enable_sni,omitempty"`
	Regions           []string `json:"regions,omitempty"`
	ChildHealthChecks []string `json:"child_health_checks,omitempty"`
	HealthThreshold   int      `json:"health_threshold,omitempty"`
}

func toStored(c HealthCheckConfig) storedConfig {
	return storedConfig{
		IPAddress: c.IPAddress, FQDN: c.FQDN, Port: c.Port, ResourcePath: c.ResourcePath,
		SearchString: c.SearchString, RequestInterval: c.RequestInterval, FailureThreshold: c.FailureThreshold,
		Inverted: c.Inverted, Disabled: c.Disabled, EnableSNI: c.EnableSNI, Regions: c.Regions,
		ChildHealthChecks: c.ChildHealthChecks, HealthThreshold: c.HealthThreshold,
	}
}

func fromStored(typ string, s storedConfig) HealthCheckConfig {
	return HealthCheckConfig{
		Type: typ, IPAddress: s.IPAddress, FQDN: s.FQDN, Port: s.Port, ResourcePath: s.ResourcePath,
		SearchString: s.SearchString, RequestInterval: s.RequestInterval, FailureThreshold: s.FailureThreshold,
		Inverted: s.Inverted, Disabled: s.Disabled, EnableSNI: s.EnableSNI, Regions: s.Regions,
		ChildHealthChecks: s.ChildHealthChecks, HealthThreshold: s.HealthThreshold,
	}
}

func errNoSuchHealthCheck(id string) *Error {
	return Errorf(CodeNoSuchHealthCheck, "no health check found with id %s", id)
}

func invalidHC(field, format string, args ...any) *Error {
	msg := fmt.Sprintf(format, args...)
	return &Error{Code: CodeInvalidInput, Message: msg, Details: []Detail{{Field: field, Message: msg}}}
}

// normalize fills defaults and validates c on its own (children are
// checked against the database separately). It returns the config to store.
func (h *HealthChecks) normalize(c HealthCheckConfig) (HealthCheckConfig, error) {
	c.Type = strings.ToUpper(strings.TrimSpace(c.Type))
	t := event.HealthCheckType(c.Type)
	if !t.Valid() {
		return c, invalidHC("type", "type must be one of %s", healthCheckTypesText)
	}
	if err := h.checkRegions(c.Regions); err != nil {
		return c, err
	}
	if c.Regions != nil && len(c.Regions) == 0 {
		c.Regions = nil
	}
	if t == event.HealthCalculated {
		switch {
		case c.IPAddress != "" || c.FQDN != "" || c.Port != 0:
			return c, invalidHC("type", "a CALCULATED check has no ip_address, fqdn or port")
		case c.ResourcePath != "" || c.SearchString != "" || c.EnableSNI:
			return c, invalidHC("type", "a CALCULATED check has no resource_path, search_string or enable_sni")
		case c.RequestInterval != 0 || c.FailureThreshold != 0:
			return c, invalidHC("type", "a CALCULATED check has no request_interval or failure_threshold")
		case c.Regions != nil:
			return c, invalidHC("regions", "a CALCULATED check has no regions")
		case len(c.ChildHealthChecks) > MaxChildHealthChecks:
			return c, invalidHC("child_health_checks", "at most %d child health checks", MaxChildHealthChecks)
		case c.HealthThreshold < 0 || c.HealthThreshold > MaxHealthThreshold:
			return c, invalidHC("health_threshold", "health_threshold must be 0 to %d", MaxHealthThreshold)
		}
		seen := map[string]bool{}
		for _, id := range c.ChildHealthChecks {
			if seen[id] {
				return c, invalidHC("child_health_checks", "child health check %s is listed twice", id)
			}
			seen[id] = true
		}
		if c.ChildHealthChecks == nil {
			c.ChildHealthChecks = []string{}
		}
		return c, nil
	}

	if len(c.ChildHealthChecks) > 0 || c.HealthThreshold != 0 {
		return c, invalidHC("child_health_checks", "only a CALCULATED check has child_health_checks and health_threshold")
	}
	if c.RequestInterval == 0 {
		c.RequestInterval = DefaultRequestInterval
	}
	if !h.intervalAllowed(c.RequestInterval) {
		if h.opts.MinRequestInterval < standardMinRequestInterval {
			return c, invalidHC("request_interval", "request_interval must be 10 or 30, or %d to 10 on this service", h.opts.MinRequestInterval)
		}
		return c, invalidHC("request_interval", "request_interval must be 10 or 30")
	}
	if c.FailureThreshold == 0 {
		c.FailureThreshold = DefaultFailureThreshold
	}
	if c.FailureThreshold < 1 || c.FailureThreshold > 10 {
		return c, invalidHC("failure_threshold", "failure_threshold must be 1 to 10")
	}
	if c.IPAddress == "" && c.FQDN == "" {
		return c, invalidHC("ip_address", "ip_address or fqdn is required")
	}
	if c.IPAddress != "" {
		ip, err := h.checkTargetIP(c.IPAddress)
		if err != nil {
			return c, err
		}
		c.IPAddress = ip
	}
	if c.FQDN != "" {
		f, err := h.checkFQDN(c.FQDN)
		if err != nil {
			return c, err
		}
		c.FQDN = f
	}
	if c.Port == 0 {
		switch {
		case t == event.HealthTCP:
			return c, invalidHC("port", "port is required for a TCP check")
		case t.TLS():
			c.Port = 443
		default:
			c.Port = 80
		}
	}
	if c.Port < 1 || c.Port > 65535 {
		return c, invalidHC("port", "port must be 1 to 65535")
	}
	if t == event.HealthTCP {
		if c.ResourcePath != "" || c.SearchString != "" || c.EnableSNI {
			return c, invalidHC("type", "a TCP check has no resource_path, search_string or enable_sni")
		}
		return c, nil
	}
	if c.ResourcePath != "" && !strings.HasPrefix(c.ResourcePath, "/") {
		c.ResourcePath = "/" + c.ResourcePath
	}
	if err := checkText("resource_path", c.ResourcePath, 0, MaxHealthCheckFieldLength); err != nil {
		return c, err
	}
	for _, r := range c.ResourcePath {
		if r <= ' ' || r == 0x7f {
			return c, invalidHC("resource_path", "resource_path may not contain spaces or control characters")
		}
	}
	if t.StrMatch() {
		if c.SearchString == "" {
			return c, invalidHC("search_string", "search_string is required for %s", c.Type)
		}
		if err := checkText("search_string", c.SearchString, 1, MaxHealthCheckFieldLength); err != nil {
			return c, err
		}
	} else if c.SearchString != "" {
		return c, invalidHC("search_string", "search_string applies only to HTTP_STR_MATCH and HTTPS_STR_MATCH")
	}
	if c.EnableSNI && !t.TLS() {
		return c, invalidHC("enable_sni", "enable_sni applies only to HTTPS checks")
	}
	return c, nil
}

// intervalAllowed: Route 53's 10 and 30, or anything from the operator's
// minimum up to 10.
func (h *HealthChecks) intervalAllowed(v int) bool {
	return v == standardMinRequestInterval || v == standardOtherRequestInterval ||
		(v >= h.opts.MinRequestInterval && v < standardMinRequestInterval)
}

func (h *HealthChecks) checkRegions(regions []string) error {
	if len(regions) == 0 {
		return nil
	}
	if len(regions) < MinCustomRegions || len(regions) > MaxHealthCheckRegions {
		return invalidHC("regions", "a custom region list has %d to %d regions", MinCustomRegions, MaxHealthCheckRegions)
	}
	seen := map[string]bool{}
	for _, r := range regions {
		if !validRegion(r) {
			return invalidHC("regions", "region %q is not a region name", r)
		}
		if seen[r] {
			return invalidHC("regions", "region %s is listed twice", r)
		}
		seen[r] = true
	}
	return nil
}

func validRegion(r string) bool {
	if r == "" || len(r) > 64 {
		return false
	}
	for _, c := range r {
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-') {
			return false
		}
	}
	return true
}

// checkTargetIP parses an IP address and refuses non-public ones unless
// the operator allows them.
func (h *HealthChecks) checkTargetIP(s string) (string, error) {
	a, err := netip.ParseAddr(strings.TrimSpace(s))
	if err != nil || a.Zone() != "" {
		return "", invalidHC("ip_address", "ip_address %q is not an IPv4 or IPv6 address", s)
	}
	a = a.Unmap()
	if !h.opts.AllowPrivateTargets && !event.PublicHealthTarget(a) {
		return "", invalidHC("ip_address", "ip_address %s is in a private, local, reserved or multicast range", a)
	}
	return a.String(), nil
}

func (h *HealthChecks) checkFQDN(s string) (string, error) {
	f := strings.TrimSuffix(strings.ToLower(strings.TrimSpace(s)), ".")
	if f == "" || len(f) > MaxHealthCheckFieldLength {
		return "", invalidHC("fqdn", "fqdn must be 1 to %d characters long", MaxHealthCheckFieldLength)
	}
	for _, label := range strings.Split(f, ".") {
		if label == "" || len(label) > 63 {
			return "", invalidHC("fqdn", "fqdn %q is not a host name", s)
		}
		for _, c := range label {
			if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
				return "", invalidHC("fqdn", "fqdn %q is not a host name", s)
			}
		}
	}
	if !h.opts.AllowPrivateTargets && (f == "localhost" || strings.HasSuffix(f, ".localhost")) {
		return "", invalidHC("fqdn", "fqdn %s is a local name", f)
	}
	return f, nil
}

// newUUID returns a random (version 4) UUID in lowercase, the form of
// Route 53's health check ids.
func newUUID(r io.Reader) (string, error) {
	var b [16]byte
	if _, err := io.ReadFull(r, b[:]); err != nil {
		return "", fmt.Errorf("read random id: %w", err)
	}
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16]), nil
}

// healthCheckLockClass is the first key of the transaction-scoped advisory
// lock that serialises every write to health checks ("WHCK").
const healthCheckLockClass int32 = 0x5748434b

// lockHealthChecks serialises health check writes, all tenants together.
// Writes are rare, and the lock buys two things: a tenant's quota and
// caller references are checked without races, and revisions (taken from
// a sequence inside the lock) become visible in their order, so the
// aggregator's "revision > last seen" poll never skips a write that
// committed late.
func lockHealthChecks(ctx context.Context, tx pgx.Tx) error {
	if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock(waymark_lock_key($1))`, healthCheckLockClass); err != nil {
		return fmt.Errorf("lock health checks: %w", err)
	}
	return nil
}

// CreateHealthCheck creates a check. With a caller reference already
// used by a live check with identical settings, it returns that check (as
// Route 53 does); with different settings, or one that belonged to a
// deleted check, it fails with HealthCheckAlreadyExists.
func (h *HealthChecks) CreateHealthCheck(ctx context.Context, tenantID string, in CreateHealthCheckInput) (HealthCheck, error) {
	if err := checkText("caller_reference", in.CallerReference, 1, MaxHealthCheckCallerRefLen); err != nil {
		return HealthCheck{}, err
	}
	cfg, err := h.normalize(in.Config)
	if err != nil {
		return HealthCheck{}, err
	}
	stored, err := json.Marshal(toStored(cfg))
	if err != nil {
		return HealthCheck{}, err
	}
	id, err := newUUID(h.cfg.Rand)
	if err != nil {
		return HealthCheck{}, err
	}
	var out HealthCheck
	err = pgx.BeginFunc(ctx, h.pool, func(tx pgx.Tx) error {
		if err := lockHealthChecks(ctx, tx); err != nil {
			return err
		}
		var count int
		if err := tx.QueryRow(ctx, `SELECT count(h.id) FROM tenant t
		        LEFT JOIN health_check h ON h.tenant_id = t.id AND h.deleted_at IS NULL
		        WHERE t.id = $1 GROUP BY t.id`, tenantID).Scan(&count); err != nil {
			if errors.Is(err, pgx.ErrNoRows) {
				return Errorf(CodeNoSuchTenant, "no tenant found with id %s", tenantID)
			}
			return fmt.Errorf("count health checks: %w", err)
		}
		existing, deleted, err := h.byCallerReference(ctx, tx, tenantID, in.CallerReference)
		switch {
		case err == nil && deleted:
			return Errorf(CodeHealthCheckAlreadyExists,
				"The caller reference %s belonged to a health check that has been deleted.", in.CallerReference)
		case err == nil:
			if sameConfig(existing.Config, cfg) {
				out = existing
				return nil
			}
			return Errorf(CodeHealthCheckAlreadyExists,
				"A health check has already been created with the caller reference %s and different settings.", in.CallerReference)
		case !errors.Is(err, pgx.ErrNoRows):
			return err
		}
		if count >= h.opts.Quota {
			return Errorf(CodeTooManyHealthChecks, "This account has reached the limit of %d health checks.", h.opts.Quota)
		}
		if err := h.checkChildren(ctx, tx, tenantID, "", cfg); err != nil {
			return err
		}
		now := h.now()
		healthy := !cfg.Inverted // Route 53: new checks start healthy, inverted ones unhealthy
		if _, err := tx.Exec(ctx,
			`INSERT INTO health_check (id, tenant_id, caller_reference, type, config, version, healthy, status_changed_at, created_at)
			 VALUES ($1, $2, $3, $4, $5, 1, $6, $7, $7)`,
			id, tenantID, in.CallerReference, cfg.Type, string(stored), healthy, now); err != nil {
			var pe *pgconn.PgError
			if errors.As(err, &pe) && pe.Code == "23505" {
				return Errorf(CodeHealthCheckAlreadyExists, "A health check has already been created with the caller reference %s.", in.CallerReference)
			}
			return fmt.Errorf("insert health check: %w", err)
		}
		if _, err := tx.Exec(ctx, `INSERT INTO health_check_transition (check_id, healthy, at, reason)
		    VALUES ($1, $2, $3, 'created')`, id, healthy, now); err != nil {
			return fmt.Errorf("insert health check history: %w", err)
		}
		out = HealthCheck{ID: id, CallerReference: in.CallerReference, Config: cfg, Version: 1,
			Healthy: healthy, StatusChangedAt: now, CreatedAt: now}
		return nil
	})
	return out, err
}

func sameConfig(a, b HealthCheckConfig) bool {
	ja, _ := json.Marshal(toStored(a))
	jb, _ := json.Marshal(toStored(b))
	return a.Type == b.Type && string(ja) == string(jb)
}

const healthCheckColumns = `id, caller_reference, type, config::text, version, healthy, status_changed_at, created_at`

func scanHealthCheck(row pgx.Row) (HealthCheck, error) {
	var hc HealthCheck
	var typ, cfg string
	if err := row.Scan(&hc.ID, &hc.CallerReference, &typ, &cfg, &hc.Version, &hc.Healthy, &hc.StatusChangedAt, &hc.CreatedAt); err != nil {
		return hc, err
	}
	var s storedConfig
	if err := json.Unmarshal([]byte(cfg), &s); err != nil {
		return hc, fmt.Errorf("decode health check %s config: %w", hc.ID, err)
	}
	hc.Config = fromStored(typ, s)
	if hc.Config.Type == string(event.HealthCalculated) && hc.Config.ChildHealthChecks == nil {
		hc.Config.ChildHealthChecks = []string{}
	}
	hc.StatusChangedAt = hc.StatusChangedAt.UTC()
	hc.CreatedAt = hc.CreatedAt.UTC()
	return hc, nil
}

func (h *HealthChecks) byCallerReference(ctx context.Context, tx pgx.Tx, tenantID, ref string) (HealthCheck, bool, error) {
	var deleted bool
	var hc HealthCheck
	row := tx.QueryRow(ctx, `SELECT `+healthCheckColumns+`, deleted_at IS NOT NULL
	                         FROM health_check WHERE tenant_id = $1 AND caller_reference = $2`, tenantID, ref)
	var typ, cfg string
	if err := row.Scan(&hc.ID, &hc.CallerReference, &typ, &cfg, &hc.Version, &hc.Healthy, &hc.StatusChangedAt, &hc.CreatedAt, &deleted); err != nil {
		return hc, false, err
	}
	var s storedConfig
	if err := json.Unmarshal([]byte(cfg), &s); err != nil {
		return hc, false, err
	}
	hc.Config = fromStored(typ, s)
	if hc.Config.Type == string(event.HealthCalculated) && hc.Config.ChildHealthChecks == nil {
		hc.Config.ChildHealthChecks = []string{}
	}
	hc.StatusChangedAt, hc.CreatedAt = hc.StatusChangedAt.UTC(), hc.CreatedAt.UTC()
	return hc, deleted, nil
}

// checkChildren checks that a calculated check's children are live checks
// of the same tenant, not calculated themselves, and not the check itself.
func (h *HealthChecks) checkChildren(ctx context.Context, tx pgx.Tx, tenantID, selfID string, cfg HealthCheckConfig) error {
	if len(cfg.ChildHealthChecks) == 0 {
		return nil
	}
	rows, err := tx.Query(ctx, `SELECT id, type FROM health_check
	                           WHERE tenant_id = $1 AND id = ANY($2) AND deleted_at IS NULL`, tenantID, cfg.ChildHealthChecks)
	if err != nil {
		return fmt.Errorf("read child health checks: %w", err)
	}
	types := map[string]string{}
	for rows.Next() {
		var id, typ string
		if err := rows.Scan(&id, &typ); err != nil {
			rows.Close()
			return err
		}
		types[id] = typ
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	for _, id := range cfg.ChildHealthChecks {
		typ, ok := types[id]
		switch {
		case id == selfID:
			return invalidHC("child_health_checks", "a health check cannot be its own child")
		case !ok:
			return Errorf(CodeNoSuchHealthCheck, "no health check found with id %s (child_health_checks)", id)
		case typ == string(event.HealthCalculated):
			return invalidHC("child_health_checks", "child health check %s is CALCULATED; children cannot be", id)
		}
	}
	return nil
}

// GetHealthCheck returns one of the tenant's checks.
func (h *HealthChecks) GetHealthCheck(ctx context.Context, tenantID, id string) (HealthCheck, error) {
	hc, err := scanHealthCheck(h.pool.QueryRow(ctx, `SELECT `+healthCheckColumns+`
	    FROM health_check WHERE tenant_id = $1 AND id = $2 AND deleted_at IS NULL`, tenantID, id))
	if errors.Is(err, pgx.ErrNoRows) {
		return hc, errNoSuchHealthCheck(id)
	}
	if err != nil {
		return hc, fmt.Errorf("get health check: %w", err)
	}
	return hc, nil
}

// ListHealthChecks returns a page of the tenant's checks in id order,
// starting at marker (an id; empty for the first page).
func (h *HealthChecks) ListHealthChecks(ctx context.Context, tenantID, marker string, maxItems int) (HealthCheckPage, error) {
	if maxItems <= 0 {
		maxItems = DefaultHealthCheckPageSize
	}
	maxItems = min(maxItems, MaxHealthCheckPageSize)
	rows, err := h.pool.Query(ctx, `SELECT `+healthCheckColumns+` FROM health_check
	    WHERE tenant_id = $1 AND deleted_at IS NULL AND id >= $2 ORDER BY id LIMIT $3`, tenantID, marker, maxItems+1)
	if err != nil {
		return HealthCheckPage{}, fmt.Errorf("list health checks: %w", err)
	}
	list, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (HealthCheck, error) { return scanHealthCheck(r) })
	if err != nil {
		return HealthCheckPage{}, fmt.Errorf("list health checks: %w", err)
	}
	page := HealthCheckPage{HealthChecks: list, MaxItems: maxItems}
	if len(list) > maxItems {
		page.HealthChecks, page.IsTruncated, page.NextMarker = list[:maxItems], true, list[maxItems].ID
	}
	return page, nil
}

// UpdateHealthCheck applies in to a check and bumps its version. A
// version in the input that differs from the stored one fails with
// HealthCheckVersionMismatch.
func (h *HealthChecks) UpdateHealthCheck(ctx context.Context, tenantID, id string, in UpdateHealthCheckInput) (HealthCheck, error) {
	var out HealthCheck
	err := pgx.BeginFunc(ctx, h.pool, func(tx pgx.Tx) error {
		if err := lockHealthChecks(ctx, tx); err != nil {
			return err
		}
		hc, err := scanHealthCheck(tx.QueryRow(ctx, `SELECT `+healthCheckColumns+` FROM health_check
		    WHERE tenant_id = $1 AND id = $2 AND deleted_at IS NULL FOR UPDATE`, tenantID, id))
		if errors.Is(err, pgx.ErrNoRows) {
			return errNoSuchHealthCheck(id)
		}
		if err != nil {
			return fmt.Errorf("get health check: %w", err)
		}
		if in.Version != nil && *in.Version != hc.Version {
			return Errorf(CodeHealthCheckVersionMismatch,
				"The health check version %d does not match the current version %d.", *in.Version, hc.Version)
		}
		cfg, err := applyUpdate(hc.Config, in)
		if err != nil {
			return err
		}
		cfg, err = h.normalize(cfg)
		if err != nil {
			return err
		}
		if err := h.checkChildren(ctx, tx, tenantID, id, cfg); err != nil {
			return err
		}
		stored, err := json.Marshal(toStored(cfg))
		if err != nil {
			return err
		}
		if err := tx.QueryRow(ctx, `UPDATE health_check SET config = $2, version = version + 1,
		        revision = nextval('health_check_revision')
		    WHERE id = $1 RETURNING version`, id, string(stored)).Scan(&hc.Version); err != nil {
			return fmt.Errorf("update health check: %w", err)
		}
		hc.Config = cfg
		out = hc
		return nil
	})
	return out, err
}

// applyUpdate applies the set fields and resets of in to c.
func applyUpdate(c HealthCheckConfig, in UpdateHealthCheckInput) (HealthCheckConfig, error) {
	for _, e := range in.ResetElements {
		switch e {
		case "FullyQualifiedDomainName", "fqdn":
			c.FQDN = ""
		case "Regions", "regions":
			c.Regions = nil
		case "ResourcePath", "resource_path":
			c.ResourcePath = ""
		case "ChildHealthChecks", "child_health_checks":
			c.ChildHealthChecks = nil
		default:
			return c, invalidHC("reset_elements", "reset_elements may name fqdn, regions, resource_path and child_health_checks, not %q", e)
		}
	}
	if in.IPAddress != nil {
		if (*in.IPAddress == "") != (c.IPAddress == "") {
			return c, invalidHC("ip_address", "whether a health check uses an IP address cannot change after it is created")
		}
		c.IPAddress = *in.IPAddress
	}
	set := func(dst *string, v *string) {
		if v != nil {
			*dst = *v
		}
	}
	set(&c.FQDN, in.FQDN)
	set(&c.ResourcePath, in.ResourcePath)
	set(&c.SearchString, in.SearchString)
	if in.Port != nil {
		c.Port = *in.Port
	}
	if in.FailureThreshold != nil {
		c.FailureThreshold = *in.FailureThreshold
	}
	if in.HealthThreshold != nil {
		c.HealthThreshold = *in.HealthThreshold
	}
	if in.Inverted != nil {
		c.Inverted = *in.Inverted
	}
	if in.Disabled != nil {
		c.Disabled = *in.Disabled
	}
	if in.EnableSNI != nil {
		c.EnableSNI = *in.EnableSNI
	}
	if in.Regions != nil {
		c.Regions = slices.Clone(*in.Regions)
	}
	if in.ChildHealthChecks != nil {
		c.ChildHealthChecks = slices.Clone(*in.ChildHealthChecks)
	}
	return c, nil
}

// DeleteHealthCheck deletes a check. A check that a record set or a
// calculated check uses cannot be deleted (HealthCheckInUse): Route 53
// allows it and leaves the routing outcome undefined, Waymark refuses.
// The caller reference stays taken. A change batch that sets
// rrset.health_check_id should lock the check's row FOR SHARE (after
// checking that it exists, is live and is the tenant's): that makes it and
// a concurrent delete wait for each other, so neither slips past.
func (h *HealthChecks) DeleteHealthCheck(ctx context.Context, tenantID, id string) error {
	return pgx.BeginFunc(ctx, h.pool, func(tx pgx.Tx) error {
		if err := lockHealthChecks(ctx, tx); err != nil {
			return err
		}
		// Lock the row first, then look for users in a new statement (a new
		// snapshot): a change batch that referenced the check and locked
		// its row FOR SHARE has committed by then and is seen.
		var exists bool
		err := tx.QueryRow(ctx, `SELECT true FROM health_check
		    WHERE tenant_id = $1 AND id = $2 AND deleted_at IS NULL FOR UPDATE`, tenantID, id).Scan(&exists)
		if errors.Is(err, pgx.ErrNoRows) {
			return errNoSuchHealthCheck(id)
		}
		if err != nil {
			return fmt.Errorf("delete health check: %w", err)
		}
		var usedByRecord, usedByParent bool
		if err := tx.QueryRow(ctx, `SELECT
		        EXISTS (SELECT 1 FROM rrset WHERE health_check_id = $2),
		        EXISTS (SELECT 1 FROM health_check p WHERE p.tenant_id = $1 AND p.deleted_at IS NULL
		                   AND p.config->'child_health_checks' ? $2)`,
			tenantID, id).Scan(&usedByRecord, &usedByParent); err != nil {
			return fmt.Errorf("delete health check: %w", err)
		}
		if usedByRecord {
			return Errorf(CodeHealthCheckInUse, "The health check %s is used by a resource record set.", id)
		}
		if usedByParent {
			return Errorf(CodeHealthCheckInUse, "The health check %s is a child of a CALCULATED health check.", id)
		}
		if _, err := tx.Exec(ctx, `UPDATE health_check SET deleted_at = $2, revision = nextval('health_check_revision')
		    WHERE id = $1`, id, h.now()); err != nil {
			return fmt.Errorf("delete health check: %w", err)
		}
		return nil
	})
}

// HealthCheckStatus returns a check's aggregate status and the view of
// each region that has observed it.
//
// The status and the views are read in one snapshot: the aggregator
// writes a transition together with the views that caused it, so a
// reader never sees a view without its consequence.
func (h *HealthChecks) HealthCheckStatus(ctx context.Context, tenantID, id string) (HealthCheckStatus, error) {
	var out HealthCheckStatus
	err := pgx.BeginTxFunc(ctx, h.pool, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly}, func(tx pgx.Tx) error {
		hc, err := scanHealthCheck(tx.QueryRow(ctx, `SELECT `+healthCheckColumns+`
		    FROM health_check WHERE tenant_id = $1 AND id = $2 AND deleted_at IS NULL`, tenantID, id))
		if errors.Is(err, pgx.ErrNoRows) {
			return errNoSuchHealthCheck(id)
		}
		if err != nil {
			return fmt.Errorf("get health check: %w", err)
		}
		checkers, err := readCheckers(ctx, tx, id)
		if err != nil {
			return err
		}
		out = HealthCheckStatus{Healthy: hc.Healthy, StatusChangedAt: hc.StatusChangedAt, Checkers: checkers}
		return nil
	})
	return out, err
}

func readCheckers(ctx context.Context, tx pgx.Tx, id string) ([]CheckerStatus, error) {
	rows, err := tx.Query(ctx, `SELECT region, healthy, checked_at, reason, node_id, last_failure_at, last_failure_reason
	    FROM health_check_checker WHERE check_id = $1 ORDER BY region`, id)
	if err != nil {
		return nil, fmt.Errorf("read checkers: %w", err)
	}
	checkers, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (CheckerStatus, error) {
		var c CheckerStatus
		err := r.Scan(&c.Region, &c.Healthy, &c.CheckedAt, &c.Reason, &c.NodeID, &c.LastFailureAt, &c.LastFailureReason)
		c.CheckedAt = c.CheckedAt.UTC()
		if c.LastFailureAt != nil {
			t := c.LastFailureAt.UTC()
			c.LastFailureAt = &t
		}
		return c, err
	})
	if err != nil {
		return nil, fmt.Errorf("read checkers: %w", err)
	}
	return checkers, nil
}

// HealthCheckHistory returns up to maxItems transitions of a check's
// status, newest first, before the transition id "before" (0: from the
// newest). It returns the id to pass as before for the next page, 0 when
// there is none.
func (h *HealthChecks) HealthCheckHistory(ctx context.Context, tenantID, id string, before int64, maxItems int) ([]HealthTransition, int64, error) {
	if _, err := h.GetHealthCheck(ctx, tenantID, id); err != nil {
		return nil, 0, err
	}
	if maxItems <= 0 {
		maxItems = DefaultHealthHistoryPage
	}
	maxItems = min(maxItems, MaxHealthHistoryPage)
	if before <= 0 {
		before = 1<<63 - 1
	}
	rows, err := h.pool.Query(ctx, `SELECT id, healthy, at, reason FROM health_check_transition
	    WHERE check_id = $1 AND id < $2 ORDER BY id DESC LIMIT $3`, id, before, maxItems+1)
	if err != nil {
		return nil, 0, fmt.Errorf("read history: %w", err)
	}
	var ids []int64
	list, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (HealthTransition, error) {
		var t HealthTransition
		var tid int64
		err := r.Scan(&tid, &t.Healthy, &t.At, &t.Reason)
		t.At = t.At.UTC()
		ids = append(ids, tid)
		return t, err
	})
	if err != nil {
		return nil, 0, fmt.Errorf("read history: %w", err)
	}
	var next int64
	if len(list) > maxItems {
		list, next = list[:maxItems], ids[maxItems-1]
	}
	return list, next, nil
}
