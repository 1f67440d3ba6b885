package registrar_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/waymark-dns/waymark/registrar"
	"github.com/waymark-dns/waymark/registrar/registry"
)

// BenchmarkLifecycle10k: 10,000 domains of one tenant expire at the same
// instant and one lifecycle pass processes them (make bench; the target
// is 30 s). "expire": without auto-renew, each leaves the TLD zone (its NS
// deleted, in change batches of hundreds); "autorenew": each is renewed
// and charged, with its operation. Reported: the pass's seconds and
// domains per second. Run with -benchtime 1x: each iteration registers
// its own 10,000 domains (not timed).
func BenchmarkLifecycle10k(b *testing.B) {
	for _, autoRenew := range []bool{false, true} {
		name := map[bool]string{false: "expire", true: "autorenew"}[autoRenew]
		b.Run(name, func(b *testing.B) {
			const n = 10000
			w := newWorld(b, "", 60)
			ctx := context.Background()
			tenant := w.tenant(b, "bulk")
			for iter := range b.N {
				b.StopTimer()
				prefix := fmt.Sprintf("b%d-", iter)
				for start := 0; start < n; start += 500 {
					if _, err := w.reg.Do(ctx, func(ctx context.Context, tx *registry.Tx) error {
						tx.Batch()
						for i := start; i < start+500 && i < n; i++ {
							if _, err := tx.CreateDomain(ctx, registrar.RegistrarID, registry.DomainCreate{Name: fmt.Sprintf("%s%05d.wmk", prefix, i),
								Nameservers: []string{"ns1.elsewhere.example", "ns2.elsewhere.example"}}); err != nil {
								return err
							}
						}
						return tx.Flush(ctx)
					}); err != nil {
						b.Fatal(err)
					}
				}
				if _, err := w.db.Exec(ctx, `INSERT INTO registrar_domain (name, tenant_id, auto_renew, privacy, contacts, created_at, updated_at)
				        SELECT name, $1, $2, true, '{}', created_at, created_at FROM registry_domain WHERE name LIKE $3`,
					tenant, autoRenew, prefix+"%"); err != nil {
					b.Fatal(err)
				}
				w.advance(6 * day)
				if p := pass(b, w, registrar.LifecycleConfig{}); p.GraceEnded != n {
					b.Fatalf("add grace pass: %+v", p)
				}
				w.advance(360 * day)
				b.StartTimer()
				start := time.Now()
				p := pass(b, w, registrar.LifecycleConfig{})
				el := time.Since(start)
				b.StopTimer()
				if got := p.Expired + p.AutoRenewed; got != n {
					b.Fatalf("pass: %+v, want %d domains", p, n)
				}
				b.ReportMetric(el.Seconds(), "s/pass")
				b.ReportMetric(float64(n)/el.Seconds(), "domains/s")
				b.Logf("%s: %d domains in %v", name, n, el.Round(time.Millisecond))
			}
		})
	}
}
