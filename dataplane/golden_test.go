package dataplane

import (
	"bytes"
	"flag"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/miekg/dns"

	"github.com/waymark-dns/waymark/event"
	"github.com/waymark-dns/waymark/internal/dnstest"
)

var update = flag.Bool("update", false, "rewrite golden files")

// testZoneVersion is the version the test zones are loaded at: every SOA
// serial in the goldens must read 7.
const testZoneVersion = 7

// testZones loads testdata/<origin>.zone files as zone states.
func testZones(t testing.TB) []event.ZoneState {
	t.Helper()
	files, err := filepath.Glob("testdata/*.zone")
	if err != nil || len(files) == 0 {
		t.Fatalf("no test zones: %v", err)
	}
	var out []event.ZoneState
	for _, f := range files {
		origin := strings.TrimSuffix(filepath.Base(f), "zone")
		r, err := os.Open(f)
		if err != nil {
			t.Fatal(err)
		}
		sets, err := dnstest.ReadZone(r, origin)
		_ = r.Close()
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, event.ZoneState{
			ID: "Z" + strings.ToUpper(strings.ReplaceAll(origin, ".", "")), Name: origin,
			TenantID: "T1", Version: testZoneVersion, RRSets: sets,
		})
	}
	return out
}

// testStore returns a store holding the test zones.
func testStore(t testing.TB) *Store {
	t.Helper()
	s := NewStore()
	for _, z := range testZones(t) {
		if err := s.ReplaceZone(z); err != nil {
			t.Fatalf("ReplaceZone(%s): %v", z.Name, err)
		}
	}
	return s
}

// goldenHandlers returns handlers over store: the normal one, one forced
// through the general path, and a not-ready pair.
type goldenHandlers struct {
	fast, slow, notReady, notReadySlow *Handler
}

func newGoldenHandlers(store *Store) goldenHandlers {
	g := goldenHandlers{NewHandler(store), NewHandler(store), NewHandler(store), NewHandler(store)}
	g.fast.SetReady(true)
	g.slow.SetReady(true)
	g.slow.noFast, g.notReadySlow.noFast = true, true
	return g
}

var testClient = netip.MustParseAddr("192.0.2.200")

// TestGolden runs every case of testdata/answers.golden through the
// handler three ways — ServeWire with the fast path, ServeWire forced
// through miekg's parser, ServeDNS with a recorder — requires the three
// responses to be byte-identical, and compares the response with the
// golden text.
func TestGolden(t *testing.T) {
	const path = "testdata/answers.golden"
	header, cases, err := dnstest.ReadCases(path)
	if err != nil {
		t.Fatal(err)
	}
	if len(cases) < 60 {
		t.Errorf("got %d golden cases, want at least 60", len(cases))
	}
	g := newGoldenHandlers(testStore(t))
	fastHits := 0
	for i, c := range cases {
		q, err := dnstest.ParseQuery(c.Query)
		if err != nil {
			t.Fatalf("%s: %v", c.Name, err)
		}
		wire, err := q.Wire()
		if err != nil {
			t.Fatalf("%s: pack query: %v", c.Name, err)
		}
		fast, slow := g.fast, g.slow
		if slices.Contains(q.Flags, "notready") {
			fast, slow = g.notReady, g.notReadySlow
		}
		got := fast.ServeWire(nil, wire, testClient, q.TCP)
		gotSlow := slow.ServeWire(nil, wire, testClient, q.TCP)
		if !bytes.Equal(got, gotSlow) {
			t.Errorf("%s: fast and general paths differ:\nfast %x\nslow %x", c.Name, got, gotSlow)
		}
		var req request
		var lbuf [maxNameWire + 1]byte
		if parseFast(wire, &req, &lbuf) {
			fastHits++
		}
		// ServeDNS sees only what miekg parsed: it cannot tell a header
		// that counts records the message does not hold.
		if parsed := new(dns.Msg); sectionsExact(wire) && parsed.Unpack(wire) == nil {
			rec := dnstest.NewRecorder(q.TCP)
			fast.ServeDNS(rec, parsed)
			if rec.Writes == 0 && got != nil || rec.Writes > 0 && !bytes.Equal(rec.Wire, got) {
				t.Errorf("%s: ServeDNS and ServeWire differ:\nServeDNS  %x\nServeWire %x", c.Name, rec.Wire, got)
			}
		}
		var m *dns.Msg
		if got != nil {
			m = new(dns.Msg)
			if err := m.Unpack(got); err != nil {
				t.Errorf("%s: response does not parse: %v\n%x", c.Name, err, got)
				continue
			}
			if limit := queryLimit(q); len(got) > limit {
				t.Errorf("%s: response of %d bytes exceeds the client's limit %d", c.Name, len(got), limit)
			}
		}
		text := dnstest.Format(m)
		if *update {
			cases[i].Want = text
			continue
		}
		if text != c.Want {
			t.Errorf("%s: %s\ngot:\n%swant:\n%s", c.Name, c.Query, text, c.Want)
		}
	}
	if fastHits < len(cases)/2 {
		t.Errorf("only %d of %d cases took the fast path", fastHits, len(cases))
	}
	if *update {
		if err := dnstest.WriteCases(path, header, cases); err != nil {
			t.Fatal(err)
		}
	}
}

// queryLimit is the response size the client of q accepts.
func queryLimit(q dnstest.Query) int {
	if q.TCP {
		return dns.MaxMsgSize
	}
	if q.Msg != nil {
		if o := q.Msg.IsEdns0(); o != nil {
			return int(max(o.UDPSize(), 512))
		}
	}
	return 512
}
