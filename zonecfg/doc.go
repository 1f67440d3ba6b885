// Package zonecfg holds the types and rules that the control plane and the
// data plane share: canonical DNS names, the record types Waymark serves,
// record sets and the parsing and validation of record data.
//
// It is a leaf package: it imports only the standard library, miekg/dns and
// golang.org/x/net/idna, so that both sides of the system can depend on it
// without depending on each other.
//
// Names are always canonical when they leave this package: lowercase, fully
// qualified with a trailing dot, internationalised labels as punycode.
//
//	name, err := zonecfg.CanonicalName("WWW.Example.com")   // "www.example.com."
//	rs := zonecfg.RRSet{Name: name, Type: "MX", TTL: 300, Records: []string{"10 mail.example.com."}}
//	if err := rs.Validate(); err != nil { ... }
package zonecfg
