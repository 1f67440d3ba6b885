package route53_test

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestIntegrationAWSCLI runs the AWS CLI (Debian's awscli, which .ci/run
// installs from .ci/apt.d/i11.txt) against the server with --endpoint-url:
// create a zone, change records, `aws route53 wait
// resource-record-sets-changed`, list, delete. The CLI is botocore: it
// signs with only host;x-amz-date, sends …/rrset/ with a trailing slash
// and no Content-Type. Without the CLI the test fails; it does not skip.
func TestIntegrationAWSCLI(t *testing.T) {
	t.Parallel()
	bin, err := exec.LookPath("aws")
	if err != nil {
		t.Fatalf("the AWS CLI is required (Debian package awscli, listed in .ci/apt.d/i11.txt): %v", err)
	}
	s := newServer(t, serverOptions{})
	_, keyID, secret := s.tenant("cli")
	home := t.TempDir()
	env := []string{
		"HOME=" + home, "PATH=" + os.Getenv("PATH"),
		"AWS_ACCESS_KEY_ID=" + keyID, "AWS_SECRET_ACCESS_KEY=" + secret,
		"AWS_DEFAULT_REGION=us-east-1", "AWS_REGION=us-east-1", "AWS_EC2_METADATA_DISABLED=true",
		"AWS_CONFIG_FILE=" + filepath.Join(home, "config"), "AWS_SHARED_CREDENTIALS_FILE=" + filepath.Join(home, "credentials"),
		"AWS_PAGER=", "AWS_MAX_ATTEMPTS=3",
	}
	if v := os.Getenv("PYENV_ROOT"); v != "" {
		env = append(env, "PYENV_ROOT="+v)
	}
	aws := func(out any, args ...string) {
		t.Helper()
		cmd := exec.Command(bin, append(append([]string{"route53"}, args...), "--endpoint-url", s.http.URL, "--output", "json")...)
		cmd.Env = env
		b, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("aws route53 %s: %v\n%s", strings.Join(args, " "), err, b)
		}
		if out != nil {
			if err := json.Unmarshal(b, out); err != nil {
				t.Fatalf("aws route53 %s: %v\n%s", args[0], err, b)
			}
		}
	}
	if v, err := exec.Command(bin, "--version").CombinedOutput(); err == nil {
		t.Logf("%s", strings.TrimSpace(string(v)))
	}

	var zone struct {
		HostedZone    struct{ Id, Name string }
		ChangeInfo    struct{ Id, Status string }
		DelegationSet struct{ NameServers []string }
	}
	aws(&zone, "create-hosted-zone", "--name", "cli.test", "--caller-reference", "cli-1")
	if zone.HostedZone.Name != "cli.test." || len(zone.DelegationSet.NameServers) != 4 {
		t.Fatalf("create-hosted-zone: %+v", zone)
	}
	batch := filepath.Join(home, "batch.json")
	write := func(action string) {
		b := `{"Comment":"cli","Changes":[
		  {"Action":"` + action + `","ResourceRecordSet":{"Name":"_acme-challenge.cli.test.","Type":"TXT","TTL":60,"ResourceRecords":[{"Value":"\"tok en\""}]}},
		  {"Action":"` + action + `","ResourceRecordSet":{"Name":"*.cli.test","Type":"A","TTL":300,"ResourceRecords":[{"Value":"192.0.2.1"}]}},
		  {"Action":"` + action + `","ResourceRecordSet":{"Name":"w.cli.test","Type":"A","SetIdentifier":"one","Weight":5,"TTL":60,"ResourceRecords":[{"Value":"192.0.2.2"}]}}]}`
		if err := os.WriteFile(batch, []byte(b), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	write("UPSERT")
	var change struct {
		ChangeInfo struct{ Id, Status, Comment string }
	}
	aws(&change, "change-resource-record-sets", "--hosted-zone-id", zone.HostedZone.Id, "--change-batch", "file://"+batch)
	if !strings.HasPrefix(change.ChangeInfo.Id, "/change/") || change.ChangeInfo.Comment != "cli" {
		t.Fatalf("change-resource-record-sets: %+v", change)
	}
	aws(nil, "wait", "resource-record-sets-changed", "--id", change.ChangeInfo.Id)
	var got struct{ ChangeInfo struct{ Status string } }
	aws(&got, "get-change", "--id", change.ChangeInfo.Id)
	if got.ChangeInfo.Status != "INSYNC" {
		t.Fatalf("after wait: %+v", got)
	}

	var list struct {
		ResourceRecordSets []struct {
			Name, Type, SetIdentifier string
			Weight                    *int
			ResourceRecords           []struct{ Value string }
		}
	}
	aws(&list, "list-resource-record-sets", "--hosted-zone-id", zone.HostedZone.Id)
	var names []string
	for _, rs := range list.ResourceRecordSets {
		names = append(names, rs.Name+" "+rs.Type)
		if rs.Type == "TXT" && rs.ResourceRecords[0].Value != `"tok en"` {
			t.Fatalf("TXT value %q", rs.ResourceRecords[0].Value)
		}
		if rs.SetIdentifier == "one" && (rs.Weight == nil || *rs.Weight != 5) {
			t.Fatalf("weighted set %+v", rs)
		}
	}
	want := "cli.test. NS,cli.test. SOA,\\052.cli.test. A,_acme-challenge.cli.test. TXT,w.cli.test. A"
	if strings.Join(names, ",") != want {
		t.Fatalf("list-resource-record-sets: %s, want %s", strings.Join(names, ","), want)
	}
	var zones struct{ HostedZones []struct{ Id string } }
	aws(&zones, "list-hosted-zones")
	if len(zones.HostedZones) != 1 || zones.HostedZones[0].Id != zone.HostedZone.Id {
		t.Fatalf("list-hosted-zones: %+v", zones)
	}

	write("DELETE")
	aws(&change, "change-resource-record-sets", "--hosted-zone-id", zone.HostedZone.Id, "--change-batch", "file://"+batch)
	var del struct{ ChangeInfo struct{ Id string } }
	aws(&del, "delete-hosted-zone", "--id", zone.HostedZone.Id)
	aws(nil, "wait", "resource-record-sets-changed", "--id", del.ChangeInfo.Id)
	aws(&zones, "list-hosted-zones")
	if len(zones.HostedZones) != 0 {
		t.Fatalf("after delete: %+v", zones)
	}
}
