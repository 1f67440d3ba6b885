package main

import (
	"strings"

	"github.com/waymark-dns/waymark/zonecfg"
)

// routedSets turns the plain A record sets whose first label is wt<N> into
// weighted groups and those named geo<N> into geolocation groups, keeping
// the first value as one member. The same master file then gives Knot
// plain records and Waymark routed ones at the same names, so that one
// query file measures both (dns_vs_knot.sh ROUTED=1).
//
// wt<N>: weights 1 (the file's value), 2 and 0 (with a health check, which
// the benchmark's empty health map counts healthy): every answer draws a
// random number and consults the health view. geo<N>: US-CA, US, EU and
// the default; dnsperf's 127.0.0.1 is in US-CA in mkgeoip's database, so
// every answer looks up the GeoIP database and walks all four locations.
func routedSets(sets []zonecfg.RRSet) []zonecfg.RRSet {
	out := make([]zonecfg.RRSet, 0, len(sets))
	w := func(v uint8) *uint8 { return &v }
	for _, rs := range sets {
		label, _, _ := strings.Cut(rs.Name, ".")
		if rs.Type != "A" || len(rs.Records) == 0 {
			out = append(out, rs)
			continue
		}
		mk := func(id, value string) zonecfg.RRSet {
			return zonecfg.RRSet{Name: rs.Name, Type: "A", SetIdentifier: id, TTL: rs.TTL, Records: []string{value}}
		}
		switch {
		case isNumbered(label, "wt"):
			a, b, c := mk("a", rs.Records[0]), mk("b", "192.0.2.2"), mk("c", "192.0.2.3")
			a.Weight, b.Weight, c.Weight, c.HealthCheckID = w(1), w(2), w(0), "hc-c"
			out = append(out, a, b, c)
		case isNumbered(label, "geo"):
			ca, us, eu, def := mk("us-ca", rs.Records[0]), mk("us", "192.0.2.2"), mk("eu", "192.0.2.3"), mk("def", "192.0.2.4")
			ca.Geo = &zonecfg.GeoLocation{CountryCode: "US", SubdivisionCode: "CA"}
			us.Geo = &zonecfg.GeoLocation{CountryCode: "US"}
			eu.Geo = &zonecfg.GeoLocation{ContinentCode: "EU"}
			def.Geo = &zonecfg.GeoLocation{CountryCode: zonecfg.GeoDefault}
			out = append(out, ca, us, eu, def)
		default:
			out = append(out, rs)
		}
	}
	return out
}

// isNumbered reports whether label is prefix followed by decimal digits.
func isNumbered(label, prefix string) bool {
	rest, ok := strings.CutPrefix(label, prefix)
	if !ok || rest == "" {
		return false
	}
	for _, c := range rest {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}
