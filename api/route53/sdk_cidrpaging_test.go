package route53_test

import (
	"context"
	"slices"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	r53 "github.com/aws/aws-sdk-go-v2/service/route53"
	"github.com/aws/aws-sdk-go-v2/service/route53/types"
)

// TestIntegrationSDKCidrPaging pages ListCidrCollections, ListCidrLocations
// and ListCidrBlocks with the SDK's own paginators (NextToken, MaxResults)
// and checks that every item comes once, in order, and that a token whose
// item was deleted is refused rather than skipping items.
func TestIntegrationSDKCidrPaging(t *testing.T) {
	t.Parallel()
	s := newServer(t, serverOptions{})
	ctx := context.Background()
	_, keyID, secret := s.tenant("cidrpaging")
	c := s.client(keyID, secret)

	var colIDs []string
	for _, name := range []string{"c1", "c2", "c3"} {
		out, err := c.CreateCidrCollection(ctx, &r53.CreateCidrCollectionInput{Name: aws.String(name), CallerReference: aws.String(name)})
		if err != nil {
			t.Fatalf("CreateCidrCollection %s: %v", name, err)
		}
		colIDs = append(colIDs, *out.Collection.Id)
	}
	col := colIDs[0]
	if _, err := c.ChangeCidrCollection(ctx, &r53.ChangeCidrCollectionInput{Id: aws.String(col), Changes: []types.CidrCollectionChange{
		{LocationName: aws.String("a"), Action: types.CidrCollectionChangeActionPut, CidrList: []string{"192.0.2.0/24", "198.51.100.0/24", "2001:db8::/48"}},
		{LocationName: aws.String("b"), Action: types.CidrCollectionChangeActionPut, CidrList: []string{"203.0.113.0/24"}},
		{LocationName: aws.String("c"), Action: types.CidrCollectionChangeActionPut, CidrList: []string{"2001:db8:1::/48"}},
	}}); err != nil {
		t.Fatalf("ChangeCidrCollection: %v", err)
	}

	var gotCols []string
	pages := 0
	for p := r53.NewListCidrCollectionsPaginator(c, &r53.ListCidrCollectionsInput{}, func(o *r53.ListCidrCollectionsPaginatorOptions) { o.Limit = 2 }); p.HasMorePages(); pages++ {
		out, err := p.NextPage(ctx)
		if err != nil {
			t.Fatalf("ListCidrCollections page %d: %v", pages, err)
		}
		if len(out.CidrCollections) > 2 {
			t.Fatalf("page of %d collections", len(out.CidrCollections))
		}
		for _, cc := range out.CidrCollections {
			gotCols = append(gotCols, *cc.Name)
		}
	}
	if want := []string{"c1", "c2", "c3"}; !slices.Equal(gotCols, want) || pages != 2 {
		t.Fatalf("collections %v in %d pages, want %v in 2", gotCols, pages, want)
	}

	var gotLocs []string
	pages = 0
	for p := r53.NewListCidrLocationsPaginator(c, &r53.ListCidrLocationsInput{CollectionId: aws.String(col)}, func(o *r53.ListCidrLocationsPaginatorOptions) { o.Limit = 1 }); p.HasMorePages(); pages++ {
		out, err := p.NextPage(ctx)
		if err != nil {
			t.Fatalf("ListCidrLocations page %d: %v", pages, err)
		}
		for _, l := range out.CidrLocations {
			gotLocs = append(gotLocs, *l.LocationName)
		}
	}
	if want := []string{"a", "b", "c"}; !slices.Equal(gotLocs, want) || pages != 3 {
		t.Fatalf("locations %v in %d pages, want %v in 3", gotLocs, pages, want)
	}

	blocks := func(location *string, limit int32) ([]string, int) {
		t.Helper()
		var got []string
		n := 0
		for p := r53.NewListCidrBlocksPaginator(c, &r53.ListCidrBlocksInput{CollectionId: aws.String(col), LocationName: location}, func(o *r53.ListCidrBlocksPaginatorOptions) { o.Limit = limit }); p.HasMorePages(); n++ {
			out, err := p.NextPage(ctx)
			if err != nil {
				t.Fatalf("ListCidrBlocks page %d: %v", n, err)
			}
			for _, b := range out.CidrBlocks {
				got = append(got, *b.LocationName+" "+*b.CidrBlock)
			}
		}
		return got, n
	}
	all := []string{"a 192.0.2.0/24", "a 198.51.100.0/24", "a 2001:db8::/48", "b 203.0.113.0/24", "c 2001:db8:1::/48"}
	if got, n := blocks(nil, 2); !slices.Equal(got, all) || n != 3 {
		t.Fatalf("blocks %v in %d pages, want %v in 3", got, n, all)
	}
	if got, n := blocks(aws.String("a"), 2); !slices.Equal(got, all[:3]) || n != 2 {
		t.Fatalf("blocks of a %v in %d pages", got, n)
	}
	if got, n := blocks(nil, 0); !slices.Equal(got, all) || n != 1 {
		t.Fatalf("blocks without MaxResults %v in %d pages", got, n)
	}

	// A token naming a block deleted since is refused, not skipped over.
	first, err := c.ListCidrBlocks(ctx, &r53.ListCidrBlocksInput{CollectionId: aws.String(col), MaxResults: aws.Int32(1)})
	if err != nil || first.NextToken == nil {
		t.Fatalf("first page %+v %v", first, err)
	}
	if _, err := c.ChangeCidrCollection(ctx, &r53.ChangeCidrCollectionInput{Id: aws.String(col), Changes: []types.CidrCollectionChange{
		{LocationName: aws.String("a"), Action: types.CidrCollectionChangeActionDeleteIfExists, CidrList: []string{"198.51.100.0/24"}},
	}}); err != nil {
		t.Fatalf("ChangeCidrCollection delete: %v", err)
	}
	if _, err := c.ListCidrBlocks(ctx, &r53.ListCidrBlocksInput{CollectionId: aws.String(col), NextToken: first.NextToken}); apiCode(t, err) != "InvalidInput" {
		t.Fatalf("stale token: %v", err)
	}
	for _, tok := range []string{"!!not-base64", "bm8gc3VjaA"} {
		if _, err := c.ListCidrCollections(ctx, &r53.ListCidrCollectionsInput{NextToken: aws.String(tok)}); apiCode(t, err) != "InvalidInput" {
			t.Fatalf("token %q: %v", tok, err)
		}
	}
}
