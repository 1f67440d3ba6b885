package route53domains

import (
	"testing"

	"github.com/waymark-dns/waymark/registrar"
)

// TestAWSCode: modeled codes pass through, an unreachable external
// registry is TLDInMaintenance, and the rest are InvalidInput.
func TestAWSCode(t *testing.T) {
	for _, tc := range []struct {
		in   registrar.Code
		want string
	}{
		{registrar.CodeUnsupportedTLD, "UnsupportedTLD"},
		{registrar.CodeDuplicateRequest, "DuplicateRequest"},
		{registrar.CodeRegistryUnavailable, "TLDInMaintenance"},
		{registrar.CodeNoSuchDomain, "InvalidInput"},
		{registrar.CodeNoSuchTLD, "InvalidInput"},
	} {
		if got := awsCode(tc.in); got != tc.want {
			t.Errorf("awsCode(%s) = %s, want %s", tc.in, got, tc.want)
		}
	}
}
