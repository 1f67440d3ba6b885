package route53domains_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	r53d "github.com/aws/aws-sdk-go-v2/service/route53domains"
	"github.com/aws/aws-sdk-go-v2/service/route53domains/types"
	"github.com/waymark-dns/waymark/controlplane"
	"github.com/waymark-dns/waymark/internal/testkit"
)

func contact(first string) *types.ContactDetail {
	return &types.ContactDetail{
		FirstName: aws.String(first), LastName: aws.String("Example"), ContactType: types.ContactTypePerson,
		AddressLine1: aws.String("1 Main St"), City: aws.String("Springfield"), CountryCode: types.CountryCodeUs,
		ZipCode: aws.String("12345"), PhoneNumber: aws.String("+1.5555550100"), Email: aws.String(strings.ToLower(first) + "@example.com"),
	}
}

// waitSuccessful polls GetOperationDetail until the operation is done.
func waitSuccessful(t *testing.T, c *r53d.Client, id string) *r53d.GetOperationDetailOutput {
	t.Helper()
	var out *r53d.GetOperationDetailOutput
	testkit.Eventually(t, 15*time.Second, func() error {
		var err error
		out, err = c.GetOperationDetail(context.Background(), &r53d.GetOperationDetailInput{OperationId: aws.String(id)})
		if err != nil {
			t.Fatalf("GetOperationDetail: %v", err)
		}
		if out.Status != types.OperationStatusSuccessful {
			return fmt.Errorf("status %s", out.Status)
		}
		return nil
	})
	return out
}

// TestIntegrationSDKRegister drives the AWS SDK for Go v2 route53domains
// client through a registration: availability, RegisterDomain (with its
// hosted zone, as Route 53 Domains makes one), GetOperationDetail until
// SUCCESSFUL once the delegation is INSYNC, ListOperations, RenewDomain
// with CurrentExpiryYear.
func TestIntegrationSDKRegister(t *testing.T) {
	t.Parallel()
	s := newServer(t)
	tenantID, keyID, secret := s.tenant("sdk")
	c := s.client(keyID, secret)
	ctx := context.Background()

	av, err := c.CheckDomainAvailability(ctx, &r53d.CheckDomainAvailabilityInput{DomainName: aws.String("example.wmk")})
	if err != nil || av.Availability != types.DomainAvailabilityAvailable {
		t.Fatalf("CheckDomainAvailability = %+v, %v", av, err)
	}
	start := time.Now()
	reg, err := c.RegisterDomain(ctx, &r53d.RegisterDomainInput{
		DomainName: aws.String("example.wmk"), DurationInYears: aws.Int32(2),
		AdminContact: contact("Ada"), RegistrantContact: contact("Rita"), TechContact: contact("Tom"),
		PrivacyProtectAdminContact: aws.Bool(true), PrivacyProtectRegistrantContact: aws.Bool(true), PrivacyProtectTechContact: aws.Bool(true),
	})
	if err != nil || aws.ToString(reg.OperationId) == "" {
		t.Fatalf("RegisterDomain = %+v, %v", reg, err)
	}
	op := waitSuccessful(t, c, *reg.OperationId)
	t.Logf("RegisterDomain → SUCCESSFUL in %v", time.Since(start).Round(time.Millisecond))
	if aws.ToString(op.DomainName) != "example.wmk" || op.Type != types.OperationTypeRegisterDomain ||
		op.SubmittedDate == nil || op.LastUpdatedDate == nil || time.Since(*op.SubmittedDate) > time.Minute {
		t.Fatalf("GetOperationDetail = %+v", op)
	}

	// Route 53 Domains' behaviour: the domain has a hosted zone of its
	// name, and it is delegated to that zone's nameservers.
	zones, err := s.cp.ListZones(ctx, tenantID, controlplane.ListZonesInput{})
	if err != nil || len(zones.Zones) != 1 || zones.Zones[0].Name != "example.wmk." {
		t.Fatalf("zones after RegisterDomain: %+v, %v", zones, err)
	}
	d, err := s.reg.Domain(ctx, "example.wmk")
	if err != nil || strings.Join(d.Nameservers, ",") != strings.Join(zones.Zones[0].NameServers, ",") {
		t.Fatalf("registry domain %+v, %v; zone nameservers %v", d, err, zones.Zones[0].NameServers)
	}

	av, err = c.CheckDomainAvailability(ctx, &r53d.CheckDomainAvailabilityInput{DomainName: aws.String("example.wmk")})
	if err != nil || av.Availability != types.DomainAvailabilityUnavailable {
		t.Fatalf("CheckDomainAvailability after = %+v, %v", av, err)
	}

	// Renew guards with the current expiry year, as Route 53 does.
	expiry := d.ExpiresAt.Year()
	_, err = c.RenewDomain(ctx, &r53d.RenewDomainInput{DomainName: aws.String("example.wmk"), CurrentExpiryYear: int32(expiry - 1), DurationInYears: aws.Int32(1)})
	if code := apiCode(t, err); code != "InvalidInput" {
		t.Fatalf("RenewDomain with a wrong year: %s (%v)", code, err)
	}
	ren, err := c.RenewDomain(ctx, &r53d.RenewDomainInput{DomainName: aws.String("example.wmk"), CurrentExpiryYear: int32(expiry), DurationInYears: aws.Int32(1)})
	if err != nil {
		t.Fatalf("RenewDomain: %v", err)
	}
	waitSuccessful(t, c, *ren.OperationId)
	if d, err := s.reg.Domain(ctx, "example.wmk"); err != nil || d.ExpiresAt.Year() != expiry+1 {
		t.Fatalf("after renew: expires %v, %v", d.ExpiresAt, err)
	}

	// ListOperations, newest first, filtered, and paged by the SDK's
	// paginator one at a time.
	list, err := c.ListOperations(ctx, &r53d.ListOperationsInput{})
	if err != nil || len(list.Operations) != 2 || aws.ToString(list.Operations[0].OperationId) != *ren.OperationId ||
		list.Operations[1].Type != types.OperationTypeRegisterDomain || list.Operations[1].Status != types.OperationStatusSuccessful {
		t.Fatalf("ListOperations = %+v, %v", list, err)
	}
	list, err = c.ListOperations(ctx, &r53d.ListOperationsInput{Type: []types.OperationType{types.OperationTypeRenewDomain}})
	if err != nil || len(list.Operations) != 1 || list.Operations[0].Type != types.OperationTypeRenewDomain {
		t.Fatalf("ListOperations by type = %+v, %v", list, err)
	}
	list, err = c.ListOperations(ctx, &r53d.ListOperationsInput{SubmittedSince: aws.Time(time.Now().Add(time.Hour))})
	if err != nil || len(list.Operations) != 0 {
		t.Fatalf("ListOperations since the future = %+v, %v", list, err)
	}
	var paged []string
	p := r53d.NewListOperationsPaginator(c, &r53d.ListOperationsInput{MaxItems: aws.Int32(1), SortOrder: types.SortOrderAsc})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for _, o := range page.Operations {
			paged = append(paged, aws.ToString(o.OperationId))
		}
	}
	if strings.Join(paged, ",") != *reg.OperationId+","+*ren.OperationId {
		t.Fatalf("paged ascending: %v", paged)
	}

	// Another tenant sees none of it.
	_, k2, s2 := s.tenant("other")
	other := s.client(k2, s2)
	if _, err := other.GetOperationDetail(ctx, &r53d.GetOperationDetailInput{OperationId: reg.OperationId}); apiCode(t, err) != "InvalidInput" {
		t.Fatalf("another tenant's operation: %v", err)
	}
	if list, err := other.ListOperations(ctx, &r53d.ListOperationsInput{}); err != nil || len(list.Operations) != 0 {
		t.Fatalf("another tenant's ListOperations = %+v, %v", list, err)
	}
}

// TestIntegrationSDKErrors: refusals arrive as the modeled AWS errors the
// SDK decodes, never a 500.
func TestIntegrationSDKErrors(t *testing.T) {
	t.Parallel()
	s := newServer(t)
	_, keyID, secret := s.tenant("errs")
	c := s.client(keyID, secret)
	ctx := context.Background()
	register := func(name string, years int32, mut ...func(*r53d.RegisterDomainInput)) error {
		in := &r53d.RegisterDomainInput{DomainName: aws.String(name), DurationInYears: aws.Int32(years),
			AdminContact: contact("Ada"), RegistrantContact: contact("Rita"), TechContact: contact("Tom")}
		for _, m := range mut {
			m(in)
		}
		_, err := c.RegisterDomain(ctx, in)
		return err
	}

	_, err := c.CheckDomainAvailability(ctx, &r53d.CheckDomainAvailabilityInput{DomainName: aws.String("example.nosuchtld")})
	var utld *types.UnsupportedTLD
	if !errors.As(err, &utld) {
		t.Fatalf("unknown TLD: %v", err)
	}
	var inv *types.InvalidInput
	if av, err := c.CheckDomainAvailability(ctx, &r53d.CheckDomainAvailabilityInput{DomainName: aws.String("-bad-.wmk")}); err != nil || av.Availability != types.DomainAvailabilityInvalidNameForTld {
		t.Fatalf("bad label: %+v, %v", av, err)
	}
	if err := register("eleven.wmk", 11); !errors.As(err, &inv) {
		t.Fatalf("11 years: %v", err)
	}
	if err := register("mixed.wmk", 1, func(in *r53d.RegisterDomainInput) {
		in.PrivacyProtectAdminContact, in.PrivacyProtectTechContact = aws.Bool(true), aws.Bool(false)
	}); !errors.As(err, &inv) {
		t.Fatalf("mixed privacy: %v", err)
	}
	if err := register("phone.wmk", 1, func(in *r53d.RegisterDomainInput) {
		in.AdminContact.PhoneNumber = aws.String("555-0100")
	}); !errors.As(err, &inv) || !strings.Contains(inv.ErrorMessage(), "PhoneNumber") {
		t.Fatalf("bad phone: %v", err)
	}
	if err := register("taken.wmk", 1); err != nil {
		t.Fatal(err)
	}
	// A second registration of the name while the first is in progress
	// or after: refused either way, with a modeled code.
	if err := register("taken.wmk", 1); err == nil {
		t.Fatal("registered twice")
	} else if code := apiCode(t, err); code != "InvalidInput" && code != "DuplicateRequest" {
		t.Fatalf("second registration: %v", err)
	}
	if err := register("nope.nosuchtld", 1); !errors.As(err, &utld) {
		t.Fatalf("register in an unknown TLD: %v", err)
	}
	if _, err := c.GetOperationDetail(ctx, &r53d.GetOperationDetailInput{OperationId: aws.String("op-NOSUCH")}); !errors.As(err, &inv) {
		t.Fatalf("unknown operation: %v", err)
	}
	if _, err := c.RenewDomain(ctx, &r53d.RenewDomainInput{DomainName: aws.String("notmine.wmk"), CurrentExpiryYear: 2030}); !errors.As(err, &inv) {
		t.Fatalf("renew a domain not in the account: %v", err)
	}
	if _, err := c.ListOperations(ctx, &r53d.ListOperationsInput{MaxItems: aws.Int32(1000)}); !errors.As(err, &inv) {
		t.Fatalf("MaxItems 1000: %v", err)
	}
	if _, err := c.ListOperations(ctx, &r53d.ListOperationsInput{Marker: aws.String("garbage!")}); !errors.As(err, &inv) {
		t.Fatalf("bad marker: %v", err)
	}

	// A wrong secret: the signature is refused (403), with AWS's code.
	bad := s.client(keyID, secret+"x")
	if _, err := bad.ListOperations(ctx, &r53d.ListOperationsInput{}); apiCode(t, err) != "SignatureDoesNotMatch" {
		t.Fatalf("wrong secret: %v", err)
	}
}

// TestIntegrationRawRequests: requests the SDK would never send, signed
// with the SDK's own signer, get AWS's error shapes with 4xx statuses.
func TestIntegrationRawRequests(t *testing.T) {
	t.Parallel()
	s := newServer(t)
	_, keyID, secret := s.tenant("raw")
	send := func(target, contentType, body string, sign bool) (int, map[string]any) {
		t.Helper()
		req, err := http.NewRequest("POST", s.http.URL+"/", strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		if target != "" {
			req.Header.Set("X-Amz-Target", target)
		}
		if contentType != "" {
			req.Header.Set("Content-Type", contentType)
		}
		if sign {
			sum := sha256.Sum256([]byte(body))
			if err := v4.NewSigner().SignHTTP(context.Background(), aws.Credentials{AccessKeyID: keyID, SecretAccessKey: secret},
				req, hex.EncodeToString(sum[:]), "route53domains", "us-east-1", time.Now()); err != nil {
				t.Fatal(err)
			}
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		var m map[string]any
		if err := json.Unmarshal(b, &m); err != nil {
			t.Fatalf("%s: body %q is not JSON: %v", target, b, err)
		}
		if resp.Header.Get("Content-Type") != "application/x-amz-json-1.1" {
			t.Fatalf("Content-Type %q", resp.Header.Get("Content-Type"))
		}
		return resp.StatusCode, m
	}
	const ct = "application/x-amz-json-1.1"
	const pre = "Route53Domains_v20140515."
	for _, tc := range []struct {
		name, target, ct, body string
		sign                   bool
		status                 int
		code                   string
	}{
		{"ok", pre + "ListOperations", ct, `{}`, true, 200, ""},
		{"empty body", pre + "ListOperations", ct, ``, true, 200, ""},
		{"not JSON", pre + "CheckDomainAvailability", ct, `{"DomainName":`, true, 400, "SerializationException"},
		{"array", pre + "CheckDomainAvailability", ct, `["x"]`, true, 400, "SerializationException"},
		{"wrong type", pre + "CheckDomainAvailability", ct, `{"DomainName":7}`, true, 400, "SerializationException"},
		{"trailing data", pre + "CheckDomainAvailability", ct, `{"DomainName":"a.wmk"} {}`, true, 400, "SerializationException"},
		{"bad timestamp", pre + "ListOperations", ct, `{"SubmittedSince":"yesterday"}`, true, 400, "SerializationException"},
		{"huge timestamp", pre + "ListOperations", ct, `{"SubmittedSince":1e300}`, true, 400, "InvalidInput"},
		{"missing name", pre + "CheckDomainAvailability", ct, `{}`, true, 400, "InvalidInput"},
		{"unknown members ignored", pre + "CheckDomainAvailability", ct, `{"DomainName":"a.wmk","Future":1}`, true, 200, ""},
		{"unknown operation", pre + "MakeCoffee", ct, `{}`, true, 400, "UnknownOperationException"},
		{"not yet offered", pre + "ViewBilling", ct, `{}`, true, 400, "UnsupportedOperation"},
		{"XML body", pre + "ListOperations", "text/xml", `<x/>`, true, 400, "SerializationException"},
		{"unsigned", pre + "ListOperations", ct, `{}`, false, 403, "MissingAuthenticationToken"},
	} {
		status, m := send(tc.target, tc.ct, tc.body, tc.sign)
		if status != tc.status || tc.code != "" && (m["__type"] != tc.code || m["message"] == "") {
			t.Errorf("%s: %d %v, want %d %s", tc.name, status, m, tc.status, tc.code)
		}
	}
	// Signed for the Route 53 API instead: refused, the scope names the
	// service.
	req, _ := http.NewRequest("POST", s.http.URL+"/", strings.NewReader(`{}`))
	req.Header.Set("X-Amz-Target", pre+"ListOperations")
	sum := sha256.Sum256([]byte(`{}`))
	_ = v4.NewSigner().SignHTTP(context.Background(), aws.Credentials{AccessKeyID: keyID, SecretAccessKey: secret},
		req, hex.EncodeToString(sum[:]), "route53", "us-east-1", time.Now())
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 403 || resp.Header.Get("X-Amzn-ErrorType") != "SignatureDoesNotMatch" {
		t.Fatalf("signed for route53: %d %s", resp.StatusCode, resp.Header.Get("X-Amzn-ErrorType"))
	}
}
