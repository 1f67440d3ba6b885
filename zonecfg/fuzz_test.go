package zonecfg

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"
)

// FuzzParseRecord feeds arbitrary record data of every supported type to
// ParseRecord. It must never panic, must reject what it cannot represent,
// and what it accepts must be stable: the canonical form parses again to
// itself, so that DELETE comparisons and re-exports agree.
func FuzzParseRecord(f *testing.F) {
	seeds := []struct {
		typ, value string
	}{
		{"A", "192.0.2.1"},
		{"AAAA", "2001:db8::1"},
		{"CAA", `0 issue "letsencrypt.org"`},
		{"CNAME", "www.example.com"},
		{"DS", "60485 5 1 2BB183AF5F22588179A53B0A98631FAD1A292118"},
		{"HTTPS", `1 . alpn="h2,h3" ipv4hint=192.0.2.1`},
		{"MX", "10 mail.example.com."},
		{"NAPTR", `100 10 "U" "E2U+sip" "!^.*$!sip:info@example.com!" .`},
		{"NS", "ns1.example.net."},
		{"PTR", "host.example.com."},
		{"SOA", "ns1.example.com. hostmaster.example.com. 1 7200 900 1209600 86400"},
		{"SPF", `"v=spf1 -all"`},
		{"SRV", "10 5 5060 sip.example.com."},
		{"SSHFP", "4 2 123456789ABCDEF67890123456789ABCDEF67890123456789ABCDEF123456789"},
		{"SVCB", `1 svc.example.com. port=8443`},
		{"TLSA", "3 1 1 0C72AC70B745AC19998811B131D662C9AC69DBDBE7CB23E5B514B56664C5D3D6"},
		{"TXT", `"a \"quoted\" \\; string" "\000\255"`},
		{"TXT", "unquoted words"},
		{"A", "192.0.2.1 ; comment"},
		{"TXT", "\"line\nbreak\""},
		{"MX", "( 10 mail )"},
		{"CAA", `128 tbs "x"`},
	}
	for _, s := range seeds {
		f.Add(s.typ, uint32(300), s.value)
	}
	f.Fuzz(func(t *testing.T, typ string, ttl uint32, value string) {
		const name = "www.example.com."
		rr, canon, err := ParseRecord(name, typ, ttl, value)
		if err != nil {
			if rr != nil || canon != "" {
				t.Fatalf("error %v with a result", err)
			}
			return
		}
		if rr == nil || rr.Header().Rrtype != TypeCode(typ) || rr.Header().Name != name {
			t.Fatalf("ParseRecord(%q, %q) = %v", typ, value, rr)
		}
		if strings.ContainsAny(canon, "\n\r") {
			t.Fatalf("canonical form %q spans lines", canon)
		}
		rr2, canon2, err := ParseRecord(name, typ, ttl, canon)
		if err != nil {
			t.Fatalf("canonical form %q of %q does not parse: %v", canon, value, err)
		}
		if canon2 != canon || rr2.Header().Rrtype != rr.Header().Rrtype {
			t.Fatalf("canonical form is not stable: %q -> %q -> %q", value, canon, canon2)
		}
	})
}

// FuzzCanonicalName checks that CanonicalName never panics and that what it
// returns is canonical: fully qualified, lowercase ASCII, and accepted
// again unchanged, so that a listed name can be sent back (including names
// with an escaped space, which miekg writes as "\ ").
func FuzzCanonicalName(f *testing.F) {
	for _, s := range []string{
		"www.example.com", "WWW.Example.COM.", ".", "*.example.com", "bücher.example",
		`a\.b.example.com`, `\065bc.example.com`, `\200.example`, "a..b", "-x-.example", "_dmarc.example.com",
		`sp\032ace.example`, `sp\ ace.example`, strings.Repeat("a", 64) + ".com", "xn--bcher-kva.example",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, name string) {
		c, err := CanonicalName(name)
		if err != nil {
			return
		}
		if !strings.HasSuffix(c, ".") || strings.ToLower(c) != c {
			t.Fatalf("CanonicalName(%q) = %q: not lowercase and fully qualified", name, c)
		}
		for i := 0; i < len(c); i++ {
			if c[i] >= 0x80 {
				t.Fatalf("CanonicalName(%q) = %q: not ASCII", name, c)
			}
		}
		again, err := CanonicalName(c)
		if err != nil || again != c {
			t.Fatalf("CanonicalName(%q) = %q, which canonicalises to %q, %v", name, c, again, err)
		}
	})
}

// FuzzRRSetRouting feeds arbitrary routing and alias fields to Validate. It
// must never panic; what it accepts has exactly one policy or none, a set
// identifier exactly when it has one, and survives a JSON round trip
// unchanged (events and snapshots carry it as JSON).
func FuzzRRSetRouting(f *testing.F) {
	f.Add("A", "x", 300, "192.0.2.1", -1, "", "", "", "", "", false, "", "", "", "", "")
	f.Add("A", "x", 60, "192.0.2.1", 10, "", "", "", "", "", false, "", "", "hc1", "", "")
	f.Add("A", "x", 60, "192.0.2.1", -1, "eu-west-1", "", "", "", "", false, "", "", "", "", "")
	f.Add("A", "x", 60, "192.0.2.1", -1, "", "", "US", "WA", "", false, "", "", "", "", "")
	f.Add("A", "x", 60, "192.0.2.1", -1, "", "EU", "", "", "", false, "", "", "", "", "")
	f.Add("A", "x", 60, "192.0.2.1", -1, "", "", "*", "", "", false, "", "", "", "", "")
	f.Add("A", "x", 60, "192.0.2.1", -1, "", "", "", "", "PRIMARY", false, "", "", "", "", "")
	f.Add("TXT", "x", 60, `"t"`, -1, "", "", "", "", "", true, "", "", "", "", "")
	f.Add("A", "x", 60, "192.0.2.1", -1, "", "", "", "", "", false, "col", "office", "", "", "")
	f.Add("A", "", 0, "", -1, "", "", "", "", "", false, "", "", "", "Z1", "www.example.com.")
	f.Add("CNAME", "x", 0, "", 5, "", "", "", "", "", false, "", "", "", "Z1", "t.example.com.")
	f.Fuzz(func(t *testing.T, typ, setID string, ttl int, value string, weight int, region, continent, country, sub, failover string,
		multi bool, coll, loc, hc, aliasZone, aliasName string) {
		rs := RRSet{Name: "www.example.com.", Type: typ, SetIdentifier: setID, TTL: uint32(ttl), Routing: Routing{Region: region, Failover: failover, MultiValue: multi, HealthCheckID: hc}}
		if value != "" {
			rs.Records = []string{value}
		}
		if weight >= 0 && weight <= 255 {
			w := uint8(weight)
			rs.Weight = &w
		}
		if continent != "" || country != "" || sub != "" {
			rs.Geo = &GeoLocation{ContinentCode: continent, CountryCode: country, SubdivisionCode: sub}
		}
		if coll != "" || loc != "" {
			rs.CIDR = &CIDRRouting{CollectionID: coll, LocationName: loc}
		}
		if aliasZone != "" || aliasName != "" {
			rs.Alias = &AliasTarget{HostedZoneID: aliasZone, DNSName: aliasName}
		}
		if err := rs.Validate(); err != nil {
			return
		}
		if n := len(rs.policies()); n > 1 || (n == 1) != (rs.SetIdentifier != "") {
			t.Fatalf("accepted %d policies with set identifier %q", n, rs.SetIdentifier)
		}
		if rs.IsAlias() && (len(rs.Records) != 0 || rs.TTL != 0) {
			t.Fatalf("accepted an alias with values or a TTL: %+v", rs)
		}
		b, err := json.Marshal(rs)
		if err != nil {
			t.Fatal(err)
		}
		var back RRSet
		if err := json.Unmarshal(b, &back); err != nil || !reflect.DeepEqual(back, rs) {
			t.Fatalf("JSON round trip: %+v -> %s -> %+v, %v", rs, b, back, err)
		}
	})
}
