package dataplane

import (
	"bytes"
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/miekg/dns"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/waymark-dns/waymark/event"
	"github.com/waymark-dns/waymark/internal/dnstest"
	"github.com/waymark-dns/waymark/internal/natstest"
)

// syncBuffer is a log destination tests can read while it is written.
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

func bufferLogger() (*slog.Logger, *syncBuffer) {
	b := &syncBuffer{}
	return slog.New(slog.NewTextHandler(b, nil)), b
}

// TestHealthCacheFile round-trips statuses and refuses every kind of
// damaged file with a reason.
func TestHealthCacheFile(t *testing.T) {
	m := map[string]bool{"hc-a": true, "hc-b": false, "": true}
	at := time.Unix(1_700_000_000, 5)
	b := encodeHealthCache(m, at)
	got, written, err := decodeHealthCache(b)
	if err != nil || len(got) != 3 || got["hc-b"] || !got["hc-a"] || !written.Equal(at) {
		t.Fatalf("round trip: %v %v %v", got, written, err)
	}
	flipped := append([]byte(nil), b...)
	flipped[len(healthCacheMagic)+14] ^= 0x10
	version := append([]byte(nil), b...)
	version[len(healthCacheMagic)-1] = 9
	for _, c := range []struct {
		name, want string
		b          []byte
	}{
		{"empty", "not a health cache", nil},
		{"foreign", "not a health cache", []byte(`{"zones": []}`)},
		{"version", "version", version},
		{"truncated", "checksum", b[:len(b)-3]},
		{"header only", "truncated", b[:len(healthCacheMagic)+4]},
		{"flipped bit", "checksum", flipped},
	} {
		if _, _, err := decodeHealthCache(c.b); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: err %v, want one saying %q", c.name, err, c.want)
		}
	}
}

// FuzzHealthCache: the decoder never panics, and what it accepts encodes
// back to the same statuses.
func FuzzHealthCache(f *testing.F) {
	f.Add(encodeHealthCache(map[string]bool{"a": true, "b": false}, time.Unix(1, 0)))
	f.Add([]byte("WAYMARK-HEALTH\x01"))
	f.Fuzz(func(t *testing.T, b []byte) {
		m, at, err := decodeHealthCache(b)
		if err != nil {
			return
		}
		m2, _, err := decodeHealthCache(encodeHealthCache(m, at))
		if err != nil || len(m2) != len(m) {
			t.Fatalf("re-encoded: %v %v", m2, err)
		}
	})
}

// TestHealthCacheRefusedWithReason: a corrupted health cache is logged
// with why, and statuses stay unknown (healthy).
func TestHealthCacheRefusedWithReason(t *testing.T) {
	dir := t.TempDir()
	b := encodeHealthCache(map[string]bool{"hc-p": false}, time.Now())
	if err := os.WriteFile(filepath.Join(dir, healthCacheFile), b[:len(b)-1], 0o600); err != nil {
		t.Fatal(err)
	}
	log, buf := bufferLogger()
	h := NewNATSHealth()
	h.UseCache(dir, log)
	if healthy, known := h.Healthy("hc-p"); !healthy || known || h.FromCache() {
		t.Errorf("corrupted cache used: %v %v", healthy, known)
	}
	if out := buf.String(); !strings.Contains(out, "health cache refused") || !strings.Contains(out, "checksum") {
		t.Errorf("log does not say why the cache was refused:\n%s", out)
	}
}

// TestZoneCacheRefusedWithReason: a node that cannot reach the control
// plane and finds a corrupted zone cache says so, and why, in its log.
func TestZoneCacheRefusedWithReason(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, cacheFile), []byte("garbage, not a cache"), 0o600); err != nil {
		t.Fatal(err)
	}
	ns := natstest.Run(t)
	log, buf := bufferLogger()
	n, err := NewNode(NodeConfig{
		NodeID: "n1", NATSURL: ns.ClientURL(), SnapshotURL: "http://127.0.0.1:1", CacheDir: dir,
		RetryInterval: 10 * time.Millisecond, Logger: log,
	})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { _ = n.Run(ctx); close(done) }()
	defer func() { cancel(); <-done }()
	waitFor(t, "the zone cache refusal in the log", func() bool {
		out := buf.String()
		return strings.Contains(out, "zone cache unavailable") && strings.Contains(out, "truncated or not a zone cache")
	})
}

// TestHealthCacheRestartWithoutNATS: a nameserver learns from the feed
// that the primary of a failover pair is down, stops; NATS goes away; the
// nameserver starts again with the same cache directory and answers the
// secondary — while one without a cache answers the failed primary.
func TestHealthCacheRestartWithoutNATS(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	ns := natstest.Run(t)
	nc, err := nats.Connect(ns.ClientURL())
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()

	startNS := func(nc *nats.Conn, cacheDir string, log *slog.Logger) (*Server, func()) {
		t.Helper()
		store := NewStore()
		for _, z := range routingZones() {
			if err := store.ReplaceZone(z); err != nil {
				t.Fatal(err)
			}
		}
		srv := NewServer(store, Config{Addr: "127.0.0.1:0", UDPWorkers: 1})
		if err := srv.Start(ctx); err != nil {
			t.Fatal(err)
		}
		stop, err := StartRouting(ctx, nc, srv.Handler(), RoutingOptions{
			CacheDir: cacheDir, Logger: log, HealthWait: 100 * time.Millisecond, RetryInterval: 50 * time.Millisecond,
		})
		if err != nil {
			t.Fatal(err)
		}
		srv.SetReady(true)
		return srv, func() { _ = srv.Shutdown(context.Background()); stop() }
	}
	answer := func(srv *Server) string {
		t.Helper()
		m := new(dns.Msg)
		m.SetQuestion("f.example.com.", dns.TypeA)
		r, err := dnstest.Exchange("udp", srv.UDPAddr().String(), m)
		if err != nil || len(r.Answer) != 1 {
			t.Fatalf("f.example.com: %v %v", r, err)
		}
		return r.Answer[0].(*dns.A).A.String()
	}

	srv, stop := startNS(nc, dir, nil)
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	kv, err := event.OpenKeyValue(ctx, js, event.HealthStatusKVConfig(1))
	if err != nil {
		t.Fatal(err)
	}
	b, _ := event.HealthStatus{CheckID: "hc-p", Healthy: false, Changed: time.Unix(1, 0)}.Encode()
	if _, err := kv.Put(ctx, "hc-p", b); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the secondary answer", func() bool { return answer(srv) == "10.0.2.2" })
	waitFor(t, "the health cache to hold hc-p down", func() bool {
		b, err := os.ReadFile(filepath.Join(dir, healthCacheFile))
		if err != nil {
			return false
		}
		m, _, err := decodeHealthCache(b)
		return err == nil && m["hc-p"] == false && len(m) == 1
	})
	stop()
	nc.Close()
	ns.Shutdown()

	// Restarted while NATS is away: a connection that never connects.
	dead, err := nats.Connect(ns.ClientURL(), nats.RetryOnFailedConnect(true), nats.MaxReconnects(-1))
	if err != nil {
		t.Fatal(err)
	}
	defer dead.Close()
	log, buf := bufferLogger()
	srv, stop = startNS(dead, dir, log)
	defer stop()
	if got := answer(srv); got != "10.0.2.2" {
		t.Errorf("restarted without NATS: answered %s, want the secondary 10.0.2.2", got)
	}
	if out := buf.String(); !strings.Contains(out, "loaded health statuses from the cache") || !strings.Contains(out, "starting with the cached statuses") {
		t.Errorf("the log does not say the cached statuses are in use:\n%s", out)
	}
	// The control: no cache, every check healthy, the failed primary.
	srv2, stop2 := startNS(dead, "", nil)
	defer stop2()
	if got := answer(srv2); got != "10.0.2.1" {
		t.Errorf("without a cache: answered %s, want 10.0.2.1 (every check healthy)", got)
	}
}
