package regepp_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/waymark-dns/waymark/registrar/epp"
	"github.com/waymark-dns/waymark/registrar/registry"
)

// TestEPPTransfer: a transfer between two registrars over EPP, on our
// client and server over the built-in registry. Inside the transfer lock
// after creation it is refused (2304); a wrong auth code is 2202; with the
// right one the request is pending (1001) and the sponsor has a poll
// message; the sponsor rejects it; a second request, approved by the
// sponsor, moves the domain (info shows the new sponsor, the expiry a
// year later); a cancel of nothing pending is 2301.
func TestEPPTransfer(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	var mu sync.Mutex
	now := time.Date(2027, 1, 10, 12, 0, 0, 0, time.UTC)
	w := newEPPWorld(t, func() time.Time { mu.Lock(); defer mu.Unlock(); return now })
	a, b := w.dial(w.certA), w.dial(w.certB)
	if err := a.Login(ctx, "reg-a", "secret-a", ""); err != nil {
		t.Fatal(err)
	}
	if err := b.Login(ctx, "reg-b", "secret-b", ""); err != nil {
		t.Fatal(err)
	}
	if err := a.CreateContact(ctx, epp.Contact{ID: "owner1", Email: "o@example.test", AuthInfo: "2fooBAR!",
		Postal: []epp.Postal{{Type: "int", Name: "O Wner", City: "Oslo", CC: "NO"}}}); err != nil {
		t.Fatal(err)
	}
	created, _, err := a.CreateDomain(ctx, epp.DomainCreate{Name: "moving.wmk", Years: 1, Registrant: "owner1", AuthInfo: "code-Right1"})
	if err != nil {
		t.Fatal(err)
	}
	req := epp.TransferRequest{Op: "request", Name: "moving.wmk", AuthInfo: "code-Right1"}
	if _, _, err := b.TransferDomain(ctx, req); epp.CodeOf(err) != epp.CodeStatusProhibits {
		t.Errorf("inside the transfer lock: %v, want 2304", err)
	}
	mu.Lock()
	now = now.Add(registry.DefaultPolicy().TransferLock + time.Hour)
	mu.Unlock()
	wrong := req
	wrong.AuthInfo = "code-Wrong1"
	if _, _, err := b.TransferDomain(ctx, wrong); epp.CodeOf(err) != epp.CodeInvalidAuthInfo {
		t.Errorf("wrong auth code: %v, want 2202", err)
	}
	tr, pending, err := b.TransferDomain(ctx, req)
	if err != nil || !pending || tr.Status != "pending" || tr.ReID != "reg-b" || tr.AcID != "reg-a" {
		t.Fatalf("request: %+v, pending %v, %v", tr, pending, err)
	}
	if m, _, err := a.Poll(ctx); err != nil || m == nil {
		t.Errorf("the sponsor's poll: %+v, %v", m, err)
	}
	if tr, _, err := b.TransferDomain(ctx, epp.TransferRequest{Op: "query", Name: "moving.wmk"}); err != nil || tr.Status != "pending" {
		t.Errorf("query: %+v, %v", tr, err)
	}
	if _, _, err := b.TransferDomain(ctx, epp.TransferRequest{Op: "approve", Name: "moving.wmk"}); epp.CodeOf(err) != epp.CodeAuthorizationError {
		t.Errorf("approve by the requester: %v, want 2201", err)
	}
	if tr, _, err := a.TransferDomain(ctx, epp.TransferRequest{Op: "reject", Name: "moving.wmk"}); err != nil || tr.Status != "clientRejected" {
		t.Fatalf("reject: %+v, %v", tr, err)
	}
	if _, pending, err := b.TransferDomain(ctx, req); err != nil || !pending {
		t.Fatalf("second request: %v, %v", pending, err)
	}
	tr, _, err = a.TransferDomain(ctx, epp.TransferRequest{Op: "approve", Name: "moving.wmk"})
	if err != nil || tr.Status != "clientApproved" || !tr.ExDate.Equal(created.ExDate.AddDate(1, 0, 0)) {
		t.Fatalf("approve: %+v (created expiring %v), %v", tr, created.ExDate, err)
	}
	info, err := b.InfoDomain(ctx, "moving.wmk", "")
	if err != nil || info.ClID != "reg-b" || !info.ExDate.Equal(created.ExDate.AddDate(1, 0, 0)) {
		t.Errorf("info after the transfer: %+v, %v", info, err)
	}
	if _, _, err := b.TransferDomain(ctx, epp.TransferRequest{Op: "cancel", Name: "moving.wmk"}); epp.CodeOf(err) != epp.CodeNotPendingTransfer {
		t.Errorf("cancel of nothing pending: %v, want 2301", err)
	}
}
