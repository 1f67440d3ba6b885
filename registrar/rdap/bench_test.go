package rdap

import (
	"io"
	"slices"
	"testing"
	"time"
)

// BenchmarkDomainLookup: GET /domain/{name} over real HTTP on loopback,
// from a map source (the handler's own cost), reporting the p99.
func BenchmarkDomainLookup(b *testing.B) {
	srv := newServer(b)
	defer srv.Close()
	c := srv.Client()
	lat := make([]time.Duration, 0, b.N)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		start := time.Now()
		res, err := c.Get(srv.URL + "/rdap/domain/example.test")
		if err != nil {
			b.Fatal(err)
		}
		_, _ = io.Copy(io.Discard, res.Body)
		res.Body.Close()
		lat = append(lat, time.Since(start))
	}
	slices.Sort(lat)
	b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds()), "p99-µs")
}
