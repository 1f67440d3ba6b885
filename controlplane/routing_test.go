package controlplane

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/waymark-dns/waymark/event"
	"github.com/waymark-dns/waymark/zonecfg"
)

// routingEnv is a tenant with a health check and a CIDR collection (with
// locations "office" and "lab"), for the routing tests.
type routingEnv struct {
	zoneEnv
	tenant, hc, coll string
}

func newRoutingEnv(t *testing.T) routingEnv {
	t.Helper()
	e := newZoneEnv(t)
	ctx := context.Background()
	tenant := testTenant(t, e.pool)
	hc := "0b6f8a8e-4a9c-4f4e-9d55-2c1d8f0e7a11"
	if _, err := e.pool.Exec(ctx, `INSERT INTO health_check (id, tenant_id, caller_reference, type, config, healthy)
	        VALUES ($1, $2, 'hc', 'TCP', '{}', true)`, hc, tenant); err != nil {
		t.Fatal(err)
	}
	c, _, err := e.s.CreateCIDRCollection(ctx, tenant, "offices", "ref-1")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.s.ChangeCIDRCollection(ctx, tenant, c.ID, nil, []CIDRChange{
		{LocationName: "office", Action: CIDRPut, Blocks: []string{"192.0.2.0/24", "2001:db8::/48"}},
		{LocationName: "lab", Action: CIDRPut, Blocks: []string{"198.51.100.0/24"}},
	}); err != nil {
		t.Fatal(err)
	}
	return routingEnv{zoneEnv: e, tenant: tenant, hc: hc, coll: c.ID}
}

// Shorthands for routed record sets.
func weighted(action Action, name, id string, w uint8, values ...string) RRSetChange {
	c := rrs(action, name, "A", 60, values...)
	c.RRSet.SetIdentifier, c.RRSet.Weight = id, &w
	return c
}

func routed(action Action, name, typ, id string, mod func(*zonecfg.RRSet), values ...string) RRSetChange {
	c := rrs(action, name, typ, 60, values...)
	c.RRSet.SetIdentifier = id
	mod(&c.RRSet)
	return c
}

func alias(action Action, name, typ, zone, target string) RRSetChange {
	return RRSetChange{Action: action, RRSet: zonecfg.RRSet{Name: name, Type: typ, Routing: zonecfg.Routing{Alias: &zonecfg.AliasTarget{HostedZoneID: zone, DNSName: target, EvaluateTargetHealth: true}}}}
}

// TestIntegrationRoutingRules runs every routing and alias rule of a change
// batch, each case on fresh zones: example.com ($Z, with www A and mail
// A) and other.test ($O, with t A) of the tenant, and foreign.test ($F)
// of another tenant. $C is the tenant's CIDR collection, $H its health
// check.
func TestIntegrationRoutingRules(t *testing.T) {
	t.Parallel()
	e := newRoutingEnv(t)
	other := testTenant(t, e.pool)
	foreign := e.mustZone(t, other, "foreign.test")
	e.mustChange(t, other, foreign.ID, rrs(ActionCreate, "t.foreign.test", "A", 60, "192.0.2.9"))

	type ids struct{ Z, O, F, C, H string }
	tests := []struct {
		name string
		// setup runs on example.com, then other runs on other.test.
		setup, other func(ids) []RRSetChange
		changes      func(ids) []RRSetChange
		wantCode     Code
		details      []string
		check        func(t *testing.T, sets map[zonecfg.Key]zonecfg.RRSet)
	}{
		{name: "weighted", changes: func(ids) []RRSetChange {
			return []RRSetChange{weighted(ActionCreate, "w.example.com", "a", 0, "192.0.2.1"), weighted(ActionCreate, "w.example.com", "b", 255, "192.0.2.2")}
		}, check: func(t *testing.T, m map[zonecfg.Key]zonecfg.RRSet) {
			rs := m[zonecfg.Key{Name: "w.example.com.", Type: "A", SetIdentifier: "b"}]
			if rs.Weight == nil || *rs.Weight != 255 || rs.Policy() != zonecfg.PolicyWeighted {
				t.Errorf("listed %+v", rs)
			}
		}},
		{name: "set identifier without policy", changes: func(ids) []RRSetChange {
			c := rrs(ActionCreate, "w.example.com", "A", 60, "192.0.2.1")
			c.RRSet.SetIdentifier = "a"
			return []RRSetChange{c}
		}, wantCode: CodeInvalidChangeBatch, details: []string{"needs a routing policy"}},
		{name: "policy without set identifier", changes: func(ids) []RRSetChange {
			return []RRSetChange{weighted(ActionCreate, "w.example.com", "", 1, "192.0.2.1")}
		}, wantCode: CodeInvalidChangeBatch, details: []string{"needs a set_identifier"}},
		{name: "two policies on one set", changes: func(ids) []RRSetChange {
			c := weighted(ActionCreate, "w.example.com", "a", 1, "192.0.2.1")
			c.RRSet.Region = "eu-west-1"
			return []RRSetChange{c}
		}, wantCode: CodeInvalidChangeBatch, details: []string{"at most one routing policy"}},
		{name: "policies do not mix", changes: func(ids) []RRSetChange {
			return []RRSetChange{weighted(ActionCreate, "w.example.com", "a", 1, "192.0.2.1"),
				routed(ActionCreate, "w.example.com", "A", "b", func(r *zonecfg.RRSet) { r.Region = "eu-west-1" }, "192.0.2.2")}
		}, wantCode: CodeInvalidChangeBatch, details: []string{"uses the latency routing policy and the record set with SetIdentifier a uses weighted"}},
		{name: "simple beside routed", changes: func(ids) []RRSetChange {
			return []RRSetChange{weighted(ActionCreate, "www.example.com", "a", 1, "192.0.2.1")}
		}, wantCode: CodeInvalidChangeBatch, details: []string{"no SetIdentifier exists"}},
		{name: "routed then simple", setup: func(ids) []RRSetChange {
			return []RRSetChange{weighted(ActionCreate, "w.example.com", "a", 1, "192.0.2.1")}
		}, changes: func(ids) []RRSetChange {
			return []RRSetChange{rrs(ActionCreate, "w.example.com", "A", 60, "192.0.2.2")}
		}, wantCode: CodeInvalidChangeBatch, details: []string{"cannot be created without a SetIdentifier"}},
		{name: "latency", changes: func(ids) []RRSetChange {
			return []RRSetChange{
				routed(ActionCreate, "l.example.com", "A", "eu", func(r *zonecfg.RRSet) { r.Region = "eu-west-1" }, "192.0.2.1"),
				routed(ActionCreate, "l.example.com", "A", "us", func(r *zonecfg.RRSet) { r.Region = "us-east-1" }, "192.0.2.2")}
		}},
		{name: "unknown region", changes: func(ids) []RRSetChange {
			return []RRSetChange{routed(ActionCreate, "l.example.com", "A", "x", func(r *zonecfg.RRSet) { r.Region = "mars-north-1" }, "192.0.2.1")}
		}, wantCode: CodeInvalidChangeBatch, details: []string{"unknown region"}},
		{name: "region twice", changes: func(ids) []RRSetChange {
			return []RRSetChange{
				routed(ActionCreate, "l.example.com", "A", "eu", func(r *zonecfg.RRSet) { r.Region = "eu-west-1" }, "192.0.2.1"),
				routed(ActionCreate, "l.example.com", "A", "eu2", func(r *zonecfg.RRSet) { r.Region = "eu-west-1" }, "192.0.2.2")}
		}, wantCode: CodeInvalidChangeBatch, details: []string{"already uses region eu-west-1"}},
		{name: "geolocation", changes: func(ids) []RRSetChange {
			return []RRSetChange{
				routed(ActionCreate, "g.example.com", "A", "eu", func(r *zonecfg.RRSet) { r.Geo = &zonecfg.GeoLocation{ContinentCode: "EU"} }, "192.0.2.1"),
				routed(ActionCreate, "g.example.com", "A", "fr", func(r *zonecfg.RRSet) { r.Geo = &zonecfg.GeoLocation{CountryCode: "FR"} }, "192.0.2.2"),
				routed(ActionCreate, "g.example.com", "A", "wa", func(r *zonecfg.RRSet) { r.Geo = &zonecfg.GeoLocation{CountryCode: "US", SubdivisionCode: "WA"} }, "192.0.2.3"),
				routed(ActionCreate, "g.example.com", "A", "def", func(r *zonecfg.RRSet) { r.Geo = &zonecfg.GeoLocation{CountryCode: "*"} }, "192.0.2.4")}
		}, check: func(t *testing.T, m map[zonecfg.Key]zonecfg.RRSet) {
			if g := m[zonecfg.Key{Name: "g.example.com.", Type: "A", SetIdentifier: "wa"}].Geo; g == nil || g.String() != "US-WA" {
				t.Errorf("geolocation %+v", g)
			}
		}},
		{name: "continent excludes country", changes: func(ids) []RRSetChange {
			return []RRSetChange{routed(ActionCreate, "g.example.com", "A", "x", func(r *zonecfg.RRSet) {
				r.Geo = &zonecfg.GeoLocation{ContinentCode: "EU", CountryCode: "FR"}
			}, "192.0.2.1")}
		}, wantCode: CodeInvalidChangeBatch, details: []string{"excludes"}},
		{name: "subdivision outside US", changes: func(ids) []RRSetChange {
			return []RRSetChange{routed(ActionCreate, "g.example.com", "A", "x", func(r *zonecfg.RRSet) {
				r.Geo = &zonecfg.GeoLocation{CountryCode: "CA", SubdivisionCode: "QC"}
			}, "192.0.2.1")}
		}, wantCode: CodeInvalidChangeBatch, details: []string{"US only"}},
		{name: "bad country", changes: func(ids) []RRSetChange {
			return []RRSetChange{routed(ActionCreate, "g.example.com", "A", "x", func(r *zonecfg.RRSet) { r.Geo = &zonecfg.GeoLocation{CountryCode: "XX"} }, "192.0.2.1")}
		}, wantCode: CodeInvalidChangeBatch, details: []string{"unknown country_code"}},
		{name: "location twice", changes: func(ids) []RRSetChange {
			return []RRSetChange{
				routed(ActionCreate, "g.example.com", "A", "a", func(r *zonecfg.RRSet) { r.Geo = &zonecfg.GeoLocation{CountryCode: "FR"} }, "192.0.2.1"),
				routed(ActionCreate, "g.example.com", "A", "b", func(r *zonecfg.RRSet) { r.Geo = &zonecfg.GeoLocation{CountryCode: "FR"} }, "192.0.2.2")}
		}, wantCode: CodeInvalidChangeBatch, details: []string{"already uses geolocation FR"}},
		{name: "failover", changes: func(ids) []RRSetChange {
			return []RRSetChange{
				routed(ActionCreate, "f.example.com", "A", "p", func(r *zonecfg.RRSet) { r.Failover = zonecfg.FailoverPrimary }, "192.0.2.1"),
				routed(ActionCreate, "f.example.com", "A", "s", func(r *zonecfg.RRSet) { r.Failover = zonecfg.FailoverSecondary }, "192.0.2.2")}
		}},
		{name: "two primaries", changes: func(ids) []RRSetChange {
			return []RRSetChange{
				routed(ActionCreate, "f.example.com", "A", "p", func(r *zonecfg.RRSet) { r.Failover = zonecfg.FailoverPrimary }, "192.0.2.1"),
				routed(ActionCreate, "f.example.com", "A", "p2", func(r *zonecfg.RRSet) { r.Failover = zonecfg.FailoverPrimary }, "192.0.2.2")}
		}, wantCode: CodeInvalidChangeBatch, details: []string{"already the PRIMARY failover record"}},
		{name: "bad failover", changes: func(ids) []RRSetChange {
			return []RRSetChange{routed(ActionCreate, "f.example.com", "A", "p", func(r *zonecfg.RRSet) { r.Failover = "TERTIARY" }, "192.0.2.1")}
		}, wantCode: CodeInvalidChangeBatch, details: []string{"PRIMARY or SECONDARY"}},
		{name: "multivalue", changes: func(ids) []RRSetChange {
			return []RRSetChange{
				routed(ActionCreate, "m.example.com", "A", "1", func(r *zonecfg.RRSet) { r.MultiValue = true }, "192.0.2.1"),
				routed(ActionCreate, "m.example.com", "A", "2", func(r *zonecfg.RRSet) { r.MultiValue = true }, "192.0.2.2")}
		}},
		{name: "multivalue CNAME", changes: func(ids) []RRSetChange {
			return []RRSetChange{routed(ActionCreate, "m.example.com", "CNAME", "1", func(r *zonecfg.RRSet) { r.MultiValue = true }, "www.example.com.")}
		}, wantCode: CodeInvalidChangeBatch, details: []string{"cannot be of type CNAME"}},
		{name: "routed NS", changes: func(ids) []RRSetChange {
			return []RRSetChange{routed(ActionCreate, "d.example.com", "NS", "1", func(r *zonecfg.RRSet) { r.Weight = new(uint8(1)) }, "ns.test.")}
		}, wantCode: CodeInvalidChangeBatch, details: []string{"simple routing only"}},
		{name: "at most 100 routed sets", changes: func(ids) []RRSetChange {
			var cs []RRSetChange
			for i := range 101 {
				cs = append(cs, weighted(ActionCreate, "many.example.com", fmt.Sprint(i), 1, fmt.Sprintf("10.0.%d.1", i)))
			}
			return cs
		}, wantCode: CodeInvalidChangeBatch, details: []string{"at most 100"}},
		{name: "health check", changes: func(x ids) []RRSetChange {
			c := routed(ActionCreate, "f.example.com", "A", "p", func(r *zonecfg.RRSet) { r.Failover, r.HealthCheckID = zonecfg.FailoverPrimary, x.H }, "192.0.2.1")
			return []RRSetChange{c}
		}, check: func(t *testing.T, m map[zonecfg.Key]zonecfg.RRSet) {
			if rs := m[zonecfg.Key{Name: "f.example.com.", Type: "A", SetIdentifier: "p"}]; rs.HealthCheckID == "" {
				t.Errorf("health check not listed: %+v", rs)
			}
		}},
		{name: "unknown health check", changes: func(ids) []RRSetChange {
			c := rrs(ActionCreate, "h.example.com", "A", 60, "192.0.2.1")
			c.RRSet.HealthCheckID = "0b6f8a8e-0000-4f4e-9d55-2c1d8f0e7a11"
			return []RRSetChange{c}
		}, wantCode: CodeNoSuchHealthCheck},
		{name: "cidr", changes: func(x ids) []RRSetChange {
			return []RRSetChange{
				routed(ActionCreate, "c.example.com", "A", "o", func(r *zonecfg.RRSet) { r.CIDR = &zonecfg.CIDRRouting{CollectionID: x.C, LocationName: "office"} }, "192.0.2.1"),
				routed(ActionCreate, "c.example.com", "A", "d", func(r *zonecfg.RRSet) { r.CIDR = &zonecfg.CIDRRouting{CollectionID: x.C, LocationName: "*"} }, "192.0.2.2")}
		}},
		{name: "cidr unknown collection", changes: func(ids) []RRSetChange {
			return []RRSetChange{routed(ActionCreate, "c.example.com", "A", "o", func(r *zonecfg.RRSet) {
				r.CIDR = &zonecfg.CIDRRouting{CollectionID: "00000000-0000-4000-8000-000000000000", LocationName: "office"}
			}, "192.0.2.1")}
		}, wantCode: CodeNoSuchCidrCollection},
		{name: "cidr unknown location", changes: func(x ids) []RRSetChange {
			return []RRSetChange{routed(ActionCreate, "c.example.com", "A", "o", func(r *zonecfg.RRSet) { r.CIDR = &zonecfg.CIDRRouting{CollectionID: x.C, LocationName: "home"} }, "192.0.2.1")}
		}, wantCode: CodeNoSuchCidrLocation},
		{name: "cidr location twice", changes: func(x ids) []RRSetChange {
			return []RRSetChange{
				routed(ActionCreate, "c.example.com", "A", "a", func(r *zonecfg.RRSet) { r.CIDR = &zonecfg.CIDRRouting{CollectionID: x.C, LocationName: "lab"} }, "192.0.2.1"),
				routed(ActionCreate, "c.example.com", "A", "b", func(r *zonecfg.RRSet) { r.CIDR = &zonecfg.CIDRRouting{CollectionID: x.C, LocationName: "lab"} }, "192.0.2.2")}
		}, wantCode: CodeInvalidChangeBatch, details: []string{"already uses location lab"}},
		{name: "cidr one collection per name and type", changes: func(x ids) []RRSetChange {
			return []RRSetChange{
				routed(ActionCreate, "c.example.com", "A", "a", func(r *zonecfg.RRSet) { r.CIDR = &zonecfg.CIDRRouting{CollectionID: x.C, LocationName: "lab"} }, "192.0.2.1"),
				routed(ActionCreate, "c.example.com", "A", "b", func(r *zonecfg.RRSet) {
					r.CIDR = &zonecfg.CIDRRouting{CollectionID: "00000000-0000-4000-8000-000000000000", LocationName: "lab"}
				}, "192.0.2.2")}
		}, wantCode: CodeInvalidChangeBatch, details: []string{"same collection"}},
		{name: "alias at the apex", changes: func(x ids) []RRSetChange {
			return []RRSetChange{alias(ActionCreate, "example.com", "A", x.Z, "WWW.example.com")}
		}, check: func(t *testing.T, m map[zonecfg.Key]zonecfg.RRSet) {
			rs := m[zonecfg.Key{Name: "example.com.", Type: "A"}]
			if rs.Alias == nil || rs.Alias.DNSName != "www.example.com." || len(rs.Records) != 0 || rs.TTL != 0 || !rs.Alias.EvaluateTargetHealth {
				t.Errorf("listed %+v", rs)
			}
		}},
		{name: "alias with records", changes: func(x ids) []RRSetChange {
			c := alias(ActionCreate, "a.example.com", "A", x.Z, "www.example.com")
			c.RRSet.Records = []string{"192.0.2.1"}
			return []RRSetChange{c}
		}, wantCode: CodeInvalidChangeBatch, details: []string{"Expected exactly one of"}},
		{name: "CNAME alias at the apex", setup: func(ids) []RRSetChange {
			return []RRSetChange{rrs(ActionCreate, "cn.example.com", "CNAME", 60, "www.example.com.")}
		}, changes: func(x ids) []RRSetChange {
			return []RRSetChange{alias(ActionCreate, "example.com", "CNAME", x.Z, "cn.example.com")}
		}, wantCode: CodeInvalidChangeBatch, details: []string{"not permitted at apex"}},
		{name: "CNAME alias below the apex", setup: func(ids) []RRSetChange {
			return []RRSetChange{rrs(ActionCreate, "cn.example.com", "CNAME", 60, "www.example.com.")}
		}, changes: func(x ids) []RRSetChange {
			return []RRSetChange{alias(ActionCreate, "cn2.example.com", "CNAME", x.Z, "cn.example.com")}
		}},
		{name: "alias target missing", changes: func(x ids) []RRSetChange {
			return []RRSetChange{alias(ActionCreate, "a.example.com", "A", x.Z, "nowhere.example.com")}
		}, wantCode: CodeInvalidChangeBatch, details: []string{"targets nowhere.example.com., type A in zone"}},
		{name: "alias target of another type", changes: func(x ids) []RRSetChange {
			return []RRSetChange{alias(ActionCreate, "a.example.com", "AAAA", x.Z, "www.example.com")}
		}, wantCode: CodeInvalidChangeBatch, details: []string{"but that target was not found"}},
		{name: "alias NS", changes: func(x ids) []RRSetChange {
			return []RRSetChange{alias(ActionCreate, "d.example.com", "NS", x.Z, "www.example.com")}
		}, wantCode: CodeInvalidChangeBatch, details: []string{"cannot be aliases"}},
		{name: "multivalue alias", changes: func(x ids) []RRSetChange {
			c := alias(ActionCreate, "a.example.com", "A", x.Z, "www.example.com")
			c.RRSet.SetIdentifier, c.RRSet.MultiValue = "1", true
			return []RRSetChange{c}
		}, wantCode: CodeInvalidChangeBatch, details: []string{"cannot be aliases"}},
		{name: "alias to another zone of the tenant", changes: func(x ids) []RRSetChange {
			return []RRSetChange{alias(ActionCreate, "a.example.com", "A", "/hostedzone/"+x.O, "t.other.test")}
		}, check: func(t *testing.T, m map[zonecfg.Key]zonecfg.RRSet) {
			if rs := m[zonecfg.Key{Name: "a.example.com.", Type: "A"}]; rs.Alias == nil || strings.Contains(rs.Alias.HostedZoneID, "/") {
				t.Errorf("listed %+v", rs)
			}
		}},
		{name: "alias to another tenant's zone", changes: func(x ids) []RRSetChange {
			return []RRSetChange{alias(ActionCreate, "a.example.com", "A", x.F, "t.foreign.test")}
		}, wantCode: CodeInvalidChangeBatch, details: []string{"but that target was not found"}},
		{name: "weighted aliases to routed targets", changes: func(x ids) []RRSetChange {
			a := alias(ActionCreate, "a.example.com", "A", x.Z, "f.example.com")
			a.RRSet.SetIdentifier, a.RRSet.Weight = "one", new(uint8(10))
			b := alias(ActionCreate, "a.example.com", "A", x.O, "t.other.test")
			b.RRSet.SetIdentifier, b.RRSet.Weight = "two", new(uint8(0))
			return []RRSetChange{
				routed(ActionCreate, "f.example.com", "A", "p", func(r *zonecfg.RRSet) { r.Failover = zonecfg.FailoverPrimary }, "192.0.2.1"),
				routed(ActionCreate, "f.example.com", "A", "s", func(r *zonecfg.RRSet) { r.Failover = zonecfg.FailoverSecondary }, "192.0.2.2"),
				a, b}
		}},
		{name: "alias loop in one batch", changes: func(x ids) []RRSetChange {
			return []RRSetChange{alias(ActionCreate, "a.example.com", "A", x.Z, "b.example.com"), alias(ActionCreate, "b.example.com", "A", x.Z, "a.example.com")}
		}, wantCode: CodeInvalidChangeBatch, details: []string{"would form a loop", "would form a loop"}},
		{name: "alias to itself", changes: func(x ids) []RRSetChange {
			return []RRSetChange{alias(ActionCreate, "a.example.com", "A", x.Z, "a.example.com")}
		}, wantCode: CodeInvalidChangeBatch, details: []string{"would form a loop"}},
		{name: "alias loop across zones", other: func(x ids) []RRSetChange {
			return []RRSetChange{alias(ActionCreate, "b.other.test", "A", x.Z, "www.example.com")}
		}, changes: func(x ids) []RRSetChange {
			// www A becomes an alias of b.other.test, which aliases www.
			return []RRSetChange{rrs(ActionDelete, "www.example.com", "A", 60, "192.0.2.1"), alias(ActionCreate, "www.example.com", "A", x.O, "b.other.test")}
		}, wantCode: CodeInvalidChangeBatch, details: []string{"would form a loop"}},
		{name: "deleting an alias target", setup: func(x ids) []RRSetChange {
			return []RRSetChange{alias(ActionCreate, "a.example.com", "A", x.Z, "mail.example.com")}
		}, changes: func(ids) []RRSetChange {
			return []RRSetChange{rrs(ActionDelete, "mail.example.com", "A", 60, "192.0.2.25")}
		}, wantCode: CodeInvalidChangeBatch, details: []string{"but the alias a.example.com., type A in zone"}},
		{name: "deleting an alias target and the alias", setup: func(x ids) []RRSetChange {
			return []RRSetChange{alias(ActionCreate, "a.example.com", "A", x.Z, "mail.example.com")}
		}, changes: func(x ids) []RRSetChange {
			return []RRSetChange{rrs(ActionDelete, "mail.example.com", "A", 60, "192.0.2.25"), alias(ActionDelete, "a.example.com", "A", x.Z, "mail.example.com")}
		}},
		{name: "deleting a target another zone aliases", other: func(x ids) []RRSetChange {
			return []RRSetChange{alias(ActionCreate, "b.other.test", "A", x.Z, "mail.example.com")}
		}, changes: func(ids) []RRSetChange {
			return []RRSetChange{rrs(ActionDelete, "mail.example.com", "A", 60, "192.0.2.25")}
		}, wantCode: CodeInvalidChangeBatch, details: []string{"but the alias b.other.test., type A in zone"}},
		{name: "replacing an alias target keeps it", setup: func(x ids) []RRSetChange {
			return []RRSetChange{alias(ActionCreate, "a.example.com", "A", x.Z, "mail.example.com")}
		}, changes: func(ids) []RRSetChange {
			return []RRSetChange{rrs(ActionUpsert, "mail.example.com", "A", 300, "192.0.2.26")}
		}},
		{name: "delete must match routing fields", setup: func(ids) []RRSetChange {
			return []RRSetChange{weighted(ActionCreate, "w.example.com", "a", 5, "192.0.2.1")}
		}, changes: func(ids) []RRSetChange {
			return []RRSetChange{weighted(ActionDelete, "w.example.com", "a", 6, "192.0.2.1")}
		}, wantCode: CodeInvalidChangeBatch, details: []string{"do not match"}},
		{name: "delete with matching routing fields", setup: func(ids) []RRSetChange {
			return []RRSetChange{weighted(ActionCreate, "w.example.com", "a", 5, "192.0.2.1")}
		}, changes: func(ids) []RRSetChange {
			return []RRSetChange{weighted(ActionDelete, "w.example.com", "a", 5, "192.0.2.1")}
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ctx := context.Background()
			z := e.mustZone(t, e.tenant, "example.com")
			o := e.mustZone(t, e.tenant, "other.test")
			t.Cleanup(func() {
				for _, id := range []string{z.ID, o.ID} {
					if _, err := e.pool.Exec(ctx, `DELETE FROM hosted_zone WHERE id = $1`, id); err != nil {
						t.Fatal(err)
					}
				}
			})
			x := ids{Z: z.ID, O: o.ID, F: foreign.ID, C: e.coll, H: e.hc}
			e.mustChange(t, e.tenant, z.ID, rrs(ActionCreate, "www.example.com", "A", 60, "192.0.2.1"), rrs(ActionCreate, "mail.example.com", "A", 60, "192.0.2.25"))
			e.mustChange(t, e.tenant, o.ID, rrs(ActionCreate, "t.other.test", "A", 60, "192.0.2.7"))
			if tc.setup != nil {
				e.mustChange(t, e.tenant, z.ID, tc.setup(x)...)
			}
			if tc.other != nil {
				e.mustChange(t, e.tenant, o.ID, tc.other(x)...)
			}
			before := e.allRRSets(t, e.tenant, z.ID)
			_, err := e.s.ChangeRRSets(ctx, e.tenant, z.ID, ChangeBatch{Changes: tc.changes(x)})
			after := e.allRRSets(t, e.tenant, z.ID)
			if tc.wantCode != "" {
				wantErr(t, err, tc.wantCode, tc.details...)
				if bj, aj := mustJSONOf(t, before), mustJSONOf(t, after); bj != aj {
					t.Errorf("failed batch changed the zone")
				}
				return
			}
			if err != nil {
				t.Fatalf("ChangeRRSets: %v", err)
			}
			m := make(map[zonecfg.Key]zonecfg.RRSet)
			for _, rs := range after {
				m[rs.Key()] = rs
			}
			if tc.check != nil {
				tc.check(t, m)
			}
			// What is listed is what the nameservers get: the event and
			// the snapshot carry the same routing fields.
			st, err := e.s.ZoneSnapshot(ctx, z.ID)
			if err != nil {
				t.Fatal(err)
			}
			for _, rs := range st.RRSets {
				l, ok := m[rs.Key()]
				lj, _ := json.Marshal(withoutRecords(l))
				sj, _ := json.Marshal(withoutRecords(rs))
				if !ok || string(lj) != string(sj) {
					t.Errorf("snapshot %s, listed %s", sj, lj)
				}
			}
		})
	}
}

func withoutRecords(rs zonecfg.RRSet) zonecfg.RRSet {
	rs.Records = nil
	return rs
}

// TestIntegrationRoutingEvent checks that the zone event carries routing
// fields, aliases and the CIDR collections the zone references.
func TestIntegrationRoutingEvent(t *testing.T) {
	t.Parallel()
	e := newRoutingEnv(t)
	z := e.mustZone(t, e.tenant, "ev.example")
	e.mustChange(t, e.tenant, z.ID,
		routed(ActionCreate, "c.ev.example", "A", "o", func(r *zonecfg.RRSet) { r.CIDR = &zonecfg.CIDRRouting{CollectionID: e.coll, LocationName: "office"} }, "192.0.2.1"),
		rrs(ActionCreate, "t.ev.example", "A", 60, "192.0.2.2"),
		alias(ActionCreate, "ev.example", "A", z.ID, "t.ev.example"))
	ev := e.lastEvent(t, z.ID)
	if len(ev.CIDRCollections) != 1 || ev.CIDRCollections[0].ID != e.coll ||
		len(ev.CIDRCollections[0].Locations["office"]) != 2 || len(ev.CIDRCollections[0].Locations["lab"]) != 1 {
		t.Fatalf("event collections %+v", ev.CIDRCollections)
	}
	var sawAlias, sawCIDR bool
	for _, rs := range ev.Upserts {
		sawAlias = sawAlias || (rs.Alias != nil && rs.Alias.DNSName == "t.ev.example." && len(rs.Records) == 0)
		sawCIDR = sawCIDR || (rs.CIDR != nil && rs.CIDR.LocationName == "office")
	}
	if !sawAlias || !sawCIDR {
		t.Fatalf("event upserts %+v", ev.Upserts)
	}
	st, err := e.s.ZoneSnapshot(context.Background(), z.ID)
	if err != nil {
		t.Fatal(err)
	}
	if len(st.CIDRCollections) != 1 || st.CIDRCollections[0].Version != 2 {
		t.Fatalf("snapshot collections %+v", st.CIDRCollections)
	}
}

func mustJSONOf(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestIntegrationRoutingZoneFileRoundTrip exports a zone with every policy,
// aliases and health checks, imports the file into an empty zone of the
// same name (of another tenant's copy of the references) and compares.
func TestIntegrationRoutingZoneFileRoundTrip(t *testing.T) {
	t.Parallel()
	e := newRoutingEnv(t)
	ctx := context.Background()
	z := e.mustZone(t, e.tenant, "rr.example")
	hcSimple := rrs(ActionCreate, "hc.rr.example", "TXT", 60, `"checked"`)
	hcSimple.RRSet.HealthCheckID = e.hc
	e.mustChange(t, e.tenant, z.ID,
		weighted(ActionCreate, "w.rr.example", "a", 0, "192.0.2.1"),
		weighted(ActionCreate, "w.rr.example", "b", 200, "192.0.2.2", "192.0.2.3"),
		routed(ActionCreate, "l.rr.example", "AAAA", "eu", func(r *zonecfg.RRSet) { r.Region = "eu-central-1" }, "2001:db8::1"),
		routed(ActionCreate, "g.rr.example", "A", "wa", func(r *zonecfg.RRSet) { r.Geo = &zonecfg.GeoLocation{CountryCode: "US", SubdivisionCode: "WA"} }, "192.0.2.4"),
		routed(ActionCreate, "g.rr.example", "A", "as", func(r *zonecfg.RRSet) { r.Geo = &zonecfg.GeoLocation{ContinentCode: "AS"} }, "192.0.2.5"),
		routed(ActionCreate, "f.rr.example", "A", "p", func(r *zonecfg.RRSet) { r.Failover, r.HealthCheckID = zonecfg.FailoverPrimary, e.hc }, "192.0.2.6"),
		routed(ActionCreate, "m.rr.example", "TXT", "1", func(r *zonecfg.RRSet) { r.MultiValue = true }, `"a b" "c;d"`),
		routed(ActionCreate, "c.rr.example", "A", "o", func(r *zonecfg.RRSet) { r.CIDR = &zonecfg.CIDRRouting{CollectionID: e.coll, LocationName: "office"} }, "192.0.2.7"),
		hcSimple,
		rrs(ActionCreate, "t.rr.example", "A", 60, "192.0.2.8"),
	)
	// Aliases after their targets: the apex, and a weighted alias.
	wa := alias(ActionCreate, "w2.rr.example", "A", z.ID, "w.rr.example")
	wa.RRSet.SetIdentifier, wa.RRSet.Weight = "x", new(uint8(3))
	e.mustChange(t, e.tenant, z.ID, alias(ActionCreate, "rr.example", "A", z.ID, "t.rr.example"), wa)
	before := e.allRRSets(t, e.tenant, z.ID)
	text, err := exportText(ctx, e.s, e.tenant, z.ID)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(text, extensionPrefix+`{"name":"w.rr.example.","type":"A","set_identifier":"b","ttl":60,"records":["192.0.2.2","192.0.2.3"],"weight":200}`) {
		t.Fatalf("export lacks the weighted set:\n%s", text)
	}
	// Import into the same zone after deleting everything but the apex:
	// aliases refer to this zone's id, so the copy must be this zone.
	var dels []RRSetChange
	for _, rs := range before {
		if rs.Name == "rr.example." && (rs.Type == "SOA" || rs.Type == "NS") {
			continue
		}
		dels = append(dels, RRSetChange{Action: ActionDelete, RRSet: rs})
	}
	e.mustChange(t, e.tenant, z.ID, dels...)
	if _, err := e.s.ImportZone(ctx, e.tenant, z.ID, text); err != nil {
		t.Fatalf("import: %v\n%s", err, text)
	}
	after := e.allRRSets(t, e.tenant, z.ID)
	if b, a := mustJSONOf(t, before), mustJSONOf(t, after); b != a {
		t.Fatalf("round trip differs:\nbefore %s\nafter  %s\nfile:\n%s", b, a, text)
	}
	// A broken extension line is reported with its line.
	_, err = e.s.ImportZone(ctx, e.tenant, z.ID, "$ORIGIN rr.example.\n"+extensionPrefix+`{"name":"x","type":"A","bogus":1}`+"\n")
	ce := wantErr(t, err, CodeInvalidInput)
	if len(ce.Details) != 1 || ce.Details[0].Line != 2 {
		t.Fatalf("details %+v", ce.Details)
	}
}

// TestIntegrationAliasRace runs, again and again, a batch creating an alias
// in one zone against a batch deleting its target in another: whichever
// wins, an alias never ends up dangling.
func TestIntegrationAliasRace(t *testing.T) {
	t.Parallel()
	e := newRoutingEnv(t)
	ctx := context.Background()
	a := e.mustZone(t, e.tenant, "alias.example")
	b := e.mustZone(t, e.tenant, "target.example")
	for i := range 15 {
		target := fmt.Sprintf("t%d.target.example", i)
		e.mustChange(t, e.tenant, b.ID, rrs(ActionCreate, target, "A", 60, "192.0.2.1"))
		errs := make(chan error, 2)
		go func() {
			_, err := e.s.ChangeRRSets(ctx, e.tenant, a.ID, ChangeBatch{Changes: []RRSetChange{alias(ActionCreate, fmt.Sprintf("a%d.alias.example", i), "A", b.ID, target)}})
			errs <- err
		}()
		go func() {
			_, err := e.s.ChangeRRSets(ctx, e.tenant, b.ID, ChangeBatch{Changes: []RRSetChange{rrs(ActionDelete, target, "A", 60, "192.0.2.1")}})
			errs <- err
		}()
		for range 2 {
			if err := <-errs; err != nil && !IsCode(err, CodeInvalidChangeBatch) && !IsCode(err, CodePriorRequestNotComplete) {
				t.Fatalf("round %d: %v", i, err)
			}
		}
		aliases := e.count(t, `SELECT count(*) FROM rrset WHERE zone_id = $1 AND name = $2`, a.ID, fmt.Sprintf("a%d.alias.example.", i))
		targets := e.count(t, `SELECT count(*) FROM rrset WHERE zone_id = $1 AND name = $2`, b.ID, target+".")
		if aliases == 1 && targets == 0 {
			t.Fatalf("round %d: the alias dangles", i)
		}
	}
}

// TestIntegrationCIDRChangeRace runs a collection change against a batch
// that starts using the collection: replaying the zone's events must end
// with the collection's current content.
func TestIntegrationCIDRChangeRace(t *testing.T) {
	t.Parallel()
	e := newRoutingEnv(t)
	ctx := context.Background()
	for i := range 10 {
		z := e.mustZone(t, e.tenant, fmt.Sprintf("race%d.example", i))
		errs := make(chan error, 2)
		go func() {
			_, err := e.s.ChangeRRSets(ctx, e.tenant, z.ID, ChangeBatch{Changes: []RRSetChange{
				routed(ActionCreate, "w."+z.Name, "A", "o", func(r *zonecfg.RRSet) { r.CIDR = &zonecfg.CIDRRouting{CollectionID: e.coll, LocationName: "office"} }, "192.0.2.1")}})
			errs <- err
		}()
		go func() {
			_, err := e.s.ChangeCIDRCollection(ctx, e.tenant, e.coll, nil, []CIDRChange{
				{LocationName: "office", Action: CIDRPut, Blocks: []string{fmt.Sprintf("10.%d.0.0/16", i)}}})
			errs <- err
		}()
		for range 2 {
			if err := <-errs; err != nil {
				t.Fatalf("round %d: %v", i, err)
			}
		}
		rows, err := e.pool.Query(ctx, `SELECT payload FROM outbox_event WHERE zone_id = $1 ORDER BY zone_version`, z.ID)
		if err != nil {
			t.Fatal(err)
		}
		var last string
		for rows.Next() {
			var p []byte
			if err := rows.Scan(&p); err != nil {
				t.Fatal(err)
			}
			ev, err := event.DecodeZoneEvent(p)
			if err != nil {
				t.Fatal(err)
			}
			for _, c := range ev.CIDRCollections {
				last = fmt.Sprint(c.Version, c.Locations)
			}
		}
		rows.Close()
		st, err := e.s.ZoneSnapshot(ctx, z.ID)
		if err != nil {
			t.Fatal(err)
		}
		if len(st.CIDRCollections) != 1 || fmt.Sprint(st.CIDRCollections[0].Version, st.CIDRCollections[0].Locations) != last {
			t.Fatalf("round %d: events end with %s, the collection is %+v", i, last, st.CIDRCollections)
		}
	}
}
