package api

import (
	"net/http"
	"strconv"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/waymark-dns/waymark/controlplane"
)

// defaultMetricRange is the range read when start is not given: the hour
// before end.
const defaultMetricRange = time.Hour

// metricSeries serves GET …/{id}/metrics?metric=&start=&end=&period=
// [&rcode=][&region=] for one namespace: start and end are RFC 3339 (end
// defaults to now, start to an hour before end), period is in seconds
// (default 60). The service checks the rest (metric names, ranges,
// ownership).
func (h *handler) metricSeries(namespace string) handlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		q := r.URL.Query()
		bad := func(field, msg string) error {
			return &controlplane.Error{Code: controlplane.CodeInvalidInput, Message: field + " " + msg,
				Details: []controlplane.Detail{{Field: field, Message: msg}}}
		}
		mq := controlplane.MetricQuery{Namespace: namespace, ResourceID: chi.URLParam(r, "id"),
			Metric: q.Get("metric"), RCode: q.Get("rcode"), Region: q.Get("region"), Period: time.Minute}
		if mq.Metric == "" {
			return bad("metric", "is required")
		}
		mq.End = h.cfg.NowFunc().UTC()
		for _, p := range []struct {
			name string
			t    *time.Time
		}{{"end", &mq.End}, {"start", &mq.Start}} {
			if s := q.Get(p.name); s != "" {
				t, err := time.Parse(time.RFC3339, s)
				if err != nil {
					return bad(p.name, "must be an RFC 3339 time, e.g. 2026-12-01T10:00:00Z")
				}
				*p.t = t
			}
		}
		if mq.Start.IsZero() {
			mq.Start = mq.End.Add(-defaultMetricRange)
		}
		if s := q.Get("period"); s != "" {
			n, err := strconv.Atoi(s)
			if err != nil || n <= 0 || n > controlplane.MaxAlarmPeriod {
				return bad("period", "must be a number of seconds, a multiple of 60")
			}
			mq.Period = time.Duration(n) * time.Second
		}
		series, err := h.svc.QueryMetrics(r.Context(), tenantID(r), mq)
		if err != nil {
			return err
		}
		h.writeJSON(w, http.StatusOK, series)
		return nil
	}
}
