package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"
	"github.com/waymark-dns/waymark/internal/devserver"
	"github.com/waymark-dns/waymark/internal/testkit"
)

// The tests of the tenant command line build the real binary, run `waymark
// dev` from it (API, NATS, a nameserver, health checkers, on a fresh
// schema) and run the binary's commands against it with the environment
// that `source .waymark/dev.env` gives.
var (
	waymarkBin string
	dev        *devserver.Server
)

func TestMain(m *testing.M) { os.Exit(runTests(m)) }

func runTests(m *testing.M) int {
	ctx := context.Background()
	dir, err := os.MkdirTemp("", "waymark-cli-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(dir)
	if waymarkBin, err = devserver.Build(ctx, dir); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	if dev, err = devserver.Start(ctx, devserver.Options{Binary: waymarkBin}); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer dev.Close()
	code := m.Run()
	if code != 0 {
		out := dev.Output()
		fmt.Fprintf(os.Stderr, "--- waymark dev output (last 8 KB):\n%s\n", out[max(0, len(out)-8192):])
	}
	return code
}

// result is what one run of the binary did.
type result struct {
	stdout, stderr string
	code           int
}

// waymark runs the binary with dev.env's variables (and extra ones, which
// win), stdin as its input.
func waymark(t *testing.T, stdin string, extraEnv []string, args ...string) result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, waymarkBin, args...)
	cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + t.TempDir()}
	for k, v := range dev.Env {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	cmd.Env = append(cmd.Env, extraEnv...)
	cmd.Stdin = strings.NewReader(stdin)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	code := 0
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatalf("waymark %v: %v", args, err)
	}
	return result{stdout: out.String(), stderr: errb.String(), code: code}
}

// ok runs a command that must succeed and returns its standard output.
func ok(t *testing.T, stdin string, args ...string) string {
	t.Helper()
	r := waymark(t, stdin, nil, args...)
	if r.code != 0 {
		t.Fatalf("waymark %s: exit %d\nstdout: %s\nstderr: %s", strings.Join(args, " "), r.code, r.stdout, r.stderr)
	}
	return r.stdout
}

// okJSON runs a command with -o json and decodes its output into v.
func okJSON(t *testing.T, v any, stdin string, args ...string) {
	t.Helper()
	out := ok(t, stdin, append(args, "-o", "json")...)
	if err := json.Unmarshal([]byte(out), v); err != nil {
		t.Fatalf("waymark %s -o json: %v\n%s", strings.Join(args, " "), err, out)
	}
}

type changeJSON struct {
	Change struct {
		ID     string `json:"id"`
		Status string `json:"status"`
	} `json:"change"`
	Propagation *struct {
		Live    int `json:"live_nameservers"`
		Applied int `json:"applied_nameservers"`
	} `json:"propagation"`
}

// digA asks the dev nameserver for name's A records (none for NXDOMAIN).
func digA(t *testing.T, name string) []string {
	t.Helper()
	m := new(dns.Msg)
	m.SetQuestion(dns.Fqdn(name), dns.TypeA)
	m.RecursionDesired = false
	r, _, err := (&dns.Client{Timeout: 2 * time.Second}).Exchange(m, dev.DNS)
	if err != nil {
		t.Fatalf("dig %s: %v", name, err)
	}
	if !r.Authoritative || r.Rcode != dns.RcodeSuccess && r.Rcode != dns.RcodeNameError {
		t.Fatalf("dig %s: %s", name, r)
	}
	var out []string
	for _, rr := range r.Answer {
		if a, ok := rr.(*dns.A); ok {
			out = append(out, a.A.String())
		}
	}
	slices.Sort(out)
	return out
}

// TestCLIQuickstart is README's quickstart with waymark commands only:
// create a zone, add records in change batches, wait for INSYNC, ask the
// nameserver, list, export and import; then the rest of the commands.
func TestCLIQuickstart(t *testing.T) {
	// Create a hosted zone.
	var zone struct {
		HostedZone struct {
			ID, Name string
		} `json:"hosted_zone"`
		DelegationSet struct {
			NameServers []string `json:"name_servers"`
		} `json:"delegation_set"`
	}
	okJSON(t, &zone, "", "zones", "create", "example.com", "--comment", "quickstart")
	if zone.HostedZone.Name != "example.com." || !strings.HasPrefix(zone.HostedZone.ID, "Z") || len(zone.DelegationSet.NameServers) == 0 {
		t.Fatalf("zones create: %+v", zone)
	}

	// Add records in one atomic change batch, from standard input, and
	// wait until every nameserver has it.
	batch := `{"comment":"first records","changes":[
  {"action":"CREATE","rrset":{"name":"www.example.com","type":"A","ttl":300,"records":["192.0.2.10","192.0.2.11"]}},
  {"action":"CREATE","rrset":{"name":"example.com","type":"MX","ttl":3600,"records":["10 mail.example.com."]}},
  {"action":"CREATE","rrset":{"name":"mail.example.com","type":"A","ttl":300,"records":["192.0.2.25"]}}]}`
	var ch changeJSON
	okJSON(t, &ch, batch, "changes", "submit", "example.com", "-", "--wait")
	if ch.Change.Status != "INSYNC" || ch.Propagation == nil || ch.Propagation.Live < 1 || ch.Propagation.Applied != ch.Propagation.Live {
		t.Fatalf("changes submit --wait: %+v %+v", ch.Change, ch.Propagation)
	}
	if got := digA(t, "www.example.com"); !slices.Equal(got, []string{"192.0.2.10", "192.0.2.11"}) {
		t.Errorf("dig www.example.com: %v", got)
	}

	// One record set at a time; the change waited for by changes wait.
	okJSON(t, &ch, "", "records", "set", "example.com", "api", "CNAME", "www.example.com.", "--ttl", "60", "--comment", "api alias")
	var waited changeJSON
	okJSON(t, &waited, "", "changes", "wait", ch.Change.ID)
	if waited.Change.ID != ch.Change.ID || waited.Change.Status != "INSYNC" {
		t.Errorf("changes wait: %+v", waited)
	}
	var got changeJSON
	okJSON(t, &got, "", "changes", "get", ch.Change.ID)
	if got.Change.Status != "INSYNC" || got.Propagation == nil {
		t.Errorf("changes get: %+v", got)
	}
	if table := ok(t, "", "changes", "get", ch.Change.ID); !strings.Contains(table, "INSYNC") || !strings.Contains(table, "api alias") {
		t.Errorf("changes get table:\n%s", table)
	}
	ok(t, "", "records", "set", "example.com", "www.example.com", "A", "192.0.2.10", "192.0.2.11", "--ttl", "300", "--wait")

	// List the record sets (Route 53 order) and export the zone.
	var rrsets []struct {
		Name, Type string
		Records    []string
	}
	okJSON(t, &rrsets, "", "records", "list", "example.com", "--page-size", "2")
	var names []string
	for _, rs := range rrsets {
		names = append(names, rs.Name+" "+rs.Type)
	}
	want := []string{"example.com. MX", "example.com. NS", "example.com. SOA", "api.example.com. CNAME", "mail.example.com. A", "www.example.com. A"}
	if !slices.Equal(names, want) {
		t.Errorf("records list: %v, want %v", names, want)
	}
	okJSON(t, &rrsets, "", "records", "list", "example.com", "--start-name", "mail", "--start-type", "a")
	if len(rrsets) != 2 || rrsets[0].Name != "mail.example.com." || rrsets[1].Name != "www.example.com." {
		t.Errorf("records list --start-name mail: %+v", rrsets)
	}
	table := ok(t, "", "records", "list", zone.HostedZone.ID)
	if !strings.Contains(table, "www.example.com.") || !strings.Contains(table, "192.0.2.10, 192.0.2.11") || !strings.HasPrefix(table, "NAME") {
		t.Errorf("records list table:\n%s", table)
	}
	exported := ok(t, "", "zones", "export", "example.com")
	if !strings.Contains(exported, "www.example.com.") || !strings.Contains(exported, "SOA") {
		t.Errorf("zones export:\n%s", exported)
	}

	// Import a master file as one change batch, waited for.
	file := filepath.Join(t.TempDir(), "example.com.zone")
	if err := os.WriteFile(file, []byte(exported+"shop.example.com. 300 IN A 192.0.2.30\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	okJSON(t, &ch, "", "zones", "import", "example.com", file, "--wait")
	if ch.Change.Status != "INSYNC" {
		t.Errorf("zones import --wait: %+v", ch.Change)
	}
	if got := digA(t, "shop.example.com"); !slices.Equal(got, []string{"192.0.2.30"}) {
		t.Errorf("dig shop.example.com after the import: %v", got)
	}

	// What the nameserver answers, and why.
	var ans struct {
		ResponseCode string `json:"response_code"`
		Records      []struct{ Data string }
		Explanation  []string
	}
	okJSON(t, &ans, "", "test-answer", "example.com", "www", "A", "--client-ip", "198.51.100.7")
	if ans.ResponseCode != "NOERROR" || len(ans.Records) != 2 || len(ans.Explanation) == 0 {
		t.Errorf("test-answer: %+v", ans)
	}
	if out := ok(t, "", "test-answer", "example.com", "www", "A"); !strings.Contains(out, "NOERROR") || !strings.Contains(out, "why:") {
		t.Errorf("test-answer table:\n%s", out)
	}

	// Delete a record set (as it is now), then the others, then the zone.
	okJSON(t, &ch, "", "records", "delete", "example.com", "shop", "A", "--wait")
	if ch.Change.Status != "INSYNC" {
		t.Errorf("records delete --wait: %+v", ch.Change)
	}
	if got := digA(t, "shop.example.com"); len(got) != 0 {
		t.Errorf("dig shop.example.com after the delete: %v", got)
	}
	r := waymark(t, "", nil, "zones", "delete", "example.com")
	if r.code != 1 || !strings.Contains(r.stderr, "HostedZoneNotEmpty") {
		t.Errorf("zones delete of a full zone: %+v", r)
	}
	for _, rs := range [][]string{{"www", "A"}, {"@", "MX"}, {"mail", "A"}, {"api", "CNAME"}} {
		ok(t, "", "records", "delete", "example.com", rs[0], rs[1])
	}
	okJSON(t, &ch, "", "zones", "delete", zone.HostedZone.ID, "--wait")
	if ch.Change.Status != "INSYNC" {
		t.Errorf("zones delete --wait: %+v", ch.Change)
	}
	r = waymark(t, "", nil, "zones", "get", "example.com")
	if r.code != 1 || !strings.Contains(r.stderr, "NoSuchHostedZone") {
		t.Errorf("zones get of a deleted zone: %+v", r)
	}
}

// TestCLISubmitIdempotencyKey: a submit run twice with one
// --idempotency-key is one change; without a key the second run is a new
// batch, refused.
func TestCLISubmitIdempotencyKey(t *testing.T) {
	zone := "idem-" + strconv.FormatInt(time.Now().UnixNano(), 36) + ".test"
	ok(t, "", "zones", "create", zone)
	batch := `{"changes":[{"action":"CREATE","rrset":{"name":"once.` + zone + `","type":"TXT","ttl":60,"records":["\"once\""]}}]}`
	key := "cli-" + zone
	var first, second changeJSON
	okJSON(t, &first, batch, "changes", "submit", zone, "-", "--idempotency-key", key)
	okJSON(t, &second, batch, "changes", "submit", zone, "-", "--idempotency-key", key)
	if first.Change.ID == "" || second.Change.ID != first.Change.ID {
		t.Errorf("submit twice with one key: changes %q and %q, want one", first.Change.ID, second.Change.ID)
	}
	if r := waymark(t, batch, nil, "changes", "submit", zone, "-"); r.code != 1 || !strings.Contains(r.stderr, "already exists") {
		t.Errorf("submit again without the key: exit %d, %s", r.code, r.stderr)
	}
}

// TestCLIZonesListGet lists and gets zones as tables and JSON, by id and
// by name.
func TestCLIZonesListGet(t *testing.T) {
	suffix := strconv.FormatInt(time.Now().UnixNano(), 36)
	var ids []string
	for _, n := range []string{"list-a-" + suffix + ".test", "list-b-" + suffix + ".test"} {
		var z struct {
			HostedZone struct{ ID string } `json:"hosted_zone"`
		}
		okJSON(t, &z, "", "zones", "create", n)
		ids = append(ids, z.HostedZone.ID)
	}
	var zones []struct{ ID, Name string }
	okJSON(t, &zones, "", "zones", "list", "--page-size", "1")
	var found int
	for _, z := range zones {
		if slices.Contains(ids, z.ID) {
			found++
		}
	}
	if found != 2 {
		t.Errorf("zones list -o json lacks the new zones: %+v", zones)
	}
	if table := ok(t, "", "zones", "list"); !strings.Contains(table, "list-a-"+suffix+".test.") || !strings.HasPrefix(table, "ID") {
		t.Errorf("zones list:\n%s", table)
	}
	if out := ok(t, "", "zones", "update", ids[1], "--comment", "second zone"); !strings.Contains(out, "second zone") {
		t.Errorf("zones update:\n%s", out)
	}
	byName := ok(t, "", "zones", "get", "LIST-A-"+suffix+".test.")
	byID := ok(t, "", "zones", "get", ids[0])
	if byName != byID || !strings.Contains(byID, "NAME SERVERS") {
		t.Errorf("zones get by name:\n%s\nby id:\n%s", byName, byID)
	}
}

// TestCLIFailures: failures exit non-zero with the API's code and
// message on stderr, and nothing on stdout.
func TestCLIFailures(t *testing.T) {
	suffix := strconv.FormatInt(time.Now().UnixNano(), 36)
	zone := "fail-" + suffix + ".test"
	ok(t, "", "zones", "create", zone)
	ok(t, "", "records", "set", zone, "www", "A", "192.0.2.1")
	ok(t, "", "records", "set", zone, "@", "TXT", "v=spf1 -all") // quoted for us
	type rrset struct {
		Type    string
		Records []string
	}
	var rrsets []rrset
	okJSON(t, &rrsets, "", "records", "list", zone)
	if !slices.ContainsFunc(rrsets, func(rs rrset) bool { return rs.Type == "TXT" && slices.Equal(rs.Records, []string{`"v=spf1 -all"`}) }) {
		t.Errorf("records list after an unquoted TXT: %+v", rrsets)
	}
	badFile := filepath.Join(t.TempDir(), "bad.zone")
	if err := os.WriteFile(badFile, []byte("$ORIGIN "+zone+".\nok 300 IN A 192.0.2.9\nbad 300 IN A not-an-ip\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name   string
		env    []string
		stdin  string
		args   []string
		code   int
		stderr []string
	}{
		{"no such zone by name", nil, "", []string{"zones", "get", "nosuch-" + suffix + ".test"}, 1, []string{"waymark: NoSuchHostedZone:"}},
		{"no such zone by id", nil, "", []string{"zones", "get", "ZNOSUCH"}, 1, []string{"waymark: NoSuchHostedZone:", "HTTP 404", "request id"}},
		{"bad record value", nil, "", []string{"records", "set", zone, "www", "A", "not-an-address"}, 1, []string{"InvalidChangeBatch", "change 0"}},
		{"a CREATE that exists", nil, `{"changes":[{"action":"CREATE","rrset":{"name":"www.` + zone + `","type":"A","ttl":300,"records":["192.0.2.1"]}}]}`,
			[]string{"changes", "submit", zone, "-"}, 1, []string{"InvalidChangeBatch", "change 0"}},
		{"not a change batch", nil, `{"changez":[]}`, []string{"changes", "submit", zone, "-"}, 1, []string{"not a change batch"}},
		{"import with a bad line", nil, "", []string{"zones", "import", zone, badFile}, 1, []string{"InvalidInput", "line 3"}},
		{"missing file", nil, "", []string{"zones", "import", zone, "/no/such/file"}, 1, []string{"no such file"}},
		{"delete a missing record set", nil, "", []string{"records", "delete", zone, "nothing", "A"}, 1, []string{"NoSuchRRSet"}},
		{"no such change", nil, "", []string{"changes", "get", "CNOSUCH"}, 1, []string{"NoSuchChange"}},
		{"no such health check", nil, "", []string{"healthchecks", "get", "00000000-0000-0000-0000-000000000000"}, 1, []string{"NoSuchHealthCheck"}},
		{"bad token", []string{"WAYMARK_API_KEY=wmk_bad_bad"}, "", []string{"zones", "list"}, 1, []string{"Unauthorized"}},
		{"bad token by flag", nil, "", []string{"zones", "list", "--api-key", "wmk_bad_bad"}, 1, []string{"Unauthorized", "HTTP 401"}},
		{"nothing listening", nil, "", []string{"zones", "list", "--api", "http://127.0.0.1:1"}, 1, []string{"listHostedZones", "connection refused"}},
		{"tenant token for the fleet", []string{"WAYMARK_ADMIN_TOKEN="}, "", []string{"nameservers", "list"}, 1, []string{"Forbidden"}},
		{"no API set", []string{"WAYMARK_API="}, "", []string{"zones", "list"}, 1, []string{"WAYMARK_API is not set"}},
		{"unknown command", nil, "", []string{"zones", "frobnicate"}, 2, []string{`unknown command "frobnicate"`}},
		{"missing arguments", nil, "", []string{"records", "set", zone, "www"}, 2, []string{"takes ZONE NAME TYPE VALUE…", "usage:"}},
		{"unknown flag", nil, "", []string{"zones", "list", "--bogus"}, 2, []string{"-bogus", "usage:"}},
		{"bad output", nil, "", []string{"zones", "list", "-o", "yaml"}, 2, []string{"-o must be table or json"}},
		{"bad shell", nil, "", []string{"completion", "tcsh"}, 2, []string{"no completion for \"tcsh\""}},
		{"group without command", nil, "", []string{"records"}, 2, []string{"usage: waymark records <command>"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := waymark(t, tt.stdin, tt.env, tt.args...)
			if r.code != tt.code {
				t.Errorf("exit %d, want %d\nstderr: %s", r.code, tt.code, r.stderr)
			}
			for _, s := range tt.stderr {
				if !strings.Contains(r.stderr, s) {
					t.Errorf("stderr lacks %q:\n%s", s, r.stderr)
				}
			}
			if r.stdout != "" {
				t.Errorf("stdout: %s", r.stdout)
			}
		})
	}
}

// TestCLIHelp: --help on every command and group prints its usage to
// stdout and exits 0.
func TestCLIHelp(t *testing.T) {
	out := ok(t, "", "--help")
	var groups []string
	for _, g := range []string{"zones", "records", "changes", "healthchecks", "keys", "nameservers", "test-answer", "cidr", "domains", "completion"} {
		if !strings.Contains(out, "  "+g+" ") {
			t.Errorf("waymark --help lacks %s:\n%s", g, out)
		}
		groups = append(groups, g)
	}
	leaves := map[string][]string{
		"zones": {"list", "create", "get", "update", "delete", "export", "import"}, "records": {"list", "set", "delete"},
		"changes": {"get", "wait", "submit"}, "healthchecks": {"list", "create", "get", "update", "delete", "status", "history"},
		"keys": {"list", "create", "delete", "token"}, "nameservers": {"list"},
		"cidr":    {"list", "create", "get", "delete", "put", "remove", "blocks"},
		"domains": {"check", "register", "list", "get", "renew", "nameservers", "authcode", "verification", "verify"},
	}
	for _, g := range groups {
		gh := ok(t, "", g, "--help")
		if !strings.HasPrefix(gh, "usage: waymark "+g) {
			t.Errorf("waymark %s --help:\n%s", g, gh)
		}
		for _, l := range leaves[g] {
			lh := ok(t, "", g, l, "--help")
			if !strings.HasPrefix(lh, "usage: waymark "+g+" "+l) || !strings.Contains(lh, "-o string") {
				t.Errorf("waymark %s %s --help:\n%s", g, l, lh)
			}
		}
	}
	// The server roles still answer as before.
	if r := waymark(t, "", nil, "migrate", "-h"); !strings.Contains(r.stderr, "usage: waymark migrate") {
		t.Errorf("waymark migrate -h: %+v", r)
	}
}

// TestCLICompletion: the scripts parse in their shells, and __complete
// offers commands, flags, zone names and record types.
func TestCLICompletion(t *testing.T) {
	for _, sh := range []string{"bash", "zsh", "fish"} {
		script := ok(t, "", "completion", sh)
		if !strings.Contains(script, "waymark __complete") {
			t.Errorf("completion %s:\n%s", sh, script)
		}
		if path, err := exec.LookPath(sh); err == nil {
			check := exec.Command(path, "-n")
			check.Stdin = strings.NewReader(script)
			if out, err := check.CombinedOutput(); err != nil {
				t.Errorf("%s -n: %v\n%s", sh, err, out)
			}
		}
	}
	zone := "complete-" + strconv.FormatInt(time.Now().UnixNano(), 36) + ".test"
	ok(t, "", "zones", "create", zone)
	cases := []struct {
		words []string
		want  []string
	}{
		{nil, []string{"zones", "records", "completion", "dev", "api", "migrate"}},
		{[]string{"zones"}, []string{"list", "create", "import"}},
		{[]string{"records", "set"}, []string{zone, "--ttl", "--wait", "-o"}},
		{[]string{"records", "set", zone, "www"}, []string{"A", "AAAA", "MX", "TXT"}},
		{[]string{"records", "set", "--ttl", "60", zone, "www"}, []string{"A", "CNAME"}},
		{[]string{"completion"}, []string{"bash", "zsh", "fish"}},
	}
	for _, c := range cases {
		out := ok(t, "", append([]string{"__complete"}, c.words...)...)
		lines := strings.Split(strings.TrimSpace(out), "\n")
		for _, w := range c.want {
			if !slices.Contains(lines, w) {
				t.Errorf("__complete %v lacks %q: %v", c.words, w, lines)
			}
		}
	}
	// The bash function, driven as bash would.
	script := ok(t, "", "completion", "bash")
	bash := exec.Command("bash", "-c", script+`
COMP_WORDS=(waymark zones cr); COMP_CWORD=2; _waymark; echo "${COMPREPLY[@]}"`)
	bash.Env = append(os.Environ(), "PATH="+filepath.Dir(waymarkBin)+":"+os.Getenv("PATH"))
	if out, err := bash.Output(); err != nil || strings.TrimSpace(string(out)) != "create" {
		t.Errorf("bash completion of 'waymark zones cr': %q, %v", out, err)
	}
}

// TestCLIHealthChecksKeysNameservers covers the other command groups:
// health checks, keys, CIDR collections and the fleet.
func TestCLIHealthChecksKeysNameservers(t *testing.T) {
	target := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write([]byte("ok")) }))
	t.Cleanup(target.Close)
	addr := target.Listener.Addr().String()
	host, port, _ := strings.Cut(addr, ":")
	var hc struct {
		HealthCheck struct{ ID, Status string } `json:"health_check"`
	}
	okJSON(t, &hc, "", "healthchecks", "create", "--type", "http", "--ip", host, "--port", port, "--path", "/", "--interval", "1", "--failure-threshold", "1")
	id := hc.HealthCheck.ID
	if id == "" {
		t.Fatalf("healthchecks create: %+v", hc)
	}
	if out := ok(t, "", "healthchecks", "list"); !strings.Contains(out, id) || !strings.Contains(out, addr+"/") {
		t.Errorf("healthchecks list:\n%s", out)
	}
	if out := ok(t, "", "healthchecks", "get", id); !strings.Contains(out, "HTTP") {
		t.Errorf("healthchecks get:\n%s", out)
	}
	var upd struct {
		HealthCheck struct {
			Version int64
			Config  struct {
				FailureThreshold int    `json:"failure_threshold"`
				ResourcePath     string `json:"resource_path"`
			}
		} `json:"health_check"`
	}
	okJSON(t, &upd, "", "healthchecks", "update", id, "--version", "1", "--failure-threshold", "2")
	if upd.HealthCheck.Version != 2 || upd.HealthCheck.Config.FailureThreshold != 2 || upd.HealthCheck.Config.ResourcePath != "/" {
		t.Errorf("healthchecks update: %+v", upd)
	}
	if r := waymark(t, "", nil, "healthchecks", "update", id, "--version", "1", "--failure-threshold", "1"); r.code != 1 || !strings.Contains(r.stderr, "HealthCheckVersionMismatch") {
		t.Errorf("healthchecks update at a stale version: %+v", r)
	}
	testkit.Eventually(t, time.Minute, func() error {
		var st struct {
			Status   string
			Checkers []struct{ Region, Status string }
		}
		okJSON(t, &st, "", "healthchecks", "status", id)
		if st.Status != "HEALTHY" || len(st.Checkers) != 3 {
			return fmt.Errorf("want three healthy observations, got %+v", st)
		}
		return nil
	})
	if out := ok(t, "", "healthchecks", "status", id); !strings.Contains(out, "REGION") || !strings.Contains(out, "eu-west-1") {
		t.Errorf("healthchecks status:\n%s", out)
	}
	var hist []struct{ Status string }
	okJSON(t, &hist, "", "healthchecks", "history", id)
	ok(t, "", "healthchecks", "delete", id)
	if r := waymark(t, "", nil, "healthchecks", "get", id); r.code != 1 || !strings.Contains(r.stderr, "NoSuchHealthCheck") {
		t.Errorf("healthchecks get after delete: %+v", r)
	}

	var key struct {
		APIKey struct{ ID, Token string } `json:"api_key"`
	}
	okJSON(t, &key, "", "keys", "create", "--description", "ci")
	if !strings.HasPrefix(key.APIKey.Token, "wmk_") {
		t.Fatalf("keys create: %+v", key)
	}
	if r := waymark(t, "", []string{"WAYMARK_API_KEY=" + key.APIKey.Token}, "keys", "list"); r.code != 0 || !strings.Contains(r.stdout, "ci") {
		t.Errorf("keys list with the new key: %+v", r)
	}
	var tok struct {
		Token     string
		TokenType string `json:"token_type"`
	}
	okJSON(t, &tok, "", "keys", "token")
	if tok.TokenType != "Bearer" {
		t.Errorf("keys token: %+v", tok)
	}
	if r := waymark(t, "", []string{"WAYMARK_API_KEY=" + tok.Token}, "zones", "list"); r.code != 0 {
		t.Errorf("zones list with a JWT from keys token: %+v", r)
	}
	ok(t, "", "keys", "delete", key.APIKey.ID)
	if r := waymark(t, "", []string{"WAYMARK_API_KEY=" + key.APIKey.Token}, "keys", "list"); r.code != 1 || !strings.Contains(r.stderr, "Unauthorized") {
		t.Errorf("a deleted key: %+v", r)
	}

	var cc struct {
		Collection struct{ ID string } `json:"collection"`
	}
	okJSON(t, &cc, "", "cidr", "create", "offices")
	var cch struct {
		Collection struct{ Version int64 } `json:"collection"`
	}
	okJSON(t, &cch, "", "cidr", "put", cc.Collection.ID, "paris", "192.0.2.0/24", "2001:db8::/48")
	okJSON(t, &cch, "", "cidr", "remove", cc.Collection.ID, "paris", "2001:db8::/48", "--version", strconv.FormatInt(cch.Collection.Version, 10))
	if out := ok(t, "", "cidr", "blocks", cc.Collection.ID); !strings.Contains(out, "192.0.2.0/24") || strings.Contains(out, "2001:db8::/48") {
		t.Errorf("cidr blocks:\n%s", out)
	}
	if out := ok(t, "", "cidr", "get", cc.Collection.ID); !strings.Contains(out, "paris") {
		t.Errorf("cidr get:\n%s", out)
	}
	if out := ok(t, "", "cidr", "list"); !strings.Contains(out, "offices") {
		t.Errorf("cidr list:\n%s", out)
	}
	if r := waymark(t, "", nil, "cidr", "put", cc.Collection.ID, "paris", "198.51.100.0/24", "--version", "1"); r.code != 1 || !strings.Contains(r.stderr, "CidrCollectionVersionMismatch") {
		t.Errorf("cidr put at a stale version: %+v", r)
	}
	ok(t, "", "cidr", "delete", cc.Collection.ID)

	var fleet []struct {
		Region string
		Live   bool
	}
	okJSON(t, &fleet, "", "nameservers", "list")
	if len(fleet) != 1 || fleet[0].Region != "us-east-1" || !fleet[0].Live {
		t.Errorf("nameservers list: %+v", fleet)
	}
}

// TestCLIProgressOnATerminal runs `records set --wait` on a pseudo-terminal
// (script(1)): stderr gets the progress line, drawn and erased; the same
// command with stderr not a terminal writes nothing there.
func TestCLIProgressOnATerminal(t *testing.T) {
	zone := "tty-" + strconv.FormatInt(time.Now().UnixNano(), 36) + ".test"
	ok(t, "", "zones", "create", zone)
	script, err := exec.LookPath("script")
	if err != nil {
		t.Fatalf("script(1) is needed (Debian: bsdutils): %v", err)
	}
	cmd := exec.Command(script, "-qec", waymarkBin+" records set "+zone+" www A 192.0.2.1 --wait", "/dev/null")
	for k, v := range dev.Env {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	cmd.Env = append(cmd.Env, "PATH="+os.Getenv("PATH"), "TERM=dumb")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("script: %v\n%s", err, out)
	}
	if s := string(out); !strings.Contains(s, "waiting for C") || !strings.Contains(s, "\r\033[K") || !strings.Contains(s, "INSYNC") {
		t.Errorf("on a terminal:\n%q", s)
	}
	r := waymark(t, "", nil, "records", "set", zone, "www", "A", "192.0.2.2", "--wait")
	if r.code != 0 || r.stderr != "" || !strings.Contains(r.stdout, "INSYNC") {
		t.Errorf("not on a terminal: %+v", r)
	}
}
