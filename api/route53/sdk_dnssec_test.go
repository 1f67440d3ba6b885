package route53_test

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	r53 "github.com/aws/aws-sdk-go-v2/service/route53"
	"github.com/aws/aws-sdk-go-v2/service/route53/types"
)

// TestIntegrationSDKKeySigningKeys drives Create/Activate/Deactivate/
// DeleteKeySigningKey with the real aws-sdk-go-v2 client through Route
// 53's order (create INACTIVE, activate, enable signing, add a second key,
// retire the first, delete it) and each refusal's code, as Terraform's
// aws_route53_key_signing_key and the CLI meet them.
func TestIntegrationSDKKeySigningKeys(t *testing.T) {
	t.Parallel()
	s := newServer(t, serverOptions{})
	ctx := context.Background()
	_, keyID, secret := s.tenant("ksk")
	c := s.client(keyID, secret)

	zone, err := c.CreateHostedZone(ctx, &r53.CreateHostedZoneInput{Name: aws.String("ksk.example"), CallerReference: aws.String("ksk-zone")})
	if err != nil {
		t.Fatal(err)
	}
	zoneID := strings.TrimPrefix(*zone.HostedZone.Id, "/hostedzone/")
	const arn = "arn:aws:kms:us-east-1:111122223333:key/ignored"
	create := func(name, status, ref string) (*r53.CreateKeySigningKeyOutput, error) {
		return c.CreateKeySigningKey(ctx, &r53.CreateKeySigningKeyInput{HostedZoneId: zone.HostedZone.Id, Name: aws.String(name),
			CallerReference: aws.String(ref), KeyManagementServiceArn: aws.String(arn), Status: aws.String(status)})
	}
	ksk := func(name string) *r53.ActivateKeySigningKeyInput {
		return &r53.ActivateKeySigningKeyInput{HostedZoneId: aws.String(zoneID), Name: aws.String(name)}
	}
	deactivate := func(name string) error {
		_, err := c.DeactivateKeySigningKey(ctx, &r53.DeactivateKeySigningKeyInput{HostedZoneId: aws.String(zoneID), Name: aws.String(name)})
		return err
	}
	del := func(name string) error {
		_, err := c.DeleteKeySigningKey(ctx, &r53.DeleteKeySigningKeyInput{HostedZoneId: aws.String(zoneID), Name: aws.String(name)})
		return err
	}

	out, err := create("key_one", "INACTIVE", "ref-1")
	if err != nil {
		t.Fatalf("CreateKeySigningKey: %v", err)
	}
	k := out.KeySigningKey
	if !strings.HasSuffix(*out.Location, "/2013-04-01/keysigningkey/"+zoneID+"/key_one") || out.ChangeInfo == nil ||
		out.ChangeInfo.Status != types.ChangeStatusPending || !strings.HasPrefix(*out.ChangeInfo.Id, "/change/") {
		t.Fatalf("created at %q, change %+v", aws.ToString(out.Location), out.ChangeInfo)
	}
	if *k.Name != "key_one" || *k.Status != "INACTIVE" || k.Flag != 257 || k.KeyTag == 0 || aws.ToString(k.KmsArn) != "" ||
		aws.ToString(k.DSRecord) == "" || *k.PublicKey == "" || k.CreatedDate == nil {
		t.Fatalf("created key %+v", k)
	}

	// The creation refusals.
	for _, tc := range []struct {
		name, status, ref, code string
	}{
		{"key_one", "ACTIVE", "ref-x", "KeySigningKeyAlreadyExists"},
		{"key_nine", "ACTIVE", "ref-1", "KeySigningKeyAlreadyExists"}, // caller reference reused
		{"no-dash", "ACTIVE", "ref-y", "InvalidKeySigningKeyName"},
		{"key_nine", "SIGNING", "ref-z", "InvalidKeySigningKeyStatus"},
	} {
		if _, err := create(tc.name, tc.status, tc.ref); apiCode(t, err) != tc.code {
			t.Errorf("create %s %s %s: %v, want %s", tc.name, tc.status, tc.ref, err, tc.code)
		}
	}
	if _, err := c.CreateKeySigningKey(ctx, &r53.CreateKeySigningKeyInput{HostedZoneId: aws.String("ZAAAAAAAAAAAAAAAA"), Name: aws.String("key_one"),
		CallerReference: aws.String("r"), KeyManagementServiceArn: aws.String(arn), Status: aws.String("ACTIVE")}); apiCode(t, err) != "NoSuchHostedZone" {
		t.Errorf("create in a missing zone: %v", err)
	}
	// The SDKs require the ARN; a raw request without one is refused as
	// Route 53 refuses a bad one.
	res := s.signed(t, keyID, secret, http.MethodPost, "/2013-04-01/keysigningkey",
		`<CreateKeySigningKeyRequest xmlns="https://route53.amazonaws.com/doc/2013-04-01/"><CallerReference>raw</CallerReference><HostedZoneId>`+zoneID+
			`</HostedZoneId><Name>key_seven</Name><Status>ACTIVE</Status></CreateKeySigningKeyRequest>`, time.Now())
	if res.status != http.StatusBadRequest || !strings.Contains(res.body, "<Code>InvalidKMSArn</Code>") {
		t.Errorf("no ARN: %d %s", res.status, res.body)
	}

	// Signing needs an active key; activating twice is refused.
	if _, err := c.EnableHostedZoneDNSSEC(ctx, &r53.EnableHostedZoneDNSSECInput{HostedZoneId: zone.HostedZone.Id}); apiCode(t, err) != "KeySigningKeyWithActiveStatusNotFound" {
		t.Fatalf("enable with only an inactive key: %v", err)
	}
	if act, err := c.ActivateKeySigningKey(ctx, ksk("key_one")); err != nil || act.ChangeInfo == nil {
		t.Fatalf("ActivateKeySigningKey: %+v %v", act, err)
	}
	if _, err := c.ActivateKeySigningKey(ctx, ksk("key_one")); apiCode(t, err) != "InvalidKeySigningKeyStatus" {
		t.Fatalf("activate an active key: %v", err)
	}
	if _, err := c.ActivateKeySigningKey(ctx, ksk("nokey")); apiCode(t, err) != "NoSuchKeySigningKey" {
		t.Fatalf("activate a missing key: %v", err)
	}
	if _, err := c.EnableHostedZoneDNSSEC(ctx, &r53.EnableHostedZoneDNSSECInput{HostedZoneId: zone.HostedZone.Id}); err != nil {
		t.Fatalf("EnableHostedZoneDNSSEC: %v", err)
	}

	// The only active key of a signing zone stays; a second one, then a
	// third (too many).
	if err := deactivate("key_one"); apiCode(t, err) != "KeySigningKeyInUse" {
		t.Fatalf("deactivate the only active key: %v", err)
	}
	if _, err := create("key_two", "ACTIVE", "ref-2"); err != nil {
		t.Fatalf("second key: %v", err)
	}
	if _, err := create("key_three", "ACTIVE", "ref-3"); apiCode(t, err) != "TooManyKeySigningKeys" {
		t.Fatalf("third key: %v", err)
	}
	if err := del("key_one"); apiCode(t, err) != "InvalidKeySigningKeyStatus" {
		t.Fatalf("delete an active key: %v", err)
	}
	if err := deactivate("key_one"); err != nil {
		t.Fatalf("DeactivateKeySigningKey: %v", err)
	}
	if err := deactivate("key_one"); apiCode(t, err) != "InvalidKeySigningKeyStatus" {
		t.Fatalf("deactivate an inactive key: %v", err)
	}
	if err := del("key_one"); err != nil {
		t.Fatalf("DeleteKeySigningKey: %v", err)
	}
	if err := del("key_one"); apiCode(t, err) != "NoSuchKeySigningKey" {
		t.Fatalf("delete a deleted key: %v", err)
	}

	got, err := c.GetDNSSEC(ctx, &r53.GetDNSSECInput{HostedZoneId: zone.HostedZone.Id})
	if err != nil || *got.Status.ServeSignature != "SIGNING" || len(got.KeySigningKeys) != 1 ||
		*got.KeySigningKeys[0].Name != "key_two" || *got.KeySigningKeys[0].Status != "ACTIVE" {
		t.Fatalf("GetDNSSEC after the roll: %+v %v", got, err)
	}
}
