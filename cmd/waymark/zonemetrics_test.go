package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"
	"github.com/waymark-dns/waymark/controlplane"
	"github.com/waymark-dns/waymark/internal/natstest"
	"github.com/waymark-dns/waymark/internal/pgtest"
	"github.com/waymark-dns/waymark/internal/testkit"
	"github.com/waymark-dns/waymark/nspool"
)

// TestIntegrationZoneQueryMetrics sends a known number of queries over
// UDP and TCP to a real nameserver (startNameserver, as `waymark
// nameserver` runs it, reporting every second) and reads them back from
// the API's time series (startControlPlane, as `waymark api`): the counts
// arrive through NATS and match exactly, by rcode and region, and stay
// exact over later reports. Another tenant gets 404, bad parameters 400.
func TestIntegrationZoneQueryMetrics(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	_, dsn := pgtest.Schema(t)
	nsrv := natstest.Run(t)
	log := slog.New(slog.DiscardHandler)
	sec := secrets{MasterKey: []byte(strings.Repeat("m", 32)), JWTKey: []byte(strings.Repeat("j", 32)), AdminToken: "zq-admin"}
	pool, err := nspool.Parse("ns1.waymark.test.,ns2.waymark.test.", 0)
	if err != nil {
		t.Fatal(err)
	}
	cp, err := startControlPlane(ctx, controlPlaneOptions{
		DatabaseURL: dsn, NATSURL: nsrv.ClientURL(), Listen: "127.0.0.1:0", Pool: pool, PredictableSets: true,
		Secrets: sec, RateLimit: 1e6, Logger: log,
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(cp.Close)
	apiURL := "http://" + cp.Addr
	ns, err := startNameserver(ctx, nameserverOptions{
		NodeID: "zq1", Region: "eu-west-1", Listen: "127.0.0.1:0", NATSURL: nsrv.ClientURL(), APIURL: apiURL,
		AdminToken: sec.AdminToken, CacheDir: t.TempDir(), Logger: log, Pool: pool,
		Limits: dnsLimits{ZoneQueryInterval: time.Second},
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cancel(); <-ns.done })
	testkit.Eventually(t, 10*time.Second, func() error {
		if !ns.Server.Handler().Ready() {
			return fmt.Errorf("nameserver not ready")
		}
		return nil
	})

	_, key, err := cp.Service.CreateTenant(ctx, "zq")
	if err != nil {
		t.Fatal(err)
	}
	_, otherKey, err := cp.Service.CreateTenant(ctx, "zq-other")
	if err != nil {
		t.Fatal(err)
	}
	z, ch, err := cp.Service.CreateZone(ctx, key.TenantID, controlplane.CreateZoneInput{Name: "counted.test.", CallerReference: "zq"})
	if err != nil {
		t.Fatal(err)
	}
	// INSYNC: the nameserver holds the zone, without a query to find out.
	if info, err := cp.Service.WaitChange(ctx, key.TenantID, ch.ID, 20*time.Second); err != nil || info.Status != controlplane.StatusInSync {
		t.Fatalf("zone creation: %+v, %v", info, err)
	}
	started := time.Now().UTC()

	addr := ns.Server.UDPAddr().String()
	ask := func(proto, name string, want int) {
		t.Helper()
		c := &dns.Client{Net: proto, Timeout: 5 * time.Second}
		m := new(dns.Msg)
		m.SetQuestion(name, dns.TypeSOA)
		r, _, err := c.Exchange(m, addr)
		if err != nil || r.Rcode != want {
			t.Fatalf("%s %s: %v %v", proto, name, r, err)
		}
	}
	const udpOK, udpNX, tcpOK, tcpNX = 17, 5, 9, 3
	for range udpOK {
		ask("udp", "counted.test.", dns.RcodeSuccess)
	}
	for range udpNX {
		ask("udp", "nope.counted.test.", dns.RcodeNameError)
	}
	for range tcpOK {
		ask("tcp", "counted.test.", dns.RcodeSuccess)
	}
	for range tcpNX {
		ask("tcp", "nope.counted.test.", dns.RcodeNameError)
	}
	// A zone nobody hosts is nobody's query.
	ask("udp", "elsewhere.example.", dns.RcodeRefused)

	type series struct {
		Metric     string `json:"metric"`
		Period     int    `json:"period"`
		Datapoints []struct {
			Timestamp time.Time `json:"timestamp"`
			Value     float64   `json:"value"`
		} `json:"datapoints"`
	}
	get := func(token, id, query string) (int, []byte) {
		t.Helper()
		req, _ := http.NewRequest("GET", apiURL+"/v1/hostedzones/"+id+"/metrics?"+query, nil)
		req.Header.Set("Authorization", "Bearer "+token)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, b
	}
	window := url.Values{"start": {started.Add(-2 * time.Minute).Format(time.RFC3339)},
		"end": {time.Now().UTC().Add(2 * time.Minute).Format(time.RFC3339)}, "period": {"60"}}
	total := func(extra string) (float64, error) {
		q := window.Encode() + extra
		status, b := get(key.Token, z.ID, "metric=dns_queries&"+q)
		if status != 200 {
			return 0, fmt.Errorf("GET metrics: %d %s", status, b)
		}
		var s series
		if err := json.Unmarshal(b, &s); err != nil {
			return 0, err
		}
		if s.Metric != "dns_queries" || s.Period != 60 {
			return 0, fmt.Errorf("series %s", b)
		}
		sum := 0.0
		for _, d := range s.Datapoints {
			if d.Timestamp.Second() != 0 {
				return 0, fmt.Errorf("datapoint not on a minute: %s", b)
			}
			sum += d.Value
		}
		return sum, nil
	}
	want := float64(udpOK + udpNX + tcpOK + tcpNX)
	testkit.Eventually(t, 15*time.Second, func() error {
		got, err := total("")
		if err != nil {
			return err
		}
		if got != want {
			return fmt.Errorf("dns_queries %v, want %v", got, want)
		}
		return nil
	})
	// One more query, in a later report: exactly one more.
	ask("tcp", "counted.test.", dns.RcodeSuccess)
	want++
	testkit.Eventually(t, 15*time.Second, func() error {
		got, err := total("")
		if err != nil {
			return err
		}
		if got != want {
			return fmt.Errorf("dns_queries %v, want %v", got, want)
		}
		return nil
	})
	for _, tc := range []struct {
		extra string
		want  float64
	}{
		{"", want},
		{"&rcode=NOERROR", udpOK + tcpOK + 1},
		{"&rcode=nxdomain", udpNX + tcpNX},
		{"&region=eu-west-1", want},
		{"&region=us-east-1", 0},
	} {
		if got, err := total(tc.extra); err != nil || got != tc.want {
			t.Errorf("dns_queries%s = %v, %v; want %v", tc.extra, got, err, tc.want)
		}
	}
	if status, b := get(otherKey.Token, z.ID, "metric=dns_queries&"+window.Encode()); status != 404 || !strings.Contains(string(b), "NoSuchHostedZone") {
		t.Errorf("another tenant: %d %s", status, b)
	}
	for _, q := range []string{"metric=nope", "", "metric=dns_queries&period=90", "metric=dns_queries&period=x",
		"metric=dns_queries&start=yesterday", "metric=dns_queries&start=2026-12-02T10:00:00Z&end=2026-12-01T10:00:00Z",
		"metric=dns_queries&start=2026-01-01T00:00:00Z&end=2026-12-01T00:00:00Z", "metric=nxdomain_queries&rcode=NOERROR"} {
		if status, b := get(key.Token, z.ID, q); status != 400 || !strings.Contains(string(b), "InvalidInput") {
			t.Errorf("?%s: %d %s", q, status, b)
		}
	}
}
