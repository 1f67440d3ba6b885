package e2e

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"
)

// BenchmarkPropagation measures submit → INSYNC over b.N sequential
// single-record changes with three nameservers (three regions), all in
// this process. Two latencies are reported:
//
//   - client: from the start of the ChangeRRSets call to the moment the
//     change row reads INSYNC (polled every 500 µs, outside the product code);
//   - server: the change's insync_at − submitted_at, as stored;
//   - submit: the ChangeRRSets call alone (validation and commit).
//
// Run with: go test ./internal/e2e/ -run '^$' -bench Propagation -benchtime 1000x
func BenchmarkPropagation(b *testing.B) {
	c := newCluster(b, clusterConfig{})
	for i, region := range []string{"eu-west", "us-east", "ap-south"} {
		c.startNameserver(fmt.Sprintf("ns%d", i+1), region, b.TempDir())
	}
	z, create := c.createZone("latency.com.")
	c.waitInSync(create, 20*time.Second)
	ctx := context.Background()
	client := make([]time.Duration, 0, b.N)
	server := make([]time.Duration, 0, b.N)
	submit := make([]time.Duration, 0, b.N)
	b.ResetTimer()
	for i := range b.N {
		start := time.Now()
		ch := c.upsertA(z.ID, "www.latency.com.", fmt.Sprintf("10.0.%d.%d", (i/250)%250, i%250+1))
		submit = append(submit, time.Since(start))
		for {
			var status string
			var sub time.Time
			var insync *time.Time
			if err := c.pool.QueryRow(ctx,
				`SELECT status, submitted_at, insync_at FROM change WHERE id = $1`, ch.ID).
				Scan(&status, &sub, &insync); err != nil {
				b.Fatal(err)
			}
			if status == "INSYNC" {
				client = append(client, time.Since(start))
				server = append(server, insync.Sub(sub))
				break
			}
			if time.Since(start) > 30*time.Second {
				b.Fatalf("change %d not INSYNC after 30s", i)
			}
			time.Sleep(500 * time.Microsecond)
		}
	}
	b.StopTimer()
	report := func(name string, d []time.Duration) {
		slices.Sort(d)
		q := func(p float64) float64 {
			return float64(d[min(len(d)-1, int(p*float64(len(d))))].Microseconds()) / 1000
		}
		b.ReportMetric(q(0.50), name+"-p50-ms")
		b.ReportMetric(q(0.99), name+"-p99-ms")
		b.ReportMetric(float64(d[len(d)-1].Microseconds())/1000, name+"-max-ms")
	}
	report("client", client)
	report("server", server)
	report("submit", submit)
	// The relay's share: commit to recorded publish.
	var p50, p99 float64
	if err := c.pool.QueryRow(ctx,
		`SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY d), percentile_cont(0.99) WITHIN GROUP (ORDER BY d)
		   FROM (SELECT extract(epoch FROM published_at - created_at) * 1000 AS d FROM outbox_event) s`).
		Scan(&p50, &p99); err != nil {
		b.Fatal(err)
	}
	b.ReportMetric(p50, "relay-p50-ms")
	b.ReportMetric(p99, "relay-p99-ms")
}
