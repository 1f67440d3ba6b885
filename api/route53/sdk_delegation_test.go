package route53_test

import (
	"context"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	r53 "github.com/aws/aws-sdk-go-v2/service/route53"
	"github.com/aws/aws-sdk-go-v2/service/route53/types"
)

// TestIntegrationSDKReusableDelegationSets drives the reusable delegation
// set operations with the real aws-sdk-go-v2 client: create a set, put two
// zones on it, list with paging, delete refused while in use and then
// done, a zone's own set made reusable, and the typed errors, including
// another tenant's set id answering as missing.
func TestIntegrationSDKReusableDelegationSets(t *testing.T) {
	t.Parallel()
	s := newServer(t, serverOptions{})
	ctx := context.Background()
	tenantID, keyID, secret := s.tenant("dsets")
	c := s.client(keyID, secret)

	cr, err := c.CreateReusableDelegationSet(ctx, &r53.CreateReusableDelegationSetInput{CallerReference: aws.String("set-1")})
	if err != nil {
		t.Fatalf("CreateReusableDelegationSet: %v", err)
	}
	set := cr.DelegationSet
	if !strings.HasPrefix(*set.Id, "/delegationset/N") || *set.CallerReference != "set-1" || len(set.NameServers) != 4 ||
		strings.HasSuffix(set.NameServers[0], ".") || !strings.HasSuffix(*cr.Location, "/2013-04-01"+*set.Id) {
		t.Fatalf("created %+v at %q", set, *cr.Location)
	}
	if _, err := c.CreateReusableDelegationSet(ctx, &r53.CreateReusableDelegationSetInput{CallerReference: aws.String("set-1")}); apiCode(t, err) != "DelegationSetAlreadyCreated" {
		t.Fatalf("caller reference reused: %v", err)
	}

	// Two zones on the set, one naming it prefixed (as the SDK strips it,
	// this goes bare) and one bare; both publish the set's names.
	var zoneIDs []string
	for i, name := range []string{"one.example", "two.example"} {
		id := *set.Id
		if i == 1 {
			id = strings.TrimPrefix(id, "/delegationset/")
		}
		out, err := c.CreateHostedZone(ctx, &r53.CreateHostedZoneInput{
			Name: aws.String(name), CallerReference: aws.String("zone-" + name), DelegationSetId: aws.String(id),
		})
		if err != nil {
			t.Fatalf("CreateHostedZone %s on the set: %v", name, err)
		}
		if !slices.Equal(out.DelegationSet.NameServers, set.NameServers) || aws.ToString(out.DelegationSet.Id) != *set.Id {
			t.Fatalf("zone %s delegation set %+v, want %v", name, out.DelegationSet, set.NameServers)
		}
		zoneIDs = append(zoneIDs, *out.HostedZone.Id)
	}

	got, err := c.GetReusableDelegationSet(ctx, &r53.GetReusableDelegationSetInput{Id: set.Id})
	if err != nil || *got.DelegationSet.Id != *set.Id || !slices.Equal(got.DelegationSet.NameServers, set.NameServers) {
		t.Fatalf("GetReusableDelegationSet: %+v %v", got, err)
	}

	// A zone's own set made reusable keeps its id and names.
	own, err := c.CreateHostedZone(ctx, &r53.CreateHostedZoneInput{Name: aws.String("own.example"), CallerReference: aws.String("zone-own")})
	if err != nil {
		t.Fatal(err)
	}
	ownZone, err := s.svc.GetZone(ctx, tenantID, *own.HostedZone.Id)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.GetReusableDelegationSet(ctx, &r53.GetReusableDelegationSetInput{Id: aws.String(ownZone.DelegationSetID)}); apiCode(t, err) != "DelegationSetNotReusable" {
		t.Fatalf("zone's own set: %v", err)
	}
	if _, err := c.CreateHostedZone(ctx, &r53.CreateHostedZoneInput{
		Name: aws.String("three.example"), CallerReference: aws.String("zone-three"), DelegationSetId: aws.String(ownZone.DelegationSetID),
	}); apiCode(t, err) != "DelegationSetNotReusable" {
		t.Fatalf("zone on another zone's own set: %v", err)
	}
	promoted, err := c.CreateReusableDelegationSet(ctx, &r53.CreateReusableDelegationSetInput{
		CallerReference: aws.String("set-2"), HostedZoneId: own.HostedZone.Id,
	})
	if err != nil || *promoted.DelegationSet.Id != "/delegationset/"+ownZone.DelegationSetID ||
		!slices.Equal(promoted.DelegationSet.NameServers, own.DelegationSet.NameServers) {
		t.Fatalf("CreateReusableDelegationSet from a zone: %+v %v", promoted, err)
	}
	if _, err := c.CreateReusableDelegationSet(ctx, &r53.CreateReusableDelegationSetInput{
		CallerReference: aws.String("set-3"), HostedZoneId: own.HostedZone.Id,
	}); apiCode(t, err) != "DelegationSetAlreadyReusable" {
		t.Fatalf("zone's set already reusable: %v", err)
	}

	// Listing pages one at a time with Marker/NextMarker.
	var listed []string
	var marker *string
	for pages := 0; ; pages++ {
		if pages > 3 {
			t.Fatal("ListReusableDelegationSets does not end")
		}
		out, err := c.ListReusableDelegationSets(ctx, &r53.ListReusableDelegationSetsInput{Marker: marker, MaxItems: aws.Int32(1)})
		if err != nil {
			t.Fatalf("ListReusableDelegationSets: %v", err)
		}
		if aws.ToInt32(out.MaxItems) != 1 || aws.ToString(out.Marker) != aws.ToString(marker) || len(out.DelegationSets) != 1 {
			t.Fatalf("page %+v", out)
		}
		listed = append(listed, *out.DelegationSets[0].Id)
		if !out.IsTruncated {
			break
		}
		marker = out.NextMarker
	}
	if want := []string{*set.Id, *promoted.DelegationSet.Id}; !slices.Equal(listed, want) {
		t.Fatalf("listed %v, want %v", listed, want)
	}
	if _, err := c.ListReusableDelegationSets(ctx, &r53.ListReusableDelegationSetsInput{Marker: aws.String("NNOSUCHSET")}); apiCode(t, err) != "InvalidInput" {
		t.Fatalf("unknown marker: %v", err)
	}

	lim, err := c.GetAccountLimit(ctx, &r53.GetAccountLimitInput{Type: types.AccountLimitTypeMaxReusableDelegationSetsByOwner})
	if err != nil || *lim.Limit.Value != 100 || lim.Count != 2 {
		t.Fatalf("GetAccountLimit: %+v %v", lim, err)
	}

	// Another tenant sees none of it.
	_, otherKey, otherSecret := s.tenant("dsets-other")
	other := s.client(otherKey, otherSecret)
	if _, err := other.GetReusableDelegationSet(ctx, &r53.GetReusableDelegationSetInput{Id: set.Id}); apiCode(t, err) != "NoSuchDelegationSet" {
		t.Fatalf("another tenant's set: %v", err)
	}
	if _, err := other.DeleteReusableDelegationSet(ctx, &r53.DeleteReusableDelegationSetInput{Id: set.Id}); apiCode(t, err) != "NoSuchDelegationSet" {
		t.Fatalf("delete another tenant's set: %v", err)
	}
	if _, err := other.CreateHostedZone(ctx, &r53.CreateHostedZoneInput{
		Name: aws.String("four.example"), CallerReference: aws.String("zone-four"), DelegationSetId: set.Id,
	}); apiCode(t, err) != "NoSuchDelegationSet" {
		t.Fatalf("zone on another tenant's set: %v", err)
	}
	if out, err := other.ListReusableDelegationSets(ctx, &r53.ListReusableDelegationSetsInput{}); err != nil || len(out.DelegationSets) != 0 || out.IsTruncated {
		t.Fatalf("another tenant's list: %+v %v", out, err)
	}

	// Deleting is refused while zones use the set.
	if _, err := c.DeleteReusableDelegationSet(ctx, &r53.DeleteReusableDelegationSetInput{Id: set.Id}); apiCode(t, err) != "DelegationSetInUse" {
		t.Fatalf("delete in use: %v", err)
	}
	for _, id := range zoneIDs {
		if _, err := c.DeleteHostedZone(ctx, &r53.DeleteHostedZoneInput{Id: aws.String(id)}); err != nil {
			t.Fatalf("DeleteHostedZone %s: %v", id, err)
		}
	}
	if _, err := c.DeleteReusableDelegationSet(ctx, &r53.DeleteReusableDelegationSetInput{Id: set.Id}); err != nil {
		t.Fatalf("DeleteReusableDelegationSet: %v", err)
	}
	if _, err := c.GetReusableDelegationSet(ctx, &r53.GetReusableDelegationSetInput{Id: set.Id}); apiCode(t, err) != "NoSuchDelegationSet" {
		t.Fatalf("deleted set: %v", err)
	}
}
