package route53domains

import (
	"errors"
	"net/http"
	"testing"
	"time"
)

func TestDecode(t *testing.T) {
	var in listOperationsInput
	if err := decode([]byte(` {"SubmittedSince": 1764633600.5, "MaxItems": 3, "Status": ["SUCCESSFUL"], "Extra": {"x": [1]}} `), &in); err != nil {
		t.Fatal(err)
	}
	if !in.SubmittedSince.Equal(time.Unix(1764633600, 5e8)) || *in.MaxItems != 3 || in.Status[0] != "SUCCESSFUL" {
		t.Fatalf("decoded %+v", in)
	}
	for _, tc := range []struct{ body, code string }{
		{`{"MaxItems":"3"}`, "SerializationException"},
		{`{"MaxItems":3.5}`, "SerializationException"},
		{`{"Status":"SUCCESSFUL"}`, "SerializationException"},
		{`{"SubmittedSince":-1}`, "InvalidInput"},
		{`{"SubmittedSince":true}`, "SerializationException"},
		{`null`, "SerializationException"},
		{`{} x`, "SerializationException"},
		{`{"a":1`, "SerializationException"},
	} {
		err := decode([]byte(tc.body), &listOperationsInput{})
		var ae *awsError
		if !errors.As(err, &ae) || ae.Code != tc.code || ae.Status != http.StatusBadRequest {
			t.Errorf("%s: %v, want %s", tc.body, err, tc.code)
		}
	}
}

func TestEpochJSON(t *testing.T) {
	for _, tc := range []struct {
		t    time.Time
		want string
	}{
		{time.Unix(1764633600, 0), "1764633600"},
		{time.Unix(1764633600, 250e6), "1764633600.250"},
	} {
		b, err := epoch{tc.t}.MarshalJSON()
		if err != nil || string(b) != tc.want {
			t.Errorf("%v: %s, %v; want %s", tc.t, b, err, tc.want)
		}
	}
}

// FuzzDecode: whatever the body, the decoder returns nil or a 400 of the
// service's shape for every input type, and never panics.
func FuzzDecode(f *testing.F) {
	for _, s := range []string{
		``, `{}`, `{"DomainName":"example.wmk","IdnLangCode":"fr"}`,
		`{"DomainName":"a.wmk","DurationInYears":2,"AutoRenew":false,"AdminContact":{"FirstName":"A","ExtraParams":[{"Name":"VAT_NUMBER","Value":"1"}]}}`,
		`{"SubmittedSince":1.5e9,"Marker":"x","MaxItems":20,"Status":["SUCCESSFUL"],"Type":["RENEW_DOMAIN"],"SortOrder":"ASC"}`,
		`{"DomainName":"a.wmk","CurrentExpiryYear":2030}`, `{"OperationId":"op-1"}`,
		`{"DomainName":"a.wmk","Nameservers":[{"Name":"ns1.a.wmk","GlueIps":["192.0.2.1"]}]}`,
		`{"FilterConditions":[{"Name":"Expiry","Operator":"LE","Values":["1.9e9"]}],"SortCondition":{"Name":"Expiry","SortOrder":"DESC"}}`,
		`{"DomainName":"a.wmk","SigningAttributes":{"Algorithm":15,"Flags":257,"PublicKey":"AAAA"}}`,
		`{"domainName":"a.wmk"}`, `{"DomainName":"a.wmk","AccountId":"t-1","Password":"p"}`,
		`[]`, `"x"`, `{"a":{"b":{"c":[[[[]]]]}}}`, `{"SubmittedSince":1e999}`, "{\"DomainName\":\"\xff\"}",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		for _, v := range []any{
			&checkDomainAvailabilityInput{}, &registerDomainInput{}, &getOperationDetailInput{},
			&listOperationsInput{}, &renewDomainInput{}, &domainInput{}, &checkDomainTransferabilityInput{},
			&getDomainSuggestionsInput{}, &listPricesInput{}, &listDomainsInput{}, &updateDomainNameserversInput{},
			&updateDomainContactInput{}, &updateDomainContactPrivacyInput{}, &associateDelegationSignerInput{},
			&disassociateDelegationSignerInput{}, &transferDomainInput{}, &transferToAccountInput{},
			&acceptTransferInput{}, &reachabilityInput{},
		} {
			err := decode(body, v)
			if err == nil {
				continue
			}
			var ae *awsError
			if !errors.As(err, &ae) || ae.Status != http.StatusBadRequest || ae.Message == "" {
				t.Fatalf("%q into %T: %v", body, v, err)
			}
		}
	})
}
