package rdap

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/openrdap/rdap"
)

// mapSource is a Source over maps, for the protocol tests.
type mapSource struct {
	domains  map[string]Domain
	hosts    map[string]Nameserver
	entities map[string]Entity
}

func (m mapSource) Domain(_ context.Context, n string) (Domain, error) {
	if d, ok := m.domains[n]; ok {
		return d, nil
	}
	if n == "broken.test" {
		return Domain{}, errors.New("database down")
	}
	return Domain{}, ErrNotFound
}

func (m mapSource) Nameserver(_ context.Context, n string) (Nameserver, error) {
	if h, ok := m.hosts[n]; ok {
		return h, nil
	}
	return Nameserver{}, ErrNotFound
}

func (m mapSource) Entity(_ context.Context, h string) (Entity, error) {
	if e, ok := m.entities[h]; ok {
		return e, nil
	}
	return Entity{}, ErrNotFound
}

var (
	t0  = time.Date(2026, 12, 2, 9, 0, 0, 0, time.UTC)
	ns1 = Nameserver{Name: "ns1.example.test", Handle: "H1-TEST", Status: []string{"linked"}, Addrs: []netip.Addr{netip.MustParseAddr("192.0.2.1"), netip.MustParseAddr("2001:db8::1")}}
	ds1 = DS{KeyTag: 12345, Algorithm: 13, DigestType: 2, Digest: "E2D3C916F6DEEAC73294E8268FB5885044A833FC5459588F4A9184CFC41A5766"}
	pub = Entity{Handle: "jd1", Roles: []string{"registrant"}, Name: "J Doe", Org: "Example AS", Street: []string{"1 Gate"}, City: "Oslo", PC: "0150", CC: "NO", Voice: "+47.12345678", Email: "jd@example.test"}
	prv = Entity{Handle: "pv1", Roles: []string{"registrant"}, Name: "P Vate", City: "Bergen", CC: "NO", Email: "p@example.test", Private: true}
)

func newServer(t testing.TB) *httptest.Server {
	t.Helper()
	src := mapSource{
		domains: map[string]Domain{
			"example.test": {Name: "example.test", Handle: "D1-TEST", Status: []string{"ok", "addPeriod", "clientTransferProhibited"}, Registered: t0, Expires: t0.AddDate(1, 0, 0),
				Nameservers: []Nameserver{ns1}, DS: []DS{ds1}, Entities: []Entity{pub, {Handle: "reg-a", Roles: []string{"registrar"}, Name: "Registrar A"}}},
			"private.test": {Name: "private.test", Handle: "D2-TEST", Status: []string{"clientHold"}, Registered: t0, Entities: []Entity{prv}},
		},
		hosts:    map[string]Nameserver{"ns1.example.test": ns1},
		entities: map[string]Entity{"jd1": pub, "pv1": prv},
	}
	mux := http.NewServeMux()
	var h *Handler
	srv := httptest.NewServer(mux)
	h = &Handler{Source: src, BaseURL: srv.URL + "/rdap", Now: func() time.Time { return t0 }}
	mux.Handle("/rdap/", http.StripPrefix("/rdap", h))
	t.Cleanup(srv.Close)
	return srv
}

func query(t *testing.T, srv *httptest.Server, typ rdap.RequestType, q string) (*rdap.Response, error) {
	t.Helper()
	u, _ := url.Parse(srv.URL + "/rdap")
	c := &rdap.Client{HTTP: srv.Client()}
	return c.Do(&rdap.Request{Type: typ, Query: q, Server: u})
}

// TestOpenRDAPDecodes: the independent client (github.com/openrdap/rdap)
// decodes our domain, nameserver and entity answers, secureDNS equal to
// the DS given, statuses mapped by RFC 8056.
func TestOpenRDAPDecodes(t *testing.T) {
	t.Parallel()
	srv := newServer(t)
	resp, err := query(t, srv, rdap.DomainRequest, "Example.TEST.")
	if err != nil {
		t.Fatal(err)
	}
	d, ok := resp.Object.(*rdap.Domain)
	if !ok {
		t.Fatalf("object = %T", resp.Object)
	}
	if d.LDHName != "example.test" || d.Handle != "D1-TEST" || !reflect.DeepEqual(d.Status, []string{"active", "add period", "client transfer prohibited"}) {
		t.Errorf("domain = %q %q %v", d.LDHName, d.Handle, d.Status)
	}
	sd := d.SecureDNS
	if sd == nil || sd.DelegationSigned == nil || !*sd.DelegationSigned || len(sd.DS) != 1 || *sd.DS[0].KeyTag != 12345 || *sd.DS[0].Algorithm != 13 || *sd.DS[0].DigestType != 2 || sd.DS[0].Digest != ds1.Digest {
		t.Errorf("secureDNS = %+v", sd)
	}
	if len(d.Nameservers) != 1 || d.Nameservers[0].LDHName != "ns1.example.test" || d.Nameservers[0].IPAddresses.V6[0] != "2001:db8::1" {
		t.Errorf("nameservers = %+v", d.Nameservers)
	}
	events := map[string]string{}
	for _, e := range d.Events {
		events[e.Action] = e.Date
	}
	if events["registration"] != "2026-12-02T09:00:00Z" || events["expiration"] != "2027-12-02T09:00:00Z" || events["last update of RDAP database"] == "" {
		t.Errorf("events = %v", events)
	}
	if len(d.Entities) != 2 || d.Entities[0].VCard.Name() != "J Doe" || d.Entities[0].VCard.Email() != "jd@example.test" || d.Entities[0].VCard.Locality() != "Oslo" || d.Entities[1].Roles[0] != "registrar" {
		t.Errorf("entities = %+v", d.Entities)
	}

	resp, err = query(t, srv, rdap.NameserverRequest, "ns1.example.test")
	if err != nil {
		t.Fatal(err)
	}
	if n := resp.Object.(*rdap.Nameserver); n.LDHName != "ns1.example.test" || n.IPAddresses.V4[0] != "192.0.2.1" || n.Status[0] != "associated" {
		t.Errorf("nameserver = %+v", n)
	}
	resp, err = query(t, srv, rdap.EntityRequest, "jd1")
	if err != nil {
		t.Fatal(err)
	}
	if e := resp.Object.(*rdap.Entity); e.Handle != "jd1" || e.VCard.Tel() != "tel:+47.12345678" {
		t.Errorf("entity = %+v", e)
	}
	resp, err = query(t, srv, rdap.HelpRequest, "")
	if err != nil {
		t.Fatal(err)
	}
	if h, ok := resp.Object.(*rdap.Help); !ok || len(h.Notices) != 1 {
		t.Errorf("help = %+v", resp.Object)
	}

	_, err = query(t, srv, rdap.DomainRequest, "absent.test")
	var ce *rdap.ClientError
	if !errors.As(err, &ce) || ce.Type != rdap.ObjectDoesNotExist {
		t.Errorf("absent = %v", err)
	}
}

// TestPrivacyRedacts: a private contact shows only its handle, roles and
// an empty fn, and the answer lists the redactions (RFC 9537).
func TestPrivacyRedacts(t *testing.T) {
	t.Parallel()
	srv := newServer(t)
	for _, path := range []string{"/rdap/domain/private.test", "/rdap/entity/pv1"} {
		res, err := srv.Client().Get(srv.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		var body map[string]any
		err = json.NewDecoder(res.Body).Decode(&body)
		res.Body.Close()
		if err != nil {
			t.Fatal(err)
		}
		raw, _ := json.Marshal(body)
		for _, leak := range []string{"P Vate", "Bergen", "p@example.test"} {
			if strings.Contains(string(raw), leak) {
				t.Errorf("%s leaks %q: %s", path, leak, raw)
			}
		}
		if _, ok := body["redacted"]; !ok || !strings.Contains(string(raw), `"redacted"`) {
			t.Errorf("%s has no redacted member", path)
		}
		if conf := body["rdapConformance"].([]any); len(conf) != 2 || conf[1] != "redacted" {
			t.Errorf("%s conformance = %v", path, conf)
		}
	}
	resp, err := query(t, srv, rdap.DomainRequest, "private.test")
	if err != nil {
		t.Fatal(err)
	}
	d := resp.Object.(*rdap.Domain)
	if d.Status[0] != "client hold" || *d.SecureDNS.DelegationSigned {
		t.Errorf("private.test = %v %+v", d.Status, d.SecureDNS)
	}
}

// TestHTTP covers the media type, errors and methods, by status code.
func TestHTTP(t *testing.T) {
	t.Parallel()
	srv := newServer(t)
	tests := []struct {
		method, path string
		want         int
	}{
		{"GET", "/rdap/domain/example.test", 200},
		{"HEAD", "/rdap/domain/example.test", 200},
		{"GET", "/rdap/domain/absent.test", 404},
		{"GET", "/rdap/domain/broken.test", 500},
		{"GET", "/rdap/domain/bad_name!", 400},
		{"GET", "/rdap/domain/" + strings.Repeat("a", 64) + ".test", 400},
		{"GET", "/rdap/domain/", 400},
		{"GET", "/rdap/domains?name=ex*", 501},
		{"GET", "/rdap/autnum/1", 400},
		{"POST", "/rdap/domain/example.test", 405},
		{"GET", "/rdap/help", 200},
	}
	for _, tt := range tests {
		req, _ := http.NewRequest(tt.method, srv.URL+tt.path, nil)
		res, err := srv.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != tt.want || res.Header.Get("Content-Type") != ContentType {
			t.Errorf("%s %s = %d %q, want %d %s", tt.method, tt.path, res.StatusCode, res.Header.Get("Content-Type"), tt.want, ContentType)
		}
	}
}

// TestStatus is RFC 8056 §2's table for the statuses the registry uses.
func TestStatus(t *testing.T) {
	t.Parallel()
	for epp, want := range map[string]string{
		"ok": "active", "linked": "associated", "inactive": "inactive", "clientHold": "client hold", "serverHold": "server hold",
		"pendingTransfer": "pending transfer", "pendingDelete": "pending delete", "clientTransferProhibited": "client transfer prohibited",
		"serverUpdateProhibited": "server update prohibited", "addPeriod": "add period", "autoRenewPeriod": "auto renew period",
		"renewPeriod": "renew period", "transferPeriod": "transfer period", "redemptionPeriod": "redemption period", "pendingRestore": "pending restore",
	} {
		if got := Status(epp); got != want {
			t.Errorf("Status(%q) = %q, want %q", epp, got, want)
		}
	}
}

// FuzzQuery: no query path makes the handler panic or answer 500 (the
// source here never fails but for broken.test), and every answer is JSON.
func FuzzQuery(f *testing.F) {
	for _, s := range []string{"/domain/example.test", "/nameserver/NS1.example.test.", "/entity/jd1", "/help", "/domain/..", "/domain/\xff"} {
		f.Add(s)
	}
	h := &Handler{Source: mapSource{}, BaseURL: "http://x"}
	f.Fuzz(func(t *testing.T, path string) {
		req := httptest.NewRequest("GET", "http://x/", nil)
		req.URL.Path = path
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code == 500 && !strings.Contains(path, "broken.test") {
			t.Fatalf("%q: 500", path)
		}
		if !json.Valid(rec.Body.Bytes()) {
			t.Fatalf("%q: not JSON: %s", path, rec.Body.Bytes())
		}
	})
}
