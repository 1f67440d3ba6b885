package route53

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/waymark-dns/waymark/controlplane"
	"github.com/waymark-dns/waymark/internal/pgtest"
)

// seqReader is a deterministic source of "random" bytes, so that ids in
// golden responses are stable.
type seqReader struct {
	n   uint64
	buf []byte
}

func (r *seqReader) Read(p []byte) (int, error) {
	for len(r.buf) < len(p) {
		r.n++
		s := sha256.Sum256([]byte{byte(r.n), byte(r.n >> 8), byte(r.n >> 16)})
		r.buf = append(r.buf, s[:]...)
	}
	n := copy(p, r.buf)
	r.buf = r.buf[n:]
	return n, nil
}

// TestGoldenResponses drives the core operations through the handler on a
// real control plane with a fixed clock and id source, and compares every
// response body (and status, Location) with golden files.
func TestGoldenResponses(t *testing.T) {
	t.Parallel()
	pool, _ := pgtest.Schema(t)
	now := time.Date(2026, 12, 1, 23, 56, 41, 123e6, time.UTC)
	clock := func() time.Time { return now }
	svc, err := controlplane.New(pool, controlplane.Config{
		MasterKey: []byte(strings.Repeat("m", 32)), JWTKey: []byte(strings.Repeat("j", 32)),
		NowFunc: clock, Rand: &seqReader{},
		PredictableSets: true,
	})
	if err != nil {
		t.Fatal(err)
	}
	_, key, err := svc.CreateTenant(context.Background(), "golden")
	if err != nil {
		t.Fatal(err)
	}
	h := NewHandler(Config{Service: svc, Now: clock})
	do := func(method, path, body string) *httptest.ResponseRecorder {
		t.Helper()
		r := httptest.NewRequest(method, "http://route53.test"+path, strings.NewReader(body))
		r.Header.Set("X-Request-Id", "golden-request")
		sum := sha256.Sum256([]byte(body))
		if err := v4.NewSigner().SignHTTP(context.Background(), aws.Credentials{AccessKeyID: key.ID, SecretAccessKey: key.Secret},
			r, hex.EncodeToString(sum[:]), "route53", "us-east-1", now); err != nil {
			t.Fatal(err)
		}
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		return w
	}
	check := func(name string, w *httptest.ResponseRecorder, status int) string {
		t.Helper()
		if w.Code != status {
			t.Fatalf("%s: status %d, want %d: %s", name, w.Code, status, w.Body)
		}
		if ct := w.Header().Get("Content-Type"); ct != "text/xml" {
			t.Fatalf("%s: Content-Type %q", name, ct)
		}
		if id := w.Header().Get("x-amzn-RequestId"); id != "golden-request" {
			t.Fatalf("%s: x-amzn-RequestId %q", name, id)
		}
		golden(t, "responses/"+name+".xml", w.Body.Bytes())
		return w.Body.String()
	}

	w := do("POST", "/2013-04-01/hostedzone", `<?xml version="1.0" encoding="UTF-8"?><CreateHostedZoneRequest xmlns="https://route53.amazonaws.com/doc/2013-04-01/"><Name>example.com</Name><CallerReference>golden-1</CallerReference><HostedZoneConfig><Comment>golden zone</Comment></HostedZoneConfig></CreateHostedZoneRequest>`)
	body := check("CreateHostedZone", w, http.StatusCreated)
	zoneID := between(body, "<Id>/hostedzone/", "</Id>")
	if loc := w.Header().Get("Location"); loc != "http://route53.test/2013-04-01/hostedzone/"+zoneID {
		t.Fatalf("Location %q", loc)
	}
	check("GetHostedZone", do("GET", "/2013-04-01/hostedzone/"+zoneID, ""), http.StatusOK)
	check("ListHostedZones", do("GET", "/2013-04-01/hostedzone?maxitems=10", ""), http.StatusOK)
	check("ListHostedZonesByName", do("GET", "/2013-04-01/hostedzonesbyname?dnsname=example.com", ""), http.StatusOK)
	check("UpdateHostedZoneComment", do("POST", "/2013-04-01/hostedzone/"+zoneID, `<UpdateHostedZoneCommentRequest xmlns="https://route53.amazonaws.com/doc/2013-04-01/"><Comment>new comment</Comment></UpdateHostedZoneCommentRequest>`), http.StatusOK)

	crrs := `<ChangeResourceRecordSetsRequest xmlns="https://route53.amazonaws.com/doc/2013-04-01/"><ChangeBatch><Comment>golden batch</Comment><Changes>` +
		`<Change><Action>CREATE</Action><ResourceRecordSet><Name>*.example.com</Name><Type>TXT</Type><TTL>60</TTL><ResourceRecords><ResourceRecord><Value>"a b" "c\042d"</Value></ResourceRecord></ResourceRecords></ResourceRecordSet></Change>` +
		`<Change><Action>CREATE</Action><ResourceRecordSet><Name>www.example.com</Name><Type>A</Type><SetIdentifier>blue</SetIdentifier><Weight>70</Weight><TTL>300</TTL><ResourceRecords><ResourceRecord><Value>192.0.2.1</Value></ResourceRecord><ResourceRecord><Value>192.0.2.2</Value></ResourceRecord></ResourceRecords></ResourceRecordSet></Change>` +
		`<Change><Action>CREATE</Action><ResourceRecordSet><Name>www.example.com</Name><Type>A</Type><SetIdentifier>green</SetIdentifier><Weight>30</Weight><TTL>300</TTL><ResourceRecords><ResourceRecord><Value>192.0.2.3</Value></ResourceRecord></ResourceRecords></ResourceRecordSet></Change>` +
		`<Change><Action>CREATE</Action><ResourceRecordSet><Name>geo.example.com</Name><Type>A</Type><SetIdentifier>eu</SetIdentifier><GeoLocation><ContinentCode>EU</ContinentCode></GeoLocation><TTL>60</TTL><ResourceRecords><ResourceRecord><Value>192.0.2.4</Value></ResourceRecord></ResourceRecords></ResourceRecordSet></Change>` +
		`<Change><Action>CREATE</Action><ResourceRecordSet><Name>example.com</Name><Type>MX</Type><TTL>3600</TTL><ResourceRecords><ResourceRecord><Value>10 mail.example.com.</Value></ResourceRecord></ResourceRecords></ResourceRecordSet></Change>` +
		`</Changes></ChangeBatch></ChangeResourceRecordSetsRequest>`
	body = check("ChangeResourceRecordSets", do("POST", "/2013-04-01/hostedzone/"+zoneID+"/rrset", crrs), http.StatusOK)
	changeID := between(body, "<Id>/change/", "</Id>")
	alias := `<ChangeResourceRecordSetsRequest xmlns="https://route53.amazonaws.com/doc/2013-04-01/"><ChangeBatch><Changes>` +
		`<Change><Action>UPSERT</Action><ResourceRecordSet><Name>apex-alias.example.com</Name><Type>MX</Type><AliasTarget><HostedZoneId>` + zoneID + `</HostedZoneId><DNSName>example.com</DNSName><EvaluateTargetHealth>false</EvaluateTargetHealth></AliasTarget></ResourceRecordSet></Change>` +
		`</Changes></ChangeBatch></ChangeResourceRecordSetsRequest>`
	if w := do("POST", "/2013-04-01/hostedzone/"+zoneID+"/rrset", alias); w.Code != http.StatusOK {
		t.Fatalf("alias: %d %s", w.Code, w.Body)
	}
	check("ListResourceRecordSets", do("GET", "/2013-04-01/hostedzone/"+zoneID+"/rrset", ""), http.StatusOK)
	check("ListResourceRecordSets-page", do("GET", "/2013-04-01/hostedzone/"+zoneID+"/rrset?name=www.example.com&type=A&maxitems=1", ""), http.StatusOK)
	check("GetChange", do("GET", "/2013-04-01/change/"+changeID, ""), http.StatusOK)
	check("GetHostedZoneCount", do("GET", "/2013-04-01/hostedzonecount", ""), http.StatusOK)

	bad := strings.Replace(crrs, "<Action>CREATE</Action><ResourceRecordSet><Name>example.com</Name><Type>MX</Type>", "<Action>DELETE</Action><ResourceRecordSet><Name>example.com</Name><Type>MX</Type>", 1)
	bad = strings.Replace(bad, "10 mail", "20 mail", 1)
	check("InvalidChangeBatch", do("POST", "/2013-04-01/hostedzone/"+zoneID+"/rrset", bad), http.StatusBadRequest)
	check("NoSuchHostedZone", do("GET", "/2013-04-01/hostedzone/ZAAAAAAAAAAAAAAAA", ""), http.StatusNotFound)
	check("HostedZoneNotEmpty", do("DELETE", "/2013-04-01/hostedzone/"+zoneID, ""), http.StatusBadRequest)
	check("GetDNSSEC", do("GET", "/2013-04-01/hostedzone/"+zoneID+"/dnssec", ""), http.StatusOK)
	check("InvalidAction", do("POST", "/2013-04-01/queryloggingconfig", ""), http.StatusBadRequest)

	// Reusable delegation sets, last so that the ids above stay as they are.
	w = do("POST", "/2013-04-01/delegationset", `<?xml version="1.0" encoding="UTF-8"?><CreateReusableDelegationSetRequest xmlns="https://route53.amazonaws.com/doc/2013-04-01/"><CallerReference>golden-set</CallerReference></CreateReusableDelegationSetRequest>`)
	body = check("CreateReusableDelegationSet", w, http.StatusCreated)
	setID := between(body, "<Id>/delegationset/", "</Id>")
	if loc := w.Header().Get("Location"); loc != "http://route53.test/2013-04-01/delegationset/"+setID {
		t.Fatalf("Location %q", loc)
	}
	check("GetReusableDelegationSet", do("GET", "/2013-04-01/delegationset/%2Fdelegationset%2F"+setID, ""), http.StatusOK)
	check("CreateHostedZone-reusable", do("POST", "/2013-04-01/hostedzone", `<CreateHostedZoneRequest xmlns="https://route53.amazonaws.com/doc/2013-04-01/"><Name>other.example</Name><CallerReference>golden-2</CallerReference><DelegationSetId>/delegationset/`+setID+`</DelegationSetId></CreateHostedZoneRequest>`), http.StatusCreated)
	check("ListReusableDelegationSets", do("GET", "/2013-04-01/delegationset?maxitems=10", ""), http.StatusOK)
	check("DelegationSetInUse", do("DELETE", "/2013-04-01/delegationset/"+setID, ""), http.StatusBadRequest)
	check("NoSuchDelegationSet", do("GET", "/2013-04-01/delegationset/NAAAAAAAAAAAAAAAA", ""), http.StatusBadRequest)
}

// between returns the text between the first start and the following end.
func between(s, start, end string) string {
	_, rest, ok := strings.Cut(s, start)
	if !ok {
		return ""
	}
	v, _, _ := strings.Cut(rest, end)
	return v
}
