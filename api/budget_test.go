package api

import (
	"context"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/waymark-dns/waymark/event"
	"github.com/waymark-dns/waymark/internal/testkit"
)

// TestIntegrationExpensiveBudget: a tenant whose expensive requests fill
// its budget gets 429 with Retry-After for more of them, other tenants
// and cheap requests do not, and a finished request frees its slot. The
// budget is filled by test answers held by a nameserver stand-in.
func TestIntegrationExpensiveBudget(t *testing.T) {
	t.Parallel()
	release := make(chan struct{})
	var mu sync.Mutex
	held := 0
	a := newTestAPI(t, func(c *Config) {
		c.ExpensivePerTenant = 2
		c.TestAnswer = func(ctx context.Context, _ event.TestAnswerRequest) (event.TestAnswerResponse, error) {
			mu.Lock()
			held++
			mu.Unlock()
			select {
			case <-release:
			case <-ctx.Done():
			}
			return event.TestAnswerResponse{}, ctx.Err()
		}
	})
	_, busy := a.tenant("busy")
	_, other := a.tenant("other")
	zone := a.zone(busy, "budget.example.")
	otherZone := a.zone(other, "other-budget.example.")

	var wg sync.WaitGroup
	for range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			a.h.ServeHTTP(discardWriter{h: http.Header{}}, testRequest("GET",
				"/v1/hostedzones/"+zone+"/test-answer?name=www.budget.example&type=A", busy))
		}()
	}
	testkit.Eventually(t, 10*time.Second, func() error {
		mu.Lock()
		defer mu.Unlock()
		if held != 2 {
			return errHeld
		}
		return nil
	})
	for _, rq := range []req{
		{method: "GET", path: "/v1/hostedzones/" + zone + "/export", bearer: busy},
		{method: "POST", path: "/v1/hostedzones/" + zone + "/import", bearer: busy, body: "x", contentType: "text/dns"},
	} {
		r := a.must(http.StatusTooManyRequests, rq)
		if r.header.Get("Retry-After") != "1" {
			t.Errorf("%s %s: Retry-After %q", rq.method, rq.path, r.header.Get("Retry-After"))
		}
	}
	a.must(http.StatusOK, req{method: "GET", path: "/v1/hostedzones/" + zone, bearer: busy})
	a.must(http.StatusOK, req{method: "GET", path: "/v1/hostedzones/" + otherZone + "/export", bearer: other})
	close(release)
	wg.Wait()
	a.must(http.StatusOK, req{method: "GET", path: "/v1/hostedzones/" + zone + "/export", bearer: busy})
}

var errHeld = &testError{"test answers not yet held"}

type testError struct{ s string }

func (e *testError) Error() string { return e.s }

// discardWriter is a ResponseWriter that keeps nothing.
type discardWriter struct{ h http.Header }

func (w discardWriter) Header() http.Header         { return w.h }
func (w discardWriter) Write(b []byte) (int, error) { return len(b), nil }
func (w discardWriter) WriteHeader(int)             {}

func testRequest(method, path, token string) *http.Request {
	r, _ := http.NewRequest(method, "http://waymark.test"+path, nil)
	r.RemoteAddr = "192.0.2.1:1234"
	r.Header.Set("Authorization", "Bearer "+token)
	return r
}
