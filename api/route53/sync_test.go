package route53_test

import (
	"context"
	"fmt"
	"reflect"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	r53 "github.com/aws/aws-sdk-go-v2/service/route53"
	"github.com/aws/aws-sdk-go-v2/service/route53/types"
)

// endpoint is one desired record set of a sync, as external-dns plans
// them: keyed by unescaped name, type and set identifier.
type endpoint struct {
	name, typ, setID string
	ttl              int64
	weight           *int64
	values           []string
}

func (e endpoint) key() string { return e.name + "|" + e.typ + "|" + e.setID }

func (e endpoint) rrset() *types.ResourceRecordSet {
	rs := &types.ResourceRecordSet{Name: aws.String(e.name), Type: types.RRType(e.typ), TTL: aws.Int64(e.ttl), Weight: e.weight}
	if e.setID != "" {
		rs.SetIdentifier = aws.String(e.setID)
	}
	for _, v := range e.values {
		rs.ResourceRecords = append(rs.ResourceRecords, types.ResourceRecord{Value: aws.String(v)})
	}
	return rs
}

// syncer follows external-dns's AWS provider's calls (shared/ROUTE53.md
// §9.2): list every zone page, read each zone's tags to filter on them,
// list record sets 300 at a time, undo Route 53's \052 escaping, diff
// against the desired state and send one change batch (UPSERT for
// changes, DELETE of exactly what was listed). It never calls GetChange.
// This is the SDK following that call pattern, not external-dns itself.
type syncer struct {
	c     *r53.Client
	owner string
	calls map[string]int
}

func (s *syncer) zone(ctx context.Context, t *testing.T, name string) string {
	t.Helper()
	var id string
	p := r53.NewListHostedZonesPaginator(s.c, &r53.ListHostedZonesInput{})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			t.Fatal(err)
		}
		s.calls["ListHostedZones"]++
		for _, z := range page.HostedZones {
			tags, err := s.c.ListTagsForResource(ctx, &r53.ListTagsForResourceInput{ResourceType: types.TagResourceTypeHostedzone,
				ResourceId: aws.String(strings.TrimPrefix(*z.Id, "/hostedzone/"))})
			if err != nil {
				t.Fatal(err)
			}
			s.calls["ListTagsForResource"]++
			managed := false
			for _, tg := range tags.ResourceTagSet.Tags {
				managed = managed || *tg.Key == "external-dns" && *tg.Value == s.owner
			}
			if *z.Name == name && managed && !z.Config.PrivateZone {
				id = *z.Id
			}
		}
	}
	if id == "" {
		t.Fatalf("zone %s not found", name)
	}
	return id
}

// current lists the zone's record sets other than the apex SOA/NS, by key.
func (s *syncer) current(ctx context.Context, t *testing.T, zoneID string) map[string]types.ResourceRecordSet {
	t.Helper()
	out := map[string]types.ResourceRecordSet{}
	p := r53.NewListResourceRecordSetsPaginator(s.c, &r53.ListResourceRecordSetsInput{HostedZoneId: aws.String(zoneID), MaxItems: aws.Int32(300)})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			t.Fatal(err)
		}
		s.calls["ListResourceRecordSets"]++
		for _, rs := range page.ResourceRecordSets {
			if rs.Type == types.RRTypeSoa || rs.Type == types.RRTypeNs {
				continue
			}
			name := strings.ReplaceAll(*rs.Name, `\052`, "*")
			out[name+"|"+string(rs.Type)+"|"+aws.ToString(rs.SetIdentifier)] = rs
		}
	}
	return out
}

func sameRRSet(e endpoint, rs types.ResourceRecordSet) bool {
	var vals []string
	for _, r := range rs.ResourceRecords {
		vals = append(vals, *r.Value)
	}
	return aws.ToInt64(rs.TTL) == e.ttl && reflect.DeepEqual(vals, e.values) && reflect.DeepEqual(rs.Weight, e.weight)
}

// sync makes the zone hold exactly desired and returns how many changes
// it sent.
func (s *syncer) sync(ctx context.Context, t *testing.T, zoneID string, desired []endpoint) int {
	t.Helper()
	cur := s.current(ctx, t, zoneID)
	var changes []types.Change
	want := map[string]bool{}
	for _, e := range desired {
		want[e.key()] = true
		if rs, ok := cur[e.key()]; ok && sameRRSet(e, rs) {
			continue
		}
		changes = append(changes, types.Change{Action: types.ChangeActionUpsert, ResourceRecordSet: e.rrset()})
	}
	for k, rs := range cur {
		if !want[k] {
			rs := rs
			changes = append(changes, types.Change{Action: types.ChangeActionDelete, ResourceRecordSet: &rs})
		}
	}
	if len(changes) == 0 {
		return 0
	}
	if _, err := s.c.ChangeResourceRecordSets(ctx, &r53.ChangeResourceRecordSetsInput{HostedZoneId: aws.String(zoneID),
		ChangeBatch: &types.ChangeBatch{Comment: aws.String("external-dns sync"), Changes: changes}}); err != nil {
		t.Fatalf("sync: %v", err)
	}
	s.calls["ChangeResourceRecordSets"]++
	return len(changes)
}

// TestIntegrationExternalDNSStyleSync runs create, a re-sync that must
// find nothing to change (every listed value, TTL, weight and name must
// round-trip exactly, the wildcard included), an update and a delete.
func TestIntegrationExternalDNSStyleSync(t *testing.T) {
	t.Parallel()
	srv := newServer(t, serverOptions{})
	ctx := context.Background()
	_, keyID, secret := srv.tenant("xdns")
	c := srv.client(keyID, secret)
	for i, name := range []string{"other.example", "k8s.example"} {
		z, err := c.CreateHostedZone(ctx, &r53.CreateHostedZoneInput{Name: aws.String(name), CallerReference: aws.String(name)})
		if err != nil {
			t.Fatal(err)
		}
		if i == 1 {
			if _, err := c.ChangeTagsForResource(ctx, &r53.ChangeTagsForResourceInput{ResourceType: types.TagResourceTypeHostedzone,
				ResourceId: aws.String(strings.TrimPrefix(*z.HostedZone.Id, "/hostedzone/")),
				AddTags:    []types.Tag{{Key: aws.String("external-dns"), Value: aws.String("default")}}}); err != nil {
				t.Fatal(err)
			}
		}
	}
	s := &syncer{c: c, owner: "default", calls: map[string]int{}}
	zoneID := s.zone(ctx, t, "k8s.example.")

	owner := `"heritage=external-dns,external-dns/owner=default,external-dns/resource=service/default/web"`
	desired := []endpoint{
		{name: "web.k8s.example.", typ: "A", ttl: 300, values: []string{"192.0.2.10", "192.0.2.11"}},
		{name: "a-web.k8s.example.", typ: "TXT", ttl: 300, values: []string{owner}},
		{name: "*.apps.k8s.example.", typ: "CNAME", ttl: 60, values: []string{"ingress.k8s.example."}},
		{name: "a-*.apps.k8s.example.", typ: "TXT", ttl: 60, values: []string{owner}},
		{name: "canary.k8s.example.", typ: "A", setID: "stable", ttl: 60, weight: aws.Int64(90), values: []string{"192.0.2.20"}},
		{name: "canary.k8s.example.", typ: "A", setID: "canary", ttl: 60, weight: aws.Int64(10), values: []string{"192.0.2.21"}},
	}
	for i := range 400 {
		desired = append(desired, endpoint{name: fmt.Sprintf("svc%03d.k8s.example.", i), typ: "A", ttl: 300, values: []string{fmt.Sprintf("10.1.%d.%d", i/256, i%256)}})
	}
	if n := s.sync(ctx, t, zoneID, desired); n != len(desired) {
		t.Fatalf("create: %d changes, want %d", n, len(desired))
	}
	if n := s.sync(ctx, t, zoneID, desired); n != 0 {
		t.Fatalf("re-sync with nothing to do sent %d changes: a listed record set does not round-trip", n)
	}
	desired[0].values = []string{"192.0.2.12"}
	desired[5].weight = aws.Int64(50)
	if n := s.sync(ctx, t, zoneID, desired); n != 2 {
		t.Fatalf("update: %d changes, want 2", n)
	}
	if n := s.sync(ctx, t, zoneID, desired[:4]); n != len(desired)-4 {
		t.Fatalf("delete: %d changes, want %d", n, len(desired)-4)
	}
	if got := s.current(ctx, t, zoneID); len(got) != 4 {
		t.Fatalf("after delete: %d record sets", len(got))
	}
	if s.calls["ListResourceRecordSets"] < 5 || s.calls["ListTagsForResource"] != 2 {
		t.Fatalf("calls %v", s.calls)
	}
}
