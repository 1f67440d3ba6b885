package client_test

import (
	"context"
	"fmt"
	"log"
	"net/http"
	"time"

	"github.com/waymark-dns/waymark/client"
)

// uniqueName returns a zone name no other run has used (zone names are
// unique among the zones of the service).
func uniqueName(label string) string {
	return fmt.Sprintf("%s-%x.example", label, time.Now().UnixNano())
}

// Create a zone, add records in one atomic change batch, and wait until
// every nameserver serves them. These examples run against `waymark dev`
// (go test starts one), configured as after `source .waymark/dev.env`.
func Example() {
	ctx := context.Background()
	c, err := client.NewFromEnv() // WAYMARK_API and WAYMARK_API_KEY
	if err != nil {
		log.Fatal(err)
	}
	name := uniqueName("shop")
	zone, err := c.CreateHostedZone(ctx, client.CreateHostedZoneInput{Name: name})
	if err != nil {
		log.Fatal(err)
	}
	change, err := c.ChangeRRSets(ctx, zone.HostedZone.ID, client.ChangeBatch{
		Comment: "first records",
		Changes: []client.RRSetChange{{
			Action: client.ActionCreate,
			RRSet:  client.RRSet{Name: "www." + name, Type: "A", TTL: client.Ptr[int64](300), Records: []string{"192.0.2.10"}},
		}},
	})
	if err != nil {
		log.Fatal(err)
	}
	wctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	done, err := c.WaitInSync(wctx, change.Change.ID, nil)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(done.Change.Status, done.Change.Comment)
	// Output: INSYNC first records
}

// Iterators fetch the next page when the previous one is used up.
func ExampleClient_RRSets() {
	ctx := context.Background()
	c, err := client.NewFromEnv()
	if err != nil {
		log.Fatal(err)
	}
	zone, err := c.CreateHostedZone(ctx, client.CreateHostedZoneInput{Name: uniqueName("pages")})
	if err != nil {
		log.Fatal(err)
	}
	for rs, err := range c.RRSets(ctx, zone.HostedZone.ID, &client.ListRRSetsInput{MaxItems: 1}) {
		if err != nil {
			log.Fatal(err)
		}
		fmt.Println(rs.Type, len(rs.Records) > 0)
	}
	// Output:
	// NS true
	// SOA true
}

// WaitInSync reports progress as the nameservers apply the change.
func ExampleClient_WaitInSync() {
	ctx := context.Background()
	c, err := client.NewFromEnv()
	if err != nil {
		log.Fatal(err)
	}
	zone, err := c.CreateHostedZone(ctx, client.CreateHostedZoneInput{Name: uniqueName("wait")})
	if err != nil {
		log.Fatal(err)
	}
	wctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	done, err := c.WaitInSync(wctx, zone.Change.ID, &client.WaitOptions{
		PollTimeout: 2 * time.Second,
		OnProgress: func(p *client.GetChangeOutput) {
			if p.Propagation != nil {
				log.Printf("%s: %d of %d nameservers", p.Change.Status, p.Propagation.AppliedNameservers, p.Propagation.LiveNameservers)
			}
		},
	})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(done.Change.Status)
	// Output: INSYNC
}

// Errors carry the API's code, message, details and request id.
func ExampleIsCode() {
	ctx := context.Background()
	c, err := client.NewFromEnv()
	if err != nil {
		log.Fatal(err)
	}
	_, err = c.GetHostedZone(ctx, "no-such-zone")
	if client.IsCode(err, client.CodeNoSuchHostedZone) {
		e, _ := client.AsError(err)
		fmt.Println(e.StatusCode, e.Code, e.RequestID != "")
	}
	// Output: 404 NoSuchHostedZone true
}

// An InvalidChangeBatch error lists each failing change by its index.
func ExampleError_details() {
	ctx := context.Background()
	c, err := client.NewFromEnv()
	if err != nil {
		log.Fatal(err)
	}
	zone, err := c.CreateHostedZone(ctx, client.CreateHostedZoneInput{Name: uniqueName("bad")})
	if err != nil {
		log.Fatal(err)
	}
	_, err = c.ChangeRRSets(ctx, zone.HostedZone.ID, client.ChangeBatch{Changes: []client.RRSetChange{
		{Action: client.ActionDelete, RRSet: client.RRSet{Name: "nothing." + zone.HostedZone.Name, Type: "A", TTL: client.Ptr[int64](60), Records: []string{"192.0.2.1"}}},
	}})
	if e, ok := client.AsError(err); ok {
		fmt.Println(e.Code)
		for _, d := range e.Details {
			fmt.Println(*d.Index)
		}
	}
	// Output:
	// InvalidChangeBatch
	// 0
}

// Options inject the HTTP client, the retry policy and, in tests, the
// sleep between retries.
func ExampleNew() {
	c, err := client.New("http://127.0.0.1:8080",
		client.WithToken("wmk_…"),
		client.WithHTTPClient(&http.Client{Timeout: 2 * time.Minute}),
		client.WithRetryPolicy(client.RetryPolicy{MaxAttempts: 6, BaseDelay: 500 * time.Millisecond}),
		client.WithUserAgent("dns-sync/1.0"),
	)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(c.BaseURL())
	// Output: http://127.0.0.1:8080
}

// A zone file is imported as one change batch; a bad line fails the
// whole import, and the error says which line.
func ExampleClient_ImportZone() {
	ctx := context.Background()
	c, err := client.NewFromEnv()
	if err != nil {
		log.Fatal(err)
	}
	name := uniqueName("import")
	zone, err := c.CreateHostedZone(ctx, client.CreateHostedZoneInput{Name: name})
	if err != nil {
		log.Fatal(err)
	}
	file := "$ORIGIN " + name + ".\nwww 300 IN A 192.0.2.10\nmail 300 IN A not-an-address\n"
	_, err = c.ImportZone(ctx, zone.HostedZone.ID, []byte(file))
	if e, ok := client.AsError(err); ok {
		for _, d := range e.Details {
			fmt.Println(e.Code, "line", d.Line)
		}
	}
	// Output: InvalidInput line 3
}

// HostedZones walks every page of zones; stop whenever you like.
func ExampleClient_HostedZones() {
	ctx := context.Background()
	c, err := client.NewFromEnv()
	if err != nil {
		log.Fatal(err)
	}
	name := uniqueName("listed")
	if _, err := c.CreateHostedZone(ctx, client.CreateHostedZoneInput{Name: name}); err != nil {
		log.Fatal(err)
	}
	for z, err := range c.HostedZones(ctx, &client.ListHostedZonesInput{MaxItems: 2}) {
		if err != nil {
			log.Fatal(err)
		}
		if z.Name == name+"." {
			fmt.Println("found", z.RecordSetCount, "record sets")
			break
		}
	}
	// Output: found 2 record sets
}
