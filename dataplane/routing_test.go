package dataplane

import (
	"bytes"
	"math/rand/v2"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/maxmind/mmdbwriter"
	"github.com/maxmind/mmdbwriter/mmdbtype"
	"github.com/miekg/dns"

	"github.com/waymark-dns/waymark/event"
	"github.com/waymark-dns/waymark/zonecfg"
)

// geoNet is one network of the test GeoIP database.
type geoNet struct {
	cidr                  string
	continent, country    string
	subdivision           string
	lat, lon              float64
	coords                bool
	registeredCountryOnly bool
}

// testGeoNets are the clients the routing tests use. Documentation and
// shared address space (RFC 5737, 6598, 3849) stand in for real networks.
var testGeoNets = []geoNet{
	{cidr: "192.0.2.0/24", continent: "NA", country: "US", subdivision: "CA", lat: 37.77, lon: -122.42, coords: true}, // San Francisco
	{cidr: "100.64.0.0/16", continent: "NA", country: "US", subdivision: "NY", lat: 40.71, lon: -74.0, coords: true},  // New York
	{cidr: "198.51.100.0/24", continent: "EU", country: "DE", lat: 50.11, lon: 8.68, coords: true},                    // Frankfurt
	{cidr: "100.65.0.0/16", continent: "EU", country: "FR", lat: 48.86, lon: 2.35, coords: true},                      // Paris
	{cidr: "203.0.113.0/24", continent: "OC", country: "AU", lat: -33.87, lon: 151.21, coords: true},                  // Sydney
	{cidr: "2001:db8::/32", continent: "AS", country: "JP", lat: 35.68, lon: 139.69, coords: true},                    // Tokyo
	{cidr: "100.67.0.0/16", continent: "EU", country: "GB"},                                                           // a Country edition: no coordinates
	{cidr: "100.68.0.0/16", continent: "AS", country: "TR", lat: 39.93, lon: 32.86, coords: true},                     // Ankara: Route 53 puts TR in Europe
	{cidr: "100.69.0.0/16", continent: "EU", country: "NL", lat: 52.37, lon: 4.9, coords: true, registeredCountryOnly: true},
}

// buildGeoDB writes a small GeoIP2-City-format database.
func buildGeoDB(t testing.TB) []byte {
	t.Helper()
	tree, err := mmdbwriter.New(mmdbwriter.Options{DatabaseType: "GeoIP2-City", IncludeReservedNetworks: true, RecordSize: 28})
	if err != nil {
		t.Fatal(err)
	}
	for _, g := range testGeoNets {
		_, n, err := net.ParseCIDR(g.cidr)
		if err != nil {
			t.Fatal(err)
		}
		rec := mmdbtype.Map{"continent": mmdbtype.Map{"code": mmdbtype.String(g.continent)}}
		country := mmdbtype.Map{"iso_code": mmdbtype.String(g.country)}
		if g.registeredCountryOnly {
			rec["registered_country"] = country
		} else {
			rec["country"] = country
		}
		if g.subdivision != "" {
			rec["subdivisions"] = mmdbtype.Slice{mmdbtype.Map{"iso_code": mmdbtype.String(g.subdivision)}}
		}
		if g.coords {
			rec["location"] = mmdbtype.Map{"latitude": mmdbtype.Float64(g.lat), "longitude": mmdbtype.Float64(g.lon)}
		}
		if err := tree.Insert(n, rec); err != nil {
			t.Fatal(err)
		}
	}
	var buf bytes.Buffer
	if _, err := tree.WriteTo(&buf); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// testGeoDB opens the test database from a file, as --geoip-db does.
func testGeoDB(t testing.TB) *GeoDB {
	t.Helper()
	path := filepath.Join(t.TempDir(), "test-city.mmdb")
	if err := os.WriteFile(path, buildGeoDB(t), 0o600); err != nil {
		t.Fatal(err)
	}
	db, err := OpenGeoDB(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = db.Close() })
	return db
}

func u8(v uint8) *uint8 { return &v }

// rr makes a record set with TTL 60.
func rr(name, typ, id string, records ...string) zonecfg.RRSet {
	return zonecfg.RRSet{Name: name, Type: typ, SetIdentifier: id, TTL: 60, Records: records}
}

func weighted(rs zonecfg.RRSet, w uint8, hc string) zonecfg.RRSet {
	rs.Weight, rs.HealthCheckID = u8(w), hc
	return rs
}

func withHC(rs zonecfg.RRSet, hc string) zonecfg.RRSet { rs.HealthCheckID = hc; return rs }

func geo(rs zonecfg.RRSet, g zonecfg.GeoLocation) zonecfg.RRSet { rs.Geo = &g; return rs }

func alias(name, typ, id, zoneID, target string, eth bool) zonecfg.RRSet {
	return zonecfg.RRSet{Name: name, Type: typ, SetIdentifier: id, Routing: zonecfg.Routing{Alias: &zonecfg.AliasTarget{HostedZoneID: zoneID, DNSName: target, EvaluateTargetHealth: eth}}}
}

func apexSets(origin string) []zonecfg.RRSet {
	return []zonecfg.RRSet{
		{Name: origin, Type: "SOA", TTL: 900, Records: []string{"ns1." + origin + " hostmaster." + origin + " 1 7200 900 1209600 300"}},
		{Name: origin, Type: "NS", TTL: 172800, Records: []string{"ns1." + origin}},
	}
}

// routingZones is the test data: every policy, fallbacks, aliases within a
// zone, across zones of one tenant and (refused) across tenants.
func routingZones() []event.ZoneState {
	const o = "example.com."
	z1 := apexSets(o)
	add := func(rs ...zonecfg.RRSet) { z1 = append(z1, rs...) }
	// Weighted.
	add(weighted(rr("w."+o, "A", "w1", "10.0.1.1"), 1, "hc-w1"),
		weighted(rr("w."+o, "A", "w3", "10.0.1.3"), 3, "hc-w3"),
		weighted(rr("w."+o, "A", "w0", "10.0.1.0"), 0, "hc-w0"))
	add(weighted(rr("wz."+o, "A", "a", "10.0.11.1"), 0, ""), weighted(rr("wz."+o, "A", "b", "10.0.11.2"), 0, ""))
	// Failover.
	p := withHC(rr("f."+o, "A", "p", "10.0.2.1"), "hc-p")
	p.Failover = zonecfg.FailoverPrimary
	s := withHC(rr("f."+o, "A", "s", "10.0.2.2"), "hc-s")
	s.Failover = zonecfg.FailoverSecondary
	add(p, s)
	// Geolocation.
	add(geo(rr("g."+o, "A", "us-ca", "10.0.3.1"), zonecfg.GeoLocation{CountryCode: "US", SubdivisionCode: "CA"}),
		geo(rr("g."+o, "A", "us", "10.0.3.2"), zonecfg.GeoLocation{CountryCode: "US"}),
		geo(rr("g."+o, "A", "eu", "10.0.3.3"), zonecfg.GeoLocation{ContinentCode: "EU"}),
		geo(withHC(rr("g."+o, "A", "de", "10.0.3.4"), "hc-de"), zonecfg.GeoLocation{CountryCode: "DE"}),
		geo(rr("g."+o, "A", "def", "10.0.3.9"), zonecfg.GeoLocation{CountryCode: "*"}))
	add(geo(withHC(rr("gnd."+o, "A", "de", "10.0.4.1"), "hc-gnd"), zonecfg.GeoLocation{CountryCode: "DE"}))
	// Latency.
	lat := func(id, region, v, hc string) zonecfg.RRSet {
		rs := withHC(rr("l."+o, "A", id, v), hc)
		rs.Region = region
		return rs
	}
	add(lat("usw", "us-west-1", "10.0.5.1", "hc-usw"), lat("euc", "eu-central-1", "10.0.5.2", "hc-euc"),
		lat("syd", "ap-southeast-2", "10.0.5.3", "hc-syd"), lat("tok", "ap-northeast-1", "10.0.5.4", "hc-tok"))
	// Multivalue answer: twelve records, each with its own check.
	for i := 1; i <= 12; i++ {
		rs := withHC(rr("m."+o, "A", "m"+string(rune('a'+i-1)), "10.0.6."+itoa(i)), "hc-m"+itoa(i))
		rs.MultiValue = true
		add(rs)
	}
	// IP-based.
	cidr := func(name, id, loc, v, hc string) zonecfg.RRSet {
		rs := withHC(rr(name, "A", id, v), hc)
		rs.CIDR = &zonecfg.CIDRRouting{CollectionID: "col1", LocationName: loc}
		return rs
	}
	add(cidr("c."+o, "office", "office", "10.0.7.1", ""), cidr("c."+o, "lab", "lab", "10.0.7.2", "hc-lab"),
		cidr("c."+o, "star", "*", "10.0.7.9", ""))
	add(cidr("cnd."+o, "office", "office", "10.0.7.1", ""))
	// Aliases: at the apex to a weighted group; across zones of the tenant
	// (to a simple and to a geolocation group); across tenants (refused).
	add(alias(o, "A", "", "Z1", "w."+o, false))
	add(alias("a2."+o, "A", "", "Z2", "www.example.net.", false))
	add(alias("a3."+o, "A", "", "Z3", "www.other.org.", false))
	add(alias("ag."+o, "A", "", "Z2", "geo.example.net.", false))
	add(alias("loop1."+o, "A", "", "Z1", "loop2."+o, false), alias("loop2."+o, "A", "", "Z1", "loop1."+o, false))
	// Failover whose primary is an alias to a checked group: with
	// evaluate_target_health it fails over, without it it does not.
	add(weighted(rr("ft."+o, "A", "t", "10.0.8.1"), 1, "hc-ft"))
	for _, v := range []struct {
		name string
		eth  bool
	}{{"fa." + o, true}, {"fb." + o, false}} {
		pa := alias(v.name, "A", "p", "Z1", "ft."+o, v.eth)
		pa.Failover = zonecfg.FailoverPrimary
		sa := rr(v.name, "A", "s", "10.0.8.2")
		sa.Failover = zonecfg.FailoverSecondary
		add(pa, sa)
	}
	// A weighted CNAME (weight 0 never chosen) and a simple record with a
	// check, which has no effect.
	add(weighted(rr("wc."+o, "CNAME", "c1", "t1."+o), 1, ""), weighted(rr("wc."+o, "CNAME", "c2", "t2."+o), 0, ""))
	add(rr("t1."+o, "A", "", "10.0.9.1"), rr("t2."+o, "A", "", "10.0.9.2"))
	add(withHC(rr("s."+o, "A", "", "10.0.10.1"), "hc-s1"))
	add(rr("mx."+o, "MX", "", "10 w."+o, "20 a2."+o, "30 t1."+o))
	// A routed wildcard: synthesis answers under the query name.
	add(geo(rr("*.wild."+o, "A", "us", "10.0.12.1"), zonecfg.GeoLocation{CountryCode: "US"}),
		geo(rr("*.wild."+o, "A", "def", "10.0.12.9"), zonecfg.GeoLocation{CountryCode: "*"}))

	z2 := append(apexSets("example.net."), rr("www.example.net.", "A", "", "10.1.1.1"),
		geo(rr("geo.example.net.", "A", "us", "10.1.0.1"), zonecfg.GeoLocation{CountryCode: "US"}),
		geo(rr("geo.example.net.", "A", "def", "10.1.0.9"), zonecfg.GeoLocation{CountryCode: "*"}))
	z3 := append(apexSets("other.org."), rr("www.other.org.", "A", "", "10.2.2.2"))
	return []event.ZoneState{
		{ID: "Z1", Name: o, TenantID: "t1", Version: 1, RRSets: z1, CIDRCollections: []event.CIDRCollection{{
			ID: "col1", Name: "offices", Version: 1, Locations: map[string][]netip.Prefix{
				"office": {netip.MustParsePrefix("192.0.2.0/24")},
				"lab":    {netip.MustParsePrefix("192.0.2.128/25"), netip.MustParsePrefix("2001:db8:1::/48")},
			}}}},
		{ID: "Z2", Name: "example.net.", TenantID: "t1", Version: 1, RRSets: z2},
		{ID: "Z3", Name: "other.org.", TenantID: "t2", Version: 1, RRSets: z3},
	}
}

func itoa(i int) string { return strconv.Itoa(i) }

// routingHandler is a ready handler over routingZones.
func routingHandler(t testing.TB, rt Routing) *Handler {
	t.Helper()
	s := NewStore()
	for _, z := range routingZones() {
		if err := s.ReplaceZone(z); err != nil {
			t.Fatalf("zone %s: %v", z.Name, err)
		}
	}
	h := NewHandler(s)
	h.SetReady(true)
	h.SetRouting(rt)
	return h
}

// query builds a query, with an ECS option when ecs is not empty.
func query(name string, qtype uint16, ecs string) *dns.Msg {
	m := new(dns.Msg)
	m.SetQuestion(name, qtype)
	if ecs != "" {
		p := netip.MustParsePrefix(ecs)
		o := &dns.EDNS0_SUBNET{Code: dns.EDNS0SUBNET, Family: 1, SourceNetmask: uint8(p.Bits()), Address: net.IP(p.Addr().AsSlice())}
		if p.Addr().Is6() {
			o.Family = 2
		}
		m.SetEdns0(1232, false)
		opt := m.IsEdns0()
		opt.Option = append(opt.Option, o)
	}
	return m
}

// askR sends a query through ServeWire from address from.
func askR(t testing.TB, h *Handler, m *dns.Msg, from string) *dns.Msg {
	t.Helper()
	b, err := m.Pack()
	if err != nil {
		t.Fatal(err)
	}
	out := h.ServeWire(nil, b, netip.MustParseAddr(from), false)
	r := new(dns.Msg)
	if err := r.Unpack(out); err != nil {
		t.Fatalf("unpack response: %v", err)
	}
	return r
}

// answers lists the answer section compactly: "10.0.1.1" for A records,
// "cname:target" for CNAMEs, sorted.
func answers(m *dns.Msg) []string {
	var out []string
	for _, a := range m.Answer {
		switch a := a.(type) {
		case *dns.A:
			out = append(out, a.A.String())
		case *dns.CNAME:
			out = append(out, "cname:"+a.Target)
		default:
			out = append(out, a.String())
		}
	}
	slices.Sort(out)
	return out
}

// ecsScope returns the scope of the response's ECS option, or -1.
func ecsScope(m *dns.Msg) int {
	if o := m.IsEdns0(); o != nil {
		for _, e := range o.Option {
			if s, ok := e.(*dns.EDNS0_SUBNET); ok {
				return int(s.SourceScope)
			}
		}
	}
	return -1
}

// TestRoutingPolicies covers every policy and each of its fallbacks.
func TestRoutingPolicies(t *testing.T) {
	t.Parallel()
	db := testGeoDB(t)
	const unknown = "10.9.9.9" // not in the GeoIP database
	cases := []struct {
		name   string
		q      string
		qtype  uint16
		from   string
		ecs    string
		down   []string // failing health checks
		region string   // Routing.Region
		want   []string // nil: NODATA
		rcode  int
		scope  int // -1: no ECS option expected
	}{
		// Weighted: the only healthy non-zero weight; zero weights only
		// when every non-zero one is down; all down = all healthy.
		{name: "weighted w3 down", q: "w", down: []string{"hc-w3"}, want: []string{"10.0.1.1"}, scope: -1},
		// Failover.
		{name: "failover primary", q: "f", want: []string{"10.0.2.1"}, scope: -1},
		{name: "failover secondary", q: "f", down: []string{"hc-p"}, want: []string{"10.0.2.2"}, scope: -1},
		{name: "failover both down", q: "f", down: []string{"hc-p", "hc-s"}, want: []string{"10.0.2.1"}, scope: -1},
		// Geolocation: most specific first, widening past unhealthy.
		{name: "geo subdivision", q: "g", from: "192.0.2.1", want: []string{"10.0.3.1"}, scope: -1},
		{name: "geo country", q: "g", from: "100.64.1.1", want: []string{"10.0.3.2"}, scope: -1},
		{name: "geo country DE", q: "g", from: "198.51.100.7", want: []string{"10.0.3.4"}, scope: -1},
		{name: "geo DE down widens to continent", q: "g", from: "198.51.100.7", down: []string{"hc-de"}, want: []string{"10.0.3.3"}, scope: -1},
		{name: "geo continent", q: "g", from: "100.65.0.1", want: []string{"10.0.3.3"}, scope: -1},
		{name: "geo TR is Europe", q: "g", from: "100.68.0.1", want: []string{"10.0.3.3"}, scope: -1},
		{name: "geo registered country", q: "g", from: "100.69.0.1", want: []string{"10.0.3.3"}, scope: -1},
		{name: "geo default", q: "g", from: "203.0.113.5", want: []string{"10.0.3.9"}, scope: -1},
		{name: "geo unknown address", q: "g", from: unknown, want: []string{"10.0.3.9"}, scope: -1},
		{name: "geo ECS wins over source", q: "g", from: "203.0.113.5", ecs: "192.0.2.0/24", want: []string{"10.0.3.1"}, scope: 24},
		{name: "geo ECS scope bounded by database network", q: "g", from: unknown, ecs: "100.64.1.0/24", want: []string{"10.0.3.2"}, scope: 16},
		{name: "geo ECS v6 (JP: default)", q: "g", from: unknown, ecs: "2001:db8:5::/48", want: []string{"10.0.3.9"}, scope: 32},
		{name: "geo no match no default: NODATA", q: "gnd", from: "192.0.2.1", want: nil, scope: -1},
		{name: "geo only match down: answered", q: "gnd", from: "198.51.100.1", down: []string{"hc-gnd"}, want: []string{"10.0.4.1"}, scope: -1},
		// Latency.
		{name: "latency nearest", q: "l", from: "192.0.2.1", want: []string{"10.0.5.1"}, scope: -1},
		{name: "latency Frankfurt", q: "l", from: "198.51.100.1", want: []string{"10.0.5.2"}, scope: -1},
		{name: "latency Tokyo v6", q: "l", from: "2001:db8::1", want: []string{"10.0.5.4"}, scope: -1},
		{name: "latency nearest down: next nearest", q: "l", from: "203.0.113.1", down: []string{"hc-syd"}, want: []string{"10.0.5.4"}, scope: -1},
		{name: "latency no coordinates: continent centre", q: "l", from: "100.67.0.1", want: []string{"10.0.5.2"}, scope: -1},
		{name: "latency unknown: first", q: "l", from: unknown, want: []string{"10.0.5.2"}, scope: -1},
		{name: "latency unknown: nameserver region", q: "l", from: unknown, region: "ap-southeast-2", want: []string{"10.0.5.3"}, scope: -1},
		{name: "latency two down: nearest healthy", q: "l", from: "198.51.100.1", down: []string{"hc-euc", "hc-syd"}, want: []string{"10.0.5.1"}, scope: -1},
		{name: "latency all down: nearest", q: "l", from: "198.51.100.1", down: []string{"hc-euc", "hc-syd", "hc-usw", "hc-tok"}, want: []string{"10.0.5.2"}, scope: -1},
		// IP-based.
		{name: "cidr office", q: "c", from: "192.0.2.1", want: []string{"10.0.7.1"}, scope: -1},
		{name: "cidr longest prefix", q: "c", from: "192.0.2.200", want: []string{"10.0.7.2"}, scope: -1},
		{name: "cidr v6 block", q: "c", from: "2001:db8:1::5", want: []string{"10.0.7.2"}, scope: -1},
		{name: "cidr location down: default", q: "c", from: "192.0.2.200", down: []string{"hc-lab"}, want: []string{"10.0.7.9"}, scope: -1},
		{name: "cidr no match: default", q: "c", from: unknown, want: []string{"10.0.7.9"}, scope: -1},
		{name: "cidr ECS shorter than block", q: "c", from: unknown, ecs: "192.0.2.0/24", want: []string{"10.0.7.1"}, scope: 24},
		{name: "cidr ECS longer block", q: "c", from: unknown, ecs: "192.0.2.128/25", want: []string{"10.0.7.2"}, scope: 25},
		{name: "cidr ECS too short for any block", q: "c", from: "192.0.2.1", ecs: "192.0.0.0/16", want: []string{"10.0.7.9"}, scope: 16},
		{name: "cidr no match no default: NODATA", q: "cnd", from: unknown, want: nil, scope: -1},
		// Aliases.
		{name: "apex alias to weighted", q: "", down: []string{"hc-w3"}, want: []string{"10.0.1.1"}, scope: -1},
		{name: "alias across zones", q: "a2", want: []string{"10.1.1.1"}, scope: -1},
		{name: "alias across tenants: NODATA", q: "a3", want: nil, scope: -1},
		{name: "alias to geo across zones", q: "ag", from: unknown, ecs: "192.0.2.0/24", want: []string{"10.1.0.1"}, scope: 24},
		{name: "alias to geo default", q: "ag", from: unknown, want: []string{"10.1.0.9"}, scope: -1},
		{name: "alias loop: NODATA", q: "loop1", want: nil, scope: -1},
		{name: "failover alias ETH healthy", q: "fa", want: []string{"10.0.8.1"}, scope: -1},
		{name: "failover alias ETH target down", q: "fa", down: []string{"hc-ft"}, want: []string{"10.0.8.2"}, scope: -1},
		{name: "failover alias no ETH target down", q: "fb", down: []string{"hc-ft"}, want: []string{"10.0.8.1"}, scope: -1},
		// CNAME groups and simple records.
		{name: "weighted CNAME followed", q: "wc", want: []string{"10.0.9.1", "cname:t1.example.com."}, scope: -1},
		{name: "simple record ignores its check", q: "s", down: []string{"hc-s1"}, want: []string{"10.0.10.1"}, scope: -1},
		{name: "weighted ECS scope 0", q: "wz", ecs: "192.0.2.0/24", want: nil, scope: 0}, // want checked below
		{name: "alias type mismatch: NODATA", q: "a2", qtype: dns.TypeAAAA, want: nil, scope: -1},
		{name: "routed wildcard", q: "x.y.wild", from: "100.64.0.1", want: []string{"10.0.12.1"}, scope: -1},
		{name: "routed wildcard default, ECS", q: "z.wild", ecs: "198.51.100.0/24", want: []string{"10.0.12.9"}, scope: 24},
		{name: "latency ECS v6", q: "l", from: "192.0.2.1", ecs: "2001:db8:77::/48", want: []string{"10.0.5.4"}, scope: 32},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			health := HealthMap{}
			for _, id := range tc.down {
				health[id] = false
			}
			h := routingHandler(t, Routing{Health: health, GeoIP: db, Region: tc.region, Rand: rand.New(rand.NewPCG(1, 2))})
			name := "example.com."
			if tc.q != "" {
				name = tc.q + "." + name
			}
			qtype := tc.qtype
			if qtype == 0 {
				qtype = dns.TypeA
			}
			from := tc.from
			if from == "" {
				from = "10.9.9.9"
			}
			m := askR(t, h, query(name, qtype, tc.ecs), from)
			if m.Rcode != tc.rcode {
				t.Fatalf("rcode %s, want %s", dns.RcodeToString[m.Rcode], dns.RcodeToString[tc.rcode])
			}
			got := answers(m)
			if tc.name == "weighted ECS scope 0" {
				if len(got) != 1 {
					t.Errorf("answers %v, want one of the zero-weight records", got)
				}
			} else if !slices.Equal(got, tc.want) {
				t.Errorf("answers %v, want %v", got, tc.want)
			}
			if tc.want == nil && tc.name != "weighted ECS scope 0" && (len(m.Ns) != 1 || m.Ns[0].Header().Rrtype != dns.TypeSOA) {
				t.Errorf("NODATA without the SOA: %v", m.Ns)
			}
			if !m.Authoritative {
				t.Errorf("AA not set")
			}
			for _, a := range m.Answer {
				if !strings.EqualFold(a.Header().Name, name) && a.Header().Rrtype != dns.TypeA {
					t.Errorf("answer owner %s", a.Header().Name)
				}
			}
			if s := ecsScope(m); s != tc.scope {
				t.Errorf("ECS scope %d, want %d", s, tc.scope)
			}
		})
	}
}

// TestRoutingAliasOwnerAndTTL: an alias answers with its own name and the
// target's type, data and TTL.
func TestRoutingAliasOwnerAndTTL(t *testing.T) {
	t.Parallel()
	h := routingHandler(t, Routing{})
	m := askR(t, h, query("A2.Example.COM.", dns.TypeA, ""), "10.9.9.9")
	if len(m.Answer) != 1 {
		t.Fatalf("answer %v", m.Answer)
	}
	a := m.Answer[0].Header()
	if a.Name != "A2.Example.COM." || a.Ttl != 60 || a.Rrtype != dns.TypeA {
		t.Errorf("header %v, want the alias's name (as asked), type A, the target's TTL 60", a)
	}
	// ANY at an alias answers the alias's type, resolved.
	m = askR(t, h, query("a2.example.com.", dns.TypeANY, ""), "10.9.9.9")
	if got := answers(m); !slices.Equal(got, []string{"10.1.1.1"}) {
		t.Errorf("ANY: %v", got)
	}
}

// TestWeightedDistribution checks the weighted choice statistically with a
// seeded source: 1:3 within 2 points over 20,000 queries, weight 0 never
// while a non-zero record is healthy, and evenly among all-zero weights.
func TestWeightedDistribution(t *testing.T) {
	t.Parallel()
	const n = 20000
	count := func(h *Handler, name string) map[string]int {
		got := map[string]int{}
		for range n {
			for _, a := range answers(askR(t, h, query(name, dns.TypeA, ""), "10.9.9.9")) {
				got[a]++
			}
		}
		return got
	}
	for _, tc := range []struct {
		name string
		down []string
		q    string
		want map[string]float64
	}{
		{name: "1:3", q: "w.example.com.", want: map[string]float64{"10.0.1.1": 0.25, "10.0.1.3": 0.75}},
		{name: "all zero", q: "wz.example.com.", want: map[string]float64{"10.0.11.1": 0.5, "10.0.11.2": 0.5}},
		{name: "one down: the other", q: "w.example.com.", down: []string{"hc-w3"}, want: map[string]float64{"10.0.1.1": 1}},
		{name: "non-zero down: zero weight", q: "w.example.com.", down: []string{"hc-w1", "hc-w3"}, want: map[string]float64{"10.0.1.0": 1}},
		{name: "all down: weights as if healthy", q: "w.example.com.", down: []string{"hc-w1", "hc-w3", "hc-w0"},
			want: map[string]float64{"10.0.1.1": 0.25, "10.0.1.3": 0.75}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			health := HealthMap{}
			for _, id := range tc.down {
				health[id] = false
			}
			h := routingHandler(t, Routing{Health: health, Rand: rand.New(rand.NewPCG(7, uint64(len(tc.name))))})
			got := count(h, tc.q)
			total := 0
			for k, c := range got {
				total += c
				if _, ok := tc.want[k]; !ok {
					t.Errorf("answered %s %d times; never expected", k, c)
				}
			}
			if total != n {
				t.Errorf("%d answers for %d queries", total, n)
			}
			for k, p := range tc.want {
				if f := float64(got[k]) / n; f < p-0.02 || f > p+0.02 {
					t.Errorf("%s: %.3f of answers, want %.2f ± 0.02", k, f, p)
				}
			}
		})
	}
}

// TestWeightedZeroFallback: with the non-zero weight down and the zero
// weight down too, only then are all records considered.
func TestWeightedZeroFallback(t *testing.T) {
	t.Parallel()
	h := routingHandler(t, Routing{Health: HealthMap{"hc-w3": false}, Rand: rand.New(rand.NewPCG(3, 4))})
	// w1 (weight 1, no check) is healthy: the zero weight never answers.
	for range 2000 {
		if got := answers(askR(t, h, query("w.example.com.", dns.TypeA, ""), "10.9.9.9")); !slices.Equal(got, []string{"10.0.1.1"}) {
			t.Fatalf("answers %v", got)
		}
	}
}

// TestMultivalue: never an unhealthy record while a healthy one exists, at
// most eight, all healthy ones when there are eight or fewer, and up to
// eight unhealthy ones when all are down.
func TestMultivalue(t *testing.T) {
	t.Parallel()
	rnd := rand.New(rand.NewPCG(11, 12))
	for iter := range 300 {
		health := HealthMap{}
		healthy := map[string]bool{}
		nHealthy := 0
		for i := 1; i <= 12; i++ {
			up := rnd.IntN(3) == 0 || iter%50 == 0
			if iter%50 == 1 {
				up = false
			}
			health["hc-m"+itoa(i)] = up
			healthy["10.0.6."+itoa(i)] = up
			if up {
				nHealthy++
			}
		}
		h := routingHandler(t, Routing{Health: health, Rand: rand.New(rand.NewPCG(uint64(iter), 1))})
		for range 5 {
			got := answers(askR(t, h, query("m.example.com.", dns.TypeA, ""), "10.9.9.9"))
			want := min(nHealthy, 8)
			if nHealthy == 0 {
				want = 8
			}
			if len(got) != want {
				t.Fatalf("iteration %d: %d answers with %d healthy, want %d", iter, len(got), nHealthy, want)
			}
			if len(slices.Compact(slices.Clone(got))) != len(got) {
				t.Fatalf("duplicates: %v", got)
			}
			for _, a := range got {
				if nHealthy > 0 && !healthy[a] {
					t.Fatalf("iteration %d: unhealthy %s answered while %d are healthy", iter, a, nHealthy)
				}
			}
		}
	}
}

// TestMultivalueShuffles: with more than eight healthy records, different
// queries get different subsets.
func TestMultivalueShuffles(t *testing.T) {
	t.Parallel()
	h := routingHandler(t, Routing{Rand: rand.New(rand.NewPCG(5, 6))})
	seen := map[string]bool{}
	sets := map[string]bool{}
	for range 200 {
		got := answers(askR(t, h, query("m.example.com.", dns.TypeA, ""), "10.9.9.9"))
		sets[strings.Join(got, ",")] = true
		for _, a := range got {
			seen[a] = true
		}
	}
	if len(seen) != 12 || len(sets) < 50 {
		t.Errorf("%d records seen in %d distinct subsets; want all 12 in many subsets", len(seen), len(sets))
	}
}

// TestRoutingExplanation: the trace says which policy and branch, where
// the client is and which health inputs were used.
func TestRoutingExplanation(t *testing.T) {
	t.Parallel()
	db := testGeoDB(t)
	h := routingHandler(t, Routing{Health: HealthMap{"hc-de": false}, GeoIP: db})
	var trace []string
	res := &result{}
	rt := h.routing.Load()
	lookup(h.store.load().view(0), mustWire(t, "g.example.com."), dns.TypeA,
		client{addr: netip.MustParseAddr("198.51.100.9"), rt: rt, trace: &trace}, res)
	text := strings.Join(trace, "\n")
	for _, want := range []string{"EU/DE", "hc-de: unhealthy", "geolocation: DE", "widening", "geolocation: EU"} {
		if !strings.Contains(text, want) {
			t.Errorf("explanation lacks %q:\n%s", want, text)
		}
	}
}

// TestLatencyTable: the operator's table overrides distance, most specific
// entry first, skipping regions without a healthy record.
func TestLatencyTable(t *testing.T) {
	t.Parallel()
	db := testGeoDB(t)
	tab, err := ParseLatencyTable([]byte(`{
		"prefixes": {"192.0.2.128/25": ["ap-southeast-2"]},
		"countries": {"US-CA": ["ap-northeast-1", "us-west-1"], "DE": ["ap-southeast-2", "us-west-1"]},
		"continents": {"EU": ["us-west-1"]}
	}`))
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		from, ecs string
		down      []string
		want      string
		scope     int
	}{
		{from: "192.0.2.1", want: "10.0.5.4", scope: -1},                              // US-CA → Tokyo
		{from: "192.0.2.200", want: "10.0.5.3", scope: -1},                            // the prefix entry wins
		{from: "10.9.9.9", ecs: "192.0.2.128/25", want: "10.0.5.3", scope: 25},        // ECS matches the prefix
		{from: "10.9.9.9", ecs: "192.0.2.0/24", want: "10.0.5.4", scope: 24},          // too short for the /25
		{from: "198.51.100.1", down: []string{"hc-syd"}, want: "10.0.5.1", scope: -1}, // DE: first listed is down
		{from: "100.65.0.1", want: "10.0.5.1", scope: -1},                             // FR: continent entry
		{from: "203.0.113.1", want: "10.0.5.3", scope: -1},                            // AU: not listed, distance
	} {
		health := HealthMap{}
		for _, id := range tc.down {
			health[id] = false
		}
		h := routingHandler(t, Routing{Health: health, GeoIP: db, Latency: tab})
		m := askR(t, h, query("l.example.com.", dns.TypeA, tc.ecs), tc.from)
		if got := answers(m); !slices.Equal(got, []string{tc.want}) {
			t.Errorf("from %s ecs %q: %v, want %s", tc.from, tc.ecs, got, tc.want)
		}
		if s := ecsScope(m); s != tc.scope {
			t.Errorf("from %s ecs %q: scope %d, want %d", tc.from, tc.ecs, s, tc.scope)
		}
	}
	for _, bad := range []string{`{"prefixes": {"192.0.2.1/24": ["us-west-1"]}}`, `{"countries": {"XX": ["us-west-1"]}}`,
		`{"continents": {"EU": ["mars-1"]}}`, `{"countries": {"DE": []}}`, `{"other": {}}`, `[`} {
		if _, err := ParseLatencyTable([]byte(bad)); err == nil {
			t.Errorf("%s: accepted", bad)
		}
	}
}

// TestECSMalformed: address bits beyond the source prefix are FORMERR
// (RFC 7871 §7.1.1); a /0 source is echoed with scope 0 and the packet's
// address decides.
func TestECSMalformed(t *testing.T) {
	t.Parallel()
	db := testGeoDB(t)
	h := routingHandler(t, Routing{GeoIP: db})
	// miekg masks the address when packing: set a bit beyond /20 by hand
	// in the last octet of the packet, the option's last address octet.
	b, err := query("g.example.com.", dns.TypeA, "192.0.0.0/20").Pack()
	if err != nil {
		t.Fatal(err)
	}
	b[len(b)-1] |= 0x01
	r := new(dns.Msg)
	if err := r.Unpack(h.ServeWire(nil, b, netip.MustParseAddr("10.9.9.9"), false)); err != nil || r.Rcode != dns.RcodeFormatError {
		t.Errorf("bits beyond the prefix: rcode %s, want FORMERR", dns.RcodeToString[r.Rcode])
	}
	r = askR(t, h, query("g.example.com.", dns.TypeA, "0.0.0.0/0"), "192.0.2.1")
	if got := answers(r); !slices.Equal(got, []string{"10.0.3.1"}) || ecsScope(r) != 0 {
		t.Errorf("/0: %v scope %d, want the source's answer with scope 0", got, ecsScope(r))
	}
}

// TestRoutingZoneStateRoundTrip: routing fields, aliases and CIDR
// collections survive ZoneState (the nameserver's on-disk cache) and
// events.
func TestRoutingZoneStateRoundTrip(t *testing.T) {
	t.Parallel()
	zs := routingZones()
	s := NewStore()
	if err := s.ReplaceZone(zs[0]); err != nil {
		t.Fatal(err)
	}
	got, _ := s.ZoneState("Z1")
	if len(got.CIDRCollections) != 1 || len(got.CIDRCollections[0].Locations["lab"]) != 2 {
		t.Errorf("collections %v", got.CIDRCollections)
	}
	byKey := map[zonecfg.Key]zonecfg.RRSet{}
	for _, rs := range got.RRSets {
		byKey[rs.Key()] = rs
	}
	for _, want := range zs[0].RRSets {
		g, ok := byKey[want.Key()]
		if !ok {
			t.Errorf("%v lost", want.Key())
			continue
		}
		if want.Policy() != g.Policy() || want.HealthCheckID != g.HealthCheckID || (want.Alias == nil) != (g.Alias == nil) ||
			want.PolicyLabel() != g.PolicyLabel() {
			t.Errorf("%v: got %+v, want %+v", want.Key(), g, want)
		}
		if want.Alias != nil && *want.Alias != *g.Alias {
			t.Errorf("%v: alias %+v, want %+v", want.Key(), *g.Alias, *want.Alias)
		}
	}
	// An update carrying a new collection version replaces it.
	ev := event.ZoneEvent{Kind: event.ZoneUpdated, ZoneID: "Z1", FromVersion: 1, ToVersion: 2,
		CIDRCollections: []event.CIDRCollection{{ID: "col1", Version: 2, Locations: map[string][]netip.Prefix{
			"lab": {netip.MustParsePrefix("198.51.100.0/24")}}}}}
	if r, err := s.Apply(ev); err != nil || r != Applied {
		t.Fatalf("apply: %v %v", r, err)
	}
	h := NewHandler(s)
	h.SetReady(true)
	if got := answers(askR(t, h, query("c.example.com.", dns.TypeA, ""), "198.51.100.3")); !slices.Equal(got, []string{"10.0.7.2"}) {
		t.Errorf("after the collection changed: %v", got)
	}
	if got := answers(askR(t, h, query("c.example.com.", dns.TypeA, ""), "192.0.2.1")); !slices.Equal(got, []string{"10.0.7.9"}) {
		t.Errorf("old block still matches: %v", got)
	}
}

// TestFastPathUnchanged: simple records answer identically through the
// fast and the general path even with routing configured.
func TestFastPathUnchanged(t *testing.T) {
	t.Parallel()
	h := routingHandler(t, Routing{GeoIP: testGeoDB(t), Health: HealthMap{}})
	b, _ := query("t1.example.com.", dns.TypeA, "").Pack()
	fast := h.ServeWire(nil, b, netip.MustParseAddr("192.0.2.1"), false)
	h.noFast = true
	slow := h.ServeWire(nil, b, netip.MustParseAddr("192.0.2.1"), false)
	if !bytes.Equal(fast, slow) {
		t.Errorf("fast and general paths differ")
	}
	// The marker a future answer cache must respect.
	z := h.store.load().view(0).find(mustWire(t, "example.com."))
	for name, want := range map[string]bool{"t1.example.com.": false, "w.example.com.": true, "a2.example.com.": true,
		"example.com.": true, "s.example.com.": true} {
		n, _ := z.names.get(mustWire(t, name))
		if routedNode(&n) != want {
			t.Errorf("routedNode(%s) = %v", name, !want)
		}
	}
}

// FuzzRouted feeds raw packets (ECS options included) to a handler over
// the routing zones with a GeoIP database: never a panic, every response
// parses and fits, and an ECS option is echoed with a scope no longer
// than its source prefix.
func FuzzRouted(f *testing.F) {
	for _, q := range []struct{ name, ecs string }{
		{"g.example.com.", "192.0.2.0/24"}, {"l.example.com.", "2001:db8::/48"}, {"c.example.com.", "192.0.2.128/25"},
		{"m.example.com.", ""}, {"example.com.", "0.0.0.0/0"}, {"ag.example.com.", "100.64.0.0/10"}, {"wc.example.com.", ""},
	} {
		if b, err := query(q.name, dns.TypeA, q.ecs).Pack(); err == nil {
			f.Add(b, false)
		}
	}
	h := routingHandler(f, Routing{GeoIP: testGeoDB(f), Health: HealthMap{"hc-p": false, "hc-m3": false}, Rand: rand.New(rand.NewPCG(1, 1))})
	f.Fuzz(func(t *testing.T, b []byte, tcp bool) {
		got := h.ServeWire(nil, b, netip.MustParseAddr("198.51.100.1"), tcp)
		if got == nil {
			return
		}
		if !tcp && len(got) > ednsUDPSize {
			t.Fatalf("UDP response of %d bytes", len(got))
		}
		m := new(dns.Msg)
		if err := m.Unpack(got); err != nil {
			t.Fatalf("response to %x does not parse: %v\n%x", b, err, got)
		}
		if o := m.IsEdns0(); o != nil {
			for _, e := range o.Option {
				if s, ok := e.(*dns.EDNS0_SUBNET); ok && s.SourceScope > s.SourceNetmask {
					t.Fatalf("scope %d beyond source /%d", s.SourceScope, s.SourceNetmask)
				}
			}
		}
	})
}

// TestECSScopeWithoutGeoIP: without a database geolocation answers every
// client alike, so the ECS scope is 0.
func TestECSScopeWithoutGeoIP(t *testing.T) {
	t.Parallel()
	h := routingHandler(t, Routing{})
	r := askR(t, h, query("g.example.com.", dns.TypeA, "192.0.2.0/24"), "10.9.9.9")
	if got := answers(r); !slices.Equal(got, []string{"10.0.3.9"}) || ecsScope(r) != 0 {
		t.Errorf("%v scope %d, want the default with scope 0", got, ecsScope(r))
	}
}

// TestRoutedAdditional: additional data leaves out routed and alias
// address sets (chosen per query) and keeps plain ones.
func TestRoutedAdditional(t *testing.T) {
	t.Parallel()
	h := routingHandler(t, Routing{})
	m := askR(t, h, query("mx.example.com.", dns.TypeMX, ""), "10.9.9.9")
	var extra []string
	for _, a := range m.Extra {
		extra = append(extra, a.Header().Name)
	}
	if len(m.Answer) != 3 || !slices.Equal(extra, []string{"t1.example.com."}) {
		t.Errorf("answer %d records, additional %v; want 3 and only t1.example.com.", len(m.Answer), extra)
	}
}
