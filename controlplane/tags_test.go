package controlplane

import (
	"context"
	"fmt"
	"sync"
	"testing"
)

// TestTags covers the tag rules: overwrite and remove in one step, the
// per-request and per-resource limits under concurrency, reserved keys,
// another tenant's zone, and tags going with a deleted zone.
func TestTags(t *testing.T) {
	t.Parallel()
	e := newZoneEnv(t)
	ctx := context.Background()
	tenant, other := testTenant(t, e.pool), testTenant(t, e.pool)
	z := e.mustZone(t, tenant, "tags.example.")

	if err := e.s.ChangeTags(ctx, tenant, TagHostedZone, "/hostedzone/"+z.ID, []Tag{{"b", "1"}, {"a", "2"}}, nil); err != nil {
		t.Fatal(err)
	}
	if err := e.s.ChangeTags(ctx, tenant, TagHostedZone, z.ID, []Tag{{"b", "3"}}, []string{"a", "missing"}); err != nil {
		t.Fatal(err)
	}
	got, err := e.s.ListTags(ctx, tenant, TagHostedZone, z.ID)
	if err != nil || len(got.Tags) != 1 || got.Tags[0] != (Tag{"b", "3"}) || got.ID != z.ID {
		t.Fatalf("ListTags %+v %v", got, err)
	}

	for _, tc := range []struct {
		name   string
		add    []Tag
		remove []string
	}{
		{"nothing", nil, nil},
		{"reserved", []Tag{{"AWS:x", "v"}}, nil},
		{"empty key", []Tag{{"", "v"}}, nil},
		{"long value", []Tag{{"k", string(make([]byte, MaxTagValueLength+1))}}, nil},
		{"twice", []Tag{{"k", "1"}, {"k", "2"}}, nil},
		{"add and remove", []Tag{{"k", "1"}}, []string{"k"}},
		{"eleven removals", nil, []string{"1", "2", "3", "4", "5", "6", "7", "8", "9", "10", "11"}},
	} {
		wantErr(t, e.s.ChangeTags(ctx, tenant, TagHostedZone, z.ID, tc.add, tc.remove), CodeInvalidInput)
	}
	wantErr(t, e.s.ChangeTags(ctx, tenant, "vpc", z.ID, []Tag{{"k", "v"}}, nil), CodeInvalidInput)
	wantErr(t, e.s.ChangeTags(ctx, other, TagHostedZone, z.ID, []Tag{{"k", "v"}}, nil), CodeNoSuchHostedZone)
	_, err = e.s.ListTags(ctx, other, TagHostedZone, z.ID)
	wantErr(t, err, CodeNoSuchHostedZone)
	_, err = e.s.ListTags(ctx, tenant, TagHealthCheck, "00000000-0000-4000-8000-000000000000")
	wantErr(t, err, CodeNoSuchHealthCheck)
	_, err = e.s.ListTagsForResources(ctx, tenant, TagHostedZone, []string{z.ID, "ZAAAAAAAAAAAAAAAA"})
	wantErr(t, err, CodeNoSuchHostedZone)

	// Ten concurrent requests of ten new tags each on a resource holding
	// one: at most four fit under the 50-tag limit, and the count never
	// goes over it.
	var wg sync.WaitGroup
	errs := make([]error, 10)
	for i := range 10 {
		wg.Go(func() {
			var add []Tag
			for j := range 10 {
				add = append(add, Tag{fmt.Sprintf("k%d-%d", i, j), "v"})
			}
			errs[i] = e.s.ChangeTags(ctx, tenant, TagHostedZone, z.ID, add, nil)
		})
	}
	wg.Wait()
	ok := 0
	for _, err := range errs {
		if err == nil {
			ok++
		} else {
			wantErr(t, err, CodeInvalidInput)
		}
	}
	got, err = e.s.ListTags(ctx, tenant, TagHostedZone, z.ID)
	if err != nil || ok != 4 || len(got.Tags) != 41 {
		t.Fatalf("%d requests succeeded, %d tags (%v)", ok, len(got.Tags), err)
	}

	if _, err := e.s.DeleteZone(ctx, tenant, z.ID); err != nil {
		t.Fatal(err)
	}
	if n := e.count(t, `SELECT count(*) FROM hosted_zone_tag WHERE zone_id = $1`, z.ID); n != 0 {
		t.Fatalf("%d tags left after the zone was deleted", n)
	}
}
