package api

import (
	"net/http"
	"strings"
	"testing"
)

// exerciseDNSSEC runs every DNSSEC operation once against zone (which it
// signs and unsigns again), for the contract test, and checks Route 53's
// refusals through HTTP.
func exerciseDNSSEC(t *testing.T, a *testAPI, token, zone string) {
	t.Helper()
	base := "/v1/hostedzones/" + zone
	r := a.must(http.StatusOK, req{method: "GET", path: base + "/dnssec", bearer: token})
	var info dnssecResponse
	r.decode(t, &info)
	if info.Status.ServeSignature != "NOT_SIGNING" || len(info.KeySigningKeys) != 0 {
		t.Fatalf("never signed: %s", r.body)
	}
	r = a.must(http.StatusCreated, req{method: "POST", path: base + "/keysigningkeys", bearer: token,
		body: map[string]string{"name": "ksk_one", "status": "INACTIVE", "caller_reference": "k1"}})
	var created createKSKResponse
	r.decode(t, &created)
	if created.KeySigningKey.Flag != 257 || created.Change.Status != "PENDING" || !strings.Contains(created.KeySigningKey.DSRecord, " 13 2 ") {
		t.Fatalf("created: %s", r.body)
	}
	for _, tc := range []struct {
		method, path string
		body         any
		status       int
		code         string
	}{
		{"POST", base + "/dnssec/enable", nil, http.StatusConflict, "KeySigningKeyWithActiveStatusNotFound"},
		{"POST", base + "/keysigningkeys", map[string]string{"name": "x", "status": "ACTIVE"}, http.StatusBadRequest, "InvalidKeySigningKeyName"},
		{"POST", base + "/keysigningkeys/nope/activate", nil, http.StatusNotFound, "NoSuchKeySigningKey"},
		{"POST", base + "/keysigningkeys/ksk_one/deactivate", nil, http.StatusBadRequest, "InvalidKeySigningKeyStatus"},
		{"POST", base + "/dnssec/zsk-rollover", nil, http.StatusConflict, "DNSSECNotEnabled"},
	} {
		r := a.must(tc.status, req{method: tc.method, path: tc.path, bearer: token, body: tc.body})
		if got := r.errorCode(t); got != tc.code {
			t.Errorf("%s %s: got %s, want %s", tc.method, tc.path, got, tc.code)
		}
	}
	a.must(http.StatusOK, req{method: "POST", path: base + "/keysigningkeys/ksk_one/activate", bearer: token})
	a.must(http.StatusOK, req{method: "POST", path: base + "/dnssec/enable", bearer: token})
	a.must(http.StatusOK, req{method: "POST", path: base + "/dnssec/zsk-rollover", bearer: token})
	r = a.must(http.StatusOK, req{method: "GET", path: base + "/dnssec", bearer: token})
	r.decode(t, &info)
	if info.Status.ServeSignature != "SIGNING" || len(info.KeySigningKeys) != 1 || len(info.ZoneSigningKeys) != 2 {
		t.Fatalf("signing: %s", r.body)
	}
	// No private key material in any answer: only public fields exist,
	// and nothing looks like a sealed blob.
	if strings.Contains(string(r.body), "private") || strings.Contains(string(r.body), "sealed") || strings.Contains(string(r.body), "wrapped") {
		t.Fatalf("private key field in %s", r.body)
	}
	a.must(http.StatusOK, req{method: "POST", path: base + "/dnssec/disable", bearer: token})
	a.must(http.StatusOK, req{method: "POST", path: base + "/keysigningkeys/ksk_one/deactivate", bearer: token})
	a.must(http.StatusOK, req{method: "DELETE", path: base + "/keysigningkeys/ksk_one", bearer: token})
}
