// Package api is Waymark's HTTP JSON API: routing, authentication, rate
// limits, request decoding, and the one mapping from control-plane error
// codes to HTTP statuses (errors.go). Handlers are thin: decode a DTO,
// convert it with a named converter, call one Service method, convert the
// result back. The API's JSON types are its own (dto.go); openapi.yaml at
// the repository root describes them and a test checks every real
// response against it.
//
// # Routes
//
// Every route is in one table, routes in this file: method, path, who may
// call it, the request body limit and the endpoint, grouped by the part of
// Service (service.go) the endpoints need. NewRouter registers all of them,
// whatever the Service: there are no optional endpoints. An endpoint is a
// handlerFunc, which returns its error instead of answering it; serve
// (errors.go) answers it through writeError, the one place errors become
// HTTP statuses. To add an endpoint: write the handlerFunc, add its
// Service methods to the interface of its group, and add one line to the
// table. Routes that are not part of the tenant API are listed in
// undocumentedRoutes (openapi_test.go); all others must be in openapi.yaml.
package api

import (
	"context"
	"log/slog"
	"net/http"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/waymark-dns/waymark/api/route53"
	"github.com/waymark-dns/waymark/api/route53domains"
	"github.com/waymark-dns/waymark/controlplane"
	"github.com/waymark-dns/waymark/internal/clock"
)

// Defaults for Config fields left zero.
const (
	DefaultRateLimit         = 200.0 // requests per second per tenant
	DefaultRateBurst         = 400
	DefaultSignupPerMinute   = 5
	DefaultMaxBodyBytes      = 1 << 20                      // 1 MiB: JSON bodies
	DefaultMaxImportBytes    = controlplane.MaxZoneFileSize // zone files (8 MiB)
	DefaultLimiterMaxEntries = 100000
	// Failed authentications allowed per client address and per key id:
	// a burst, then a steady rate per second.
	DefaultAuthFailBurst = 20
	DefaultAuthFailRate  = 1.0
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
	// Database, if set, makes requests fail fast (503) while the database
	// is down and is what GET /readyz reports. The caller runs it.
	Database *DatabaseGate
	// RequestTimeout is every request's deadline (default 15 s); a long
	// poll (?wait=) gets controlplane.MaxChangeWait on top.
	RequestTimeout time.Duration
	// AuthFailRate and AuthFailBurst bound failed authentications per
	// client address and per API key id (defaults 1/s, burst 20). Once a
	// bucket is empty, requests from that address or naming that key are
	// answered 429 before any database or cryptographic work.
	AuthFailRate  float64
	AuthFailBurst int
	// ExpensivePerTenant is how many expensive requests (export, import,
	// test answer) one tenant may have in flight; more are answered 429
	// with Retry-After. Default DefaultExpensivePerTenant.
	ExpensivePerTenant int
	// RetryAfter is the Retry-After of 503 answers (default 2 s).
	RetryAfter time.Duration
	// NoAuditLog turns the audit log off (api/audit.go): only for
	// bench/cpbench, which measures what the log costs. No command sets it.
	NoAuditLog bool
	// WriteTimeout is the HTTP server's write timeout, which long polls
	// extend for themselves; zero when the server has none.
	WriteTimeout time.Duration
	// RegistryClock, when set, is the built-in registry's test clock,
	// which POST /v1/registry/clock advances (`waymark dev`); nil: 404.
	RegistryClock *clock.Test
	// Metrics, when set, is the process's Prometheus registry: the API
	// adds its request metrics to it and serves it at GET /metrics.
	Metrics *prometheus.Registry
	// Registrar serves domain registration: /v1/domains, /v1/operations,
	// the operator's /v1/registry/… (api/domains.go, api/registry.go) and
	// the Route 53 Domains API at POST /. Nil: the /v1 routes answer 404
	// and Route 53 Domains calls ServiceUnavailable (a process without a
	// registry).
	Registrar RegistrarService
}

// handler holds the router's dependencies; every endpoint is a method.
type handler struct {
	cfg    Config
	svc    Service
	log    *slog.Logger
	tenant *limiterSet // per-tenant request rate
	signup *limiterSet // per-client-IP sign-up rate
	// authFail counts failed authentications per client IP ("ip:…") and
	// per key id ("key:…").
	authFail *limiterSet
	budget   *budgets // per-tenant expensive requests in flight
	// qlogTenant and qlogAll bound query log reads open, per tenant and
	// in all (querylog.go).
	qlogTenant, qlogAll *budgets
	// metricsOf is nil without Config.Metrics (metrics.go).
	metricsOf *apiMetrics
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
	if cfg.RequestTimeout <= 0 {
		cfg.RequestTimeout = DefaultRequestTimeout
	}
	if cfg.AuthFailRate <= 0 {
		cfg.AuthFailRate = DefaultAuthFailRate
	}
	if cfg.AuthFailBurst <= 0 {
		cfg.AuthFailBurst = DefaultAuthFailBurst
	}
	if cfg.ExpensivePerTenant <= 0 {
		cfg.ExpensivePerTenant = DefaultExpensivePerTenant
	}
	if cfg.RetryAfter <= 0 {
		cfg.RetryAfter = DefaultRetryAfter
	}
	h := &handler{
		cfg:      cfg,
		svc:      cfg.Service,
		log:      cfg.Logger,
		tenant:   newLimiterSet(cfg.RateLimit, cfg.RateBurst, DefaultLimiterMaxEntries),
		signup:   newLimiterSet(float64(cfg.SignupPerMinute)/60, cfg.SignupPerMinute, DefaultLimiterMaxEntries),
		authFail: newLimiterSet(cfg.AuthFailRate, cfg.AuthFailBurst, DefaultLimiterMaxEntries),
		budget:   newBudgets(cfg.ExpensivePerTenant),

		qlogTenant: newBudgets(DefaultQueryLogReadersPerTenant),
		qlogAll:    newBudgets(DefaultQueryLogReaders),
	}

	r := chi.NewRouter()
	r.Use(h.requestID, h.accessLog)
	if cfg.Metrics != nil {
		h.metricsOf = newAPIMetrics(cfg.Metrics)
		r.Use(h.metricsOf.measure)
	}
	r.Use(h.recoverer, h.plainURL, h.deadline)
	r.NotFound(h.serve(h.notFound))
	r.MethodNotAllowed(h.serve(h.methodNotAllowed))
	for _, rt := range h.routes() {
		mw := append([]func(http.Handler) http.Handler{h.audit(rt)}, h.access(rt.access)...)
		mw = append(mw, h.bodyLimit(rt.body)...)
		r.With(mw...).Method(rt.method, rt.path, h.serve(rt.handle))
	}

	// The Route 53-compatible API (api/route53) under its own prefix: the
	// same Service, tenants, keys and per-tenant rate limit, in Route 53's
	// REST-XML with SigV4. It has its own route table and authentication.
	r.Handle(route53.Prefix+"/*", h.auditRoute53(h.route53()))
	// The Route 53 Domains-compatible API (api/route53domains): AWS JSON
	// 1.1, every call POST / with its X-Amz-Target, on the registrar.
	r.Method(http.MethodPost, "/", h.auditAWS("route53domains", h.route53Domains()))
	return r
}

// allowTenant takes one request from the tenant's rate limit, for the
// AWS-compatible front ends (the same limit as /v1).
func (h *handler) allowTenant(r *http.Request, tenant string) bool {
	_, ok := h.tenant.take(tenant, h.cfg.NowFunc())
	if !ok {
		h.rateLimited(r, limiterTenant)
	}
	return ok
}

// awsAuthenticated records the caller an AWS-compatible front end has
// authenticated, for the access and audit logs.
func (h *handler) awsAuthenticated(r *http.Request, tenant, keyID string) {
	infoFrom(r.Context()).principal = &controlplane.Principal{TenantID: tenant, KeyID: keyID}
	auditPrincipal(r.Context(), tenant, keyID)
}

// route53Domains builds the Route 53 Domains front end on the router's
// limiter, request ids and failed-authentication budget.
func (h *handler) route53Domains() http.Handler {
	if h.cfg.Registrar == nil {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", route53domains.ContentType)
			w.Header().Set("X-Amzn-ErrorType", "ServiceUnavailable")
			w.WriteHeader(http.StatusServiceUnavailable)
			_, _ = w.Write([]byte(`{"__type":"ServiceUnavailable","message":"This server runs no registrar."}`))
		})
	}
	return route53domains.NewHandler(route53domains.Config{
		Keys:          h.svc,
		Registrar:     h.cfg.Registrar,
		Allow:         h.allowTenant,
		RequestID:     func(r *http.Request) string { return requestID(r.Context()) },
		Authenticated: h.awsAuthenticated,
		AuthThrottled: h.authThrottled,
		AuthFailed:    h.authFailedKey,
		Now:           h.cfg.NowFunc,
		MaxBodyBytes:  h.cfg.MaxBodyBytes,
		Logger:        h.log,
	})
}

// route53 builds the Route 53 front end on the router's own limiter and
// request ids.
func (h *handler) route53() http.Handler {
	return route53.NewHandler(route53.Config{
		Service:       h.svc,
		Allow:         h.allowTenant,
		RequestID:     func(r *http.Request) string { return requestID(r.Context()) },
		Authenticated: h.awsAuthenticated,
		AuthThrottled: h.authThrottled,
		AuthFailed:    h.authFailedKey,
		Now:           h.cfg.NowFunc,
		MaxBodyBytes:  h.cfg.MaxBodyBytes,
		TestAnswer:    h.cfg.TestAnswer,
		Logger:        h.log,
	})
}

// access says who may call a route.
type access int

const (
	public access = iota // anyone (probes)
	admin                // the operator's AdminToken
	signup               // anyone, rate limited per client IP (Config.SignupEnabled)
	tenant               // a tenant's API key or token, rate limited per tenant
)

// body is a route's request body limit.
type body int

const (
	noBody     body = iota // no limit of its own (GETs, streams)
	jsonBody               // Config.MaxBodyBytes
	importBody             // Config.MaxImportBytes (zone files)
)

// route is one line of the route table.
type route struct {
	method, path string
	access       access
	body         body
	handle       handlerFunc
}

// routes is THE route table: every endpoint of the API, once.
func (h *handler) routes() []route {
	return []route{
		// Probes.
		{"GET", "/healthz", public, noBody, h.healthz},
		{"GET", "/readyz", public, noBody, h.readyz},
		{"GET", "/metrics", public, noBody, h.metrics},

		// Tenants, API keys and tokens (TenantService).
		{"POST", "/v1/tenants", admin, jsonBody, h.createTenant},
		{"POST", "/v1/signup", signup, jsonBody, h.signupTenant},
		{"GET", "/v1/apikeys", tenant, jsonBody, h.listAPIKeys},
		{"POST", "/v1/apikeys", tenant, jsonBody, h.createAPIKey},
		{"DELETE", "/v1/apikeys/{id}", tenant, jsonBody, h.deleteAPIKey},
		{"POST", "/v1/tokens", tenant, jsonBody, h.createToken},

		// Hosted zones, record sets, change batches, zone files (ZoneService).
		{"POST", "/v1/hostedzones", tenant, jsonBody, h.createZone},
		{"GET", "/v1/hostedzones", tenant, jsonBody, h.listZones},
		{"GET", "/v1/hostedzones/{id}", tenant, jsonBody, h.getZone},
		{"PATCH", "/v1/hostedzones/{id}", tenant, jsonBody, h.updateZone},
		{"DELETE", "/v1/hostedzones/{id}", tenant, jsonBody, h.deleteZone},
		{"POST", "/v1/hostedzones/{id}/rrsets/changes", tenant, jsonBody, h.changeRRSets},
		{"GET", "/v1/hostedzones/{id}/rrsets", tenant, jsonBody, h.listRRSets},
		{"GET", "/v1/hostedzones/{id}/export", tenant, jsonBody, h.exportZone},
		{"POST", "/v1/hostedzones/{id}/import", tenant, importBody, h.importZone},
		// ZoneService and Config.TestAnswer (a nameserver over NATS).
		{"GET", "/v1/hostedzones/{id}/test-answer", tenant, jsonBody, h.testAnswer},
		// Time series of a zone's queries and a check's probes (MetricsService, tenantmetrics.go).
		{"GET", "/v1/hostedzones/{id}/metrics", tenant, noBody, h.metricSeries(controlplane.NamespaceHostedZone)},
		{"GET", "/v1/healthchecks/{id}/metrics", tenant, noBody, h.metricSeries(controlplane.NamespaceHealthCheck)},

		// DNSSEC (DNSSECService, dnssec.go).
		{"POST", "/v1/hostedzones/{id}/keysigningkeys", tenant, jsonBody, h.createKSK},
		{"POST", "/v1/hostedzones/{id}/keysigningkeys/{name}/activate", tenant, jsonBody, h.kskChange(DNSSECService.ActivateKeySigningKey)},
		{"POST", "/v1/hostedzones/{id}/keysigningkeys/{name}/deactivate", tenant, jsonBody, h.kskChange(DNSSECService.DeactivateKeySigningKey)},
		{"DELETE", "/v1/hostedzones/{id}/keysigningkeys/{name}", tenant, jsonBody, h.kskChange(DNSSECService.DeleteKeySigningKey)},
		{"GET", "/v1/hostedzones/{id}/dnssec", tenant, jsonBody, h.getDNSSEC},
		{"POST", "/v1/hostedzones/{id}/dnssec/enable", tenant, jsonBody, h.zoneChange(DNSSECService.EnableDNSSEC)},
		{"POST", "/v1/hostedzones/{id}/dnssec/disable", tenant, jsonBody, h.zoneChange(DNSSECService.DisableDNSSEC)},
		{"POST", "/v1/hostedzones/{id}/dnssec/zsk-rollover", tenant, jsonBody, h.zoneChange(DNSSECService.RollZSK)},
		// Zone transfers (TransferService, transfers.go).
		{"GET", "/v1/tsigkeys", tenant, jsonBody, h.listTSIGKeys},
		{"POST", "/v1/tsigkeys", tenant, jsonBody, h.createTSIGKey},
		{"DELETE", "/v1/tsigkeys/{name}", tenant, jsonBody, h.deleteTSIGKey},
		{"GET", "/v1/hostedzones/{id}/transfers", tenant, jsonBody, h.getTransfers},
		{"PUT", "/v1/hostedzones/{id}/transfers", tenant, jsonBody, h.putTransfers},
		{"POST", "/v1/hostedzones/{id}/secondary/refresh", tenant, jsonBody, h.refreshSecondary},

		// Query logging (QueryLogService, querylog.go).
		{"POST", "/v1/hostedzones/{id}/querylogging", tenant, jsonBody, h.createQueryLogging},
		{"GET", "/v1/hostedzones/{id}/querylogging", tenant, jsonBody, h.getQueryLogging},
		{"DELETE", "/v1/hostedzones/{id}/querylogging", tenant, jsonBody, h.deleteQueryLogging},
		{"GET", "/v1/hostedzones/{id}/querylogs", tenant, noBody, h.queryLogs},

		// Changes and the nameserver fleet (FleetService).
		{"GET", "/v1/changes/{id}", tenant, noBody, h.getChange},
		{"GET", "/v1/nameserver/snapshot", admin, noBody, h.snapshot},
		{"GET", "/v1/nameserver/zones/{id}", admin, noBody, h.zoneSnapshot},
		{"GET", "/v1/nameservers", admin, noBody, h.listNameservers},

		// Reusable delegation sets (DelegationSetService).
		{"POST", "/v1/delegationsets", tenant, jsonBody, h.createDelegationSet},
		{"GET", "/v1/delegationsets", tenant, jsonBody, h.listDelegationSets},
		{"GET", "/v1/delegationsets/{id}", tenant, jsonBody, h.getDelegationSet},
		{"DELETE", "/v1/delegationsets/{id}", tenant, jsonBody, h.deleteDelegationSet},

		// Health checks (HealthCheckService).
		{"POST", "/v1/healthchecks", tenant, jsonBody, h.createHealthCheck},
		{"GET", "/v1/healthchecks", tenant, jsonBody, h.listHealthChecks},
		{"GET", "/v1/healthchecks/{id}", tenant, jsonBody, h.getHealthCheck},
		{"PATCH", "/v1/healthchecks/{id}", tenant, jsonBody, h.updateHealthCheck},
		{"DELETE", "/v1/healthchecks/{id}", tenant, jsonBody, h.deleteHealthCheck},
		{"GET", "/v1/healthchecks/{id}/status", tenant, jsonBody, h.healthCheckStatus},
		{"GET", "/v1/healthchecks/{id}/last-failure", tenant, jsonBody, h.healthCheckLastFailure},
		{"GET", "/v1/healthchecks/{id}/history", tenant, jsonBody, h.healthCheckHistory},

		// CIDR collections (CIDRService).
		{"POST", "/v1/cidrcollections", tenant, jsonBody, h.createCIDRCollection},
		{"GET", "/v1/cidrcollections", tenant, jsonBody, h.listCIDRCollections},
		{"GET", "/v1/cidrcollections/{id}", tenant, jsonBody, h.getCIDRCollection},
		{"DELETE", "/v1/cidrcollections/{id}", tenant, jsonBody, h.deleteCIDRCollection},
		{"POST", "/v1/cidrcollections/{id}/changes", tenant, jsonBody, h.changeCIDRCollection},
		{"GET", "/v1/cidrcollections/{id}/locations", tenant, jsonBody, h.listCIDRLocations},
		{"GET", "/v1/cidrcollections/{id}/blocks", tenant, jsonBody, h.listCIDRBlocks},

		// Tags on hosted zones and health checks (TagService).
		{"GET", "/v1/hostedzones/{id}/tags", tenant, jsonBody, h.listTags(controlplane.TagHostedZone)},
		{"POST", "/v1/hostedzones/{id}/tags", tenant, jsonBody, h.changeTags(controlplane.TagHostedZone)},
		{"GET", "/v1/healthchecks/{id}/tags", tenant, jsonBody, h.listTags(controlplane.TagHealthCheck)},
		{"POST", "/v1/healthchecks/{id}/tags", tenant, jsonBody, h.changeTags(controlplane.TagHealthCheck)},

		// Alarms (AlarmService).
		{"POST", "/v1/alarms", tenant, jsonBody, h.createAlarm},
		{"GET", "/v1/alarms", tenant, jsonBody, h.listAlarms},
		{"GET", "/v1/alarms/{id}", tenant, jsonBody, h.getAlarm},
		{"DELETE", "/v1/alarms/{id}", tenant, jsonBody, h.deleteAlarm},
		{"GET", "/v1/alarms/{id}/history", tenant, jsonBody, h.alarmHistory},

		// Domain registration (RegistrarService, domains.go); the
		// operator's registry configuration (registry.go).
		{"GET", "/v1/domains/availability", tenant, noBody, h.reg(h.domainAvailability)},
		{"GET", "/v1/domains/transferability", tenant, noBody, h.reg(h.domainTransferability)},
		{"GET", "/v1/domains/suggestions", tenant, noBody, h.reg(h.domainSuggestions)},
		{"GET", "/v1/domains/prices", tenant, noBody, h.reg(h.domainPrices)},
		{"POST", "/v1/domains", tenant, jsonBody, h.reg(h.registerDomain)},
		{"GET", "/v1/domains", tenant, noBody, h.reg(h.listDomains)},
		{"GET", "/v1/domains/{name}", tenant, noBody, h.reg(h.getDomain)},
		{"PATCH", "/v1/domains/{name}", tenant, jsonBody, h.reg(h.updateDomain)},
		{"DELETE", "/v1/domains/{name}", tenant, jsonBody, h.reg(h.deleteDomain)},
		{"PUT", "/v1/domains/{name}/nameservers", tenant, jsonBody, h.reg(h.putNameservers)},
		{"POST", "/v1/domains/{name}/renew", tenant, jsonBody, h.reg(h.renewDomain)},
		{"POST", "/v1/domains/{name}/restore", tenant, jsonBody, h.reg(h.restoreDomain)},
		{"GET", "/v1/domains/{name}/ds", tenant, noBody, h.reg(h.listDS)},
		{"POST", "/v1/domains/{name}/ds", tenant, jsonBody, h.reg(h.addDS)},
		{"DELETE", "/v1/domains/{name}/ds/{id}", tenant, jsonBody, h.reg(h.removeDS)},
		{"GET", "/v1/domains/{name}/authcode", tenant, noBody, h.reg(h.getAuthCode)},
		{"POST", "/v1/domains/{name}/authcode/rotate", tenant, jsonBody, h.reg(h.rotateAuthCode)},
		// Transfers and registrant verification (domain_transfers.go).
		{"POST", "/v1/domains/transfers", tenant, jsonBody, h.reg(h.transferIn)},
		{"GET", "/v1/domains/transfers", tenant, noBody, h.reg(h.listTransfers)},
		{"POST", "/v1/domains/{name}/transfer", tenant, jsonBody, h.reg(h.transferToAccount)},
		{"POST", "/v1/domains/{name}/transfer/accept", tenant, jsonBody, h.reg(h.acceptTransfer)},
		{"POST", "/v1/domains/{name}/transfer/reject", tenant, jsonBody, h.reg(h.transferAnswer(RegistrarService.RejectTransfer))},
		{"POST", "/v1/domains/{name}/transfer/cancel", tenant, jsonBody, h.reg(h.transferAnswer(RegistrarService.CancelTransfer))},
		{"GET", "/v1/domains/{name}/contact-verification", tenant, noBody, h.reg(h.contactVerification)},
		{"POST", "/v1/domains/{name}/contact-verification/resend", tenant, jsonBody, h.reg(h.resendVerification)},
		{"POST", "/v1/contact-verification", tenant, jsonBody, h.reg(h.verifyContact)},
		{"GET", "/v1/operations", tenant, noBody, h.reg(h.listOperations)},
		{"GET", "/v1/operations/{id}", tenant, noBody, h.reg(h.getOperation)},
		{"GET", "/v1/registry/tlds", admin, noBody, h.reg(h.listTLDs)},
		{"GET", "/v1/registry/tlds/{tld}", admin, noBody, h.reg(h.getTLD)},
		{"PUT", "/v1/registry/tlds/{tld}", admin, jsonBody, h.reg(h.putTLD)},
		{"GET", "/v1/registry/tlds/{tld}/names", admin, noBody, h.reg(h.listNameRules)},
		{"PUT", "/v1/registry/tlds/{tld}/names/{label}", admin, jsonBody, h.reg(h.putNameRule)},
		{"DELETE", "/v1/registry/tlds/{tld}/names/{label}", admin, jsonBody, h.reg(h.deleteNameRule)},
		// TLDs of external registries (registry_external.go).
		{"GET", "/v1/registry/external", admin, noBody, h.reg(h.listExternalTLDs)},
		{"GET", "/v1/registry/external/{tld}", admin, noBody, h.reg(h.getExternalTLD)},
		{"PUT", "/v1/registry/external/{tld}", admin, jsonBody, h.reg(h.putExternalTLD)},
		{"DELETE", "/v1/registry/external/{tld}", admin, noBody, h.reg(h.deleteExternalTLD)},
		// The registry's test clock (Config.RegistryClock, registry_clock.go).
		{"GET", "/v1/registry/clock", admin, noBody, h.registryClock},
		{"POST", "/v1/registry/clock", admin, jsonBody, h.advanceRegistryClock},

		// The audit log (AuditService).
		{"GET", "/v1/auditlog", tenant, noBody, h.listAudit},

		// The web console's files (api/console.go), not the JSON API.
		{"GET", "/console", public, noBody, h.consoleRedirect},
		{"GET", "/console/*", public, noBody, h.consoleFiles()},
		{"HEAD", "/console/*", public, noBody, h.consoleFiles()},
	}
}

// access returns the middleware that admits a route's callers.
func (h *handler) access(a access) []func(http.Handler) http.Handler {
	switch a {
	case admin:
		return []func(http.Handler) http.Handler{h.requireAdmin}
	case signup:
		return []func(http.Handler) http.Handler{h.signupLimit}
	case tenant:
		return []func(http.Handler) http.Handler{h.requireTenant, h.rateLimit}
	}
	return nil
}

// bodyLimit returns the middleware that bounds a route's request body.
func (h *handler) bodyLimit(b body) []func(http.Handler) http.Handler {
	switch b {
	case jsonBody:
		return []func(http.Handler) http.Handler{h.limitBody(h.cfg.MaxBodyBytes)}
	case importBody:
		return []func(http.Handler) http.Handler{h.limitBody(h.cfg.MaxImportBytes)}
	}
	return nil
}

// notFound answers a path no route has, and sign-up while it is disabled.
func (h *handler) notFound(_ http.ResponseWriter, r *http.Request) error {
	return errNoEndpoint(r)
}

func errNoEndpoint(r *http.Request) error {
	return apiError(codeNotFound, "no such endpoint: "+r.Method+" "+r.URL.Path)
}

func (h *handler) methodNotAllowed(_ http.ResponseWriter, r *http.Request) error {
	return apiError(codeMethodNotAllowed, "method "+r.Method+" is not allowed on "+r.URL.Path)
}

// healthz answers 200 while the process is up: a liveness probe.
func (h *handler) healthz(w http.ResponseWriter, _ *http.Request) error {
	h.writeJSON(w, http.StatusOK, statusJSON{Status: "ok"})
	return nil
}

// readyz answers 200 when ReadyFunc succeeds (and the database gate is
// open), 503 otherwise: a readiness probe. With a gate the answer says why
// (without addresses); the full cause is logged.
func (h *handler) readyz(w http.ResponseWriter, r *http.Request) error {
	if g := h.cfg.Database; g != nil {
		if st := g.state(); st.down != nil {
			h.log.WarnContext(r.Context(), "not ready", "err", st.down, "since", st.since)
			w.Header().Set("Retry-After", h.retryAfterSeconds())
			return apiError(codeServiceUnavailable, "not ready: "+reason(st.down, g.timeout)+
				" (since "+st.since.UTC().Format(time.RFC3339)+")")
		}
	}
	if h.cfg.ReadyFunc != nil {
		ctx, cancel := context.WithTimeout(r.Context(), 5*time.Second)
		defer cancel()
		if err := h.cfg.ReadyFunc(ctx); err != nil {
			h.log.WarnContext(r.Context(), "not ready", "err", err)
			return apiError(codeServiceUnavailable, "not ready")
		}
	}
	h.writeJSON(w, http.StatusOK, statusJSON{Status: "ready"})
	return nil
}

type statusJSON struct {
	Status string `json:"status"`
}
