package controlplane

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/waymark-dns/waymark/healthcfg"
)

// Limits and defaults of health checks besides their configuration's
// (healthcfg), Route 53's unless noted.
const (
	DefaultHealthCheckQuota    = 200 // per tenant, Route 53's default limit
	MaxHealthCheckCallerRefLen = 64
	DefaultHealthCheckPageSize = 100
	MaxHealthCheckPageSize     = 1000
	DefaultHealthHistoryPage   = 100
	MaxHealthHistoryPage       = 1000
)

// HealthCheckOptions are the operator's settings for health checks
// (Config.HealthChecks).
type HealthCheckOptions struct {
	// Options are the settings validation depends on.
	healthcfg.Options
	// Quota is the number of health checks a tenant may have. Default 200.
	Quota int
}

// HealthCheck is a stored health check with its current status.
type HealthCheck struct {
	ID              string
	CallerReference string
	Config          healthcfg.Config
	// Version starts at 1 and goes up by one on every update.
	Version         int64
	Healthy         bool
	StatusChangedAt time.Time
	CreatedAt       time.Time
	// Notify are the webhooks told of every status change (healthnotify.go),
	// never nil. The service's answers carry no secrets.
	Notify []AlarmAction
}

// CreateHealthCheckInput is what a caller gives to create a check.
// Notify, when set, are webhooks POSTed on every status change, as an
// alarm's actions are (same validation, signature and delivery).
type CreateHealthCheckInput struct {
	CallerReference string
	Config          healthcfg.Config
	Notify          []AlarmAction
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
	// Notify, when set, replaces the check's webhooks (empty: none). The
	// transitions already notified are not sent to new ones.
	Notify *[]AlarmAction
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

// HealthTransition is one change of a check's aggregate status, with the
// deliveries of its notifications to the check's webhooks (none for
// transitions before the check had any, and for the initial status).
type HealthTransition struct {
	Healthy    bool
	At         time.Time
	Reason     string
	Deliveries []Delivery
}

// storedConfig is the health_check.config column: the configuration
// without its type, which has a column of its own, and with every zero
// field left out.
func storedConfig(c healthcfg.Config) any {
	type stored struct {
		healthcfg.Config
		Type             healthcfg.Type `json:"type,omitempty"`
		RequestInterval  int            `json:"request_interval,omitempty"`
		FailureThreshold int            `json:"failure_threshold,omitempty"`
	}
	return stored{Config: c, RequestInterval: c.RequestInterval, FailureThreshold: c.FailureThreshold}
}

// loadConfig reads a stored config of type typ.
func loadConfig(typ, stored string) (healthcfg.Config, error) {
	var c healthcfg.Config
	if err := json.Unmarshal([]byte(stored), &c); err != nil {
		return c, err
	}
	c.Type = healthcfg.Type(typ)
	return c, nil
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
func (s *Service) normalize(c healthcfg.Config) (healthcfg.Config, error) {
	c, err := c.Normalize(s.cfg.HealthChecks.Options)
	var e *healthcfg.Error
	switch {
	case errors.As(err, &e) && e.Field == "":
		return c, Errorf(CodeInvalidInput, "%s", e.Message)
	case errors.As(err, &e):
		return c, invalidHC(e.Field, "%s", e.Message)
	}
	return c, err
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

// CreateHealthCheck creates a check. With a caller reference already
// used by a live check with identical settings, it returns that check (as
// Route 53 does); with different settings, or one that belonged to a
// deleted check, it fails with HealthCheckAlreadyExists.
func (s *Service) CreateHealthCheck(ctx context.Context, tenantID string, in CreateHealthCheckInput) (HealthCheck, error) {
	if err := checkText("caller_reference", in.CallerReference, 1, MaxHealthCheckCallerRefLen); err != nil {
		return HealthCheck{}, err
	}
	cfg, err := s.normalize(in.Config)
	if err != nil {
		return HealthCheck{}, err
	}
	if err := checkActions("notify", in.Notify, s.cfg.HealthChecks.AllowPrivateTargets); err != nil {
		return HealthCheck{}, err
	}
	if in.Notify == nil {
		in.Notify = []AlarmAction{}
	}
	stored, err := json.Marshal(storedConfig(cfg))
	if err != nil {
		return HealthCheck{}, err
	}
	id, err := newUUID(s.cfg.Rand)
	if err != nil {
		return HealthCheck{}, err
	}
	var out HealthCheck
	err = s.inTx(ctx, func(tx pgx.Tx) error {
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
		existing, deleted, err := s.byCallerReference(ctx, tx, tenantID, in.CallerReference)
		switch {
		case err == nil && deleted:
			return Errorf(CodeHealthCheckAlreadyExists,
				"The caller reference %s belonged to a health check that has been deleted.", in.CallerReference)
		case err == nil:
			if existing.Config.Equal(cfg) && sameActions(existing.Notify, in.Notify) {
				out = existing.redacted()
				return nil
			}
			return Errorf(CodeHealthCheckAlreadyExists,
				"A health check has already been created with the caller reference %s and different settings.", in.CallerReference)
		case !errors.Is(err, pgx.ErrNoRows):
			return err
		}
		if count >= s.cfg.HealthChecks.Quota {
			return Errorf(CodeTooManyHealthChecks, "This account has reached the limit of %d health checks.", s.cfg.HealthChecks.Quota)
		}
		if err := s.checkChildren(ctx, tx, tenantID, "", cfg); err != nil {
			return err
		}
		now := s.now()
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
		if err := setNotify(ctx, tx, tenantID, id, in.Notify); err != nil {
			return err
		}
		out = HealthCheck{ID: id, CallerReference: in.CallerReference, Config: cfg, Version: 1,
			Healthy: healthy, StatusChangedAt: now, CreatedAt: now, Notify: redactActions(in.Notify)}
		return nil
	})
	return out, err
}

// healthCheckColumns are read from health_check (unaliased); the last is
// the check's notify actions, secrets included, or NULL.
const healthCheckColumns = `id, caller_reference, type, config::text, version, healthy, status_changed_at, created_at,
    (SELECT n.actions FROM health_check_notify n WHERE n.check_id = health_check.id)`

// scanHealthCheck reads healthCheckColumns, then any extra columns into
// extra. Notify keeps its secrets: callers answer with redacted().
func scanHealthCheck(row pgx.Row, extra ...any) (HealthCheck, error) {
	var hc HealthCheck
	var typ, cfg string
	var notify []byte
	dest := append([]any{&hc.ID, &hc.CallerReference, &typ, &cfg, &hc.Version, &hc.Healthy, &hc.StatusChangedAt, &hc.CreatedAt, &notify}, extra...)
	if err := row.Scan(dest...); err != nil {
		return hc, err
	}
	var err error
	if hc.Config, err = loadConfig(typ, cfg); err != nil {
		return hc, fmt.Errorf("decode health check %s config: %w", hc.ID, err)
	}
	hc.Notify = []AlarmAction{}
	if notify != nil {
		if err := json.Unmarshal(notify, &hc.Notify); err != nil {
			return hc, fmt.Errorf("decode health check %s notify: %w", hc.ID, err)
		}
	}
	if hc.Config.Type == healthcfg.Calculated && hc.Config.ChildHealthChecks == nil {
		hc.Config.ChildHealthChecks = []string{}
	}
	hc.StatusChangedAt = hc.StatusChangedAt.UTC()
	hc.CreatedAt = hc.CreatedAt.UTC()
	return hc, nil
}

// redacted returns hc with its webhook secrets cleared.
func (hc HealthCheck) redacted() HealthCheck {
	hc.Notify = redactActions(hc.Notify)
	return hc
}

// sameActions reports whether two action lists are the same webhooks
// with the same secrets, in order (a repeated create is the same create).
func sameActions(a, b []AlarmAction) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		x, y := a[i].Webhook, b[i].Webhook
		if (x == nil) != (y == nil) || (x != nil && *x != *y) {
			return false
		}
	}
	return true
}

// setNotify stores a check's notify actions (none: the row goes). A new
// row's cursor starts at the check's newest transition, so that only
// later status changes are sent; an existing row keeps its cursor. The
// caller holds the check's row lock, which SaveHealth takes before it
// adds a transition, so no transition is in flight behind the cursor.
func setNotify(ctx context.Context, tx pgx.Tx, tenantID, id string, acts []AlarmAction) error {
	if len(acts) == 0 {
		if _, err := tx.Exec(ctx, `DELETE FROM health_check_notify WHERE check_id = $1`, id); err != nil {
			return fmt.Errorf("clear health check notify: %w", err)
		}
		return nil
	}
	b, err := json.Marshal(acts)
	if err != nil {
		return err
	}
	if _, err := tx.Exec(ctx, `INSERT INTO health_check_notify (check_id, tenant_id, actions, last_transition_id)
	    VALUES ($1, $2, $3, (SELECT coalesce(max(id), 0) FROM health_check_transition WHERE check_id = $1))
	    ON CONFLICT (check_id) DO UPDATE SET actions = excluded.actions`, id, tenantID, b); err != nil {
		return fmt.Errorf("store health check notify: %w", err)
	}
	return nil
}

func (s *Service) byCallerReference(ctx context.Context, tx pgx.Tx, tenantID, ref string) (HealthCheck, bool, error) {
	var deleted bool
	hc, err := scanHealthCheck(tx.QueryRow(ctx, `SELECT `+healthCheckColumns+`, deleted_at IS NOT NULL
	                         FROM health_check WHERE tenant_id = $1 AND caller_reference = $2`, tenantID, ref), &deleted)
	return hc, deleted, err
}

// checkChildren checks that a calculated check's children are live checks
// of the same tenant, not calculated themselves, and not the check itself.
func (s *Service) checkChildren(ctx context.Context, tx pgx.Tx, tenantID, selfID string, cfg healthcfg.Config) error {
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
		case typ == string(healthcfg.Calculated):
			return invalidHC("child_health_checks", "child health check %s is CALCULATED; children cannot be", id)
		}
	}
	return nil
}

// GetHealthCheck returns one of the tenant's checks.
func (s *Service) GetHealthCheck(ctx context.Context, tenantID, id string) (HealthCheck, error) {
	hc, err := scanHealthCheck(s.pool.QueryRow(ctx, `SELECT `+healthCheckColumns+`
	    FROM health_check WHERE tenant_id = $1 AND id = $2 AND deleted_at IS NULL`, tenantID, id))
	if errors.Is(err, pgx.ErrNoRows) {
		return hc, errNoSuchHealthCheck(id)
	}
	if err != nil {
		return hc, fmt.Errorf("get health check: %w", err)
	}
	return hc.redacted(), nil
}

// ListHealthChecks returns a page of the tenant's checks in id order,
// starting at marker (an id; empty for the first page).
func (s *Service) ListHealthChecks(ctx context.Context, tenantID, marker string, maxItems int) (HealthCheckPage, error) {
	if maxItems <= 0 {
		maxItems = DefaultHealthCheckPageSize
	}
	maxItems = min(maxItems, MaxHealthCheckPageSize)
	rows, err := s.pool.Query(ctx, `SELECT `+healthCheckColumns+` FROM health_check
	    WHERE tenant_id = $1 AND deleted_at IS NULL AND id >= $2 ORDER BY id LIMIT $3`, tenantID, marker, maxItems+1)
	if err != nil {
		return HealthCheckPage{}, fmt.Errorf("list health checks: %w", err)
	}
	list, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (HealthCheck, error) { return scanHealthCheck(r) })
	if err != nil {
		return HealthCheckPage{}, fmt.Errorf("list health checks: %w", err)
	}
	for i := range list {
		list[i] = list[i].redacted()
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
func (s *Service) UpdateHealthCheck(ctx context.Context, tenantID, id string, in UpdateHealthCheckInput) (HealthCheck, error) {
	var out HealthCheck
	err := s.inTx(ctx, func(tx pgx.Tx) error {
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
		if in.Notify != nil {
			if err := checkActions("notify", *in.Notify, s.cfg.HealthChecks.AllowPrivateTargets); err != nil {
				return err
			}
			if err := setNotify(ctx, tx, tenantID, id, *in.Notify); err != nil {
				return err
			}
			hc.Notify = append([]AlarmAction{}, *in.Notify...)
		}
		cfg, err := applyUpdate(hc.Config, in)
		if err != nil {
			return err
		}
		cfg, err = s.normalize(cfg)
		if err != nil {
			return err
		}
		if err := s.checkChildren(ctx, tx, tenantID, id, cfg); err != nil {
			return err
		}
		stored, err := json.Marshal(storedConfig(cfg))
		if err != nil {
			return err
		}
		if err := tx.QueryRow(ctx, `UPDATE health_check SET config = $2, version = version + 1,
		        revision = nextval('health_check_revision')
		    WHERE id = $1 RETURNING version`, id, string(stored)).Scan(&hc.Version); err != nil {
			return fmt.Errorf("update health check: %w", err)
		}
		hc.Config = cfg
		out = hc.redacted()
		return nil
	})
	return out, err
}

// applyUpdate applies the set fields and resets of in to c.
func applyUpdate(c healthcfg.Config, in UpdateHealthCheckInput) (healthcfg.Config, error) {
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
func (s *Service) DeleteHealthCheck(ctx context.Context, tenantID, id string) error {
	return s.inTx(ctx, func(tx pgx.Tx) error {
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
		    WHERE id = $1`, id, s.now()); err != nil {
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
func (s *Service) HealthCheckStatus(ctx context.Context, tenantID, id string) (HealthCheckStatus, error) {
	var out HealthCheckStatus
	err := pgx.BeginTxFunc(ctx, s.pool, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly}, func(tx pgx.Tx) error {
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
func (s *Service) HealthCheckHistory(ctx context.Context, tenantID, id string, before int64, maxItems int) ([]HealthTransition, int64, error) {
	if _, err := s.GetHealthCheck(ctx, tenantID, id); err != nil {
		return nil, 0, err
	}
	if maxItems <= 0 {
		maxItems = DefaultHealthHistoryPage
	}
	maxItems = min(maxItems, MaxHealthHistoryPage)
	if before <= 0 {
		before = 1<<63 - 1
	}
	rows, err := s.pool.Query(ctx, `SELECT id, healthy, at, reason FROM health_check_transition
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
		list, next, ids = list[:maxItems], ids[maxItems-1], ids[:maxItems]
	}
	deliveries, err := s.healthDeliveries(ctx, id, ids)
	if err != nil {
		return nil, 0, err
	}
	for i := range list {
		list[i].Deliveries = deliveries[ids[i]]
	}
	return list, next, nil
}
