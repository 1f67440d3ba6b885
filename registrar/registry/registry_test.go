package registry_test

import (
	"context"
	"fmt"
	"net/netip"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/waymark-dns/waymark/controlplane"
	"github.com/waymark-dns/waymark/internal/pgtest"
	"github.com/waymark-dns/waymark/nspool"
	"github.com/waymark-dns/waymark/registrar/registry"
)

// clock is a settable test clock.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

func open(t *testing.T) (*registry.Registry, *controlplane.Service, *clock) {
	t.Helper()
	db, _ := pgtest.Schema(t)
	pool, err := nspool.Parse("ns1.pool.wmk.=127.0.91.1,ns2.pool.wmk.=127.0.91.2,ns3.pool.wmk.=127.0.91.3,ns4.pool.wmk.=127.0.91.4", 2)
	if err != nil {
		t.Fatal(err)
	}
	svc, err := controlplane.New(db, controlplane.Config{
		MasterKey: []byte(strings.Repeat("m", 32)), JWTKey: []byte(strings.Repeat("j", 32)),
		Pool: pool, PredictableSets: true,
	})
	if err != nil {
		t.Fatal(err)
	}
	clk := &clock{t: time.Date(2027, 1, 10, 12, 0, 0, 0, time.UTC)}
	r, err := registry.Open(context.Background(), db, svc, registry.Config{Now: clk.now, Pool: pool})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := r.ConfigureTLD(context.Background(), "wmk", registry.Prices{Register: 1000, Renew: 1200, Transfer: 900, Restore: 8000}, registry.DefaultPolicy()); err != nil {
		t.Fatal(err)
	}
	if err := r.EnsureRegistrar(context.Background(), "waymark", "Waymark", ""); err != nil {
		t.Fatal(err)
	}
	return r, svc, clk
}

func TestRegistryDomainCommands(t *testing.T) {
	t.Parallel()
	r, svc, clk := open(t)
	ctx := context.Background()
	tld, err := r.TLD(ctx, "wmk.")
	if err != nil || len(tld.NameServers) != 2 || tld.Policy.NegativeTTL != 60 {
		t.Fatalf("TLD = %+v, %v", tld, err)
	}
	if err := r.SetNameRule(ctx, registry.NameRule{TLD: "wmk", Label: "nic", Kind: "reserved"}); err != nil {
		t.Fatal(err)
	}
	if err := r.SetNameRule(ctx, registry.NameRule{TLD: "wmk", Label: "gold", Kind: "premium", Price: 50000}); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name, want string
		price      int64
	}{
		{"example.wmk", registry.Available, 1000},
		{"nic.wmk.", registry.Reserved, 1000},
		{"gold.wmk", registry.Available, 50000},
		{"a.b.wmk", registry.InvalidNameForTLD, 0},
		{"-x.wmk", registry.InvalidNameForTLD, 0},
	} {
		c, err := r.CheckDomain(ctx, tc.name)
		if err != nil || c.Availability != tc.want || c.Price != tc.price {
			t.Errorf("CheckDomain(%s) = %+v, %v; want %s at %d", tc.name, c, err, tc.want, tc.price)
		}
	}
	if _, err := r.CheckDomain(ctx, "example.com"); !registry.IsCode(err, registry.ErrUnimplementedObject) {
		t.Errorf("CheckDomain(example.com) = %v, want UnimplementedObject", err)
	}

	var created registry.Created
	_, err = r.Do(ctx, func(ctx context.Context, tx *registry.Tx) error {
		var err error
		if created, err = tx.CreateDomain(ctx, "waymark", registry.DomainCreate{Name: "example.wmk", Years: 2}); err != nil {
			return err
		}
		if err := tx.CreateHost(ctx, "waymark", "ns1.example.wmk", []netip.Addr{netip.MustParseAddr("192.0.2.53")}); err != nil {
			return err
		}
		return tx.SetNameservers(ctx, "waymark", "example.wmk", []string{"ns1.example.wmk", "ns.other.example."})
	})
	if err != nil {
		t.Fatal(err)
	}
	if created.Price != 2000 || created.Domain.ExpiresAt.Year() != 2029 || created.Domain.RGP != registry.RGPAdd {
		t.Errorf("created = %+v", created)
	}
	if c, _ := r.CheckDomain(ctx, "example.wmk"); c.Availability != registry.Unavailable {
		t.Errorf("after create: %+v", c)
	}
	tldZone(t, r, svc, tld.ZoneID, "example.wmk.", []string{
		"example.wmk. NS 3600 [ns1.example.wmk. ns.other.example.]",
		"ns1.example.wmk. A 3600 [192.0.2.53]",
	})
	tldZone(t, r, svc, tld.ZoneID, "pool.wmk.", []string{
		"pool.wmk. NS 3600 [ns1.pool.wmk. ns2.pool.wmk. ns3.pool.wmk. ns4.pool.wmk.]",
		"ns1.pool.wmk. A 3600 [127.0.91.1]", "ns2.pool.wmk. A 3600 [127.0.91.2]",
		"ns3.pool.wmk. A 3600 [127.0.91.3]", "ns4.pool.wmk. A 3600 [127.0.91.4]",
	})
	for _, tc := range []struct {
		name string
		cmd  func(ctx context.Context, tx *registry.Tx) error
		want registry.Code
	}{
		{"reserved", func(ctx context.Context, tx *registry.Tx) error {
			_, err := tx.CreateDomain(ctx, "waymark", registry.DomainCreate{Name: "nic.wmk"})
			return err
		}, registry.ErrPolicy},
		{"11 years", func(ctx context.Context, tx *registry.Tx) error {
			_, err := tx.CreateDomain(ctx, "waymark", registry.DomainCreate{Name: "long.wmk", Years: 11})
			return err
		}, registry.ErrParameterRange},
		{"exists", func(ctx context.Context, tx *registry.Tx) error {
			_, err := tx.CreateDomain(ctx, "waymark", registry.DomainCreate{Name: "example.wmk"})
			return err
		}, registry.ErrObjectExists},
		{"wrong expiry year", func(ctx context.Context, tx *registry.Tx) error {
			_, err := tx.RenewDomain(ctx, "waymark", "example.wmk", 2028, 1)
			return err
		}, registry.ErrParameterRange},
		{"beyond 10 years", func(ctx context.Context, tx *registry.Tx) error {
			_, err := tx.RenewDomain(ctx, "waymark", "example.wmk", 2029, 9)
			return err
		}, registry.ErrPolicy},
		{"glue-less host inside", func(ctx context.Context, tx *registry.Tx) error {
			return tx.SetNameservers(ctx, "waymark", "example.wmk", []string{"ns9.example.wmk"})
		}, registry.ErrObjectDoesNotExist},
		{"other registrar", func(ctx context.Context, tx *registry.Tx) error {
			_, err := tx.RenewDomain(ctx, "other", "example.wmk", 2029, 1)
			return err
		}, registry.ErrAuthorization},
	} {
		if _, err := r.Do(ctx, tc.cmd); !registry.IsCode(err, tc.want) {
			t.Errorf("%s: %v, want %s", tc.name, err, tc.want)
		}
	}
	if _, err := r.Do(ctx, func(ctx context.Context, tx *registry.Tx) error {
		c, err := tx.RenewDomain(ctx, "waymark", "example.wmk", 2029, 1)
		if err == nil && (c.Price != 1200 || c.Domain.ExpiresAt.Year() != 2030) {
			t.Errorf("renewed = %+v", c)
		}
		return err
	}); err != nil {
		t.Fatal(err)
	}

	// Delete in the add grace period: released and refunded.
	var refund bool
	if _, err := r.Do(ctx, func(ctx context.Context, tx *registry.Tx) error {
		if _, err := tx.CreateDomain(ctx, "waymark", registry.DomainCreate{Name: "quick.wmk"}); err != nil {
			return err
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if _, err := r.Do(ctx, func(ctx context.Context, tx *registry.Tx) (err error) {
		refund, err = tx.DeleteDomain(ctx, "waymark", "quick.wmk")
		return err
	}); err != nil || !refund {
		t.Fatalf("delete in add grace: refund %v, %v", refund, err)
	}
	if c, _ := r.CheckDomain(ctx, "quick.wmk"); c.Availability != registry.Available {
		t.Errorf("after add-grace delete: %+v", c)
	}
	// After the add grace period: redemption, then restore.
	clk.advance(6 * 24 * time.Hour)
	if _, err := r.Do(ctx, func(ctx context.Context, tx *registry.Tx) (err error) {
		refund, err = tx.DeleteDomain(ctx, "waymark", "example.wmk")
		return err
	}); err != nil || refund {
		t.Fatalf("delete: refund %v, %v", refund, err)
	}
	if d, _ := r.Domain(ctx, "example.wmk"); d.RGP != registry.RGPRedemption || d.InDNS() {
		t.Errorf("after delete: %+v", d)
	}
	tldZone(t, r, svc, tld.ZoneID, "example.wmk.", nil)
	if _, err := r.Do(ctx, func(ctx context.Context, tx *registry.Tx) error {
		c, err := tx.RestoreDomain(ctx, "waymark", "example.wmk")
		if err == nil && c.Price != 8000 {
			t.Errorf("restore price %d", c.Price)
		}
		return err
	}); err != nil {
		t.Fatal(err)
	}
	if d, _ := r.Domain(ctx, "example.wmk"); !d.InDNS() {
		t.Errorf("after restore: %+v", d)
	}
	tldZone(t, r, svc, tld.ZoneID, "example.wmk.", []string{
		"example.wmk. NS 3600 [ns1.example.wmk. ns.other.example.]",
		"ns1.example.wmk. A 3600 [192.0.2.53]",
	})
}

// TestRegistryCreateRace races 32 creates of one name: exactly one wins.
func TestRegistryCreateRace(t *testing.T) {
	t.Parallel()
	r, _, _ := open(t)
	ctx := context.Background()
	for round := range 5 {
		name := fmt.Sprintf("race%d.wmk", round)
		var won, lost atomic.Int32
		var wg sync.WaitGroup
		for range 32 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				_, err := r.Do(ctx, func(ctx context.Context, tx *registry.Tx) error {
					_, err := tx.CreateDomain(ctx, "waymark", registry.DomainCreate{Name: name})
					return err
				})
				switch {
				case err == nil:
					won.Add(1)
				case registry.IsCode(err, registry.ErrObjectExists):
					lost.Add(1)
				default:
					t.Errorf("create: %v", err)
				}
			}()
		}
		wg.Wait()
		if won.Load() != 1 || lost.Load() != 31 {
			t.Fatalf("round %d: %d won, %d lost", round, won.Load(), lost.Load())
		}
	}
}

// tldZone checks the record sets of the TLD zone at and below name.
func tldZone(t *testing.T, r *registry.Registry, svc *controlplane.Service, zoneID, name string, want []string) {
	t.Helper()
	page, err := svc.ListRRSets(context.Background(), r.TenantID(), zoneID, controlplane.ListRRSetsInput{MaxItems: 300})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, rs := range page.RRSets {
		if rs.Name == name || strings.HasSuffix(rs.Name, "."+name) {
			got = append(got, fmt.Sprintf("%s %s %d %v", rs.Name, rs.Type, rs.TTL, rs.Records))
		}
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("TLD zone at %s:\n got %q\nwant %q", name, got, want)
	}
}
