package api

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/waymark-dns/waymark/controlplane"
	"github.com/waymark-dns/waymark/internal/pgtest"
	"github.com/waymark-dns/waymark/internal/testkit"
)

// outageAPI is an API server on a real socket whose database connections
// all go through a proxy the test controls.
type outageAPI struct {
	t      *testing.T
	url    string
	proxy  *testkit.Proxy
	client *http.Client
}

func newOutageAPI(t *testing.T) *outageAPI {
	t.Helper()
	_, dsn := pgtest.Schema(t)
	pcfg, err := controlplane.PoolConfig(dsn, controlplane.DatabaseOptions{
		ConnectTimeout: 500 * time.Millisecond, StatementTimeout: 2 * time.Second,
	})
	if err != nil {
		t.Fatal(err)
	}
	cc := pcfg.ConnConfig
	proxy := testkit.NewProxy(t, net.JoinHostPort(cc.Host, strconv.Itoa(int(cc.Port))))
	host, port, _ := net.SplitHostPort(proxy.Addr())
	p, _ := strconv.Atoi(port)
	cc.Host, cc.Port, cc.Fallbacks = host, uint16(p), nil
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	pool, err := pgxpool.NewWithConfig(ctx, pcfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	svc, err := controlplane.New(pool, controlplane.Config{
		MasterKey: bytes.Repeat([]byte{7}, 32), JWTKey: bytes.Repeat([]byte{9}, 32),
	})
	if err != nil {
		t.Fatal(err)
	}
	gate := NewDatabaseGate(pool.Ping, GateOptions{Interval: 100 * time.Millisecond, Timeout: 300 * time.Millisecond})
	go gate.Run(ctx)
	srv := httptest.NewServer(NewRouter(Config{
		Service: svc, AdminToken: testAdminToken, Database: gate, RetryAfter: time.Second,
	}))
	t.Cleanup(srv.Close)
	// The client's timeout is the "never a hang" bound: a request that
	// waits on the outage fails the test instead of passing late.
	return &outageAPI{t: t, url: srv.URL, proxy: proxy, client: &http.Client{Timeout: 5 * time.Second}}
}

func (o *outageAPI) call(method, path, token string, body any) (int, http.Header, []byte, error) {
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	rq, err := http.NewRequest(method, o.url+path, rd)
	if err != nil {
		return 0, nil, nil, err
	}
	if body != nil {
		rq.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		rq.Header.Set("Authorization", "Bearer "+token)
	}
	res, err := o.client.Do(rq)
	if err != nil {
		return 0, nil, nil, err
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	return res.StatusCode, res.Header, b, err
}

// mustCall fails the test unless the request completes with want.
func (o *outageAPI) mustCall(want int, method, path, token string, body any) (http.Header, []byte) {
	o.t.Helper()
	st, h, b, err := o.call(method, path, token, body)
	if err != nil {
		o.t.Fatalf("%s %s: %v", method, path, err)
	}
	if st != want {
		o.t.Fatalf("%s %s: status %d, want %d: %s", method, path, st, want, b)
	}
	return h, b
}

// mustUnavailable requires a 503 ServiceUnavailable with Retry-After.
func (o *outageAPI) mustUnavailable(method, path, token string, body any) {
	o.t.Helper()
	h, b := o.mustCall(http.StatusServiceUnavailable, method, path, token, body)
	if h.Get("Retry-After") != "1" {
		o.t.Errorf("%s %s: Retry-After %q, want 1", method, path, h.Get("Retry-After"))
	}
	var e errorBody
	if err := json.Unmarshal(b, &e); err != nil || e.Error.Code != string(codeServiceUnavailable) {
		o.t.Errorf("%s %s: body %s, want a ServiceUnavailable error", method, path, b)
	}
}

// TestIntegrationDatabaseOutage cuts the API off from PostgreSQL through a
// proxy in two ways — packets blackholed (no reset: the case that used to
// hang for the whole outage) and connections refused (the database
// stopped) — and requires 503 with Retry-After for requests in flight and
// new ones, /readyz saying why, and recovery without a restart.
func TestIntegrationDatabaseOutage(t *testing.T) {
	t.Parallel()
	o := newOutageAPI(t)
	_, b := o.mustCall(http.StatusCreated, "POST", "/v1/tenants", testAdminToken, map[string]string{"name": "outage"})
	var tr createTenantResponse
	if err := json.Unmarshal(b, &tr); err != nil {
		t.Fatal(err)
	}
	tok := tr.APIKey.Token
	o.mustCall(http.StatusOK, "GET", "/v1/hostedzones", tok, nil)

	for _, tc := range []struct {
		name string
		cut  func()
		why  string
	}{
		{"unreachable", o.proxy.Blackhole, "did not answer"},
		{"stopped", o.proxy.Refuse, "database"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			o.t = t
			tc.cut()
			// The first request may be in flight before the gate notices:
			// it must still end in 503, not hang or 500.
			o.mustUnavailable("GET", "/v1/hostedzones", tok, nil)
			testkit.Eventually(t, 10*time.Second, func() error {
				st, _, b, err := o.call("GET", "/readyz", "", nil)
				if err != nil || st != http.StatusServiceUnavailable || !strings.Contains(string(b), tc.why) {
					return fmt.Errorf("readyz: %d %s %v", st, b, err)
				}
				return nil
			})
			o.mustUnavailable("GET", "/v1/hostedzones", tok, nil)
			o.mustUnavailable("POST", "/v1/hostedzones", tok, map[string]string{"name": tc.name + ".example.", "caller_reference": tc.name})
			o.mustUnavailable("GET", "/v1/apikeys", tok, nil)
			o.mustCall(http.StatusOK, "GET", "/healthz", "", nil)

			o.proxy.Forward()
			testkit.Eventually(t, 15*time.Second, func() error {
				st, _, b, err := o.call("GET", "/v1/hostedzones", tok, nil)
				if err != nil || st != http.StatusOK {
					return fmt.Errorf("after recovery: %d %s %v", st, b, err)
				}
				return nil
			})
			o.mustCall(http.StatusOK, "GET", "/readyz", "", nil)
			o.mustCall(http.StatusCreated, "POST", "/v1/hostedzones", tok, map[string]string{"name": tc.name + ".example.", "caller_reference": tc.name})
		})
	}
}
