package controlplane

import (
	"encoding/json"
	"reflect"
	"testing"

	"github.com/waymark-dns/waymark/event"
)

func TestRawZoneAppendJSON(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		z    rawZone
	}{
		{"empty", rawZone{ID: "Z1", Name: "a.test.", TenantID: "T1", Version: 1, RRSets: []rawRRSet{}}},
		{"records", rawZone{ID: "Z1", Name: "a.test.", TenantID: "T1", Version: 42, RRSets: []rawRRSet{
			{Name: "a.test.", Type: "A", TTL: 60, Records: json.RawMessage(`["192.0.2.1", "192.0.2.2"]`)},
			{Name: "w.a.test.", Type: "TXT", SetIdentifier: "eu <&> \"x\"", TTL: 4294967295,
				Records: json.RawMessage(`["\"v=spf1 -all\"", "\"caf\\u00e9\""]`)},
		}}},
		{"escaped names", rawZone{ID: "Z\"2", Name: "a\\032b.test.", TenantID: "T\u00e9\n", Version: 3, RRSets: []rawRRSet{
			{Name: "\\\\.a\\032b.test.", Type: "A", TTL: 0, Records: json.RawMessage(`[]`)},
		}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := tc.z.appendJSON(nil)
			var a, b event.ZoneState
			if err := json.Unmarshal(got, &a); err != nil {
				t.Fatalf("appendJSON wrote invalid JSON %s: %v", got, err)
			}
			want, _ := json.Marshal(tc.z)
			if err := json.Unmarshal(want, &b); err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(a, b) {
				t.Fatalf("got %+v, want %+v", a, b)
			}
		})
	}
}
