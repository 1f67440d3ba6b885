package api

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/gorillamux"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/waymark-dns/waymark/controlplane"
	"github.com/waymark-dns/waymark/internal/pgtest"
	"github.com/waymark-dns/waymark/registrar"
	"github.com/waymark-dns/waymark/registrar/registry"
)

const testAdminToken = "admin-token-for-tests-0123456789"

// testClock is a settable clock shared by the service and the router.
type testClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *testClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *testClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// testAPI is a router over a real control plane on a fresh schema. Every
// response that belongs to a documented route is checked against
// openapi.yaml; requests too when strictRequests is set.
type testAPI struct {
	t              *testing.T
	h              http.Handler
	svc            *controlplane.Service
	db             *pgxpool.Pool // the service's database, for rows the API cannot write
	clock          *testClock
	registrar      *registrar.Service // the Registrar the router serves
	registry       *registry.Registry // its registry
	spec           routers.Router
	strictRequests bool
	// seen records the documented operations exercised ("GET /v1/…" as in
	// openapi.yaml, with the status), for the coverage check.
	seen map[string]bool
}

func newTestAPI(t *testing.T, configure func(*Config)) *testAPI {
	t.Helper()
	return newTestAPIWith(t, controlplane.HealthCheckOptions{}, configure)
}

// newTestAPIWith is newTestAPI with a control plane whose health check
// settings are hc.
func newTestAPIWith(t *testing.T, hc controlplane.HealthCheckOptions, configure func(*Config)) *testAPI {
	t.Helper()
	pool, _ := pgtest.Schema(t)
	clock := &testClock{t: time.Date(2026, 3, 4, 5, 6, 7, 0, time.UTC)}
	svc, err := controlplane.New(pool, controlplane.Config{
		MasterKey:    bytes.Repeat([]byte{7}, 32),
		JWTKey:       bytes.Repeat([]byte{9}, 32),
		TokenTTL:     5 * time.Minute,
		NowFunc:      clock.Now,
		HealthChecks: hc,
	})
	if err != nil {
		t.Fatalf("controlplane.New: %v", err)
	}
	// The registrar on the built-in registry, with no TLD until a test
	// configures one (PUT /v1/registry/tlds/{tld}).
	reg, err := registry.Open(context.Background(), pool, svc, registry.Config{Now: clock.Now})
	if err != nil {
		t.Fatalf("registry.Open: %v", err)
	}
	rs, err := registrar.New(context.Background(), pool, svc, reg, registrar.Config{})
	if err != nil {
		t.Fatalf("registrar.New: %v", err)
	}
	cfg := Config{Service: svc, AdminToken: testAdminToken, NowFunc: clock.Now, Registrar: rs}
	if configure != nil {
		configure(&cfg)
	}
	return &testAPI{t: t, h: NewRouter(cfg), svc: svc, db: pool, clock: clock, registrar: rs, registry: reg, spec: loadSpec(t), seen: map[string]bool{}}
}

// loadSpec parses and validates openapi.yaml.
func loadSpec(t *testing.T) routers.Router {
	t.Helper()
	loader := openapi3.NewLoader()
	doc, err := loader.LoadFromFile("../openapi.yaml")
	if err != nil {
		t.Fatalf("load openapi.yaml: %v", err)
	}
	if err := doc.Validate(context.Background()); err != nil {
		t.Fatalf("openapi.yaml is invalid: %v", err)
	}
	doc.Servers = openapi3.Servers{{URL: "http://waymark.test"}}
	r, err := gorillamux.NewRouter(doc)
	if err != nil {
		t.Fatalf("openapi router: %v", err)
	}
	return r
}

// req describes one request of a test.
type req struct {
	method, path string
	bearer       string
	body         any    // marshalled as JSON unless a string or []byte
	contentType  string // default application/json when there is a body
	header       map[string]string
}

// resp is a recorded response.
type resp struct {
	status int
	header http.Header
	body   []byte
}

func (r resp) decode(t *testing.T, v any) {
	t.Helper()
	if err := json.Unmarshal(r.body, v); err != nil {
		t.Fatalf("decode %s: %v", r.body, err)
	}
}

// errorCode returns the code of an error response, failing the test if
// the body is not one.
func (r resp) errorCode(t *testing.T) string {
	t.Helper()
	var e errorBody
	r.decode(t, &e)
	if e.Error.Code == "" || e.Error.Message == "" || e.RequestID == "" || e.Error.Details == nil {
		t.Fatalf("not an error body: %s", r.body)
	}
	if got := r.header.Get("Content-Type"); got != "application/json" {
		t.Fatalf("error Content-Type %q", got)
	}
	return e.Error.Code
}

func (a *testAPI) do(rq req) resp {
	a.t.Helper()
	var body []byte
	switch b := rq.body.(type) {
	case nil:
	case string:
		body = []byte(b)
	case []byte:
		body = b
	default:
		var err error
		if body, err = json.Marshal(b); err != nil {
			a.t.Fatal(err)
		}
	}
	build := func() *http.Request {
		r := httptest.NewRequest(rq.method, "http://waymark.test"+rq.path, bytes.NewReader(body))
		if body != nil {
			ct := rq.contentType
			if ct == "" {
				ct = "application/json"
			}
			r.Header.Set("Content-Type", ct)
		}
		if rq.bearer != "" {
			r.Header.Set("Authorization", "Bearer "+rq.bearer)
		}
		for k, v := range rq.header {
			r.Header.Set(k, v)
		}
		return r
	}

	rec := httptest.NewRecorder()
	a.h.ServeHTTP(rec, build())
	out := resp{status: rec.Code, header: rec.Header(), body: rec.Body.Bytes()}
	if out.header.Get("X-Request-Id") == "" {
		a.t.Errorf("%s %s: no X-Request-Id", rq.method, rq.path)
	}

	// Contract check against openapi.yaml.
	vr := build()
	route, params, err := a.spec.FindRoute(vr)
	if err != nil {
		return out // an undocumented path: 404/405 tests check those by hand
	}
	in := &openapi3filter.RequestValidationInput{
		Request: vr, PathParams: params, Route: route,
		Options: &openapi3filter.Options{AuthenticationFunc: openapi3filter.NoopAuthenticationFunc},
	}
	if a.strictRequests {
		if err := openapi3filter.ValidateRequest(context.Background(), in); err != nil {
			a.t.Errorf("%s %s: request does not match openapi.yaml: %v", rq.method, rq.path, err)
		}
	}
	if err := openapi3filter.ValidateResponse(context.Background(), &openapi3filter.ResponseValidationInput{
		RequestValidationInput: in,
		Status:                 out.status,
		Header:                 out.header,
		Body:                   io.NopCloser(bytes.NewReader(out.body)),
		Options:                &openapi3filter.Options{IncludeResponseStatus: true},
	}); err != nil {
		a.t.Errorf("%s %s → %d: response does not match openapi.yaml: %v\nbody: %s",
			rq.method, rq.path, out.status, err, out.body)
	}
	a.seen[route.Method+" "+route.Path] = true
	return out
}

// must performs rq and fails unless the status is want.
func (a *testAPI) must(want int, rq req) resp {
	a.t.Helper()
	r := a.do(rq)
	if r.status != want {
		a.t.Fatalf("%s %s: got status %d, want %d; body %s", rq.method, rq.path, r.status, want, r.body)
	}
	return r
}

// tenant creates a tenant through the API and returns its id and token.
func (a *testAPI) tenant(name string) (id, token string) {
	a.t.Helper()
	r := a.must(http.StatusCreated, req{method: "POST", path: "/v1/tenants", bearer: testAdminToken,
		body: map[string]string{"name": name}})
	var out createTenantResponse
	r.decode(a.t, &out)
	return out.Tenant.ID, out.APIKey.Token
}

// zone creates a hosted zone and returns its id.
func (a *testAPI) zone(token, name string) string {
	a.t.Helper()
	r := a.must(http.StatusCreated, req{method: "POST", path: "/v1/hostedzones", bearer: token,
		body: map[string]string{"name": name, "caller_reference": "ref-" + name}})
	var out createZoneResponse
	r.decode(a.t, &out)
	return out.HostedZone.ID
}
