package e2e

import (
	"context"
	"fmt"
	"github.com/waymark-dns/waymark/internal/testkit"
	"io"
	"net/http"
	"testing"
	"time"
)

// BenchmarkColdStart measures a nameserver's cold start from the control
// plane's snapshot of 1,000,000 record sets (1,000 zones of 1,000 A
// records, written straight into the schema): the snapshot download alone,
// and start-to-ready of a whole nameserver (download, decode, build).
//
// Run with: go test ./internal/e2e/ -run '^$' -bench ColdStart -benchtime 1x
func BenchmarkColdStart(b *testing.B) {
	const zones, perZone = 1000, 1000
	c := newCluster(b, clusterConfig{})
	ctx := context.Background()
	if _, err := c.pool.Exec(ctx, `
		INSERT INTO delegation_set (id, tenant_id, name_servers) VALUES ('NCOLD', $1, '{ns1.waymark.test.,ns2.waymark.test.}')`,
		c.tenant); err != nil {
		b.Fatal(err)
	}
	if _, err := c.pool.Exec(ctx, `
		INSERT INTO hosted_zone (id, tenant_id, name, caller_reference, version, delegation_set_id)
		SELECT 'ZCOLD' || z, $1, 'cold' || z || '.com.', 'cold' || z, 1, 'NCOLD' FROM generate_series(1, $2) z`,
		c.tenant, zones); err != nil {
		b.Fatal(err)
	}
	if _, err := c.pool.Exec(ctx, `
		INSERT INTO rrset (zone_id, sort_name, name, type, ttl, records, rdata, updated_version)
		SELECT 'ZCOLD' || z, 'com.cold' || z || '.apex', 'cold' || z || '.com.', t.type, 900, t.v, t.v, 1
		  FROM generate_series(1, $1) z,
		       (VALUES ('SOA', '["ns1.waymark.test. hostmaster.waymark.test. 1 7200 900 1209600 86400"]'::jsonb),
		               ('NS', '["ns1.waymark.test.", "ns2.waymark.test."]'::jsonb)) AS t(type, v)`, zones); err != nil {
		b.Fatal(err)
	}
	if _, err := c.pool.Exec(ctx, `
		INSERT INTO rrset (zone_id, sort_name, name, type, ttl, records, rdata, updated_version)
		SELECT 'ZCOLD' || z, 'com.cold' || z || '.h' || r, 'h' || r || '.cold' || z || '.com.', 'A', 60,
		       jsonb_build_array('10.' || (r / 256) || '.' || (r % 256) || '.1'),
		       jsonb_build_array('10.' || (r / 256) || '.' || (r % 256) || '.1'), 1
		  FROM generate_series(1, $1) z, generate_series(1, $2) r`, zones, perZone-2); err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for i := range b.N {
		start := time.Now()
		req, _ := http.NewRequest(http.MethodGet, c.api.URL+"/v1/nameserver/snapshot", nil)
		req.Header.Set("Authorization", "Bearer "+adminToken)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			b.Fatal(err)
		}
		n, err := io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if err != nil || resp.StatusCode != http.StatusOK {
			b.Fatalf("snapshot: %d, %v", resp.StatusCode, err)
		}
		download := time.Since(start)

		start = time.Now()
		ns := c.startNameserver(fmt.Sprintf("cold%d", i), "eu", "")
		testkit.Eventually(b, 5*time.Minute, func() error {
			if !ns.node.Ready() {
				return fmt.Errorf("not ready")
			}
			return nil
		})
		ready := time.Since(start)
		if got := ns.node.Store().Len(); got != zones {
			b.Fatalf("got %d zones, want %d", got, zones)
		}
		ns.stop()
		b.ReportMetric(float64(n)/1e6, "snapshot-MB")
		b.ReportMetric(download.Seconds(), "download-s")
		b.ReportMetric(ready.Seconds(), "ready-s")
	}
}
