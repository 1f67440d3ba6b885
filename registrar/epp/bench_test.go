package epp

import (
	"context"
	"testing"
)

// BenchmarkCheckPerSession: domain checks of one name, one after another
// on one TLS session (EPP allows one command in flight per session), over
// the in-memory registry: the protocol layer's own cost.
func BenchmarkCheckPerSession(b *testing.B) {
	r := newRig(b, nil)
	c := r.login(b, "reg-a")
	ctx := context.Background()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := c.CheckDomains(ctx, "bench.test"); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "checks/s")
}
