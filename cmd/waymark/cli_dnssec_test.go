package main

import (
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestCLIDNSSEC signs a zone from the command line against `waymark dev`,
// waits for it, reads the DS to give the registrar, and takes it apart
// again.
func TestCLIDNSSEC(t *testing.T) {
	zone := "signed-" + strconv.FormatInt(time.Now().UnixNano(), 36) + ".test"
	ok(t, "", "zones", "create", zone)
	ok(t, "", "dnssec", "enable", zone, "--wait")
	var info struct {
		Status struct {
			ServeSignature string `json:"serve_signature"`
		}
		KeySigningKeys []struct {
			Name     string
			DSRecord string `json:"ds_record"`
		} `json:"key_signing_keys"`
	}
	okJSON(t, &info, "", "dnssec", "get", zone)
	if info.Status.ServeSignature != "SIGNING" || len(info.KeySigningKeys) != 1 || !strings.Contains(info.KeySigningKeys[0].DSRecord, " 13 2 ") {
		t.Fatalf("dnssec get: %+v", info)
	}
	if table := ok(t, "", "dnssec", "get", zone); !strings.Contains(table, info.KeySigningKeys[0].DSRecord) || !strings.Contains(table, "ZSK") {
		t.Errorf("dnssec get table:\n%s", table)
	}
	ok(t, "", "dnssec", "ksk-create", zone, "second_key", "--status", "INACTIVE")
	ok(t, "", "dnssec", "zsk-rollover", zone)
	ok(t, "", "dnssec", "disable", zone, "--wait")
	ok(t, "", "dnssec", "ksk-deactivate", zone, info.KeySigningKeys[0].Name)
	ok(t, "", "dnssec", "ksk-delete", zone, info.KeySigningKeys[0].Name)
	ok(t, "", "dnssec", "ksk-delete", zone, "second_key")
	okJSON(t, &info, "", "dnssec", "get", zone)
	if info.Status.ServeSignature != "NOT_SIGNING" || len(info.KeySigningKeys) != 0 {
		t.Fatalf("after teardown: %+v", info)
	}
	ok(t, "", "zones", "delete", zone)
}
