package registrar_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/waymark-dns/waymark/registrar"
	"github.com/waymark-dns/waymark/registrar/registry"
)

func codeOf(err error) registrar.Code {
	if e, ok := err.(*registrar.Error); ok {
		return e.Code
	}
	return registrar.Code(fmt.Sprint(err))
}

// TestIntegrationTransferIn: a domain of another registrar comes to a
// tenant with its auth code. Inside the transfer lock after its creation
// it is refused; a wrong auth code is refused; with the right one the
// operation waits (IN_PROGRESS, however often it is read) until the
// waiting period passes and the registry approves it: then the domain is
// the tenant's, a year longer, charged once, locked against another
// transfer, and the losing registrar has a poll message.
func TestIntegrationTransferIn(t *testing.T) {
	w := newWorld(t, "0", 1)
	ctx := context.Background()
	tenant := w.tenant(t, "gainer")
	server := tldServer(t, w)
	if err := w.reg.EnsureRegistrar(ctx, "other", "Other Registrar", "pw-other"); err != nil {
		t.Fatal(err)
	}
	var created registry.Created
	if _, err := w.reg.Do(ctx, func(ctx context.Context, tx *registry.Tx) error {
		var err error
		created, err = tx.CreateDomain(ctx, "other", registry.DomainCreate{Name: "moving.wmk", AuthInfo: "right-code-1", Nameservers: []string{"ns.elsewhere.example"}})
		return err
	}); err != nil {
		t.Fatal(err)
	}
	delegated(t, server, "moving.wmk.", true)
	pol := registry.DefaultPolicy()

	in := registrar.TransferInInput{Name: "moving.wmk", AuthCode: "right-code-1", AutoRenew: true}
	if _, err := w.svc.TransferIn(ctx, tenant, in); codeOf(err) != registrar.CodeTLDRulesViolation {
		t.Errorf("inside the transfer lock: %v", err)
	}
	w.advance(pol.TransferLock + time.Hour)
	// The add grace period is long over; the lifecycle ends it.
	pass(t, w, registrar.LifecycleConfig{})
	wrong := in
	wrong.AuthCode = "wrong-code-1"
	if _, err := w.svc.TransferIn(ctx, tenant, wrong); codeOf(err) != registrar.CodeInvalidInput {
		t.Errorf("wrong auth code: %v", err)
	}
	if _, err := w.svc.TransferIn(ctx, tenant, registrar.TransferInInput{Name: "moving.wmk"}); codeOf(err) != registrar.CodeInvalidInput {
		t.Errorf("no auth code: %v", err)
	}
	op, err := w.svc.TransferIn(ctx, tenant, in)
	if err != nil || op.Status != registrar.StatusInProgress || op.Type != registrar.OpTransferIn {
		t.Fatalf("transfer in: %+v, %v", op, err)
	}
	if _, err := w.svc.TransferIn(ctx, tenant, in); codeOf(err) != registrar.CodeTLDRulesViolation && codeOf(err) != registrar.CodeDuplicateRequest {
		t.Errorf("second request while pending: %v", err)
	}
	w.advance(pol.TransferWait - time.Minute)
	if p := pass(t, w, registrar.LifecycleConfig{}); p.TransfersApproved != 0 {
		t.Fatalf("approved before the waiting period ended: %+v", p)
	}
	if got, err := w.svc.Operation(ctx, tenant, op.ID); err != nil || got.Status != registrar.StatusInProgress {
		t.Fatalf("pending transfer: %+v, %v", got, err)
	}
	w.advance(2 * time.Minute)
	if p := pass(t, w, registrar.LifecycleConfig{}); p.TransfersApproved != 1 {
		t.Fatalf("waiting period pass: %+v", p)
	}
	got, err := w.svc.Operation(ctx, tenant, op.ID)
	if err != nil || got.Status != registrar.StatusSuccessful {
		t.Fatalf("after the waiting period: %+v, %v", got, err)
	}
	d, err := w.reg.Domain(ctx, "moving.wmk.")
	if err != nil {
		t.Fatal(err)
	}
	if d.RegistrarID != registrar.RegistrarID || !d.ExpiresAt.Equal(created.Domain.ExpiresAt.AddDate(1, 0, 0)) ||
		d.RGP != registry.RGPTransfer || d.TransferLockedUntil == nil || !d.TransferLockedUntil.After(w.clock.now().Add(pol.TransferLock-time.Minute)) ||
		d.AuthInfo == "right-code-1" || contains(d.Statuses, registry.StatusPendingTransfer) {
		t.Errorf("transferred domain: %+v", d)
	}
	if got := ledgerCount(t, w, tenant, "transfer"); got["moving.wmk."] != 1 {
		t.Errorf("transfer charges: %v", got)
	}
	if m, _, ok, err := w.reg.Poll(ctx, "other"); err != nil || !ok || m.Kind != "transferRequested" {
		t.Errorf("losing registrar's poll: %+v %v %v", m, ok, err)
	}
	delegated(t, server, "moving.wmk.", true)
	// Locked now: the old registrar cannot take it straight back.
	if _, err := w.reg.Do(ctx, func(ctx context.Context, tx *registry.Tx) error {
		_, err := tx.RequestTransfer(ctx, "other", "moving.wmk", d.AuthInfo, 1)
		return err
	}); !registry.IsCode(err, registry.ErrStatusProhibits) {
		t.Errorf("transfer back inside the lock: %v", err)
	}
}

// TestIntegrationTransferInRefusedAndCancelled: the losing registrar
// rejects one request (the operation FAILS); the tenant cancels another.
func TestIntegrationTransferInRefusedAndCancelled(t *testing.T) {
	w := newWorld(t, "", 60)
	ctx := context.Background()
	tenant := w.tenant(t, "gainer")
	if err := w.reg.EnsureRegistrar(ctx, "other", "Other Registrar", "pw-other"); err != nil {
		t.Fatal(err)
	}
	for _, n := range []string{"nope.wmk", "maybe.wmk"} {
		if _, err := w.reg.Do(ctx, func(ctx context.Context, tx *registry.Tx) error {
			_, err := tx.CreateDomain(ctx, "other", registry.DomainCreate{Name: n, AuthInfo: "code-" + n})
			return err
		}); err != nil {
			t.Fatal(err)
		}
	}
	w.advance(registry.DefaultPolicy().TransferLock + time.Hour)
	op1, err := w.svc.TransferIn(ctx, tenant, registrar.TransferInInput{Name: "nope.wmk", AuthCode: "code-nope.wmk"})
	if err != nil {
		t.Fatal(err)
	}
	op2, err := w.svc.TransferIn(ctx, tenant, registrar.TransferInInput{Name: "maybe.wmk", AuthCode: "code-maybe.wmk"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.reg.Do(ctx, func(ctx context.Context, tx *registry.Tx) error {
		_, err := tx.RejectTransfer(ctx, "other", "nope.wmk")
		return err
	}); err != nil {
		t.Fatal(err)
	}
	if p := pass(t, w, registrar.LifecycleConfig{}); p.TransfersApproved != 0 {
		t.Errorf("pass: %+v", p)
	}
	if got, _ := w.svc.Operation(ctx, tenant, op1.ID); got.Status != registrar.StatusFailed {
		t.Errorf("rejected transfer: %+v", got)
	}
	if got, err := w.svc.CancelTransfer(ctx, tenant, "maybe.wmk", ""); err != nil || got.ID != op2.ID || got.Status != registrar.StatusFailed {
		t.Errorf("cancel: %+v, %v", got, err)
	}
	for _, n := range []string{"nope.wmk.", "maybe.wmk."} {
		if d, _ := w.reg.Domain(ctx, n); d.RegistrarID != "other" || contains(d.Statuses, registry.StatusPendingTransfer) {
			t.Errorf("%s: %+v", n, d)
		}
	}
	if len(ledgerCount(t, w, tenant, "transfer")) != 0 {
		t.Error("a refused transfer was charged")
	}
}

// TestIntegrationTransferBetweenTenants: an offer to another tenant is
// accepted with its password (not with a wrong one); another is
// rejected, another cancelled, another lapses after three days.
func TestIntegrationTransferBetweenTenants(t *testing.T) {
	w := newWorld(t, "0", 60)
	ctx := context.Background()
	a, b := w.tenant(t, "giver"), w.tenant(t, "taker")
	for _, n := range []string{"gift.wmk.", "spurned.wmk.", "withdrawn.wmk.", "ignored.wmk."} {
		registerExternal(t, w, a, n, true, nil)
	}
	if _, err := w.svc.TransferToTenant(ctx, a, "gift.wmk", a, ""); codeOf(err) != registrar.CodeInvalidInput {
		t.Errorf("to itself: %v", err)
	}
	if _, err := w.svc.TransferToTenant(ctx, b, "gift.wmk", a, ""); codeOf(err) != registrar.CodeNoSuchDomain {
		t.Errorf("someone else's domain: %v", err)
	}
	offer, err := w.svc.TransferToTenant(ctx, a, "gift.wmk", b, "")
	if err != nil || offer.Password == "" || offer.Operation.Flag != registrar.FlagPendingAcceptance {
		t.Fatalf("offer: %+v, %v", offer, err)
	}
	if _, err := w.svc.TransferToTenant(ctx, a, "gift.wmk", b, ""); codeOf(err) != registrar.CodeDuplicateRequest {
		t.Errorf("second offer: %v", err)
	}
	if got, _ := w.svc.Operation(ctx, a, offer.Operation.ID); got.Status != registrar.StatusInProgress || got.Flag != registrar.FlagPendingAcceptance {
		t.Errorf("pending offer: %+v", got)
	}
	if _, err := w.svc.AcceptTransfer(ctx, b, "gift.wmk", "wrong", ""); codeOf(err) != registrar.CodeInvalidInput {
		t.Errorf("wrong password: %v", err)
	}
	in, err := w.svc.AcceptTransfer(ctx, b, "gift.wmk", offer.Password, "")
	if err != nil || in.Type != registrar.OpInternalTransferIn || in.Status != registrar.StatusSuccessful {
		t.Fatalf("accept: %+v, %v", in, err)
	}
	if got, _ := w.svc.Operation(ctx, a, offer.Operation.ID); got.Status != registrar.StatusSuccessful {
		t.Errorf("accepted offer: %+v", got)
	}
	if _, err := w.svc.Renew(ctx, a, "gift.wmk", 1, w.clock.now().AddDate(1, 0, 0).Year()); codeOf(err) != registrar.CodeNoSuchDomain {
		t.Errorf("the giver still renews it: %v", err)
	}
	if _, err := w.svc.Renew(ctx, b, "gift.wmk", 1, w.clock.now().AddDate(1, 0, 0).Year()); err != nil {
		t.Errorf("the taker cannot renew it: %v", err)
	}

	spurned, err := w.svc.TransferToTenant(ctx, a, "spurned.wmk", b, "")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.svc.RejectTransfer(ctx, b, "spurned.wmk", ""); err != nil {
		t.Fatal(err)
	}
	if got, _ := w.svc.Operation(ctx, a, spurned.Operation.ID); got.Status != registrar.StatusFailed {
		t.Errorf("rejected offer: %+v", got)
	}
	withdrawn, err := w.svc.TransferToTenant(ctx, a, "withdrawn.wmk", b, "")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.svc.CancelTransfer(ctx, b, "withdrawn.wmk", ""); codeOf(err) != registrar.CodeInvalidInput {
		t.Errorf("cancel by the receiver: %v", err)
	}
	if got, err := w.svc.CancelTransfer(ctx, a, "withdrawn.wmk", ""); err != nil || got.ID != withdrawn.Operation.ID || got.Status != registrar.StatusFailed {
		t.Errorf("cancel: %+v, %v", got, err)
	}
	if _, err := w.svc.AcceptTransfer(ctx, b, "withdrawn.wmk", withdrawn.Password, ""); codeOf(err) != registrar.CodeInvalidInput {
		t.Errorf("accept after cancel: %v", err)
	}
	ignored, err := w.svc.TransferToTenant(ctx, a, "ignored.wmk", b, "")
	if err != nil {
		t.Fatal(err)
	}
	w.advance(registrar.TenantTransferWait + time.Minute)
	if p := pass(t, w, registrar.LifecycleConfig{}); p.TransfersLapsed != 1 {
		t.Errorf("lapse pass: %+v", p)
	}
	if got, _ := w.svc.Operation(ctx, a, ignored.Operation.ID); got.Status != registrar.StatusFailed {
		t.Errorf("lapsed offer: %+v", got)
	}
	if _, err := w.svc.AcceptTransfer(ctx, b, "ignored.wmk", ignored.Password, ""); codeOf(err) != registrar.CodeInvalidInput {
		t.Errorf("accept after the lapse: %v", err)
	}
}
