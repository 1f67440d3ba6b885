package event

import (
	"errors"
	"testing"
	"time"

	"github.com/waymark-dns/waymark/healthcfg"
)

func TestHealthRoundTrip(t *testing.T) {
	t.Parallel()
	at := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	hc := HealthCheck{ID: "c1", Version: 3, Config: healthcfg.Config{Type: healthcfg.HTTPSStrMatch, IPAddress: "192.0.2.1", Port: 443, ResourcePath: "/h", SearchString: "ok", RequestInterval: 10, FailureThreshold: 3, Regions: []string{"a", "b", "c"}}}
	b, err := hc.Encode()
	if err != nil {
		t.Fatal(err)
	}
	got, err := DecodeHealthCheck(b)
	if err != nil || got.ID != "c1" || got.Version != 3 || got.SearchString != "ok" || len(got.Regions) != 3 || got.V != Version {
		t.Errorf("got %+v, %v", got, err)
	}
	o := HealthObservation{CheckID: "c1", Region: "a", NodeID: "n", OK: true, Reason: "Success", CheckedAt: at}
	b, _ = o.Encode()
	if got, err := DecodeHealthObservation(b); err != nil || !got.OK || !got.CheckedAt.Equal(at) {
		t.Errorf("got %+v, %v", got, err)
	}
	s := HealthStatus{CheckID: "c1", Healthy: true, Changed: at, Reason: "1 of 1"}
	b, _ = s.Encode()
	if got, err := DecodeHealthStatus(b); err != nil || !got.Healthy || got.Reason != "1 of 1" {
		t.Errorf("got %+v, %v", got, err)
	}
	hb := HealthCheckerHeartbeat{NodeID: "n", Region: "a", Sent: at}
	b, _ = hb.Encode()
	if got, err := DecodeHealthCheckerHeartbeat(b); err != nil || got != hb {
		t.Errorf("got %+v, %v", got, err)
	}
}

func TestHealthDecodeRejects(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		in   string
		dec  func([]byte) error
	}{
		{"check-not-json", `{`, func(b []byte) error { _, err := DecodeHealthCheck(b); return err }},
		{"check-version", `{"v":2,"id":"x","type":"TCP","port":1,"request_interval":1,"failure_threshold":1}`, func(b []byte) error { _, err := DecodeHealthCheck(b); return err }},
		{"check-no-id", `{"v":1,"type":"TCP","port":1,"request_interval":1,"failure_threshold":1}`, func(b []byte) error { _, err := DecodeHealthCheck(b); return err }},
		{"check-type", `{"v":1,"id":"x","type":"PING","port":1,"request_interval":1,"failure_threshold":1}`, func(b []byte) error { _, err := DecodeHealthCheck(b); return err }},
		{"check-interval", `{"v":1,"id":"x","type":"TCP","port":1,"request_interval":0,"failure_threshold":1}`, func(b []byte) error { _, err := DecodeHealthCheck(b); return err }},
		{"check-port", `{"v":1,"id":"x","type":"HTTP","port":70000,"request_interval":1,"failure_threshold":1}`, func(b []byte) error { _, err := DecodeHealthCheck(b); return err }},
		{"observation-no-region", `{"v":1,"check_id":"x","checked_at":"2026-01-01T00:00:00Z"}`, func(b []byte) error { _, err := DecodeHealthObservation(b); return err }},
		{"observation-no-time", `{"v":1,"check_id":"x","region":"a"}`, func(b []byte) error { _, err := DecodeHealthObservation(b); return err }},
		{"observation-negative-connect", `{"v":1,"check_id":"x","region":"a","checked_at":"2026-01-01T00:00:00Z","connect_ms":-1}`, func(b []byte) error { _, err := DecodeHealthObservation(b); return err }},
		{"observation-huge-ttfb", `{"v":1,"check_id":"x","region":"a","checked_at":"2026-01-01T00:00:00Z","ttfb_ms":1e300}`, func(b []byte) error { _, err := DecodeHealthObservation(b); return err }},
		{"status-no-id", `{"v":1,"healthy":true}`, func(b []byte) error { _, err := DecodeHealthStatus(b); return err }},
		{"heartbeat-no-region", `{"node_id":"n"}`, func(b []byte) error { _, err := DecodeHealthCheckerHeartbeat(b); return err }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if err := tc.dec([]byte(tc.in)); !errors.Is(err, ErrBadHealthEvent) {
				t.Errorf("got %v, want ErrBadHealthEvent", err)
			}
		})
	}
	// A calculated check needs no port, interval or threshold.
	if _, err := DecodeHealthCheck([]byte(`{"v":1,"id":"x","type":"CALCULATED","child_health_checks":["a"]}`)); err != nil {
		t.Errorf("calculated: %v", err)
	}
}

func TestHealthCheckProbedIn(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		hc     HealthCheck
		region string
		want   bool
	}{
		{HealthCheck{Config: healthcfg.Config{Type: healthcfg.HTTP}}, "x", true},
		{HealthCheck{Config: healthcfg.Config{Type: healthcfg.HTTP, Regions: []string{"a", "b", "c"}}}, "b", true},
		{HealthCheck{Config: healthcfg.Config{Type: healthcfg.HTTP, Regions: []string{"a", "b", "c"}}}, "x", false},
		{HealthCheck{Config: healthcfg.Config{Type: healthcfg.HTTP, Disabled: true}}, "x", false},
		{HealthCheck{Config: healthcfg.Config{Type: healthcfg.Calculated}}, "x", false},
	} {
		if got := tc.hc.ProbedIn(tc.region); got != tc.want {
			t.Errorf("%+v in %s: got %v, want %v", tc.hc, tc.region, got, tc.want)
		}
	}
}

// FuzzDecodeHealth feeds arbitrary bytes to every health decoder: they
// may fail but never panic, and what they accept re-encodes.
func FuzzDecodeHealth(f *testing.F) {
	f.Add([]byte(`{"v":1,"id":"x","type":"TCP","port":1,"request_interval":1,"failure_threshold":1}`))
	f.Add([]byte(`{"v":1,"check_id":"x","region":"a","ok":true,"checked_at":"2026-01-01T00:00:00Z"}`))
	f.Add([]byte(`{"v":1,"check_id":"x","healthy":false}`))
	f.Add([]byte(`{"v":1,"check_id":"x","region":"a","ok":true,"checked_at":"2026-01-01T00:00:00Z","connect_ms":1.5,"ttfb_ms":3}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		if hc, err := DecodeHealthCheck(b); err == nil {
			if _, err := hc.Encode(); err != nil {
				t.Fatal(err)
			}
		}
		if o, err := DecodeHealthObservation(b); err == nil {
			if _, err := o.Encode(); err != nil {
				t.Fatal(err)
			}
			if badMS(o.ConnectMS) || badMS(o.FirstByteMS) {
				t.Fatalf("accepted probe times %v %v", o.ConnectMS, o.FirstByteMS)
			}
		}
		_, _ = DecodeHealthStatus(b)
		_, _ = DecodeHealthCheckerHeartbeat(b)
	})
}
