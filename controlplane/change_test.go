package controlplane

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/waymark-dns/waymark/event"
	"github.com/waymark-dns/waymark/internal/pgtest"
	"github.com/waymark-dns/waymark/zonecfg"
)

const zn = "example.com."

// baseRecords are in every case's zone before its batch.
var baseRecords = []RRSetChange{
	rrs(ActionCreate, "www.example.com.", "A", 300, "192.0.2.1", "192.0.2.2"),
	rrs(ActionCreate, "alias.example.com.", "CNAME", 300, "www.example.com."),
	rrs(ActionCreate, "mail.example.com.", "MX", 300, "10 mx1.example.com.", "20 MX2.example.com."),
	rrs(ActionCreate, "sub.example.com.", "NS", 3600, "ns1.elsewhere.test."),
}

func TestIntegrationChangeBatchRules(t *testing.T) {
	t.Parallel()
	e := newZoneEnv(t)
	tenant := testTenant(t, e.pool)
	soa := "ns1.waymark.test. hostmaster.waymark.test. 1 7200 900 1209600 86400"

	tests := []struct {
		name     string
		changes  []RRSetChange
		wantCode Code     // "" for success
		details  []string // fragments of each detail, in order
		indexes  []int
		// check runs on success against the zone's record sets.
		check func(t *testing.T, sets map[zonecfg.Key]zonecfg.RRSet)
	}{
		{
			name:    "create canonicalises name and type",
			changes: []RRSetChange{rrs(ActionCreate, "New.EXAMPLE.com", "aaaa", 60, "2001:DB8::1")},
			check: func(t *testing.T, sets map[zonecfg.Key]zonecfg.RRSet) {
				rs, ok := sets[zonecfg.Key{Name: "new.example.com.", Type: "AAAA"}]
				if !ok || rs.TTL != 60 || !slices.Equal(rs.Records, []string{"2001:DB8::1"}) {
					t.Errorf("rrset = %+v (records are kept as submitted)", rs)
				}
			},
		},
		{
			name:     "create existing",
			changes:  []RRSetChange{rrs(ActionCreate, "www.example.com", "A", 300, "192.0.2.9")},
			wantCode: CodeInvalidChangeBatch,
			details:  []string{"Tried to create resource record set [name='www.example.com.', type='A'] but it already exists"},
			indexes:  []int{0},
		},
		{
			name:     "action must be uppercase",
			changes:  []RRSetChange{rrs("create", "x.example.com", "A", 300, "192.0.2.9")},
			wantCode: CodeInvalidChangeBatch,
			details:  []string{`Invalid action "create"`},
		},
		{
			name:     "delete missing",
			changes:  []RRSetChange{rrs(ActionDelete, "nope.example.com", "A", 300, "192.0.2.9")},
			wantCode: CodeInvalidChangeBatch,
			details:  []string{"Tried to delete resource record set [name='nope.example.com.', type='A'] but it was not found"},
		},
		{
			name:     "delete with other ttl",
			changes:  []RRSetChange{rrs(ActionDelete, "www.example.com", "A", 301, "192.0.2.1", "192.0.2.2")},
			wantCode: CodeInvalidChangeBatch,
			details:  []string{"Tried to delete resource record set [name='www.example.com.', type='A'] but the values provided do not match the current values"},
		},
		{
			name:     "delete with fewer values",
			changes:  []RRSetChange{rrs(ActionDelete, "www.example.com", "A", 300, "192.0.2.1")},
			wantCode: CodeInvalidChangeBatch,
			details:  []string{"do not match the current values"},
		},
		{
			name:    "delete matches values as a set, names in any case",
			changes: []RRSetChange{rrs(ActionDelete, "mail.example.com", "MX", 300, "20 mx2.example.com", "10 MX1.example.com.")},
			check: func(t *testing.T, sets map[zonecfg.Key]zonecfg.RRSet) {
				if _, ok := sets[zonecfg.Key{Name: "mail.example.com.", Type: "MX"}]; ok {
					t.Error("MX still there")
				}
			},
		},
		{
			name: "delete then create",
			changes: []RRSetChange{
				rrs(ActionDelete, "www.example.com", "A", 300, "192.0.2.2", "192.0.2.1"),
				rrs(ActionCreate, "www.example.com", "A", 60, "192.0.2.7"),
			},
			check: func(t *testing.T, sets map[zonecfg.Key]zonecfg.RRSet) {
				if rs := sets[zonecfg.Key{Name: "www.example.com.", Type: "A"}]; rs.TTL != 60 || len(rs.Records) != 1 {
					t.Errorf("www = %+v", rs)
				}
			},
		},
		{
			name: "delete twice",
			changes: []RRSetChange{
				rrs(ActionDelete, "www.example.com", "A", 300, "192.0.2.1", "192.0.2.2"),
				rrs(ActionDelete, "www.example.com", "A", 300, "192.0.2.1", "192.0.2.2"),
			},
			wantCode: CodeInvalidChangeBatch,
			details:  []string{"but it was not found"},
			indexes:  []int{1},
		},
		{
			name: "create twice",
			changes: []RRSetChange{
				rrs(ActionCreate, "t.example.com", "TXT", 300, `"a"`),
				rrs(ActionCreate, "t.example.com", "TXT", 300, `"b"`),
			},
			wantCode: CodeInvalidChangeBatch,
			details:  []string{"already exists"},
			indexes:  []int{1},
		},
		{
			name: "upsert creates and replaces",
			changes: []RRSetChange{
				rrs(ActionUpsert, "www.example.com", "A", 10, "198.51.100.1"),
				rrs(ActionUpsert, "txt.example.com", "TXT", 10, `"v=spf1 -all"`),
			},
			check: func(t *testing.T, sets map[zonecfg.Key]zonecfg.RRSet) {
				if rs := sets[zonecfg.Key{Name: "www.example.com.", Type: "A"}]; rs.TTL != 10 || !slices.Equal(rs.Records, []string{"198.51.100.1"}) {
					t.Errorf("www = %+v", rs)
				}
				if _, ok := sets[zonecfg.Key{Name: "txt.example.com.", Type: "TXT"}]; !ok {
					t.Error("txt missing")
				}
			},
		},
		{
			name:     "name outside the zone",
			changes:  []RRSetChange{rrs(ActionCreate, "www.example.org", "A", 300, "192.0.2.9")},
			wantCode: CodeInvalidChangeBatch,
			details:  []string{"RRSet with DNS name www.example.org. is not permitted in zone example.com."},
		},
		{
			name:     "suffix is not a subdomain",
			changes:  []RRSetChange{rrs(ActionCreate, "badexample.com", "A", 300, "192.0.2.9")},
			wantCode: CodeInvalidChangeBatch,
			details:  []string{"is not permitted in zone example.com."},
		},
		{
			name:     "cname at apex",
			changes:  []RRSetChange{rrs(ActionUpsert, "example.com", "CNAME", 300, "www.example.com.")},
			wantCode: CodeInvalidChangeBatch,
			details:  []string{"RRSet of type CNAME with DNS name example.com. is not permitted at apex in zone example.com."},
		},
		{
			name:     "cname next to other data",
			changes:  []RRSetChange{rrs(ActionCreate, "www.example.com", "CNAME", 300, "elsewhere.test.")},
			wantCode: CodeInvalidChangeBatch,
			details:  []string{"RRSet of type CNAME with DNS name www.example.com. is not permitted as it conflicts with other records with the same DNS name in zone example.com."},
		},
		{
			name:     "data next to a cname",
			changes:  []RRSetChange{rrs(ActionCreate, "alias.example.com", "TXT", 300, `"x"`)},
			wantCode: CodeInvalidChangeBatch,
			details:  []string{"RRSet of type TXT with DNS name alias.example.com. is not permitted because a conflicting RRSet of type  CNAME with the same DNS name already exists in zone example.com."},
		},
		{
			name: "cname replaces data in one batch",
			changes: []RRSetChange{
				rrs(ActionDelete, "www.example.com", "A", 300, "192.0.2.1", "192.0.2.2"),
				rrs(ActionCreate, "www.example.com", "CNAME", 300, "elsewhere.test."),
			},
		},
		{
			name: "cname conflict inside the batch",
			changes: []RRSetChange{
				rrs(ActionCreate, "n.example.com", "CNAME", 300, "elsewhere.test."),
				rrs(ActionCreate, "n.example.com", "A", 300, "192.0.2.1"),
			},
			wantCode: CodeInvalidChangeBatch,
			details:  []string{"conflicting RRSet of type  CNAME"},
			indexes:  []int{1},
		},
		{
			name:     "cname has one value",
			changes:  []RRSetChange{rrs(ActionCreate, "c.example.com", "CNAME", 300, "a.test.", "b.test.")},
			wantCode: CodeInvalidChangeBatch,
			details:  []string{"exactly one value"},
		},
		{
			name:     "soa cannot be deleted",
			changes:  []RRSetChange{rrs(ActionDelete, "example.com", "SOA", 900, soa)},
			wantCode: CodeInvalidChangeBatch,
			details:  []string{"A HostedZone must contain exactly one SOA record."},
		},
		{
			name:     "soa delete with other values",
			changes:  []RRSetChange{rrs(ActionDelete, "example.com", "SOA", 900, "a.test. b.test. 1 2 3 4 5")},
			wantCode: CodeInvalidChangeBatch,
			details:  []string{"do not match the current values"},
		},
		{
			name:     "soa cannot be created",
			changes:  []RRSetChange{rrs(ActionCreate, "example.com", "SOA", 900, soa)},
			wantCode: CodeInvalidChangeBatch,
			details:  []string{"already exists"},
		},
		{
			name:    "soa upsert",
			changes: []RRSetChange{rrs(ActionUpsert, "example.com", "SOA", 60, "ns1.waymark.test. admin.example.com. 5 3600 600 604800 300")},
			check: func(t *testing.T, sets map[zonecfg.Key]zonecfg.RRSet) {
				if rs := sets[zonecfg.Key{Name: zn, Type: "SOA"}]; rs.TTL != 60 || !strings.Contains(rs.Records[0], "admin.example.com.") {
					t.Errorf("soa = %+v", rs)
				}
			},
		},
		{
			name:     "soa only at apex",
			changes:  []RRSetChange{rrs(ActionUpsert, "x.example.com", "SOA", 60, soa)},
			wantCode: CodeInvalidChangeBatch,
			details:  []string{"SOA records are allowed only at the apex"},
		},
		{
			name:     "apex ns cannot be deleted",
			changes:  []RRSetChange{rrs(ActionDelete, "example.com", "NS", 172800, "ns2.waymark.test.", "ns1.waymark.test.", "ns4.waymark.test.", "ns3.waymark.test.")},
			wantCode: CodeInvalidChangeBatch,
			details:  []string{"A HostedZone must contain at least one NS record for the zone itself."},
		},
		{
			name:    "apex ns upsert",
			changes: []RRSetChange{rrs(ActionUpsert, "example.com", "NS", 3600, "ns9.waymark.test.")},
		},
		{
			name:    "delegation can be deleted",
			changes: []RRSetChange{rrs(ActionDelete, "sub.example.com", "NS", 3600, "ns1.elsewhere.test.")},
		},
		{
			name:    "records below a delegation are allowed",
			changes: []RRSetChange{rrs(ActionCreate, "ns1.sub.example.com", "A", 3600, "192.0.2.53")},
		},
		{
			name:     "no wildcard ns",
			changes:  []RRSetChange{rrs(ActionCreate, "*.example.com", "NS", 3600, "ns1.elsewhere.test.")},
			wantCode: CodeInvalidChangeBatch,
			details:  []string{"wildcard"},
		},
		{
			name:    "wildcard records",
			changes: []RRSetChange{rrs(ActionCreate, "*.example.com", "A", 3600, "192.0.2.1")},
		},
		{
			name:     "no ds at apex",
			changes:  []RRSetChange{rrs(ActionCreate, "example.com", "DS", 3600, "12345 13 2 3F1EDEA3B55D30C9DD3A0E0EF66B35E2E5F0C78E0D4E62DA8E7E2E4F5E0E1E2E")},
			wantCode: CodeInvalidChangeBatch,
			details:  []string{"is not permitted at apex"},
		},
		{
			name:     "ttl out of range",
			changes:  []RRSetChange{rrs(ActionCreate, "t.example.com", "A", 2147483648, "192.0.2.1")},
			wantCode: CodeInvalidChangeBatch,
			details:  []string{"Invalid TTL"},
		},
		{
			name:    "ttl bounds",
			changes: []RRSetChange{rrs(ActionCreate, "t0.example.com", "A", 0, "192.0.2.1"), rrs(ActionCreate, "tmax.example.com", "A", 2147483647, "192.0.2.1")},
		},
		{
			name:     "duplicate values",
			changes:  []RRSetChange{rrs(ActionCreate, "d.example.com", "A", 300, "192.0.2.1", "192.0.2.1")},
			wantCode: CodeInvalidChangeBatch,
			details:  []string{"duplicate value"},
		},
		{
			name:     "bad record data",
			changes:  []RRSetChange{rrs(ActionCreate, "d.example.com", "A", 300, "192.0.2.300")},
			wantCode: CodeInvalidChangeBatch,
			details:  []string{"Invalid Resource Record"},
		},
		{
			name:     "no values",
			changes:  []RRSetChange{rrs(ActionCreate, "d.example.com", "A", 300)},
			wantCode: CodeInvalidChangeBatch,
			details:  []string{"at least one value"},
		},
		{
			name:     "unsupported type",
			changes:  []RRSetChange{rrs(ActionCreate, "d.example.com", "HINFO", 300, `"a" "b"`)},
			wantCode: CodeInvalidChangeBatch,
			details:  []string{"Invalid type"},
		},
		{
			name:     "bad name",
			changes:  []RRSetChange{rrs(ActionCreate, "a..example.com", "A", 300, "192.0.2.1")},
			wantCode: CodeInvalidChangeBatch,
			details:  []string{"Invalid name"},
		},
		{
			name:     "invalid utf-8 value",
			changes:  []RRSetChange{rrs(ActionCreate, "u.example.com", "TXT", 300, "\"\xff\"")},
			wantCode: CodeInvalidChangeBatch,
			details:  []string{"UTF-8"},
		},
		{
			name: "every failing change is reported",
			changes: []RRSetChange{
				rrs(ActionCreate, "ok.example.com", "A", 300, "192.0.2.1"),
				rrs(ActionCreate, "www.example.com", "A", 300, "192.0.2.1"),
				rrs("PATCH", "x.example.com", "A", 300, "192.0.2.1"),
				rrs(ActionDelete, "gone.example.com", "A", 300, "192.0.2.1"),
				rrs(ActionCreate, "ok2.example.com", "A", 300, "192.0.2.1"),
			},
			wantCode: CodeInvalidChangeBatch,
			details:  []string{"already exists", "Invalid action", "was not found"},
			indexes:  []int{1, 2, 3},
		},
		{
			name: "set identifiers",
			changes: []RRSetChange{
				{Action: ActionCreate, RRSet: zonecfg.RRSet{Name: "w.example.com", Type: "A", SetIdentifier: "one", TTL: 60, Records: []string{"192.0.2.1"}, Routing: zonecfg.Routing{Weight: new(uint8(1))}}},
				{Action: ActionCreate, RRSet: zonecfg.RRSet{Name: "w.example.com", Type: "A", SetIdentifier: "two", TTL: 60, Records: []string{"192.0.2.2"}, Routing: zonecfg.Routing{Weight: new(uint8(2))}}},
			},
		},
		{
			name: "simple and set identifier do not mix",
			changes: []RRSetChange{
				{Action: ActionCreate, RRSet: zonecfg.RRSet{Name: "www.example.com", Type: "A", SetIdentifier: "one", TTL: 60, Records: []string{"192.0.2.1"}, Routing: zonecfg.Routing{Weight: new(uint8(1))}}},
			},
			wantCode: CodeInvalidChangeBatch,
			details:  []string{"no SetIdentifier exists"},
		},
		{
			name: "no set identifier on ns",
			changes: []RRSetChange{
				{Action: ActionCreate, RRSet: zonecfg.RRSet{Name: "d.example.com", Type: "NS", SetIdentifier: "one", TTL: 60, Records: []string{"ns.test."}}},
			},
			wantCode: CodeInvalidChangeBatch,
			details:  []string{"simple routing only"},
		},
	}
	// Cases run one after the other on a fresh example.com zone each: a
	// tenant cannot host the same name twice.
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ctx := context.Background()
			z := e.mustZone(t, tenant, zn)
			t.Cleanup(func() {
				if _, err := e.pool.Exec(ctx, `DELETE FROM hosted_zone WHERE id = $1`, z.ID); err != nil {
					t.Fatal(err)
				}
			})
			e.mustChange(t, tenant, z.ID, baseRecords...)
			before := e.allRRSets(t, tenant, z.ID)
			changesBefore := e.count(t, `SELECT count(*) FROM change WHERE zone_id = $1`, z.ID)

			info, err := e.s.ChangeRRSets(ctx, tenant, z.ID, ChangeBatch{Comment: "case", Changes: tc.changes})
			after := e.allRRSets(t, tenant, z.ID)
			got, gerr := e.s.GetZone(ctx, tenant, z.ID)
			if gerr != nil {
				t.Fatal(gerr)
			}
			if got.RRSetCount != len(after) {
				t.Errorf("rrset_count = %d, have %d", got.RRSetCount, len(after))
			}
			if tc.wantCode != "" {
				ce := wantErr(t, err, tc.wantCode, tc.details...)
				for i, want := range tc.indexes {
					if d := ce.Details[i]; d.Index == nil || *d.Index != want {
						t.Errorf("detail %d index = %v, want %d", i, d.Index, want)
					}
				}
				if len(ce.Details) > 0 && !strings.HasPrefix(ce.Message, "[") {
					t.Errorf("message = %q, want a bracketed list", ce.Message)
				}
				// All or nothing.
				if fmt.Sprint(after) != fmt.Sprint(before) || got.Version != 2 ||
					e.count(t, `SELECT count(*) FROM change WHERE zone_id = $1`, z.ID) != changesBefore ||
					e.count(t, `SELECT count(*) FROM outbox_event WHERE zone_id = $1`, z.ID) != changesBefore {
					t.Errorf("failed batch changed the zone: version %d, rrsets %v", got.Version, after)
				}
				return
			}
			if err != nil {
				t.Fatalf("ChangeRRSets: %v", err)
			}
			if got.Version != 3 || info.ZoneVersion != 3 || info.Comment != "case" || info.Status != StatusPending {
				t.Errorf("zone version %d, change %+v", got.Version, info)
			}
			if tc.check != nil {
				m := make(map[zonecfg.Key]zonecfg.RRSet)
				for _, rs := range after {
					m[rs.Key()] = rs
				}
				tc.check(t, m)
			}
		})
	}
}

func TestIntegrationChangeBatchLimits(t *testing.T) {
	t.Parallel()
	e := newZoneEnv(t)
	ctx := context.Background()
	tenant := testTenant(t, e.pool)
	z := e.mustZone(t, tenant, "limits.example")

	values := func(n int) []string {
		out := make([]string, n)
		for i := range out {
			out[i] = fmt.Sprintf("10.0.%d.%d", i/250, i%250)
		}
		return out
	}
	many := func(action Action, n, each int) []RRSetChange {
		out := make([]RRSetChange, n)
		for i := range out {
			out[i] = rrs(action, fmt.Sprintf("h%d.limits.example", i), "A", 60, values(each)...)
		}
		return out
	}
	longTXT := `"` + strings.Repeat("x", 250) + `"`
	tests := []struct {
		name     string
		batch    ChangeBatch
		wantCode Code
	}{
		{"empty", ChangeBatch{}, CodeInvalidInput},
		{"comment too long", ChangeBatch{Comment: strings.Repeat("c", 257), Changes: many(ActionCreate, 1, 1)}, CodeInvalidInput},
		{"comment not utf-8", ChangeBatch{Comment: "\xff", Changes: many(ActionCreate, 1, 1)}, CodeInvalidInput},
		{"1001 changes", ChangeBatch{Changes: many(ActionCreate, 1001, 1)}, CodeInvalidChangeBatch},
		{"1001 records", ChangeBatch{Changes: append(many(ActionCreate, 3, 334), many(ActionCreate, 0, 0)...)}, CodeInvalidChangeBatch},
		{"501 upserted records", ChangeBatch{Changes: many(ActionUpsert, 501, 1)}, CodeInvalidChangeBatch},
		{"32001 characters", ChangeBatch{Changes: []RRSetChange{
			rrs(ActionCreate, "t.limits.example", "TXT", 60, slices.Repeat([]string{longTXT}, 128)...)}}, CodeInvalidChangeBatch},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := e.s.ChangeRRSets(ctx, tenant, z.ID, tc.batch)
			wantErr(t, err, tc.wantCode)
		})
	}
	// At the limits.
	e.mustChange(t, tenant, z.ID, many(ActionCreate, 1000, 1)...)
	e.mustChange(t, tenant, z.ID, many(ActionUpsert, 500, 1)...)
	e.mustChange(t, tenant, z.ID, rrs(ActionCreate, "big.limits.example", "A", 60, values(400)...))
	if got, _ := e.s.GetZone(ctx, tenant, z.ID); got.RRSetCount != 1003 || got.Version != 4 {
		t.Errorf("zone = %+v", got)
	}
}

func TestIntegrationChangeBatchAtomic(t *testing.T) {
	t.Parallel()
	e := newZoneEnv(t)
	ctx := context.Background()
	tenant := testTenant(t, e.pool)
	z := e.mustZone(t, tenant, "atomic.example")
	e.mustChange(t, tenant, z.ID, rrs(ActionCreate, "keep.atomic.example", "A", 60, "192.0.2.1"))
	before := e.allRRSets(t, tenant, z.ID)
	changes := e.count(t, `SELECT count(*) FROM change`)
	outbox := e.count(t, `SELECT count(*) FROM outbox_event`)

	// Everything valid but the last change.
	_, err := e.s.ChangeRRSets(ctx, tenant, z.ID, ChangeBatch{Changes: []RRSetChange{
		rrs(ActionCreate, "new.atomic.example", "A", 60, "192.0.2.2"),
		rrs(ActionDelete, "keep.atomic.example", "A", 60, "192.0.2.1"),
		rrs(ActionUpsert, "atomic.example", "NS", 60, "ns.test."),
		rrs(ActionCreate, "new.atomic.example", "TXT", 60, `"x"`),
		rrs(ActionCreate, "new.atomic.example", "A", 60, "192.0.2.3"),
	}})
	ce := wantErr(t, err, CodeInvalidChangeBatch, "already exists")
	if *ce.Details[0].Index != 4 {
		t.Errorf("index = %d", *ce.Details[0].Index)
	}
	got, _ := e.s.GetZone(ctx, tenant, z.ID)
	if after := e.allRRSets(t, tenant, z.ID); fmt.Sprint(after) != fmt.Sprint(before) || got.Version != 2 || got.RRSetCount != 3 {
		t.Errorf("zone changed: %+v %v", got, after)
	}
	if e.count(t, `SELECT count(*) FROM change`) != changes || e.count(t, `SELECT count(*) FROM outbox_event`) != outbox {
		t.Error("a change or outbox row was written")
	}
}

func TestIntegrationChangeBatchEvent(t *testing.T) {
	t.Parallel()
	e := newZoneEnv(t)
	tenant := testTenant(t, e.pool)
	z := e.mustZone(t, tenant, "ev.example")
	e.mustChange(t, tenant, z.ID,
		rrs(ActionCreate, "a.ev.example", "A", 60, "192.0.2.1"),
		rrs(ActionCreate, "b.ev.example", "A", 60, "192.0.2.1"),
		rrs(ActionCreate, "c.ev.example", "MX", 60, "10 mail"))
	info := e.mustChange(t, tenant, z.ID,
		rrs(ActionDelete, "a.ev.example", "A", 60, "192.0.2.1"),
		rrs(ActionDelete, "b.ev.example", "A", 60, "192.0.2.1"),
		rrs(ActionCreate, "b.ev.example", "A", 30, "192.0.2.9"),
		rrs(ActionUpsert, "c.ev.example", "MX", 60, "20 Mail.ev.example"),
		rrs(ActionCreate, "d.ev.example", "TXT", 60, `"hello world"`))
	ev := e.lastEvent(t, z.ID)
	want := event.ZoneEvent{
		Kind: event.ZoneUpdated, ZoneID: z.ID, ZoneName: "ev.example.", TenantID: tenant,
		FromVersion: 2, ToVersion: 3, ChangeID: info.ID,
		Deletes: []zonecfg.Key{{Name: "a.ev.example.", Type: "A"}},
		Upserts: []zonecfg.RRSet{
			{Name: "b.ev.example.", Type: "A", TTL: 30, Records: []string{"192.0.2.9"}},
			// The nameservers get canonical data, not the submitted form.
			{Name: "c.ev.example.", Type: "MX", TTL: 60, Records: []string{"20 Mail.ev.example."}},
			{Name: "d.ev.example.", Type: "TXT", TTL: 60, Records: []string{`"hello world"`}},
		},
	}
	ev.V, ev.Committed = 0, want.Committed
	if fmt.Sprintf("%+v", ev) != fmt.Sprintf("%+v", want) {
		t.Errorf("event = %+v\nwant    %+v", ev, want)
	}
	// The listing returns values as submitted.
	for _, rs := range e.allRRSets(t, tenant, z.ID) {
		if rs.Type == "MX" && !slices.Equal(rs.Records, []string{"20 Mail.ev.example"}) {
			t.Errorf("MX = %v", rs.Records)
		}
	}
	if got, _ := e.s.GetZone(context.Background(), tenant, z.ID); got.RRSetCount != 5 {
		t.Errorf("rrset count = %d", got.RRSetCount)
	}
}

func TestIntegrationRecordQuota(t *testing.T) {
	t.Parallel()
	e := newZoneEnv(t)
	ctx := context.Background()
	tenant := testTenant(t, e.pool, testTenantOpts{recordQuota: 4})
	z := e.mustZone(t, tenant, "quota.example")
	e.mustChange(t, tenant, z.ID,
		rrs(ActionCreate, "a.quota.example", "A", 60, "192.0.2.1"),
		rrs(ActionCreate, "b.quota.example", "A", 60, "192.0.2.1"))
	_, err := e.s.ChangeRRSets(ctx, tenant, z.ID, ChangeBatch{Changes: []RRSetChange{
		rrs(ActionCreate, "c.quota.example", "A", 60, "192.0.2.1")}})
	wantErr(t, err, CodeTooManyRecords)
	// A batch that does not grow the zone passes at the limit.
	e.mustChange(t, tenant, z.ID,
		rrs(ActionDelete, "a.quota.example", "A", 60, "192.0.2.1"),
		rrs(ActionCreate, "c.quota.example", "A", 60, "192.0.2.1"),
		rrs(ActionUpsert, "b.quota.example", "A", 60, "192.0.2.2"))
	// The service default applies when the tenant has no quota of its own.
	e.s.cfg.DefaultRecordQuota = 3
	other := testTenant(t, e.pool)
	z2 := e.mustZone(t, other, "quota2.example")
	e.mustChange(t, other, z2.ID, rrs(ActionCreate, "a.quota2.example", "A", 60, "192.0.2.1"))
	_, err = e.s.ChangeRRSets(ctx, other, z2.ID, ChangeBatch{Changes: []RRSetChange{
		rrs(ActionCreate, "b.quota2.example", "A", 60, "192.0.2.1")}})
	wantErr(t, err, CodeTooManyRecords)
}

func TestIntegrationChangeBatchConcurrent(t *testing.T) {
	t.Parallel()
	e := newZoneEnv(t)
	ctx := context.Background()
	tenant := testTenant(t, e.pool)
	z := e.mustZone(t, tenant, "conc.example")
	const n = 40
	var wg sync.WaitGroup
	errs := make([]error, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			// Half the batches also rewrite a shared TXT set.
			changes := []RRSetChange{rrs(ActionCreate, fmt.Sprintf("h%d.conc.example", i), "A", 60, "192.0.2.1")}
			if i%2 == 0 {
				changes = append(changes, rrs(ActionUpsert, "shared.conc.example", "TXT", 60, fmt.Sprintf(`"%d"`, i)))
			}
			_, errs[i] = e.s.ChangeRRSets(ctx, tenant, z.ID, ChangeBatch{Changes: changes})
		}()
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	got, _ := e.s.GetZone(ctx, tenant, z.ID)
	if got.Version != 1+n || got.RRSetCount != 2+n+1 || len(e.allRRSets(t, tenant, z.ID)) != 2+n+1 {
		t.Errorf("zone = %+v", got)
	}
	// Every version from 1 to n+1 has exactly one event, each following
	// the one before.
	rows, err := e.pool.Query(ctx, `SELECT payload FROM outbox_event WHERE zone_id = $1 ORDER BY id`, z.ID)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	v := int64(0)
	for rows.Next() {
		var p []byte
		if err := rows.Scan(&p); err != nil {
			t.Fatal(err)
		}
		ev, err := event.DecodeZoneEvent(p)
		if err != nil || ev.FromVersion != v || ev.ToVersion != v+1 {
			t.Fatalf("event after version %d: %+v, %v", v, ev, err)
		}
		v = ev.ToVersion
	}
	if v != 1+n {
		t.Errorf("last event version %d", v)
	}
}

func TestIntegrationChangeTenancy(t *testing.T) {
	t.Parallel()
	e := newZoneEnv(t)
	ctx := context.Background()
	a, b := testTenant(t, e.pool), testTenant(t, e.pool)
	z := e.mustZone(t, a, "ten.example")
	info := e.mustChange(t, a, z.ID, rrs(ActionCreate, "x.ten.example", "A", 60, "192.0.2.1"))

	for _, id := range []string{info.ID, "/change/" + info.ID} {
		got, err := e.s.GetChange(ctx, a, id)
		if err != nil || got.ID != info.ID || got.ZoneID != z.ID || got.ZoneVersion != 2 || got.StreamSeq != nil || got.InSyncAt != nil {
			t.Errorf("GetChange(%s) = %+v, %v", id, got, err)
		}
	}
	_, errOther := e.s.GetChange(ctx, b, info.ID)
	wantErr(t, errOther, CodeNoSuchChange)
	for _, id := range []string{"CNOSUCH", "", "\xff\x00", strings.Repeat("C", 500)} {
		_, err := e.s.GetChange(ctx, a, id)
		wantErr(t, err, CodeNoSuchChange)
	}
	// Another tenant's zone is missing for every operation.
	_, err := e.s.ChangeRRSets(ctx, b, z.ID, ChangeBatch{Changes: []RRSetChange{rrs(ActionCreate, "y.ten.example", "A", 60, "192.0.2.1")}})
	wantErr(t, err, CodeNoSuchHostedZone)
	_, err = e.s.ListRRSets(ctx, b, z.ID, ListRRSetsInput{})
	wantErr(t, err, CodeNoSuchHostedZone)
	_, err = exportText(ctx, e.s, b, z.ID)
	wantErr(t, err, CodeNoSuchHostedZone)
	_, err = e.s.ImportZone(ctx, b, z.ID, "x 60 IN A 192.0.2.1\n")
	wantErr(t, err, CodeNoSuchHostedZone)
	_, err = e.s.ChangeRRSets(ctx, a, "\xff", ChangeBatch{Changes: []RRSetChange{rrs(ActionCreate, "y.ten.example", "A", 60, "192.0.2.1")}})
	wantErr(t, err, CodeNoSuchHostedZone)
}

// BenchmarkChangeRRSets measures single-record batches, spread over 16
// zones as an API under load would see them (one zone serialises).
func BenchmarkChangeRRSets(b *testing.B) {
	pool, _ := pgtest.Schema(b)
	s, err := New(pool, Config{MasterKey: []byte(strings.Repeat("m", 32)), JWTKey: []byte(strings.Repeat("j", 32))})
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	tenant := "TBENCH"
	if _, err := pool.Exec(ctx, `INSERT INTO tenant (id, name) VALUES ($1, $1)`, tenant); err != nil {
		b.Fatal(err)
	}
	var zones []string
	for i := range 16 {
		z, _, err := s.CreateZone(ctx, tenant, CreateZoneInput{Name: fmt.Sprintf("bench%d.example", i), CallerReference: fmt.Sprint(i)})
		if err != nil {
			b.Fatal(err)
		}
		zones = append(zones, z.ID)
	}
	var n atomic.Int64
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			i := n.Add(1)
			z := int(i) % len(zones)
			_, err := s.ChangeRRSets(ctx, tenant, zones[z], ChangeBatch{Changes: []RRSetChange{
				rrs(ActionUpsert, fmt.Sprintf("h%d.bench%d.example", i%500, z), "TXT", 60, fmt.Sprintf(`"v=%d"`, i)),
			}})
			if err != nil {
				b.Error(err)
				return
			}
		}
	})
}

func TestIntegrationChangeBatchCancelled(t *testing.T) {
	t.Parallel()
	e := newZoneEnv(t)
	tenant := testTenant(t, e.pool)
	z := e.mustZone(t, tenant, "cancel.example")
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	batch := ChangeBatch{Changes: []RRSetChange{rrs(ActionCreate, "a.cancel.example", "A", 60, "192.0.2.1")}}
	if _, err := e.s.ChangeRRSets(ctx, tenant, z.ID, batch); err == nil {
		t.Fatal("a cancelled context committed")
	}
	// The pool is still usable and nothing was written.
	e.mustChange(t, tenant, z.ID, batch.Changes...)
	if got, _ := e.s.GetZone(context.Background(), tenant, z.ID); got.Version != 2 {
		t.Errorf("version = %d", got.Version)
	}
}

func TestIntegrationTxInTwoTrips(t *testing.T) {
	t.Parallel()
	e := newZoneEnv(t)
	ctx := context.Background()
	tenants := func() int { return e.count(t, `SELECT count(*) FROM tenant WHERE name LIKE 'two-trips-%'`) }
	insert := func(b *pgx.Batch, n int) {
		b.Queue(`INSERT INTO tenant (id, name) VALUES ($1, $1)`, fmt.Sprintf("two-trips-%d", n))
	}
	tests := []struct {
		name       string
		read       func(*pgx.Batch)
		write      func(*pgx.Batch) error
		wantErr    bool
		wantCode   Code
		wantWrites int
	}{
		{name: "commits", read: func(b *pgx.Batch) { insert(b, 1) }, write: func(b *pgx.Batch) error { insert(b, 2); return nil }, wantWrites: 2},
		{name: "read fails", read: func(b *pgx.Batch) { insert(b, 3); b.Queue(`SELECT 1/0`) }, write: func(b *pgx.Batch) error { insert(b, 4); return nil }, wantErr: true},
		{name: "write fails", read: func(b *pgx.Batch) { insert(b, 5) }, write: func(b *pgx.Batch) error { insert(b, 6); b.Queue(`SELECT 1/0`); insert(b, 7); return nil }, wantErr: true},
		{name: "business error", read: func(b *pgx.Batch) { insert(b, 8) }, write: func(b *pgx.Batch) error { return Errorf(CodeInvalidInput, "no") }, wantErr: true, wantCode: CodeInvalidInput},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			before := tenants()
			err := e.s.txInTwoTrips(ctx, tc.read, tc.write)
			if (err != nil) != tc.wantErr {
				t.Fatalf("err = %v", err)
			}
			if tc.wantCode != "" {
				wantErr(t, err, tc.wantCode)
			}
			if got := tenants() - before; got != tc.wantWrites {
				t.Errorf("%d rows written, want %d", got, tc.wantWrites)
			}
		})
	}
	// Every connection went back clean: a pool's worth of transactions
	// still works.
	for i := range 10 {
		if err := e.s.txInTwoTrips(ctx, func(b *pgx.Batch) { insert(b, 100+i) }, func(*pgx.Batch) error { return nil }); err != nil {
			t.Fatal(err)
		}
	}
}

// FuzzWorkingCopy drives the batch checker with arbitrary sequences of
// changes over a small vocabulary and checks the zone invariants after
// every accepted change: the apex keeps exactly one SOA and its NS, a
// CNAME is alone at its name and never at the apex, SOA only at the apex;
// and the result (deletes, upserts, delta) turns the original zone into
// the working copy.
func FuzzWorkingCopy(f *testing.F) {
	f.Add([]byte{0, 1, 2, 3, 4, 5, 6, 7, 8, 9})
	f.Add([]byte{2, 1, 1, 0, 0, 3, 1, 2, 1, 1, 0, 4})
	f.Add([]byte("cname-then-a-then-delete"))
	const zone = "fz.example."
	names := []string{zone, "www." + zone, "alias." + zone, "sub." + zone, "*." + zone}
	types := []string{"A", "CNAME", "TXT", "NS", "SOA", "MX"}
	values := map[string][]string{
		"A": {"192.0.2.1", "192.0.2.2"}, "CNAME": {"x.test.", "y.test."}, "TXT": {`"a"`, `"b"`},
		"NS": {"ns1.test.", "ns2.test."}, "SOA": {"ns1.test. h.test. 1 2 3 4 5", "ns1.test. h.test. 9 2 3 4 5"},
		"MX": {"10 m.test.", "20 m.test."},
	}
	actions := []Action{ActionCreate, ActionDelete, ActionUpsert}
	f.Fuzz(func(t *testing.T, program []byte) {
		initial := []storedRRSet{
			{RRSet: zonecfg.RRSet{Name: zone, Type: "SOA", TTL: 900, Records: values["SOA"][:1]}},
			{RRSet: zonecfg.RRSet{Name: zone, Type: "NS", TTL: 900, Records: values["NS"][:1]}},
			{RRSet: zonecfg.RRSet{Name: "www." + zone, Type: "A", TTL: 60, Records: values["A"][:1]}},
		}
		for i := range initial {
			initial[i].RData = initial[i].Records
		}
		wc := newWorkingCopy(zone, slices.Clone(initial))
		for len(program) >= 4 {
			op := program[:4]
			program = program[4:]
			typ := types[int(op[2])%len(types)]
			vals := values[typ][:1+int(op[3])%2]
			if typ == "CNAME" || typ == "SOA" {
				vals = values[typ][int(op[3])%2 : int(op[3])%2+1]
			}
			rs := zonecfg.RRSet{Name: names[int(op[1])%len(names)], Type: typ, TTL: uint32(60 * (1 + int(op[3])%2)), Records: vals}
			// High bits of the last byte make the set routed: weighted or
			// failover, with one of two set identifiers.
			if r := op[3] >> 4; r != 0 && typ != "SOA" && typ != "NS" {
				rs.SetIdentifier = []string{"a", "b"}[r&1]
				if r&2 != 0 {
					rs.Failover = []string{zonecfg.FailoverPrimary, zonecfg.FailoverSecondary}[(r>>2)&1]
				} else {
					rs.Weight = new(r >> 2)
				}
			}
			c, msg := prepareChange(RRSetChange{Action: actions[int(op[0])%len(actions)], RRSet: rs})
			if msg != "" {
				t.Fatalf("prepare: %s", msg)
			}
			wc.apply(c, batchOptions{})
			checkZoneInvariants(t, wc)
		}
		// Replaying the result on the original gives the working copy.
		deletes, upserts, delta := wc.result()
		state := map[zonecfg.Key]string{}
		for _, rs := range initial {
			state[rs.Key()] = fmt.Sprint(rs.TTL, rs.RData)
		}
		n := len(state)
		for _, k := range deletes {
			if _, ok := state[k]; !ok {
				t.Fatalf("delete of missing %v", k)
			}
			delete(state, k)
		}
		for _, rs := range upserts {
			state[rs.Key()] = fmt.Sprint(rs.TTL, rs.RData)
		}
		if len(state) != n+delta {
			t.Fatalf("delta %d, sets %d -> %d", delta, n, len(state))
		}
		for name, m := range wc.byName {
			for k, rs := range m {
				if k.Name != name || state[k] != fmt.Sprint(rs.TTL, rs.RData) {
					t.Fatalf("%v: working copy %v, replay %q", k, rs, state[k])
				}
			}
		}
		count := 0
		for _, m := range wc.byName {
			count += len(m)
		}
		if count != len(state) {
			t.Fatalf("working copy has %d sets, replay %d", count, len(state))
		}
	})
}

func checkZoneInvariants(t *testing.T, wc *workingCopy) {
	t.Helper()
	apex := wc.byName[wc.zone]
	if apex[zonecfg.Key{Name: wc.zone, Type: "SOA"}] == nil || apex[zonecfg.Key{Name: wc.zone, Type: "NS"}] == nil {
		t.Fatalf("apex lost its SOA or NS: %v", apex)
	}
	for name, m := range wc.byName {
		types := map[string]bool{}
		for k := range m {
			types[k.Type] = true
		}
		if types["CNAME"] && (len(types) > 1 || name == wc.zone) {
			t.Fatalf("CNAME not alone at %s: %v", name, types)
		}
		if types["SOA"] && name != wc.zone {
			t.Fatalf("SOA at %s", name)
		}
		if types["NS"] && zonecfg.IsWildcard(name) {
			t.Fatalf("NS at %s", name)
		}
		// One policy per name and type, simple never beside routed, a
		// failover role at most once.
		policy := map[string]zonecfg.Policy{}
		roles := map[string]bool{}
		for k, rs := range m {
			p := rs.Policy()
			if q, ok := policy[k.Type]; ok && q != p {
				t.Fatalf("%s %s mixes %s and %s", name, k.Type, p, q)
			}
			policy[k.Type] = p
			if (p == zonecfg.PolicySimple) != (k.SetIdentifier == "") {
				t.Fatalf("%s %s: policy %s with set identifier %q", name, k.Type, p, k.SetIdentifier)
			}
			if rs.Failover != "" {
				if roles[k.Type+rs.Failover] {
					t.Fatalf("%s %s: two %s", name, k.Type, rs.Failover)
				}
				roles[k.Type+rs.Failover] = true
			}
		}
	}
}

func TestIntegrationChangeBatchPriorRequest(t *testing.T) {
	t.Parallel()
	e := newZoneEnv(t)
	ctx := context.Background()
	tenant := testTenant(t, e.pool)
	z := e.mustZone(t, tenant, "busy.example")
	// Another transaction holds the zone, as a long import would.
	tx, err := e.pool.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tx.Exec(ctx, `SELECT 1 FROM hosted_zone WHERE id = $1 FOR UPDATE`, z.ID); err != nil {
		t.Fatal(err)
	}
	c, msg := prepareChange(rrs(ActionCreate, "a.busy.example", "A", 60, "192.0.2.1"))
	if msg != "" {
		t.Fatal(msg)
	}
	_, err = e.s.applyChanges(ctx, tenant, z.ID, "", []preparedChange{c}, nil, batchOptions{lockTimeout: 50 * time.Millisecond})
	wantErr(t, err, CodePriorRequestNotComplete)
	if err := tx.Rollback(ctx); err != nil {
		t.Fatal(err)
	}
	// Once the zone is free the same batch goes through.
	e.mustChange(t, tenant, z.ID, rrs(ActionCreate, "a.busy.example", "A", 60, "192.0.2.1"))
}
