package route53_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	r53 "github.com/aws/aws-sdk-go-v2/service/route53"
	"github.com/aws/aws-sdk-go-v2/service/route53/types"
	"github.com/miekg/dns"
)

// rrKey is a record set's identity in a listing.
type rrKey struct{ name, typ, id string }

// reversedKey orders names as Route 53 lists them: labels reversed,
// compared as bytes. The test's names have no escaped dots, so splitting
// on "." is exact here.
func reversedKey(name string) string {
	labels := strings.Split(strings.TrimSuffix(name, "."), ".")
	slices.Reverse(labels)
	return strings.Join(labels, ".") + "."
}

func sortKeys(keys []rrKey) {
	slices.SortFunc(keys, func(a, b rrKey) int {
		if c := strings.Compare(reversedKey(a.name), reversedKey(b.name)); c != 0 {
			return c
		}
		if c := strings.Compare(a.typ, b.typ); c != 0 {
			return c
		}
		return strings.Compare(a.id, b.id)
	})
}

func a(name string, ttl int64, values ...string) *types.ResourceRecordSet {
	rs := &types.ResourceRecordSet{Name: aws.String(name), Type: types.RRTypeA, TTL: aws.Int64(ttl)}
	for _, v := range values {
		rs.ResourceRecords = append(rs.ResourceRecords, types.ResourceRecord{Value: aws.String(v)})
	}
	return rs
}

func withType(rs *types.ResourceRecordSet, t types.RRType) *types.ResourceRecordSet {
	rs.Type = t
	return rs
}

func create(sets ...*types.ResourceRecordSet) []types.Change {
	out := make([]types.Change, len(sets))
	for i, rs := range sets {
		out[i] = types.Change{Action: types.ChangeActionCreate, ResourceRecordSet: rs}
	}
	return out
}

// TestIntegrationSDKRecordSets changes record sets of every routing policy
// (weighted, latency, geolocation, failover with a health check,
// multivalue, IP-based, alias, wildcard, TXT) through the SDK, waits for
// INSYNC with the SDK's own ResourceRecordSetsChangedWaiter, pages
// through more than 300 record sets with the SDK's paginator checking
// Route 53's exact order, checks what the nameserver answers, and the
// InvalidChangeBatch error.
func TestIntegrationSDKRecordSets(t *testing.T) {
	t.Parallel()
	s := newServer(t, serverOptions{})
	ctx := context.Background()
	_, keyID, secret := s.tenant("records")
	c := s.client(keyID, secret)

	zone, err := c.CreateHostedZone(ctx, &r53.CreateHostedZoneInput{Name: aws.String("big.example"), CallerReference: aws.String("big")})
	if err != nil {
		t.Fatal(err)
	}
	zoneID := zone.HostedZone.Id
	hc, err := c.CreateHealthCheck(ctx, &r53.CreateHealthCheckInput{CallerReference: aws.String("hc"), HealthCheckConfig: &types.HealthCheckConfig{
		Type: types.HealthCheckTypeTcp, IPAddress: aws.String("127.0.0.1"), Port: aws.Int32(1)}})
	if err != nil {
		t.Fatal(err)
	}
	col, err := c.CreateCidrCollection(ctx, &r53.CreateCidrCollectionInput{Name: aws.String("offices"), CallerReference: aws.String("cidr")})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.ChangeCidrCollection(ctx, &r53.ChangeCidrCollectionInput{Id: col.Collection.Id, CollectionVersion: col.Collection.Version,
		Changes: []types.CidrCollectionChange{{LocationName: aws.String("hq"), Action: types.CidrCollectionChangeActionPut, CidrList: []string{"198.51.100.0/24"}}}}); err != nil {
		t.Fatal(err)
	}

	var changes []types.Change
	want := []rrKey{{"big.example.", "NS", ""}, {"big.example.", "SOA", ""}}
	add := func(rs *types.ResourceRecordSet) {
		changes = append(changes, create(rs)...)
		id := ""
		if rs.SetIdentifier != nil {
			id = *rs.SetIdentifier
		}
		want = append(want, rrKey{strings.Replace(*rs.Name, "*", `\052`, 1), string(rs.Type), id})
	}
	for i := range 120 {
		add(a(fmt.Sprintf("h%03d.big.example.", i), 300, fmt.Sprintf("192.0.2.%d", i)))
	}
	for i := range 60 {
		add(withType(a(fmt.Sprintf("h%03d.big.example.", i), 60, fmt.Sprintf(`"v=%d" "two words"`, i)), types.RRTypeTxt))
	}
	for i := range 50 {
		add(withType(a(fmt.Sprintf("m%02d.big.example.", i), 3600, fmt.Sprintf("10 mx%d.example.net.", i)), types.RRTypeMx))
	}
	for i := range 30 {
		for _, id := range []string{"blue", "green"} {
			rs := a(fmt.Sprintf("w%02d.big.example.", i), 60, "192.0.2.10")
			rs.SetIdentifier, rs.Weight = aws.String(id), aws.Int64(int64(10+i))
			add(rs)
		}
	}
	lat1, lat2 := a("lat.big.example.", 60, "192.0.2.20"), a("lat.big.example.", 60, "192.0.2.21")
	lat1.SetIdentifier, lat1.Region = aws.String("use1"), types.ResourceRecordSetRegionUsEast1
	lat2.SetIdentifier, lat2.Region = aws.String("euw1"), types.ResourceRecordSetRegionEuWest1
	add(lat1)
	add(lat2)
	for _, g := range []struct {
		id  string
		loc types.GeoLocation
	}{
		{"eu", types.GeoLocation{ContinentCode: aws.String("EU")}},
		{"default", types.GeoLocation{CountryCode: aws.String("*")}},
		{"wa", types.GeoLocation{CountryCode: aws.String("US"), SubdivisionCode: aws.String("WA")}},
	} {
		rs := a("geo.big.example.", 60, "192.0.2.30")
		rs.SetIdentifier, rs.GeoLocation = aws.String(g.id), &g.loc
		add(rs)
	}
	pri, sec := a("fo.big.example.", 60, "192.0.2.40"), a("fo.big.example.", 60, "192.0.2.41")
	pri.SetIdentifier, pri.Failover, pri.HealthCheckId = aws.String("primary"), types.ResourceRecordSetFailoverPrimary, hc.HealthCheck.Id
	sec.SetIdentifier, sec.Failover = aws.String("secondary"), types.ResourceRecordSetFailoverSecondary
	add(pri)
	add(sec)
	for i := range 3 {
		rs := a("mv.big.example.", 60, fmt.Sprintf("192.0.2.5%d", i))
		rs.SetIdentifier, rs.MultiValueAnswer = aws.String(fmt.Sprintf("mv%d", i)), aws.Bool(true)
		add(rs)
	}
	for _, loc := range []string{"hq", "*"} {
		rs := a("ip.big.example.", 60, "192.0.2.60")
		rs.SetIdentifier, rs.CidrRoutingConfig = aws.String("loc-"+loc), &types.CidrRoutingConfig{CollectionId: col.Collection.Id, LocationName: aws.String(loc)}
		add(rs)
	}
	add(a("*.big.example.", 60, "192.0.2.70"))
	add(a("a-b.big.example.", 60, "192.0.2.71")) // '-' sorts before the label separator
	add(&types.ResourceRecordSet{Name: aws.String("alias.big.example."), Type: types.RRTypeA,
		AliasTarget: &types.AliasTarget{HostedZoneId: zoneID, DNSName: aws.String("h000.big.example."), EvaluateTargetHealth: false}})
	if len(want) <= 300 {
		t.Fatalf("only %d record sets", len(want))
	}

	// Two batches (the alias needs its target first), waited on with the
	// SDK's waiter.
	waiter := r53.NewResourceRecordSetsChangedWaiter(c, fastWaiter)
	for _, batch := range [][]types.Change{changes[:len(changes)-1], changes[len(changes)-1:]} {
		out, err := c.ChangeResourceRecordSets(ctx, &r53.ChangeResourceRecordSetsInput{HostedZoneId: zoneID,
			ChangeBatch: &types.ChangeBatch{Comment: aws.String("load"), Changes: batch}})
		if err != nil {
			t.Fatalf("ChangeResourceRecordSets: %v", err)
		}
		if !strings.HasPrefix(*out.ChangeInfo.Id, "/change/") || *out.ChangeInfo.Comment != "load" {
			t.Fatalf("change info %+v", out.ChangeInfo)
		}
		if err := waiter.Wait(ctx, &r53.GetChangeInput{Id: out.ChangeInfo.Id}, 30*time.Second); err != nil {
			t.Fatalf("ResourceRecordSetsChangedWaiter: %v", err)
		}
		got, err := c.GetChange(ctx, &r53.GetChangeInput{Id: out.ChangeInfo.Id})
		if err != nil || got.ChangeInfo.Status != types.ChangeStatusInsync {
			t.Fatalf("GetChange after the waiter: %+v %v", got, err)
		}
	}

	// INSYNC means the nameserver serves it.
	m := new(dns.Msg)
	m.SetQuestion("anything.big.example.", dns.TypeA)
	resp, err := dns.Exchange(m, s.ns.UDPAddr().String())
	if err != nil || len(resp.Answer) != 1 || resp.Answer[0].(*dns.A).A.String() != "192.0.2.70" {
		t.Fatalf("wildcard answer: %v %v", resp, err)
	}

	// Page through everything with the SDK's paginator.
	sortKeys(want)
	var got []rrKey
	byKey := map[rrKey]types.ResourceRecordSet{}
	pages := 0
	p := r53.NewListResourceRecordSetsPaginator(c, &r53.ListResourceRecordSetsInput{HostedZoneId: zoneID, MaxItems: aws.Int32(100)})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			t.Fatal(err)
		}
		pages++
		if *page.MaxItems != 100 {
			t.Fatalf("MaxItems %d", *page.MaxItems)
		}
		for _, rs := range page.ResourceRecordSets {
			k := rrKey{*rs.Name, string(rs.Type), aws.ToString(rs.SetIdentifier)}
			got = append(got, k)
			byKey[k] = rs
		}
	}
	if !slices.Equal(got, want) {
		for i := range min(len(got), len(want)) {
			if got[i] != want[i] {
				t.Fatalf("listing differs at %d: got %v, want %v (got %d sets, want %d)", i, got[i], want[i], len(got), len(want))
			}
		}
		t.Fatalf("got %d record sets, want %d", len(got), len(want))
	}
	if pages != (len(want)+99)/100 {
		t.Fatalf("%d pages for %d sets", pages, len(want))
	}
	// Every field comes back as sent.
	check := func(k rrKey, ok func(types.ResourceRecordSet) bool) {
		t.Helper()
		rs, found := byKey[k]
		if !found || !ok(rs) {
			t.Errorf("%v: %+v", k, rs)
		}
	}
	check(rrKey{"h007.big.example.", "TXT", ""}, func(rs types.ResourceRecordSet) bool {
		return *rs.TTL == 60 && *rs.ResourceRecords[0].Value == `"v=7" "two words"`
	})
	check(rrKey{"w03.big.example.", "A", "green"}, func(rs types.ResourceRecordSet) bool { return *rs.Weight == 13 })
	check(rrKey{"lat.big.example.", "A", "euw1"}, func(rs types.ResourceRecordSet) bool { return rs.Region == types.ResourceRecordSetRegionEuWest1 })
	check(rrKey{"geo.big.example.", "A", "wa"}, func(rs types.ResourceRecordSet) bool {
		return *rs.GeoLocation.CountryCode == "US" && *rs.GeoLocation.SubdivisionCode == "WA"
	})
	check(rrKey{"fo.big.example.", "A", "primary"}, func(rs types.ResourceRecordSet) bool {
		return rs.Failover == types.ResourceRecordSetFailoverPrimary && *rs.HealthCheckId == *hc.HealthCheck.Id
	})
	check(rrKey{"mv.big.example.", "A", "mv1"}, func(rs types.ResourceRecordSet) bool { return *rs.MultiValueAnswer })
	check(rrKey{"ip.big.example.", "A", "loc-*"}, func(rs types.ResourceRecordSet) bool {
		return *rs.CidrRoutingConfig.LocationName == "*" && *rs.CidrRoutingConfig.CollectionId == *col.Collection.Id
	})
	check(rrKey{"alias.big.example.", "A", ""}, func(rs types.ResourceRecordSet) bool {
		return rs.TTL == nil && len(rs.ResourceRecords) == 0 && *rs.AliasTarget.DNSName == "h000.big.example." &&
			"/hostedzone/"+*rs.AliasTarget.HostedZoneId == *zoneID
	})

	// Terraform's and lego's lookup: a start position and MaxItems=1.
	one, err := c.ListResourceRecordSets(ctx, &r53.ListResourceRecordSetsInput{HostedZoneId: zoneID,
		StartRecordName: aws.String("W03.big.example"), StartRecordType: types.RRTypeA, StartRecordIdentifier: aws.String("green"), MaxItems: aws.Int32(1)})
	if err != nil || len(one.ResourceRecordSets) != 1 || *one.ResourceRecordSets[0].SetIdentifier != "green" ||
		!one.IsTruncated || *one.NextRecordName != "w04.big.example." || *one.NextRecordIdentifier != "blue" {
		t.Fatalf("lookup: %+v %v", one, err)
	}
	wild, err := c.ListResourceRecordSets(ctx, &r53.ListResourceRecordSetsInput{HostedZoneId: zoneID,
		StartRecordName: aws.String(`\052.big.example.`), StartRecordType: types.RRTypeA, MaxItems: aws.Int32(1)})
	if err != nil || *wild.ResourceRecordSets[0].Name != `\052.big.example.` {
		t.Fatalf("wildcard lookup: %+v %v", wild, err)
	}
	_, err = c.ListResourceRecordSets(ctx, &r53.ListResourceRecordSetsInput{HostedZoneId: zoneID, StartRecordType: types.RRTypeA})
	var invalid *types.InvalidInput
	if !errors.As(err, &invalid) {
		t.Fatalf("type without name: %v", err)
	}

	// A batch with two failing changes: InvalidChangeBatch listing both,
	// and nothing applied.
	_, err = c.ChangeResourceRecordSets(ctx, &r53.ChangeResourceRecordSetsInput{HostedZoneId: zoneID, ChangeBatch: &types.ChangeBatch{Changes: []types.Change{
		{Action: types.ChangeActionUpsert, ResourceRecordSet: a("new.big.example.", 60, "192.0.2.99")},
		{Action: types.ChangeActionDelete, ResourceRecordSet: a("nothere.big.example.", 60, "192.0.2.1")},
		{Action: types.ChangeActionCreate, ResourceRecordSet: a("h001.big.example.", 300, "192.0.2.1")},
	}}})
	var icb *types.InvalidChangeBatch
	if !errors.As(err, &icb) {
		t.Fatalf("want InvalidChangeBatch: %v", err)
	}
	if msg := icb.ErrorMessage(); !strings.HasPrefix(msg, "[") || !strings.Contains(msg, "nothere.big.example.") ||
		!strings.Contains(msg, "h001.big.example.") || strings.Count(msg, ", ") < 1 {
		t.Fatalf("InvalidChangeBatch message %q", msg)
	}
	if n, _ := c.ListResourceRecordSets(ctx, &r53.ListResourceRecordSetsInput{HostedZoneId: zoneID,
		StartRecordName: aws.String("new.big.example."), MaxItems: aws.Int32(1)}); *n.ResourceRecordSets[0].Name == "new.big.example." {
		t.Fatal("a failed batch applied a change")
	}
	// Shape errors the SDK maps to InvalidInput.
	_, err = c.ChangeResourceRecordSets(ctx, &r53.ChangeResourceRecordSetsInput{HostedZoneId: zoneID, ChangeBatch: &types.ChangeBatch{Changes: []types.Change{
		{Action: types.ChangeActionCreate, ResourceRecordSet: &types.ResourceRecordSet{Name: aws.String("x.big.example."), Type: types.RRTypeA}},
	}}})
	if !errors.As(err, &invalid) || !strings.Contains(invalid.ErrorMessage(), "Expected exactly one of") {
		t.Fatalf("no data: %v", err)
	}
	_, err = c.ChangeResourceRecordSets(ctx, &r53.ChangeResourceRecordSetsInput{HostedZoneId: zoneID, ChangeBatch: &types.ChangeBatch{Changes: []types.Change{
		{Action: types.ChangeActionCreate, ResourceRecordSet: &types.ResourceRecordSet{Name: aws.String("x.big.example."), Type: types.RRTypeA,
			HealthCheckId: aws.String("00000000-0000-4000-8000-000000000000"), TTL: aws.Int64(60), ResourceRecords: []types.ResourceRecord{{Value: aws.String("192.0.2.1")}}}},
	}}})
	if err == nil {
		t.Fatal("a missing health check was accepted")
	}

	// UPSERT then DELETE with exactly the listed values (what Terraform
	// and cert-manager do).
	txt := withType(a("_acme-challenge.big.example.", 60, `"token-1"`), types.RRTypeTxt)
	up, err := c.ChangeResourceRecordSets(ctx, &r53.ChangeResourceRecordSetsInput{HostedZoneId: zoneID,
		ChangeBatch: &types.ChangeBatch{Changes: []types.Change{{Action: types.ChangeActionUpsert, ResourceRecordSet: txt}}}})
	if err != nil {
		t.Fatal(err)
	}
	if err := waiter.Wait(ctx, &r53.GetChangeInput{Id: up.ChangeInfo.Id}, 30*time.Second); err != nil {
		t.Fatal(err)
	}
	m.SetQuestion("_acme-challenge.big.example.", dns.TypeTXT)
	resp, err = dns.Exchange(m, s.ns.UDPAddr().String())
	if err != nil || len(resp.Answer) != 1 || resp.Answer[0].(*dns.TXT).Txt[0] != "token-1" {
		t.Fatalf("TXT answer: %v %v", resp, err)
	}
	if _, err := c.ChangeResourceRecordSets(ctx, &r53.ChangeResourceRecordSetsInput{HostedZoneId: zoneID,
		ChangeBatch: &types.ChangeBatch{Changes: []types.Change{{Action: types.ChangeActionDelete, ResourceRecordSet: txt}}}}); err != nil {
		t.Fatalf("delete exactly: %v", err)
	}

	// GetChange takes the id bare, prefixed, or percent-encoded in the path.
	bare := strings.TrimPrefix(*up.ChangeInfo.Id, "/change/")
	for _, path := range []string{"/2013-04-01/change/" + bare, "/2013-04-01/change/%2Fchange%2F" + bare} {
		res := s.signed(t, keyID, secret, http.MethodGet, path, "", time.Now())
		if res.status != http.StatusOK || !strings.Contains(res.body, "<Id>/change/"+bare+"</Id>") || !strings.Contains(res.body, "<Status>INSYNC</Status>") {
			t.Fatalf("GET %s: %d %s", path, res.status, res.body)
		}
	}
	// botocore's trailing slash.
	body := `<ChangeResourceRecordSetsRequest xmlns="https://route53.amazonaws.com/doc/2013-04-01/"><ChangeBatch><Changes><Change><Action>UPSERT</Action><ResourceRecordSet><Name>slash.big.example.</Name><Type>A</Type><TTL>60</TTL><ResourceRecords><ResourceRecord><Value>192.0.2.8</Value></ResourceRecord></ResourceRecords></ResourceRecordSet></Change></Changes></ChangeBatch></ChangeResourceRecordSetsRequest>`
	if res := s.signed(t, keyID, secret, http.MethodPost, "/2013-04-01"+*zoneID+"/rrset/", body, time.Now()); res.status != http.StatusOK {
		t.Fatalf("rrset/: %d %s", res.status, res.body)
	}
}
