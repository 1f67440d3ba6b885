package event

import (
	"encoding/json"
	"strings"
	"testing"
	"time"
)

// AppendJSON writes what encoding/json reads back, with the time first in
// the fixed layout QueryLogLineTime finds.
func TestQueryLogEntryJSON(t *testing.T) {
	t.Parallel()
	for _, e := range []QueryLogEntry{
		{Time: time.Date(2026, 12, 2, 18, 30, 0, 123456789, time.UTC), HostedZoneID: "Z1", QueryName: "www.example.com.",
			QueryType: "A", ResponseCode: "NOERROR", Protocol: "UDP", Nameserver: "ns-1", Region: "eu-west-1",
			Resolver: "192.0.2.0/24", EDNSClientSubnet: "198.51.100.0/24"},
		{Time: time.Date(2026, 1, 2, 3, 4, 5, 0, time.FixedZone("x", 3600)), HostedZoneID: "Z2", QueryName: `a\"b\\c\000.example.`,
			QueryType: "TYPE65534", ResponseCode: "NXDOMAIN", Protocol: "TCP", Nameserver: "nöde\t\x01\xff", Region: "", Resolver: "2001:db8::/48"},
	} {
		line := e.AppendJSON(nil)
		var got QueryLogEntry
		if err := json.Unmarshal(line, &got); err != nil {
			t.Fatalf("%s: %v", line, err)
		}
		want := e
		want.Time = e.Time.UTC().Truncate(time.Millisecond)
		want.Nameserver = strings.ToValidUTF8(e.Nameserver, "\uFFFD")
		if got != want {
			t.Errorf("%s:\n got %+v\nwant %+v", line, got, want)
		}
		at, ok := QueryLogLineTime(line)
		if !ok || at != want.Time.Format(QueryLogTimeLayout) {
			t.Errorf("%s: line time %q %v", line, at, ok)
		}
	}
	if _, ok := QueryLogLineTime([]byte(`{"time":"2026"}`)); ok {
		t.Error("QueryLogLineTime accepted a short time")
	}
}
