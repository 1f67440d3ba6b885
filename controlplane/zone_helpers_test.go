package controlplane

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/waymark-dns/waymark/event"
	"github.com/waymark-dns/waymark/internal/pgtest"
	"github.com/waymark-dns/waymark/zonecfg"
)

// zoneEnv is a Service on a fresh schema, for the zone and record tests.
type zoneEnv struct {
	s    *Service
	pool *pgxpool.Pool
}

// newZoneEnv uses the default pool of eight names with predictable
// delegation sets (a first zone is on ns1 … ns4); opts may change the
// configuration.
func newZoneEnv(t testing.TB, opts ...func(*Config)) zoneEnv {
	t.Helper()
	pool, _ := pgtest.Schema(t)
	cfg := Config{
		MasterKey:       []byte(strings.Repeat("m", 32)),
		JWTKey:          []byte(strings.Repeat("j", 32)),
		PredictableSets: true,
	}
	for _, o := range opts {
		o(&cfg)
	}
	s, err := New(pool, cfg)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return zoneEnv{s: s, pool: pool}
}

var tenantSeq atomic.Int64

// testTenantOpts sets a test tenant's quotas; zero means the default.
type testTenantOpts struct {
	zoneQuota, recordQuota int
}

// testTenant inserts a tenant directly, so that these tests do not depend
// on the tenant API, and returns its id.
func testTenant(t testing.TB, pool *pgxpool.Pool, opts ...testTenantOpts) string {
	t.Helper()
	var o testTenantOpts
	if len(opts) > 0 {
		o = opts[0]
	}
	n := tenantSeq.Add(1)
	id := fmt.Sprintf("TTEST%d", n)
	var zq, rq *int
	if o.zoneQuota > 0 {
		zq = &o.zoneQuota
	}
	if o.recordQuota > 0 {
		rq = &o.recordQuota
	}
	if _, err := pool.Exec(context.Background(),
		`INSERT INTO tenant (id, name, zone_quota, record_quota) VALUES ($1, $2, $3, $4)`,
		id, "tenant-"+id, zq, rq); err != nil {
		t.Fatalf("insert tenant: %v", err)
	}
	return id
}

// mustZone creates a zone and returns it.
func (e zoneEnv) mustZone(t testing.TB, tenant, name string) Zone {
	t.Helper()
	z, _, err := e.s.CreateZone(context.Background(), tenant, CreateZoneInput{Name: name, CallerReference: "ref-" + name + fmt.Sprint(tenantSeq.Add(1))})
	if err != nil {
		t.Fatalf("CreateZone(%s): %v", name, err)
	}
	return z
}

// mustChange applies a batch that must succeed.
func (e zoneEnv) mustChange(t *testing.T, tenant, zoneID string, changes ...RRSetChange) ChangeInfo {
	t.Helper()
	info, err := e.s.ChangeRRSets(context.Background(), tenant, zoneID, ChangeBatch{Changes: changes})
	if err != nil {
		t.Fatalf("ChangeRRSets: %v", err)
	}
	return info
}

// allRRSets lists every record set of a zone through ListRRSets.
func (e zoneEnv) allRRSets(t *testing.T, tenant, zoneID string) []zonecfg.RRSet {
	t.Helper()
	var out []zonecfg.RRSet
	in := ListRRSetsInput{MaxItems: 300}
	for {
		p, err := e.s.ListRRSets(context.Background(), tenant, zoneID, in)
		if err != nil {
			t.Fatalf("ListRRSets: %v", err)
		}
		out = append(out, p.RRSets...)
		if !p.IsTruncated {
			return out
		}
		in = ListRRSetsInput{Name: p.NextName, Type: p.NextType, Identifier: p.NextIdentifier, MaxItems: 300}
	}
}

// count returns the number of rows of a table matching a condition.
func (e zoneEnv) count(t *testing.T, query string, args ...any) int {
	t.Helper()
	var n int
	if err := e.pool.QueryRow(context.Background(), query, args...).Scan(&n); err != nil {
		t.Fatalf("%s: %v", query, err)
	}
	return n
}

// lastEvent returns the newest outbox event of a zone.
func (e zoneEnv) lastEvent(t *testing.T, zoneID string) event.ZoneEvent {
	t.Helper()
	var payload []byte
	if err := e.pool.QueryRow(context.Background(),
		`SELECT payload FROM outbox_event WHERE zone_id = $1 ORDER BY id DESC LIMIT 1`, zoneID).Scan(&payload); err != nil {
		t.Fatalf("read outbox: %v", err)
	}
	ev, err := event.DecodeZoneEvent(payload)
	if err != nil {
		t.Fatalf("decode event: %v", err)
	}
	return ev
}

func rrs(action Action, name, typ string, ttl uint32, values ...string) RRSetChange {
	return RRSetChange{Action: action, RRSet: zonecfg.RRSet{Name: name, Type: typ, TTL: ttl, Records: values}}
}

// wantErr fails unless err is an *Error with the code and, when given,
// details whose messages contain the given fragments, in order.
func wantErr(t *testing.T, err error, code Code, details ...string) *Error {
	t.Helper()
	e, ok := AsError(err)
	if !ok || e.Code != code {
		t.Fatalf("got error %v, want code %s", err, code)
	}
	if len(details) > 0 {
		if len(e.Details) != len(details) {
			t.Fatalf("got details %+v, want %d: %q", e.Details, len(details), details)
		}
		for i, d := range details {
			if !strings.Contains(e.Details[i].Message, d) {
				t.Errorf("detail %d = %q, want it to contain %q", i, e.Details[i].Message, d)
			}
		}
	}
	return e
}

// canonicalSets returns rrsets with sorted canonical values, for comparing
// zones whatever the submitted spelling.
func canonicalSets(t *testing.T, sets []zonecfg.RRSet) []string {
	t.Helper()
	var out []string
	for _, rs := range sets {
		c, err := rs.Canonical()
		if err != nil {
			t.Fatalf("canonical %v: %v", rs, err)
		}
		slices.Sort(c)
		out = append(out, fmt.Sprintf("%s %s %q %d %q", rs.Name, rs.Type, rs.SetIdentifier, rs.TTL, c))
	}
	return out
}
