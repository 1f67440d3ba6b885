package event

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

// FuzzDecodeZoneQueryReport checks that decoding a nameserver's query
// report never panics, that what it accepts keeps every rule the ingest
// relies on (version, node, an interval of at most a minute, bounded
// counts, no zero count), and that an accepted report survives a round
// trip unchanged.
func FuzzDecodeZoneQueryReport(f *testing.F) {
	start := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
	seed, err := ZoneQueryReport{NodeID: "ns1", Region: "us-east-1", Start: start, End: start.Add(10 * time.Second), Part: 1,
		Counts: []ZoneQueryCount{{ZoneID: "Z1", RCode: "NOERROR", Queries: 7}, {ZoneID: "Z1", RCode: "NXDOMAIN", Queries: 1}}}.Encode()
	if err != nil {
		f.Fatal(err)
	}
	f.Add(seed)
	f.Add([]byte(`{"v":1,"node_id":"n","region":"r","start":"2026-12-01T10:00:00+02:00","end":"2026-12-01T10:01:00+02:00","part":0,"counts":null}`))
	f.Add([]byte(`{"v":1,"node_id":"n","region":"r","start":"2026-12-01T10:00:00Z","end":"2026-12-01T09:00:00Z"}`))
	f.Add([]byte(`{"v":1,"node_id":"n","region":"r","start":"2026-12-01T10:00:00Z","end":"2026-12-01T10:00:00Z","counts":[{"zone_id":"Z","rcode":"NOERROR","queries":0}]}`))
	f.Add([]byte(`{"v":1,"counts":[{"queries":-1}]}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		r, err := DecodeZoneQueryReport(b)
		if err != nil {
			return
		}
		if r.V != Version || r.NodeID == "" || r.Region == "" || r.Start.IsZero() || r.End.Before(r.Start) ||
			r.End.Sub(r.Start) > time.Minute || r.Part < 0 || len(r.Counts) > MaxZoneQueryCounts ||
			r.Start.Location() != time.UTC || r.End.Location() != time.UTC {
			t.Fatalf("accepted %+v", r)
		}
		for _, c := range r.Counts {
			if c.ZoneID == "" || c.RCode == "" || len(c.RCode) > 16 || c.Queries == 0 || c.Queries > 1<<62 {
				t.Fatalf("accepted count %+v", c)
			}
		}
		again, err := r.Encode()
		if err != nil {
			t.Fatalf("encode an accepted report: %v", err)
		}
		r2, err := DecodeZoneQueryReport(again)
		if err != nil {
			t.Fatalf("re-decode %s: %v", again, err)
		}
		if r2.MsgID() != r.MsgID() || !r2.Start.Equal(r.Start) || !r2.End.Equal(r.End) ||
			!reflect.DeepEqual(nonNil(r2.Counts), nonNil(r.Counts)) {
			t.Fatalf("round trip changed the report:\n%+v\n%+v", r, r2)
		}
	})
}

func nonNil(c []ZoneQueryCount) []ZoneQueryCount {
	if c == nil {
		return []ZoneQueryCount{}
	}
	return c
}

// FuzzDecodeMessages checks the small NATS messages' decoders (heartbeats,
// secondary NOTIFYs, test answers): none panics, and whatever one accepts
// encodes and decodes again to the same message.
func FuzzDecodeMessages(f *testing.F) {
	f.Add([]byte(`{"node_id":"ns1","region":"us-east-1","applied_seq":3,"ready":true,"zones":1,"sent":"2026-12-01T10:00:00Z","serves":["ns1.example."]}`))
	f.Add([]byte(`{"v":1,"zone_id":"Z1","serial":2026120101,"from":"192.0.2.1:53","node":"ns1"}`))
	f.Add([]byte(`{"zone_id":"Z1","zone_name":"example.com.","name":"www.example.com.","type":"A","client_ip":"192.0.2.1","ecs":"198.51.100.0/24"}`))
	f.Add([]byte(`{"rcode":"NOERROR","records":[{"name":"www.example.com.","type":"A","ttl":60,"rdata":"192.0.2.1"}],"explanation":["x"],"error":"","bad_request":false}`))
	f.Add([]byte(`{"v":2,"zone_id":""}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		if h, err := DecodeHeartbeat(b); err == nil {
			roundTrip(t, h, DecodeHeartbeat, Heartbeat.Encode)
		}
		if n, err := DecodeSecondaryNotify(b); err == nil {
			if n.V != Version || n.ZoneID == "" {
				t.Fatalf("accepted %+v", n)
			}
			roundTrip(t, n, DecodeSecondaryNotify, SecondaryNotify.Encode)
		}
		if r, err := DecodeTestAnswerRequest(b); err == nil {
			roundTrip(t, r, DecodeTestAnswerRequest, TestAnswerRequest.Encode)
		}
		if r, err := DecodeTestAnswerResponse(b); err == nil {
			roundTrip(t, r, DecodeTestAnswerResponse, TestAnswerResponse.Encode)
		}
	})
}

// roundTrip fails unless v, encoded and decoded again, is accepted and
// equal to v once both pass through JSON (time zones and nil slices are
// not carried exactly).
func roundTrip[T any](t *testing.T, v T, decode func([]byte) (T, error), encode func(T) ([]byte, error)) {
	t.Helper()
	b, err := encode(v)
	if err != nil {
		t.Fatalf("encode accepted %+v: %v", v, err)
	}
	v2, err := decode(b)
	if err != nil {
		t.Fatalf("re-decode %s: %v", b, err)
	}
	b2, err := encode(v2)
	if err != nil || string(b) != string(b2) {
		t.Fatalf("round trip changed %s into %s (%v)", b, b2, err)
	}
}

// FuzzQueryLogEntryJSON checks the query log's own JSON encoder against
// encoding/json: every entry, whatever bytes its fields hold, becomes one
// valid JSON object that encoding/json reads back as it reads its own
// encoding of the entry, with the time first where QueryLogLineTime finds
// it; and QueryLogLineTime never panics on any line.
func FuzzQueryLogEntryJSON(f *testing.F) {
	f.Add(int64(1764583200123), "Z1", "www.example.com.", "A", "NOERROR", "UDP", "ns1", "us-east-1", "192.0.2.0/24", "")
	f.Add(int64(-62135596800000), "\"\\\x00\x7f", "\xff\xfe", "\u2028\u2029", "<>&", "", "\t\n", "é", "", "198.51.100.0/24")
	f.Fuzz(func(t *testing.T, ms int64, zone, name, qtype, rcode, proto, ns, region, resolver, ecs string) {
		if ms < -62135596800000 || ms > 253402300799999 { // years 1 to 9999: RFC 3339
			ms = ms % 253402300799999
			if ms < 0 {
				ms = -ms
			}
		}
		e := QueryLogEntry{Time: time.UnixMilli(ms).UTC(), HostedZoneID: zone, QueryName: name, QueryType: qtype, ResponseCode: rcode,
			Protocol: proto, Nameserver: ns, Region: region, Resolver: resolver, EDNSClientSubnet: ecs}
		line := e.AppendJSON(nil)
		if !json.Valid(line) {
			t.Fatalf("invalid JSON: %q", line)
		}
		var got, want QueryLogEntry
		if err := json.Unmarshal(line, &got); err != nil {
			t.Fatalf("unmarshal %q: %v", line, err)
		}
		std, err := json.Marshal(e)
		if err != nil {
			t.Fatal(err)
		}
		if err := json.Unmarshal(std, &want); err != nil {
			t.Fatal(err)
		}
		if !got.Time.Equal(want.Time) {
			t.Fatalf("time %v, want %v (%q)", got.Time, want.Time, line)
		}
		got.Time, want.Time = time.Time{}, time.Time{}
		if got != want {
			t.Fatalf("AppendJSON read back as\n%+v\nencoding/json as\n%+v\n(%q)", got, want, line)
		}
		ts, ok := QueryLogLineTime(line)
		if !ok || ts != e.Time.Format(QueryLogTimeLayout) {
			t.Fatalf("QueryLogLineTime(%q) = %q %v", line, ts, ok)
		}
		for _, s := range []string{zone, name, resolver} {
			_, _ = QueryLogLineTime([]byte(s))
		}
		if strings.Contains(string(line), "\n") || !utf8.Valid(line) {
			t.Fatalf("not one valid UTF-8 line: %q", line)
		}
	})
}
