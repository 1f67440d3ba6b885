package regepp_test

import (
	"context"
	"testing"
	"time"

	"github.com/waymark-dns/waymark/registrar/epp"
)

// BenchmarkEPPCheckPerSession: domain checks, one command after another
// on one logged-in TLS session (EPP has one command in flight per
// session), against our EPP server over the built-in registry on
// PostgreSQL (make bench). Each check names one domain, alternately
// available and registered. Reported: checks per second per session.
func BenchmarkEPPCheckPerSession(b *testing.B) {
	t0 := time.Date(2027, 1, 10, 12, 0, 0, 0, time.UTC)
	w := newEPPWorld(b, func() time.Time { return t0 })
	ctx := context.Background()
	c := w.dial(w.certA)
	if err := c.Login(ctx, "reg-a", "secret-a", ""); err != nil {
		b.Fatal(err)
	}
	if err := c.CreateContact(ctx, epp.Contact{ID: "jd1", Email: "jd@example.test", AuthInfo: "2fooBAR!",
		Postal: []epp.Postal{{Type: "int", Name: "J Doe", City: "Oslo", CC: "NO"}}}); err != nil {
		b.Fatal(err)
	}
	if _, _, err := c.CreateDomain(ctx, epp.DomainCreate{Name: "taken.wmk", Years: 1, Registrant: "jd1", AuthInfo: "2fooBAR!"}); err != nil {
		b.Fatal(err)
	}
	names := []string{"taken.wmk", "free.wmk"}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		checks, err := c.CheckDomains(ctx, names[i%2])
		if err != nil {
			b.Fatal(err)
		}
		if len(checks) != 1 || checks[0].Avail != (i%2 == 1) {
			b.Fatalf("check %s = %+v", names[i%2], checks)
		}
	}
	b.StopTimer()
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "checks/s")
}
