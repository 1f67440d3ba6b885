package client

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/waymark-dns/waymark/registrar/epp"
)

// devPath is a path of dev.env, relative to waymark dev's directory.
func devPath(p string) string {
	if filepath.IsAbs(p) {
		return p
	}
	return filepath.Join(dev.Dir, p)
}

// exerciseDomainTransfers drives the transfer and verification methods
// against `waymark dev`: a domain another registrar created over EPP
// (in a TLD without a transfer lock) asked for with its auth code, listed
// and cancelled; a domain offered to a second account, rejected, offered
// again and accepted with the password; the registrant's verification read,
// resent and completed with the token from the mail the lifecycle wrote.
func exerciseDomainTransfers(ctx context.Context, t *testing.T, c, op *Client, rec *recorder) {
	t.Helper()
	n := time.Now().UnixNano() % 1e9
	tld := fmt.Sprintf("xfr%d", n)
	must(op.PutRegistryTLD(ctx, tld, PutRegistryTLDInput{Policy: &TLDPolicy{TransferLockSeconds: Ptr[int64](0), AddGraceSeconds: Ptr[int64](0)}}))(t, "PutRegistryTLD")

	// The other registrar: waymark dev's EPP login.
	pair, err := tls.LoadX509KeyPair(devPath(dev.Env["WAYMARK_EPP_CERT"]), devPath(dev.Env["WAYMARK_EPP_KEY"]))
	if err != nil {
		t.Fatal(err)
	}
	caPEM, err := os.ReadFile(devPath(dev.Env["WAYMARK_EPP_CA"]))
	if err != nil {
		t.Fatal(err)
	}
	roots := x509.NewCertPool()
	roots.AppendCertsFromPEM(caPEM)
	ec, err := epp.Dial(ctx, dev.Env["WAYMARK_EPP"], &tls.Config{Certificates: []tls.Certificate{pair}, RootCAs: roots}, "sdk-")
	if err != nil {
		t.Fatal(err)
	}
	defer ec.Close()
	if err := ec.Login(ctx, dev.Env["WAYMARK_EPP_CLIENT_ID"], dev.Env["WAYMARK_EPP_PASSWORD"], ""); err != nil {
		t.Fatal(err)
	}
	away := "away." + tld
	if _, _, err := ec.CreateDomain(ctx, epp.DomainCreate{Name: away, Years: 1, AuthInfo: "sdk-auth-" + tld}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.TransferDomainIn(ctx, TransferDomainInInput{Name: away, AuthCode: "wrong"}); !IsCode(err, CodeInvalidInput) {
		t.Errorf("TransferDomainIn with a wrong auth code: %v", err)
	}
	in := must(c.TransferDomainIn(ctx, TransferDomainInInput{Name: away, AuthCode: "sdk-auth-" + tld}))(t, "TransferDomainIn")
	if in.Operation.Status != OperationInProgress || in.Operation.Type != "TRANSFER_IN_DOMAIN" {
		t.Errorf("TransferDomainIn %+v", in)
	}
	if l := must(c.ListDomainTransfers(ctx, away))(t, "ListDomainTransfers"); len(l.Transfers) != 1 || l.Transfers[0].Direction != TransferInFromRegistrar ||
		l.Transfers[0].OperationID != in.Operation.OperationID {
		t.Errorf("ListDomainTransfers %+v", l)
	}
	if cn := must(c.CancelDomainTransfer(ctx, away, CallerReferenceInput{}))(t, "CancelDomainTransfer"); cn.Operation.Status != OperationFailed {
		t.Errorf("CancelDomainTransfer %+v", cn)
	}

	// A second account.
	hc := &http.Client{Transport: rec}
	other := must(op.CreateTenant(ctx, CreateTenantInput{Name: fmt.Sprintf("receiver-%d", n)}))(t, "CreateTenant")
	c2, err := New(dev.API, WithToken(other.APIKey.Token), WithHTTPClient(hc))
	if err != nil {
		t.Fatal(err)
	}
	email := fmt.Sprintf("giver-%d@example.com", n)
	gift := "gift." + tld
	reg := must(c.RegisterDomain(ctx, RegisterDomainInput{Name: gift, Nameservers: []DomainNameserver{{Name: "ns.example.net"}},
		Contacts: Contacts{Registrant: &Contact{Name: "Giver", City: "Oslo", CountryCode: "NO", Email: email}}}))(t, "RegisterDomain")
	if _, err := c.WaitOperation(ctx, reg.Operation.OperationID); err != nil {
		t.Fatal(err)
	}
	// The registrant's verification: the lifecycle (woken by the clock)
	// mails a token.
	must(op.AdvanceRegistryClock(ctx, time.Second))(t, "AdvanceRegistryClock")
	token := waitVerifyToken(ctx, t, email)
	if v := must(c.GetContactVerification(ctx, gift))(t, "GetContactVerification"); v.Status != VerificationPending || v.Email != email {
		t.Errorf("GetContactVerification %+v", v)
	}
	must(c.ResendContactVerification(ctx, gift))(t, "ResendContactVerification")
	// The resent mail carries a new token; the first no longer verifies.
	if _, err := c.VerifyContact(ctx, VerifyContactInput{Token: token}); !IsCode(err, CodeInvalidInput) {
		t.Errorf("VerifyContact with the replaced token: %v", err)
	}
	token = waitVerifyToken(ctx, t, email, token)
	if v := must(c.VerifyContact(ctx, VerifyContactInput{Token: token}))(t, "VerifyContact"); v.Email != email {
		t.Errorf("VerifyContact %+v", v)
	}
	if v := must(c.GetContactVerification(ctx, gift))(t, "GetContactVerification"); v.Status != VerificationDone {
		t.Errorf("after VerifyContact %+v", v)
	}

	if first := must(c.TransferDomainToAccount(ctx, gift, TransferDomainToAccountInput{ToAccount: other.Tenant.ID}))(t, "TransferDomainToAccount"); first.Password == "" ||
		first.Operation.StatusFlag != "PENDING_ACCEPTANCE" {
		t.Errorf("TransferDomainToAccount %+v", first)
	}
	if rj := must(c2.RejectDomainTransfer(ctx, gift, CallerReferenceInput{}))(t, "RejectDomainTransfer"); rj.Operation.Status != OperationFailed {
		t.Errorf("RejectDomainTransfer %+v", rj)
	}
	offer := must(c.TransferDomainToAccount(ctx, gift, TransferDomainToAccountInput{ToAccount: other.Tenant.ID}))(t, "TransferDomainToAccount")
	acc := must(c2.AcceptDomainTransfer(ctx, gift, AcceptDomainTransferInput{Password: offer.Password}))(t, "AcceptDomainTransfer")
	if acc.Operation.Status != OperationSuccessful || acc.Operation.Type != "INTERNAL_TRANSFER_IN_DOMAIN" {
		t.Errorf("AcceptDomainTransfer %+v", acc)
	}
	must(c2.GetDomain(ctx, gift))(t, "GetDomain by the receiver")
}

var verifyToken = regexp.MustCompile(`(?m)^Token: (\S+)`)

// waitVerifyToken polls waymark dev's mail directory for a verification
// mail to email whose token is none of not, and returns its token.
func waitVerifyToken(ctx context.Context, t *testing.T, email string, not ...string) string {
	t.Helper()
	dir := devPath(dev.Env["WAYMARK_MAIL_DIR"])
	for {
		files, _ := filepath.Glob(filepath.Join(dir, "*-verify.eml"))
		for _, f := range files {
			b, err := os.ReadFile(f)
			if err != nil || !strings.Contains(string(b), "To: "+email+"\r\n") {
				continue
			}
			if m := verifyToken.FindStringSubmatch(strings.ReplaceAll(string(b), "\r", "")); m != nil && !contains(not, m[1]) {
				return m[1]
			}
		}
		select {
		case <-ctx.Done():
			t.Fatalf("no verification mail to %s in %s", email, dir)
		case <-time.After(50 * time.Millisecond):
		}
	}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
