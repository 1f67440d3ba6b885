package api

import (
	"net/http"
	"strconv"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// apiMetrics counts requests by route pattern (never the path: a zone id
// would be a label per zone), method and status, and times them.
type apiMetrics struct {
	requests *prometheus.CounterVec
	duration *prometheus.HistogramVec
	limited  *prometheus.CounterVec
	handler  http.Handler
}

// The limiters whose rejections waymark_api_rate_limited_total counts.
const (
	limiterTenant       = "tenant"         // a tenant's request rate (/v1, Route 53, Route 53 Domains)
	limiterSignup       = "signup"         // sign-ups per client address
	limiterAuthFailures = "auth_failures"  // failed authentications per client address or key
	limiterExpensive    = "expensive"      // exports, imports and test answers in flight per tenant
	limiterQueryLogs    = "querylog_reads" // query log reads open, per tenant and per process
)

func newAPIMetrics(reg *prometheus.Registry) *apiMetrics {
	m := &apiMetrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "waymark_api_requests_total",
			Help: "HTTP requests by route pattern, method and status (429: rate limited).",
		}, []string{"route", "method", "status"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "waymark_api_request_duration_seconds",
			Help:    "HTTP request latency by route pattern and method.",
			Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 10},
		}, []string{"route", "method"}),
		limited: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "waymark_api_rate_limited_total",
			Help: "Requests refused by a rate limit or concurrency budget (429 on /v1, Throttling on the Route 53 APIs), by limiter.",
		}, []string{"limiter"}),
		handler: promhttp.HandlerFor(reg, promhttp.HandlerOpts{Registry: reg}),
	}
	for _, l := range []string{limiterTenant, limiterSignup, limiterAuthFailures, limiterExpensive, limiterQueryLogs} {
		m.limited.WithLabelValues(l)
	}
	reg.MustRegister(m.requests, m.duration, m.limited)
	return m
}

// rateLimited counts r as refused by limiter (without metrics, nothing
// is counted) and marks it refused, so that the access log writes it at
// DEBUG: under a flood, a line per refusal would cost more than the
// refusal itself, and the counter already says how many there were.
func (h *handler) rateLimited(r *http.Request, limiter string) {
	if ri, ok := r.Context().Value(ctxRequest).(*requestInfo); ok {
		ri.refused = true
	}
	if h.metricsOf != nil {
		h.metricsOf.limited.WithLabelValues(limiter).Inc()
	}
}

// metricsRecorder keeps the status a handler wrote.
type metricsRecorder struct {
	http.ResponseWriter
	status int
}

func (w *metricsRecorder) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *metricsRecorder) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	return w.ResponseWriter.Write(b)
}

// Unwrap lets http.ResponseController reach the connection (flushes of
// streamed answers).
func (w *metricsRecorder) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// measure is the middleware that feeds apiMetrics.
func (m *apiMetrics) measure(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		rec := &metricsRecorder{ResponseWriter: w}
		next.ServeHTTP(rec, r)
		route := "unmatched"
		if rc := chi.RouteContext(r.Context()); rc != nil && rc.RoutePattern() != "" {
			route = rc.RoutePattern()
		}
		if rec.status == 0 {
			rec.status = http.StatusOK
		}
		m.requests.WithLabelValues(route, r.Method, strconv.Itoa(rec.status)).Inc()
		m.duration.WithLabelValues(route, r.Method).Observe(time.Since(start).Seconds())
	})
}

// metrics serves the Prometheus exposition of the process (Config.Metrics);
// without a registry there is no such endpoint.
func (h *handler) metrics(w http.ResponseWriter, r *http.Request) error {
	if h.metricsOf == nil {
		return errNoEndpoint(r)
	}
	h.metricsOf.handler.ServeHTTP(w, r)
	return nil
}
