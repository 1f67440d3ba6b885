package controlplane

import (
	"encoding/json"
	"reflect"
	"testing"

	"github.com/waymark-dns/waymark/event"
	"github.com/waymark-dns/waymark/zonecfg"
)

func TestRawZoneAppendJSON(t *testing.T) {
	t.Parallel()
	weight := uint8(10)
	for _, tc := range []struct {
		name string
		z    rawZone
		want event.ZoneState
	}{
		{"empty",
			rawZone{ID: "Z1", Name: "a.test.", TenantID: "T1", Version: 1, RRSets: []rawRRSet{}},
			event.ZoneState{ID: "Z1", Name: "a.test.", TenantID: "T1", Version: 1, RRSets: []zonecfg.RRSet{}}},
		{"records",
			rawZone{ID: "Z1", Name: "a.test.", TenantID: "T1", Version: 42, RRSets: []rawRRSet{
				{Name: "a.test.", Type: "A", TTL: 60, Records: json.RawMessage(`["192.0.2.1", "192.0.2.2"]`)},
				{Name: "w.a.test.", Type: "TXT", SetIdentifier: "eu <&> \"x\"", TTL: 4294967295,
					Records: json.RawMessage(`["\"v=spf1 -all\"", "\"caf\u00e9\""]`)},
			}},
			event.ZoneState{ID: "Z1", Name: "a.test.", TenantID: "T1", Version: 42, RRSets: []zonecfg.RRSet{
				{Name: "a.test.", Type: "A", TTL: 60, Records: []string{"192.0.2.1", "192.0.2.2"}},
				{Name: "w.a.test.", Type: "TXT", SetIdentifier: "eu <&> \"x\"", TTL: 4294967295,
					Records: []string{`"v=spf1 -all"`, `"café"`}},
			}}},
		{"escaped names",
			rawZone{ID: "Z\"2", Name: "a\\032b.test.", TenantID: "T\u00e9\n", Version: 3, RRSets: []rawRRSet{
				{Name: "\\\\.a\\032b.test.", Type: "A", TTL: 0, Records: json.RawMessage(`[]`)},
			}},
			event.ZoneState{ID: "Z\"2", Name: "a\\032b.test.", TenantID: "T\u00e9\n", Version: 3, RRSets: []zonecfg.RRSet{
				{Name: "\\\\.a\\032b.test.", Type: "A", TTL: 0, Records: []string{}},
			}}},
		{"routing, alias and health check",
			rawZone{ID: "Z3", Name: "r.test.", TenantID: "T1", Version: 2, RRSets: []rawRRSet{
				{Name: "w.r.test.", Type: "A", SetIdentifier: "one", TTL: 60, Records: json.RawMessage(`["192.0.2.1"]`),
					Routing: json.RawMessage(` {"weight": 10, "region": "eu-west-1"} `), HealthCheckID: "H1"},
				{Name: "r.test.", Type: "A", TTL: 0, Records: json.RawMessage(`[]`),
					Alias: json.RawMessage(`{"hosted_zone_id": "Z3", "dns_name": "w.r.test.", "evaluate_target_health": true}`), Routing: json.RawMessage(`{}`)},
			}},
			event.ZoneState{ID: "Z3", Name: "r.test.", TenantID: "T1", Version: 2, RRSets: []zonecfg.RRSet{
				{Name: "w.r.test.", Type: "A", SetIdentifier: "one", TTL: 60, Records: []string{"192.0.2.1"}, Routing: zonecfg.Routing{Weight: &weight, Region: "eu-west-1", HealthCheckID: "H1"}},
				{Name: "r.test.", Type: "A", TTL: 0, Records: []string{}, Routing: zonecfg.Routing{Alias: &zonecfg.AliasTarget{HostedZoneID: "Z3", DNSName: "w.r.test.", EvaluateTargetHealth: true}}},
			}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b := tc.z.appendJSON(nil)
			var got event.ZoneState
			if err := json.Unmarshal(b, &got); err != nil {
				t.Fatalf("appendJSON wrote invalid JSON %s: %v", b, err)
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Fatalf("got %+v, want %+v (JSON %s)", got, tc.want, b)
			}
		})
	}
}
