package main

import (
	"context"
	"encoding/json"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/waymark-dns/waymark/client"
)

type cliOperation struct {
	Operation client.Operation `json:"operation"`
}

// TestCLIDomains drives `waymark domains …` against `waymark dev`'s
// registry for test.: check, register (contacts from JSON on standard
// input with a new hosted zone; from flags with glued nameservers), list,
// get, nameservers, DS, renew, auth code, operations, a transfer to
// another account accepted there with the password, refusals with exit 1
// and usage errors with exit 2.
func TestCLIDomains(t *testing.T) {
	ctx := context.Background()
	name := "cli-" + strconv.FormatInt(time.Now().UnixNano(), 36) + ".test"
	glued := "ns-" + name
	if out := ok(t, "", "domains", "check", name); !strings.Contains(out, "AVAILABLE") || !strings.Contains(out, "USD") {
		t.Errorf("check:\n%s", out)
	}
	contacts := `{"registrant":{"name":"Ada Lovelace","city":"London","country_code":"GB","email":"ada@example.com"}}`
	var op cliOperation
	okJSON(t, &op, contacts, "domains", "register", name, "--hosted-zone", "create", "--years", "2", "--contacts", "-", "--wait")
	if op.Operation.Status != client.OperationSuccessful || op.Operation.Type != "REGISTER_DOMAIN" {
		t.Fatalf("register: %+v", op)
	}
	for _, args := range [][]string{
		{"domains", "register", "x" + name, "--hosted-zone", "create"},                                                   // no contacts
		{"domains", "register", "x" + name, "--email", "a@example.com", "--name", "A", "--city", "C", "--country", "GB"}, // no zone, no ns
		{"domains", "nameservers", name, "bad name"},
		{"domains", "transfer", "out", name},
		{"domains", "ds", "add", name, "x", "13", "2", "AB"},
	} {
		if r := waymark(t, "", nil, args...); r.code != 2 {
			t.Errorf("waymark %v: exit %d, want 2\n%s", args, r.code, r.stderr)
		}
	}
	okJSON(t, &op, "", "domains", "register", glued, "--ns", "ns1."+glued+"=192.0.2.7", "--ns", "ns.example.net",
		"--name", "Ada Lovelace", "--email", "ada@example.com", "--city", "London", "--country", "GB", "--no-privacy", "--wait")
	if op.Operation.Status != client.OperationSuccessful {
		t.Fatalf("register with nameservers: %+v", op)
	}
	if out := ok(t, "", "domains", "list"); !strings.Contains(out, name+".") || !strings.Contains(out, glued+".") {
		t.Errorf("list:\n%s", out)
	}
	var d client.DomainOutput
	okJSON(t, &d, "", "domains", "get", glued)
	if len(d.Domain.Nameservers) != 2 || d.Domain.Privacy || d.Domain.Contacts.Registrant == nil {
		t.Errorf("get: %+v", d.Domain)
	}
	okJSON(t, &op, "", "domains", "nameservers", glued, "ns1."+glued+"=192.0.2.8", "ns2.example.net", "--wait")
	if op.Operation.Type != "UPDATE_NAMESERVER" || op.Operation.Status != client.OperationSuccessful {
		t.Errorf("nameservers: %+v", op)
	}
	if out := ok(t, "", "domains", "get", glued); !strings.Contains(out, "ns1."+glued+".=192.0.2.8") && !strings.Contains(out, "ns1."+glued+"=192.0.2.8") {
		t.Errorf("get after nameservers:\n%s", out)
	}

	// DS, renewal, auth code, operations.
	okJSON(t, &op, "", "domains", "ds", "add", name, "2371", "13", "2", "1F987CC6583E92DF0890718C42B3D5B3E3B1F8F5C3A4F1B7E6E2C7D0A9B8C7D6", "--wait")
	var ds client.DSListOutput
	okJSON(t, &ds, "", "domains", "ds", "list", name)
	if len(ds.DS) != 1 || ds.DS[0].KeyTag != 2371 {
		t.Fatalf("ds list: %+v", ds)
	}
	okJSON(t, &op, "", "domains", "ds", "remove", name, ds.DS[0].ID, "--wait")
	if op.Operation.Type != "REMOVE_DNSSEC" || op.Operation.Status != client.OperationSuccessful {
		t.Errorf("ds remove: %+v", op)
	}
	okJSON(t, &d, "", "domains", "get", name)
	expiry := d.Domain.ExpiresAt
	okJSON(t, &op, "", "domains", "renew", name, "--years", "1", "--wait", "--caller-reference", "cli-renew-"+name)
	okJSON(t, &d, "", "domains", "get", name)
	if op.Operation.Type != "RENEW_DOMAIN" || !d.Domain.ExpiresAt.Equal(expiry.AddDate(1, 0, 0)) {
		t.Errorf("renew: %+v, expiry %v → %v", op, expiry, d.Domain.ExpiresAt)
	}
	// The same caller reference again: the first operation, not a second renewal.
	var again cliOperation
	okJSON(t, &again, "", "domains", "renew", name, "--years", "1", "--caller-reference", "cli-renew-"+name)
	if again.Operation.OperationID != op.Operation.OperationID {
		t.Errorf("renew replay: %+v", again)
	}
	if r := waymark(t, "", nil, "domains", "renew", name, "--current-expiry-year", "2000"); r.code != 1 || !strings.Contains(r.stderr, "InvalidInput") {
		t.Errorf("renew with a wrong year: %+v", r)
	}
	if code := strings.TrimSpace(ok(t, "", "domains", "authcode", name)); code == "" {
		t.Error("no auth code")
	}
	if out := ok(t, "", "domains", "operations", "get", op.Operation.OperationID); !strings.Contains(out, "SUCCESSFUL") {
		t.Errorf("operations get:\n%s", out)
	}
	okJSON(t, &again, "", "domains", "operations", "wait", op.Operation.OperationID)
	if again.Operation.Status != client.OperationSuccessful {
		t.Errorf("operations wait: %+v", again)
	}
	if out := ok(t, "", "domains", "operations", "list", "--max-items", "50"); !strings.Contains(out, "RENEW_DOMAIN") {
		t.Errorf("operations list:\n%s", out)
	}
	if out := ok(t, "", "domains", "verification", name); !strings.Contains(out, "ada@example.com") {
		t.Errorf("verification:\n%s", out)
	}

	// Refusals: exit 1 with the API's code.
	for _, args := range [][]string{
		{"domains", "transfer", "in", name, "--auth-code", "x", "--contacts", "-"},
		{"domains", "transfer", "cancel", name},
		{"domains", "get", "nosuch-" + name},
		{"domains", "verify", "not-a-token"},
	} {
		if r := waymark(t, contacts, nil, args...); r.code != 1 || !strings.Contains(r.stderr, "waymark: ") {
			t.Errorf("waymark %v: exit %d, want 1\n%s", args, r.code, r.stderr)
		}
	}

	// To another account, accepted there with the password.
	admin, err := client.New(dev.Env["WAYMARK_API"], client.WithToken(dev.Env["WAYMARK_ADMIN_TOKEN"]))
	if err != nil {
		t.Fatal(err)
	}
	other, err := admin.CreateTenant(ctx, client.CreateTenantInput{Name: "cli-receiver-" + name})
	if err != nil {
		t.Fatal(err)
	}
	asOther := []string{"WAYMARK_API_KEY=" + other.APIKey.Token}
	var offer client.TransferOfferOutput
	okJSON(t, &offer, "", "domains", "transfer", "out", glued, "--to", other.Tenant.ID)
	if offer.Password == "" || offer.Operation.StatusFlag != "PENDING_ACCEPTANCE" {
		t.Fatalf("transfer out: %+v", offer)
	}
	r := waymark(t, "", asOther, "domains", "transfer", "list", "-o", "json")
	var pending client.TransferList
	if err := json.Unmarshal([]byte(r.stdout), &pending); err != nil || r.code != 0 ||
		!slices.ContainsFunc(pending.Transfers, func(p client.PendingTransfer) bool {
			return p.Domain == glued+"." && p.Direction == client.TransferInFromAccount
		}) {
		t.Errorf("the receiver's pending transfers: %+v %v", r, err)
	}
	if r := waymark(t, "", asOther, "domains", "transfer", "accept", glued, "--password", "wrong"); r.code != 1 || !strings.Contains(r.stderr, "InvalidInput") {
		t.Errorf("accept with a wrong password: %+v", r)
	}
	r = waymark(t, "", asOther, "domains", "transfer", "accept", glued, "--password", offer.Password, "--wait", "-o", "json")
	if err := json.Unmarshal([]byte(r.stdout), &op); err != nil || r.code != 0 || op.Operation.Type != "INTERNAL_TRANSFER_IN_DOMAIN" {
		t.Fatalf("accept: %+v %v", r, err)
	}
	if r := waymark(t, "", asOther, "domains", "get", glued); r.code != 0 {
		t.Errorf("the receiver's domain: %+v", r)
	}
	if r := waymark(t, "", nil, "domains", "get", glued); r.code != 1 || !strings.Contains(r.stderr, "NoSuchDomain") {
		t.Errorf("the giver still has it: %+v", r)
	}
	okJSON(t, &again, "", "domains", "operations", "get", offer.Operation.OperationID)
	if again.Operation.Status != client.OperationSuccessful {
		t.Errorf("the giver's operation: %+v", again)
	}
}
