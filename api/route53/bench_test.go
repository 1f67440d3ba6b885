package route53

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
)

// benchBatch is a ChangeResourceRecordSets body of n UPSERTs, as the
// Route 53 run of bench/cpbench sends.
func benchBatch(n int) string {
	var b strings.Builder
	b.WriteString(`<ChangeResourceRecordSetsRequest xmlns="https://route53.amazonaws.com/doc/2013-04-01/"><ChangeBatch><Comment>bench</Comment><Changes>`)
	for i := range n {
		fmt.Fprintf(&b, `<Change><Action>UPSERT</Action><ResourceRecordSet><Name>h%d.bench.example.</Name><Type>A</Type><TTL>300</TTL><ResourceRecords><ResourceRecord><Value>10.0.%d.%d</Value></ResourceRecord></ResourceRecords></ResourceRecordSet></Change>`, i, i>>8&255, i&255)
	}
	b.WriteString(`</Changes></ChangeBatch></ChangeResourceRecordSetsRequest>`)
	return b.String()
}

// BenchmarkSigV4Verify is the verifier's cost per request, the key lookup
// aside: parse the header, hash the body, build the canonical request,
// derive the key and compare, for a signed one-change batch as the Go SDK
// signs it (six signed headers).
func BenchmarkSigV4Verify(b *testing.B) {
	body := benchBatch(1)
	at := time.Date(2026, 12, 1, 23, 56, 41, 0, time.UTC)
	r := httptest.NewRequest("POST", "http://127.0.0.1:8080/2013-04-01/hostedzone/ZAAAAAAAAAAAAAAAA/rrset", strings.NewReader(body))
	r.Header.Set("Content-Type", "application/xml")
	r.Header.Set("Amz-Sdk-Invocation-Id", "ea86094d-65dc-46de-82dd-8d59f1a527e5")
	r.Header.Set("Amz-Sdk-Request", "attempt=1; max=3")
	sum := sha256.Sum256([]byte(body))
	if err := v4.NewSigner().SignHTTP(context.Background(), aws.Credentials{AccessKeyID: "AKWAAAAAAAAAAAAAAAA", SecretAccessKey: "secret"},
		r, hex.EncodeToString(sum[:]), "route53", "us-east-1", at); err != nil {
		b.Fatal(err)
	}
	auth := r.Header.Get("Authorization")
	raw := []byte(body)
	b.ReportAllocs()
	for b.Loop() {
		a, err := parseAuthorization(auth)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := requestTime(r); err != nil {
			b.Fatal(err)
		}
		sig := signature("secret", a, stringToSign(r.Header.Get("X-Amz-Date"), a, canonicalRequest(r, a.SignedHeaders, payloadHash(raw))))
		if sig != a.Signature {
			b.Fatal("signature mismatch")
		}
	}
}

// BenchmarkDecodeChangeBatch is the XML decoding of a 100-change batch
// into the control plane's types.
func BenchmarkDecodeChangeBatch(b *testing.B) {
	body := []byte(benchBatch(100))
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := decodeChangeBatch(body); err != nil {
			b.Fatal(err)
		}
	}
}
