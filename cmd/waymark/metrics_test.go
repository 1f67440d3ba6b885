package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"
	"github.com/nats-io/nats.go"
	"github.com/waymark-dns/waymark/controlplane"
	"github.com/waymark-dns/waymark/healthcfg"
	"github.com/waymark-dns/waymark/internal/metrics"
	"github.com/waymark-dns/waymark/internal/natstest"
	"github.com/waymark-dns/waymark/internal/pgtest"
	"github.com/waymark-dns/waymark/internal/testkit"
	"github.com/waymark-dns/waymark/nspool"
)

// TestIntegrationMetricsEveryProcess starts an API, a nameserver and a
// health checker, each with its own registry as in production, scrapes
// each one's /metrics, checks the exposition with promtool, and checks
// that the counters move as API calls, changes, queries and probes
// happen.
func TestIntegrationMetricsEveryProcess(t *testing.T) {
	promtool, err := exec.LookPath("promtool")
	if err != nil {
		t.Fatalf("this test needs promtool (Debian: apt-get install -y prometheus): %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	_, dsn := pgtest.Schema(t)
	nsrv := natstest.Run(t)
	log := slog.New(slog.DiscardHandler)
	sec := secrets{MasterKey: []byte(strings.Repeat("m", 32)), JWTKey: []byte(strings.Repeat("j", 32)), AdminToken: "metrics-admin"}
	pool, err := nspool.Parse("ns1.waymark.test.,ns2.waymark.test.", 0)
	if err != nil {
		t.Fatal(err)
	}
	cp, err := startControlPlane(ctx, controlPlaneOptions{
		DatabaseURL: dsn, NATSURL: nsrv.ClientURL(), Listen: "127.0.0.1:0", Pool: pool, PredictableSets: true,
		Secrets: sec, RateLimit: 1e6, AllowPrivateTargets: true, MinHealthInterval: 1, Logger: log,
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(cp.Close)
	apiURL := "http://" + cp.Addr

	nsReg := metrics.NewRegistry("nameserver")
	ns, err := startNameserver(ctx, nameserverOptions{
		NodeID: "m1", Region: "us-east-1", Listen: "127.0.0.1:0", NATSURL: nsrv.ClientURL(), APIURL: apiURL,
		AdminToken: sec.AdminToken, CacheDir: t.TempDir(), Logger: log, Pool: pool, Metrics: nsReg,
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cancel(); <-ns.done })
	nsMetrics, err := metrics.Serve(ctx, "127.0.0.1:0", nsReg, log)
	if err != nil {
		t.Fatal(err)
	}

	hcReg := metrics.NewRegistry("healthchecker")
	hnc, err := nats.Connect(nsrv.ClientURL(), nats.MaxReconnects(-1))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(hnc.Close)
	metrics.Connected(hcReg, "waymark_nats_connected", "1 while the process's NATS connection is up.", hnc.IsConnected)
	hcDone := make(chan struct{})
	go func() { defer close(hcDone); _ = runChecker(ctx, hnc, "us-east-1", "m-hc", true, 1, log, hcReg) }()
	t.Cleanup(func() { cancel(); <-hcDone })
	hcMetrics, err := metrics.Serve(ctx, "127.0.0.1:0", hcReg, log)
	if err != nil {
		t.Fatal(err)
	}

	scrape := func(t *testing.T, url string) string {
		t.Helper()
		resp, err := http.Get(url)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		if err != nil || resp.StatusCode != 200 {
			t.Fatalf("GET %s: %d %v", url, resp.StatusCode, err)
		}
		return string(b)
	}
	urls := map[string]string{"api": apiURL + "/metrics", "nameserver": "http://" + nsMetrics + "/metrics",
		"healthchecker": "http://" + hcMetrics + "/metrics"}

	// The tenant's calls: a zone through the API, a record through the
	// service, then queries over UDP and TCP.
	_, key, err := cp.Service.CreateTenant(ctx, "metrics")
	if err != nil {
		t.Fatal(err)
	}
	req, _ := http.NewRequest("POST", apiURL+"/v1/hostedzones", strings.NewReader(`{"name":"metrics.test.","caller_reference":"m1"}`))
	req.Header.Set("Authorization", "Bearer "+key.Token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 201 {
		t.Fatalf("create zone: %d", resp.StatusCode)
	}
	udp := ns.Server.UDPAddr().String()
	ask := func(net, name string, qtype uint16) int {
		c := &dns.Client{Net: net, Timeout: 2 * time.Second}
		m := new(dns.Msg)
		m.SetQuestion(name, qtype)
		r, _, err := c.Exchange(m, udp)
		if err != nil {
			return -1
		}
		return r.Rcode
	}
	testkit.Eventually(t, 10*time.Second, func() error {
		if rc := ask("udp", "metrics.test.", dns.TypeSOA); rc != dns.RcodeSuccess {
			return fmt.Errorf("SOA: rcode %d", rc)
		}
		return nil
	})
	before := scrape(t, urls["nameserver"])
	for range 5 {
		if rc := ask("udp", "nope.metrics.test.", dns.TypeA); rc != dns.RcodeNameError {
			t.Fatalf("udp query: rcode %d", rc)
		}
	}
	for range 3 {
		if rc := ask("tcp", "metrics.test.", dns.TypeSOA); rc != dns.RcodeSuccess {
			t.Fatalf("tcp query: rcode %d", rc)
		}
	}

	// A health check on a local TCP listener.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			c.Close()
		}
	}()
	port := ln.Addr().(*net.TCPAddr).Port
	if _, err := cp.Service.CreateHealthCheck(ctx, key.TenantID, controlplane.CreateHealthCheckInput{CallerReference: "m",
		Config: healthcfg.Config{Type: "TCP", IPAddress: "127.0.0.1", Port: port, RequestInterval: 1, FailureThreshold: 1}}); err != nil {
		t.Fatal(err)
	}
	testkit.Eventually(t, 20*time.Second, func() error {
		if value(scrape(t, urls["healthchecker"]), "waymark_health_probes_total", `result="success"`, `type="TCP"`, `region="us-east-1"`) == 0 {
			return fmt.Errorf("no successful probe counted")
		}
		return nil
	})

	after := scrape(t, urls["nameserver"])
	for _, tc := range []struct {
		name   string
		labels []string
		want   float64
	}{
		{"waymark_dns_queries_total", []string{`rcode="NXDOMAIN"`, `protocol="udp"`}, 5},
		{"waymark_dns_queries_total", []string{`rcode="NOERROR"`, `protocol="tcp"`}, 3},
		{"waymark_dns_queries_by_type_total", []string{`qtype="A"`}, 5},
		{"waymark_dns_answer_duration_seconds_count", []string{`protocol="tcp"`}, 3},
	} {
		if got := value(after, tc.name, tc.labels...) - value(before, tc.name, tc.labels...); got != tc.want {
			t.Errorf("%s%v moved by %v, want %v", tc.name, tc.labels, got, tc.want)
		}
	}
	if value(after, "waymark_dns_zones_loaded") < 1 || value(after, "waymark_sync_applied_sequence") < 1 {
		t.Errorf("zones loaded / applied sequence did not move:\n%s", grepLines(after, "waymark_dns_zones_loaded", "waymark_sync_applied"))
	}
	apiBody := scrape(t, urls["api"])
	if got := value(apiBody, "waymark_api_requests_total", `route="/v1/hostedzones"`, `method="POST"`, `status="201"`); got != 1 {
		t.Errorf("API requests for the zone creation: %v\n%s", got, grepLines(apiBody, "waymark_api_requests_total"))
	}
	if value(apiBody, "waymark_nats_connected") != 1 || value(apiBody, "waymark_postgres_connections") < 1 {
		t.Errorf("connection state:\n%s", grepLines(apiBody, "waymark_nats_connected", "waymark_postgres"))
	}

	// Every metric the shipped dashboard plots exists.
	var all strings.Builder
	for _, url := range urls {
		all.WriteString(scrape(t, url))
	}
	dash, err := os.ReadFile("../../deploy/grafana/waymark.json")
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range regexp.MustCompile(`(waymark|go|process)_[a-z_]+`).FindAllString(string(dash), -1) {
		if !strings.Contains(all.String(), "\n"+name) {
			t.Errorf("the dashboard plots %s, which no process exposes", name)
		}
	}

	for role, url := range urls {
		body := scrape(t, url)
		for _, want := range []string{"go_goroutines", `waymark_up{role="` + role + `"} 1`} {
			if !strings.Contains(body, want) {
				t.Errorf("%s: no %s", role, want)
			}
		}
		cmd := exec.Command(promtool, "check", "metrics")
		cmd.Stdin = strings.NewReader(body)
		var out bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &out
		if err := cmd.Run(); err != nil {
			t.Errorf("promtool check metrics on the %s's exposition: %v\n%s", role, err, out.String())
		}
	}
}

// value sums the samples of metric name whose labels include every one of
// labels (`key="value"`).
func value(body, name string, labels ...string) float64 {
	var sum float64
	for line := range strings.Lines(body) {
		line = strings.TrimSpace(line)
		rest, ok := strings.CutPrefix(line, name)
		if !ok || (rest == "" || (rest[0] != '{' && rest[0] != ' ')) {
			continue
		}
		match := true
		for _, l := range labels {
			if !strings.Contains(rest, l) {
				match = false
			}
		}
		if !match {
			continue
		}
		f := strings.Fields(rest[strings.LastIndexByte(rest, '}')+1:])
		if len(f) == 0 {
			continue
		}
		if v, err := strconv.ParseFloat(f[0], 64); err == nil {
			sum += v
		}
	}
	return sum
}

func grepLines(body string, prefixes ...string) string {
	var b strings.Builder
	for line := range strings.Lines(body) {
		for _, p := range prefixes {
			if strings.HasPrefix(line, p) {
				b.WriteString(line)
			}
		}
	}
	return b.String()
}
