package route53domains_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	r53d "github.com/aws/aws-sdk-go-v2/service/route53domains"
	"github.com/aws/aws-sdk-go-v2/service/route53domains/types"
	"github.com/waymark-dns/waymark/registrar"
	"github.com/waymark-dns/waymark/registrar/regepp/regepptest"
	"github.com/waymark-dns/waymark/registrar/registry"
)

// TestIntegrationSDKExternalRegistry: the route53domains SDK client works
// unchanged on a TLD of an external registry (another registry reached
// over EPP/TLS, regepptest): availability asked of it, RegisterDomain
// SUCCESSFUL once the registry created the domain and the hosted zone is
// INSYNC, GetDomainDetail and ListDomains with the registry's expiry and
// the zone's nameservers, RenewDomain with CurrentExpiryYear reaching the
// registry.
func TestIntegrationSDKExternalRegistry(t *testing.T) {
	t.Parallel()
	s := newServer(t)
	x := regepptest.Start(t, registry.DefaultPolicy())
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	t.Cleanup(func() { cancel(); wg.Wait() })
	if _, _, err := s.svc.ConfigureExternal(ctx, "ext", x.Input); err != nil {
		t.Fatal(err)
	}
	wg.Add(1)
	go func() {
		defer wg.Done()
		_ = s.svc.NewExternalWorker(registrar.ExternalConfig{Interval: 50 * time.Millisecond}).Run(ctx)
	}()
	_, keyID, secret := s.tenant("sdk-ext")
	c := s.client(keyID, secret)

	av, err := c.CheckDomainAvailability(ctx, &r53d.CheckDomainAvailabilityInput{DomainName: aws.String("sdk.ext")})
	if err != nil || av.Availability != types.DomainAvailabilityAvailable {
		t.Fatalf("CheckDomainAvailability = %+v, %v", av, err)
	}
	reg, err := c.RegisterDomain(ctx, &r53d.RegisterDomainInput{
		DomainName: aws.String("sdk.ext"), DurationInYears: aws.Int32(1),
		AdminContact: contact("Ada"), RegistrantContact: contact("Rita"), TechContact: contact("Tom"),
	})
	if err != nil {
		t.Fatalf("RegisterDomain: %v", err)
	}
	waitSuccessful(t, c, *reg.OperationId)
	at, err := x.Dial(t).InfoDomain(ctx, "sdk.ext", "")
	if err != nil || at.ClID != "wm-ext" {
		t.Fatalf("at the registry: %+v, %v", at, err)
	}
	d, err := c.GetDomainDetail(ctx, &r53d.GetDomainDetailInput{DomainName: aws.String("sdk.ext")})
	if err != nil || d.ExpirationDate == nil || d.ExpirationDate.Unix() != at.ExDate.Unix() || len(d.Nameservers) != len(at.NS) {
		t.Fatalf("GetDomainDetail = %+v, %v; at the registry %+v", d, err, at)
	}
	list, err := c.ListDomains(ctx, &r53d.ListDomainsInput{})
	if err != nil || len(list.Domains) != 1 || aws.ToString(list.Domains[0].DomainName) != "sdk.ext" {
		t.Fatalf("ListDomains = %+v, %v", list, err)
	}
	ren, err := c.RenewDomain(ctx, &r53d.RenewDomainInput{DomainName: aws.String("sdk.ext"), CurrentExpiryYear: int32(at.ExDate.Year()), DurationInYears: aws.Int32(1)})
	if err != nil {
		t.Fatalf("RenewDomain: %v", err)
	}
	waitSuccessful(t, c, *ren.OperationId)
	if after, err := x.Dial(t).InfoDomain(ctx, "sdk.ext", ""); err != nil || after.ExDate.Year() != at.ExDate.Year()+1 {
		t.Fatalf("after RenewDomain the registry has %v, %v", after.ExDate, err)
	}
}
