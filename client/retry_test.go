package client

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"
)

// scripted is a test server answering each request with the next of its
// answers (the last one repeats), recording what it was sent.
type scripted struct {
	mu       sync.Mutex
	answers  []answer
	requests []string // "METHOD path?query body"
	keys     []string // each request's Idempotency-Key
}

type answer struct {
	status int
	header map[string]string
	body   string
}

func newScripted(t *testing.T, answers ...answer) (*scripted, *httptest.Server) {
	t.Helper()
	s := &scripted{answers: answers}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		s.mu.Lock()
		n := len(s.requests)
		s.requests = append(s.requests, fmt.Sprintf("%s %s %s", r.Method, r.URL.RequestURI(), b))
		s.keys = append(s.keys, r.Header.Get("Idempotency-Key"))
		a := s.answers[min(n, len(s.answers)-1)]
		s.mu.Unlock()
		for k, v := range a.header {
			w.Header().Set(k, v)
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(a.status)
		_, _ = io.WriteString(w, a.body)
	}))
	t.Cleanup(srv.Close)
	return s, srv
}

func (s *scripted) sent() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.requests...)
}

// sleeps records the client's waits instead of waiting.
type sleeps struct {
	mu sync.Mutex
	d  []time.Duration
}

func (s *sleeps) sleep(ctx context.Context, d time.Duration) error {
	s.mu.Lock()
	s.d = append(s.d, d)
	s.mu.Unlock()
	return ctx.Err()
}

func (s *sleeps) got() []time.Duration {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]time.Duration(nil), s.d...)
}

const zoneBody = `{"hosted_zone":{"id":"Z1","name":"example.com.","caller_reference":"r","comment":"","record_set_count":2,"version":1,"created_at":"2026-01-02T03:04:05Z"}}`

func throttled(retryAfter string) answer {
	return answer{status: 429, header: map[string]string{"Retry-After": retryAfter, "X-Request-Id": "req-429"},
		body: `{"error":{"code":"Throttling","message":"rate exceeded","details":[]},"request_id":"req-429"}`}
}

func unavailable() answer {
	return answer{status: 503, body: `{"error":{"code":"ServiceUnavailable","message":"not ready","details":[]},"request_id":"req-503"}`}
}

func TestRetryPolicy(t *testing.T) {
	t.Parallel()
	ok := answer{status: 200, body: zoneBody}
	policy := RetryPolicy{MaxAttempts: 4, BaseDelay: 100 * time.Millisecond, MaxDelay: time.Second, MaxRetryAfter: 30 * time.Second}
	tests := []struct {
		name     string
		answers  []answer
		wantReqs int
		wantCode string // "" for success
		// check looks at the waits.
		check func(t *testing.T, waits []time.Duration)
	}{
		{name: "429 then 200 waits Retry-After", answers: []answer{throttled("2"), ok}, wantReqs: 2,
			check: func(t *testing.T, w []time.Duration) {
				if len(w) != 1 || w[0] != 2*time.Second {
					t.Errorf("waits %v, want [2s]", w)
				}
			}},
		{name: "429 with an HTTP date", answers: []answer{throttled("Fri, 02 Jan 2026 03:04:10 GMT"), ok}, wantReqs: 2,
			check: func(t *testing.T, w []time.Duration) {
				if len(w) != 1 || w[0] != 5*time.Second {
					t.Errorf("waits %v, want [5s]", w)
				}
			}},
		{name: "503 twice then 200 backs off exponentially", answers: []answer{unavailable(), unavailable(), ok}, wantReqs: 3,
			check: func(t *testing.T, w []time.Duration) {
				if len(w) != 2 || w[0] < 50*time.Millisecond || w[0] > 100*time.Millisecond ||
					w[1] < 100*time.Millisecond || w[1] > 200*time.Millisecond {
					t.Errorf("waits %v, want one in [50ms,100ms] then one in [100ms,200ms]", w)
				}
			}},
		{name: "503 forever gives up after MaxAttempts", answers: []answer{unavailable()}, wantReqs: 4, wantCode: "ServiceUnavailable",
			check: func(t *testing.T, w []time.Duration) {
				if len(w) != 3 {
					t.Errorf("waits %v, want 3", w)
				}
			}},
		{name: "Retry-After beyond MaxRetryAfter is not waited for", answers: []answer{throttled("3600"), ok}, wantReqs: 1, wantCode: "Throttling"},
		{name: "400 is not retried", answers: []answer{{status: 400, body: `{"error":{"code":"InvalidInput","message":"bad","details":[]},"request_id":"r"}`}, ok},
			wantReqs: 1, wantCode: "InvalidInput"},
		{name: "404 is not retried", answers: []answer{{status: 404, body: `{"error":{"code":"NoSuchHostedZone","message":"no","details":[]},"request_id":"r"}`}, ok},
			wantReqs: 1, wantCode: "NoSuchHostedZone"},
		{name: "409 is not retried", answers: []answer{{status: 409, body: `{"error":{"code":"PriorRequestNotComplete","message":"busy","details":[]},"request_id":"r"}`}, ok},
			wantReqs: 1, wantCode: "PriorRequestNotComplete"},
		{name: "500 is not retried", answers: []answer{{status: 500, body: `{"error":{"code":"InternalError","message":"oops","details":[]},"request_id":"r"}`}, ok},
			wantReqs: 1, wantCode: "InternalError"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s, srv := newScripted(t, tt.answers...)
			var sl sleeps
			now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
			c, err := New(srv.URL, WithRetryPolicy(policy), WithSleep(sl.sleep), WithClock(func() time.Time { return now }))
			if err != nil {
				t.Fatal(err)
			}
			out, err := c.GetHostedZone(context.Background(), "Z1")
			if got := len(s.sent()); got != tt.wantReqs {
				t.Errorf("%d requests, want %d: %v", got, tt.wantReqs, s.sent())
			}
			if tt.wantCode == "" {
				if err != nil || out.HostedZone.Name != "example.com." {
					t.Fatalf("got %+v, %v", out, err)
				}
			} else if !IsCode(err, tt.wantCode) || out != nil {
				t.Fatalf("got %+v, %v; want a %s error", out, err, tt.wantCode)
			}
			if tt.check != nil {
				tt.check(t, sl.got())
			}
		})
	}
}

// TestRetryResendsTheBody: a retried POST sends the same body, caller
// reference included, so that the retry cannot create a second zone.
func TestRetryResendsTheBody(t *testing.T) {
	t.Parallel()
	s, srv := newScripted(t, throttled("1"), answer{status: 201, body: `{"hosted_zone":{"id":"Z1"},"change":{"id":"C1"},"delegation_set":{"name_servers":[]}}`})
	var sl sleeps
	c, _ := New(srv.URL, WithSleep(sl.sleep))
	if _, err := c.CreateHostedZone(context.Background(), CreateHostedZoneInput{Name: "example.com"}); err != nil {
		t.Fatal(err)
	}
	sent := s.sent()
	if len(sent) != 2 || sent[0] != sent[1] {
		t.Fatalf("sent %q", sent)
	}
}

// TestRetryKeepsTheIdempotencyKey: a change batch goes with an
// idempotency key, the same on every retry of one call (so a 503 whose
// batch was applied is answered that change, not applied again) and a new
// one for the next call; a key the caller sets is sent as it is.
func TestRetryKeepsTheIdempotencyKey(t *testing.T) {
	t.Parallel()
	change := answer{status: 200, body: `{"change":{"id":"C1","status":"PENDING","submitted_at":"2026-01-02T03:04:05Z"}}`}
	s, srv := newScripted(t, unavailable(), change)
	var sl sleeps
	c, _ := New(srv.URL, WithSleep(sl.sleep))
	batch := ChangeBatch{Changes: []RRSetChange{{Action: ActionCreate}}}
	for range 2 {
		if _, err := c.ChangeRRSets(context.Background(), "Z1", batch); err != nil {
			t.Fatal(err)
		}
	}
	batch.IdempotencyKey = "mine-1"
	if _, err := c.ChangeRRSets(context.Background(), "Z1", batch); err != nil {
		t.Fatal(err)
	}
	s.mu.Lock()
	keys := append([]string(nil), s.keys...)
	s.mu.Unlock()
	if len(keys) != 4 || keys[0] == "" || keys[1] != keys[0] || keys[2] == keys[0] || keys[2] == "" || keys[3] != "mine-1" {
		t.Errorf("keys sent: %q; want one key for the call and its retry, a new one for the next call, then mine-1", keys)
	}
	if sent := s.sent(); len(sent) == 4 && strings.Contains(sent[3], "mine-1") {
		t.Errorf("the key went into the body: %s", sent[3])
	}
}

// TestRetryStopsWithTheContext: a context that ends during the wait ends
// the call with the last answer's error.
func TestRetryStopsWithTheContext(t *testing.T) {
	t.Parallel()
	s, srv := newScripted(t, unavailable())
	ctx, cancel := context.WithCancel(context.Background())
	c, _ := New(srv.URL, WithSleep(func(ctx context.Context, _ time.Duration) error { cancel(); return ctx.Err() }))
	_, err := c.GetHostedZone(ctx, "Z1")
	if !IsCode(err, CodeServiceUnavailable) || len(s.sent()) != 1 {
		t.Fatalf("got %v after %d requests", err, len(s.sent()))
	}
}

func TestErrorCarriesTheAnswer(t *testing.T) {
	t.Parallel()
	_, srv := newScripted(t, answer{status: 400, header: map[string]string{"X-Request-Id": "hdr-id"},
		body: `{"error":{"code":"InvalidChangeBatch","message":"2 problems","details":[{"index":0,"field":"rrset.ttl","message":"ttl is required"},{"line":3,"message":"bad address"}]},"request_id":"req-7"}`})
	c, _ := New(srv.URL)
	_, err := c.ChangeRRSets(context.Background(), "Z1", ChangeBatch{Changes: []RRSetChange{{Action: ActionCreate}}})
	e, ok := AsError(err)
	if !ok {
		t.Fatalf("got %T %v", err, err)
	}
	if e.StatusCode != 400 || e.Code != CodeInvalidChangeBatch || e.Message != "2 problems" || e.RequestID != "req-7" ||
		e.Operation != "changeRRSets" || len(e.Details) != 2 {
		t.Fatalf("got %+v", e)
	}
	if got := e.Details[0].String(); got != "change 0, rrset.ttl: ttl is required" {
		t.Errorf("detail 0: %q", got)
	}
	if got := e.Details[1].String(); got != "line 3: bad address" {
		t.Errorf("detail 1: %q", got)
	}
	if got := e.Error(); got != "InvalidChangeBatch: 2 problems (HTTP 400, request id req-7)" {
		t.Errorf("Error() = %q", got)
	}
	var target *Error
	if !errors.As(fmt.Errorf("wrapped: %w", err), &target) {
		t.Error("errors.As through a wrap")
	}
}

// TestErrorFromANonAPIAnswer: a proxy's HTML page is still an *Error, with
// the status and the start of the body, and no code.
func TestErrorFromANonAPIAnswer(t *testing.T) {
	t.Parallel()
	_, srv := newScripted(t, answer{status: 502, body: "<html>bad gateway</html>"})
	c, _ := New(srv.URL)
	_, err := c.ListAPIKeys(context.Background())
	e, ok := AsError(err)
	if !ok || e.StatusCode != 502 || e.Code != "" || e.Message != "Bad Gateway: <html>bad gateway</html>" {
		t.Fatalf("got %#v", err)
	}
}

func TestNewRejectsBadURLs(t *testing.T) {
	t.Parallel()
	for _, u := range []string{"", "localhost:8080", "ftp://x", "http://"} {
		if _, err := New(u); err == nil {
			t.Errorf("New(%q) succeeded", u)
		}
	}
	if _, err := New("http://127.0.0.1:8080/"); err != nil {
		t.Error(err)
	}
}

func TestEmptyIDIsRefusedBeforeSending(t *testing.T) {
	t.Parallel()
	s, srv := newScripted(t, answer{status: 200, body: zoneBody})
	c, _ := New(srv.URL)
	if _, err := c.GetHostedZone(context.Background(), ""); err == nil {
		t.Fatal("no error")
	}
	if n := len(s.sent()); n != 0 {
		t.Fatalf("%d requests sent", n)
	}
}

// TestIDsArePathEscaped: an id with a slash stays one path segment.
func TestIDsArePathEscaped(t *testing.T) {
	t.Parallel()
	s, srv := newScripted(t, answer{status: 200, body: zoneBody})
	c, _ := New(srv.URL)
	if _, err := c.GetHostedZone(context.Background(), "a/b c"); err != nil {
		t.Fatal(err)
	}
	if got := s.sent()[0]; got != "GET /v1/hostedzones/a%2Fb%20c " {
		t.Fatalf("sent %q", got)
	}
}

// TestWaitInSyncDeadline: a change that stays PENDING ends the wait with
// the context's error and the last answer, each poll's timeout kept under
// the deadline and the server's 60 s limit.
func TestWaitInSyncDeadline(t *testing.T) {
	t.Parallel()
	var mu sync.Mutex
	var timeouts []time.Duration
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		d, err := time.ParseDuration(q.Get("timeout"))
		if q.Get("wait") != "insync" || err != nil {
			t.Errorf("not a long poll: %s", r.URL)
		}
		mu.Lock()
		timeouts = append(timeouts, d)
		mu.Unlock()
		select { // a long poll: the answer comes when the timeout passes
		case <-time.After(d):
		case <-r.Context().Done():
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, `{"change":{"id":"C1","status":"PENDING","submitted_at":"2026-01-01T00:00:00Z","comment":""},"propagation":{"live_nameservers":2,"applied_nameservers":1}}`)
	}))
	t.Cleanup(srv.Close)
	c, _ := New(srv.URL)
	ctx, cancel := context.WithTimeout(context.Background(), 700*time.Millisecond)
	defer cancel()
	var progress int
	out, err := c.WaitInSync(ctx, "C1", &WaitOptions{PollTimeout: 10 * time.Minute, OnProgress: func(*GetChangeOutput) { progress++ }})
	if !errors.Is(err, context.DeadlineExceeded) || out == nil || out.Change.Status != StatusPending || out.Propagation.AppliedNameservers != 1 {
		t.Fatalf("got %+v, %v", out, err)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(timeouts) == 0 || progress == 0 {
		t.Fatalf("polls %v, progress calls %d", timeouts, progress)
	}
	for _, d := range timeouts {
		if d > 600*time.Millisecond {
			t.Errorf("a poll of %s under a 700 ms deadline", d)
		}
	}
}
