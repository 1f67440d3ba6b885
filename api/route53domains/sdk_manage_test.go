package route53domains_test

import (
	"context"
	"crypto/ed25519"
	"encoding/base64"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	r53d "github.com/aws/aws-sdk-go-v2/service/route53domains"
	"github.com/aws/aws-sdk-go-v2/service/route53domains/types"
)

// register registers name for the client's tenant and waits until the
// operation is SUCCESSFUL.
func register(t *testing.T, c *r53d.Client, name string) {
	t.Helper()
	out, err := c.RegisterDomain(context.Background(), &r53d.RegisterDomainInput{
		DomainName: aws.String(name), DurationInYears: aws.Int32(1),
		AdminContact: contact("Ada"), RegistrantContact: contact("Rita"), TechContact: contact("Tom"),
	})
	if err != nil {
		t.Fatalf("RegisterDomain %s: %v", name, err)
	}
	waitSuccessful(t, c, *out.OperationId)
}

// TestIntegrationSDKManage drives the operations on a registered domain
// with the SDK: GetDomainDetail, UpdateDomainNameservers (with glue),
// ListDomains, auto-renew, transfer lock, privacy, contacts, the auth
// code, DS from a DNSKEY and its removal, the catalog (prices,
// suggestions, transferability), and DeleteDomain.
func TestIntegrationSDKManage(t *testing.T) {
	t.Parallel()
	s := newServer(t)
	_, keyID, secret := s.tenant("manage")
	c := s.client(keyID, secret)
	ctx := context.Background()
	register(t, c, "alpha.wmk")
	register(t, c, "beta.wmk")

	d, err := c.GetDomainDetail(ctx, &r53d.GetDomainDetailInput{DomainName: aws.String("alpha.wmk")})
	if err != nil {
		t.Fatal(err)
	}
	if aws.ToString(d.DomainName) != "alpha.wmk" || len(d.Nameservers) != 4 || !aws.ToBool(d.AutoRenew) ||
		aws.ToString(d.RegistrantContact.FirstName) != "Rita" || aws.ToString(d.RegistrantContact.LastName) != "Example" ||
		aws.ToString(d.AdminContact.Email) != "ada@example.com" || !aws.ToBool(d.RegistrantPrivacy) ||
		d.ExpirationDate == nil || d.ExpirationDate.Year() != time.Now().Year()+1 || aws.ToString(d.RegistryDomainId) == "" {
		t.Fatalf("GetDomainDetail = %+v", d)
	}

	// Nameservers outside Waymark, one in the domain with glue.
	up, err := c.UpdateDomainNameservers(ctx, &r53d.UpdateDomainNameserversInput{DomainName: aws.String("alpha.wmk"), Nameservers: []types.Nameserver{
		{Name: aws.String("ns1.alpha.wmk"), GlueIps: []string{"192.0.2.53", "2001:db8::53"}},
		{Name: aws.String("ns.example.net")},
	}})
	if err != nil {
		t.Fatal(err)
	}
	waitSuccessful(t, c, *up.OperationId)
	d, err = c.GetDomainDetail(ctx, &r53d.GetDomainDetailInput{DomainName: aws.String("alpha.wmk")})
	if err != nil || len(d.Nameservers) != 2 || aws.ToString(d.Nameservers[0].Name) != "ns1.alpha.wmk" ||
		strings.Join(d.Nameservers[0].GlueIps, ",") != "192.0.2.53,2001:db8::53" || aws.ToString(d.Nameservers[1].Name) != "ns.example.net" {
		t.Fatalf("after UpdateDomainNameservers: %+v, %v", d, err)
	}
	if _, err := c.UpdateDomainNameservers(ctx, &r53d.UpdateDomainNameserversInput{DomainName: aws.String("alpha.wmk"),
		Nameservers: []types.Nameserver{{Name: aws.String("ns1.alpha.wmk"), GlueIps: []string{"not-an-ip"}}}}); apiCode(t, err) != "InvalidInput" {
		t.Fatalf("bad glue: %v", err)
	}

	// Settings: auto-renew is synchronous, the others operations.
	if _, err := c.DisableDomainAutoRenew(ctx, &r53d.DisableDomainAutoRenewInput{DomainName: aws.String("beta.wmk")}); err != nil {
		t.Fatal(err)
	}
	// A registration is transfer-locked (clientTransferProhibited); unlock.
	lock, err := c.DisableDomainTransferLock(ctx, &r53d.DisableDomainTransferLockInput{DomainName: aws.String("beta.wmk")})
	if err != nil {
		t.Fatal(err)
	}
	waitSuccessful(t, c, *lock.OperationId)
	priv, err := c.UpdateDomainContactPrivacy(ctx, &r53d.UpdateDomainContactPrivacyInput{DomainName: aws.String("beta.wmk"),
		AdminPrivacy: aws.Bool(false), RegistrantPrivacy: aws.Bool(false), TechPrivacy: aws.Bool(false)})
	if err != nil {
		t.Fatal(err)
	}
	waitSuccessful(t, c, *priv.OperationId)
	tech := contact("Tess")
	tech.AddressLine2 = aws.String("Suite 5")
	con, err := c.UpdateDomainContact(ctx, &r53d.UpdateDomainContactInput{DomainName: aws.String("beta.wmk"), TechContact: tech})
	if err != nil {
		t.Fatal(err)
	}
	waitSuccessful(t, c, *con.OperationId)
	d, err = c.GetDomainDetail(ctx, &r53d.GetDomainDetailInput{DomainName: aws.String("beta.wmk")})
	if err != nil || aws.ToBool(d.AutoRenew) || aws.ToBool(d.TechPrivacy) || aws.ToString(d.TechContact.FirstName) != "Tess" ||
		aws.ToString(d.TechContact.AddressLine2) != "Suite 5" || aws.ToString(d.AdminContact.FirstName) != "Ada" ||
		contains(d.StatusList, "clientTransferProhibited") {
		t.Fatalf("after the settings: %+v, %v", d, err)
	}
	list, err := c.ListDomains(ctx, &r53d.ListDomainsInput{})
	if err != nil || len(list.Domains) != 2 || aws.ToString(list.Domains[0].DomainName) != "alpha.wmk" ||
		!aws.ToBool(list.Domains[0].AutoRenew) || aws.ToBool(list.Domains[1].AutoRenew) ||
		!aws.ToBool(list.Domains[0].TransferLock) || aws.ToBool(list.Domains[1].TransferLock) ||
		list.Domains[1].Expiry == nil {
		t.Fatalf("ListDomains = %+v, %v", list, err)
	}
	list, err = c.ListDomains(ctx, &r53d.ListDomainsInput{
		FilterConditions: []types.FilterCondition{{Name: types.ListDomainsAttributeNameDomainName, Operator: types.OperatorBeginsWith, Values: []string{"be"}}},
		SortCondition:    &types.SortCondition{Name: types.ListDomainsAttributeNameDomainName, SortOrder: types.SortOrderDesc},
	})
	if err != nil || len(list.Domains) != 1 || aws.ToString(list.Domains[0].DomainName) != "beta.wmk" {
		t.Fatalf("ListDomains BEGINS_WITH be = %+v, %v", list, err)
	}
	var names []string
	for p := r53d.NewListDomainsPaginator(c, &r53d.ListDomainsInput{MaxItems: aws.Int32(1)}); p.HasMorePages(); {
		page, err := p.NextPage(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for _, d := range page.Domains {
			names = append(names, aws.ToString(d.DomainName))
		}
	}
	if strings.Join(names, ",") != "alpha.wmk,beta.wmk" {
		t.Fatalf("ListDomains pages: %v", names)
	}

	code, err := c.RetrieveDomainAuthCode(ctx, &r53d.RetrieveDomainAuthCodeInput{DomainName: aws.String("alpha.wmk")})
	if err != nil || aws.ToString(code.AuthCode) == "" {
		t.Fatalf("RetrieveDomainAuthCode = %+v, %v", code, err)
	}

	// DNSSEC at the registry: a KSK's DS, listed with a stable id, removed by it.
	pub, _, _ := ed25519.GenerateKey(nil)
	ds, err := c.AssociateDelegationSignerToDomain(ctx, &r53d.AssociateDelegationSignerToDomainInput{DomainName: aws.String("alpha.wmk"),
		SigningAttributes: &types.DnssecSigningAttributes{Algorithm: aws.Int32(15), Flags: aws.Int32(257), PublicKey: aws.String(base64.StdEncoding.EncodeToString(pub))}})
	if err != nil {
		t.Fatal(err)
	}
	waitSuccessful(t, c, *ds.OperationId)
	d, err = c.GetDomainDetail(ctx, &r53d.GetDomainDetailInput{DomainName: aws.String("alpha.wmk")})
	if err != nil || len(d.DnssecKeys) != 1 || aws.ToInt32(d.DnssecKeys[0].Algorithm) != 15 || aws.ToInt32(d.DnssecKeys[0].DigestType) != 2 ||
		len(aws.ToString(d.DnssecKeys[0].Digest)) != 64 || aws.ToString(d.DnssecKeys[0].Id) == "" || aws.ToString(d.DnsSec) != "ENABLED" {
		t.Fatalf("after AssociateDelegationSigner: %+v, %v", d.DnssecKeys, err)
	}
	if _, err := c.AssociateDelegationSignerToDomain(ctx, &r53d.AssociateDelegationSignerToDomainInput{DomainName: aws.String("alpha.wmk"),
		SigningAttributes: &types.DnssecSigningAttributes{Algorithm: aws.Int32(15), Flags: aws.Int32(3), PublicKey: aws.String("AAAA")}}); apiCode(t, err) != "InvalidInput" {
		t.Fatalf("flags 3: %v", err)
	}
	rm, err := c.DisassociateDelegationSignerFromDomain(ctx, &r53d.DisassociateDelegationSignerFromDomainInput{DomainName: aws.String("alpha.wmk"), Id: d.DnssecKeys[0].Id})
	if err != nil {
		t.Fatal(err)
	}
	waitSuccessful(t, c, *rm.OperationId)
	if d, err = c.GetDomainDetail(ctx, &r53d.GetDomainDetailInput{DomainName: aws.String("alpha.wmk")}); err != nil || len(d.DnssecKeys) != 0 {
		t.Fatalf("after DisassociateDelegationSigner: %+v, %v", d.DnssecKeys, err)
	}

	// The catalog.
	prices, err := c.ListPrices(ctx, &r53d.ListPricesInput{Tld: aws.String("wmk")})
	if err != nil || len(prices.Prices) != 1 || aws.ToString(prices.Prices[0].Name) != "wmk" ||
		prices.Prices[0].RegistrationPrice.Price != 10 || prices.Prices[0].RenewalPrice.Price != 12 ||
		aws.ToString(prices.Prices[0].TransferPrice.Currency) != "USD" {
		t.Fatalf("ListPrices = %+v, %v", prices, err)
	}
	sug, err := c.GetDomainSuggestions(ctx, &r53d.GetDomainSuggestionsInput{DomainName: aws.String("alpha.wmk"), SuggestionCount: 3, OnlyAvailable: aws.Bool(true)})
	if err != nil || len(sug.SuggestionsList) != 3 {
		t.Fatalf("GetDomainSuggestions = %+v, %v", sug, err)
	}
	for _, x := range sug.SuggestionsList {
		if aws.ToString(x.Availability) != "AVAILABLE" || !strings.HasSuffix(aws.ToString(x.DomainName), ".wmk") {
			t.Fatalf("suggestion %+v", x)
		}
	}
	tr, err := c.CheckDomainTransferability(ctx, &r53d.CheckDomainTransferabilityInput{DomainName: aws.String("alpha.wmk")})
	if err != nil || tr.Transferability.Transferable != types.TransferableDomainInOwnAccount {
		t.Fatalf("CheckDomainTransferability = %+v, %v", tr, err)
	}
	if st, err := c.GetContactReachabilityStatus(ctx, &r53d.GetContactReachabilityStatusInput{DomainName: aws.String("alpha.wmk")}); err != nil || st.Status == "" {
		t.Fatalf("GetContactReachabilityStatus = %+v, %v", st, err)
	}

	del, err := c.DeleteDomain(ctx, &r53d.DeleteDomainInput{DomainName: aws.String("beta.wmk")})
	if err != nil {
		t.Fatal(err)
	}
	waitSuccessful(t, c, *del.OperationId)
	if _, err := c.GetDomainDetail(ctx, &r53d.GetDomainDetailInput{DomainName: aws.String("nosuch.wmk")}); apiCode(t, err) != "InvalidInput" {
		t.Fatalf("GetDomainDetail of no domain: %v", err)
	}
}

// TestIntegrationSDKTransferBetweenAccounts: TransferDomainToAnotherAwsAccount
// (the account is a tenant id), accepted with its password by the other
// tenant; another offer rejected, another cancelled; TransferDomain with
// a wrong auth code refused.
func TestIntegrationSDKTransferBetweenAccounts(t *testing.T) {
	t.Parallel()
	s := newServer(t)
	_, ka, sa := s.tenant("giver")
	bID, kb, sb := s.tenant("taker")
	a, b := s.client(ka, sa), s.client(kb, sb)
	ctx := context.Background()
	for _, n := range []string{"gift.wmk", "spurned.wmk", "withdrawn.wmk"} {
		register(t, a, n)
	}
	offer, err := a.TransferDomainToAnotherAwsAccount(ctx, &r53d.TransferDomainToAnotherAwsAccountInput{DomainName: aws.String("gift.wmk"), AccountId: aws.String(bID)})
	if err != nil || aws.ToString(offer.Password) == "" {
		t.Fatalf("TransferDomainToAnotherAwsAccount = %+v, %v", offer, err)
	}
	op, err := a.GetOperationDetail(ctx, &r53d.GetOperationDetailInput{OperationId: offer.OperationId})
	if err != nil || op.StatusFlag != types.StatusFlagPendingAcceptance {
		t.Fatalf("offer's operation = %+v, %v", op, err)
	}
	if _, err := b.AcceptDomainTransferFromAnotherAwsAccount(ctx, &r53d.AcceptDomainTransferFromAnotherAwsAccountInput{
		DomainName: aws.String("gift.wmk"), Password: aws.String("wrong")}); apiCode(t, err) != "InvalidInput" {
		t.Fatalf("accept with a wrong password: %v", err)
	}
	acc, err := b.AcceptDomainTransferFromAnotherAwsAccount(ctx, &r53d.AcceptDomainTransferFromAnotherAwsAccountInput{
		DomainName: aws.String("gift.wmk"), Password: offer.Password})
	if err != nil {
		t.Fatal(err)
	}
	waitSuccessful(t, b, *acc.OperationId)
	if _, err := b.GetDomainDetail(ctx, &r53d.GetDomainDetailInput{DomainName: aws.String("gift.wmk")}); err != nil {
		t.Fatalf("the taker's domain: %v", err)
	}
	if _, err := a.GetDomainDetail(ctx, &r53d.GetDomainDetailInput{DomainName: aws.String("gift.wmk")}); apiCode(t, err) != "InvalidInput" {
		t.Fatalf("the giver still has it: %v", err)
	}

	if _, err := a.TransferDomainToAnotherAwsAccount(ctx, &r53d.TransferDomainToAnotherAwsAccountInput{DomainName: aws.String("spurned.wmk"), AccountId: aws.String(bID)}); err != nil {
		t.Fatal(err)
	}
	if _, err := b.RejectDomainTransferFromAnotherAwsAccount(ctx, &r53d.RejectDomainTransferFromAnotherAwsAccountInput{DomainName: aws.String("spurned.wmk")}); err != nil {
		t.Fatalf("reject: %v", err)
	}
	if _, err := a.TransferDomainToAnotherAwsAccount(ctx, &r53d.TransferDomainToAnotherAwsAccountInput{DomainName: aws.String("withdrawn.wmk"), AccountId: aws.String(bID)}); err != nil {
		t.Fatal(err)
	}
	if _, err := a.CancelDomainTransferToAnotherAwsAccount(ctx, &r53d.CancelDomainTransferToAnotherAwsAccountInput{DomainName: aws.String("withdrawn.wmk")}); err != nil {
		t.Fatalf("cancel: %v", err)
	}
	for _, n := range []string{"spurned.wmk", "withdrawn.wmk"} {
		if _, err := a.GetDomainDetail(ctx, &r53d.GetDomainDetailInput{DomainName: aws.String(n)}); err != nil {
			t.Fatalf("%s left the giver: %v", n, err)
		}
	}

	// A transfer in from elsewhere with a wrong auth code (the domain is
	// another tenant's here, so the registry refuses either way).
	_, err = b.TransferDomain(ctx, &r53d.TransferDomainInput{DomainName: aws.String("spurned.wmk"), DurationInYears: aws.Int32(1), AuthCode: aws.String("wrong"),
		AdminContact: contact("Ada"), RegistrantContact: contact("Rita"), TechContact: contact("Tom")})
	var inv *types.InvalidInput
	var rules *types.TLDRulesViolation
	if !errors.As(err, &inv) && !errors.As(err, &rules) {
		t.Fatalf("TransferDomain with a wrong auth code: %v", err)
	}
}

func contains(ss []string, s string) bool {
	for _, x := range ss {
		if x == s {
			return true
		}
	}
	return false
}
