package healthcheck

import (
	"bytes"
	"compress/gzip"
	"context"
	"crypto/tls"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/waymark-dns/waymark/event"
	"github.com/waymark-dns/waymark/healthcfg"
)

// testProber has short timeouts so that timeout cases finish quickly.
func testProber() *Prober {
	return &Prober{
		ConnectTimeout:  time.Second,
		ResponseTimeout: 300 * time.Millisecond,
		TCPTimeout:      time.Second,
		AllowPrivate:    true,
	}
}

// hostPort splits a test server's address.
func hostPort(t *testing.T, addr string) (string, int) {
	t.Helper()
	h, p, err := net.SplitHostPort(addr)
	if err != nil {
		t.Fatal(err)
	}
	n, _ := strconv.Atoi(p)
	return h, n
}

func check(t *testing.T, typ healthcfg.Type, addr, path, search string) event.HealthCheck {
	t.Helper()
	ip, port := hostPort(t, addr)
	return event.HealthCheck{ID: "hc", Version: 1, Config: healthcfg.Config{Type: typ, IPAddress: ip, Port: port, ResourcePath: path, SearchString: search, RequestInterval: 1, FailureThreshold: 1}}
}

func TestProbeHTTP(t *testing.T) {
	t.Parallel()
	block := make(chan struct{})
	var mu sync.Mutex
	var lastHost, lastUA string
	mux := http.NewServeMux()
	mux.HandleFunc("/ok", func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		lastHost, lastUA = r.Host, r.UserAgent()
		mu.Unlock()
		_, _ = w.Write([]byte("all good"))
	})
	mux.HandleFunc("/fail", func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusServiceUnavailable) })
	mux.HandleFunc("/redirect", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "/fail", http.StatusMovedPermanently)
	})
	mux.HandleFunc("/slow-headers", func(http.ResponseWriter, *http.Request) { <-block })
	mux.HandleFunc("/slow-body", func(w http.ResponseWriter, _ *http.Request) {
		w.WriteHeader(http.StatusOK)
		_, _ = w.Write([]byte("start"))
		w.(http.Flusher).Flush()
		<-block
	})
	mux.HandleFunc("/body", func(w http.ResponseWriter, r *http.Request) {
		// ?pad=N puts N bytes before the word "needle".
		n, _ := strconv.Atoi(r.URL.Query().Get("pad"))
		_, _ = w.Write([]byte(strings.Repeat("x", n) + "needle" + strings.Repeat("y", 10000)))
	})
	mux.HandleFunc("/gzip", func(w http.ResponseWriter, _ *http.Request) {
		var b bytes.Buffer
		zw := gzip.NewWriter(&b)
		_, _ = zw.Write([]byte("compressed needle"))
		_ = zw.Close()
		w.Header().Set("Content-Encoding", "gzip")
		_, _ = w.Write(b.Bytes())
	})
	mux.HandleFunc("/huge-headers", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("X-Big", strings.Repeat("h", 20000))
		w.WriteHeader(http.StatusOK)
	})
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	t.Cleanup(func() { close(block) }) // runs first: Close waits for the blocked handlers
	addr := srv.Listener.Addr().String()

	for _, tc := range []struct {
		name   string
		typ    healthcfg.Type
		path   string
		search string
		ok     bool
		reason string
	}{
		{"2xx", healthcfg.HTTP, "/ok", "", true, "Success: HTTP Status Code 200, OK"},
		{"5xx", healthcfg.HTTP, "/fail", "", false, "Failure: HTTP Status Code 503"},
		{"404", healthcfg.HTTP, "/missing", "", false, "Failure: HTTP Status Code 404"},
		{"redirect-is-healthy-and-not-followed", healthcfg.HTTP, "/redirect", "", true, "Success: HTTP Status Code 301"},
		{"query-string", healthcfg.HTTP, "/ok?x=1", "", true, "Success"},
		{"no-headers-in-time", healthcfg.HTTP, "/slow-headers", "", false, "Failure: Timeout"},
		{"headers-too-large", healthcfg.HTTP, "/huge-headers", "", false, "Failure:"},
		{"match", healthcfg.HTTPStrMatch, "/body?pad=100", "needle", true, "Search string found"},
		{"match-at-end-of-window", healthcfg.HTTPStrMatch, "/body?pad=5114", "needle", true, "Search string found"},
		{"match-straddles-window", healthcfg.HTTPStrMatch, "/body?pad=5115", "needle", false, "not found in the first 5120 bytes"},
		{"match-beyond-window", healthcfg.HTTPStrMatch, "/body?pad=6000", "needle", false, "not found"},
		{"match-is-case-sensitive", healthcfg.HTTPStrMatch, "/body", "NEEDLE", false, "not found"},
		{"match-needs-2xx-3xx", healthcfg.HTTPStrMatch, "/fail", "needle", false, "HTTP Status Code 503"},
		{"match-gzip-body", healthcfg.HTTPStrMatch, "/gzip", "compressed needle", true, "Search string found"},
		{"match-body-too-slow", healthcfg.HTTPStrMatch, "/slow-body", "needle", false, "Timeout reading the response body"},
		{"match-found-before-stall", healthcfg.HTTPStrMatch, "/slow-body", "start", true, "Search string found"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			res := testProber().Probe(context.Background(), check(t, tc.typ, addr, tc.path, tc.search))
			if res.OK != tc.ok || !strings.Contains(res.Reason, tc.reason) {
				t.Errorf("got %+v, want ok=%v and a reason containing %q", res, tc.ok, tc.reason)
			}
		})
	}

	t.Run("host-header-and-user-agent", func(t *testing.T) {
		hc := check(t, healthcfg.HTTP, addr, "ok", "") // the leading / is added
		hc.FQDN = "www.example.com"
		if res := testProber().Probe(context.Background(), hc); !res.OK {
			t.Fatalf("got %+v", res)
		}
		mu.Lock()
		defer mu.Unlock()
		if want := "www.example.com:" + strconv.Itoa(hc.Port); lastHost != want {
			t.Errorf("got Host %q, want %q", lastHost, want)
		}
		if !strings.HasPrefix(lastUA, "Waymark-Health-Check/") {
			t.Errorf("got User-Agent %q", lastUA)
		}
	})
}

func TestProbeHTTPS(t *testing.T) {
	t.Parallel()
	var mu sync.Mutex
	var sni []string
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/down" {
			w.WriteHeader(http.StatusInternalServerError)
			return
		}
		_, _ = w.Write([]byte("secure hello"))
	}))
	srv.TLS = &tls.Config{
		MinVersion: tls.VersionTLS12,
		GetConfigForClient: func(h *tls.ClientHelloInfo) (*tls.Config, error) {
			mu.Lock()
			sni = append(sni, h.ServerName)
			mu.Unlock()
			return nil, nil
		},
	}
	srv.StartTLS() // a self-signed certificate for example.com, which Route 53 does not validate
	t.Cleanup(srv.Close)
	addr := srv.Listener.Addr().String()

	for _, tc := range []struct {
		name     string
		typ      healthcfg.Type
		path     string
		search   string
		fqdn     string
		sni      bool
		ok       bool
		wantSNI  string
		checkSNI bool
	}{
		{"self-signed-ok", healthcfg.HTTPS, "/", "", "", false, true, "", false},
		{"down", healthcfg.HTTPS, "/down", "", "", false, false, "", false},
		{"str-match", healthcfg.HTTPSStrMatch, "/", "hello", "", false, true, "", false},
		{"str-mismatch", healthcfg.HTTPSStrMatch, "/", "goodbye", "", false, false, "", false},
		{"sni-sent", healthcfg.HTTPS, "/", "", "shop.example.org", true, true, "shop.example.org", true},
		{"sni-not-sent", healthcfg.HTTPS, "/", "", "shop.example.org", false, true, "", true},
		{"plain-http-to-tls-port", healthcfg.HTTP, "/", "", "", false, false, "", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			hc := check(t, tc.typ, addr, tc.path, tc.search)
			hc.FQDN, hc.EnableSNI = tc.fqdn, tc.sni
			mu.Lock()
			sni = nil
			mu.Unlock()
			res := testProber().Probe(context.Background(), hc)
			if res.OK != tc.ok {
				t.Fatalf("got %+v, want ok=%v", res, tc.ok)
			}
			if tc.checkSNI {
				mu.Lock()
				defer mu.Unlock()
				if len(sni) != 1 || sni[0] != tc.wantSNI {
					t.Errorf("got SNI %q, want %q", sni, tc.wantSNI)
				}
			}
		})
	}
}

func TestProbeTCPAndTargets(t *testing.T) {
	t.Parallel()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			_ = c.Close()
		}
	}()
	// A port with nothing listening: bind, note it, close.
	dead, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	deadAddr := dead.Addr().String()
	_ = dead.Close()

	for _, tc := range []struct {
		name    string
		hc      event.HealthCheck
		private bool
		ok      bool
		reason  string
	}{
		{"tcp-up", check(t, healthcfg.TCP, ln.Addr().String(), "", ""), true, true, "Success: TCP connection established"},
		{"tcp-down", check(t, healthcfg.TCP, deadAddr, "", ""), true, false, "Connection refused"},
		{"http-down", check(t, healthcfg.HTTP, deadAddr, "/", ""), true, false, "Connection refused"},
		{"private-refused", check(t, healthcfg.TCP, ln.Addr().String(), "", ""), false, false, "not a public address"},
		// IPv6 forms of loopback and metadata addresses, refused at probe
		// time too (a check stored before the filter knew them).
		{"nat64-loopback-refused", ipCheck("64:ff9b::7f00:1"), false, false, "not a public address"},
		{"nat64-metadata-refused", ipCheck("64:ff9b::a9fe:a9fe"), false, false, "not a public address"},
		{"6to4-loopback-refused", ipCheck("2002:7f00:1::1"), false, false, "not a public address"},
		{"v4-compatible-refused", ipCheck("::127.0.0.1"), false, false, "not a public address"},
		{"site-local-refused", ipCheck("fec0::1"), false, false, "not a public address"},
		{"fqdn-resolved", event.HealthCheck{Config: healthcfg.Config{Type: healthcfg.TCP, FQDN: "localhost", Port: portOf(t, ln.Addr().String())}}, true, true, "Success"},
		{"fqdn-unresolvable", event.HealthCheck{Config: healthcfg.Config{Type: healthcfg.TCP, FQDN: "no-such-host.invalid", Port: 80}}, true, false, "DNS resolution failed"},
		{"calculated-not-probed", event.HealthCheck{Config: healthcfg.Config{Type: healthcfg.Calculated, IPAddress: "127.0.0.1"}}, true, false, "not probed"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			p := testProber()
			p.AllowPrivate = tc.private
			res := p.Probe(context.Background(), tc.hc)
			if res.OK != tc.ok || !strings.Contains(res.Reason, tc.reason) {
				t.Errorf("got %+v, want ok=%v and a reason containing %q", res, tc.ok, tc.reason)
			}
		})
	}
}

// ipCheck is a TCP check of ip, port 80.
func ipCheck(ip string) event.HealthCheck {
	return event.HealthCheck{ID: "hc", Version: 1, Config: healthcfg.Config{Type: healthcfg.TCP, IPAddress: ip, Port: 80, RequestInterval: 1, FailureThreshold: 1}}
}

func portOf(t *testing.T, addr string) int {
	_, p := hostPort(t, addr)
	return p
}

// stepClock advances by step on every reading, so that a probe's times
// are known counts of readings, whatever the machine's speed.
type stepClock struct {
	mu   sync.Mutex
	t    time.Time
	step time.Duration
}

func (c *stepClock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(c.step)
	return c.t
}

func TestProbeTimings(t *testing.T) {
	t.Parallel()
	mux := http.NewServeMux()
	mux.HandleFunc("/ok", func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write([]byte("fine")) })
	mux.HandleFunc("/down", func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusServiceUnavailable) })
	plain := httptest.NewServer(mux)
	defer plain.Close()
	tlsSrv := httptest.NewTLSServer(mux)
	defer tlsSrv.Close()
	refused, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closedAddr := refused.Addr().String()
	_ = refused.Close()

	const ms = time.Millisecond
	tests := []struct {
		name              string
		hc                event.HealthCheck
		ok                bool
		connect, ttfb     time.Duration // zero: not measured
		connected, gotTTF bool
	}{
		// The clock is read at the dial's start and end and at the first
		// response byte: 1 and 2 steps.
		{"http", check(t, healthcfg.HTTP, plain.Listener.Addr().String(), "/ok", ""), true, 7 * ms, 14 * ms, true, true},
		{"http unhealthy still timed", check(t, healthcfg.HTTP, plain.Listener.Addr().String(), "/down", ""), false, 7 * ms, 14 * ms, true, true},
		{"https", check(t, healthcfg.HTTPS, tlsSrv.Listener.Addr().String(), "/ok", ""), true, 7 * ms, 14 * ms, true, true},
		{"string match", check(t, healthcfg.HTTPStrMatch, plain.Listener.Addr().String(), "/ok", "fine"), true, 7 * ms, 14 * ms, true, true},
		{"tcp has no first byte", check(t, healthcfg.TCP, plain.Listener.Addr().String(), "", ""), true, 7 * ms, 0, true, false},
		{"http refused", check(t, healthcfg.HTTP, closedAddr, "/ok", ""), false, 0, 0, false, false},
		{"tcp refused", check(t, healthcfg.TCP, closedAddr, "", ""), false, 0, 0, false, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := testProber()
			clk := &stepClock{t: time.Unix(1000, 0), step: 7 * ms}
			p.Now = clk.now
			res := p.Probe(context.Background(), tc.hc)
			if res.OK != tc.ok || res.Connected != tc.connected || res.GotFirstByte != tc.gotTTF ||
				res.ConnectTime != tc.connect || res.TimeToFirstByte != tc.ttfb {
				t.Errorf("got %+v, want ok %v connected %v (%v) first byte %v (%v)", res, tc.ok, tc.connected, tc.connect, tc.gotTTF, tc.ttfb)
			}
		})
	}
}

// TestProbeTimingsRealClock checks that, with the real clock, the times
// are measured at all and ordered: the first byte comes after the connect.
func TestProbeTimingsRealClock(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write([]byte("x")) }))
	defer srv.Close()
	res := testProber().Probe(context.Background(), check(t, healthcfg.HTTP, srv.Listener.Addr().String(), "/", ""))
	if !res.OK || !res.Connected || !res.GotFirstByte || res.ConnectTime <= 0 || res.TimeToFirstByte < res.ConnectTime {
		t.Errorf("got %+v", res)
	}
}
