package healthcheck

import (
	"os/exec"
	"strings"
	"testing"
)

// TestImportRules keeps the checker free of the database and the control
// plane (STYLE.md §2.1): a checker process never opens PostgreSQL.
func TestImportRules(t *testing.T) {
	t.Parallel()
	out, err := exec.Command("go", "list", "-deps", ".").CombinedOutput()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, out)
	}
	for _, dep := range strings.Fields(string(out)) {
		for _, banned := range []string{"github.com/jackc/pgx", "github.com/waymark-dns/waymark/controlplane",
			"github.com/waymark-dns/waymark/dataplane", "github.com/waymark-dns/waymark/api", "github.com/go-chi/chi"} {
			if strings.HasPrefix(dep, banned) {
				t.Errorf("healthcheck depends on %s", dep)
			}
		}
	}
}
