package api

import (
	"net/http"
	"testing"
	"time"

	"github.com/waymark-dns/waymark/internal/clock"
)

// exerciseRegistryClock drives GET and POST /v1/registry/clock on a router
// with a test clock (the contract test's).
func exerciseRegistryClock(t *testing.T, a *testAPI, c *clock.Test, token string) {
	t.Helper()
	before := c.Now()
	r := a.must(http.StatusOK, req{method: "GET", path: "/v1/registry/clock", bearer: testAdminToken})
	var got registryClockJSON
	r.decode(t, &got)
	if !got.Now.Equal(before) {
		t.Errorf("GET clock: %s, want %v", r.body, before)
	}
	r = a.must(http.StatusOK, req{method: "POST", path: "/v1/registry/clock", bearer: testAdminToken, body: map[string]string{"advance": "720h"}})
	r.decode(t, &got)
	if want := before.Add(720 * time.Hour); !got.Now.Equal(want) || !c.Now().Equal(want) {
		t.Errorf("POST clock: %s, clock %v, want %v", r.body, c.Now(), want)
	}
	for _, bad := range []string{"", "soon", "-1h", "0s", "100000h"} {
		r = a.must(http.StatusBadRequest, req{method: "POST", path: "/v1/registry/clock", bearer: testAdminToken, body: map[string]string{"advance": bad}})
		if c := r.errorCode(t); c != "InvalidInput" {
			t.Errorf("advance %q: %s", bad, c)
		}
	}
	a.must(http.StatusForbidden, req{method: "POST", path: "/v1/registry/clock", bearer: token, body: map[string]string{"advance": "1h"}})
	if !c.Now().Equal(before.Add(720 * time.Hour)) {
		t.Errorf("a refused advance moved the clock to %v", c.Now())
	}
}

// TestIntegrationRegistryClockWithoutTestClock: a router without a test
// clock has no clock endpoint (404), whoever asks.
func TestIntegrationRegistryClockWithoutTestClock(t *testing.T) {
	t.Parallel()
	a := newTestAPI(t, nil)
	for _, m := range []string{"GET", "POST"} {
		r := a.must(http.StatusNotFound, req{method: m, path: "/v1/registry/clock", bearer: testAdminToken, body: map[string]string{"advance": "1h"}})
		if c := r.errorCode(t); c != "NotFound" {
			t.Errorf("%s without a test clock: %s", m, c)
		}
	}
}
