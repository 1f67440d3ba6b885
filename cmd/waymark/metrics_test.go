package main

import (
	"bytes"
	"context"
	"encoding/json"
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
	"github.com/waymark-dns/waymark/zonecfg"
)

// TestIntegrationMetricsEveryProcess starts an API, a nameserver (with a
// dnstap socket) and a health checker, each with its own registry as in
// production, and scrapes each one's /metrics and that of the `waymark
// dev` of TestMain; it checks every exposition with promtool, and that the
// counters and histograms move as API calls, changes, queries, dropped
// packets, rate-limited requests and probes happen.
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
		// No collector listens: answers are queued, then dropped once
		// the queue is full; either way counted.
		DnstapSocket: t.TempDir() + "/tap.sock",
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
		"healthchecker": "http://" + hcMetrics + "/metrics", "dev": dev.API + "/metrics"}
	// dbCount is a count(*) of this test's schema.
	dbCount := func(t *testing.T, sql string) float64 {
		t.Helper()
		var n int64
		if err := cp.pool.QueryRow(ctx, sql).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return float64(n)
	}
	// settled waits until no change is pending and the API's histograms
	// have observed every change INSYNC and every outbox event published
	// (this API process is the only one marking them), and returns the
	// number of INSYNC changes.
	settled := func(t *testing.T) float64 {
		t.Helper()
		var insync float64
		testkit.Eventually(t, 20*time.Second, func() error {
			body := scrape(t, urls["api"])
			insync = dbCount(t, `SELECT count(*) FROM change WHERE status = 'INSYNC'`)
			published := dbCount(t, `SELECT count(*) FROM outbox_event WHERE published_at IS NOT NULL`)
			if p := value(body, "waymark_changes_pending"); p != 0 {
				return fmt.Errorf("%v changes pending", p)
			}
			if got := value(body, "waymark_change_insync_duration_seconds_count"); got != insync {
				return fmt.Errorf("INSYNC histogram count %v, INSYNC changes %v", got, insync)
			}
			if got := value(body, "waymark_relay_publish_duration_seconds_count"); got != published {
				return fmt.Errorf("publish histogram count %v, published outbox events %v", got, published)
			}
			return nil
		})
		return insync
	}

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
	askID := func(net, name string, qtype, id uint16) int {
		c := &dns.Client{Net: net, Timeout: 2 * time.Second}
		m := new(dns.Msg)
		m.SetQuestion(name, qtype)
		if id != 0 {
			m.Id = id
		}
		r, _, err := c.Exchange(m, udp)
		if err != nil {
			return -1
		}
		return r.Rcode
	}
	ask := func(net, name string, qtype uint16) int { return askID(net, name, qtype, 0) }
	testkit.Eventually(t, 10*time.Second, func() error {
		if rc := ask("udp", "metrics.test.", dns.TypeSOA); rc != dns.RcodeSuccess {
			return fmt.Errorf("SOA: rcode %d", rc)
		}
		return nil
	})
	// A change after the zone's: the INSYNC histogram counts exactly it.
	insyncBefore := settled(t)
	zones, err := cp.Service.ListZones(ctx, key.TenantID, controlplane.ListZonesInput{})
	if err != nil || len(zones.Zones) != 1 {
		t.Fatalf("zones: %+v %v", zones, err)
	}
	if _, err := cp.Service.ChangeRRSets(ctx, key.TenantID, zones.Zones[0].ID, controlplane.ChangeBatch{Changes: []controlplane.RRSetChange{{
		Action: controlplane.ActionCreate, RRSet: zonecfg.RRSet{Name: "www.metrics.test.", Type: "A", TTL: 60,
			Records: []string{"192.0.2.1"}}}}}); err != nil {
		t.Fatal(err)
	}
	if got := settled(t) - insyncBefore; got != 1 {
		t.Errorf("the INSYNC histogram moved by %v for one change", got)
	}
	if s := value(scrape(t, urls["api"]), "waymark_change_insync_duration_seconds_sum"); s <= 0 {
		t.Errorf("INSYNC histogram sum %v", s)
	}

	before := scrape(t, urls["nameserver"])
	for range 5 {
		if rc := ask("udp", "nope.metrics.test.", dns.TypeA); rc != dns.RcodeNameError {
			t.Fatalf("udp query: rcode %d", rc)
		}
	}
	// Four over TCP, three of them with IDs whose answer time is
	// observed (the low four bits clear: one query in 16 is timed).
	for _, id := range []uint16{0x0100, 0x0110, 0x0121, 0x0130} {
		if rc := askID("tcp", "metrics.test.", dns.TypeSOA, id); rc != dns.RcodeSuccess {
			t.Fatalf("tcp query: rcode %d", rc)
		}
	}

	// Packets dropped unanswered: a response (QR set) and a runt.
	uc, err := net.Dial("udp", udp)
	if err != nil {
		t.Fatal(err)
	}
	resp1 := new(dns.Msg)
	resp1.SetQuestion("metrics.test.", dns.TypeSOA)
	resp1.Response = true
	wire, _ := resp1.Pack()
	for _, p := range [][]byte{wire, {0, 1, 2}} {
		if _, err := uc.Write(p); err != nil {
			t.Fatal(err)
		}
	}
	uc.Close()
	unanswered := func(body string) float64 { return value(body, "waymark_dns_protection_total", `counter="unanswered"`) }
	testkit.Eventually(t, 5*time.Second, func() error {
		if got := unanswered(scrape(t, urls["nameserver"])) - unanswered(before); got != 2 {
			return fmt.Errorf("unanswered moved by %v, want 2", got)
		}
		return nil
	})

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
		{"waymark_dns_queries_total", []string{`rcode="NOERROR"`, `protocol="tcp"`}, 4},
		{"waymark_dns_queries_by_type_total", []string{`qtype="A"`}, 5},
		{"waymark_dns_answer_duration_seconds_count", []string{`protocol="tcp"`}, 3},
		{"waymark_dnstap_answers_total", nil, 9}, // queued or dropped, every answer once
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

	// Failed authentications until the throttle answers 429: each 429
	// counts once.
	throttled := 0
	for range 2 * 20 {
		req, _ := http.NewRequest("GET", apiURL+"/v1/hostedzones", nil)
		req.Header.Set("Authorization", "Bearer wm_not-a-key")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode == http.StatusTooManyRequests {
			throttled++
		}
	}
	apiBody = scrape(t, urls["api"])
	if got := value(apiBody, "waymark_api_rate_limited_total", `limiter="auth_failures"`); throttled == 0 || got != float64(throttled) {
		t.Errorf("%d requests throttled, counted %v:\n%s", throttled, got, grepLines(apiBody, "waymark_api_rate_limited_total"))
	}

	devMetricsMove(t, urls["dev"], scrape)

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

// devMetricsMove checks that the `waymark dev` of TestMain (one registry
// for all its roles, on the API port) counts what happens to it: a zone
// created through its API goes INSYNC (the INSYNC and publish histograms
// move), queries to its first nameserver count under node="ns0", and a
// health check's probes count under its checkers. Other tests share this
// server, so the counters must move by at least what this test did.
func devMetricsMove(t *testing.T, url string, scrape func(*testing.T, string) string) {
	t.Helper()
	before := scrape(t, url)
	call := func(method, path, body string, want int) map[string]any {
		t.Helper()
		req, _ := http.NewRequest(method, dev.API+path, strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+dev.APIKey)
		req.Header.Set("Content-Type", "application/json")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var out map[string]any
		_ = json.NewDecoder(resp.Body).Decode(&out)
		if resp.StatusCode != want {
			t.Fatalf("%s %s: %d %v", method, path, resp.StatusCode, out)
		}
		return out
	}
	ref := strconv.FormatInt(time.Now().UnixNano(), 36)
	out := call("POST", "/v1/hostedzones", `{"name":"m`+ref+`.metrics.test.","caller_reference":"`+ref+`"}`, 201)
	changeID, _ := out["change"].(map[string]any)["id"].(string)
	testkit.Eventually(t, 20*time.Second, func() error {
		st := call("GET", "/v1/changes/"+changeID, "", 200)
		if ch, _ := st["change"].(map[string]any); ch == nil || ch["status"] != "INSYNC" {
			return fmt.Errorf("change %s: %v", changeID, st)
		}
		return nil
	})
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
	hc := call("POST", "/v1/healthchecks", fmt.Sprintf(`{"caller_reference":"%s","config":{"type":"TCP","ip_address":"127.0.0.1","port":%d,"request_interval":1,"failure_threshold":1}}`,
		ref, ln.Addr().(*net.TCPAddr).Port), 201)
	hcID, _ := hc["health_check"].(map[string]any)["id"].(string)
	t.Cleanup(func() { call("DELETE", "/v1/healthchecks/"+hcID, "", 204) })
	c := &dns.Client{Net: "udp", Timeout: 2 * time.Second}
	m := new(dns.Msg)
	m.SetQuestion("m"+ref+".metrics.test.", dns.TypeSOA)
	for range 4 {
		// Any answer counts (the zone may be on other pool names than
		// the first address's: NXDOMAIN from test. then).
		if _, _, err := c.Exchange(m, dev.DNS); err != nil {
			t.Fatalf("dev SOA query: %v", err)
		}
	}
	var after string
	testkit.Eventually(t, 20*time.Second, func() error {
		after = scrape(t, url)
		if value(after, "waymark_health_probes_total", `result="success"`, `type="TCP"`) <= value(before, "waymark_health_probes_total", `result="success"`, `type="TCP"`) {
			return fmt.Errorf("no probe of the dev checkers counted")
		}
		return nil
	})
	for _, tc := range []struct {
		name   string
		labels []string
		least  float64
	}{
		{"waymark_change_insync_duration_seconds_count", nil, 1},
		{"waymark_relay_publish_duration_seconds_count", nil, 1},
		{"waymark_dns_queries_total", []string{`node="ns0"`, `protocol="udp"`}, 4},
		{"waymark_api_requests_total", []string{`route="/v1/hostedzones"`, `method="POST"`, `status="201"`}, 1},
	} {
		if got := value(after, tc.name, tc.labels...) - value(before, tc.name, tc.labels...); got < tc.least {
			t.Errorf("dev: %s%v moved by %v, want at least %v", tc.name, tc.labels, got, tc.least)
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
