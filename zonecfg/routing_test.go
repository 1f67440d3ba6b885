package zonecfg

import (
	"errors"
	"strings"
	"testing"
)

func u8(v uint8) *uint8 { return &v }

func TestValidateRouting(t *testing.T) {
	t.Parallel()
	base := func(mod func(*RRSet)) RRSet {
		rs := RRSet{Name: "www.example.com.", Type: "A", TTL: 60, Records: []string{"192.0.2.1"}}
		mod(&rs)
		return rs
	}
	cases := []struct {
		name   string
		rs     RRSet
		policy Policy
		err    string // substring; "" means valid
	}{
		{"simple", base(func(*RRSet) {}), PolicySimple, ""},
		{"simple with health check", base(func(r *RRSet) { r.HealthCheckID = "hc-1" }), PolicySimple, ""},
		{"weighted", base(func(r *RRSet) { r.SetIdentifier, r.Weight = "a", u8(0) }), PolicyWeighted, ""},
		{"weighted 255", base(func(r *RRSet) { r.SetIdentifier, r.Weight = "a", u8(255) }), PolicyWeighted, ""},
		{"latency", base(func(r *RRSet) { r.SetIdentifier, r.Region = "a", "eu-west-1" }), PolicyLatency, ""},
		{"unknown region", base(func(r *RRSet) { r.SetIdentifier, r.Region = "a", "mars-1" }), "", "unknown region"},
		{"continent", base(func(r *RRSet) { r.SetIdentifier, r.Geo = "a", &GeoLocation{ContinentCode: "EU"} }), PolicyGeolocation, ""},
		{"bad continent", base(func(r *RRSet) { r.SetIdentifier, r.Geo = "a", &GeoLocation{ContinentCode: "XX"} }), "", "unknown continent"},
		{"continent and country", base(func(r *RRSet) { r.SetIdentifier, r.Geo = "a", &GeoLocation{ContinentCode: "EU", CountryCode: "FR"} }), "", "excludes"},
		{"country", base(func(r *RRSet) { r.SetIdentifier, r.Geo = "a", &GeoLocation{CountryCode: "FR"} }), PolicyGeolocation, ""},
		{"bad country", base(func(r *RRSet) { r.SetIdentifier, r.Geo = "a", &GeoLocation{CountryCode: "fr"} }), "", "unknown country"},
		{"default", base(func(r *RRSet) { r.SetIdentifier, r.Geo = "a", &GeoLocation{CountryCode: "*"} }), PolicyGeolocation, ""},
		{"default with subdivision", base(func(r *RRSet) { r.SetIdentifier, r.Geo = "a", &GeoLocation{CountryCode: "*", SubdivisionCode: "WA"} }), "", "no subdivision"},
		{"US state", base(func(r *RRSet) { r.SetIdentifier, r.Geo = "a", &GeoLocation{CountryCode: "US", SubdivisionCode: "WA"} }), PolicyGeolocation, ""},
		{"bad US state", base(func(r *RRSet) { r.SetIdentifier, r.Geo = "a", &GeoLocation{CountryCode: "US", SubdivisionCode: "ZZ"} }), "", "unknown US subdivision"},
		{"non-US subdivision", base(func(r *RRSet) { r.SetIdentifier, r.Geo = "a", &GeoLocation{CountryCode: "CA", SubdivisionCode: "QC"} }), "", "US only"},
		{"empty geolocation", base(func(r *RRSet) { r.SetIdentifier, r.Geo = "a", &GeoLocation{} }), "", "needs a continent_code"},
		{"primary", base(func(r *RRSet) { r.SetIdentifier, r.Failover = "a", FailoverPrimary }), PolicyFailover, ""},
		{"bad failover", base(func(r *RRSet) { r.SetIdentifier, r.Failover = "a", "primary" }), "", "PRIMARY or SECONDARY"},
		{"multivalue", base(func(r *RRSet) { r.SetIdentifier, r.MultiValue = "a", true }), PolicyMultiValue, ""},
		{"multivalue CNAME", RRSet{Name: "w.example.com.", Type: "CNAME", SetIdentifier: "a", TTL: 1, Records: []string{"x.example."}, Routing: Routing{MultiValue: true}}, "", "CNAME"},
		{"cidr", base(func(r *RRSet) {
			r.SetIdentifier, r.CIDR = "a", &CIDRRouting{CollectionID: "c1", LocationName: "office-1"}
		}), PolicyCIDR, ""},
		{"cidr default", base(func(r *RRSet) { r.SetIdentifier, r.CIDR = "a", &CIDRRouting{CollectionID: "c1", LocationName: "*"} }), PolicyCIDR, ""},
		{"cidr bad location", base(func(r *RRSet) { r.SetIdentifier, r.CIDR = "a", &CIDRRouting{CollectionID: "c1", LocationName: "a b"} }), "", "location name"},
		{"cidr no collection", base(func(r *RRSet) { r.SetIdentifier, r.CIDR = "a", &CIDRRouting{LocationName: "x"} }), "", "collection_id"},
		{"two policies", base(func(r *RRSet) { r.SetIdentifier, r.Weight, r.Region = "a", u8(1), "eu-west-1" }), "", "at most one routing policy"},
		{"policy without set identifier", base(func(r *RRSet) { r.Weight = u8(1) }), "", "needs a set_identifier"},
		{"set identifier without policy", base(func(r *RRSet) { r.SetIdentifier = "a" }), "", "needs a routing policy"},
		{"long set identifier", base(func(r *RRSet) { r.SetIdentifier, r.Weight = strings.Repeat("a", 129), u8(1) }), "", "longer than"},
		{"weighted NS", RRSet{Name: "d.example.com.", Type: "NS", SetIdentifier: "a", TTL: 1, Records: []string{"ns.example."}, Routing: Routing{Weight: u8(1)}}, "", "simple routing only"},
		{"alias", RRSet{Name: "example.com.", Type: "A", Routing: Routing{Alias: &AliasTarget{HostedZoneID: "Z1", DNSName: "www.example.com"}}}, PolicySimple, ""},
		{"weighted alias", RRSet{Name: "example.com.", Type: "A", SetIdentifier: "a", Routing: Routing{Weight: u8(3), Alias: &AliasTarget{HostedZoneID: "Z1", DNSName: "www.example.com"}}}, PolicyWeighted, ""},
		{"alias with records", RRSet{Name: "example.com.", Type: "A", Records: []string{"192.0.2.1"}, Routing: Routing{Alias: &AliasTarget{HostedZoneID: "Z1", DNSName: "w.example.com"}}}, "", "no ttl and no records"},
		{"alias with ttl", RRSet{Name: "example.com.", Type: "A", TTL: 60, Routing: Routing{Alias: &AliasTarget{HostedZoneID: "Z1", DNSName: "w.example.com"}}}, "", "no ttl and no records"},
		{"alias NS", RRSet{Name: "example.com.", Type: "NS", Routing: Routing{Alias: &AliasTarget{HostedZoneID: "Z1", DNSName: "w.example.com"}}}, "", "cannot be aliases"},
		{"alias bad name", RRSet{Name: "example.com.", Type: "A", Routing: Routing{Alias: &AliasTarget{HostedZoneID: "Z1", DNSName: "a..b"}}}, "", "dns_name"},
		{"alias no zone", RRSet{Name: "example.com.", Type: "A", Routing: Routing{Alias: &AliasTarget{DNSName: "w.example.com"}}}, "", "hosted_zone_id"},
		{"multivalue alias", RRSet{Name: "example.com.", Type: "A", SetIdentifier: "a", Routing: Routing{MultiValue: true, Alias: &AliasTarget{HostedZoneID: "Z1", DNSName: "w.example.com"}}}, "", "cannot be aliases"},
		{"no records", RRSet{Name: "example.com.", Type: "A", TTL: 1}, "", "at least one value"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			err := c.rs.Validate()
			if c.err == "" {
				if err != nil {
					t.Fatalf("Validate: %v", err)
				}
				if got := c.rs.Policy(); got != c.policy {
					t.Fatalf("Policy = %s, want %s", got, c.policy)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), c.err) || !errors.Is(err, ErrInvalidRecord) {
				t.Fatalf("Validate = %v, want an ErrInvalidRecord containing %q", err, c.err)
			}
		})
	}
}

func TestGeoTables(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		country, continent string
	}{{"US", "NA"}, {"AD", "EU"}, {"ZW", "AF"}, {"NA", "AF"}, {"RU", "EU"}, {"TR", "EU"}, {"AE", "AS"}, {"IL", "AS"}, {"AS", "OC"}, {"BR", "SA"}} {
		got, ok := CountryContinent(c.country)
		if !ok || got != c.continent {
			t.Errorf("CountryContinent(%s) = %s, %v; want %s", c.country, got, ok, c.continent)
		}
	}
	for _, bad := range []string{"", "X", "ZZ", "EU", "AF:", "us", "D:"} {
		if _, ok := CountryContinent(bad); ok {
			t.Errorf("CountryContinent(%q) accepted", bad)
		}
	}
	cs := Countries()
	seen := map[string]bool{}
	for i, c := range cs {
		if seen[c] || (i > 0 && cs[i-1] >= c) {
			t.Fatalf("country list not sorted and unique at %s", c)
		}
		seen[c] = true
		if cont, _ := CountryContinent(c); !IsContinent(cont) {
			t.Fatalf("%s has continent %q", c, cont)
		}
	}
	if len(cs) < 240 {
		t.Fatalf("only %d countries", len(cs))
	}
	if len(Subdivisions("US")) != 51 || !IsSubdivision("US", "DC") || IsSubdivision("CA", "QC") {
		t.Fatal("US subdivisions wrong")
	}
	rs := Regions()
	for i, r := range rs {
		if i > 0 && rs[i-1].Name >= r.Name {
			t.Fatalf("regions not sorted at %s", r.Name)
		}
		if r.Lat < -90 || r.Lat > 90 || r.Lon < -180 || r.Lon > 180 {
			t.Fatalf("region %s has bad coordinates", r.Name)
		}
		if got, ok := LookupRegion(r.Name); !ok || got != r {
			t.Fatalf("LookupRegion(%s) = %v, %v", r.Name, got, ok)
		}
	}
}

func TestRoutingEqual(t *testing.T) {
	t.Parallel()
	full := func() Routing {
		return Routing{Weight: u8(0), Region: "eu-west-1", Geo: &GeoLocation{CountryCode: "US", SubdivisionCode: "WA"},
			Failover: FailoverPrimary, MultiValue: true, CIDR: &CIDRRouting{CollectionID: "c1", LocationName: "*"},
			HealthCheckID: "h1", Alias: &AliasTarget{HostedZoneID: "Z1", DNSName: "a.example.", EvaluateTargetHealth: true}}
	}
	cases := []struct {
		name string
		mod  func(*Routing)
		want bool
	}{
		{"same values, other pointers", func(*Routing) {}, true},
		{"weight 0 against none", func(r *Routing) { r.Weight = nil }, false},
		{"other weight", func(r *Routing) { r.Weight = u8(1) }, false},
		{"other region", func(r *Routing) { r.Region = "eu-west-2" }, false},
		{"other geolocation", func(r *Routing) { r.Geo = &GeoLocation{CountryCode: "US"} }, false},
		{"no geolocation", func(r *Routing) { r.Geo = nil }, false},
		{"other failover", func(r *Routing) { r.Failover = FailoverSecondary }, false},
		{"not multivalue", func(r *Routing) { r.MultiValue = false }, false},
		{"other CIDR location", func(r *Routing) { r.CIDR = &CIDRRouting{CollectionID: "c1", LocationName: "x"} }, false},
		{"other health check", func(r *Routing) { r.HealthCheckID = "" }, false},
		{"alias without target health", func(r *Routing) { r.Alias = &AliasTarget{HostedZoneID: "Z1", DNSName: "a.example."} }, false},
		{"no alias", func(r *Routing) { r.Alias = nil }, false},
	}
	for _, tc := range cases {
		a, b := full(), full()
		tc.mod(&b)
		if got := a.Equal(b); got != tc.want {
			t.Errorf("%s: Equal = %v, want %v", tc.name, got, tc.want)
		}
		if got := b.Equal(a); got != tc.want {
			t.Errorf("%s: Equal (reversed) = %v, want %v", tc.name, got, tc.want)
		}
	}
	if !(Routing{}).Equal(Routing{}) {
		t.Error("zero Routings differ")
	}
}
