// Package deps holds the test that keeps the import rules of DESIGN.md §2
// and docs/decisions.md: the control plane and the data plane meet only in
// zonecfg, healthcfg, event and on the wire, and a nameserver or health checker never
// links a database driver.
package deps

import (
	"os/exec"
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
	{pkg: "event", transitive: []string{module + "controlplane", module + "dataplane", module + "api", module + "healthcheck", "github.com/jackc/", "github.com/go-chi/"}},
	{pkg: "dataplane", transitive: []string{module + "controlplane", module + "api", module + "healthcheck", module + "migrations", "github.com/jackc/", "github.com/go-chi/"}},
	{pkg: "healthcheck", transitive: []string{module + "controlplane", module + "api", module + "dataplane", module + "migrations", "github.com/jackc/", "github.com/go-chi/"}},
	{pkg: "controlplane", transitive: []string{module + "api", module + "dataplane", module + "healthcheck", "github.com/go-chi/"}},
	{pkg: "api", direct: []string{"github.com/jackc/", "github.com/nats-io/"}, transitive: []string{module + "dataplane", module + "healthcheck"}},
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
