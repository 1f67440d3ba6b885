package api

import (
	"context"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/waymark-dns/waymark/controlplane"
	"github.com/waymark-dns/waymark/healthcfg"
)

// healthCheckService is what the health check endpoints need of the
// control plane; *controlplane.Service has it. A Service without it has no
// health check endpoints.
type healthCheckService interface {
	CreateHealthCheck(ctx context.Context, tenantID string, in controlplane.CreateHealthCheckInput) (controlplane.HealthCheck, error)
	GetHealthCheck(ctx context.Context, tenantID, id string) (controlplane.HealthCheck, error)
	ListHealthChecks(ctx context.Context, tenantID, marker string, maxItems int) (controlplane.HealthCheckPage, error)
	UpdateHealthCheck(ctx context.Context, tenantID, id string, in controlplane.UpdateHealthCheckInput) (controlplane.HealthCheck, error)
	DeleteHealthCheck(ctx context.Context, tenantID, id string) error
	HealthCheckStatus(ctx context.Context, tenantID, id string) (controlplane.HealthCheckStatus, error)
	HealthCheckHistory(ctx context.Context, tenantID, id string, before int64, maxItems int) ([]controlplane.HealthTransition, int64, error)
}

// The compiler keeps the interface and the control plane in step.
var _ healthCheckService = (*controlplane.Service)(nil)

// healthCheckRoutes registers /v1/healthchecks… when the Service has
// health checks (see the package doc on route hooks).
func (h *handler) healthCheckRoutes(r chi.Router) {
	hs, ok := h.svc.(healthCheckService)
	if !ok {
		return
	}
	x := &healthCheckHandler{handler: h, hc: hs}
	r.Group(func(r chi.Router) {
		r.Use(h.requireTenant, h.rateLimit, h.limitBody(h.cfg.MaxBodyBytes))
		r.Post("/v1/healthchecks", x.create)
		r.Get("/v1/healthchecks", x.list)
		r.Get("/v1/healthchecks/{id}", x.get)
		r.Patch("/v1/healthchecks/{id}", x.update)
		r.Delete("/v1/healthchecks/{id}", x.delete)
		r.Get("/v1/healthchecks/{id}/status", x.status)
		r.Get("/v1/healthchecks/{id}/last-failure", x.lastFailure)
		r.Get("/v1/healthchecks/{id}/history", x.history)
	})
}

type healthCheckHandler struct {
	*handler
	hc healthCheckService
}

// JSON shapes of the health check endpoints.

// healthCheckConfigJSON is a check's configuration in responses: the
// fields of healthcfg.Config (which requests are read into), with the
// response's own rules for which zero values are shown.
type healthCheckConfigJSON struct {
	Type              string   `json:"type"`
	IPAddress         string   `json:"ip_address,omitempty"`
	FQDN              string   `json:"fqdn,omitempty"`
	Port              int      `json:"port,omitempty"`
	ResourcePath      string   `json:"resource_path,omitempty"`
	SearchString      string   `json:"search_string,omitempty"`
	RequestInterval   int      `json:"request_interval,omitempty"`
	FailureThreshold  int      `json:"failure_threshold,omitempty"`
	Inverted          bool     `json:"inverted"`
	Disabled          bool     `json:"disabled"`
	EnableSNI         bool     `json:"enable_sni"`
	Regions           []string `json:"regions,omitempty"`
	ChildHealthChecks []string `json:"child_health_checks,omitempty"`
	HealthThreshold   *int     `json:"health_threshold,omitempty"`
}

type healthCheckJSON struct {
	ID              string                `json:"id"`
	CallerReference string                `json:"caller_reference"`
	Version         int64                 `json:"version"`
	Config          healthCheckConfigJSON `json:"config"`
	Status          string                `json:"status"`
	StatusChangedAt time.Time             `json:"status_changed_at"`
	CreatedAt       time.Time             `json:"created_at"`
}

type createHealthCheckRequest struct {
	CallerReference string           `json:"caller_reference"`
	Config          healthcfg.Config `json:"config"`
}

type updateHealthCheckRequest struct {
	Version           *int64    `json:"version"`
	IPAddress         *string   `json:"ip_address"`
	FQDN              *string   `json:"fqdn"`
	Port              *int      `json:"port"`
	ResourcePath      *string   `json:"resource_path"`
	SearchString      *string   `json:"search_string"`
	FailureThreshold  *int      `json:"failure_threshold"`
	Inverted          *bool     `json:"inverted"`
	Disabled          *bool     `json:"disabled"`
	EnableSNI         *bool     `json:"enable_sni"`
	Regions           *[]string `json:"regions"`
	ChildHealthChecks *[]string `json:"child_health_checks"`
	HealthThreshold   *int      `json:"health_threshold"`
	ResetElements     []string  `json:"reset_elements"`
}

type healthCheckResponse struct {
	HealthCheck healthCheckJSON `json:"health_check"`
}

type listHealthChecksResponse struct {
	HealthChecks []healthCheckJSON `json:"health_checks"`
	IsTruncated  bool              `json:"is_truncated"`
	NextMarker   string            `json:"next_marker,omitempty"`
	MaxItems     int               `json:"max_items"`
}

type checkerJSON struct {
	Region    string    `json:"region"`
	Status    string    `json:"status"`
	CheckedAt time.Time `json:"checked_at"`
	Reason    string    `json:"reason"`
}

type healthCheckStatusResponse struct {
	Status          string        `json:"status"`
	StatusChangedAt time.Time     `json:"status_changed_at"`
	Checkers        []checkerJSON `json:"checkers"`
}

type failureJSON struct {
	Region   string    `json:"region"`
	FailedAt time.Time `json:"failed_at"`
	Reason   string    `json:"reason"`
}

type lastFailureResponse struct {
	Checkers []failureJSON `json:"checkers"`
}

type transitionJSON struct {
	Status string    `json:"status"`
	At     time.Time `json:"at"`
	Reason string    `json:"reason"`
}

type historyResponse struct {
	Transitions []transitionJSON `json:"transitions"`
	// NextBefore, when set, is the before parameter of the next (older) page.
	NextBefore int64 `json:"next_before,omitempty"`
}

func statusText(healthy bool) string {
	if healthy {
		return "HEALTHY"
	}
	return "UNHEALTHY"
}

func toHealthCheckJSON(hc controlplane.HealthCheck) healthCheckJSON {
	c := hc.Config
	cfg := healthCheckConfigJSON{
		Type: string(c.Type), IPAddress: c.IPAddress, FQDN: c.FQDN, Port: c.Port, ResourcePath: c.ResourcePath,
		SearchString: c.SearchString, RequestInterval: c.RequestInterval, FailureThreshold: c.FailureThreshold,
		Inverted: c.Inverted, Disabled: c.Disabled, EnableSNI: c.EnableSNI, Regions: c.Regions,
		ChildHealthChecks: c.ChildHealthChecks,
	}
	if c.Type == healthcfg.Calculated {
		n := c.HealthThreshold
		cfg.HealthThreshold = &n
	}
	return healthCheckJSON{
		ID: hc.ID, CallerReference: hc.CallerReference, Version: hc.Version, Config: cfg,
		Status: statusText(hc.Healthy), StatusChangedAt: hc.StatusChangedAt.UTC(), CreatedAt: hc.CreatedAt.UTC(),
	}
}

// create is POST /v1/healthchecks. A repeated caller reference with the
// same settings answers 201 with the existing check, as Route 53 does.
func (x *healthCheckHandler) create(w http.ResponseWriter, r *http.Request) {
	var req createHealthCheckRequest
	if err := x.decodeJSON(r, &req); err != nil {
		x.writeError(w, r, err)
		return
	}
	hc, err := x.hc.CreateHealthCheck(r.Context(), tenantID(r), controlplane.CreateHealthCheckInput{
		CallerReference: req.CallerReference, Config: req.Config,
	})
	if err != nil {
		x.writeError(w, r, err)
		return
	}
	w.Header().Set("Location", "/v1/healthchecks/"+url.PathEscape(hc.ID))
	x.writeJSON(w, http.StatusCreated, healthCheckResponse{HealthCheck: toHealthCheckJSON(hc)})
}

// list is GET /v1/healthchecks?marker=&max_items=.
func (x *healthCheckHandler) list(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	maxItems, err := maxItemsParam(q)
	if err != nil {
		x.writeError(w, r, err)
		return
	}
	page, err := x.hc.ListHealthChecks(r.Context(), tenantID(r), q.Get("marker"), maxItems)
	if err != nil {
		x.writeError(w, r, err)
		return
	}
	out := listHealthChecksResponse{HealthChecks: make([]healthCheckJSON, 0, len(page.HealthChecks)),
		IsTruncated: page.IsTruncated, NextMarker: page.NextMarker, MaxItems: page.MaxItems}
	for _, hc := range page.HealthChecks {
		out.HealthChecks = append(out.HealthChecks, toHealthCheckJSON(hc))
	}
	x.writeJSON(w, http.StatusOK, out)
}

// get is GET /v1/healthchecks/{id}.
func (x *healthCheckHandler) get(w http.ResponseWriter, r *http.Request) {
	hc, err := x.hc.GetHealthCheck(r.Context(), tenantID(r), chi.URLParam(r, "id"))
	if err != nil {
		x.writeError(w, r, err)
		return
	}
	x.writeJSON(w, http.StatusOK, healthCheckResponse{HealthCheck: toHealthCheckJSON(hc)})
}

// update is PATCH /v1/healthchecks/{id}: the fields present change;
// "version", when present, must match (409 HealthCheckVersionMismatch).
func (x *healthCheckHandler) update(w http.ResponseWriter, r *http.Request) {
	var req updateHealthCheckRequest
	if err := x.decodeJSON(r, &req); err != nil {
		x.writeError(w, r, err)
		return
	}
	hc, err := x.hc.UpdateHealthCheck(r.Context(), tenantID(r), chi.URLParam(r, "id"), controlplane.UpdateHealthCheckInput{
		Version: req.Version, IPAddress: req.IPAddress, FQDN: req.FQDN, Port: req.Port,
		ResourcePath: req.ResourcePath, SearchString: req.SearchString, FailureThreshold: req.FailureThreshold,
		Inverted: req.Inverted, Disabled: req.Disabled, EnableSNI: req.EnableSNI, Regions: req.Regions,
		ChildHealthChecks: req.ChildHealthChecks, HealthThreshold: req.HealthThreshold, ResetElements: req.ResetElements,
	})
	if err != nil {
		x.writeError(w, r, err)
		return
	}
	x.writeJSON(w, http.StatusOK, healthCheckResponse{HealthCheck: toHealthCheckJSON(hc)})
}

// delete is DELETE /v1/healthchecks/{id}: 204, or 409 HealthCheckInUse.
func (x *healthCheckHandler) delete(w http.ResponseWriter, r *http.Request) {
	if err := x.hc.DeleteHealthCheck(r.Context(), tenantID(r), chi.URLParam(r, "id")); err != nil {
		x.writeError(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// status is GET /v1/healthchecks/{id}/status: the aggregate status and
// each region's last observation.
func (x *healthCheckHandler) status(w http.ResponseWriter, r *http.Request) {
	st, err := x.hc.HealthCheckStatus(r.Context(), tenantID(r), chi.URLParam(r, "id"))
	if err != nil {
		x.writeError(w, r, err)
		return
	}
	out := healthCheckStatusResponse{Status: statusText(st.Healthy), StatusChangedAt: st.StatusChangedAt.UTC(),
		Checkers: make([]checkerJSON, 0, len(st.Checkers))}
	for _, c := range st.Checkers {
		out.Checkers = append(out.Checkers, checkerJSON{Region: c.Region, Status: statusText(c.Healthy),
			CheckedAt: c.CheckedAt.UTC(), Reason: c.Reason})
	}
	x.writeJSON(w, http.StatusOK, out)
}

// lastFailure is GET /v1/healthchecks/{id}/last-failure: each region's
// most recent failed observation (regions that never failed are absent).
func (x *healthCheckHandler) lastFailure(w http.ResponseWriter, r *http.Request) {
	st, err := x.hc.HealthCheckStatus(r.Context(), tenantID(r), chi.URLParam(r, "id"))
	if err != nil {
		x.writeError(w, r, err)
		return
	}
	out := lastFailureResponse{Checkers: []failureJSON{}}
	for _, c := range st.Checkers {
		if c.LastFailureAt != nil {
			out.Checkers = append(out.Checkers, failureJSON{Region: c.Region, FailedAt: c.LastFailureAt.UTC(), Reason: c.LastFailureReason})
		}
	}
	x.writeJSON(w, http.StatusOK, out)
}

// history is GET /v1/healthchecks/{id}/history?max_items=&before=: status
// transitions, newest first.
func (x *healthCheckHandler) history(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	maxItems, err := maxItemsParam(q)
	if err != nil {
		x.writeError(w, r, err)
		return
	}
	var before int64
	if s := q.Get("before"); s != "" {
		before, err = strconv.ParseInt(s, 10, 64)
		if err != nil || before < 1 {
			x.writeError(w, r, &controlplane.Error{Code: controlplane.CodeInvalidInput,
				Message: "before must be a positive integer (next_before of the previous page)",
				Details: []controlplane.Detail{{Field: "before", Message: "must be a positive integer"}}})
			return
		}
	}
	list, next, err := x.hc.HealthCheckHistory(r.Context(), tenantID(r), chi.URLParam(r, "id"), before, maxItems)
	if err != nil {
		x.writeError(w, r, err)
		return
	}
	out := historyResponse{Transitions: make([]transitionJSON, 0, len(list)), NextBefore: next}
	for _, t := range list {
		out.Transitions = append(out.Transitions, transitionJSON{Status: statusText(t.Healthy), At: t.At.UTC(), Reason: t.Reason})
	}
	x.writeJSON(w, http.StatusOK, out)
}
