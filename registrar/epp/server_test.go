package epp

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"math/big"
	"net"
	"net/netip"
	"reflect"
	"strings"
	"testing"
	"time"
)

// selfSigned makes a certificate and key for tests (server: for 127.0.0.1).
func selfSigned(t testing.TB, cn string, server bool) tls.Certificate {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: cn},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth, x509.ExtKeyUsageServerAuth}}
	if server {
		tmpl.IPAddresses = []net.IP{net.IPv4(127, 0, 0, 1)}
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	leaf, _ := x509.ParseCertificate(der)
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key, Leaf: leaf}
}

type rig struct {
	srv     *Server
	reg     *memRegistry
	addr    string
	roots   *x509.CertPool
	clients map[string]tls.Certificate
	server  tls.Certificate
}

func newRig(t testing.TB, tune func(*Server)) *rig {
	t.Helper()
	sc := selfSigned(t, "epp.test", true)
	roots := x509.NewCertPool()
	roots.AddCert(sc.Leaf)
	now := time.Date(2026, 12, 2, 9, 0, 0, 0, time.UTC)
	r := &rig{reg: newMemRegistry(now), roots: roots, clients: map[string]tls.Certificate{}, server: sc}
	for _, id := range []string{"reg-a", "reg-b"} {
		c := selfSigned(t, id, false)
		r.clients[id] = c
		r.reg.users[id] = memUser{pw: "secret-" + id, cert: sha256.Sum256(c.Certificate[0])}
	}
	r.srv = &Server{Registry: r.reg, ServerID: "waymark-test", Now: func() time.Time { return now },
		TLS: &tls.Config{Certificates: []tls.Certificate{sc}, ClientAuth: tls.RequireAnyClientCert, MinVersion: tls.VersionTLS12}}
	if tune != nil {
		tune(r.srv)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	r.addr = ln.Addr().String()
	done := make(chan error, 1)
	go func() { done <- r.srv.Serve(ln) }()
	t.Cleanup(func() {
		r.srv.Close()
		if err := <-done; !errors.Is(err, ErrServerClosed) {
			t.Errorf("Serve = %v", err)
		}
	})
	return r
}

func (r *rig) dial(t testing.TB, id string) *Client {
	t.Helper()
	cfg := &tls.Config{RootCAs: r.roots, MinVersion: tls.VersionTLS12}
	if c, ok := r.clients[id]; ok {
		cfg.Certificates = []tls.Certificate{c}
	}
	c, err := Dial(context.Background(), r.addr, cfg, id+"-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func (r *rig) login(t testing.TB, id string) *Client {
	t.Helper()
	c := r.dial(t, id)
	if err := c.Login(context.Background(), id, "secret-"+id, ""); err != nil {
		t.Fatal(err)
	}
	return c
}

func wantCode(t *testing.T, err error, code Code) {
	t.Helper()
	if got := CodeOf(err); got != code || (code == CodeOK) != (err == nil) {
		t.Fatalf("err = %v, want code %d", err, code)
	}
}

// TestClientAgainstServer runs a registrar's day through our client and
// server: hosts, contacts, a domain with DS, info, DS update, renew, and a
// transfer that is pending until the losing registrar approves it, settled
// on the gaining side by the poll message.
func TestClientAgainstServer(t *testing.T) {
	t.Parallel()
	r := newRig(t, nil)
	ctx := context.Background()
	a := r.login(t, "reg-a")
	if g := a.Greeting; g.SvID != "waymark-test" || !reflect.DeepEqual(g.Menu.ObjURI, ServedObjURIs) || !reflect.DeepEqual(g.Menu.Extensions.ExtURI, ServedExtURIs) {
		t.Fatalf("greeting = %+v", g)
	}
	wantCode(t, a.CreateHost(ctx, "ns1.example.test", netip.MustParseAddr("192.0.2.1"), netip.MustParseAddr("2001:db8::1")), CodeOK)
	wantCode(t, a.CreateHost(ctx, "ns1.example.test"), CodeObjectExists)
	h, err := a.InfoHost(ctx, "ns1.example.test")
	if err != nil || len(h.Addrs) != 2 || h.Addrs[1] != netip.MustParseAddr("2001:db8::1") {
		t.Fatalf("host = %+v, %v", h, err)
	}
	wantCode(t, a.CreateContact(ctx, Contact{ID: "jd1", Email: "jd@example.test", AuthInfo: "c0ntact!", Private: true,
		Postal: []Postal{{Type: "int", Name: "J Doe", City: "Oslo", CC: "NO", Street: []string{"1 Gate"}}}}), CodeOK)
	ct, err := a.InfoContact(ctx, "jd1", "")
	if err != nil || !ct.Private || ct.Postal[0].Street[0] != "1 Gate" {
		t.Fatalf("contact = %+v, %v", ct, err)
	}
	cs, err := a.CheckDomains(ctx, "example.test", "other.test")
	if err != nil || !cs[0].Avail || !cs[1].Avail {
		t.Fatalf("check = %+v, %v", cs, err)
	}
	ds := DS{KeyTag: 12345, Alg: 13, DigestType: 2, Digest: "E2D3C916F6DEEAC73294E8268FB5885044A833FC5459588F4A9184CFC41A5766"}
	d, pending, err := a.CreateDomain(ctx, DomainCreate{Name: "example.test", Years: 2, NS: []string{"ns1.example.test"}, Registrant: "jd1",
		Contacts: []ContactLink{{"admin", "jd1"}}, AuthInfo: "2fooBAR!", DS: []DS{ds}})
	if err != nil || pending || d.ExDate.Year() != 2028 {
		t.Fatalf("create = %+v %v %v", d, pending, err)
	}
	_, _, err = a.CreateDomain(ctx, DomainCreate{Name: "example.test", AuthInfo: "x"})
	wantCode(t, err, CodeObjectExists)
	info, err := a.InfoDomain(ctx, "example.test", "")
	if err != nil || !reflect.DeepEqual(info.DS, []DS{ds}) || info.NS[0] != "ns1.example.test" || info.RGPStatus[0] != "addPeriod" || info.AuthInfo != "2fooBAR!" {
		t.Fatalf("info = %+v, %v", info, err)
	}
	ds2 := DS{KeyTag: 2371, Alg: 13, DigestType: 2, Digest: "1F987CC6583E92DF0890718C42A1D7BDF6B8E5F8B7E3B0E0F4F2E0C3B2D9A1C0"}
	if _, err := a.UpdateDomain(ctx, DomainUpdate{Name: "example.test", RemAllDS: true, AddDS: []DS{ds2}}); err != nil {
		t.Fatal(err)
	}
	if info, _ = a.InfoDomain(ctx, "example.test", ""); !reflect.DeepEqual(info.DS, []DS{ds2}) {
		t.Fatalf("DS after update = %+v", info.DS)
	}
	_, _, err = a.RenewDomain(ctx, "example.test", info.ExDate.AddDate(0, 0, 1), 1)
	wantCode(t, err, CodeParameterPolicy)
	ren, _, err := a.RenewDomain(ctx, "example.test", info.ExDate, 1)
	if err != nil || ren.ExDate.Year() != 2029 {
		t.Fatalf("renew = %+v, %v", ren, err)
	}

	b := r.login(t, "reg-b")
	if info, _ := b.InfoDomain(ctx, "example.test", ""); info.AuthInfo != "" {
		t.Errorf("a non-sponsor sees authInfo %q", info.AuthInfo)
	}
	_, _, err = b.TransferDomain(ctx, TransferRequest{Op: "request", Name: "example.test", AuthInfo: "wrong"})
	wantCode(t, err, CodeInvalidAuthInfo)
	tr, pending, err := b.TransferDomain(ctx, TransferRequest{Op: "request", Name: "example.test", AuthInfo: "2fooBAR!"})
	if err != nil || !pending || tr.Status != "pending" || tr.ReID != "reg-b" {
		t.Fatalf("transfer = %+v %v %v", tr, pending, err)
	}
	if p := b.Pending(); len(p) != 1 || p[0].Command != "transfer" {
		t.Fatalf("pending = %+v", p)
	}
	// The losing registrar learns of it by poll, and approves.
	msg, n, err := a.Poll(ctx)
	if err != nil || n != 1 || msg.Transfer == nil || msg.Transfer.Status != "pending" {
		t.Fatalf("poll = %+v %d %v", msg, n, err)
	}
	if left, err := a.Ack(ctx, msg.ID); err != nil || left != 0 {
		t.Fatalf("ack = %d, %v", left, err)
	}
	if _, _, err := a.TransferDomain(ctx, TransferRequest{Op: "approve", Name: "example.test"}); err != nil {
		t.Fatal(err)
	}
	settled, other, err := b.Settle(ctx)
	if err != nil || len(settled) != 1 || !settled[0].OK || settled[0].Status != "clientApproved" || len(other) != 0 {
		t.Fatalf("settle = %+v %+v %v", settled, other, err)
	}
	if len(b.Pending()) != 0 {
		t.Errorf("still pending: %+v", b.Pending())
	}
	if m, _, err := b.Poll(ctx); m != nil || err != nil {
		t.Errorf("queue after settle = %+v, %v", m, err)
	}
	if info, _ := b.InfoDomain(ctx, "example.test", ""); info.ClID != "reg-b" {
		t.Errorf("sponsor after transfer = %q", info.ClID)
	}
	_, err = a.DeleteDomain(ctx, "example.test")
	wantCode(t, err, CodeAuthorizationError)
	if _, err := b.Hello(ctx); err != nil {
		t.Fatal(err)
	}
	wantCode(t, b.Logout(ctx), CodeOK)
}

// raw sends one frame on a fresh logged-in-or-not session and returns the
// first result code and whether the server then closed the connection.
func rawSession(t *testing.T, r *rig, id string, login bool, frames ...string) []Code {
	t.Helper()
	c := r.dial(t, id)
	if login {
		if err := c.Login(context.Background(), id, "secret-"+id, ""); err != nil {
			t.Fatal(err)
		}
	}
	var codes []Code
	for _, f := range frames {
		if err := WriteFrame(c.conn, []byte(f)); err != nil {
			codes = append(codes, -1) // the server closed the session
			continue
		}
		m, err := c.read(context.Background())
		if err != nil {
			codes = append(codes, -1)
			continue
		}
		codes = append(codes, m.Response.Result[0].Code)
	}
	return codes
}

const (
	cmdCheck  = `<epp xmlns="urn:ietf:params:xml:ns:epp-1.0"><command><check><domain:check xmlns:domain="urn:ietf:params:xml:ns:domain-1.0"><domain:name>a.test</domain:name></domain:check></check><clTRID>t1</clTRID></command></epp>`
	cmdUnkExt = `<epp xmlns="urn:ietf:params:xml:ns:epp-1.0"><command><check><domain:check xmlns:domain="urn:ietf:params:xml:ns:domain-1.0"><domain:name>a.test</domain:name></domain:check></check><extension><x:y xmlns:x="urn:example:ext"/></extension></command></epp>`
	cmdUnkObj = `<epp xmlns="urn:ietf:params:xml:ns:epp-1.0"><command><check><x:check xmlns:x="urn:example:obj"/></check></command></epp>`
	cmdHostA  = `<epp xmlns="urn:ietf:params:xml:ns:epp-1.0"><command><create><domain:create xmlns:domain="urn:ietf:params:xml:ns:domain-1.0"><domain:name>a.test</domain:name><domain:ns><domain:hostAttr><domain:hostName>ns.a.test</domain:hostName></domain:hostAttr></domain:ns><domain:authInfo><domain:pw>abcdef</domain:pw></domain:authInfo></domain:create></create></command></epp>`
	cmdBadLog = `<epp xmlns="urn:ietf:params:xml:ns:epp-1.0"><command><login><clID>reg-a</clID><pw>wrongpass</pw><options><version>1.0</version><lang>en</lang></options><svcs><objURI>urn:ietf:params:xml:ns:domain-1.0</objURI></svcs></login></command></epp>`
	cmdBadVer = `<epp xmlns="urn:ietf:params:xml:ns:epp-1.0"><command><login><clID>reg-a</clID><pw>secret-reg-a</pw><options><version>2.0</version><lang>en</lang></options><svcs></svcs></login></command></epp>`
	cmdBadDS  = `<epp xmlns="urn:ietf:params:xml:ns:epp-1.0"><command><update><domain:update xmlns:domain="urn:ietf:params:xml:ns:domain-1.0"><domain:name>a.test</domain:name></domain:update></update><extension><secDNS:update xmlns:secDNS="urn:ietf:params:xml:ns:secDNS-1.1"><secDNS:add><secDNS:dsData><secDNS:keyTag>1</secDNS:keyTag><secDNS:alg>8</secDNS:alg><secDNS:digestType>2</secDNS:digestType><secDNS:digest>XYZ1</secDNS:digest></secDNS:dsData></secDNS:add></secDNS:update></extension></command></epp>`
)

// TestServerRefusals: each protocol rule of the server, by result code.
func TestServerRefusals(t *testing.T) {
	t.Parallel()
	r := newRig(t, func(s *Server) { s.MaxFrame = 2048; s.MaxSessionsPerRegistrar = 64 })
	tests := []struct {
		name   string
		login  bool
		frames []string
		want   []Code
	}{
		{"before login", false, []string{cmdCheck}, []Code{CodeUseError}},
		{"malformed", true, []string{"<epp"}, []Code{CodeSyntaxError}},
		{"unknown extension", true, []string{cmdUnkExt}, []Code{CodeUnimplementedExtension}},
		{"unknown object", true, []string{cmdUnkObj}, []Code{CodeUnimplementedService}},
		{"hostAttr", true, []string{cmdHostA}, []Code{CodeParameterPolicy}},
		{"bad digest", true, []string{cmdBadDS}, []Code{CodeValueSyntax}},
		{"bad version", false, []string{cmdBadVer}, []Code{CodeUnimplementedVersion}},
		// The third failed login closes the session: nothing after it.
		{"failed logins", false, []string{cmdBadLog, cmdBadLog, cmdBadLog, cmdCheck}, []Code{CodeAuthenticationError, CodeAuthenticationError, CodeAuthClosing, -1}},
		{"frame too large", true, []string{`<epp xmlns="urn:ietf:params:xml:ns:epp-1.0"><hello/>` + strings.Repeat(" ", 4096) + `</epp>`, cmdCheck}, []Code{CodeFailedClosing, -1}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := rawSession(t, r, "reg-a", tt.login, tt.frames...); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("codes = %v, want %v", got, tt.want)
			}
		})
	}
}

// TestSessionLimits: a second session of one registrar is refused 2502; a
// client without a certificate cannot complete the handshake.
func TestSessionLimits(t *testing.T) {
	t.Parallel()
	r := newRig(t, func(s *Server) { s.MaxSessionsPerRegistrar = 1 })
	ctx := context.Background()
	first := r.login(t, "reg-a")
	second := r.dial(t, "reg-a")
	wantCode(t, second.Login(ctx, "reg-a", "secret-reg-a", ""), CodeSessionLimit)
	wantCode(t, first.Logout(ctx), CodeOK)
	third := r.dial(t, "reg-a")
	wantCode(t, third.Login(ctx, "reg-a", "secret-reg-a", ""), CodeOK)

	// A certificate that is not reg-b's own: the registry refuses it.
	c := selfSigned(t, "reg-b", false)
	cfg := &tls.Config{RootCAs: r.roots, Certificates: []tls.Certificate{c}, MinVersion: tls.VersionTLS12}
	wrong, err := Dial(ctx, r.addr, cfg, "x-")
	if err != nil {
		t.Fatal(err)
	}
	defer wrong.Close()
	wantCode(t, wrong.Login(ctx, "reg-b", "secret-reg-b", ""), CodeAuthenticationError)

	// Without a client certificate the handshake fails, so no greeting.
	if c, err := Dial(ctx, r.addr, &tls.Config{RootCAs: r.roots, MinVersion: tls.VersionTLS12}, "y-"); err == nil {
		c.Close()
		t.Fatal("a session without a client certificate got a greeting")
	}
}

// TestIdleTimeout: a session that sends nothing is closed.
func TestIdleTimeout(t *testing.T) {
	t.Parallel()
	r := newRig(t, func(s *Server) { s.IdleTimeout = 200 * time.Millisecond })
	c := r.login(t, "reg-a")
	// The read ends when the server closes, well before the client's own
	// 30 s deadline.
	start := time.Now()
	_, err := ReadFrame(c.conn, DefaultMaxFrame)
	if err == nil || time.Since(start) > 10*time.Second {
		t.Fatalf("read after idle = %v after %v", err, time.Since(start))
	}
}
