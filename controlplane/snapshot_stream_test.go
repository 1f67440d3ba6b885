package controlplane

import (
	"context"
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/waymark-dns/waymark/event"
)

// TestIntegrationWriteSnapshotStreams checks the streamed snapshot (rows
// copied into JSON as they arrive) against Snapshot (zones materialised
// and decoded): the same zones, record sets and fields, including zones
// without record sets between and after zones with them, routing fields,
// alias targets and health checks.
func TestIntegrationWriteSnapshotStreams(t *testing.T) {
	t.Parallel()
	e := newPropEnv(t)
	ctx := context.Background()
	e.createZone(t, "ZSB", "sb.test.")
	e.createZone(t, "ZSD", "sd.test.")
	e.upsert(t, "ZSB", "www.sb.test.", "192.0.2.1")
	e.upsert(t, "ZSB", "mail.sb.test.", "192.0.2.2")
	for _, id := range []string{"ZSA", "ZSC", "ZSE"} {
		if _, err := e.svc.pool.Exec(ctx,
			`INSERT INTO delegation_set (id, tenant_id, name_servers) VALUES ('N' || $1, $2, '{ns1.waymark.test.}')`,
			id, e.tenant); err != nil {
			t.Fatal(err)
		}
		if _, err := e.svc.pool.Exec(ctx,
			`INSERT INTO hosted_zone (id, tenant_id, name, caller_reference, version, delegation_set_id)
			 VALUES ($1, $2, lower($1) || '.test.', $1, 3, 'N' || $1)`,
			id, e.tenant); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := e.svc.pool.Exec(ctx,
		`UPDATE rrset SET routing = '{"weight": 5}', health_check_id = 'H1', set_identifier = 'w',
		        alias_target = '{"hosted_zone_id": "ZSB", "dns_name": "sb.test.", "evaluate_target_health": true}'
		  WHERE zone_id = 'ZSB' AND name = 'www.sb.test.'`); err != nil {
		t.Fatal(err)
	}
	snap, err := e.svc.Snapshot(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var sb strings.Builder
	if err := e.svc.WriteSnapshot(ctx, &sb); err != nil {
		t.Fatal(err)
	}
	var streamed event.Snapshot
	if err := json.Unmarshal([]byte(sb.String()), &streamed); err != nil {
		t.Fatalf("WriteSnapshot wrote bad JSON: %v\n%s", err, sb.String())
	}
	// Snapshot puts zones without record sets last; the stream writes
	// every zone in id order.
	byID := func(s event.Snapshot) map[string]string {
		m := map[string]string{}
		for _, z := range s.Zones {
			b, _ := json.Marshal(z)
			m[z.ID] = string(b)
		}
		return m
	}
	if a, b := byID(snap), byID(streamed); len(a) != 5 || !reflect.DeepEqual(a, b) || snap.Seq != streamed.Seq {
		t.Fatalf("WriteSnapshot and Snapshot differ:\n%v\n%v", a, b)
	}
	var ids []string
	for _, z := range streamed.Zones {
		ids = append(ids, z.ID)
	}
	if got := strings.Join(ids, ","); got != "ZSA,ZSB,ZSC,ZSD,ZSE" {
		t.Fatalf("got zones %s, want ZSA..ZSE in order", got)
	}
	if n := len(streamed.Zones[1].RRSets); n != 3 {
		t.Fatalf("got %d record sets in ZSB, want SOA, www and mail", n)
	}
	for _, rs := range streamed.Zones[1].RRSets {
		if rs.Name == "www.sb.test." && (rs.Weight == nil || *rs.Weight != 5 || rs.HealthCheckID != "H1" || rs.SetIdentifier != "w" || rs.Alias == nil) {
			t.Fatalf("got %+v, want weight 5, set w, health check H1 and the alias target", rs)
		}
	}
}

// failingWriter fails once it has been given more than limit bytes.
type failingWriter struct {
	n, limit int
	sb       strings.Builder
}

var errWriterFull = errors.New("writer full")

func (w *failingWriter) Write(p []byte) (int, error) {
	if w.n+len(p) > w.limit {
		return 0, errWriterFull
	}
	w.n += len(p)
	return w.sb.Write(p)
}

// TestIntegrationWriteSnapshotFailsUnterminated checks that a snapshot
// whose writer fails part-way reports the error and leaves what it wrote
// unterminated, so that no reader takes it for a complete snapshot.
func TestIntegrationWriteSnapshotFailsUnterminated(t *testing.T) {
	t.Parallel()
	e := newPropEnv(t)
	ctx := context.Background()
	e.createZone(t, "ZBIG", "big.test.")
	if _, err := e.svc.pool.Exec(ctx, `
		INSERT INTO rrset (zone_id, sort_name, name, type, ttl, records, rdata, updated_version)
		SELECT 'ZBIG', 'test.big.h' || r || '.', 'h' || r || '.big.test.', 'A', 60,
		       '["192.0.2.1"]', '["192.0.2.1"]', 1
		  FROM generate_series(1, 20000) r`); err != nil {
		t.Fatal(err)
	}
	w := &failingWriter{limit: 300 << 10}
	if err := e.svc.WriteSnapshot(ctx, w); !errors.Is(err, errWriterFull) {
		t.Fatalf("got %v, want the writer's error", err)
	}
	var snap event.Snapshot
	if err := json.Unmarshal([]byte(w.sb.String()), &snap); err == nil {
		t.Fatal("a snapshot cut short decodes as JSON")
	}
	var full strings.Builder
	if err := e.svc.WriteSnapshot(ctx, &full); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal([]byte(full.String()), &snap); err != nil || len(snap.Zones) != 1 || len(snap.Zones[0].RRSets) != 20001 {
		t.Fatalf("full snapshot: %v, %d zones", err, len(snap.Zones))
	}
}
