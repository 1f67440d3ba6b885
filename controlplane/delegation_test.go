package controlplane

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/waymark-dns/waymark/internal/pgtest"
	"github.com/waymark-dns/waymark/migrations"
	"github.com/waymark-dns/waymark/nspool"
)

// poolOf returns a pool of n names ns1.pool.test. … in sets of size.
func poolOf(t *testing.T, n, size int) nspool.Pool {
	t.Helper()
	spec := ""
	for i := 1; i <= n; i++ {
		spec += fmt.Sprintf("ns%d.pool.test.,", i)
	}
	p, err := nspool.Parse(spec, size)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func disjoint(a, b []string) bool {
	for _, n := range a {
		if slices.Contains(b, n) {
			return false
		}
	}
	return true
}

func TestIntegrationDelegationSetAssignment(t *testing.T) {
	t.Parallel()
	// 12 names in sets of 4: three disjoint sets at most on one name chain.
	e := newZoneEnv(t, func(c *Config) { c.Pool = poolOf(t, 12, 4) })
	ctx := context.Background()
	a, b, c := testTenant(t, e.pool), testTenant(t, e.pool), testTenant(t, e.pool)
	base := e.mustZone(t, a, "example.com")
	if !slices.Equal(base.PoolNames, []string{"ns1.pool.test.", "ns2.pool.test.", "ns3.pool.test.", "ns4.pool.test."}) ||
		!slices.Equal(base.NameServers, base.PoolNames) || base.DelegationSetID == "" {
		t.Fatalf("first zone = %+v", base)
	}
	got, err := e.s.GetZone(ctx, a, base.ID)
	if err != nil || !slices.Equal(got.NameServers, base.NameServers) || got.DelegationSetID != base.DelegationSetID {
		t.Fatalf("GetZone = %+v, %v", got, err)
	}

	// Another tenant's zone of the same name, one below it in a third
	// tenant, and a child in the owner's tenant: each disjoint from every
	// overlapping zone, whoever owns it.
	dup := e.mustZone(t, b, "EXAMPLE.com.")
	if !disjoint(dup.PoolNames, base.PoolNames) {
		t.Errorf("same name, other tenant: %v shares with %v", dup.PoolNames, base.PoolNames)
	}
	child := e.mustZone(t, c, "www.example.com")
	if !disjoint(child.PoolNames, base.PoolNames) || !disjoint(child.PoolNames, dup.PoolNames) {
		t.Errorf("child %v overlaps %v or %v", child.PoolNames, base.PoolNames, dup.PoolNames)
	}
	// The pool is now used up on this chain: the fourth overlapping zone
	// fails, saying why; unrelated names and siblings still succeed.
	for _, tc := range []struct {
		tenant, name string
		want         Code
	}{
		{a, "www.example.com", CodeConflictingDomainExists},
		{b, "x.www.example.com", CodeConflictingDomainExists},
		{c, "com.example.com", ""}, // below example.com, beside www: ns9-12 are free for it
		{a, "ample.com", ""},       // a suffix, not a parent
		{b, "other.example.org", ""},
		{b, "example.org", ""},
	} {
		z, _, err := e.s.CreateZone(ctx, tc.tenant, CreateZoneInput{Name: tc.name, CallerReference: "r-" + tc.name + tc.tenant})
		if tc.want == "" {
			if err != nil {
				t.Errorf("%s for %s: %v", tc.name, tc.tenant, err)
			}
			continue
		}
		if e := wantErr(t, err, tc.want); e != nil && z.ID != "" {
			t.Errorf("%s: zone created %+v", tc.name, z)
		}
	}
	// other.example.org came first, so example.org got the next free set.
	org, _ := e.s.ListZones(ctx, b, ListZonesInput{})
	var sets [][]string
	for _, z := range org.Zones {
		if z.Name == "example.org." || z.Name == "other.example.org." {
			sets = append(sets, z.PoolNames)
		}
	}
	if len(sets) != 2 || !disjoint(sets[0], sets[1]) {
		t.Errorf("example.org and other.example.org share names: %v", sets)
	}

	// Deleting a zone frees its set: the name chain has room again.
	if _, err := e.s.DeleteZone(ctx, c, child.ID); err != nil {
		t.Fatal(err)
	}
	if _, _, err := e.s.CreateZone(ctx, a, CreateZoneInput{Name: "www.example.com", CallerReference: "again"}); err != nil {
		t.Errorf("after delete: %v", err)
	}
	var sets0 int
	if err := e.pool.QueryRow(ctx, `SELECT count(*) FROM delegation_set d WHERE NOT EXISTS
	        (SELECT 1 FROM hosted_zone z WHERE z.delegation_set_id = d.id)`).Scan(&sets0); err != nil || sets0 != 0 {
		t.Errorf("orphaned delegation sets: %d, %v", sets0, err)
	}
}

// TestIntegrationDelegationSetRace: tenants racing for one name get
// pairwise-disjoint sets or a clean ConflictingDomainExists, never two
// sharing a name server.
func TestIntegrationDelegationSetRace(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		names, size, wantWon int
	}{
		{64, 2, 32}, // room for everyone
		{8, 4, 2},   // room for two
		{9, 2, 4},
	} {
		t.Run(fmt.Sprintf("%d/%d", tc.names, tc.size), func(t *testing.T) {
			t.Parallel()
			e := newZoneEnv(t, func(c *Config) {
				c.Pool = poolOf(t, tc.names, tc.size)
				c.PredictableSets = false
			})
			ctx := context.Background()
			const n = 32
			tenants := make([]string, n)
			for i := range tenants {
				tenants[i] = testTenant(t, e.pool)
			}
			var wg sync.WaitGroup
			zones := make([]Zone, n)
			errs := make([]error, n)
			for i := range n {
				wg.Add(1)
				go func() {
					defer wg.Done()
					// Most race for the same name, some for one above
					// or below it: all overlap.
					name := []string{"race.example", "race.example", "w.race.example", "a.w.race.example"}[i%4]
					zones[i], _, errs[i] = e.s.CreateZone(ctx, tenants[i], CreateZoneInput{Name: name, CallerReference: "r"})
				}()
			}
			wg.Wait()
			var won [][]string
			for i, err := range errs {
				switch {
				case err == nil:
					won = append(won, zones[i].PoolNames)
				case !IsCode(err, CodeConflictingDomainExists):
					t.Fatalf("tenant %d: %v", i, err)
				}
			}
			if len(won) != tc.wantWon {
				t.Errorf("%d won, want %d", len(won), tc.wantWon)
			}
			// Check what was stored, not only what was returned.
			rows, _ := e.pool.Query(ctx, `SELECT d.name_servers FROM hosted_zone z JOIN delegation_set d ON d.id = z.delegation_set_id`)
			var stored [][]string
			for rows.Next() {
				var ns []string
				if err := rows.Scan(&ns); err != nil {
					t.Fatal(err)
				}
				stored = append(stored, ns)
			}
			if len(stored) != tc.wantWon {
				t.Errorf("%d zones stored, want %d", len(stored), tc.wantWon)
			}
			for i := range stored {
				if len(stored[i]) != tc.size {
					t.Errorf("set %v has %d names, want %d", stored[i], len(stored[i]), tc.size)
				}
				for j := i + 1; j < len(stored); j++ {
					if !disjoint(stored[i], stored[j]) {
						t.Errorf("sets %v and %v share a name server", stored[i], stored[j])
					}
				}
			}
		})
	}
}

// TestChooseSetSpreads: without PredictableSets, sets are drawn from the
// whole pool (every name gets used), in pool order, never a taken name.
func TestChooseSetSpreads(t *testing.T) {
	p := poolOf(t, 8, 4)
	s := &Service{cfg: Config{Pool: p, Rand: rand.NewChaCha8([32]byte{1})}}
	used := map[string]int{}
	taken := map[string]bool{"ns3.pool.test.": true}
	for range 200 {
		set, err := s.chooseSet(taken)
		if err != nil || len(set) != 4 {
			t.Fatalf("chooseSet = %v, %v", set, err)
		}
		if !slices.IsSortedFunc(set, func(a, b string) int { return p.Index(a) - p.Index(b) }) {
			t.Errorf("set %v not in pool order", set)
		}
		for _, n := range set {
			used[n]++
		}
	}
	if used["ns3.pool.test."] != 0 || len(used) != 7 {
		t.Errorf("names used: %v", used)
	}
	for n, c := range used {
		if c < 60 { // 200 draws of 4 of 7: about 114 each
			t.Errorf("%s used %d times: not spread", n, c)
		}
	}
	s.cfg.PredictableSets = true
	if set, _ := s.chooseSet(taken); !slices.Equal(set, []string{"ns1.pool.test.", "ns2.pool.test.", "ns4.pool.test.", "ns5.pool.test."}) {
		t.Errorf("predictable set = %v", set)
	}
	full := map[string]bool{"ns1.pool.test.": true, "ns2.pool.test.": true, "ns4.pool.test.": true, "ns5.pool.test.": true, "ns3.pool.test.": true}
	if set, err := s.chooseSet(full); set != nil || err != nil {
		t.Errorf("exhausted pool: %v, %v", set, err)
	}
}

func TestIntegrationZoneNameRules(t *testing.T) {
	t.Parallel()
	e := newZoneEnv(t, func(c *Config) {
		c.ReservedNames = []string{"Internal.Example."}
		c.AllowedNames = []string{"github.io", "ok.internal.example"}
	})
	ctx := context.Background()
	a := testTenant(t, e.pool)
	for i, tc := range []struct {
		name, want, reason string
	}{
		{"co.uk", "InvalidDomainName", "ICANN section"},
		{"CO.UK.", "InvalidDomainName", "public suffix"},
		{"s3.amazonaws.com", "InvalidDomainName", "private section"},
		{"blogspot.com", "InvalidDomainName", "private section"},
		{"anything.ck", "InvalidDomainName", "public suffix"}, // *.ck
		{"github.io", "", ""}, // on the allowlist
		{"github.com", "", ""},
		{"example.co.uk", "", ""},
		{"mybucket.s3.amazonaws.com", "", ""},
		{"waymark.test", "InvalidDomainName", "own domain"},
		{"x.waymark.test", "InvalidDomainName", "own domain"},
		{"ns1.waymark.test", "InvalidDomainName", "own domain"},
		{"internal.example", "InvalidDomainName", "reserved by the operator"},
		{"a.internal.example", "InvalidDomainName", "reserved by the operator"},
		{"ok.internal.example", "", ""},
		{"waymark.test.example", "", ""},
	} {
		_, _, err := e.s.CreateZone(ctx, a, CreateZoneInput{Name: tc.name, CallerReference: fmt.Sprint("n", i)})
		if tc.want == "" {
			if err != nil {
				t.Errorf("%s: %v", tc.name, err)
			}
			continue
		}
		if got := wantErr(t, err, Code(tc.want)); got != nil && !strings.Contains(strings.ToLower(got.Message), strings.ToLower(tc.reason)) {
			t.Errorf("%s: message %q does not say %q", tc.name, got.Message, tc.reason)
		}
	}
}

func TestIntegrationReusableDelegationSets(t *testing.T) {
	t.Parallel()
	e := newZoneEnv(t, func(c *Config) { c.Pool = poolOf(t, 8, 4) })
	ctx := context.Background()
	a, b := testTenant(t, e.pool), testTenant(t, e.pool)

	ds, err := e.s.CreateDelegationSet(ctx, a, CreateDelegationSetInput{CallerReference: "set-1",
		VanityNames: []string{"ns1.brand.example", "ns2.brand.example", "ns3.brand.example", "ns4.brand.example"}})
	if err != nil {
		t.Fatal(err)
	}
	if !ds.Reusable || len(ds.PoolNames) != 4 || ds.NameServers[0] != "ns1.brand.example." || ds.ID[0] != 'N' {
		t.Fatalf("set = %+v", ds)
	}
	_, err = e.s.CreateDelegationSet(ctx, a, CreateDelegationSetInput{CallerReference: "set-1"})
	wantErr(t, err, CodeDelegationSetAlreadyCreated)
	_, err = e.s.CreateDelegationSet(ctx, a, CreateDelegationSetInput{CallerReference: "v", VanityNames: []string{"ns1.x.example"}})
	wantErr(t, err, CodeInvalidInput)

	// Several zones share it, with its vanity names as apex NS.
	z1, _, err := e.s.CreateZone(ctx, a, CreateZoneInput{Name: "one.example", CallerReference: "z1", DelegationSetID: ds.ID})
	if err != nil {
		t.Fatal(err)
	}
	z2, _, err := e.s.CreateZone(ctx, a, CreateZoneInput{Name: "two.example", CallerReference: "z2", DelegationSetID: "/delegationset/" + ds.ID})
	if err != nil {
		t.Fatal(err)
	}
	if z1.DelegationSetID != ds.ID || z2.DelegationSetID != ds.ID || !slices.Equal(z2.NameServers, ds.NameServers) ||
		!slices.Equal(z1.PoolNames, ds.PoolNames) {
		t.Errorf("zones = %+v %+v", z1, z2)
	}
	sets := e.allRRSets(t, a, z1.ID)
	if fmt.Sprint(sets[0].Records) != fmt.Sprint(ds.NameServers) {
		t.Errorf("apex NS = %v, want %v", sets[0].Records, ds.NameServers)
	}
	// A child of one.example on the same set would share its servers.
	_, _, err = e.s.CreateZone(ctx, a, CreateZoneInput{Name: "sub.one.example", CallerReference: "z3", DelegationSetID: ds.ID})
	wantErr(t, err, CodeConflictingDomainExists)
	// Another tenant cannot use it; a zone's own set is not reusable.
	_, _, err = e.s.CreateZone(ctx, b, CreateZoneInput{Name: "three.example", CallerReference: "z4", DelegationSetID: ds.ID})
	wantErr(t, err, CodeNoSuchDelegationSet)
	own := e.mustZone(t, a, "own.example")
	_, _, err = e.s.CreateZone(ctx, a, CreateZoneInput{Name: "four.example", CallerReference: "z5", DelegationSetID: own.DelegationSetID})
	wantErr(t, err, CodeDelegationSetNotReusable)
	_, err = e.s.GetDelegationSet(ctx, a, own.DelegationSetID)
	wantErr(t, err, CodeDelegationSetNotReusable)
	_, err = e.s.GetDelegationSet(ctx, b, ds.ID)
	wantErr(t, err, CodeNoSuchDelegationSet)

	// Making a zone's set reusable keeps its id and names.
	fromZone, err := e.s.CreateDelegationSet(ctx, a, CreateDelegationSetInput{CallerReference: "set-2", HostedZoneID: own.ID})
	if err != nil || fromZone.ID != own.DelegationSetID || !slices.Equal(fromZone.NameServers, own.NameServers) {
		t.Fatalf("from zone = %+v, %v", fromZone, err)
	}
	_, err = e.s.CreateDelegationSet(ctx, a, CreateDelegationSetInput{CallerReference: "set-3", HostedZoneID: own.ID})
	wantErr(t, err, CodeDelegationSetAlreadyReusable)
	_, err = e.s.CreateDelegationSet(ctx, b, CreateDelegationSetInput{CallerReference: "set-3", HostedZoneID: own.ID})
	wantErr(t, err, CodeNoSuchHostedZone)

	list, err := e.s.ListDelegationSets(ctx, a)
	if err != nil || len(list) != 2 || list[0].ID != ds.ID || list[1].ID != own.DelegationSetID {
		t.Errorf("list = %+v, %v", list, err)
	}

	// In use: no delete until its zones are gone; a deleted zone leaves a
	// reusable set in place.
	wantErr(t, e.s.DeleteDelegationSet(ctx, a, ds.ID), CodeDelegationSetInUse)
	for _, z := range []Zone{z1, z2} {
		if _, err := e.s.DeleteZone(ctx, a, z.ID); err != nil {
			t.Fatal(err)
		}
	}
	wantErr(t, e.s.DeleteDelegationSet(ctx, b, ds.ID), CodeNoSuchDelegationSet)
	if err := e.s.DeleteDelegationSet(ctx, a, ds.ID); err != nil {
		t.Fatal(err)
	}
	wantErr(t, e.s.DeleteDelegationSet(ctx, a, ds.ID), CodeNoSuchDelegationSet)
	if _, err := e.s.DeleteZone(ctx, a, own.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := e.s.GetDelegationSet(ctx, a, fromZone.ID); err != nil {
		t.Errorf("a reusable set outlives its zone: %v", err)
	}
}

// TestIntegrationMigrationKeepsZonesServing: zones that existed before
// delegation sets get a set made of the names in their apex NS, the
// names they were already delegated to.
func TestIntegrationMigrationKeepsZonesServing(t *testing.T) {
	t.Parallel()
	pool, dsn := pgtest.Schema(t)
	ctx := context.Background()
	for {
		cur, _, err := migrations.Status(ctx, dsn)
		if err != nil {
			t.Fatal(err)
		}
		if cur < 12 {
			break
		}
		if err := migrations.Down(ctx, dsn); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := pool.Exec(ctx, `
		INSERT INTO tenant (id, name) VALUES ('TOLD', 'old');
		INSERT INTO hosted_zone (id, tenant_id, name, caller_reference) VALUES ('ZOLD1', 'TOLD', 'old.example.', 'r1'), ('ZOLD2', 'TOLD', 'bare.example.', 'r2');
		INSERT INTO rrset (zone_id, sort_name, name, type, ttl, records, rdata, updated_version)
		VALUES ('ZOLD1', 'example.old.', 'old.example.', 'NS', 172800, '["NS1.waymark.test.", "ns2.waymark.test."]', '["ns1.waymark.test.", "ns2.waymark.test."]', 1)`); err != nil {
		t.Fatal(err)
	}
	if err := migrations.Up(ctx, dsn, nil); err != nil {
		t.Fatal(err)
	}
	s, err := New(pool, Config{MasterKey: []byte(strings.Repeat("m", 32)), JWTKey: []byte(strings.Repeat("j", 32))})
	if err != nil {
		t.Fatal(err)
	}
	z, err := s.GetZone(ctx, "TOLD", "ZOLD1")
	if err != nil || !slices.Equal(z.NameServers, []string{"ns1.waymark.test.", "ns2.waymark.test."}) || z.DelegationSetID != "NOLD1" {
		t.Errorf("migrated zone = %+v, %v", z, err)
	}
	// A zone without apex NS has an empty set: served on every name by
	// nameservers (as a zone without delegation information).
	if z, err := s.GetZone(ctx, "TOLD", "ZOLD2"); err != nil || len(z.PoolNames) != 0 {
		t.Errorf("zone without NS = %+v, %v", z, err)
	}
	// And a new zone of the same name avoids the migrated set's names.
	nz, _, err := s.CreateZone(ctx, "TOLD", CreateZoneInput{Name: "old.example.", CallerReference: "r3"})
	if err != nil || slices.Contains(nz.PoolNames, "ns1.waymark.test.") || slices.Contains(nz.PoolNames, "ns2.waymark.test.") {
		t.Errorf("new zone beside the migrated one = %+v, %v", nz, err)
	}
}

// TestIntegrationReusableSetDeleteRace: creating a zone on a reusable set
// while the set is deleted ends one way or the other, with Route 53's
// errors, never with a database error.
func TestIntegrationReusableSetDeleteRace(t *testing.T) {
	t.Parallel()
	e := newZoneEnv(t, func(c *Config) { c.Pool = poolOf(t, 8, 4) })
	ctx := context.Background()
	a := testTenant(t, e.pool)
	for i := range 20 {
		ds, err := e.s.CreateDelegationSet(ctx, a, CreateDelegationSetInput{CallerReference: fmt.Sprint("race-", i)})
		if err != nil {
			t.Fatal(err)
		}
		var wg sync.WaitGroup
		var createErr, deleteErr error
		wg.Add(2)
		go func() {
			defer wg.Done()
			_, _, createErr = e.s.CreateZone(ctx, a, CreateZoneInput{Name: fmt.Sprintf("r%d.example", i), CallerReference: fmt.Sprint("z-", i), DelegationSetID: ds.ID})
		}()
		go func() {
			defer wg.Done()
			deleteErr = e.s.DeleteDelegationSet(ctx, a, ds.ID)
		}()
		wg.Wait()
		switch {
		case createErr == nil && IsCode(deleteErr, CodeDelegationSetInUse):
		case deleteErr == nil && IsCode(createErr, CodeNoSuchDelegationSet):
		default:
			t.Fatalf("round %d: create %v, delete %v", i, createErr, deleteErr)
		}
	}
}
