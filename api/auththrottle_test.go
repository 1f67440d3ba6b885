package api

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
)

// countKeySecret counts the SigV4 path's key lookups (a database read and
// a decryption each).
type countKeySecret struct {
	Service
	n *atomic.Int64
}

func (c countKeySecret) KeySecret(ctx context.Context, keyID string) (string, string, error) {
	c.n.Add(1)
	return c.Service.KeySecret(ctx, keyID)
}

// TestIntegrationSigV4SharesTheAuthThrottle checks that wrong Route 53
// signatures spend the same failed-authentication budget as wrong /v1
// tokens, per client address and per key id, and that a throttled
// request does no key lookup.
func TestIntegrationSigV4SharesTheAuthThrottle(t *testing.T) {
	t.Parallel()
	var lookups atomic.Int64
	a := newTestAPI(t, func(c *Config) {
		c.Service = countKeySecret{Service: c.Service, n: &lookups}
		c.AuthFailBurst = 3
		c.AuthFailRate = 0.001 // no refill within the test
		c.NowFunc = time.Now   // the signatures' time window
	})
	_, key, err := a.svc.CreateTenant(context.Background(), "sigv4-throttle")
	if err != nil {
		t.Fatal(err)
	}
	// signed sends a Route 53 request signed with secret from addr.
	signed := func(secret, addr string) *httptest.ResponseRecorder {
		t.Helper()
		r := httptest.NewRequest("GET", "http://waymark.test/2013-04-01/hostedzonecount", nil)
		r.RemoteAddr = addr
		sum := sha256.Sum256(nil)
		if err := v4.NewSigner().SignHTTP(context.Background(), aws.Credentials{AccessKeyID: key.ID, SecretAccessKey: secret},
			r, hex.EncodeToString(sum[:]), "route53", "us-east-1", time.Now()); err != nil {
			t.Fatal(err)
		}
		w := httptest.NewRecorder()
		a.h.ServeHTTP(w, r)
		return w
	}
	bearer := func(tok, addr string) *httptest.ResponseRecorder {
		r := httptest.NewRequest("GET", "http://waymark.test/v1/hostedzones", nil)
		r.RemoteAddr = addr
		r.Header.Set("Authorization", "Bearer "+tok)
		w := httptest.NewRecorder()
		a.h.ServeHTTP(w, r)
		return w
	}
	throttled := func(w *httptest.ResponseRecorder) bool {
		return w.Code == http.StatusBadRequest && strings.Contains(w.Body.String(), "<Code>Throttling</Code>") &&
			w.Header().Get("Retry-After") != ""
	}

	// Per address: two wrong /v1 tokens and one wrong signature from
	// 192.0.2.10 use up its three failures …
	for i := 0; i < 2; i++ {
		if w := bearer("wm_garbage", "192.0.2.10:1"); w.Code != http.StatusUnauthorized {
			t.Fatalf("wrong token: %d %s", w.Code, w.Body)
		}
	}
	if w := signed("wrong", "192.0.2.10:1"); w.Code != http.StatusForbidden || !strings.Contains(w.Body.String(), "SignatureDoesNotMatch") {
		t.Fatalf("wrong signature: %d %s", w.Code, w.Body)
	}
	before := lookups.Load()
	// … so the next signature from there, even a right one, is throttled
	// without a key lookup.
	for _, secret := range []string{"wrong", key.Secret} {
		if w := signed(secret, "192.0.2.10:1"); !throttled(w) {
			t.Fatalf("signature after the budget: %d %s", w.Code, w.Body)
		}
	}
	if n := lookups.Load() - before; n != 0 {
		t.Errorf("%d key lookups while throttled, want 0", n)
	}

	// Per key id: two more wrong signatures from other addresses use up
	// the key's budget (one was spent above); then the key is throttled
	// from everywhere, on both APIs, with no lookup.
	for _, addr := range []string{"192.0.2.11:1", "192.0.2.12:1"} {
		if w := signed("wrong", addr); w.Code != http.StatusForbidden {
			t.Fatalf("wrong signature from %s: %d %s", addr, w.Code, w.Body)
		}
	}
	before = lookups.Load()
	if w := signed(key.Secret, "192.0.2.13:1"); !throttled(w) {
		t.Fatalf("key after its budget, SigV4: %d %s", w.Code, w.Body)
	}
	if w := bearer(key.Token, "192.0.2.14:1"); w.Code != http.StatusTooManyRequests {
		t.Fatalf("key after its budget, /v1: %d %s", w.Code, w.Body)
	}
	if n := lookups.Load() - before; n != 0 {
		t.Errorf("%d key lookups while throttled, want 0", n)
	}
	// Another address and a key with budget left are served.
	_, other, err := a.svc.CreateTenant(context.Background(), "sigv4-bystander")
	if err != nil {
		t.Fatal(err)
	}
	key = other
	if w := signed(key.Secret, "192.0.2.15:1"); w.Code != http.StatusOK {
		t.Fatalf("another key: %d %s", w.Code, w.Body)
	}
}
