package api

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/waymark-dns/waymark/controlplane"
)

// panicService panics in ChangeProgress (GET /v1/changes/{id}) and fails
// ExportZone with a raw error, to test the recoverer and the
// internal-error path.
type panicService struct{ Service }

func (panicService) ChangeProgress(context.Context, string, string) (controlplane.ChangeInfo, controlplane.Progress, error) {
	panic("boom")
}

func (panicService) ExportZone(context.Context, string, string, io.Writer) error {
	return errors.New("database on fire: password=hunter2")
}

// syncBuffer is a log sink safe for the router's concurrent writes.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func TestIntegrationHTTPErrors(t *testing.T) {
	t.Parallel()
	var logs syncBuffer
	a := newTestAPI(t, func(c *Config) {
		c.MaxBodyBytes = 256
		c.MaxImportBytes = 512
		c.Service = panicService{c.Service}
		c.Logger = slog.New(slog.NewJSONHandler(&logs, nil))
	})
	_, token := a.tenant("errs")
	zone := a.zone(token, "errors.example.")

	big := `{"name":"` + strings.Repeat("a", 300) + `.example.","caller_reference":"x"}`
	for _, tc := range []struct {
		name   string
		rq     req
		status int
		code   string
		msg    string // part of the message
	}{
		{"malformed JSON", req{method: "POST", path: "/v1/hostedzones", bearer: token, body: `{"name":`}, 400, "InvalidInput", "malformed JSON"},
		{"syntax error", req{method: "POST", path: "/v1/hostedzones", bearer: token, body: `{"name" "x"}`}, 400, "InvalidInput", "malformed JSON at byte"},
		{"empty body", req{method: "POST", path: "/v1/hostedzones", bearer: token, body: ""}, 400, "InvalidInput", "empty"},
		{"two values", req{method: "POST", path: "/v1/hostedzones", bearer: token, body: `{"name":"a.example."}{}`}, 400, "InvalidInput", "single JSON value"},
		{"not an object", req{method: "POST", path: "/v1/hostedzones", bearer: token, body: `[1]`}, 400, "InvalidInput", "object"},
		{"wrong field type", req{method: "POST", path: "/v1/hostedzones", bearer: token, body: `{"name":["a"]}`}, 400, "InvalidInput", `"name"`},
		{"unknown field", req{method: "POST", path: "/v1/hostedzones", bearer: token, body: `{"nmae":"a.example."}`}, 400, "InvalidInput", `unknown field \"nmae\"`},
		{"wrong content type", req{method: "POST", path: "/v1/hostedzones", bearer: token, body: `{}`, contentType: "text/xml"}, 415, "UnsupportedMediaType", "Content-Type"},
		{"body too large (declared)", req{method: "POST", path: "/v1/hostedzones", bearer: token, body: big}, 413, "PayloadTooLarge", "too large"},
		{"import too large", req{method: "POST", path: "/v1/hostedzones/" + zone + "/import", bearer: token, body: strings.Repeat("; comment\n", 60), contentType: "text/dns"}, 413, "PayloadTooLarge", "too large"},
		{"import wrong type", req{method: "POST", path: "/v1/hostedzones/" + zone + "/import", bearer: token, body: "x", contentType: "application/json"}, 415, "UnsupportedMediaType", "text/dns"},
		{"bad max_items", req{method: "GET", path: "/v1/hostedzones?max_items=zero", bearer: token}, 400, "InvalidInput", "max_items"},
		{"bad idempotency key", req{method: "POST", path: "/v1/hostedzones/" + zone + "/rrsets/changes", bearer: token,
			body:   `{"changes":[{"action":"CREATE","rrset":{"name":"k.errors.example.","type":"A","ttl":60,"records":["192.0.2.1"]}}]}`,
			header: map[string]string{"Idempotency-Key": "two words"}}, 400, "InvalidInput", "idempotency key"},
		{"unknown route", req{method: "GET", path: "/v1/nothing", bearer: token}, 404, "NotFound", "no such endpoint"},
		{"wrong method", req{method: "PUT", path: "/v1/hostedzones", bearer: token}, 405, "MethodNotAllowed", "PUT"},
		{"panic", req{method: "GET", path: "/v1/changes/C123", bearer: token}, 500, "InternalError", "request id"},
		{"internal error", req{method: "GET", path: "/v1/hostedzones/" + zone + "/export", bearer: token}, 500, "InternalError", "request id"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := a.do(tc.rq)
			if r.status != tc.status {
				t.Fatalf("got %d, want %d: %s", r.status, tc.status, r.body)
			}
			if got := r.errorCode(t); got != tc.code {
				t.Errorf("got code %s, want %s", got, tc.code)
			}
			if !strings.Contains(string(r.body), tc.msg) {
				t.Errorf("message should mention %q: %s", tc.msg, r.body)
			}
			if strings.Contains(string(r.body), "hunter2") || strings.Contains(string(r.body), "boom") {
				t.Errorf("internal cause leaked: %s", r.body)
			}
		})
	}

	// A body that lies about (or omits) its length is cut off while read.
	rec := a.do(req{method: "POST", path: "/v1/hostedzones/" + zone + "/rrsets/changes", bearer: token,
		body: `{"comment":"` + strings.Repeat("c", 400) + `","changes":[]}`})
	if rec.status != http.StatusRequestEntityTooLarge {
		t.Errorf("got %d for an oversized change batch", rec.status)
	}

	// The cause is in the log, with the request id; secrets never are.
	l := logs.String()
	if !strings.Contains(l, "hunter2") || !strings.Contains(l, "boom") {
		t.Errorf("internal causes missing from the log:\n%s", l)
	}
	if strings.Contains(l, token) || strings.Contains(l, testAdminToken) || strings.Contains(l, "Bearer") {
		t.Errorf("the log shows a credential:\n%s", l)
	}
	if !strings.Contains(l, `"msg":"http request"`) || !strings.Contains(l, `"tenant_id"`) {
		t.Errorf("no access log lines:\n%s", l)
	}
}

func TestIntegrationRequestID(t *testing.T) {
	t.Parallel()
	a := newTestAPI(t, nil)
	r := a.do(req{method: "GET", path: "/healthz", header: map[string]string{"X-Request-Id": "abc-123"}})
	if got := r.header.Get("X-Request-Id"); got != "abc-123" {
		t.Errorf("got %q, want the caller's id echoed", got)
	}
	r = a.do(req{method: "GET", path: "/v1/hostedzones", header: map[string]string{"X-Request-Id": "bad id\x01"}})
	var e errorBody
	r.decode(t, &e)
	if id := r.header.Get("X-Request-Id"); len(id) != 32 || e.RequestID != id {
		t.Errorf("got header %q, body %q: want a fresh id in both", id, e.RequestID)
	}
}

func TestIntegrationHealth(t *testing.T) {
	t.Parallel()
	var fail error
	a := newTestAPI(t, func(c *Config) {
		c.ReadyFunc = func(context.Context) error { return fail }
	})
	a.must(http.StatusOK, req{method: "GET", path: "/healthz"})
	a.must(http.StatusOK, req{method: "GET", path: "/readyz"})
	fail = errors.New("database unreachable")
	r := a.must(http.StatusServiceUnavailable, req{method: "GET", path: "/readyz"})
	if got := r.errorCode(t); got != "ServiceUnavailable" || strings.Contains(string(r.body), "unreachable") {
		t.Errorf("got %s: %s", got, r.body)
	}
	a.must(http.StatusOK, req{method: "GET", path: "/healthz"})
}
