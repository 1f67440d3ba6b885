package dataplane

import (
	"context"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/waymark-dns/waymark/event"
	"github.com/waymark-dns/waymark/internal/dnstest"
	"github.com/waymark-dns/waymark/internal/natstest"
)

// TestRoutingEndToEnd runs a real server with StartRouting: a GeoIP
// database and latency table read from files, the health feed from a NATS
// JetStream KV bucket, test answers over NATS request/reply, and queries
// over UDP and TCP with and without ECS.
func TestRoutingEndToEnd(t *testing.T) {
	t.Parallel()
	ns := natstest.Run(t)
	nc, err := nats.Connect(ns.ClientURL())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(nc.Close)
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)

	dir := t.TempDir()
	geoPath, latPath := filepath.Join(dir, "city.mmdb"), filepath.Join(dir, "latency.json")
	if err := os.WriteFile(geoPath, buildGeoDB(t), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(latPath, []byte(`{"countries": {"AU": ["ap-northeast-1"]}}`), 0o600); err != nil {
		t.Fatal(err)
	}

	store := NewStore()
	for _, z := range routingZones() {
		if err := store.ReplaceZone(z); err != nil {
			t.Fatal(err)
		}
	}
	srv := NewServer(store, Config{Addr: "127.0.0.1:0", UDPWorkers: 2})
	sctx, scancel := context.WithTimeout(ctx, 5*time.Second)
	defer scancel()
	if err := srv.Start(sctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = srv.Shutdown(context.Background()) })
	srv.SetReady(true)

	if _, err := StartRouting(ctx, nc, srv.Handler(), RoutingOptions{GeoIPPath: "/nonexistent.mmdb"}); err == nil {
		t.Errorf("a missing GeoIP database was accepted")
	}
	if _, err := StartRouting(ctx, nc, srv.Handler(), RoutingOptions{LatencyTablePath: geoPath}); err == nil {
		t.Errorf("a malformed latency table was accepted")
	}
	stop, err := StartRouting(ctx, nc, srv.Handler(), RoutingOptions{GeoIPPath: geoPath, LatencyTablePath: latPath, NodeID: "ns-test", Region: "eu-west-1"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(stop)

	addr := srv.UDPAddr().String()
	exchange := func(network string, m *dns.Msg) *dns.Msg {
		t.Helper()
		r, err := dnstest.Exchange(network, addr, m)
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	// The source address is 127.0.0.1 (not in the database): without ECS
	// the default record; with ECS the subnet's location, scope echoed.
	for _, network := range []string{"udp", "tcp"} {
		if got := answers(exchange(network, query("g.example.com.", dns.TypeA, ""))); !slices.Equal(got, []string{"10.0.3.9"}) {
			t.Errorf("%s without ECS: %v", network, got)
		}
		r := exchange(network, query("g.example.com.", dns.TypeA, "192.0.2.0/24"))
		if got := answers(r); !slices.Equal(got, []string{"10.0.3.1"}) || ecsScope(r) != 24 {
			t.Errorf("%s with ECS: %v scope %d", network, got, ecsScope(r))
		}
		// The latency table sends Australia to Tokyo.
		if got := answers(exchange(network, query("l.example.com.", dns.TypeA, "203.0.113.0/24"))); !slices.Equal(got, []string{"10.0.5.4"}) {
			t.Errorf("%s latency table: %v", network, got)
		}
		// Unknown client: latency from this nameserver's region (Dublin).
		if got := answers(exchange(network, query("l.example.com.", dns.TypeA, ""))); !slices.Equal(got, []string{"10.0.5.2"}) {
			t.Errorf("%s latency from the nameserver's region: %v", network, got)
		}
	}

	// The health feed: the primary's check goes down, then up again.
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	kv, err := event.OpenKeyValue(ctx, js, event.HealthStatusKVConfig(1))
	if err != nil {
		t.Fatal(err)
	}
	put := func(id string, healthy bool) {
		t.Helper()
		b, _ := event.HealthStatus{CheckID: id, Healthy: healthy, Changed: time.Unix(1, 0)}.Encode()
		if _, err := kv.Put(ctx, id, b); err != nil {
			t.Fatal(err)
		}
	}
	waitFor := func(want string) {
		t.Helper()
		deadline := time.Now().Add(10 * time.Second)
		for {
			got := answers(exchange("udp", query("f.example.com.", dns.TypeA, "")))
			if slices.Equal(got, []string{want}) {
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("failover answer %v, want %s", got, want)
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	waitFor("10.0.2.1")
	put("hc-p", false)
	waitFor("10.0.2.2")

	// A test answer explains the failover and the health inputs.
	ask := func(req event.TestAnswerRequest) event.TestAnswerResponse {
		t.Helper()
		b, _ := req.Encode()
		m, err := nc.Request(event.TestAnswerSubject, b, 5*time.Second)
		if err != nil {
			t.Fatal(err)
		}
		resp, err := event.DecodeTestAnswerResponse(m.Data)
		if err != nil {
			t.Fatal(err)
		}
		return resp
	}
	resp := ask(event.TestAnswerRequest{ZoneID: "Z1", Name: "f.example.com", Type: "A"})
	text := strings.Join(resp.Explanation, "\n")
	if resp.Rcode != "NOERROR" || resp.NodeID != "ns-test" || len(resp.Records) != 1 || resp.Records[0].Data != "10.0.2.2" ||
		resp.Records[0].Name != "f.example.com." || resp.Records[0].TTL != 60 || resp.ZoneVersion != 1 {
		t.Errorf("test answer %+v", resp)
	}
	for _, want := range []string{"hc-p: unhealthy", "SECONDARY"} {
		if !strings.Contains(text, want) {
			t.Errorf("explanation lacks %q:\n%s", want, text)
		}
	}
	resp = ask(event.TestAnswerRequest{ZoneID: "Z1", Name: "c.example.com.", Type: "A", ClientIP: "10.9.9.9", ECS: "192.0.2.128/25"})
	if len(resp.Records) != 1 || resp.Records[0].Data != "10.0.7.2" || !strings.Contains(strings.Join(resp.Explanation, "\n"), "192.0.2.128/25 of location \"lab\"") {
		t.Errorf("cidr test answer %+v", resp)
	}
	resp = ask(event.TestAnswerRequest{ZoneID: "Z1", Name: "gnd.example.com.", Type: "A", ClientIP: "192.0.2.1"})
	if resp.Rcode != "NOERROR" || len(resp.Records) != 0 || !strings.Contains(strings.Join(resp.Explanation, "\n"), "NODATA") {
		t.Errorf("NODATA test answer %+v", resp)
	}
	resp = ask(event.TestAnswerRequest{ZoneID: "Z1", Name: "nx.example.com.", Type: "A"})
	if resp.Rcode != "NXDOMAIN" || !strings.Contains(strings.Join(resp.Explanation, "\n"), "simple routing") {
		t.Errorf("NXDOMAIN test answer %+v", resp)
	}
	for _, bad := range []event.TestAnswerRequest{
		{ZoneID: "Z1", Name: "f.example.com.", Type: "NOPE"},
		{ZoneID: "Z1", Name: "f.example.org.", Type: "A"},
		{ZoneID: "Z1", Name: "f.example.com.", Type: "A", ClientIP: "nope"},
		{ZoneID: "Z1", Name: "f.example.com.", Type: "A", ECS: "nope/99"},
	} {
		if r := ask(bad); !r.BadRequest || r.Error == "" {
			t.Errorf("%+v: %+v, want a bad request", bad, r)
		}
	}
	if r := ask(event.TestAnswerRequest{ZoneID: "Z9", Name: "f.example.com.", Type: "A"}); r.BadRequest || r.Error == "" {
		t.Errorf("unknown zone: %+v, want a 503-style error", r)
	}
	m, err := nc.Request(event.TestAnswerSubject, []byte("{"), 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if r, _ := event.DecodeTestAnswerResponse(m.Data); !r.BadRequest {
		t.Errorf("malformed request: %+v", r)
	}

	put("hc-p", true)
	waitFor("10.0.2.1")
	// A deleted status means unknown: healthy.
	put("hc-p", false)
	waitFor("10.0.2.2")
	if err := kv.Delete(ctx, "hc-p"); err != nil {
		t.Fatal(err)
	}
	waitFor("10.0.2.1")
}

// TestHealthMapUnknown: unknown checks count as healthy.
func TestHealthMapUnknown(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		m              HealthMap
		healthy, known bool
	}{
		{HealthMap{"a": false}, false, true},
		{HealthMap{"a": true}, true, true},
		{HealthMap{}, true, false},
	} {
		if h, k := tc.m.Healthy("a"); h != tc.healthy || k != tc.known {
			t.Errorf("%v: %v %v", tc.m, h, k)
		}
	}
	if h, k := NewNATSHealth().Healthy("x"); !h || k {
		t.Errorf("a fresh NATSHealth: %v %v", h, k)
	}
}

// TestStartRoutingWithoutNATS: with NATS unreachable StartRouting returns
// at once, answers count every check healthy, and stop returns promptly.
func TestStartRoutingWithoutNATS(t *testing.T) {
	t.Parallel()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	_ = l.Close() // nothing listens there now
	nc, err := nats.Connect("nats://"+addr, nats.RetryOnFailedConnect(true), nats.MaxReconnects(-1), nats.ReconnectWait(50*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(nc.Close)
	h := routingHandler(t, Routing{})
	start := time.Now()
	stop, err := StartRouting(context.Background(), nc, h, RoutingOptions{RetryInterval: 20 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	if got := answers(askR(t, h, query("f.example.com.", dns.TypeA, ""), "10.9.9.9")); !slices.Equal(got, []string{"10.0.2.1"}) {
		t.Errorf("failover without a health feed: %v", got)
	}
	stop()
	if d := time.Since(start); d > 30*time.Second {
		t.Errorf("StartRouting and stop took %v", d)
	}
}
