package api

import (
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/waymark-dns/waymark/controlplane"
	"github.com/waymark-dns/waymark/healthcfg"
)

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
	// Notify are the webhooks told of every status change; as an alarm's
	// actions, without their secrets.
	Notify []alarmActionJSON `json:"notify"`
}

type createHealthCheckRequest struct {
	CallerReference string                     `json:"caller_reference"`
	Config          healthcfg.Config           `json:"config"`
	Notify          []controlplane.AlarmAction `json:"notify"`
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
	// Notify replaces the webhooks when present ([] removes them all).
	Notify *[]controlplane.AlarmAction `json:"notify"`
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
	// Deliveries are the notifications of this change to the check's
	// notify webhooks, as in an alarm's history.
	Deliveries []deliveryJSON `json:"deliveries"`
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
		Notify: toActionsJSON(hc.Notify),
	}
}

// create is POST /v1/healthchecks. A repeated caller reference with the
// same settings answers 201 with the existing check, as Route 53 does.
func (h *handler) createHealthCheck(w http.ResponseWriter, r *http.Request) error {
	var req createHealthCheckRequest
	if err := h.decodeJSON(r, &req); err != nil {
		return err
	}
	hc, err := h.svc.CreateHealthCheck(r.Context(), tenantID(r), controlplane.CreateHealthCheckInput{
		CallerReference: req.CallerReference, Config: req.Config, Notify: req.Notify,
	})
	if err != nil {
		return err
	}
	w.Header().Set("Location", "/v1/healthchecks/"+url.PathEscape(hc.ID))
	h.writeJSON(w, http.StatusCreated, healthCheckResponse{HealthCheck: toHealthCheckJSON(hc)})
	return nil
}

// list is GET /v1/healthchecks?marker=&max_items=.
func (h *handler) listHealthChecks(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	maxItems, err := maxItemsParam(q)
	if err != nil {
		return err
	}
	page, err := h.svc.ListHealthChecks(r.Context(), tenantID(r), q.Get("marker"), maxItems)
	if err != nil {
		return err
	}
	out := listHealthChecksResponse{HealthChecks: make([]healthCheckJSON, 0, len(page.HealthChecks)),
		IsTruncated: page.IsTruncated, NextMarker: page.NextMarker, MaxItems: page.MaxItems}
	for _, hc := range page.HealthChecks {
		out.HealthChecks = append(out.HealthChecks, toHealthCheckJSON(hc))
	}
	h.writeJSON(w, http.StatusOK, out)
	return nil
}

// get is GET /v1/healthchecks/{id}.
func (h *handler) getHealthCheck(w http.ResponseWriter, r *http.Request) error {
	hc, err := h.svc.GetHealthCheck(r.Context(), tenantID(r), chi.URLParam(r, "id"))
	if err != nil {
		return err
	}
	h.writeJSON(w, http.StatusOK, healthCheckResponse{HealthCheck: toHealthCheckJSON(hc)})
	return nil
}

// update is PATCH /v1/healthchecks/{id}: the fields present change;
// "version", when present, must match (409 HealthCheckVersionMismatch).
func (h *handler) updateHealthCheck(w http.ResponseWriter, r *http.Request) error {
	var req updateHealthCheckRequest
	if err := h.decodeJSON(r, &req); err != nil {
		return err
	}
	hc, err := h.svc.UpdateHealthCheck(r.Context(), tenantID(r), chi.URLParam(r, "id"), controlplane.UpdateHealthCheckInput{
		Version: req.Version, IPAddress: req.IPAddress, FQDN: req.FQDN, Port: req.Port,
		ResourcePath: req.ResourcePath, SearchString: req.SearchString, FailureThreshold: req.FailureThreshold,
		Inverted: req.Inverted, Disabled: req.Disabled, EnableSNI: req.EnableSNI, Regions: req.Regions,
		ChildHealthChecks: req.ChildHealthChecks, HealthThreshold: req.HealthThreshold, ResetElements: req.ResetElements,
		Notify: req.Notify,
	})
	if err != nil {
		return err
	}
	h.writeJSON(w, http.StatusOK, healthCheckResponse{HealthCheck: toHealthCheckJSON(hc)})
	return nil
}

// delete is DELETE /v1/healthchecks/{id}: 204, or 409 HealthCheckInUse.
func (h *handler) deleteHealthCheck(w http.ResponseWriter, r *http.Request) error {
	if err := h.svc.DeleteHealthCheck(r.Context(), tenantID(r), chi.URLParam(r, "id")); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// status is GET /v1/healthchecks/{id}/status: the aggregate status and
// each region's last observation.
func (h *handler) healthCheckStatus(w http.ResponseWriter, r *http.Request) error {
	st, err := h.svc.HealthCheckStatus(r.Context(), tenantID(r), chi.URLParam(r, "id"))
	if err != nil {
		return err
	}
	out := healthCheckStatusResponse{Status: statusText(st.Healthy), StatusChangedAt: st.StatusChangedAt.UTC(),
		Checkers: make([]checkerJSON, 0, len(st.Checkers))}
	for _, c := range st.Checkers {
		out.Checkers = append(out.Checkers, checkerJSON{Region: c.Region, Status: statusText(c.Healthy),
			CheckedAt: c.CheckedAt.UTC(), Reason: c.Reason})
	}
	h.writeJSON(w, http.StatusOK, out)
	return nil
}

// lastFailure is GET /v1/healthchecks/{id}/last-failure: each region's
// most recent failed observation (regions that never failed are absent).
func (h *handler) healthCheckLastFailure(w http.ResponseWriter, r *http.Request) error {
	st, err := h.svc.HealthCheckStatus(r.Context(), tenantID(r), chi.URLParam(r, "id"))
	if err != nil {
		return err
	}
	out := lastFailureResponse{Checkers: []failureJSON{}}
	for _, c := range st.Checkers {
		if c.LastFailureAt != nil {
			out.Checkers = append(out.Checkers, failureJSON{Region: c.Region, FailedAt: c.LastFailureAt.UTC(), Reason: c.LastFailureReason})
		}
	}
	h.writeJSON(w, http.StatusOK, out)
	return nil
}

// history is GET /v1/healthchecks/{id}/history?max_items=&before=: status
// transitions, newest first.
func (h *handler) healthCheckHistory(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	maxItems, err := maxItemsParam(q)
	if err != nil {
		return err
	}
	var before int64
	if s := q.Get("before"); s != "" {
		before, err = strconv.ParseInt(s, 10, 64)
		if err != nil || before < 1 {
			return &controlplane.Error{Code: controlplane.CodeInvalidInput,
				Message: "before must be a positive integer (next_before of the previous page)",
				Details: []controlplane.Detail{{Field: "before", Message: "must be a positive integer"}}}
		}
	}
	list, next, err := h.svc.HealthCheckHistory(r.Context(), tenantID(r), chi.URLParam(r, "id"), before, maxItems)
	if err != nil {
		return err
	}
	out := historyResponse{Transitions: make([]transitionJSON, 0, len(list)), NextBefore: next}
	for _, t := range list {
		out.Transitions = append(out.Transitions, transitionJSON{Status: statusText(t.Healthy), At: t.At.UTC(), Reason: t.Reason,
			Deliveries: toDeliveriesJSON(t.Deliveries)})
	}
	h.writeJSON(w, http.StatusOK, out)
	return nil
}
