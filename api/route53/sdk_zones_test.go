package route53_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	r53 "github.com/aws/aws-sdk-go-v2/service/route53"
	"github.com/aws/aws-sdk-go-v2/service/route53/types"
)

// TestIntegrationSDKHostedZones drives the hosted-zone operations with the
// real aws-sdk-go-v2 client: create (with its delegation set), get, list
// and list-by-name with paging, count, comment, delete, and the typed
// errors the SDK maps, including another tenant's ids.
func TestIntegrationSDKHostedZones(t *testing.T) {
	t.Parallel()
	s := newServer(t, serverOptions{})
	ctx := context.Background()
	_, keyID, secret := s.tenant("zones")
	c := s.client(keyID, secret)

	var ids []string
	var del0 *r53.CreateHostedZoneOutput
	var sets [][]string
	for _, name := range []string{"b.example.com", "example.com.", "a.example.org", "*x.example.net"} {
		out, err := c.CreateHostedZone(ctx, &r53.CreateHostedZoneInput{
			Name: aws.String(name), CallerReference: aws.String("ref-" + name),
			HostedZoneConfig: &types.HostedZoneConfig{Comment: aws.String("zone " + name)},
		})
		if err != nil {
			t.Fatalf("CreateHostedZone %s: %v", name, err)
		}
		hz := out.HostedZone
		if !strings.HasPrefix(*hz.Id, "/hostedzone/Z") || hz.Config.PrivateZone || *hz.ResourceRecordSetCount != 2 {
			t.Fatalf("CreateHostedZone %s: %+v", name, hz)
		}
		if got := out.DelegationSet.NameServers; len(got) != 4 || !slices.ContainsFunc(got, func(n string) bool {
			return strings.HasPrefix(n, "ns") && strings.HasSuffix(n, ".waymark.test")
		}) {
			t.Fatalf("delegation set %v", got)
		}
		sets = append(sets, out.DelegationSet.NameServers)
		if out.ChangeInfo.Status != types.ChangeStatusPending && out.ChangeInfo.Status != types.ChangeStatusInsync ||
			!strings.HasPrefix(*out.ChangeInfo.Id, "/change/C") {
			t.Fatalf("change info %+v", out.ChangeInfo)
		}
		if *out.Location == "" || !strings.HasSuffix(*out.Location, "/2013-04-01"+*hz.Id) {
			t.Fatalf("Location %q", *out.Location)
		}
		ids = append(ids, *hz.Id)
		del0 = out
	}
	// A name outside a-z0-9-_ comes back octal-escaped.
	if got, err := c.GetHostedZone(ctx, &r53.GetHostedZoneInput{Id: aws.String(ids[3])}); err != nil || *got.HostedZone.Name != `\052x.example.net.` {
		t.Fatalf("GetHostedZone escaped name: %v %+v", err, got)
	}

	got, err := c.GetHostedZone(ctx, &r53.GetHostedZoneInput{Id: aws.String(ids[1])})
	if err != nil {
		t.Fatal(err)
	}
	if *got.HostedZone.Name != "example.com." || *got.HostedZone.Config.Comment != "zone example.com." || !slices.Equal(got.DelegationSet.NameServers, sets[1]) {
		t.Fatalf("GetHostedZone %+v", got.HostedZone)
	}

	// ListHostedZones pages through all four with the marker.
	var listed []string
	p := r53.NewListHostedZonesPaginator(c, &r53.ListHostedZonesInput{MaxItems: aws.Int32(1)})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for _, z := range page.HostedZones {
			listed = append(listed, *z.Name)
		}
	}
	want := []string{"example.com.", "b.example.com.", `\052x.example.net.`, "a.example.org."}
	if !slices.Equal(listed, want) {
		t.Fatalf("ListHostedZones %v, want %v", listed, want)
	}

	// ByName: dnsname is a position, not a filter.
	byName, err := c.ListHostedZonesByName(ctx, &r53.ListHostedZonesByNameInput{DNSName: aws.String("c.example.com"), MaxItems: aws.Int32(1)})
	if err != nil {
		t.Fatal(err)
	}
	if len(byName.HostedZones) != 1 || *byName.HostedZones[0].Name != `\052x.example.net.` || !byName.IsTruncated ||
		*byName.NextDNSName != "a.example.org." || *byName.DNSName != "c.example.com" {
		t.Fatalf("ListHostedZonesByName %+v", byName)
	}

	count, err := c.GetHostedZoneCount(ctx, &r53.GetHostedZoneCountInput{})
	if err != nil || *count.HostedZoneCount != 4 {
		t.Fatalf("GetHostedZoneCount %v %v", count, err)
	}

	up, err := c.UpdateHostedZoneComment(ctx, &r53.UpdateHostedZoneCommentInput{Id: aws.String(ids[0]), Comment: aws.String("new")})
	if err != nil || *up.HostedZone.Config.Comment != "new" {
		t.Fatalf("UpdateHostedZoneComment %+v %v", up, err)
	}

	// Typed errors.
	_, err = c.CreateHostedZone(ctx, &r53.CreateHostedZoneInput{Name: aws.String("c.example.com"), CallerReference: aws.String("ref-example.com.")})
	var exists *types.HostedZoneAlreadyExists
	if !errors.As(err, &exists) {
		t.Fatalf("reused caller reference: %v", err)
	}
	_, err = c.CreateHostedZone(ctx, &r53.CreateHostedZoneInput{Name: aws.String("com"), CallerReference: aws.String("tld")})
	var badName *types.InvalidDomainName
	if !errors.As(err, &badName) {
		t.Fatalf("TLD zone: %v", err)
	}
	_, err = c.CreateHostedZone(ctx, &r53.CreateHostedZoneInput{Name: aws.String("p.example"), CallerReference: aws.String("vpc"),
		VPC: &types.VPC{VPCId: aws.String("vpc-1"), VPCRegion: types.VPCRegionUsEast1}})
	var invalid *types.InvalidInput
	if !errors.As(err, &invalid) {
		t.Fatalf("private zone: %v", err)
	}
	_, err = c.ChangeResourceRecordSets(ctx, &r53.ChangeResourceRecordSetsInput{HostedZoneId: aws.String(ids[0]),
		ChangeBatch: &types.ChangeBatch{Changes: []types.Change{{Action: types.ChangeActionCreate, ResourceRecordSet: &types.ResourceRecordSet{
			Name: aws.String("www.b.example.com"), Type: types.RRTypeA, TTL: aws.Int64(60),
			ResourceRecords: []types.ResourceRecord{{Value: aws.String("192.0.2.1")}}}}}}})
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.DeleteHostedZone(ctx, &r53.DeleteHostedZoneInput{Id: aws.String(ids[0])})
	var notEmpty *types.HostedZoneNotEmpty
	if !errors.As(err, &notEmpty) {
		t.Fatalf("delete non-empty zone: %v", err)
	}

	// Another tenant's zone answers exactly like a missing one.
	_, otherKey, otherSecret := s.tenant("other")
	other := s.client(otherKey, otherSecret)
	missing := "/hostedzone/ZAAAAAAAAAAAAAAAA"
	for _, tc := range []struct {
		name string
		call func(id string) error
	}{
		{"GetHostedZone", func(id string) error {
			_, err := other.GetHostedZone(ctx, &r53.GetHostedZoneInput{Id: aws.String(id)})
			return err
		}},
		{"DeleteHostedZone", func(id string) error {
			_, err := other.DeleteHostedZone(ctx, &r53.DeleteHostedZoneInput{Id: aws.String(id)})
			return err
		}},
		{"UpdateHostedZoneComment", func(id string) error {
			_, err := other.UpdateHostedZoneComment(ctx, &r53.UpdateHostedZoneCommentInput{Id: aws.String(id), Comment: aws.String("x")})
			return err
		}},
		{"ListResourceRecordSets", func(id string) error {
			_, err := other.ListResourceRecordSets(ctx, &r53.ListResourceRecordSetsInput{HostedZoneId: aws.String(id)})
			return err
		}},
		{"ChangeResourceRecordSets", func(id string) error {
			_, err := other.ChangeResourceRecordSets(ctx, &r53.ChangeResourceRecordSetsInput{HostedZoneId: aws.String(id),
				ChangeBatch: &types.ChangeBatch{Changes: []types.Change{{Action: types.ChangeActionUpsert, ResourceRecordSet: &types.ResourceRecordSet{
					Name: aws.String("x.b.example.com"), Type: types.RRTypeA, TTL: aws.Int64(60),
					ResourceRecords: []types.ResourceRecord{{Value: aws.String("192.0.2.1")}}}}}}})
			return err
		}},
		{"GetHostedZoneLimit", func(id string) error {
			_, err := other.GetHostedZoneLimit(ctx, &r53.GetHostedZoneLimitInput{HostedZoneId: aws.String(id), Type: types.HostedZoneLimitTypeMaxRrsetsByZone})
			return err
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			errOwned, errMissing := tc.call(ids[1]), tc.call(missing)
			var a, b *types.NoSuchHostedZone
			if !errors.As(errOwned, &a) || !errors.As(errMissing, &b) {
				t.Fatalf("want NoSuchHostedZone for both: %v / %v", errOwned, errMissing)
			}
			bare := strings.TrimPrefix(ids[1], "/hostedzone/")
			if strings.ReplaceAll(a.ErrorMessage(), bare, "ID") != strings.ReplaceAll(b.ErrorMessage(), "ZAAAAAAAAAAAAAAAA", "ID") {
				t.Fatalf("messages differ: %q / %q", a.ErrorMessage(), b.ErrorMessage())
			}
		})
	}

	// Another tenant's change reads as missing too.
	_, err = other.GetChange(ctx, &r53.GetChangeInput{Id: del0.ChangeInfo.Id})
	var otherChange *types.NoSuchChange
	if !errors.As(err, &otherChange) {
		t.Fatalf("another tenant's change: %v", err)
	}

	// Delete: the zone goes, its change can be polled.
	del, err := c.DeleteHostedZone(ctx, &r53.DeleteHostedZoneInput{Id: aws.String(ids[2])})
	if err != nil {
		t.Fatal(err)
	}
	w := r53.NewResourceRecordSetsChangedWaiter(c, fastWaiter)
	if err := w.Wait(ctx, &r53.GetChangeInput{Id: del.ChangeInfo.Id}, 30*time.Second); err != nil {
		t.Fatalf("wait for delete: %v", err)
	}
	_, err = c.GetHostedZone(ctx, &r53.GetHostedZoneInput{Id: aws.String(ids[2])})
	var nsz *types.NoSuchHostedZone
	if !errors.As(err, &nsz) {
		t.Fatalf("deleted zone: %v", err)
	}
	_, err = c.GetChange(ctx, &r53.GetChangeInput{Id: aws.String("/change/CAAAAAAAAAAAAAAAA")})
	var nsc *types.NoSuchChange
	if !errors.As(err, &nsc) {
		t.Fatalf("missing change: %v", err)
	}
	if code := apiCode(t, err); code != "NoSuchChange" {
		t.Fatal(code)
	}
	_ = fmt.Sprint()
}

// fastWaiter makes the SDK's waiter poll quickly; it still polls GetChange
// until INSYNC by the SDK's own rules.
func fastWaiter(o *r53.ResourceRecordSetsChangedWaiterOptions) {
	o.MinDelay, o.MaxDelay = 20*time.Millisecond, 100*time.Millisecond
}
