// Package api is Waymark's HTTP JSON API: routing, authentication, rate
// limits, request decoding, and the one mapping from control-plane error
// codes to HTTP statuses (errors.go). Handlers are thin: decode a DTO,
// convert it with a named converter, call one Service method, convert the
// result back. The API's JSON types are its own (dto.go); openapi.yaml at
// the repository root describes them and a test checks every real
// response against it.
//
// # Adding routes from another file
//
// NewRouter registers the routes of any method
//
//	func (h *handler) fleetRoutes(r chi.Router)
//
// defined anywhere in this package: it looks the method up with a type
// assertion, so api/fleet.go can define it without editing this file and
// this file compiles whether or not it exists. r is the root router, after
// the common middleware (request id, access log, recoverer, 404/405 JSON).
// Use these from fleet.go:
//
//	r.With(h.requireAdmin).Get("/v1/nameservers", h.listNameservers)  // operator token
//	r.With(h.requireTenant, h.rateLimit).Get(...)                     // tenant bearer
//	h.writeJSON(w, status, v); h.writeError(w, r, err)                // responses
//	h.decodeJSON(r, &dto) → error                                     // strict request bodies
//	principalFrom(r.Context())                                         // the caller
//	h.svc                                                              // the Service; type-assert it to
//	                                                                   // a fleet interface of your own
//
// Register full paths ("/v1/…") on r; don't call r.Use. Registering a
// method and path that this file registered too replaces the handler (chi
// keeps the last one): fleet.go does so for GET /v1/changes/{id} to add
// propagation counts and ?wait=insync. Routes that are not part of the
// tenant API are listed in undocumentedRoutes (openapi_test.go); all
// others must be in openapi.yaml. api/healthcheck.go registers
// /v1/healthchecks… the same way (healthCheckRoutes), when the Service is a
// *controlplane.HealthChecks (Service.WithHealthChecks). api/routing.go
// registers /v1/cidrcollections… and the test-answer endpoint
// (routingRoutes).
package api

import (
	"context"
	"log/slog"
	"net/http"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/waymark-dns/waymark/controlplane"
)

// Defaults for Config fields left zero.
const (
	DefaultRateLimit         = 200.0 // requests per second per tenant
	DefaultRateBurst         = 400
	DefaultSignupPerMinute   = 5
	DefaultMaxBodyBytes      = 1 << 20                      // 1 MiB: JSON bodies
	DefaultMaxImportBytes    = controlplane.MaxZoneFileSize // zone files (8 MiB)
	DefaultLimiterMaxEntries = 100000
)

// Config configures the router. Only Service is required.
type Config struct {
	// Service is the control plane.
	Service Service
	// AdminToken is the operator's bearer token for the admin endpoints
	// (POST /v1/tenants). Empty disables them (403).
	AdminToken string
	// SignupEnabled opens POST /v1/signup to anyone; when false it is 404.
	SignupEnabled bool
	// RateLimit is each tenant's sustained request rate per second, and
	// RateBurst the bucket size. Defaults 200/s and 400. Route 53 allows 5/s.
	RateLimit float64
	RateBurst int
	// SignupPerMinute is how many sign-ups one client IP may make per
	// minute (also the burst). Default 5.
	SignupPerMinute int
	// MaxBodyBytes limits JSON request bodies (default 1 MiB) and
	// MaxImportBytes zone files sent to the import endpoint (default
	// controlplane.MaxZoneFileSize).
	MaxBodyBytes   int64
	MaxImportBytes int64
	// Logger receives the access log and internal errors. Default: discard.
	Logger *slog.Logger
	// ReadyFunc reports whether the process can serve (database reachable,
	// …) for GET /readyz. Nil means always ready.
	ReadyFunc func(ctx context.Context) error
	// NowFunc returns the current time, for rate limiting. Default time.Now.
	NowFunc func() time.Time
	// TestAnswer asks a nameserver for a test answer (GET
	// /v1/hostedzones/{id}/test-answer). Nil: that endpoint answers 503.
	TestAnswer TestAnswerFunc
}

// handler holds the router's dependencies; every endpoint is a method.
type handler struct {
	cfg    Config
	svc    Service
	log    *slog.Logger
	tenant *limiterSet // per-tenant request rate
	signup *limiterSet // per-client-IP sign-up rate
}

// NewRouter returns the API's http.Handler.
func NewRouter(cfg Config) http.Handler {
	if cfg.RateLimit <= 0 {
		cfg.RateLimit = DefaultRateLimit
	}
	if cfg.RateBurst <= 0 {
		cfg.RateBurst = DefaultRateBurst
	}
	if cfg.SignupPerMinute <= 0 {
		cfg.SignupPerMinute = DefaultSignupPerMinute
	}
	if cfg.MaxBodyBytes <= 0 {
		cfg.MaxBodyBytes = DefaultMaxBodyBytes
	}
	if cfg.MaxImportBytes <= 0 {
		cfg.MaxImportBytes = DefaultMaxImportBytes
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.NowFunc == nil {
		cfg.NowFunc = time.Now
	}
	h := &handler{
		cfg:    cfg,
		svc:    cfg.Service,
		log:    cfg.Logger,
		tenant: newLimiterSet(cfg.RateLimit, cfg.RateBurst, DefaultLimiterMaxEntries),
		signup: newLimiterSet(float64(cfg.SignupPerMinute)/60, cfg.SignupPerMinute, DefaultLimiterMaxEntries),
	}

	r := chi.NewRouter()
	r.Use(h.requestID, h.accessLog, h.recoverer)
	r.NotFound(h.notFound)
	r.MethodNotAllowed(h.methodNotAllowed)

	r.Get("/healthz", h.healthz)
	r.Get("/readyz", h.readyz)

	jsonBody := h.limitBody(cfg.MaxBodyBytes)
	r.With(h.requireAdmin, jsonBody).Post("/v1/tenants", h.createTenant)
	r.With(h.signupLimit, jsonBody).Post("/v1/signup", h.signupTenant)

	r.Group(func(r chi.Router) {
		r.Use(h.requireTenant, h.rateLimit, jsonBody)
		r.Get("/v1/apikeys", h.listAPIKeys)
		r.Post("/v1/apikeys", h.createAPIKey)
		r.Delete("/v1/apikeys/{id}", h.deleteAPIKey)
		r.Post("/v1/tokens", h.createToken)

		r.Post("/v1/hostedzones", h.createZone)
		r.Get("/v1/hostedzones", h.listZones)
		r.Get("/v1/hostedzones/{id}", h.getZone)
		r.Patch("/v1/hostedzones/{id}", h.updateZone)
		r.Delete("/v1/hostedzones/{id}", h.deleteZone)
		r.Post("/v1/hostedzones/{id}/rrsets/changes", h.changeRRSets)
		r.Get("/v1/hostedzones/{id}/rrsets", h.listRRSets)
		r.Get("/v1/hostedzones/{id}/export", h.exportZone)
		r.Get("/v1/changes/{id}", h.getChange)
	})
	r.With(h.requireTenant, h.rateLimit, h.limitBody(cfg.MaxImportBytes)).
		Post("/v1/hostedzones/{id}/import", h.importZone)

	// Routes defined in other files of this package (see the package doc).
	if f, ok := any(h).(interface{ fleetRoutes(chi.Router) }); ok {
		f.fleetRoutes(r)
	}
	if f, ok := any(h).(interface{ routingRoutes(chi.Router) }); ok {
		f.routingRoutes(r)
	}
	if f, ok := any(h).(interface{ healthCheckRoutes(chi.Router) }); ok {
		f.healthCheckRoutes(r)
	}
	return r
}

func (h *handler) notFound(w http.ResponseWriter, r *http.Request) {
	h.writeError(w, r, apiError(codeNotFound, "no such endpoint: "+r.Method+" "+r.URL.Path))
}

func (h *handler) methodNotAllowed(w http.ResponseWriter, r *http.Request) {
	h.writeError(w, r, apiError(codeMethodNotAllowed, "method "+r.Method+" is not allowed on "+r.URL.Path))
}

// healthz answers 200 while the process is up: a liveness probe.
func (h *handler) healthz(w http.ResponseWriter, _ *http.Request) {
	h.writeJSON(w, http.StatusOK, statusJSON{Status: "ok"})
}

// readyz answers 200 when ReadyFunc succeeds, 503 otherwise: a readiness
// probe. The cause is logged, not shown.
func (h *handler) readyz(w http.ResponseWriter, r *http.Request) {
	if h.cfg.ReadyFunc != nil {
		ctx, cancel := context.WithTimeout(r.Context(), 5*time.Second)
		defer cancel()
		if err := h.cfg.ReadyFunc(ctx); err != nil {
			h.log.WarnContext(r.Context(), "not ready", "err", err)
			h.writeError(w, r, apiError(codeServiceUnavailable, "not ready"))
			return
		}
	}
	h.writeJSON(w, http.StatusOK, statusJSON{Status: "ready"})
}

type statusJSON struct {
	Status string `json:"status"`
}
