package route53domains_test

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/waymark-dns/waymark/internal/testkit"
)

// TestIntegrationAWSCLI runs the AWS CLI (Debian's awscli, which .ci/run
// installs from .ci/apt.d/i11.txt) against the server with
// --endpoint-url: check-domain-availability, register-domain,
// get-operation-detail until SUCCESSFUL, list-operations, and a refused
// request. The CLI is botocore: its own JSON serializer and signer.
// Without the CLI the test fails; it does not skip.
func TestIntegrationAWSCLI(t *testing.T) {
	t.Parallel()
	bin, err := exec.LookPath("aws")
	if err != nil {
		t.Fatalf("the AWS CLI is required (Debian package awscli, listed in .ci/apt.d/i11.txt): %v", err)
	}
	s := newServer(t)
	_, keyID, secret := s.tenant("cli")
	home := t.TempDir()
	env := []string{
		"HOME=" + home, "PATH=" + os.Getenv("PATH"),
		"AWS_ACCESS_KEY_ID=" + keyID, "AWS_SECRET_ACCESS_KEY=" + secret,
		"AWS_DEFAULT_REGION=us-east-1", "AWS_REGION=us-east-1", "AWS_EC2_METADATA_DISABLED=true",
		"AWS_CONFIG_FILE=" + filepath.Join(home, "config"), "AWS_SHARED_CREDENTIALS_FILE=" + filepath.Join(home, "credentials"),
		"AWS_PAGER=", "AWS_MAX_ATTEMPTS=3",
	}
	run := func(args ...string) ([]byte, error) {
		cmd := exec.Command(bin, append(append([]string{"route53domains"}, args...), "--endpoint-url", s.http.URL, "--output", "json")...)
		cmd.Env = env
		return cmd.CombinedOutput()
	}
	aws := func(out any, args ...string) {
		t.Helper()
		b, err := run(args...)
		if err != nil {
			t.Fatalf("aws route53domains %s: %v\n%s", strings.Join(args, " "), err, b)
		}
		if out != nil {
			if err := json.Unmarshal(b, out); err != nil {
				t.Fatalf("aws route53domains %s: %v\n%s", args[0], err, b)
			}
		}
	}
	if v, err := exec.Command(bin, "--version").CombinedOutput(); err == nil {
		t.Logf("%s", strings.TrimSpace(string(v)))
	}

	var av struct{ Availability string }
	aws(&av, "check-domain-availability", "--domain-name", "cli.wmk")
	if av.Availability != "AVAILABLE" {
		t.Fatalf("check-domain-availability: %+v", av)
	}
	c := `{"FirstName":"Cli","LastName":"User","ContactType":"PERSON","AddressLine1":"1 Main St","City":"Springfield","CountryCode":"US","ZipCode":"12345","PhoneNumber":"+1.5555550100","Email":"cli@example.com"}`
	file := filepath.Join(home, "contact.json")
	if err := os.WriteFile(file, []byte(c), 0o600); err != nil {
		t.Fatal(err)
	}
	var reg struct{ OperationId string }
	aws(&reg, "register-domain", "--domain-name", "cli.wmk", "--duration-in-years", "1",
		"--admin-contact", "file://"+file, "--registrant-contact", "file://"+file, "--tech-contact", "file://"+file,
		"--no-auto-renew")
	if reg.OperationId == "" {
		t.Fatalf("register-domain: %+v", reg)
	}
	var op struct{ OperationId, Status, DomainName, Type string }
	testkit.Eventually(t, 15*time.Second, func() error {
		aws(&op, "get-operation-detail", "--operation-id", reg.OperationId)
		if op.Status != "SUCCESSFUL" {
			return &statusError{op.Status}
		}
		return nil
	})
	if op.DomainName != "cli.wmk" || op.Type != "REGISTER_DOMAIN" {
		t.Fatalf("get-operation-detail: %+v", op)
	}
	var list struct {
		Operations []struct{ OperationId, Status string }
	}
	aws(&list, "list-operations")
	if len(list.Operations) != 1 || list.Operations[0].OperationId != reg.OperationId {
		t.Fatalf("list-operations: %+v", list)
	}
	// A refusal: the CLI prints the AWS code and exits non-zero.
	b, err := run("renew-domain", "--domain-name", "cli.wmk", "--current-expiry-year", "1999")
	if err == nil || !strings.Contains(string(b), "InvalidInput") {
		t.Fatalf("renew-domain with a wrong year: %v\n%s", err, b)
	}
}

type statusError struct{ status string }

func (e *statusError) Error() string { return "status " + e.status }
