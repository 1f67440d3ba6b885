package controlplane

import (
	"bytes"
	"context"
	"io"
	"strings"
	"testing"

	"github.com/miekg/dns"
)

// exportText is ExportZone into a string.
func exportText(ctx context.Context, s *Service, tenantID, zoneID string) (string, error) {
	var b strings.Builder
	err := s.ExportZone(ctx, tenantID, zoneID, &b)
	return b.String(), err
}

// seedBigZone adds n A record sets h0 … h(n-1) to a zone straight in the
// table (a change batch of thousands is slow and not what is tested).
func seedBigZone(t testing.TB, e zoneEnv, zoneID, zoneName string, n int) {
	t.Helper()
	if _, err := e.pool.Exec(context.Background(), `
		INSERT INTO rrset (zone_id, sort_name, name, type, ttl, records, rdata, updated_version)
		SELECT $1, $2::text || 'h' || i || '.', 'h' || i || '.' || $3::text, 'A', 60, '["192.0.2.1"]', '["192.0.2.1"]', 1
		FROM generate_series(0, $4::int - 1) i`, zoneID, reverseName(zoneName), zoneName, n); err != nil {
		t.Fatal(err)
	}
}

// reverseName is zonecfg.SortKey for a plain name.
func reverseName(name string) string {
	labels := dns.SplitDomainName(name)
	var b strings.Builder
	for i := len(labels) - 1; i >= 0; i-- {
		b.WriteString(labels[i] + ".")
	}
	return b.String()
}

// changeOnWrite applies a change batch to the zone at its first write,
// while the export is between pages.
type changeOnWrite struct {
	t       *testing.T
	e       zoneEnv
	tenant  string
	zoneID  string
	changed bool
	buf     bytes.Buffer
}

func (c *changeOnWrite) Write(p []byte) (int, error) {
	if !c.changed {
		c.changed = true
		if _, err := c.e.s.ChangeRRSets(context.Background(), c.tenant, c.zoneID,
			ChangeBatch{Changes: []RRSetChange{rrs(ActionCreate, "new.big.example", "A", 60, "192.0.2.9")}}); err != nil {
			c.t.Errorf("ChangeRRSets: %v", err)
		}
	}
	return c.buf.Write(p)
}

func TestIntegrationExportZoneStreamsPages(t *testing.T) {
	t.Parallel()
	e := newZoneEnv(t)
	ctx := context.Background()
	tenant := testTenant(t, e.pool)
	z := e.mustZone(t, tenant, "big.example")
	const n = 7*exportPageSets + 3 // several pages and a short last one
	seedBigZone(t, e, z.ID, "big.example.", n)

	for _, tc := range []struct {
		name  string
		extra int // record sets added so that the last page is empty or not
	}{
		{"short last page", 0},
		{"pages exactly full", exportPageSets - 3 - 2}, // 8 full pages, SOA and NS among the rows: the last read is empty
	} {
		t.Run(tc.name, func(t *testing.T) {
			if tc.extra > 0 {
				seedBigZoneFrom(t, e, z.ID, "big.example.", n, tc.extra)
			}
			text, err := exportText(ctx, e.s, tenant, z.ID)
			if err != nil {
				t.Fatal(err)
			}
			zp := dns.NewZoneParser(strings.NewReader(text), "", "")
			var a, soa, ns int
			first := ""
			for rr, ok := zp.Next(); ok; rr, ok = zp.Next() {
				if first == "" {
					first = dns.TypeToString[rr.Header().Rrtype]
				}
				switch rr.(type) {
				case *dns.A:
					a++
				case *dns.SOA:
					soa++
				case *dns.NS:
					ns++
				}
			}
			if err := zp.Err(); err != nil {
				t.Fatal(err)
			}
			if a != n+tc.extra || soa != 1 || ns != 4 || first != "SOA" {
				t.Errorf("export has %d A (want %d), %d SOA, %d NS, first %s", a, n+tc.extra, soa, ns, first)
			}
		})
	}
}

// seedBigZoneFrom adds n more A sets after the first from.
func seedBigZoneFrom(t *testing.T, e zoneEnv, zoneID, zoneName string, from, n int) {
	t.Helper()
	if _, err := e.pool.Exec(context.Background(), `
		INSERT INTO rrset (zone_id, sort_name, name, type, ttl, records, rdata, updated_version)
		SELECT $1, $2::text || 'x' || i || '.', 'x' || i || '.' || $3::text, 'A', 60, '["192.0.2.1"]', '["192.0.2.1"]', 1
		FROM generate_series($4::int, $4::int + $5::int - 1) i`, zoneID, reverseName(zoneName), zoneName, from, n); err != nil {
		t.Fatal(err)
	}
}

func TestIntegrationExportZoneChangedMidway(t *testing.T) {
	t.Parallel()
	e := newZoneEnv(t)
	ctx := context.Background()
	tenant := testTenant(t, e.pool)
	z := e.mustZone(t, tenant, "big.example")
	// Enough for the 64 KiB buffer to reach the writer before the last page.
	seedBigZone(t, e, z.ID, "big.example.", 6000)

	w := &changeOnWrite{t: t, e: e, tenant: tenant, zoneID: z.ID}
	err := e.s.ExportZone(ctx, tenant, z.ID, w)
	wantErr(t, err, CodePriorRequestNotComplete)
	if w.buf.Len() == 0 || strings.Contains(w.buf.String(), "new.big.example") {
		t.Errorf("wrote %d bytes before failing", w.buf.Len())
	}
	// Once nothing changes, the export goes through and has the new set.
	text, err := exportText(ctx, e.s, tenant, z.ID)
	if err != nil || !strings.Contains(text, "new.big.example.\t60\tIN\tA\t192.0.2.9") {
		t.Fatalf("export after the change: %v", err)
	}
}

// BenchmarkExportZone measures one export of a zone of 20,000 A record
// sets (41 pages) into io.Discard: the Go side's time and allocations per
// export; the pool connection is held only for each page's query and row
// copy (the record data is decoded after it).
func BenchmarkExportZone(b *testing.B) {
	e := newZoneEnv(b)
	ctx := context.Background()
	tenant := testTenant(b, e.pool)
	z := e.mustZone(b, tenant, "big.example")
	seedBigZone(b, e, z.ID, "big.example.", 20000)
	b.ReportAllocs()
	for b.Loop() {
		if err := e.s.ExportZone(ctx, tenant, z.ID, io.Discard); err != nil {
			b.Fatal(err)
		}
	}
}
