package api

import (
	"encoding/json"
	"log/slog"
	"maps"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/waymark-dns/waymark/controlplane"
)

func TestIntegrationAuth(t *testing.T) {
	t.Parallel()
	a := newTestAPI(t, nil)
	_, token := a.tenant("alpha")

	// A second key, deleted, and a JWT issued for it.
	r := a.must(http.StatusCreated, req{method: "POST", path: "/v1/apikeys", bearer: token, body: map[string]string{"description": "doomed"}})
	var doomed apiKeyResponse
	r.decode(t, &doomed)
	r = a.must(http.StatusOK, req{method: "POST", path: "/v1/tokens", bearer: doomed.APIKey.Token})
	var doomedJWT tokenResponse
	r.decode(t, &doomedJWT)
	a.must(http.StatusOK, req{method: "GET", path: "/v1/apikeys", bearer: doomedJWT.Token})
	a.must(http.StatusNoContent, req{method: "DELETE", path: "/v1/apikeys/" + doomed.APIKey.ID, bearer: token})

	// An expired JWT, through the injected clock.
	r = a.must(http.StatusOK, req{method: "POST", path: "/v1/tokens", bearer: token})
	var jwt tokenResponse
	r.decode(t, &jwt)
	if got, want := jwt.ExpiresAt, a.clock.Now().Add(5*time.Minute); !got.Equal(want) {
		t.Errorf("got expires_at %v, want %v", got, want)
	}
	a.must(http.StatusOK, req{method: "GET", path: "/v1/hostedzones", bearer: jwt.Token})
	// A JWT cannot mint another.
	a.must(http.StatusForbidden, req{method: "POST", path: "/v1/tokens", bearer: jwt.Token})

	for _, tc := range []struct {
		name   string
		rq     req
		status int
		code   string
	}{
		{"no header", req{method: "GET", path: "/v1/hostedzones"}, 401, "Unauthorized"},
		{"not bearer", req{method: "GET", path: "/v1/hostedzones", header: map[string]string{"Authorization": "Basic dXNlcjpwYXNz"}}, 401, "Unauthorized"},
		{"bad key", req{method: "GET", path: "/v1/hostedzones", bearer: "wmk_AKWAAAAAAAAAAAAAAAA_nope"}, 401, "Unauthorized"},
		{"garbage", req{method: "GET", path: "/v1/hostedzones", bearer: "hello"}, 401, "Unauthorized"},
		{"deleted key", req{method: "GET", path: "/v1/hostedzones", bearer: doomed.APIKey.Token}, 401, "Unauthorized"},
		{"token of deleted key", req{method: "GET", path: "/v1/hostedzones", bearer: doomedJWT.Token}, 401, "Unauthorized"},
		{"operator token as tenant", req{method: "GET", path: "/v1/hostedzones", bearer: testAdminToken}, 403, "Forbidden"},
		{"admin endpoint, tenant key", req{method: "POST", path: "/v1/tenants", bearer: token, body: map[string]string{"name": "x"}}, 403, "Forbidden"},
		{"admin endpoint, tenant JWT", req{method: "POST", path: "/v1/tenants", bearer: jwt.Token, body: map[string]string{"name": "x"}}, 403, "Forbidden"},
		{"admin endpoint, no header", req{method: "POST", path: "/v1/tenants", body: map[string]string{"name": "x"}}, 401, "Unauthorized"},
		{"admin endpoint, wrong token", req{method: "POST", path: "/v1/tenants", bearer: testAdminToken + "x", body: map[string]string{"name": "x"}}, 401, "Unauthorized"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := a.do(tc.rq)
			if r.status != tc.status {
				t.Fatalf("got %d, want %d: %s", r.status, tc.status, r.body)
			}
			if got := r.errorCode(t); got != tc.code {
				t.Errorf("got code %s, want %s", got, tc.code)
			}
			if tc.status == 401 && !strings.HasPrefix(r.header.Get("WWW-Authenticate"), "Bearer") {
				t.Errorf("401 without WWW-Authenticate: Bearer")
			}
		})
	}

	a.clock.Advance(5*time.Minute + time.Second)
	r = a.must(http.StatusUnauthorized, req{method: "GET", path: "/v1/hostedzones", bearer: jwt.Token})
	if got := r.errorCode(t); got != "Unauthorized" {
		t.Errorf("expired JWT: got %s", got)
	}
	// The API key itself does not expire.
	a.must(http.StatusOK, req{method: "GET", path: "/v1/hostedzones", bearer: token})
}

func TestIntegrationAdminDisabled(t *testing.T) {
	t.Parallel()
	a := newTestAPI(t, func(c *Config) { c.AdminToken = "" })
	r := a.must(http.StatusForbidden, req{method: "POST", path: "/v1/tenants", bearer: "anything", body: map[string]string{"name": "x"}})
	if got := r.errorCode(t); got != "Forbidden" {
		t.Errorf("got %s", got)
	}
}

func TestIntegrationAPIKeysEndpoints(t *testing.T) {
	t.Parallel()
	a := newTestAPI(t, nil)
	_, token := a.tenant("keys")
	_, other := a.tenant("other")

	r := a.must(http.StatusOK, req{method: "GET", path: "/v1/apikeys", bearer: token})
	var list apiKeysResponse
	r.decode(t, &list)
	if len(list.APIKeys) != 1 || strings.Contains(string(r.body), "secret") || strings.Contains(string(r.body), "token") {
		t.Fatalf("list shows secrets or wrong keys: %s", r.body)
	}
	first := list.APIKeys[0].ID

	// Deleting the last key is refused; another tenant's key is 404.
	r = a.must(http.StatusBadRequest, req{method: "DELETE", path: "/v1/apikeys/" + first, bearer: token})
	if got := r.errorCode(t); got != "InvalidInput" {
		t.Errorf("got %s", got)
	}
	r = a.must(http.StatusNotFound, req{method: "DELETE", path: "/v1/apikeys/" + first, bearer: other})
	if got := r.errorCode(t); got != "NoSuchKey" {
		t.Errorf("got %s", got)
	}

	// POST with and without a body.
	a.must(http.StatusCreated, req{method: "POST", path: "/v1/apikeys", bearer: token})
	r = a.must(http.StatusCreated, req{method: "POST", path: "/v1/apikeys", bearer: token, body: map[string]string{"description": "ci"}})
	var created apiKeyResponse
	r.decode(t, &created)
	if created.APIKey.Secret == "" || created.APIKey.Token == "" || created.APIKey.Description != "ci" {
		t.Fatalf("got %s", r.body)
	}
	if r.header.Get("Location") != "/v1/apikeys/"+created.APIKey.ID || r.header.Get("Cache-Control") != "no-store" {
		t.Errorf("headers %v", r.header)
	}
	a.must(http.StatusOK, req{method: "GET", path: "/v1/apikeys", bearer: created.APIKey.Token})
	a.must(http.StatusNoContent, req{method: "DELETE", path: "/v1/apikeys/" + first, bearer: created.APIKey.Token})
	a.must(http.StatusUnauthorized, req{method: "GET", path: "/v1/apikeys", bearer: token})
}

func TestIntegrationTenantsAndSignup(t *testing.T) {
	t.Parallel()
	a := newTestAPI(t, nil)
	a.tenant("Acme")
	for _, tc := range []struct {
		name   string
		body   any
		status int
		code   string
	}{
		{"duplicate, other case", map[string]string{"name": "acme"}, 409, "TenantAlreadyExists"},
		{"empty name", map[string]string{"name": ""}, 400, "InvalidInput"},
		{"bad name", map[string]string{"name": "a b"}, 400, "InvalidInput"},
		{"unknown field", map[string]any{"name": "x", "admin": true}, 400, "InvalidInput"},
		{"wrong type", map[string]any{"name": 12}, 400, "InvalidInput"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := a.must(tc.status, req{method: "POST", path: "/v1/tenants", bearer: testAdminToken, body: tc.body})
			if got := r.errorCode(t); got != tc.code {
				t.Errorf("got %s, want %s", got, tc.code)
			}
		})
	}

	// Sign-up is hidden unless enabled.
	r := a.must(http.StatusNotFound, req{method: "POST", path: "/v1/signup", body: map[string]string{"name": "x"}})
	if got := r.errorCode(t); got != "NotFound" {
		t.Errorf("got %s", got)
	}

	s := newTestAPI(t, func(c *Config) { c.SignupEnabled = true; c.SignupPerMinute = 2 })
	for i := range 2 {
		r := s.must(http.StatusCreated, req{method: "POST", path: "/v1/signup", body: map[string]string{"name": "user" + strconv.Itoa(i)}})
		var out createTenantResponse
		r.decode(t, &out)
		s.must(http.StatusOK, req{method: "GET", path: "/v1/hostedzones", bearer: out.APIKey.Token})
	}
	r = s.must(http.StatusTooManyRequests, req{method: "POST", path: "/v1/signup", body: map[string]string{"name": "user9"}})
	if got := r.errorCode(t); got != "Throttling" {
		t.Errorf("got %s", got)
	}
	if ra, _ := strconv.Atoi(r.header.Get("Retry-After")); ra != 30 {
		t.Errorf("got Retry-After %q, want 30 (2/min)", r.header.Get("Retry-After"))
	}
	s.clock.Advance(30 * time.Second)
	s.must(http.StatusCreated, req{method: "POST", path: "/v1/signup", body: map[string]string{"name": "user9"}})
}

func TestIntegrationRateLimit(t *testing.T) {
	t.Parallel()
	var logs syncBuffer
	a := newTestAPI(t, func(c *Config) {
		c.RateLimit = 0.5
		c.RateBurst = 3
		c.Logger = slog.New(slog.NewJSONHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	})
	_, t1 := a.tenant("one")
	_, t2 := a.tenant("two")
	for range 3 {
		a.must(http.StatusOK, req{method: "GET", path: "/v1/hostedzones", bearer: t1})
	}
	r := a.must(http.StatusTooManyRequests, req{method: "GET", path: "/v1/hostedzones", bearer: t1})
	if got := r.errorCode(t); got != "Throttling" {
		t.Errorf("got %s", got)
	}
	if got := r.header.Get("Retry-After"); got != "2" {
		t.Errorf("got Retry-After %q, want 2", got)
	}
	// Another tenant has its own bucket.
	a.must(http.StatusOK, req{method: "GET", path: "/v1/hostedzones", bearer: t2})
	// Tokens come back with time.
	a.clock.Advance(2 * time.Second)
	a.must(http.StatusOK, req{method: "GET", path: "/v1/hostedzones", bearer: t1})
	a.must(http.StatusTooManyRequests, req{method: "GET", path: "/v1/hostedzones", bearer: t1})

	// A flood of refusals is counted, not logged line by line at INFO.
	levels := map[int]map[string]int{}
	for line := range strings.Lines(logs.String()) {
		var l struct {
			Msg, Level string
			Status     int
		}
		if json.Unmarshal([]byte(line), &l) == nil && l.Msg == "http request" && l.Status != 0 {
			if levels[l.Status] == nil {
				levels[l.Status] = map[string]int{}
			}
			levels[l.Status][l.Level]++
		}
	}
	if want := map[string]int{"DEBUG": 2}; !maps.Equal(levels[http.StatusTooManyRequests], want) {
		t.Errorf("429s logged at %v, want %v", levels[http.StatusTooManyRequests], want)
	}
	if got := levels[http.StatusOK]; got["INFO"] < 5 || got["DEBUG"] != 0 {
		t.Errorf("200s logged at %v, want INFO only", got)
	}
}

func TestLimiterSetPrunes(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	s := newLimiterSet(1, 1, 3)
	for _, k := range []string{"a", "b", "c"} {
		if _, ok := s.take(k, now); !ok {
			t.Fatalf("%s refused", k)
		}
	}
	// All three are empty; a fourth key forces a reset rather than growth.
	if _, ok := s.take("d", now); !ok {
		t.Fatal("d refused")
	}
	if len(s.m) > 3 {
		t.Fatalf("got %d entries, want at most 3", len(s.m))
	}
	// Later, full buckets are pruned, busy ones kept.
	later := now.Add(time.Hour)
	s.take("x", later)
	s.take("y", later)
	s.take("z", later)
	if _, ok := s.m["x"]; !ok || len(s.m) > 3 {
		t.Fatalf("got %v", s.m)
	}
}

// TestIntegrationAuthFailureThrottle: wrong credentials are counted per
// client address and per key id; past the burst both are answered 429
// with Retry-After before any lookup, and they recover at the rate.
func TestIntegrationAuthFailureThrottle(t *testing.T) {
	t.Parallel()
	a := newTestAPI(t, func(c *Config) { c.AuthFailBurst, c.AuthFailRate = 5, 1 })
	_, tok1 := a.tenant("victim")
	_, tok2 := a.tenant("bystander")
	id1 := controlplane.TokenKeyID(tok1)
	if id1 == "" {
		t.Fatalf("TokenKeyID(%q) is empty", tok1)
	}
	wrong := controlplane.TokenPrefix + id1 + "_wrongsecret"
	call := func(from, tok string) *httptest.ResponseRecorder {
		r := httptest.NewRequest("GET", "http://waymark.test/v1/hostedzones", nil)
		r.RemoteAddr = from + ":4000"
		r.Header.Set("Authorization", "Bearer "+tok)
		rec := httptest.NewRecorder()
		a.h.ServeHTTP(rec, r)
		return rec
	}
	for i := range 5 {
		if rec := call("198.51.100.1", wrong); rec.Code != http.StatusUnauthorized {
			t.Fatalf("failure %d: status %d, want 401", i+1, rec.Code)
		}
	}
	for _, tc := range []struct {
		name, from, tok string
		want            int
	}{
		{"the attacker's address", "198.51.100.1", wrong, http.StatusTooManyRequests},
		{"the attacker's address, another key", "198.51.100.1", tok2, http.StatusTooManyRequests},
		{"the attacked key, elsewhere", "198.51.100.2", tok1, http.StatusTooManyRequests},
		{"another key, elsewhere", "198.51.100.2", tok2, http.StatusOK},
		{"a garbage token, elsewhere", "198.51.100.3", "garbage", http.StatusUnauthorized},
	} {
		rec := call(tc.from, tc.tok)
		if rec.Code != tc.want {
			t.Errorf("%s: status %d, want %d: %s", tc.name, rec.Code, tc.want, rec.Body)
		}
		if tc.want == http.StatusTooManyRequests && rec.Header().Get("Retry-After") != "1" {
			t.Errorf("%s: Retry-After %q, want 1", tc.name, rec.Header().Get("Retry-After"))
		}
	}
	a.clock.Advance(2 * time.Second)
	if rec := call("198.51.100.2", tok1); rec.Code != http.StatusOK {
		t.Errorf("after the refill: status %d, want 200", rec.Code)
	}
}
