package controlplane

import "testing"

func TestAuditToken(t *testing.T) {
	for _, tc := range []struct {
		tok  string
		want int64
		ok   bool
	}{
		{auditToken(1), 1, true},
		{auditToken(9223372036854775807), 9223372036854775807, true},
		{"", 0, false},
		{"!!", 0, false},
		{"MA", 0, false},                         // "0"
		{"LTE", 0, false},                        // "-1"
		{"KzE", 0, false},                        // "+1"
		{"MDE", 0, false},                        // "01": not a token this API makes
		{"OTk5OTk5OTk5OTk5OTk5OTk5OQ", 0, false}, // overflows int64
	} {
		got, ok := parseAuditToken(tc.tok)
		if got != tc.want || ok != tc.ok {
			t.Errorf("parseAuditToken(%q) = %d, %v; want %d, %v", tc.tok, got, ok, tc.want, tc.ok)
		}
	}
}

// FuzzAuditToken: any string either fails or is exactly a token of the
// position it names.
func FuzzAuditToken(f *testing.F) {
	f.Add(auditToken(42))
	f.Add("MDE")
	f.Add("")
	f.Fuzz(func(t *testing.T, tok string) {
		seq, ok := parseAuditToken(tok)
		if !ok {
			return
		}
		if seq <= 0 || auditToken(seq) != tok {
			t.Fatalf("parseAuditToken(%q) = %d, but auditToken(%d) = %q", tok, seq, seq, auditToken(seq))
		}
	})
}
