package route53_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	r53 "github.com/aws/aws-sdk-go-v2/service/route53"
	"github.com/aws/aws-sdk-go-v2/service/route53/types"
	"github.com/waymark-dns/waymark/internal/testkit"
)

// TestIntegrationSDKHealthChecks drives the health check operations:
// create with CallerReference idempotency, get, list, update with
// HealthCheckVersion, status, last failure reason, count, delete, and
// their typed errors.
func TestIntegrationSDKHealthChecks(t *testing.T) {
	t.Parallel()
	s := newServer(t, serverOptions{checkers: true})
	ctx := context.Background()
	_, keyID, secret := s.tenant("hc")
	c := s.client(keyID, secret)

	// A closed port: the check fails, so there is a failure reason to read.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	_ = ln.Close()
	cfg := &types.HealthCheckConfig{Type: types.HealthCheckTypeHttp, IPAddress: aws.String("127.0.0.1"), Port: aws.Int32(int32(port)),
		ResourcePath: aws.String("/health"), RequestInterval: aws.Int32(10), FailureThreshold: aws.Int32(2)}
	created, err := c.CreateHealthCheck(ctx, &r53.CreateHealthCheckInput{CallerReference: aws.String("one"), HealthCheckConfig: cfg})
	if err != nil {
		t.Fatal(err)
	}
	hc := created.HealthCheck
	if *hc.HealthCheckVersion != 1 || *hc.HealthCheckConfig.Port != int32(port) || *hc.HealthCheckConfig.ResourcePath != "/health" ||
		*hc.HealthCheckConfig.FailureThreshold != 2 || hc.HealthCheckConfig.Type != types.HealthCheckTypeHttp || !strings.HasSuffix(*created.Location, "/healthcheck/"+*hc.Id) {
		t.Fatalf("CreateHealthCheck %+v", hc)
	}
	again, err := c.CreateHealthCheck(ctx, &r53.CreateHealthCheckInput{CallerReference: aws.String("one"), HealthCheckConfig: cfg})
	if err != nil || *again.HealthCheck.Id != *hc.Id {
		t.Fatalf("idempotent create: %v %+v", err, again)
	}
	other := *cfg
	other.ResourcePath = aws.String("/other")
	_, err = c.CreateHealthCheck(ctx, &r53.CreateHealthCheckInput{CallerReference: aws.String("one"), HealthCheckConfig: &other})
	var exists *types.HealthCheckAlreadyExists
	if !errors.As(err, &exists) {
		t.Fatalf("reused reference, other settings: %v", err)
	}
	calc, err := c.CreateHealthCheck(ctx, &r53.CreateHealthCheckInput{CallerReference: aws.String("calc"), HealthCheckConfig: &types.HealthCheckConfig{
		Type: types.HealthCheckTypeCalculated, HealthThreshold: aws.Int32(1), ChildHealthChecks: []string{*hc.Id}}})
	if err != nil || !slices.Equal(calc.HealthCheck.HealthCheckConfig.ChildHealthChecks, []string{*hc.Id}) {
		t.Fatalf("calculated: %v %+v", err, calc)
	}

	got, err := c.GetHealthCheck(ctx, &r53.GetHealthCheckInput{HealthCheckId: hc.Id})
	if err != nil || *got.HealthCheck.CallerReference != "one" {
		t.Fatalf("GetHealthCheck %v %+v", err, got)
	}
	var ids []string
	p := r53.NewListHealthChecksPaginator(c, &r53.ListHealthChecksInput{MaxItems: aws.Int32(1)})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for _, h := range page.HealthChecks {
			ids = append(ids, *h.Id)
		}
	}
	if len(ids) != 2 || !slices.Contains(ids, *hc.Id) || !slices.Contains(ids, *calc.HealthCheck.Id) {
		t.Fatalf("ListHealthChecks %v", ids)
	}
	n, err := c.GetHealthCheckCount(ctx, &r53.GetHealthCheckCountInput{})
	if err != nil || *n.HealthCheckCount != 2 {
		t.Fatalf("GetHealthCheckCount %v %v", n, err)
	}

	up, err := c.UpdateHealthCheck(ctx, &r53.UpdateHealthCheckInput{HealthCheckId: hc.Id, HealthCheckVersion: aws.Int64(1), FailureThreshold: aws.Int32(1)})
	if err != nil || *up.HealthCheck.HealthCheckVersion != 2 || *up.HealthCheck.HealthCheckConfig.FailureThreshold != 1 {
		t.Fatalf("UpdateHealthCheck %v %+v", err, up)
	}
	_, err = c.UpdateHealthCheck(ctx, &r53.UpdateHealthCheckInput{HealthCheckId: hc.Id, HealthCheckVersion: aws.Int64(1), Inverted: aws.Bool(true)})
	var mismatch *types.HealthCheckVersionMismatch
	if !errors.As(err, &mismatch) {
		t.Fatalf("stale version: %v", err)
	}

	// The checkers probe the closed port: each region reports a failure.
	testkit.Eventually(t, 60*time.Second, func() error {
		st, err := c.GetHealthCheckStatus(ctx, &r53.GetHealthCheckStatusInput{HealthCheckId: hc.Id})
		if err != nil {
			return err
		}
		if len(st.HealthCheckObservations) != 2 {
			return fmt.Errorf("%d observations", len(st.HealthCheckObservations))
		}
		for _, o := range st.HealthCheckObservations {
			if !strings.HasPrefix(*o.StatusReport.Status, "Failure: ") || o.StatusReport.CheckedTime == nil || o.Region == "" {
				return fmt.Errorf("observation %s %s", o.Region, *o.StatusReport.Status)
			}
		}
		return nil
	})
	lf, err := c.GetHealthCheckLastFailureReason(ctx, &r53.GetHealthCheckLastFailureReasonInput{HealthCheckId: hc.Id})
	if err != nil || len(lf.HealthCheckObservations) != 2 || !strings.HasPrefix(*lf.HealthCheckObservations[0].StatusReport.Status, "Failure: ") {
		t.Fatalf("GetHealthCheckLastFailureReason %+v %v", lf, err)
	}

	// Another tenant's check answers like a missing one.
	_, otherKey, otherSecret := s.tenant("hc-other")
	oc := s.client(otherKey, otherSecret)
	for _, id := range []string{*hc.Id, "00000000-0000-4000-8000-000000000000"} {
		_, err := oc.GetHealthCheck(ctx, &r53.GetHealthCheckInput{HealthCheckId: aws.String(id)})
		var nsh *types.NoSuchHealthCheck
		if !errors.As(err, &nsh) {
			t.Fatalf("GetHealthCheck %s as another tenant: %v", id, err)
		}
		_, err = oc.DeleteHealthCheck(ctx, &r53.DeleteHealthCheckInput{HealthCheckId: aws.String(id)})
		if !errors.As(err, &nsh) {
			t.Fatalf("DeleteHealthCheck %s as another tenant: %v", id, err)
		}
	}

	if _, err := c.DeleteHealthCheck(ctx, &r53.DeleteHealthCheckInput{HealthCheckId: calc.HealthCheck.Id}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.DeleteHealthCheck(ctx, &r53.DeleteHealthCheckInput{HealthCheckId: hc.Id}); err != nil {
		t.Fatal(err)
	}
	_, err = c.GetHealthCheck(ctx, &r53.GetHealthCheckInput{HealthCheckId: hc.Id})
	var nsh *types.NoSuchHealthCheck
	if !errors.As(err, &nsh) {
		t.Fatalf("deleted: %v", err)
	}
	_, err = c.CreateHealthCheck(ctx, &r53.CreateHealthCheckInput{CallerReference: aws.String("one"), HealthCheckConfig: cfg})
	if !errors.As(err, &exists) {
		t.Fatalf("reference of a deleted check: %v", err)
	}
}

// TestIntegrationSDKMisc covers the remaining operations: limits,
// geolocations, checker ranges, CIDR collections, TestDNSAnswer through
// the live nameserver, and an operation Waymark does not implement.
func TestIntegrationSDKMisc(t *testing.T) {
	t.Parallel()
	s := newServer(t, serverOptions{})
	ctx := context.Background()
	_, keyID, secret := s.tenant("misc")
	c := s.client(keyID, secret)

	zone, err := c.CreateHostedZone(ctx, &r53.CreateHostedZoneInput{Name: aws.String("misc.example"), CallerReference: aws.String("misc")})
	if err != nil {
		t.Fatal(err)
	}
	acct, err := c.GetAccountLimit(ctx, &r53.GetAccountLimitInput{Type: types.AccountLimitTypeMaxHostedZonesByOwner})
	if err != nil || acct.Count != 1 || acct.Limit.Value == nil || *acct.Limit.Value != 500 {
		t.Fatalf("GetAccountLimit %+v %v", acct, err)
	}
	hcl, err := c.GetAccountLimit(ctx, &r53.GetAccountLimitInput{Type: types.AccountLimitTypeMaxHealthChecksByOwner})
	if err != nil || hcl.Count != 0 || *hcl.Limit.Value != 200 {
		t.Fatalf("GetAccountLimit health checks %+v %v", hcl, err)
	}
	zl, err := c.GetHostedZoneLimit(ctx, &r53.GetHostedZoneLimitInput{HostedZoneId: zone.HostedZone.Id, Type: types.HostedZoneLimitTypeMaxRrsetsByZone})
	if err != nil || zl.Count != 2 || *zl.Limit.Value != 10000 {
		t.Fatalf("GetHostedZoneLimit %+v %v", zl, err)
	}
	_, err = c.GetHostedZoneLimit(ctx, &r53.GetHostedZoneLimitInput{HostedZoneId: zone.HostedZone.Id, Type: types.HostedZoneLimitTypeMaxVpcsAssociatedByZone})
	var notPrivate *types.HostedZoneNotPrivate
	if !errors.As(err, &notPrivate) {
		t.Fatalf("VPC limit of a public zone: %v", err)
	}

	geo, err := c.GetGeoLocation(ctx, &r53.GetGeoLocationInput{ContinentCode: aws.String("EU")})
	if err != nil || *geo.GeoLocationDetails.ContinentName != "Europe" {
		t.Fatalf("GetGeoLocation %+v %v", geo, err)
	}
	if _, err := c.GetGeoLocation(ctx, &r53.GetGeoLocationInput{CountryCode: aws.String("US"), SubdivisionCode: aws.String("WA")}); err != nil {
		t.Fatal(err)
	}
	_, err = c.GetGeoLocation(ctx, &r53.GetGeoLocationInput{CountryCode: aws.String("QQ")})
	var noGeo *types.NoSuchGeoLocation
	if !errors.As(err, &noGeo) {
		t.Fatalf("unknown country: %v", err)
	}
	var all int
	in := &r53.ListGeoLocationsInput{MaxItems: aws.Int32(100)}
	for {
		page, err := c.ListGeoLocations(ctx, in)
		if err != nil {
			t.Fatal(err)
		}
		all += len(page.GeoLocationDetailsList)
		if !page.IsTruncated {
			break
		}
		in.StartContinentCode, in.StartCountryCode, in.StartSubdivisionCode = page.NextContinentCode, page.NextCountryCode, page.NextSubdivisionCode
	}
	if all < 7+1+240+51 {
		t.Fatalf("ListGeoLocations listed %d locations", all)
	}
	if _, err := c.GetCheckerIpRanges(ctx, &r53.GetCheckerIpRangesInput{}); err != nil {
		t.Fatalf("GetCheckerIpRanges %v", err)
	}

	// CIDR collections.
	col, err := c.CreateCidrCollection(ctx, &r53.CreateCidrCollectionInput{Name: aws.String("nets"), CallerReference: aws.String("nets")})
	if err != nil || !strings.HasSuffix(*col.Location, "/cidrcollection/"+*col.Collection.Id) {
		t.Fatalf("CreateCidrCollection %v %+v", err, col)
	}
	if _, err := c.ChangeCidrCollection(ctx, &r53.ChangeCidrCollectionInput{Id: col.Collection.Id, CollectionVersion: col.Collection.Version,
		Changes: []types.CidrCollectionChange{{LocationName: aws.String("a"), Action: types.CidrCollectionChangeActionPut, CidrList: []string{"192.0.2.0/24", "2001:db8::/48"}}}}); err != nil {
		t.Fatal(err)
	}
	_, err = c.ChangeCidrCollection(ctx, &r53.ChangeCidrCollectionInput{Id: col.Collection.Id, CollectionVersion: col.Collection.Version,
		Changes: []types.CidrCollectionChange{{LocationName: aws.String("b"), Action: types.CidrCollectionChangeActionPut, CidrList: []string{"198.51.100.0/24"}}}})
	var vm *types.CidrCollectionVersionMismatchException
	if !errors.As(err, &vm) {
		t.Fatalf("stale collection version: %v", err)
	}
	cols, err := c.ListCidrCollections(ctx, &r53.ListCidrCollectionsInput{})
	if err != nil || len(cols.CidrCollections) != 1 || *cols.CidrCollections[0].Version != 2 {
		t.Fatalf("ListCidrCollections %+v %v", cols, err)
	}
	locs, err := c.ListCidrLocations(ctx, &r53.ListCidrLocationsInput{CollectionId: col.Collection.Id})
	if err != nil || len(locs.CidrLocations) != 1 || *locs.CidrLocations[0].LocationName != "a" {
		t.Fatalf("ListCidrLocations %+v %v", locs, err)
	}
	blocks, err := c.ListCidrBlocks(ctx, &r53.ListCidrBlocksInput{CollectionId: col.Collection.Id, LocationName: aws.String("a")})
	if err != nil || len(blocks.CidrBlocks) != 2 {
		t.Fatalf("ListCidrBlocks %+v %v", blocks, err)
	}
	_, otherKey, otherSecret := s.tenant("misc-other")
	_, err = s.client(otherKey, otherSecret).ListCidrBlocks(ctx, &r53.ListCidrBlocksInput{CollectionId: col.Collection.Id})
	var otherCol *types.NoSuchCidrCollectionException
	if !errors.As(err, &otherCol) {
		t.Fatalf("another tenant's collection: %v", err)
	}
	if _, err := c.DeleteCidrCollection(ctx, &r53.DeleteCidrCollectionInput{Id: col.Collection.Id}); err != nil {
		t.Fatal(err)
	}
	_, err = c.ListCidrBlocks(ctx, &r53.ListCidrBlocksInput{CollectionId: col.Collection.Id})
	var noCol *types.NoSuchCidrCollectionException
	if !errors.As(err, &noCol) {
		t.Fatalf("deleted collection: %v", err)
	}

	// TestDNSAnswer asks the live nameserver, once it has the record.
	ch, err := c.ChangeResourceRecordSets(ctx, &r53.ChangeResourceRecordSetsInput{HostedZoneId: zone.HostedZone.Id,
		ChangeBatch: &types.ChangeBatch{Changes: create(a("www.misc.example.", 60, "192.0.2.5"))}})
	if err != nil {
		t.Fatal(err)
	}
	if err := r53.NewResourceRecordSetsChangedWaiter(c, fastWaiter).Wait(ctx, &r53.GetChangeInput{Id: ch.ChangeInfo.Id}, 30*time.Second); err != nil {
		t.Fatal(err)
	}
	ans, err := c.TestDNSAnswer(ctx, &r53.TestDNSAnswerInput{HostedZoneId: zone.HostedZone.Id, RecordName: aws.String("www.misc.example"),
		RecordType: types.RRTypeA, ResolverIP: aws.String("198.51.100.7")})
	if err != nil || *ans.ResponseCode != "NOERROR" || !slices.Equal(ans.RecordData, []string{"192.0.2.5"}) || *ans.Nameserver != "ns-test" || *ans.Protocol != "UDP" {
		t.Fatalf("TestDNSAnswer %+v %v", ans, err)
	}
	nx, err := c.TestDNSAnswer(ctx, &r53.TestDNSAnswerInput{HostedZoneId: zone.HostedZone.Id, RecordName: aws.String("nope.misc.example"), RecordType: types.RRTypeA})
	if err != nil || *nx.ResponseCode != "NXDOMAIN" || len(nx.RecordData) != 0 {
		t.Fatalf("TestDNSAnswer NXDOMAIN %+v %v", nx, err)
	}

	// Not implemented: Route 53's error envelope, never a 404 page or 500.
	dnssec, err := c.GetDNSSEC(ctx, &r53.GetDNSSECInput{HostedZoneId: zone.HostedZone.Id})
	if err != nil || *dnssec.Status.ServeSignature != "NOT_SIGNING" || len(dnssec.KeySigningKeys) != 0 {
		t.Fatalf("GetDNSSEC: %+v %v", dnssec, err)
	}
	_, err = c.GetDNSSEC(ctx, &r53.GetDNSSECInput{HostedZoneId: aws.String("ZAAAAAAAAAAAAAAAA")})
	var nsz *types.NoSuchHostedZone
	if !errors.As(err, &nsz) {
		t.Fatalf("GetDNSSEC of a missing zone: %v", err)
	}
	// DNSSEC: enable (a KSK is made), read it back, disable.
	en, err := c.EnableHostedZoneDNSSEC(ctx, &r53.EnableHostedZoneDNSSECInput{HostedZoneId: zone.HostedZone.Id})
	if err != nil || en.ChangeInfo == nil || en.ChangeInfo.Status != types.ChangeStatusPending {
		t.Fatalf("EnableHostedZoneDNSSEC: %+v %v", en, err)
	}
	dnssec, err = c.GetDNSSEC(ctx, &r53.GetDNSSECInput{HostedZoneId: zone.HostedZone.Id})
	if err != nil || *dnssec.Status.ServeSignature != "SIGNING" || len(dnssec.KeySigningKeys) != 1 ||
		dnssec.KeySigningKeys[0].Flag != 257 || *dnssec.KeySigningKeys[0].DSRecord == "" || *dnssec.KeySigningKeys[0].Status != "ACTIVE" {
		t.Fatalf("GetDNSSEC after enable: %+v %v", dnssec, err)
	}
	if _, err := c.DisableHostedZoneDNSSEC(ctx, &r53.DisableHostedZoneDNSSECInput{HostedZoneId: zone.HostedZone.Id}); err != nil {
		t.Fatalf("DisableHostedZoneDNSSEC: %v", err)
	}
	_, err = c.CreateQueryLoggingConfig(ctx, &r53.CreateQueryLoggingConfigInput{HostedZoneId: zone.HostedZone.Id,
		CloudWatchLogsLogGroupArn: aws.String("arn:aws:logs:us-east-1:1:log-group:/aws/route53/x")})
	if code := apiCode(t, err); code != "InvalidAction" {
		t.Fatalf("CreateQueryLoggingConfig: %v", err)
	}
	res := s.signed(t, keyID, secret, http.MethodGet, "/2013-04-01/nosuchthing", "", time.Now())
	if res.status != http.StatusBadRequest || !strings.Contains(res.body, "<Code>InvalidAction</Code>") {
		t.Fatalf("unknown path: %d %s", res.status, res.body)
	}
	res = s.signed(t, keyID, secret, http.MethodPost, "/2013-04-01/hostedzone", "<not xml", time.Now())
	if res.status != http.StatusBadRequest || !strings.Contains(res.body, "<Code>MalformedInput</Code>") {
		t.Fatalf("malformed body: %d %s", res.status, res.body)
	}
}

// TestIntegrationSDKTags drives ChangeTagsForResource, ListTagsForResource
// and ListTagsForResources on hosted zones and health checks, the way
// Terraform reads them on every refresh, and their errors.
func TestIntegrationSDKTags(t *testing.T) {
	t.Parallel()
	s := newServer(t, serverOptions{})
	ctx := context.Background()
	_, keyID, secret := s.tenant("tags")
	c := s.client(keyID, secret)

	z1, err := c.CreateHostedZone(ctx, &r53.CreateHostedZoneInput{Name: aws.String("t1.example"), CallerReference: aws.String("t1")})
	if err != nil {
		t.Fatal(err)
	}
	z2, err := c.CreateHostedZone(ctx, &r53.CreateHostedZoneInput{Name: aws.String("t2.example"), CallerReference: aws.String("t2")})
	if err != nil {
		t.Fatal(err)
	}
	id1, id2 := strings.TrimPrefix(*z1.HostedZone.Id, "/hostedzone/"), strings.TrimPrefix(*z2.HostedZone.Id, "/hostedzone/")
	if _, err := c.ChangeTagsForResource(ctx, &r53.ChangeTagsForResourceInput{ResourceType: types.TagResourceTypeHostedzone, ResourceId: aws.String(id1),
		AddTags: []types.Tag{{Key: aws.String("env"), Value: aws.String("prod")}, {Key: aws.String("team"), Value: aws.String("dns")}}}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.ChangeTagsForResource(ctx, &r53.ChangeTagsForResourceInput{ResourceType: types.TagResourceTypeHostedzone, ResourceId: aws.String(id1),
		AddTags: []types.Tag{{Key: aws.String("env"), Value: aws.String("staging")}}, RemoveTagKeys: []string{"team"}}); err != nil {
		t.Fatal(err)
	}
	got, err := c.ListTagsForResource(ctx, &r53.ListTagsForResourceInput{ResourceType: types.TagResourceTypeHostedzone, ResourceId: aws.String(id1)})
	if err != nil {
		t.Fatal(err)
	}
	if set := got.ResourceTagSet; *set.ResourceId != id1 || set.ResourceType != types.TagResourceTypeHostedzone ||
		len(set.Tags) != 1 || *set.Tags[0].Key != "env" || *set.Tags[0].Value != "staging" {
		t.Fatalf("ListTagsForResource %+v", set)
	}
	many, err := c.ListTagsForResources(ctx, &r53.ListTagsForResourcesInput{ResourceType: types.TagResourceTypeHostedzone, ResourceIds: []string{id2, id1}})
	if err != nil || len(many.ResourceTagSets) != 2 || *many.ResourceTagSets[0].ResourceId != id2 || len(many.ResourceTagSets[0].Tags) != 0 ||
		len(many.ResourceTagSets[1].Tags) != 1 {
		t.Fatalf("ListTagsForResources %+v %v", many, err)
	}

	hc, err := c.CreateHealthCheck(ctx, &r53.CreateHealthCheckInput{CallerReference: aws.String("hc"), HealthCheckConfig: &types.HealthCheckConfig{
		Type: types.HealthCheckTypeTcp, IPAddress: aws.String("127.0.0.1"), Port: aws.Int32(1)}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.ChangeTagsForResource(ctx, &r53.ChangeTagsForResourceInput{ResourceType: types.TagResourceTypeHealthcheck, ResourceId: hc.HealthCheck.Id,
		AddTags: []types.Tag{{Key: aws.String("Name"), Value: aws.String("web")}}}); err != nil {
		t.Fatal(err)
	}
	hct, err := c.ListTagsForResource(ctx, &r53.ListTagsForResourceInput{ResourceType: types.TagResourceTypeHealthcheck, ResourceId: hc.HealthCheck.Id})
	if err != nil || len(hct.ResourceTagSet.Tags) != 1 || *hct.ResourceTagSet.Tags[0].Value != "web" {
		t.Fatalf("health check tags %+v %v", hct, err)
	}

	// Errors: another tenant's zone reads as missing; reserved keys and
	// too many changes are InvalidInput.
	_, ok, osec := s.tenant("tags-other")
	_, err = s.client(ok, osec).ListTagsForResource(ctx, &r53.ListTagsForResourceInput{ResourceType: types.TagResourceTypeHostedzone, ResourceId: aws.String(id1)})
	var nsz *types.NoSuchHostedZone
	if !errors.As(err, &nsz) {
		t.Fatalf("another tenant's zone: %v", err)
	}
	_, err = c.ListTagsForResource(ctx, &r53.ListTagsForResourceInput{ResourceType: types.TagResourceTypeHealthcheck, ResourceId: aws.String("00000000-0000-4000-8000-000000000000")})
	var nsh *types.NoSuchHealthCheck
	if !errors.As(err, &nsh) {
		t.Fatalf("missing health check: %v", err)
	}
	_, err = c.ChangeTagsForResource(ctx, &r53.ChangeTagsForResourceInput{ResourceType: types.TagResourceTypeHostedzone, ResourceId: aws.String(id1),
		AddTags: []types.Tag{{Key: aws.String("aws:x"), Value: aws.String("y")}}})
	var invalid *types.InvalidInput
	if !errors.As(err, &invalid) {
		t.Fatalf("reserved key: %v", err)
	}
	var eleven []types.Tag
	for i := range 11 {
		eleven = append(eleven, types.Tag{Key: aws.String(string(rune('a' + i))), Value: aws.String("v")})
	}
	_, err = c.ChangeTagsForResource(ctx, &r53.ChangeTagsForResourceInput{ResourceType: types.TagResourceTypeHostedzone, ResourceId: aws.String(id1), AddTags: eleven})
	if !errors.As(err, &invalid) {
		t.Fatalf("eleven tags: %v", err)
	}
	// A deleted zone's tags go with it.
	if _, err := c.DeleteHostedZone(ctx, &r53.DeleteHostedZoneInput{Id: z1.HostedZone.Id}); err != nil {
		t.Fatal(err)
	}
	_, err = c.ListTagsForResource(ctx, &r53.ListTagsForResourceInput{ResourceType: types.TagResourceTypeHostedzone, ResourceId: aws.String(id1)})
	if !errors.As(err, &nsz) {
		t.Fatalf("deleted zone: %v", err)
	}
}
