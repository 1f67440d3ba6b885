package controlplane

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/miekg/dns"
	"github.com/waymark-dns/waymark/event"
	"github.com/waymark-dns/waymark/zonecfg"
)

func TestParseZoneFile(t *testing.T) {
	t.Parallel()
	const origin = "example.com."
	type set struct {
		key     string // "name TYPE ttl"
		records []string
		line    int
	}
	tests := []struct {
		name    string
		text    string
		want    []set
		errLine []int // lines of the expected details
		errText []string
	}{
		{
			name: "grouping, comments, relative names and blank owners",
			text: "; a comment\n" + // 1
				"$TTL 300\n" + // 2
				"@ IN SOA ns1 hostmaster ( 1 7200 ; serial\n" + // 3
				"   900 1209600 86400 )\n" + // 4
				"\n" + // 5
				"@ 3600 IN NS ns1\n" + // 6
				"  IN NS ns2.example.net.\n" + // 7
				"www IN A 192.0.2.1\n" + // 8
				"mail 60 IN MX 10 mail\n" + // 9
				"www IN A 192.0.2.2 ; second value\n" + // 10
				"WWW.example.com. IN A 192.0.2.1\n" + // 11 duplicate
				"$ORIGIN sub.example.com.\n" + // 12
				"x TXT \"a;b\" \"c\"\n", // 13
			want: []set{
				{"example.com. SOA 300", []string{"ns1.example.com. hostmaster.example.com. 1 7200 900 1209600 86400"}, 3},
				{"example.com. NS 3600", []string{"ns1.example.com.", "ns2.example.net."}, 6},
				{"www.example.com. A 300", []string{"192.0.2.1", "192.0.2.2"}, 8},
				{"mail.example.com. MX 60", []string{"10 mail.example.com."}, 9},
				{"x.sub.example.com. TXT 300", []string{`"a;b" "c"`}, 13},
			},
		},
		{
			name: "first ttl wins",
			text: "a 60 IN A 192.0.2.1\na 120 IN A 192.0.2.2\n",
			want: []set{{"a.example.com. A 60", []string{"192.0.2.1", "192.0.2.2"}, 1}},
		},
		{
			// miekg's $GENERATE ignores $TTL and uses an hour.
			name: "generate",
			text: "$TTL 60\n; x\n$GENERATE 1-3 host$ A 192.0.2.$\nz A 192.0.2.9",
			want: []set{
				{"host1.example.com. A 3600", []string{"192.0.2.1"}, 3},
				{"host2.example.com. A 3600", []string{"192.0.2.2"}, 3},
				{"host3.example.com. A 3600", []string{"192.0.2.3"}, 3},
				{"z.example.com. A 60", []string{"192.0.2.9"}, 4},
			},
		},
		{
			name:    "syntax error",
			text:    "$TTL 60\nwww A 192.0.2.1\nbad A 192.0.2.300\n",
			errLine: []int{3},
			errText: []string{"bad A"},
		},
		{
			name:    "include refused",
			text:    "$TTL 60\n$INCLUDE /etc/passwd\n",
			errLine: []int{2},
			errText: []string{"$INCLUDE directive not allowed"},
		},
		{
			name:    "outside the zone, unsupported type and class",
			text:    "$TTL 60\nwww A 192.0.2.1\nwww.example.org. A 192.0.2.1\nh HINFO \"a\" \"b\"\nc CH A 192.0.2.1\nexample.com. A 192.0.2.1\n",
			errLine: []int{3, 4, 5},
			errText: []string{"www.example.org. is outside the zone example.com.", "record type HINFO is not supported", "class CH"},
		},
		{
			name: "no ttl anywhere",
			text: "www IN A 192.0.2.1\n",
			want: []set{{"www.example.com. A 3600", []string{"192.0.2.1"}, 1}},
		},
		{name: "empty", text: ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			sets, details := parseZoneFile(origin, tc.text)
			if len(tc.errLine) > 0 {
				if len(details) != len(tc.errLine) || sets != nil {
					t.Fatalf("details = %+v, sets = %v", details, sets)
				}
				for i, d := range details {
					if d.Line != tc.errLine[i] || d.Index != nil {
						t.Errorf("detail %d = %+v, want line %d", i, d, tc.errLine[i])
					}
					if i < len(tc.errText) && !strings.Contains(d.Message, tc.errText[i]) {
						t.Errorf("detail %d = %q, want %q", i, d.Message, tc.errText[i])
					}
				}
				return
			}
			if len(details) > 0 {
				t.Fatalf("details: %+v", details)
			}
			var got []set
			for _, s := range sets {
				got = append(got, set{fmt.Sprintf("%s %s %d", s.Set.Name, s.Set.Type, s.Set.TTL), s.Set.Records, s.Line})
			}
			if fmt.Sprint(got) != fmt.Sprint(tc.want) {
				t.Errorf("got  %v\nwant %v", got, tc.want)
			}
		})
	}
}

func TestIntegrationZoneFileRoundTrip(t *testing.T) {
	t.Parallel()
	e := newZoneEnv(t)
	ctx := context.Background()
	tenant := testTenant(t, e.pool)
	z := e.mustZone(t, tenant, "rt.example")
	e.mustChange(t, tenant, z.ID,
		rrs(ActionUpsert, "rt.example", "SOA", 600, "ns1.waymark.test. admin.rt.example. 1 3600 600 604800 300"),
		rrs(ActionUpsert, "rt.example", "NS", 3600, "ns1.waymark.test.", "ns2.waymark.test.", "ns3.other.test."),
		rrs(ActionCreate, "rt.example", "MX", 300, "10 mail.rt.example.", "20 backup.test."),
		rrs(ActionCreate, "rt.example", "TXT", 300, `"v=spf1 include:_spf.test ~all"`, `"a \"quoted\" \\; semi;colon"`),
		rrs(ActionCreate, "www.rt.example", "A", 60, "192.0.2.1", "192.0.2.2"),
		rrs(ActionCreate, "www.rt.example", "AAAA", 60, "2001:db8::1"),
		rrs(ActionCreate, "a-b.rt.example", "CNAME", 0, "www.rt.example."),
		rrs(ActionCreate, "*.rt.example", "A", 60, "192.0.2.3"),
		rrs(ActionCreate, "_sip._tcp.rt.example", "SRV", 60, "10 5 5060 sip.rt.example."),
		rrs(ActionCreate, "rt.example", "CAA", 60, `0 issue "letsencrypt.org"`),
		rrs(ActionCreate, "sub.rt.example", "NS", 60, "ns.sub.rt.example."),
		rrs(ActionCreate, "ns.sub.rt.example", "A", 60, "192.0.2.53"),
		rrs(ActionCreate, "sub.rt.example", "DS", 60, "60485 5 1 2BB183AF5F22588179A53B0A98631FAD1A292118"),
		rrs(ActionCreate, "_443._tcp.www.rt.example", "TLSA", 60, "3 1 1 0C72AC70B745AC19998811B131D662C9AC69DBDBE7CB23E5B514B56664C5D3D6"),
		rrs(ActionCreate, "ssh.rt.example", "SSHFP", 60, "4 2 123456789ABCDEF67890123456789ABCDEF67890123456789ABCDEF123456789"),
		rrs(ActionCreate, "svc.rt.example", "HTTPS", 60, `1 . alpn="h2,h3"`),
		rrs(ActionCreate, "n.rt.example", "NAPTR", 60, `100 10 "U" "E2U+sip" "!^.*$!sip:info@rt.example!" .`),
		rrs(ActionCreate, "1.2.0.192.rt.example", "PTR", 60, "www.rt.example."),
		// Names that need escapes in a master file.
		rrs(ActionCreate, `a\(b\;c\@d\"e.rt.example`, "TXT", 60, `"( paren ; semi"`),
		rrs(ActionCreate, `sp\032ace\.dot.rt.example`, "A", 60, "192.0.2.4"),
		rrs(ActionCreate, `$dollar.rt.example`, "A", 60, "192.0.2.5"),
	)
	before := e.allRRSets(t, tenant, z.ID)
	text, err := exportText(ctx, e.s, tenant, "/hostedzone/"+z.ID)
	if err != nil {
		t.Fatal(err)
	}
	// The export is a master file any parser reads, SOA first then NS, with
	// the zone version as the serial.
	zp := dns.NewZoneParser(strings.NewReader(text), "", "")
	var parsed []dns.RR
	for rr, ok := zp.Next(); ok; rr, ok = zp.Next() {
		parsed = append(parsed, rr)
	}
	if err := zp.Err(); err != nil {
		t.Fatalf("export does not parse: %v\n%s", err, text)
	}
	if soa, ok := parsed[0].(*dns.SOA); !ok || soa.Serial != 2 {
		t.Errorf("first record %v, want the SOA with serial 2", parsed[0])
	}
	for _, rr := range parsed[1:4] {
		if rr.Header().Rrtype != dns.TypeNS || rr.Header().Name != "rt.example." {
			t.Errorf("%v, want apex NS", rr)
		}
	}

	// Import it into a new zone of the same name.
	if _, err := e.pool.Exec(ctx, `DELETE FROM hosted_zone WHERE id = $1`, z.ID); err != nil {
		t.Fatal(err)
	}
	z2 := e.mustZone(t, tenant, "rt.example")
	info, err := e.s.ImportZone(ctx, tenant, z2.ID, text)
	if err != nil {
		t.Fatalf("ImportZone: %v", err)
	}
	if info.ZoneVersion != 2 {
		t.Errorf("change = %+v", info)
	}
	after := e.allRRSets(t, tenant, z2.ID)
	// The imported SOA keeps the new zone's serial (1), as the original had.
	if b, a := canonicalSets(t, before), canonicalSets(t, after); !slices.Equal(a, b) {
		t.Errorf("round trip differs:\nbefore %v\nafter  %v", b, a)
	}
	// Values that were submitted in canonical form come back identical.
	if fmt.Sprint(after) != fmt.Sprint(before) {
		t.Errorf("records differ:\nbefore %v\nafter  %v", before, after)
	}
	text2, err := exportText(ctx, e.s, tenant, z2.ID)
	if err != nil {
		t.Fatal(err)
	}
	if strip := func(s string) string { return s[strings.Index(s, "\n"):] }; strip(text2) != strip(text) {
		t.Errorf("second export differs:\n%s\n%s", text, text2)
	}
}

func TestIntegrationImportZone(t *testing.T) {
	t.Parallel()
	e := newZoneEnv(t)
	ctx := context.Background()
	tenant := testTenant(t, e.pool)
	z := e.mustZone(t, tenant, "imp.example")
	e.mustChange(t, tenant, z.ID,
		rrs(ActionCreate, "keep.imp.example", "A", 60, "192.0.2.1"),
		rrs(ActionCreate, "www.imp.example", "A", 60, "192.0.2.1"),
		rrs(ActionCreate, "alias.imp.example", "CNAME", 60, "www.imp.example."))

	// No apex NS in the file: the live one stays. The SOA takes the file's
	// fields but keeps the live serial. Sets not in the file stay.
	info, err := e.s.ImportZone(ctx, tenant, z.ID, "$TTL 300\n"+
		"@ IN SOA ns1.waymark.test. admin.imp.example. 2024010101 3600 600 604800 60\n"+
		"www IN A 192.0.2.9\n"+
		"new 60 IN TXT \"hello\"\n")
	if err != nil {
		t.Fatal(err)
	}
	if info.Comment != "zone file import" || info.ZoneVersion != 3 {
		t.Errorf("change = %+v", info)
	}
	got := map[string]zonecfg.RRSet{}
	for _, rs := range e.allRRSets(t, tenant, z.ID) {
		got[rs.Name+" "+rs.Type] = rs
	}
	checks := map[string]string{
		"imp.example. SOA":         "300 [ns1.waymark.test. admin.imp.example. 1 3600 600 604800 60]",
		"imp.example. NS":          "172800 [ns1.waymark.test. ns2.waymark.test. ns3.waymark.test. ns4.waymark.test.]",
		"www.imp.example. A":       "300 [192.0.2.9]",
		"keep.imp.example. A":      "60 [192.0.2.1]",
		"new.imp.example. TXT":     `60 ["hello"]`,
		"alias.imp.example. CNAME": "60 [www.imp.example.]",
	}
	for k, want := range checks {
		if rs := got[k]; fmt.Sprintf("%d %v", rs.TTL, rs.Records) != want {
			t.Errorf("%s = %d %v, want %s", k, rs.TTL, rs.Records, want)
		}
	}
	if len(got) != len(checks) {
		t.Errorf("%d sets: %v", len(got), got)
	}

	// An apex NS in the file replaces the live one.
	if _, err := e.s.ImportZone(ctx, tenant, z.ID, "@ 3600 IN NS ns.other.test.\n"); err != nil {
		t.Fatal(err)
	}
	for _, rs := range e.allRRSets(t, tenant, z.ID) {
		if rs.Type == "NS" && (rs.TTL != 3600 || !slices.Equal(rs.Records, []string{"ns.other.test."})) {
			t.Errorf("apex NS = %+v", rs)
		}
	}

	version := func() int64 {
		zz, err := e.s.GetZone(ctx, tenant, z.ID)
		if err != nil {
			t.Fatal(err)
		}
		return zz.Version
	}
	v := version()
	tests := []struct {
		name    string
		text    string
		code    Code
		lines   []int
		message string
	}{
		{"syntax", "$TTL 60\nok A 192.0.2.1\nbad A nope\n", CodeInvalidInput, []int{3}, ""},
		{"outside", "$TTL 60\nok A 192.0.2.1\nx.other.example. A 192.0.2.1\n", CodeInvalidInput, []int{3}, "outside the zone"},
		{"include", "$INCLUDE zone.db\n", CodeInvalidInput, []int{1}, "$INCLUDE"},
		{"empty", "; nothing\n", CodeInvalidInput, nil, ""},
		{"cname conflict", "$TTL 60\nok A 192.0.2.1\n\nalias A 192.0.2.1\n", CodeInvalidChangeBatch, []int{4}, "conflicting RRSet of type  CNAME"},
		{"soa below apex", "$TTL 60\nok A 192.0.2.1\nsub SOA a. b. 1 2 3 4 5\n", CodeInvalidChangeBatch, []int{3}, "only at the apex"},
		{"too large", strings.Repeat(";", MaxZoneFileSize+1), CodeInvalidInput, nil, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := e.s.ImportZone(ctx, tenant, z.ID, tc.text)
			ce := wantErr(t, err, tc.code)
			if len(ce.Details) != len(tc.lines) {
				t.Fatalf("details %+v, want lines %v", ce.Details, tc.lines)
			}
			for i, d := range ce.Details {
				if d.Line != tc.lines[i] || d.Index != nil {
					t.Errorf("detail %+v, want line %d", d, tc.lines[i])
				}
			}
			if !strings.Contains(ce.Message, tc.message) {
				t.Errorf("message %q, want %q", ce.Message, tc.message)
			}
			if version() != v {
				t.Error("a failed import changed the zone")
			}
		})
	}
}

func FuzzParseZoneFile(f *testing.F) {
	for _, s := range []string{
		"$TTL 300\n@ IN SOA ns1 host ( 1 2 3 4 5 )\nwww A 192.0.2.1\n  A 192.0.2.2\n",
		"$ORIGIN sub.example.com.\nx TXT \"a;b\" ; c\n",
		"$GENERATE 1-10 h$ A 192.0.2.$\n",
		"$INCLUDE /etc/passwd\n",
		"a 60 IN MX 10 mail\nb 60 IN CNAME a\n* 60 IN A 192.0.2.1\n",
		"x.example.org. 60 A 192.0.2.1\n",
		"\\046 60 TXT \"\\000\"\n",
		"a 60 HTTPS 1 . alpn=h2\n",
		"$GENERATE 0-0", // an error without a position
		"; waymark:rrset {\"name\":\"w\",\"type\":\"A\",\"set_identifier\":\"a\",\"ttl\":60,\"records\":[\"192.0.2.1\"],\"weight\":3}\n",
		"; waymark:rrset {\"name\":\"@\",\"type\":\"A\",\"ttl\":0,\"records\":[],\"alias_target\":{\"hosted_zone_id\":\"Z1\",\"dns_name\":\"w.example.com.\",\"evaluate_target_health\":false}}\nw 60 A 192.0.2.1\n",
		"; waymark:rrset {\"name\":\"w\",\"type\":\"A\",\"ttl\":60,\"records\":[\"192.0.2.1\"],\"health_check_id\":\"h\"}\nw 60 A 192.0.2.2\n",
		"; waymark:rrset {\"name\":\"x.other.\"}\n; waymark:rrset [1]\n; waymark:rrset {\"name\":\"w\",\"type\":\"A\"}\n",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, text string) {
		const origin = "example.com."
		sets, details := parseZoneFile(origin, text)
		if len(details) > 0 && sets != nil {
			t.Fatal("both sets and details")
		}
		seen := map[zonecfg.Key]bool{}
		for _, s := range sets {
			k := s.Set.Key()
			if seen[k] {
				t.Fatalf("key %v twice", k)
			}
			seen[k] = true
			if !zonecfg.IsSubdomain(s.Set.Name, origin) || zonecfg.TypeCode(s.Set.Type) == 0 || (len(s.Set.Records) == 0 && s.Set.Alias == nil) {
				t.Fatalf("bad set %+v", s.Set)
			}
			if s.Line < 1 {
				t.Fatalf("set %+v without a line", s)
			}
		}
		for _, d := range details {
			if d.Line < 1 || d.Message == "" {
				t.Fatalf("bad detail %+v", d)
			}
		}
	})
}

func TestIntegrationImportZoneLarge(t *testing.T) {
	t.Parallel()
	e := newZoneEnv(t)
	ctx := context.Background()
	tenant := testTenant(t, e.pool)
	z := e.mustZone(t, tenant, "big.example")
	// More than a change batch may carry: the per-request limits do not
	// apply to an import.
	if _, err := e.s.ImportZone(ctx, tenant, z.ID, "$GENERATE 1-1500 h$ A 10.0.0.1\n"); err != nil {
		t.Fatal(err)
	}
	got, err := e.s.GetZone(ctx, tenant, z.ID)
	if err != nil || got.RRSetCount != 1502 || got.Version != 2 {
		t.Fatalf("zone = %+v, %v", got, err)
	}
	// The record quota does apply.
	small := testTenant(t, e.pool, testTenantOpts{recordQuota: 10})
	z2 := e.mustZone(t, small, "small.example")
	_, err = e.s.ImportZone(ctx, small, z2.ID, "$GENERATE 1-9 h$ A 10.0.0.1\n")
	wantErr(t, err, CodeTooManyRecords)
}

func TestIntegrationImportZoneSplitsEvents(t *testing.T) {
	t.Parallel()
	e := newZoneEnv(t)
	ctx := context.Background()
	tenant := testTenant(t, e.pool)
	z := e.mustZone(t, tenant, "split.example")
	var b strings.Builder
	b.WriteString("$TTL 60\n")
	chunk := strings.Repeat("x", 200)
	for i := range 3000 {
		fmt.Fprintf(&b, "h%d TXT \"%s\" \"%s\" \"%d\"\n", i, chunk, chunk, i)
	}
	info, err := e.s.ImportZone(ctx, tenant, z.ID, b.String())
	if err != nil {
		t.Fatal(err)
	}
	got, _ := e.s.GetZone(ctx, tenant, z.ID)
	if got.RRSetCount != 3002 || got.Version != info.ZoneVersion || got.Version < 4 {
		t.Fatalf("zone = %+v, change %+v", got, info)
	}

	// The events follow each other one version at a time, each fits in a
	// NATS message, only the last belongs to the change, and replaying
	// them gives the zone.
	rows, err := e.pool.Query(ctx, `SELECT zone_version, change_id, payload FROM outbox_event WHERE zone_id = $1 ORDER BY id`, z.ID)
	if err != nil {
		t.Fatal(err)
	}
	type outboxRow struct {
		Version  int64
		ChangeID *string
		Payload  []byte
	}
	outbox, err := pgx.CollectRows(rows, pgx.RowToStructByPos[outboxRow])
	if err != nil {
		t.Fatal(err)
	}
	state := map[zonecfg.Key]string{}
	for i, o := range outbox {
		ev, err := event.DecodeZoneEvent(o.Payload)
		if err != nil {
			t.Fatal(err)
		}
		if ev.FromVersion != int64(i) || ev.ToVersion != int64(i+1) || o.Version != ev.ToVersion {
			t.Fatalf("event %d: %d -> %d (row %d)", i, ev.FromVersion, ev.ToVersion, o.Version)
		}
		if len(o.Payload) > 1<<20 {
			t.Errorf("event %d is %d bytes", i, len(o.Payload))
		}
		last := i == len(outbox)-1
		if first := i == 0; !first && (o.ChangeID != nil) != last {
			t.Errorf("event %d change id %v", i, o.ChangeID)
		}
		// Every part but the last of the split import is marked
		// continued, so nameservers serve it whole (the first event is
		// the zone's creation).
		if i > 0 && ev.Continued == last {
			t.Errorf("event %d of %d: continued = %v", i, len(outbox), ev.Continued)
		}
		if last && (o.ChangeID == nil || *o.ChangeID != info.ID || ev.ChangeID != info.ID) {
			t.Errorf("last event change %v / %s, want %s", o.ChangeID, ev.ChangeID, info.ID)
		}
		for _, k := range ev.Deletes {
			delete(state, k)
		}
		for _, rs := range ev.Upserts {
			state[rs.Key()] = fmt.Sprint(rs.TTL, rs.Records)
		}
	}
	if len(outbox) != int(got.Version) {
		t.Errorf("%d events for version %d", len(outbox), got.Version)
	}
	sets := e.allRRSets(t, tenant, z.ID)
	if len(state) != len(sets) {
		t.Fatalf("replay has %d sets, zone %d", len(state), len(sets))
	}
	for _, rs := range sets {
		c, _ := rs.Canonical()
		if state[rs.Key()] != fmt.Sprint(rs.TTL, c) {
			t.Fatalf("%v: replay %q, zone %v", rs.Key(), state[rs.Key()], c)
		}
	}

	// A record set larger than a change batch could make it is refused.
	var big strings.Builder
	big.WriteString("$TTL 60\nok A 192.0.2.1\n")
	for i := range 130 {
		fmt.Fprintf(&big, "big TXT \"%s%d\"\n", strings.Repeat("y", 250), i)
	}
	_, err = e.s.ImportZone(ctx, tenant, z.ID, big.String())
	ce := wantErr(t, err, CodeInvalidChangeBatch, "more than 32000 characters")
	if ce.Details[0].Line != 3 {
		t.Errorf("line %d", ce.Details[0].Line)
	}
}
