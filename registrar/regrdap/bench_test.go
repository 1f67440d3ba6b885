package regrdap_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"slices"
	"testing"
	"time"

	wrdap "github.com/waymark-dns/waymark/registrar/rdap"
	"github.com/waymark-dns/waymark/registrar/registry"
	"github.com/waymark-dns/waymark/registrar/regrdap"
)

// BenchmarkRDAPDomain: GET /domain/{name} over real HTTP on loopback
// against the built-in registry on PostgreSQL (make bench): 1,000
// domains, each with a contact, a host with glue and a DS, looked up in
// turn by one client. Reported: lookups per second and the p50 and p99
// latency.
func BenchmarkRDAPDomain(b *testing.B) {
	const n = 1000
	r := open(b)
	ctx := context.Background()
	if _, err := r.Do(ctx, func(ctx context.Context, tx *registry.Tx) error {
		tx.Batch()
		if _, err := tx.CreateContact(ctx, "waymark", "jd1", registry.ContactInfo{Name: "J Doe", City: "Oslo", CountryCode: "NO", Email: "jd@example.test"}); err != nil {
			return err
		}
		for i := range n {
			name := fmt.Sprintf("d%04d.wmk", i)
			if _, err := tx.CreateDomain(ctx, "waymark", registry.DomainCreate{Name: name, Years: 1, Registrant: "jd1", Tech: "jd1"}); err != nil {
				return err
			}
			if err := tx.CreateHost(ctx, "waymark", "ns1."+name, []netip.Addr{netip.MustParseAddr("192.0.2.53")}); err != nil {
				return err
			}
			if err := tx.SetNameservers(ctx, "waymark", name, []string{"ns1." + name, "ns.other.example."}); err != nil {
				return err
			}
			if err := tx.AddDS(ctx, "waymark", name, []registry.DS{{KeyTag: uint16(i), Algorithm: 13, DigestType: 2, Digest: fmt.Sprintf("%064X", i)}}); err != nil {
				return err
			}
		}
		return tx.Flush(ctx)
	}); err != nil {
		b.Fatal(err)
	}
	mux := http.NewServeMux()
	srv := httptest.NewServer(mux)
	defer srv.Close()
	mux.Handle("/rdap/", http.StripPrefix("/rdap", &wrdap.Handler{Source: &regrdap.Source{Registry: r}, BaseURL: srv.URL + "/rdap"}))
	c := srv.Client()
	lat := make([]time.Duration, 0, b.N)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		start := time.Now()
		res, err := c.Get(fmt.Sprintf("%s/rdap/domain/d%04d.wmk", srv.URL, i%n))
		if err != nil {
			b.Fatal(err)
		}
		_, _ = io.Copy(io.Discard, res.Body)
		res.Body.Close()
		if res.StatusCode != http.StatusOK {
			b.Fatalf("status %d", res.StatusCode)
		}
		lat = append(lat, time.Since(start))
	}
	b.StopTimer()
	slices.Sort(lat)
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "lookups/s")
	b.ReportMetric(float64(lat[len(lat)/2].Microseconds()), "p50-µs")
	b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds()), "p99-µs")
}
