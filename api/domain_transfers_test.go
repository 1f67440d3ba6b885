package api

import (
	"context"
	"net/http"
	"regexp"
	"slices"
	"testing"
	"time"

	"github.com/waymark-dns/waymark/registrar"
	"github.com/waymark-dns/waymark/registrar/registry"
)

// pass runs one lifecycle pass on the registry's (test) clock.
func (a *testAPI) pass() registrar.Pass {
	a.t.Helper()
	p, err := a.registrar.NewLifecycle(registrar.LifecycleConfig{Clock: a.clock}).RunOnce(context.Background())
	if err != nil {
		a.t.Fatal(err)
	}
	return p
}

// errCode is the error code of an error answer.
func errCode(t *testing.T, r resp) string {
	t.Helper()
	var e errorBody
	r.decode(t, &e)
	return e.Error.Code
}

// tldDelegates reports whether the TLD zone test. delegates name (has its NS).
func (a *testAPI) tldDelegates(name string) bool {
	a.t.Helper()
	r := a.must(http.StatusOK, req{method: "GET", path: "/v1/registry/tlds/test.", bearer: testAdminToken})
	var tld tldResponse
	r.decode(a.t, &tld)
	var n int
	if err := a.db.QueryRow(context.Background(), `SELECT count(*) FROM rrset WHERE zone_id = $1 AND name = $2 AND type = 'NS'`,
		tld.TLD.HostedZoneID, name).Scan(&n); err != nil {
		a.t.Fatal(err)
	}
	return n > 0
}

var tokenLine = regexp.MustCompile(`(?m)^Token: (\S+)`)

// exerciseDomainTransfers drives the transfer and verification routes
// through HTTP (and the lifecycle by the test clock): a transfer in with a
// wrong auth code refused and with the right one approved when the
// waiting period ends; an offer between accounts accepted, one rejected,
// one cancelled, each with caller references; an unverified registrant's
// domain put on hold, out of the TLD zone, and back once verified;
// another account's domain answering like a missing one.
func exerciseDomainTransfers(t *testing.T, a *testAPI) {
	t.Helper()
	ctx := context.Background()
	giverID, giver := a.tenant("xfer-giver")
	takerID, taker := a.tenant("xfer-taker")
	for _, n := range []string{"give.test", "keep.test"} {
		op := a.registerTest(giver, n, "reg-"+n)
		if got := a.operation(giver, op.ID); got.Status != registrar.StatusSuccessful {
			t.Fatalf("register %s: %+v", n, got)
		}
	}

	// A domain of another registrar of the registry.
	if err := a.registry.EnsureRegistrar(ctx, "other", "Other Registrar", "pw-other"); err != nil {
		t.Fatal(err)
	}
	if _, err := a.registry.Do(ctx, func(ctx context.Context, tx *registry.Tx) error {
		_, err := tx.CreateDomain(ctx, "other", registry.DomainCreate{Name: "away.test", AuthInfo: "right-code-away", Nameservers: []string{"ns.elsewhere.example"}})
		return err
	}); err != nil {
		t.Fatal(err)
	}
	in := map[string]any{"name": "away.test", "auth_code": "right-code-away", "duration_in_years": 1, "caller_reference": "xfer-in-1",
		"contacts": map[string]any{"registrant": testContact}}
	r := a.must(http.StatusBadRequest, req{method: "POST", path: "/v1/domains/transfers", bearer: taker, body: in})
	if c := errCode(t, r); c != "TLDRulesViolation" {
		t.Errorf("inside the transfer lock: %s", r.body)
	}
	pol := registry.DefaultPolicy()
	a.clock.Advance(pol.TransferLock + time.Hour)
	a.pass()
	wrong := map[string]any{"name": "away.test", "auth_code": "wrong-code"}
	if r := a.must(http.StatusBadRequest, req{method: "POST", path: "/v1/domains/transfers", bearer: taker, body: wrong}); errCode(t, r) != "InvalidInput" {
		t.Errorf("wrong auth code: %s", r.body)
	}
	if r := a.must(http.StatusBadRequest, req{method: "POST", path: "/v1/domains/transfers", bearer: taker, body: map[string]any{"name": "away.test", "auth_code": ""}}); errCode(t, r) != "InvalidInput" {
		t.Errorf("no auth code: %s", r.body)
	}
	r = a.must(http.StatusAccepted, req{method: "POST", path: "/v1/domains/transfers", bearer: taker, body: in})
	var xin operationResponse
	r.decode(t, &xin)
	if xin.Operation.Type != registrar.OpTransferIn || xin.Operation.Status != registrar.StatusInProgress || xin.Operation.CallerReference != "xfer-in-1" {
		t.Errorf("transfer in: %s", r.body)
	}
	r = a.must(http.StatusAccepted, req{method: "POST", path: "/v1/domains/transfers", bearer: taker, body: in})
	var again operationResponse
	r.decode(t, &again)
	if again.Operation.ID != xin.Operation.ID {
		t.Errorf("a repeated caller_reference gave another operation: %s", r.body)
	}
	r = a.must(http.StatusOK, req{method: "GET", path: "/v1/domains/transfers?domain=away.test", bearer: taker})
	var list listTransfersResponse
	r.decode(t, &list)
	if len(list.Transfers) != 1 || list.Transfers[0].Direction != registrar.TransferFromRegistrar || list.Transfers[0].OperationID != xin.Operation.ID ||
		list.Transfers[0].LosingRegistrar != "other" {
		t.Errorf("pending transfers: %s", r.body)
	}
	a.clock.Advance(pol.TransferWait - time.Minute)
	if p := a.pass(); p.TransfersApproved != 0 {
		t.Errorf("approved before the waiting period ended: %+v", p)
	}
	if got := a.operation(taker, xin.Operation.ID); got.Status != registrar.StatusInProgress {
		t.Errorf("before the waiting period ended: %+v", got)
	}
	a.clock.Advance(2 * time.Minute)
	if p := a.pass(); p.TransfersApproved != 1 {
		t.Errorf("waiting period pass: %+v", p)
	}
	if got := a.operation(taker, xin.Operation.ID); got.Status != registrar.StatusSuccessful {
		t.Errorf("after the waiting period: %+v", got)
	}
	a.must(http.StatusOK, req{method: "GET", path: "/v1/domains/away.test", bearer: taker})
	r = a.must(http.StatusOK, req{method: "GET", path: "/v1/domains/transfers", bearer: taker})
	list = listTransfersResponse{}
	if r.decode(t, &list); len(list.Transfers) != 0 {
		t.Errorf("pending after approval: %s", r.body)
	}

	// Another account's domain answers like a missing one.
	for _, n := range []string{"keep.test", "nosuch.test"} {
		a.must(http.StatusNotFound, req{method: "POST", path: "/v1/domains/" + n + "/transfer", bearer: taker, body: map[string]any{"to_account": giverID}})
		a.must(http.StatusNotFound, req{method: "GET", path: "/v1/domains/" + n + "/contact-verification", bearer: taker})
		a.must(http.StatusNotFound, req{method: "POST", path: "/v1/domains/" + n + "/contact-verification/resend", bearer: taker})
		a.must(http.StatusBadRequest, req{method: "POST", path: "/v1/domains/" + n + "/transfer/cancel", bearer: taker})
	}

	// Between accounts: accepted with the password.
	offer := map[string]any{"to_account": takerID, "caller_reference": "offer-give"}
	r = a.must(http.StatusAccepted, req{method: "POST", path: "/v1/domains/give.test/transfer", bearer: giver, body: offer})
	var off transferOfferResponse
	r.decode(t, &off)
	if off.Password == "" || off.Operation.Type != registrar.OpInternalTransferOut || off.Operation.StatusFlag != registrar.FlagPendingAcceptance {
		t.Fatalf("offer: %s", r.body)
	}
	r = a.must(http.StatusAccepted, req{method: "POST", path: "/v1/domains/give.test/transfer", bearer: giver, body: offer})
	var off2 transferOfferResponse
	if r.decode(t, &off2); off2.Operation.ID != off.Operation.ID || off2.Password != "" {
		t.Errorf("repeated offer: %s", r.body)
	}
	r = a.must(http.StatusOK, req{method: "GET", path: "/v1/domains/transfers", bearer: taker})
	list = listTransfersResponse{}
	if r.decode(t, &list); len(list.Transfers) != 1 || list.Transfers[0].Direction != registrar.TransferFromAccount ||
		list.Transfers[0].FromAccount != giverID || list.Transfers[0].OperationID != "" {
		t.Errorf("offers to the taker: %s", r.body)
	}
	r = a.must(http.StatusOK, req{method: "GET", path: "/v1/domains/transfers", bearer: giver})
	list = listTransfersResponse{}
	if r.decode(t, &list); len(list.Transfers) != 1 || list.Transfers[0].Direction != registrar.TransferToAccount || list.Transfers[0].OperationID != off.Operation.ID {
		t.Errorf("offers of the giver: %s", r.body)
	}
	if r := a.must(http.StatusBadRequest, req{method: "POST", path: "/v1/domains/give.test/transfer/accept", bearer: taker,
		body: map[string]any{"password": "wrong"}}); errCode(t, r) != "InvalidInput" {
		t.Errorf("wrong password: %s", r.body)
	}
	accept := map[string]any{"password": off.Password, "caller_reference": "accept-give"}
	r = a.must(http.StatusAccepted, req{method: "POST", path: "/v1/domains/give.test/transfer/accept", bearer: taker, body: accept})
	var acc operationResponse
	if r.decode(t, &acc); acc.Operation.Type != registrar.OpInternalTransferIn || acc.Operation.Status != registrar.StatusSuccessful ||
		acc.Operation.CallerReference != "accept-give" {
		t.Errorf("accept: %s", r.body)
	}
	r = a.must(http.StatusAccepted, req{method: "POST", path: "/v1/domains/give.test/transfer/accept", bearer: taker, body: accept})
	var acc2 operationResponse
	if r.decode(t, &acc2); acc2.Operation.ID != acc.Operation.ID {
		t.Errorf("repeated accept: %s", r.body)
	}
	if got := a.operation(giver, off.Operation.ID); got.Status != registrar.StatusSuccessful {
		t.Errorf("the giver's operation: %+v", got)
	}
	a.must(http.StatusNotFound, req{method: "GET", path: "/v1/domains/give.test", bearer: giver})
	a.must(http.StatusOK, req{method: "GET", path: "/v1/domains/give.test", bearer: taker})

	// Rejected, then cancelled.
	r = a.must(http.StatusAccepted, req{method: "POST", path: "/v1/domains/keep.test/transfer", bearer: giver, body: map[string]any{"to_account": takerID}})
	off = transferOfferResponse{}
	r.decode(t, &off)
	r = a.must(http.StatusAccepted, req{method: "POST", path: "/v1/domains/keep.test/transfer/reject", bearer: taker, body: map[string]any{"caller_reference": "reject-keep"}})
	var rej operationResponse
	if r.decode(t, &rej); rej.Operation.Status != registrar.StatusFailed || rej.Operation.ID == off.Operation.ID {
		t.Errorf("reject: %s", r.body)
	}
	if got := a.operation(taker, rej.Operation.ID); got.CallerReference != "reject-keep" {
		t.Errorf("the rejection is not the taker's operation: %+v", got)
	}
	if got := a.operation(giver, off.Operation.ID); got.Status != registrar.StatusFailed {
		t.Errorf("rejected offer: %+v", got)
	}
	r = a.must(http.StatusAccepted, req{method: "POST", path: "/v1/domains/keep.test/transfer", bearer: giver, body: map[string]any{"to_account": takerID}})
	off = transferOfferResponse{}
	r.decode(t, &off)
	r = a.must(http.StatusAccepted, req{method: "POST", path: "/v1/domains/keep.test/transfer/cancel", bearer: giver, body: map[string]any{"caller_reference": "cancel-keep"}})
	var can operationResponse
	if r.decode(t, &can); can.Operation.ID != off.Operation.ID || can.Operation.Status != registrar.StatusFailed {
		t.Errorf("cancel: %s", r.body)
	}
	r = a.must(http.StatusAccepted, req{method: "POST", path: "/v1/domains/keep.test/transfer/cancel", bearer: giver, body: map[string]any{"caller_reference": "cancel-keep"}})
	var can2 operationResponse
	if r.decode(t, &can2); can2.Operation.ID != off.Operation.ID {
		t.Errorf("repeated cancel: %s", r.body)
	}
	a.must(http.StatusBadRequest, req{method: "POST", path: "/v1/domains/keep.test/transfer/accept", bearer: taker, body: map[string]any{"password": off.Password}})

	// The registrant's verification: the mail went out at the first pass
	// after the registration; unverified 15 days later, keep.test is held.
	r = a.must(http.StatusOK, req{method: "GET", path: "/v1/domains/keep.test/contact-verification", bearer: giver})
	var reach reachabilityJSON
	if r.decode(t, &reach); reach.Status != registrar.ReachabilityPending || reach.Email != "ada@example.com" || reach.DueAt == nil {
		t.Fatalf("verification: %s", r.body)
	}
	a.must(http.StatusOK, req{method: "POST", path: "/v1/domains/keep.test/contact-verification/resend", bearer: giver})
	var body string
	if err := a.db.QueryRow(ctx, `SELECT body FROM registrar_mail WHERE tenant_id = $1 AND kind = 'verify' ORDER BY id DESC LIMIT 1`, giverID).Scan(&body); err != nil {
		t.Fatal(err)
	}
	m := tokenLine.FindStringSubmatch(body)
	if m == nil {
		t.Fatalf("no token in the mail: %q", body)
	}
	if !a.tldDelegates("keep.test.") {
		t.Fatal("keep.test. is not delegated before the deadline")
	}
	a.clock.Advance(reach.DueAt.Sub(a.clock.Now()) + time.Minute)
	if p := a.pass(); p.Held < 1 {
		t.Errorf("hold pass: %+v", p)
	}
	r = a.must(http.StatusOK, req{method: "GET", path: "/v1/domains/keep.test", bearer: giver})
	var d domainResponse
	if r.decode(t, &d); !slices.Contains(d.Domain.Statuses, registry.StatusClientHold) {
		t.Errorf("not on hold: %s", r.body)
	}
	if a.tldDelegates("keep.test.") {
		t.Error("the held domain is still delegated")
	}
	r = a.must(http.StatusOK, req{method: "GET", path: "/v1/domains/keep.test/contact-verification", bearer: giver})
	reach = reachabilityJSON{}
	if r.decode(t, &reach); reach.Status != registrar.ReachabilityExpired {
		t.Errorf("overdue verification: %s", r.body)
	}
	if r := a.must(http.StatusBadRequest, req{method: "POST", path: "/v1/contact-verification", bearer: giver, body: map[string]any{"token": "not-the-token"}}); errCode(t, r) != "InvalidInput" {
		t.Errorf("wrong token: %s", r.body)
	}
	r = a.must(http.StatusOK, req{method: "POST", path: "/v1/contact-verification", bearer: giver, body: map[string]any{"token": m[1]}})
	var v verifiedJSON
	if r.decode(t, &v); v.Email != "ada@example.com" || !slices.Equal(v.ReleasedDomains, []string{"keep.test."}) {
		t.Errorf("verified: %s", r.body)
	}
	r = a.must(http.StatusOK, req{method: "GET", path: "/v1/domains/keep.test", bearer: giver})
	d = domainResponse{}
	if r.decode(t, &d); slices.Contains(d.Domain.Statuses, registry.StatusClientHold) {
		t.Errorf("still on hold: %s", r.body)
	}
	if !a.tldDelegates("keep.test.") {
		t.Error("keep.test. is not delegated again after the verification")
	}
	r = a.must(http.StatusOK, req{method: "GET", path: "/v1/domains/keep.test/contact-verification", bearer: giver})
	reach = reachabilityJSON{}
	if r.decode(t, &reach); reach.Status != registrar.ReachabilityDone {
		t.Errorf("after the verification: %s", r.body)
	}

	// Out, to another registrar: the owner rejects the first request and
	// approves the second.
	a.must(http.StatusOK, req{method: "PATCH", path: "/v1/domains/keep.test", bearer: giver, body: map[string]any{"transfer_lock": false}})
	requestOut := func() {
		t.Helper()
		r := a.must(http.StatusOK, req{method: "GET", path: "/v1/domains/keep.test/authcode", bearer: giver})
		var code authCodeResponse
		r.decode(t, &code)
		if _, err := a.registry.Do(ctx, func(ctx context.Context, tx *registry.Tx) error {
			_, err := tx.RequestTransfer(ctx, "other", "keep.test", code.AuthCode, 1)
			return err
		}); err != nil {
			t.Fatal(err)
		}
		r = a.must(http.StatusOK, req{method: "GET", path: "/v1/domains/transfers", bearer: giver})
		list = listTransfersResponse{}
		if r.decode(t, &list); len(list.Transfers) != 1 || list.Transfers[0].Direction != registrar.TransferToRegistrar ||
			list.Transfers[0].GainingRegistrar != "other" || list.Transfers[0].Domain != "keep.test." {
			t.Errorf("a transfer out pending: %s", r.body)
		}
	}
	requestOut()
	r = a.must(http.StatusAccepted, req{method: "POST", path: "/v1/domains/keep.test/transfer/reject", bearer: giver})
	rej = operationResponse{}
	if r.decode(t, &rej); rej.Operation.Type != registrar.OpTransferOut || rej.Operation.Status != registrar.StatusFailed {
		t.Errorf("reject a transfer out: %s", r.body)
	}
	requestOut()
	r = a.must(http.StatusAccepted, req{method: "POST", path: "/v1/domains/keep.test/transfer/accept", bearer: giver, body: map[string]any{"caller_reference": "out-keep"}})
	acc = operationResponse{}
	if r.decode(t, &acc); acc.Operation.Type != registrar.OpTransferOut || acc.Operation.Status != registrar.StatusSuccessful || acc.Operation.CallerReference != "out-keep" {
		t.Errorf("approve a transfer out: %s", r.body)
	}
	a.must(http.StatusNotFound, req{method: "GET", path: "/v1/domains/keep.test", bearer: giver})
	if d, err := a.registry.Domain(ctx, "keep.test."); err != nil || d.RegistrarID != "other" {
		t.Errorf("at the registry after the transfer out: %+v, %v", d, err)
	}
}

// TestIntegrationDomainTransfersAPI: exerciseDomainTransfers on an API of
// its own (the contract test runs it too, validating every exchange
// against openapi.yaml).
func TestIntegrationDomainTransfersAPI(t *testing.T) {
	t.Parallel()
	a := newTestAPI(t, nil)
	a.testTLD()
	exerciseDomainTransfers(t, a)
}
