package controlplane

import (
	"context"
	"encoding/base64"
	"fmt"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5"
)

// This file is the audit log (CloudTrail's role). The API layers put an
// *AuditEntry in the request's context (WithAudit) for every mutating
// call; the Service's transaction helpers (txInTwoTripsQ, inTx) write it
// in the same transaction as the call's effect, so a change and its audit
// row commit or roll back together. A call that failed, or that made no
// transaction, is written afterwards by RecordAudit. Entries hold no
// request bodies, only who, from where, which operation on which path and
// the result: secrets cannot reach the log.

// AuditEntry is one audited call.
type AuditEntry struct {
	ID        string
	Time      time.Time
	TenantID  string
	KeyID     string
	Source    string // the client's address
	RequestID string
	API       string // "v1" or "route53"
	Operation string // "POST /v1/hostedzones" or "CreateHostedZone"
	Target    string // the request's path: which resource
	// Result is "Success" or the error code the caller was answered.
	Result string
	// Status is the HTTP status, for entries written after the call (a
	// row written inside the effect's transaction cannot know it).
	Status int

	// Skip marks a call that turned out not to mutate anything (a
	// read-only POST such as ListTagsForResources): nothing is written.
	Skip bool
	// recorded is set once the entry is committed.
	recorded bool
}

// Recorded reports whether the entry has been written, in a transaction
// of the call or by RecordAudit.
func (e *AuditEntry) Recorded() bool { return e != nil && e.recorded }

// auditKey keys the entry in a context.
type auditKey struct{}

// WithAudit returns ctx carrying e: the Service's transactions record it.
func WithAudit(ctx context.Context, e *AuditEntry) context.Context {
	return context.WithValue(ctx, auditKey{}, e)
}

// AuditFrom returns the entry ctx carries, or nil.
func AuditFrom(ctx context.Context) *AuditEntry {
	e, _ := ctx.Value(auditKey{}).(*AuditEntry)
	return e
}

// pendingAudit returns the entry a transaction of ctx should write, or
// nil: none, skipped, already written, or of no tenant (operator calls are
// recorded once a tenant is known, see CreateTenant).
func pendingAudit(ctx context.Context) *AuditEntry {
	e := AuditFrom(ctx)
	if e == nil || e.Skip || e.recorded || e.TenantID == "" {
		return nil
	}
	return e
}

const insertAuditSQL = `INSERT INTO audit_log (id, at, tenant_id, key_id, source, request_id, api, operation, target, result, status)
	VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, NULLIF($11, 0))`

// prepareAudit fills the entry's id and time, once.
func (s *Service) prepareAudit(e *AuditEntry) error {
	if e.ID == "" {
		id, err := s.newID("AUD")
		if err != nil {
			return err
		}
		e.ID = id
	}
	if e.Time.IsZero() {
		e.Time = s.now()
	}
	if e.Result == "" {
		e.Result = "Success"
	}
	return nil
}

func auditArgs(e *AuditEntry) []any {
	var tenant any
	if e.TenantID != "" {
		tenant = e.TenantID
	}
	return []any{e.ID, e.Time, tenant, e.KeyID, e.Source, e.RequestID, e.API, e.Operation, e.Target, e.Result, e.Status}
}

// queueAudit queues ctx's pending entry into a transaction's batch; the
// returned func marks it written, to be called after COMMIT succeeds.
func (s *Service) queueAudit(ctx context.Context, b *pgx.Batch) (func(), error) {
	e := pendingAudit(ctx)
	if e == nil {
		return func() {}, nil
	}
	if err := s.prepareAudit(e); err != nil {
		return nil, err
	}
	b.Queue(insertAuditSQL, auditArgs(e)...)
	return func() { e.recorded = true }, nil
}

// auditInTx writes ctx's pending entry in tx, for writers that manage
// their own transaction; the returned func marks it written, to be called
// after COMMIT succeeds.
func (s *Service) auditInTx(ctx context.Context, tx pgx.Tx) (func(), error) {
	e := pendingAudit(ctx)
	if e == nil {
		return func() {}, nil
	}
	if err := s.prepareAudit(e); err != nil {
		return nil, err
	}
	if _, err := tx.Exec(ctx, insertAuditSQL, auditArgs(e)...); err != nil {
		return nil, fmt.Errorf("insert audit entry: %w", err)
	}
	return func() { e.recorded = true }, nil
}

// inTx runs fn in a transaction and writes ctx's audit entry in it: what
// every writer outside txInTwoTrips uses instead of pgx.BeginFunc.
func (s *Service) inTx(ctx context.Context, fn func(pgx.Tx) error) error {
	e := pendingAudit(ctx)
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		if err := fn(tx); err != nil {
			return err
		}
		if e == nil || e.TenantID == "" {
			// fn may have named the tenant (CreateTenant).
			if e = pendingAudit(ctx); e == nil {
				return nil
			}
		}
		if err := s.prepareAudit(e); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, insertAuditSQL, auditArgs(e)...); err != nil {
			return fmt.Errorf("insert audit entry: %w", err)
		}
		return nil
	})
	if err == nil && e != nil {
		e.recorded = true
	}
	return err
}

// RecordAudit writes an entry on its own: a failed call (whose effect's
// transaction rolled back, or never began), or a call that made no
// transaction. An entry already written in the call's transaction is
// corrected instead when the call failed afterwards.
func (s *Service) RecordAudit(ctx context.Context, e *AuditEntry) error {
	if e == nil || e.Skip || e.TenantID == "" {
		return nil
	}
	ctx = context.WithoutCancel(ctx) // a client that went away is still audited
	if e.recorded {
		if e.Result == "Success" {
			return nil
		}
		_, err := s.pool.Exec(ctx, `UPDATE audit_log SET result = $2, status = NULLIF($3, 0) WHERE id = $1`,
			e.ID, e.Result, e.Status)
		return err
	}
	if err := s.prepareAudit(e); err != nil {
		return err
	}
	if _, err := s.pool.Exec(ctx, insertAuditSQL, auditArgs(e)...); err != nil {
		return fmt.Errorf("insert audit entry: %w", err)
	}
	e.recorded = true
	return nil
}

// AuditFilter selects entries of ListAudit; zero fields select all.
type AuditFilter struct {
	Operation string
	KeyID     string
	API       string
	// Target selects entries whose target starts with it.
	Target string
	// Failed selects failures only (true) or successes only (false).
	Failed       *bool
	Since, Until time.Time
	// NextToken continues a previous page.
	NextToken string
	MaxItems  int
}

// AuditPage is one page of a tenant's audit log, newest first.
type AuditPage struct {
	Entries   []AuditEntry
	NextToken string
}

// Audit log pages: the default and the largest.
const (
	DefaultAuditPage = 100
	MaxAuditPage     = 1000
)

// ListAudit returns a page of tenantID's audit log, newest first. Only
// the tenant's own entries are ever returned.
func (s *Service) ListAudit(ctx context.Context, tenantID string, f AuditFilter) (AuditPage, error) {
	limit := f.MaxItems
	if limit <= 0 {
		limit = DefaultAuditPage
	}
	if limit > MaxAuditPage {
		limit = MaxAuditPage
	}
	var before int64
	if f.NextToken != "" {
		var ok bool
		if before, ok = parseAuditToken(f.NextToken); !ok {
			return AuditPage{}, Errorf(CodeInvalidInput, "next_token is not a token this API returned")
		}
	}
	args := []any{tenantID, limit + 1}
	where := `tenant_id = $1`
	add := func(cond string, v any) {
		args = append(args, v)
		where += fmt.Sprintf(" AND "+cond, len(args))
	}
	if before > 0 {
		add("seq < $%d", before)
	}
	if f.Operation != "" {
		add("operation = $%d", f.Operation)
	}
	if f.KeyID != "" {
		add("key_id = $%d", f.KeyID)
	}
	if f.API != "" {
		add("api = $%d", f.API)
	}
	if f.Target != "" {
		add("starts_with(target, $%d)", f.Target)
	}
	if f.Failed != nil {
		if *f.Failed {
			where += " AND result <> 'Success'"
		} else {
			where += " AND result = 'Success'"
		}
	}
	if !f.Since.IsZero() {
		add("at >= $%d", f.Since)
	}
	if !f.Until.IsZero() {
		add("at < $%d", f.Until)
	}
	rows, err := s.pool.Query(ctx, `SELECT seq, id, at, coalesce(tenant_id, ''), key_id, source, request_id, api,
	        operation, target, result, coalesce(status, 0)
	   FROM audit_log WHERE `+where+` ORDER BY seq DESC LIMIT $2`, args...)
	if err != nil {
		return AuditPage{}, fmt.Errorf("list audit log: %w", err)
	}
	defer rows.Close()
	var page AuditPage
	var last int64
	for rows.Next() {
		var e AuditEntry
		var seq int64
		if err := rows.Scan(&seq, &e.ID, &e.Time, &e.TenantID, &e.KeyID, &e.Source, &e.RequestID, &e.API,
			&e.Operation, &e.Target, &e.Result, &e.Status); err != nil {
			return AuditPage{}, fmt.Errorf("scan audit entry: %w", err)
		}
		if len(page.Entries) == limit {
			page.NextToken = auditToken(last)
			break
		}
		e.Time = e.Time.UTC()
		e.recorded = true
		page.Entries = append(page.Entries, e)
		last = seq
	}
	if err := rows.Err(); err != nil {
		return AuditPage{}, fmt.Errorf("list audit log: %w", err)
	}
	return page, nil
}

// auditToken is the next_token of a page whose last entry is seq: the
// position, opaque to callers.
func auditToken(seq int64) string {
	return base64.RawURLEncoding.EncodeToString([]byte(strconv.FormatInt(seq, 10)))
}

// parseAuditToken reads a token of auditToken; ok is false for anything
// else.
func parseAuditToken(tok string) (seq int64, ok bool) {
	b, err := base64.RawURLEncoding.DecodeString(tok)
	if err != nil || len(b) == 0 || len(b) > 19 || b[0] == '0' {
		return 0, false
	}
	for _, c := range b {
		if c < '0' || c > '9' {
			return 0, false
		}
	}
	seq, err = strconv.ParseInt(string(b), 10, 64)
	// Only the canonical spelling: base64 lets a last character carry
	// stray bits, and a token must name one position one way.
	if err != nil || seq <= 0 || auditToken(seq) != tok {
		return 0, false
	}
	return seq, true
}
