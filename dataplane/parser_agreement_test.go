package dataplane

import (
	"errors"
	"strings"
	"testing"

	"github.com/miekg/dns"
	"github.com/waymark-dns/waymark/event"
	"github.com/waymark-dns/waymark/zonecfg"
)

// recordCorpus is record data of every supported type: the seeds of
// zonecfg's FuzzParseRecord, and the forms on which the planes used to
// disagree (non-hex DS/SSHFP/TLSA data that parsed but did not pack, SVCB
// parameters that pack but resolvers reject).
var recordCorpus = []struct{ typ, value string }{
	{"A", "192.0.2.1"},
	{"A", "::ffff:192.0.2.1"},
	{"A", "192.0.2.1 ; comment"},
	{"AAAA", "2001:db8::1"},
	{"AAAA", "::ffff:192.0.2.1"},
	{"AAAA", "192.0.2.1"},
	{"CAA", `0 issue "letsencrypt.org"`},
	{"CAA", `128 tbs "x"`},
	{"CAA", `0 "" "x"`},
	{"CNAME", "www.example.com"},
	{"DS", "60485 5 1 2BB183AF5F22588179A53B0A98631FAD1A292118"},
	{"DS", "60485 5 1 NOTHEXNOTHEX"},
	{"DS", "60485 5 1 ABC"},
	{"HTTPS", `1 . alpn="h2,h3" ipv4hint=192.0.2.1`},
	{"HTTPS", `1 . mandatory=alpn`},
	{"HTTPS", `1 . mandatory=alpn alpn=h2`},
	{"HTTPS", `1 . mandatory=mandatory alpn=h2`},
	{"HTTPS", `1 . no-default-alpn`},
	{"HTTPS", `1 . no-default-alpn alpn=h2`},
	{"HTTPS", `0 svc.example.com.`},
	{"MX", "10 mail.example.com."},
	{"MX", "( 10 mail )"},
	{"NAPTR", `100 10 "U" "E2U+sip" "!^.*$!sip:info@example.com!" .`},
	{"NS", "ns1.example.net."},
	{"PTR", "host.example.com."},
	{"SOA", "ns1.example.com. hostmaster.example.com. 1 7200 900 1209600 86400"},
	{"SPF", `"v=spf1 -all"`},
	{"SRV", "10 5 5060 sip.example.com."},
	{"SSHFP", "4 2 123456789ABCDEF67890123456789ABCDEF67890123456789ABCDEF123456789"},
	{"SSHFP", "4 2 ZZZZ"},
	{"SVCB", `1 svc.example.com. port=8443`},
	{"SVCB", `1 svc.example.com. mandatory=port`},
	{"SVCB", `1 svc.example.com. mandatory=port port=53`},
	{"TLSA", "3 1 1 0C72AC70B745AC19998811B131D662C9AC69DBDBE7CB23E5B514B56664C5D3D6"},
	{"TLSA", "3 1 1 XYZ"},
	{"TXT", `"a \"quoted\" \\; string" "\000\255"`},
	{"TXT", "unquoted words"},
	{"TXT", "\"line\nbreak\""},
	{"TXT", `"` + strings.Repeat("a", 255) + `"`},
	{"TXT", `"` + strings.Repeat("a", 256) + `"`},
	{"TXT", `"` + strings.Repeat(`\255`, 255) + `"`},
	{"TXT", `"` + strings.Repeat(`\255`, 256) + `"`},
}

// TestParserAgreement feeds every corpus value to the control plane's
// acceptance (zonecfg.RRSet.Validate, which the change and import paths
// call) and to a nameserver loading it, and requires the same verdict:
// what is accepted is served, what is refused would not load.
func TestParserAgreement(t *testing.T) {
	t.Parallel()
	for _, c := range recordCorpus {
		checkAgreement(t, c.typ, c.value)
	}
}

// FuzzParserAgreement is TestParserAgreement over arbitrary data.
func FuzzParserAgreement(f *testing.F) {
	for _, c := range recordCorpus {
		f.Add(c.typ, c.value)
	}
	f.Fuzz(func(t *testing.T, typ, value string) {
		if zonecfg.TypeCode(typ) == 0 {
			return
		}
		checkAgreement(t, typ, value)
	})
}

func checkAgreement(t *testing.T, typ, value string) {
	t.Helper()
	name := "www.example.net."
	if typ == "SOA" {
		name = "example.net."
	}
	rs := zonecfg.RRSet{Name: name, Type: typ, TTL: 300, Records: []string{value}}
	accepted := rs.Validate() == nil
	sets := []zonecfg.RRSet{rs}
	if typ != "SOA" {
		sets = append(sets, soaSet("example.net."))
	}
	_, err := buildZone(event.ZoneState{ID: "Z1", Name: "example.net.", Version: 1, RRSets: sets})
	served := err == nil
	if err != nil && !errors.Is(err, ErrSkippedRecords) {
		t.Fatalf("%s %q: %v", typ, value, err)
	}
	if accepted != served {
		t.Errorf("%s %q: control plane accepts: %v, nameserver serves: %v (%v)", typ, value, accepted, served, err)
	}
}

// TestUnservableDataIsServfail: a record set that reaches a nameserver but
// does not pack (a control plane older than this one accepted it) makes
// its name SERVFAIL, not NXDOMAIN, until a valid version replaces it or it
// is deleted; the rest of the zone is served.
func TestUnservableDataIsServfail(t *testing.T) {
	t.Parallel()
	s := NewStore()
	bad := zonecfg.RRSet{Name: "bad.example.net.", Type: "DS", TTL: 60, Records: []string{"60485 5 1 NOTHEX"}}
	err := s.ReplaceZone(event.ZoneState{ID: "Z1", Name: "example.net.", Version: 3, RRSets: []zonecfg.RRSet{
		soaSet("example.net."), aSet("ok.example.net.", 60, "192.0.2.1"), bad,
	}})
	if !errors.Is(err, ErrSkippedRecords) {
		t.Fatalf("got %v, want ErrSkippedRecords", err)
	}
	if n := s.Unservable(); n != 1 {
		t.Errorf("Unservable() = %d, want 1", n)
	}
	h := readyHandler(s)
	for _, qt := range []uint16{dns.TypeDS, dns.TypeA} {
		if m := ask(t, h, "bad.example.net.", qt); m.Rcode != dns.RcodeServerFailure {
			t.Errorf("bad name, type %d: rcode %s, want SERVFAIL", qt, dns.RcodeToString[m.Rcode])
		}
	}
	if m := ask(t, h, "ok.example.net.", dns.TypeA); m.Rcode != dns.RcodeSuccess || len(m.Answer) != 1 {
		t.Errorf("valid record set not served: %v", m)
	}
	if m := ask(t, h, "nothing.example.net.", dns.TypeA); m.Rcode != dns.RcodeNameError {
		t.Errorf("absent name: rcode %s, want NXDOMAIN", dns.RcodeToString[m.Rcode])
	}

	// A valid version of the set replaces the bad one.
	good := bad
	good.Records = []string{"60485 5 1 2BB183AF5F22588179A53B0A98631FAD1A292118"}
	if _, err := s.Apply(event.ZoneEvent{Kind: event.ZoneUpdated, ZoneID: "Z1", FromVersion: 3, ToVersion: 4,
		Upserts: []zonecfg.RRSet{good}}); err != nil {
		t.Fatalf("apply: %v", err)
	}
	if m := ask(t, h, "bad.example.net.", dns.TypeDS); m.Rcode != dns.RcodeSuccess || len(m.Answer) != 1 {
		t.Errorf("after a valid upsert: %v", m)
	}
	// Bad again, then deleted: NXDOMAIN once it is gone.
	if _, err := s.Apply(event.ZoneEvent{Kind: event.ZoneUpdated, ZoneID: "Z1", FromVersion: 4, ToVersion: 5,
		Upserts: []zonecfg.RRSet{bad}}); !errors.Is(err, ErrSkippedRecords) {
		t.Fatalf("apply bad: %v", err)
	}
	if m := ask(t, h, "bad.example.net.", dns.TypeDS); m.Rcode != dns.RcodeServerFailure {
		t.Errorf("bad again: rcode %s, want SERVFAIL", dns.RcodeToString[m.Rcode])
	}
	if _, err := s.Apply(event.ZoneEvent{Kind: event.ZoneUpdated, ZoneID: "Z1", FromVersion: 5, ToVersion: 6,
		Deletes: []zonecfg.Key{bad.Key()}}); err != nil {
		t.Fatalf("apply delete: %v", err)
	}
	if m := ask(t, h, "bad.example.net.", dns.TypeDS); m.Rcode != dns.RcodeNameError {
		t.Errorf("deleted: rcode %s, want NXDOMAIN", dns.RcodeToString[m.Rcode])
	}
	if n := s.Unservable(); n != 0 {
		t.Errorf("Unservable() = %d after the delete, want 0", n)
	}
}
