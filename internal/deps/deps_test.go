// Package deps holds the tests that keep the import rules of DESIGN.md §2
// and docs/decisions.md: the control plane and the data plane meet only in
// zonecfg, healthcfg, event and on the wire, a nameserver or health
// checker never links a database driver, the API never reaches the
// schema (migrations) but through the control plane, and the SDK (client)
// links only the standard library.
package deps

import (
	"os/exec"
	"slices"
	"strings"
	"testing"
)

const module = "github.com/waymark-dns/waymark/"

// rule says what one package may not depend on: Direct lists forbidden
// direct imports, Transitive forbidden dependencies at any depth (by
// prefix).
type rule struct {
	pkg        string
	direct     []string
	transitive []string
}

var rules = []rule{
	{pkg: "zonecfg", transitive: []string{module, "github.com/jackc/", "github.com/go-chi/", "github.com/nats-io/"}},
	{pkg: "healthcfg", transitive: []string{module, "github.com/"}},
	// DNSSEC primitives: keys, sealing, signing; no zones, no storage.
	{pkg: "dnssec", transitive: []string{module, "github.com/jackc/", "github.com/go-chi/", "github.com/nats-io/"}},
	{pkg: "nspool", transitive: []string{module, "github.com/jackc/", "github.com/go-chi/", "github.com/nats-io/"}},
	{pkg: "console", transitive: []string{module, "github.com/"}}, // embedded files and net/http only
	{pkg: "event", transitive: []string{module + "controlplane", module + "dataplane", module + "api", module + "healthcheck", "github.com/jackc/", "github.com/go-chi/"}},
	{pkg: "dataplane", transitive: []string{module + "controlplane", module + "api", module + "healthcheck", module + "migrations", "github.com/jackc/", "github.com/go-chi/"}},
	{pkg: "healthcheck", transitive: []string{module + "controlplane", module + "api", module + "dataplane", module + "migrations", "github.com/jackc/", "github.com/go-chi/"}},
	// The registrar builds on the control plane (controlplane.ZoneTx),
	// never the other way round.
	{pkg: "controlplane", transitive: []string{module + "api", module + "dataplane", module + "healthcheck", module + "registrar", "github.com/go-chi/"}},
	// The SDK is for programs outside Waymark: nothing of the server.
	{pkg: "client", transitive: []string{module}},
	// The tenant command line is a client of the API, through the SDK.
	{pkg: "internal/cli", transitive: []string{module + "controlplane", module + "api", module + "dataplane", module + "healthcheck", module + "migrations", module + "zonecfg", module + "event", "github.com/jackc/", "github.com/nats-io/", "github.com/go-chi/"}},
	{pkg: "api/route53", direct: []string{"github.com/jackc/", "github.com/nats-io/", "github.com/go-chi/", module + "migrations"}, transitive: []string{module + "dataplane", module + "healthcheck", module + "migrations"}},
	{pkg: "api/route53domains", direct: []string{"github.com/jackc/", "github.com/nats-io/", "github.com/go-chi/", module + "migrations"}, transitive: []string{module + "dataplane", module + "healthcheck", module + "migrations"}},
	{pkg: "api", direct: []string{"github.com/jackc/", "github.com/nats-io/", module + "migrations"}, transitive: []string{module + "dataplane", module + "healthcheck", module + "migrations"}},
}

// arrows lists every import allowed between the module's own packages
// (non-test code): the real dependency graph, drawn in one place. A new
// arrow is a design decision; make it here, and keep DESIGN.md true.
var arrows = map[string][]string{
	"zonecfg":         nil,
	"healthcfg":       nil,
	"nspool":          nil,
	"dnssec":          nil,
	"dnssec/parentds": nil,
	"event":           {"healthcfg", "zonecfg"},
	"controlplane":    {"dnssec", "event", "healthcfg", "internal/retry", "nspool", "xfrin", "zonecfg"},
	"api":             {"api/route53", "api/route53domains", "console", "controlplane", "event", "healthcfg", "internal/clock", "registrar", "registrar/registry", "zonecfg"},
	"api/route53":     {"controlplane", "event", "healthcfg", "zonecfg"},
	// The Route 53 Domains front end: the registrar's service, and
	// api/route53 for the one SigV4 verifier.
	"api/route53domains": {"api/route53", "controlplane", "registrar", "registrar/registry"},
	"console":            nil,
	"dataplane":          {"dnssec", "event", "internal/httpcomp", "internal/retry", "nspool", "zonecfg"},
	"healthcheck":        {"event", "healthcfg", "internal/retry"},
	"migrations":         nil,
	"client":             nil,
	"cmd/waymark":        {"api", "controlplane", "dataplane", "dnssec", "dnssec/parentds", "event", "healthcfg", "healthcheck", "internal/cli", "internal/clock", "internal/httpcomp", "internal/metrics", "internal/retry", "migrations", "nspool", "registrar", "registrar/epp", "registrar/rdap", "registrar/regepp", "registrar/regrdap", "registrar/registry"},
	"internal/cli":       {"client"},
	"internal/devserver": {"internal/pgtest", "migrations"},
	"internal/deps":      nil,
	"xfrin":              {"zonecfg"},
	"internal/dnstest":   {"zonecfg"},
	"internal/e2e":       nil,
	"internal/httpcomp":  nil,
	"internal/metrics":   nil,
	"internal/natstest":  {"internal/testkit"},
	"internal/pgtest":    {"migrations"},
	"internal/retry":     nil,
	"internal/clock":     nil,
	"internal/testkit":   nil,
	"bench/cpbench":      {"api", "controlplane", "migrations"},
	"bench/cpabuse":      {"api", "controlplane", "migrations", "zonecfg"},
	"bench/nsbench":      {"dataplane", "dnssec", "event", "internal/dnstest", "zonecfg"},
	"bench/nsmem":        {"dataplane"},
	"bench/qlogbench":    {"dataplane", "event", "zonecfg"},
	"bench/nsprod":       {"controlplane", "dnssec", "migrations", "zonecfg"},
	"bench/xfrbench":     {"dataplane", "dnssec", "event", "zonecfg"},
	"bench/mkgeoip":      nil,
	"bench/abuse":        nil,
	"registrar/epp":      nil,
	"registrar/rdap":     nil,
	"registrar/registry": {"controlplane", "nspool", "zonecfg"},
	// The registrar sells external registries' TLDs through the EPP client.
	"registrar":         {"controlplane", "internal/clock", "internal/retry", "registrar/epp", "registrar/registry", "zonecfg"},
	"registrar/regrdap": {"registrar/rdap", "registrar/registry"},
	"registrar/regepp":  {"registrar/epp", "registrar/registry"},
	// A second registry over EPP/TLS with its own database, for tests.
	"registrar/regepp/regepptest": {"controlplane", "internal/pgtest", "internal/testkit", "nspool", "registrar", "registrar/epp", "registrar/regepp", "registrar/registry"},

	// The process harness: pgtest for the schema, migrations for the database.
	"internal/fleet":          {"internal/pgtest", "migrations"},
	"internal/fleet/fleetup":  {"internal/fleet"},
	"internal/fleet/natsnode": nil,
}

// TestArrows checks every package's imports of the module against arrows,
// and that every package of the module is listed there.
func TestArrows(t *testing.T) {
	t.Parallel()
	out, err := exec.Command("go", "list", "-f", `{{.ImportPath}} {{join .Imports " "}}`, "../../...").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		f := strings.Fields(line)
		pkg := strings.TrimPrefix(f[0], module)
		allowed, known := arrows[pkg]
		if !known {
			t.Errorf("package %s is not in arrows: list the packages it may import", pkg)
			continue
		}
		for _, imp := range f[1:] {
			if dep, ok := strings.CutPrefix(imp, module); ok && !slices.Contains(allowed, dep) {
				t.Errorf("%s imports %s, an arrow not in arrows", pkg, dep)
			}
		}
	}
}

func goList(t *testing.T, format, pkg string, deps bool) []string {
	t.Helper()
	args := []string{"list", "-f", format}
	if deps {
		args = append(args, "-deps")
	}
	out, err := exec.Command("go", append(args, "../../"+pkg)...).Output()
	if err != nil {
		t.Fatalf("go list %s: %v", pkg, err)
	}
	return strings.Fields(string(out))
}

func TestImportRules(t *testing.T) {
	t.Parallel()
	for _, r := range rules {
		t.Run(r.pkg, func(t *testing.T) {
			t.Parallel()
			direct := goList(t, `{{join .Imports " "}}`, r.pkg, false)
			all := goList(t, `{{.ImportPath}}`, r.pkg, true)
			check := func(kind string, got, forbidden []string) {
				for _, p := range got {
					if p == module+r.pkg {
						continue
					}
					for _, f := range forbidden {
						if strings.HasPrefix(p, f) {
							t.Errorf("%s %s: %s", kind, r.pkg, p)
						}
					}
				}
			}
			check("imports", direct, r.direct)
			check("depends on", all, r.transitive)
		})
	}
}

// TestClientStandardLibraryOnly keeps the SDK free of third-party
// modules, so that importing it adds nothing to a program's go.mod.
func TestClientStandardLibraryOnly(t *testing.T) {
	t.Parallel()
	for _, p := range goList(t, `{{if not .Standard}}{{.ImportPath}}{{end}}`, "client", true) {
		if p != module+"client" {
			t.Errorf("client depends on %s", p)
		}
	}
}
