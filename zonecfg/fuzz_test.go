package zonecfg

import (
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
