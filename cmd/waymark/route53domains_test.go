package main

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestDevRoute53DomainsEndpoint: with nothing but dev.env's variables
// (AWS_ENDPOINT_URL_ROUTE_53_DOMAINS, the key pair, the region), the AWS
// CLI reaches `waymark dev`'s Route 53 Domains API and its built-in
// registry for test., without --endpoint-url.
func TestDevRoute53DomainsEndpoint(t *testing.T) {
	t.Parallel()
	bin, err := exec.LookPath("aws")
	if err != nil {
		t.Fatalf("the AWS CLI is required (Debian package awscli, listed in .ci/apt.d/i11.txt): %v", err)
	}
	if dev.Env["AWS_ENDPOINT_URL_ROUTE_53_DOMAINS"] != dev.Env["WAYMARK_API"] {
		t.Fatalf("dev.env: AWS_ENDPOINT_URL_ROUTE_53_DOMAINS=%q, WAYMARK_API=%q", dev.Env["AWS_ENDPOINT_URL_ROUTE_53_DOMAINS"], dev.Env["WAYMARK_API"])
	}
	home := t.TempDir()
	env := []string{"HOME=" + home, "PATH=" + os.Getenv("PATH"), "AWS_PAGER=",
		"AWS_CONFIG_FILE=" + filepath.Join(home, "config"), "AWS_SHARED_CREDENTIALS_FILE=" + filepath.Join(home, "credentials")}
	for k, v := range dev.Env {
		if strings.HasPrefix(k, "AWS_") {
			env = append(env, k+"="+v)
		}
	}
	cmd := exec.Command(bin, "route53domains", "check-domain-availability", "--domain-name", "free-name.test", "--output", "json")
	cmd.Env = env
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("aws route53domains check-domain-availability: %v\n%s", err, out)
	}
	var av struct{ Availability string }
	if err := json.Unmarshal(out, &av); err != nil || av.Availability != "AVAILABLE" {
		t.Fatalf("check-domain-availability: %s (%v)", out, err)
	}
}
