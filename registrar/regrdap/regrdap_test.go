package regrdap_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/openrdap/rdap"
	"github.com/waymark-dns/waymark/controlplane"
	"github.com/waymark-dns/waymark/internal/pgtest"
	"github.com/waymark-dns/waymark/nspool"
	wrdap "github.com/waymark-dns/waymark/registrar/rdap"
	"github.com/waymark-dns/waymark/registrar/registry"
	"github.com/waymark-dns/waymark/registrar/regrdap"
)

// open returns a registry on its own schema with the TLD wmk and the
// registrar "waymark".
func open(t testing.TB) *registry.Registry {
	t.Helper()
	db, _ := pgtest.Schema(t)
	pool, err := nspool.Parse("ns1.pool.wmk.=127.0.91.1,ns2.pool.wmk.=127.0.91.2", 2)
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
	t0 := time.Date(2027, 1, 10, 12, 0, 0, 0, time.UTC)
	r, err := registry.Open(context.Background(), db, svc, registry.Config{Now: func() time.Time { return t0 }, Pool: pool})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := r.ConfigureTLD(context.Background(), "wmk", registry.Prices{Register: 1000, Renew: 1000, Transfer: 1000, Restore: 1000}, registry.DefaultPolicy()); err != nil {
		t.Fatal(err)
	}
	if err := r.EnsureRegistrar(context.Background(), "waymark", "Waymark", ""); err != nil {
		t.Fatal(err)
	}
	return r
}

// TestOpenRDAPAgainstRegistry: a domain registered through the registry's
// Go API (PostgreSQL), looked up by the independent client
// github.com/openrdap/rdap: statuses, nameservers with glue addresses,
// secureDNS equal to the published DS (none once on hold), contacts
// redacted unless disclosed, and not-found answers.
func TestOpenRDAPAgainstRegistry(t *testing.T) {
	t.Parallel()
	r := open(t)
	ctx := context.Background()
	ds := registry.DS{KeyTag: 12345, Algorithm: 13, DigestType: 2, Digest: strings.Repeat("AB", 32)}
	_, err := r.Do(ctx, func(ctx context.Context, tx *registry.Tx) error {
		if _, err := tx.CreateContact(ctx, "waymark", "jd1", registry.ContactInfo{Name: "J Doe", City: "Oslo", CountryCode: "NO", Email: "jd@example.test"}); err != nil {
			return err
		}
		if _, err := tx.CreateDomain(ctx, "waymark", registry.DomainCreate{Name: "example.wmk", Years: 1, Registrant: "jd1", Tech: "jd1"}); err != nil {
			return err
		}
		if err := tx.CreateHost(ctx, "waymark", "ns1.example.wmk", []netip.Addr{netip.MustParseAddr("192.0.2.53")}); err != nil {
			return err
		}
		if err := tx.SetNameservers(ctx, "waymark", "example.wmk", []string{"ns1.example.wmk", "ns.other.example."}); err != nil {
			return err
		}
		return tx.AddDS(ctx, "waymark", "example.wmk", []registry.DS{ds})
	})
	if err != nil {
		t.Fatal(err)
	}

	for _, tc := range []struct {
		name     string
		disclose bool
		wantFN   string
	}{
		{"redacted by default", false, ""},
		{"disclosed", true, "J Doe"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := client(t, &regrdap.Source{Registry: r, Disclose: tc.disclose})
			resp, err := c.do(rdap.DomainRequest, "EXAMPLE.wmk")
			if err != nil {
				t.Fatal(err)
			}
			d := resp.Object.(*rdap.Domain)
			if d.LDHName != "example.wmk" || !reflect.DeepEqual(d.Status, []string{"active", "add period"}) {
				t.Errorf("domain = %q %v", d.LDHName, d.Status)
			}
			if sd := d.SecureDNS; sd == nil || !*sd.DelegationSigned || len(sd.DS) != 1 || *sd.DS[0].KeyTag != 12345 || !strings.EqualFold(sd.DS[0].Digest, ds.Digest) {
				t.Errorf("secureDNS = %+v", d.SecureDNS)
			}
			if len(d.Nameservers) != 2 || d.Nameservers[0].LDHName != "ns1.example.wmk" || d.Nameservers[0].IPAddresses == nil ||
				d.Nameservers[0].IPAddresses.V4[0] != "192.0.2.53" || d.Nameservers[1].LDHName != "ns.other.example" {
				t.Errorf("nameservers = %+v", d.Nameservers)
			}
			if len(d.Entities) != 2 || d.Entities[0].Handle != "waymark" || d.Entities[1].Handle != "jd1" ||
				!reflect.DeepEqual(d.Entities[1].Roles, []string{"registrant", "technical"}) {
				t.Fatalf("entities = %+v", d.Entities)
			}
			if fn := d.Entities[1].VCard.Name(); fn != tc.wantFN {
				t.Errorf("contact fn = %q, want %q", fn, tc.wantFN)
			}
			if e, err := c.do(rdap.EntityRequest, "jd1"); err != nil || e.Object.(*rdap.Entity).Handle != "jd1" {
				t.Errorf("entity jd1: %v", err)
			}
			if n, err := c.do(rdap.NameserverRequest, "ns1.example.wmk"); err != nil || n.Object.(*rdap.Nameserver).IPAddresses.V4[0] != "192.0.2.53" {
				t.Errorf("nameserver: %v", err)
			}
			for _, q := range []struct {
				typ rdap.RequestType
				arg string
			}{{rdap.DomainRequest, "absent.wmk"}, {rdap.NameserverRequest, "ns.other.example"}, {rdap.EntityRequest, "nobody"}} {
				if _, err := c.do(q.typ, q.arg); !isNotFound(err) {
					t.Errorf("%v %s: %v, want 404", q.typ, q.arg, err)
				}
			}
		})
	}

	// On hold the TLD zone withdraws the delegation: secureDNS says so.
	if _, err := r.Do(ctx, func(ctx context.Context, tx *registry.Tx) error {
		// SetStatus takes the canonical name (with the final dot).
		return tx.SetStatus(ctx, "example.wmk.", registry.StatusClientHold, true)
	}); err != nil {
		t.Fatal(err)
	}
	resp, err := client(t, &regrdap.Source{Registry: r}).do(rdap.DomainRequest, "example.wmk")
	if err != nil {
		t.Fatal(err)
	}
	d := resp.Object.(*rdap.Domain)
	if d.SecureDNS == nil || *d.SecureDNS.DelegationSigned || len(d.SecureDNS.DS) != 0 || !contains(d.Status, "client hold") {
		t.Errorf("on hold: status %v secureDNS %+v", d.Status, d.SecureDNS)
	}
}

type rdapClient struct {
	srv *httptest.Server
	c   *rdap.Client
}

func client(t testing.TB, src wrdap.Source) rdapClient {
	t.Helper()
	mux := http.NewServeMux()
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	mux.Handle("/rdap/", http.StripPrefix("/rdap", &wrdap.Handler{Source: src, BaseURL: srv.URL + "/rdap"}))
	return rdapClient{srv: srv, c: &rdap.Client{HTTP: srv.Client()}}
}

func (c rdapClient) do(typ rdap.RequestType, q string) (*rdap.Response, error) {
	u, _ := url.Parse(c.srv.URL + "/rdap")
	return c.c.Do(&rdap.Request{Type: typ, Query: q, Server: u})
}

func isNotFound(err error) bool {
	ce, ok := err.(*rdap.ClientError)
	return ok && ce.Type == rdap.ObjectDoesNotExist
}

func contains(s []string, v string) bool {
	for _, x := range s {
		if x == v {
			return true
		}
	}
	return false
}
