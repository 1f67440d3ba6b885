package api

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/waymark-dns/waymark/controlplane"
)

// QueryLogService serves zones' query logging configurations and their
// query logs (docs/observability.md, "Query logging").
type QueryLogService interface {
	CreateQueryLoggingConfig(ctx context.Context, tenantID, zoneID string) (controlplane.QueryLoggingConfig, controlplane.ChangeInfo, error)
	GetQueryLoggingConfig(ctx context.Context, tenantID, zoneID string) (controlplane.QueryLoggingConfig, error)
	DeleteQueryLoggingConfig(ctx context.Context, tenantID, zoneID string) (controlplane.ChangeInfo, error)
	ReadQueryLogs(ctx context.Context, tenantID, zoneID string, q controlplane.QueryLogQuery, emit func(line []byte, more bool) error) error
}

// Limits of query log reads, beyond controlplane's (entries per read,
// length of a follow stream).
const (
	// DefaultQueryLogReadersPerTenant is how many query log reads one
	// tenant may have open at once on one API process.
	DefaultQueryLogReadersPerTenant = 4
	// DefaultQueryLogReaders is how many one API process serves at once.
	DefaultQueryLogReaders = 256
)

type queryLoggingConfigJSON struct {
	ID           string    `json:"id"`
	HostedZoneID string    `json:"hosted_zone_id"`
	CreatedAt    time.Time `json:"created_at"`
}

type queryLoggingConfigResponse struct {
	QueryLoggingConfig queryLoggingConfigJSON `json:"query_logging_config"`
	Change             *changeJSON            `json:"change,omitempty"`
}

type deleteQueryLoggingResponse struct {
	Change changeJSON `json:"change"`
}

func toQueryLoggingConfigJSON(c controlplane.QueryLoggingConfig) queryLoggingConfigJSON {
	return queryLoggingConfigJSON{ID: c.ID, HostedZoneID: c.HostedZoneID, CreatedAt: c.CreatedAt.UTC()}
}

// createQueryLogging is POST /v1/hostedzones/{id}/querylogging.
func (h *handler) createQueryLogging(w http.ResponseWriter, r *http.Request) error {
	cfg, ch, err := h.svc.CreateQueryLoggingConfig(r.Context(), tenantID(r), chi.URLParam(r, "id"))
	if err != nil {
		return err
	}
	c := toChangeJSON(ch)
	w.Header().Set("Location", "/v1/hostedzones/"+cfg.HostedZoneID+"/querylogging")
	h.writeJSON(w, http.StatusCreated, queryLoggingConfigResponse{QueryLoggingConfig: toQueryLoggingConfigJSON(cfg), Change: &c})
	return nil
}

// getQueryLogging is GET /v1/hostedzones/{id}/querylogging.
func (h *handler) getQueryLogging(w http.ResponseWriter, r *http.Request) error {
	cfg, err := h.svc.GetQueryLoggingConfig(r.Context(), tenantID(r), chi.URLParam(r, "id"))
	if err != nil {
		return err
	}
	h.writeJSON(w, http.StatusOK, queryLoggingConfigResponse{QueryLoggingConfig: toQueryLoggingConfigJSON(cfg)})
	return nil
}

// deleteQueryLogging is DELETE /v1/hostedzones/{id}/querylogging.
func (h *handler) deleteQueryLogging(w http.ResponseWriter, r *http.Request) error {
	ch, err := h.svc.DeleteQueryLoggingConfig(r.Context(), tenantID(r), chi.URLParam(r, "id"))
	if err != nil {
		return err
	}
	h.writeJSON(w, http.StatusOK, deleteQueryLoggingResponse{Change: toChangeJSON(ch)})
	return nil
}

// queryLogs is GET /v1/hostedzones/{id}/querylogs: the zone's query log
// entries as NDJSON (application/x-ndjson), oldest first. With
// follow=true the response goes on as entries arrive, each flushed as it
// arrives (those that arrive together in one flush), until the client
// disconnects or controlplane.MaxQueryLogFollow has passed.
func (h *handler) queryLogs(w http.ResponseWriter, r *http.Request) error {
	q, err := parseQueryLogParams(r.URL.Query(), h.cfg.NowFunc())
	if err != nil {
		return err
	}
	release, ok := h.qlogTenant.acquire(tenantID(r))
	if !ok {
		h.rateLimited(r, limiterQueryLogs)
		w.Header().Set("Retry-After", "1")
		return apiError(codeThrottling, "too many query log reads open for this tenant; at most "+
			strconv.Itoa(h.qlogTenant.limit)+", retry after 1s")
	}
	defer release()
	releaseAll, ok := h.qlogAll.acquire("")
	if !ok {
		h.rateLimited(r, limiterQueryLogs)
		w.Header().Set("Retry-After", "1")
		return apiError(codeThrottling, "too many query log reads open on this server; retry after 1s")
	}
	defer releaseAll()
	rc := http.NewResponseController(w)
	started := false
	start := func() {
		if !started {
			started = true
			w.Header().Set("Content-Type", "application/x-ndjson")
			w.Header().Set("Cache-Control", "no-store")
			w.WriteHeader(http.StatusOK)
		}
	}
	if q.Follow {
		// The headers go as soon as the read has its place in the
		// stream: a follower learns that every entry from then on will
		// reach it, before the first one arrives.
		q.Positioned = func() {
			start()
			_ = rc.Flush()
		}
	}
	buf := make([]byte, 0, 512)
	err = h.svc.ReadQueryLogs(r.Context(), tenantID(r), chi.URLParam(r, "id"), q, func(line []byte, more bool) error {
		start()
		buf = append(append(buf[:0], line...), '\n')
		if _, err := w.Write(buf); err != nil {
			return err
		}
		if q.Follow && !more {
			// Flushed as it arrives: entries that arrived together (one
			// nameserver batch) go in one flush.
			return rc.Flush()
		}
		return nil
	})
	if err != nil && !started {
		return err
	}
	if err != nil && r.Context().Err() == nil && !errors.Is(err, context.Canceled) {
		h.log.WarnContext(r.Context(), "query log read cut off", "err", err)
	}
	start()
	return nil
}

// parseQueryLogParams reads the query of GET …/querylogs: since (RFC
// 3339 time, Unix seconds, or a duration such as 15m meaning that long
// before now), follow (true or false) and limit (1 to
// controlplane.MaxQueryLogLimit). Unknown parameters are refused, so
// that a misspelt one is not silently ignored.
func parseQueryLogParams(v url.Values, now time.Time) (controlplane.QueryLogQuery, error) {
	var q controlplane.QueryLogQuery
	bad := func(f string, a ...any) (controlplane.QueryLogQuery, error) {
		return controlplane.QueryLogQuery{}, controlplane.Errorf(controlplane.CodeInvalidInput, f, a...)
	}
	for k, vals := range v {
		if len(vals) != 1 {
			return bad("%s must be given once.", quoteParam(k))
		}
		val := vals[0]
		switch k {
		case "since":
			t, err := parseSince(val, now)
			if err != nil {
				return bad("since must be an RFC 3339 time (2026-01-02T15:04:05Z), Unix seconds or a duration before now (15m, 2h).")
			}
			q.Since = t
		case "follow":
			switch val {
			case "true", "1":
				q.Follow = true
			case "false", "0", "":
			default:
				return bad("follow must be true or false.")
			}
		case "limit":
			n, err := strconv.Atoi(val)
			if err != nil || n < 1 || n > controlplane.MaxQueryLogLimit {
				return bad("limit must be a number from 1 to %d.", controlplane.MaxQueryLogLimit)
			}
			q.Limit = n
		default:
			return bad("Unknown parameter %s: since, follow and limit are accepted.", quoteParam(k))
		}
	}
	return q, nil
}

// parseSince reads since=: an RFC 3339 time, Unix seconds, or a positive
// duration meaning that long before now. Times before 1970 or more than a
// day ahead are refused.
func parseSince(s string, now time.Time) (time.Time, error) {
	var t time.Time
	switch {
	case s == "":
		return time.Time{}, errors.New("empty")
	case strings.ContainsAny(s, "T:-") && len(s) >= 20:
		var err error
		if t, err = time.Parse(time.RFC3339Nano, s); err != nil {
			return time.Time{}, err
		}
	case strings.Trim(s, "0123456789") == "":
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil || n > now.Unix()+86400 {
			return time.Time{}, errors.New("out of range")
		}
		t = time.Unix(n, 0)
	default:
		d, err := time.ParseDuration(s)
		if err != nil || d < 0 || d > 100*365*24*time.Hour {
			return time.Time{}, errors.New("bad duration")
		}
		t = now.Add(-d)
	}
	if t.Before(time.Unix(0, 0)) || t.After(now.Add(24*time.Hour)) {
		return time.Time{}, errors.New("out of range")
	}
	return t.UTC(), nil
}

// quoteParam makes an untrusted parameter name safe to echo.
func quoteParam(k string) string {
	if len(k) > 40 {
		k = k[:40]
	}
	return strconv.Quote(k)
}
