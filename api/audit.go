package api

import (
	"context"
	"net/http"
	"strconv"
	"time"

	"github.com/waymark-dns/waymark/controlplane"
)

// The audit log's API side: the middleware that starts an entry for every
// mutating call on either API (the Service's transactions write it with
// the call's effect, controlplane/audit.go) and records the calls that
// failed, and GET /v1/auditlog.

// AuditService writes and reads the audit log.
type AuditService interface {
	RecordAudit(ctx context.Context, e *controlplane.AuditEntry) error
	ListAudit(ctx context.Context, tenantID string, f controlplane.AuditFilter) (controlplane.AuditPage, error)
}

// mutating reports whether a method changes state: the calls audited.
func mutating(method string) bool {
	switch method {
	case http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete:
		return true
	}
	return false
}

// audit returns the middleware that audits a /v1 route's calls as
// operation "METHOD /path/pattern".
func (h *handler) audit(rt route) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		if !mutating(rt.method) || h.cfg.NoAuditLog {
			return next
		}
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			e := &controlplane.AuditEntry{API: "v1", Operation: rt.method + " " + rt.path}
			if rt.access == admin {
				e.KeyID = "operator"
			}
			h.audited(w, r, e, next)
		})
	}
}

// auditRoute53 audits the Route 53 API's mutating calls; its handler
// names the operation (and skips the read-only POSTs).
func (h *handler) auditRoute53(next http.Handler) http.Handler {
	return h.auditAWS("route53", next)
}

// auditAWS audits the mutating calls of an AWS-compatible API (api names
// it in the log); its handler names the operation and skips the reads,
// which are POSTs too.
func (h *handler) auditAWS(api string, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !mutating(r.Method) || h.cfg.NoAuditLog {
			next.ServeHTTP(w, r)
			return
		}
		h.audited(w, r, &controlplane.AuditEntry{API: api, Operation: r.Method + " " + r.URL.Path}, next)
	})
}

// audited serves r with e in its context, then records e if the call
// failed or no transaction of the call wrote it. Calls of no known tenant
// (failed authentication) are not recorded: nobody could read them, and
// writing a row per bad credential would hand attackers a write load.
func (h *handler) audited(w http.ResponseWriter, r *http.Request, e *controlplane.AuditEntry, next http.Handler) {
	e.Source = clientIP(r)
	e.RequestID = requestID(r.Context())
	e.Target = r.URL.Path
	sw := &statusWriter{ResponseWriter: w}
	next.ServeHTTP(sw, r.WithContext(controlplane.WithAudit(r.Context(), e)))
	status := sw.status
	if status == 0 {
		status = http.StatusOK
	}
	if status < 400 && e.Recorded() {
		return
	}
	if status >= 400 {
		e.Status = status
		if e.Result == "" || e.Result == "Success" {
			e.Result = strconv.Itoa(status)
		}
	} else {
		e.Status = status
	}
	if err := h.svc.RecordAudit(r.Context(), e); err != nil {
		h.log.ErrorContext(r.Context(), "audit log", "request_id", e.RequestID, "err", err)
	}
}

// auditPrincipal names the caller in the request's audit entry.
func auditPrincipal(ctx context.Context, tenantID, keyID string) {
	if e := controlplane.AuditFrom(ctx); e != nil {
		e.TenantID, e.KeyID = tenantID, keyID
	}
}

// auditError notes the error code a call was answered with.
func auditError(ctx context.Context, code string) {
	if e := controlplane.AuditFrom(ctx); e != nil {
		e.Result = code
	}
}

type auditEntryJSON struct {
	ID        string    `json:"id"`
	Time      time.Time `json:"time"`
	KeyID     string    `json:"key_id"`
	Source    string    `json:"source_address"`
	RequestID string    `json:"request_id"`
	API       string    `json:"api"`
	Operation string    `json:"operation"`
	Target    string    `json:"target"`
	Result    string    `json:"result"`
	Status    int       `json:"status,omitempty"`
}

type auditPageJSON struct {
	Entries   []auditEntryJSON `json:"entries"`
	NextToken string           `json:"next_token,omitempty"`
}

// listAudit is GET /v1/auditlog?operation=&key_id=&api=&target=&result=&since=&until=&max_items=&next_token=.
func (h *handler) listAudit(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	maxItems, err := maxItemsParam(q)
	if err != nil {
		return err
	}
	f := controlplane.AuditFilter{
		Operation: q.Get("operation"), KeyID: q.Get("key_id"), API: q.Get("api"), Target: q.Get("target"),
		NextToken: q.Get("next_token"), MaxItems: maxItems,
	}
	switch q.Get("result") {
	case "":
	case "success":
		f.Failed = new(bool)
	case "failure":
		t := true
		f.Failed = &t
	default:
		return badParam("result", "must be success or failure")
	}
	for _, p := range []struct {
		name string
		dst  *time.Time
	}{{"since", &f.Since}, {"until", &f.Until}} {
		if v := q.Get(p.name); v != "" {
			t, err := time.Parse(time.RFC3339, v)
			if err != nil {
				return badParam(p.name, "must be an RFC 3339 time")
			}
			*p.dst = t
		}
	}
	page, err := h.svc.ListAudit(r.Context(), tenantID(r), f)
	if err != nil {
		return err
	}
	out := auditPageJSON{Entries: make([]auditEntryJSON, 0, len(page.Entries)), NextToken: page.NextToken}
	for _, e := range page.Entries {
		out.Entries = append(out.Entries, auditEntryJSON{ID: e.ID, Time: e.Time, KeyID: e.KeyID, Source: e.Source,
			RequestID: e.RequestID, API: e.API, Operation: e.Operation, Target: e.Target, Result: e.Result, Status: e.Status})
	}
	h.writeJSON(w, http.StatusOK, out)
	return nil
}

func badParam(name, msg string) error {
	return &controlplane.Error{Code: controlplane.CodeInvalidInput, Message: name + " " + msg,
		Details: []controlplane.Detail{{Field: name, Message: msg}}}
}
