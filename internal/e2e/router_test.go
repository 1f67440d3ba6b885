package e2e

import (
	"net/http"
	"testing"
)

// TestIntegrationClusterServesEveryRouteGroup checks that the cluster's API
// is production's route table: the health check and CIDR collection
// endpoints are there as much as zones and the fleet view.
func TestIntegrationClusterServesEveryRouteGroup(t *testing.T) {
	t.Parallel()
	c := newCluster(t, clusterConfig{})
	for _, tc := range []struct{ path, token string }{
		{"/v1/hostedzones", c.token},
		{"/v1/healthchecks", c.token},
		{"/v1/cidrcollections", c.token},
		{"/v1/apikeys", c.token},
		{"/v1/nameservers", adminToken},
	} {
		var body map[string]any
		if got := c.apiGet(tc.path, tc.token, &body); got != http.StatusOK {
			t.Errorf("GET %s: status %d, want 200", tc.path, got)
		}
	}
}
