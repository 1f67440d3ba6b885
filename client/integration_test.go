package client

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"regexp"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/waymark-dns/waymark/internal/devserver"
	"github.com/waymark-dns/waymark/internal/testkit"
)

// dev is the `waymark dev` that the tests and examples of this package
// run against, started by TestMain: the real binary on a fresh schema.
var dev *devserver.Server

func TestMain(m *testing.M) { os.Exit(runTests(m)) }

func runTests(m *testing.M) int {
	ctx := context.Background()
	dir, err := os.MkdirTemp("", "waymark-client-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(dir)
	bin, err := devserver.Build(ctx, dir)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	dev, err = devserver.Start(ctx, devserver.Options{Binary: bin})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer dev.Close()
	// The examples use NewFromEnv, as a program would after
	// `source .waymark/dev.env`.
	os.Setenv(EnvAPI, dev.API)
	os.Setenv(EnvAPIKey, dev.APIKey)
	code := m.Run()
	if code != 0 {
		out := dev.Output()
		fmt.Fprintf(os.Stderr, "--- waymark dev output (last 8 KB):\n%s\n", out[max(0, len(out)-8192):])
	}
	return code
}

// recorder is a transport that notes each operation answered 2xx.
type recorder struct {
	mu   sync.Mutex
	seen map[string]bool
}

func (r *recorder) RoundTrip(req *http.Request) (*http.Response, error) {
	res, err := http.DefaultTransport.RoundTrip(req)
	if err == nil && res.StatusCode < 300 {
		for _, o := range operations() {
			if o.Method == req.Method && pathPattern(o.Path).MatchString(req.URL.EscapedPath()) {
				r.mu.Lock()
				r.seen[o.ID] = true
				r.mu.Unlock()
			}
		}
	}
	return res, err
}

// tenantClient returns a client of a new tenant of the dev server, and
// the operator's client, both recording into rec.
func tenantClient(t *testing.T, rec *recorder) (tenant, operator *Client) {
	t.Helper()
	hc := &http.Client{Transport: rec}
	op, err := New(dev.API, WithToken(dev.AdminToken), WithHTTPClient(hc))
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	out, err := op.CreateTenant(ctx, CreateTenantInput{Name: fmt.Sprintf("%s-%d", strings.ToLower(t.Name()), time.Now().UnixNano())})
	if err != nil {
		t.Fatalf("CreateTenant: %v", err)
	}
	if !strings.HasPrefix(out.APIKey.Token, "wmk_") || out.Tenant.ID == "" {
		t.Fatalf("got %+v", out)
	}
	c, err := New(dev.API, WithToken(out.APIKey.Token), WithHTTPClient(hc))
	if err != nil {
		t.Fatal(err)
	}
	return c, op
}

// must(f())(t, "f") is f's value, failing the test if f failed.
func must[T any](v T, err error) func(t *testing.T, what string) T {
	return func(t *testing.T, what string) T {
		t.Helper()
		if err != nil {
			t.Fatalf("%s: %v", what, err)
		}
		return v
	}
}

// TestIntegrationEveryOperation drives every operation of the SDK against
// the real server (PostgreSQL, NATS JetStream, a nameserver, health
// checkers in three regions), checks the answers, and finally that every
// operation of openapi.yaml answered 2xx at least once.
func TestIntegrationEveryOperation(t *testing.T) {
	rec := &recorder{seen: map[string]bool{}}
	c, op := tenantClient(t, rec)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()

	// Probes.
	if s := must(c.Healthz(ctx))(t, "Healthz"); s.Status != "ok" {
		t.Errorf("healthz %+v", s)
	}
	must(c.Readyz(ctx))(t, "Readyz")
	if m := must(c.Metrics(ctx))(t, "Metrics"); !bytes.Contains(m, []byte(`waymark_up{role="dev"} 1`)) {
		t.Errorf("waymark dev's /metrics has no waymark_up{role=\"dev\"}:\n%.500s", m)
	}

	// Sign-up (waymark dev opens it with --signup), keys and tokens.
	su := must(op.Signup(ctx, CreateTenantInput{Name: fmt.Sprintf("signup-%d", time.Now().UnixNano())}))(t, "Signup")
	if su.APIKey.Token == "" {
		t.Errorf("signup %+v", su)
	}
	nk := must(c.CreateAPIKey(ctx, CreateAPIKeyInput{Description: "second"}))(t, "CreateAPIKey")
	keys := must(c.ListAPIKeys(ctx))(t, "ListAPIKeys")
	if len(keys.APIKeys) != 2 || keys.APIKeys[1].Description != "second" {
		t.Errorf("keys %+v", keys)
	}
	c2 := must(New(dev.API, WithToken(nk.APIKey.Token), WithHTTPClient(&http.Client{Transport: rec})))(t, "New")
	tok := must(c2.CreateToken(ctx))(t, "CreateToken")
	if tok.TokenType != "Bearer" || !tok.ExpiresAt.After(time.Now()) {
		t.Errorf("token %+v", tok)
	}
	jwt := must(New(dev.API, WithToken(tok.Token), WithHTTPClient(&http.Client{Transport: rec})))(t, "New")
	must(jwt.ListAPIKeys(ctx))(t, "ListAPIKeys with the JWT")
	if err := c.DeleteAPIKey(ctx, nk.APIKey.ID); err != nil {
		t.Fatalf("DeleteAPIKey: %v", err)
	}
	if _, err := c2.ListAPIKeys(ctx); !IsCode(err, CodeUnauthorized) {
		t.Errorf("a deleted key: got %v, want Unauthorized", err)
	}

	// Zones, three of them, listed one per page.
	suffix := fmt.Sprintf("%x", time.Now().UnixNano())
	names := []string{"alpha-" + suffix + ".test.", "bravo-" + suffix + ".test.", "charlie-" + suffix + ".test."}
	var zoneIDs []string
	for _, n := range names {
		z := must(c.CreateHostedZone(ctx, CreateHostedZoneInput{Name: n, Comment: "sdk"}))(t, "CreateHostedZone")
		if z.HostedZone.Name != n || z.Change.Status != StatusPending || len(z.DelegationSet.NameServers) == 0 || z.HostedZone.CallerReference == "" {
			t.Fatalf("CreateHostedZone %+v", z)
		}
		zoneIDs = append(zoneIDs, z.HostedZone.ID)
	}
	var listed []string
	for z, err := range c.HostedZones(ctx, &ListHostedZonesInput{MaxItems: 1}) {
		if err != nil {
			t.Fatalf("HostedZones: %v", err)
		}
		listed = append(listed, z.Name)
	}
	if !slices.Equal(listed, names) {
		t.Errorf("HostedZones listed %v, want %v", listed, names)
	}
	zone := zoneIDs[0]
	if m := must(c.GetZoneMetrics(ctx, zone, MetricsInput{Metric: "dns_queries", Start: time.Now().Add(-time.Hour), End: time.Now(), Period: 5 * time.Minute}))(t, "GetZoneMetrics"); m.Metric != "dns_queries" || m.Period != 300 || m.Datapoints == nil {
		t.Errorf("GetZoneMetrics %+v", m)
	}
	if _, err := c.GetZoneMetrics(ctx, zone, MetricsInput{Metric: "nope"}); !IsCode(err, "InvalidInput") {
		t.Errorf("an unknown metric: %v", err)
	}
	if tg := must(c.ChangeZoneTags(ctx, zone, TagChange{Add: []Tag{{Key: "env", Value: "prod"}, {Key: "old", Value: "x"}}}))(t, "ChangeZoneTags"); len(tg.Tags) != 2 || tg.ResourceType != "hostedzone" {
		t.Errorf("ChangeZoneTags %+v", tg)
	}
	if tg := must(c.ChangeZoneTags(ctx, zone, TagChange{Remove: []string{"old"}}))(t, "ChangeZoneTags remove"); len(tg.Tags) != 1 {
		t.Errorf("ChangeZoneTags remove %+v", tg)
	}
	if tg := must(c.ListZoneTags(ctx, zone))(t, "ListZoneTags"); len(tg.Tags) != 1 || tg.Tags[0] != (Tag{Key: "env", Value: "prod"}) || tg.ResourceID != zone {
		t.Errorf("ListZoneTags %+v", tg)
	}
	if g := must(c.GetHostedZone(ctx, zone))(t, "GetHostedZone"); g.HostedZone.Name != names[0] || g.DelegationSet == nil {
		t.Errorf("GetHostedZone %+v", g)
	}
	if u := must(c.UpdateHostedZone(ctx, zone, UpdateHostedZoneInput{Comment: "renamed"}))(t, "UpdateHostedZone"); u.HostedZone.Comment != "renamed" {
		t.Errorf("UpdateHostedZone %+v", u)
	}

	// Zone transfers: a TSIG key, a configuration naming it, the key in
	// use until the configuration is cleared.
	tk := must(c.CreateTSIGKey(ctx, CreateTSIGKeyInput{Name: "sdk-xfr.example.", Algorithm: "hmac-sha256"}))(t, "CreateTSIGKey")
	if tk.TSIGKey.Secret == "" {
		t.Errorf("CreateTSIGKey %+v: no secret", tk)
	}
	must(c.PutTransfers(ctx, zone, TransferConfig{Allow: []TransferAllow{{TSIGKey: "sdk-xfr.example.", CIDRs: []string{"192.0.2.0/24"}}}}))(t, "PutTransfers")
	if tr := must(c.GetTransfers(ctx, zone))(t, "GetTransfers"); !tr.Available || len(tr.Transfers.Allow) != 1 {
		t.Errorf("GetTransfers %+v", tr)
	}
	if l := must(c.ListTSIGKeys(ctx))(t, "ListTSIGKeys"); len(l.TSIGKeys) != 1 || l.TSIGKeys[0].Secret != "" || len(l.TSIGKeys[0].HostedZones) != 1 {
		t.Errorf("ListTSIGKeys %+v", l)
	}
	if err := c.DeleteTSIGKey(ctx, "sdk-xfr.example."); err == nil {
		t.Error("DeleteTSIGKey of a key in use succeeded")
	}
	// A secondary zone of a primary that does not answer: a refresh is
	// taken, the zone is not served, and an ordinary zone has no refresh.
	sec := must(c.CreateHostedZone(ctx, CreateHostedZoneInput{Name: "sdk-secondary-" + suffix + ".example.",
		Secondary: &SecondaryConfig{Primaries: []SecondaryPrimary{{Address: "127.0.0.1:9", TSIGKey: "sdk-xfr.example."}}}}))(t, "CreateHostedZone (secondary)")
	if rs := must(c.RefreshSecondary(ctx, sec.HostedZone.ID))(t, "RefreshSecondary"); rs.HostedZone.Secondary == nil || rs.HostedZone.Secondary.LastSerial != 0 {
		t.Errorf("RefreshSecondary %+v", rs.HostedZone)
	}
	if _, err := c.RefreshSecondary(ctx, zone); !IsCode(err, CodeInvalidInput) {
		t.Errorf("RefreshSecondary of an ordinary zone: %v, want InvalidInput", err)
	}
	must(c.DeleteHostedZone(ctx, sec.HostedZone.ID))(t, "DeleteHostedZone (secondary)")
	must(c.PutTransfers(ctx, zone, TransferConfig{}))(t, "PutTransfers (off)")
	must(0, c.DeleteTSIGKey(ctx, "sdk-xfr.example."))(t, "DeleteTSIGKey")

	// Query logging: on, a query over UDP that shows up in the log, off.
	ql := must(c.CreateQueryLoggingConfig(ctx, zone))(t, "CreateQueryLoggingConfig")
	if ql.Change == nil || ql.QueryLoggingConfig.HostedZoneID != zone {
		t.Fatalf("CreateQueryLoggingConfig %+v", ql)
	}
	must(c.WaitInSync(ctx, ql.Change.ID, nil))(t, "WaitInSync (query logging)")
	if g := must(c.GetQueryLoggingConfig(ctx, zone))(t, "GetQueryLoggingConfig"); g.QueryLoggingConfig.ID != ql.QueryLoggingConfig.ID {
		t.Errorf("GetQueryLoggingConfig %+v", g)
	}
	// waymark dev puts nsN.waymark.test. on the Nth loopback address from
	// the first nameserver's.
	zd := must(c.GetHostedZone(ctx, zone))(t, "GetHostedZone")
	var nsN int
	if _, err := fmt.Sscanf(zd.DelegationSet.NameServers[0], "ns%d.", &nsN); err != nil {
		t.Fatalf("name server %q: %v", zd.DelegationSet.NameServers[0], err)
	}
	host, port, _ := net.SplitHostPort(dev.DNS)
	ip := net.ParseIP(host).To4()
	ip[3] += byte(nsN - 1)
	askSOA(t, net.JoinHostPort(ip.String(), port), names[0])
	testkit.Eventually(t, 10*time.Second, func() error {
		var got []QueryLogEntry
		err := c.GetQueryLogs(ctx, zone, &GetQueryLogsInput{Limit: 10}, func(e QueryLogEntry) error { got = append(got, e); return nil })
		if err != nil {
			return err
		}
		if len(got) == 0 || got[0].QueryType != "SOA" || got[0].Protocol != "UDP" || got[0].HostedZoneID != zone {
			return fmt.Errorf("query log %+v", got)
		}
		return nil
	})
	must(c.DeleteQueryLoggingConfig(ctx, zone))(t, "DeleteQueryLoggingConfig")

	// DNSSEC: a KSK, signing with a roll, and back to unsigned.
	ksk := must(c.CreateKeySigningKey(ctx, zone, CreateKeySigningKeyInput{Name: "ksk_sdk", Status: "INACTIVE"}))(t, "CreateKeySigningKey")
	if ksk.KeySigningKey.DSRecord == "" || ksk.KeySigningKey.Flag != 257 {
		t.Errorf("CreateKeySigningKey %+v", ksk)
	}
	must(c.ActivateKeySigningKey(ctx, zone, "ksk_sdk"))(t, "ActivateKeySigningKey")
	en := must(c.EnableDNSSEC(ctx, zone))(t, "EnableDNSSEC")
	must(c.WaitInSync(ctx, en.Change.ID, &WaitOptions{PollTimeout: 5 * time.Second}))(t, "WaitInSync enable")
	must(c.RollZSK(ctx, zone))(t, "RollZSK")
	if d := must(c.GetDNSSEC(ctx, zone))(t, "GetDNSSEC"); d.Status.ServeSignature != "SIGNING" || len(d.KeySigningKeys) != 1 || len(d.ZoneSigningKeys) != 2 {
		t.Errorf("GetDNSSEC %+v", d)
	}
	must(c.DisableDNSSEC(ctx, zone))(t, "DisableDNSSEC")
	must(c.DeactivateKeySigningKey(ctx, zone, "ksk_sdk"))(t, "DeactivateKeySigningKey")
	must(c.DeleteKeySigningKey(ctx, zone, "ksk_sdk"))(t, "DeleteKeySigningKey")

	// A change batch, waited for.
	apex := names[0]
	www := "www." + apex
	ch := must(c.ChangeRRSets(ctx, zone, ChangeBatch{Comment: "first records", Changes: []RRSetChange{
		{Action: ActionCreate, RRSet: RRSet{Name: www, Type: "A", TTL: Ptr[int64](300), Records: []string{"192.0.2.10", "192.0.2.11"}}},
		{Action: ActionCreate, RRSet: RRSet{Name: apex, Type: "MX", TTL: Ptr[int64](3600), Records: []string{"10 mail." + apex}}},
		{Action: ActionCreate, RRSet: RRSet{Name: "mail." + apex, Type: "A", TTL: Ptr[int64](300), Records: []string{"192.0.2.25"}}},
	}}))(t, "ChangeRRSets")
	var progress int
	done := must(c.WaitInSync(ctx, ch.Change.ID, &WaitOptions{PollTimeout: 5 * time.Second,
		OnProgress: func(*GetChangeOutput) { progress++ }}))(t, "WaitInSync")
	if done.Change.Status != StatusInSync || done.Change.InSyncAt == nil || progress == 0 ||
		done.Propagation == nil || done.Propagation.LiveNameservers < 1 || done.Propagation.AppliedNameservers != done.Propagation.LiveNameservers {
		t.Errorf("WaitInSync %+v %+v (progress calls %d)", done.Change, done.Propagation, progress)
	}
	if g := must(c.GetChange(ctx, ch.Change.ID, nil))(t, "GetChange"); g.Change.Status != StatusInSync || g.Change.Comment != "first records" {
		t.Errorf("GetChange %+v", g.Change)
	}

	// Record sets, two per page.
	var rrsets []string
	for rs, err := range c.RRSets(ctx, zone, &ListRRSetsInput{MaxItems: 2}) {
		if err != nil {
			t.Fatalf("RRSets: %v", err)
		}
		rrsets = append(rrsets, rs.Name+" "+rs.Type)
	}
	want := []string{apex + " MX", apex + " NS", apex + " SOA", "mail." + apex + " A", www + " A"}
	if !slices.Equal(rrsets, want) {
		t.Errorf("RRSets %v, want %v", rrsets, want)
	}
	page := must(c.ListRRSets(ctx, zone, &ListRRSetsInput{Name: www, Type: "A", MaxItems: 1}))(t, "ListRRSets")
	if len(page.RRSets) != 1 || page.RRSets[0].TTL == nil || *page.RRSets[0].TTL != 300 || len(page.RRSets[0].Records) != 2 {
		t.Errorf("ListRRSets from www: %+v", page)
	}

	// What the nameserver answers.
	ans := must(c.TestAnswer(ctx, zone, TestAnswerInput{Name: www, Type: "A", ClientIP: "198.51.100.7"}))(t, "TestAnswer")
	var data []string
	for _, r := range ans.Records {
		data = append(data, r.Data)
	}
	slices.Sort(data)
	if ans.ResponseCode != "NOERROR" || !slices.Equal(data, []string{"192.0.2.10", "192.0.2.11"}) || len(ans.Explanation) == 0 {
		t.Errorf("TestAnswer %+v", ans)
	}

	// Zone files: export, import, and an import with a bad line.
	file := must(c.ExportZone(ctx, zone))(t, "ExportZone")
	if !strings.Contains(string(file), www) {
		t.Errorf("export:\n%s", file)
	}
	imp := must(c.ImportZone(ctx, zone, append(file, []byte("api."+apex+" 300 IN CNAME "+www+"\n")...)))(t, "ImportZone")
	must(c.WaitInSync(ctx, imp.Change.ID, nil))(t, "WaitInSync import")
	_, err := c.ImportZone(ctx, zone, []byte("$ORIGIN "+apex+"\nok 300 IN A 192.0.2.9\nbad 300 IN A not-an-ip\n"))
	if e, ok := AsError(err); !ok || e.Code != CodeInvalidInput || len(e.Details) == 0 || e.Details[0].Line != 3 || e.RequestID == "" {
		t.Errorf("bad import: %#v", err)
	}
	_, err = c.ChangeRRSets(ctx, zone, ChangeBatch{Changes: []RRSetChange{
		{Action: ActionCreate, RRSet: RRSet{Name: www, Type: "A", TTL: Ptr[int64](300), Records: []string{"192.0.2.10"}}}}})
	if e, ok := AsError(err); !ok || e.Code != CodeInvalidChangeBatch || e.StatusCode != 400 || len(e.Details) != 1 || e.Details[0].Index == nil || *e.Details[0].Index != 0 {
		t.Errorf("duplicate CREATE: %#v", err)
	}

	// CIDR collections.
	cc := must(c.CreateCidrCollection(ctx, CreateCidrCollectionInput{Name: "offices"}))(t, "CreateCidrCollection")
	chc := must(c.ChangeCidrCollection(ctx, cc.Collection.ID, ChangeCidrCollectionInput{
		Changes: []CidrChange{{LocationName: "paris", Action: CidrActionPut, CIDRList: []string{"192.0.2.0/24", "2001:db8::/48"}}}}))(t, "ChangeCidrCollection")
	if chc.Collection.Version != cc.Collection.Version+1 {
		t.Errorf("ChangeCidrCollection %+v", chc)
	}
	if l := must(c.ListCidrCollections(ctx))(t, "ListCidrCollections"); len(l.CidrCollections) != 1 || l.CidrCollections[0].Name != "offices" {
		t.Errorf("ListCidrCollections %+v", l)
	}
	if g := must(c.GetCidrCollection(ctx, cc.Collection.ID))(t, "GetCidrCollection"); len(g.Locations) != 1 || g.Locations[0].BlockCount != 2 {
		t.Errorf("GetCidrCollection %+v", g)
	}
	if l := must(c.ListCidrLocations(ctx, cc.Collection.ID))(t, "ListCidrLocations"); len(l.Locations) != 1 || l.Locations[0].LocationName != "paris" {
		t.Errorf("ListCidrLocations %+v", l)
	}
	if b := must(c.ListCidrBlocks(ctx, cc.Collection.ID, &ListCidrBlocksInput{Location: "paris"}))(t, "ListCidrBlocks"); len(b.Blocks) != 2 {
		t.Errorf("ListCidrBlocks %+v", b)
	}
	if err := c.DeleteCidrCollection(ctx, cc.Collection.ID); err != nil {
		t.Errorf("DeleteCidrCollection: %v", err)
	}

	// Reusable delegation sets.
	ds := must(c.CreateDelegationSet(ctx, CreateDelegationSetInput{}))(t, "CreateDelegationSet")
	if ds.DelegationSet.ID == "" || len(ds.DelegationSet.NameServers) == 0 || len(ds.DelegationSet.PoolNames) == 0 {
		t.Errorf("CreateDelegationSet %+v", ds)
	}
	if l := must(c.ListDelegationSets(ctx))(t, "ListDelegationSets"); len(l.DelegationSets) != 1 || l.DelegationSets[0].ID != ds.DelegationSet.ID {
		t.Errorf("ListDelegationSets %+v", l)
	}
	if g := must(c.GetDelegationSet(ctx, ds.DelegationSet.ID))(t, "GetDelegationSet"); !slices.Equal(g.DelegationSet.NameServers, ds.DelegationSet.NameServers) {
		t.Errorf("GetDelegationSet %+v", g)
	}
	if err := c.DeleteDelegationSet(ctx, ds.DelegationSet.ID); err != nil {
		t.Errorf("DeleteDelegationSet: %v", err)
	}
	if _, err := c.GetDelegationSet(ctx, ds.DelegationSet.ID); !IsCode(err, "NoSuchDelegationSet") {
		t.Errorf("a deleted delegation set: %v", err)
	}

	exerciseHealthChecks(ctx, t, c)
	exerciseDomains(ctx, t, c, op)
	exerciseDomainTransfers(ctx, t, c, op, rec)

	// The operator's endpoints.
	snap := must(op.GetNameserverSnapshot(ctx, nil))(t, "GetNameserverSnapshot")
	if !slices.ContainsFunc(snap.Zones, func(z ZoneState) bool { return z.ID == zone }) {
		t.Errorf("snapshot at %d lacks zone %s", snap.Seq, zone)
	}
	zs := must(op.GetNameserverZone(ctx, zone))(t, "GetNameserverZone")
	if zs.Name != apex || len(zs.RRSets) < 5 {
		t.Errorf("GetNameserverZone %+v", zs)
	}
	fleet := must(op.ListNameservers(ctx))(t, "ListNameservers")
	if len(fleet.Nameservers) != 1 || !fleet.Nameservers[0].Live || fleet.Nameservers[0].Region != "us-east-1" {
		t.Errorf("ListNameservers %+v", fleet)
	}
	if _, err := c.ListNameservers(ctx); !IsCode(err, CodeForbidden) {
		t.Errorf("a tenant listing nameservers: got %v, want Forbidden", err)
	}

	// Deleting: not while records remain; empty it, then delete.
	if _, err := c.DeleteHostedZone(ctx, zone); !IsCode(err, CodeHostedZoneNotEmpty) {
		t.Errorf("DeleteHostedZone of a full zone: %v", err)
	}
	var dels []RRSetChange
	for rs, err := range c.RRSets(ctx, zone, nil) {
		if err != nil {
			t.Fatal(err)
		}
		if rs.Type != "SOA" && !(rs.Type == "NS" && rs.Name == apex) {
			dels = append(dels, RRSetChange{Action: ActionDelete, RRSet: rs})
		}
	}
	must(c.ChangeRRSets(ctx, zone, ChangeBatch{Changes: dels}))(t, "ChangeRRSets delete all")
	must(c.DeleteHostedZone(ctx, zone))(t, "DeleteHostedZone")
	_, err = c.GetHostedZone(ctx, zone)
	if e, ok := AsError(err); !ok || e.Code != CodeNoSuchHostedZone || e.StatusCode != 404 || e.RequestID == "" {
		t.Errorf("a deleted zone: %#v", err)
	}

	// The audit log holds the zone's deletion, newest first.
	al := must(c.ListAuditLog(ctx, &ListAuditLogInput{MaxItems: 1, API: "v1", Result: "success"}))(t, "ListAuditLog")
	if len(al.Entries) != 1 || al.Entries[0].Operation != "DELETE /v1/hostedzones/{id}" || al.NextToken == "" {
		t.Errorf("ListAuditLog %+v", al)
	}

	for _, o := range operations() {
		if !rec.seen[o.ID] {
			t.Errorf("operation %s (%s %s) was not exercised successfully", o.ID, o.Method, o.Path)
		}
	}
}

// exerciseHealthChecks creates two checks of a local HTTP server, lists
// them one per page, sees the checkers in three regions find it healthy,
// makes it fail and sees the check go UNHEALTHY with a last failure and a
// transition in its history, then deletes them.
func exerciseHealthChecks(ctx context.Context, t *testing.T, c *Client) {
	t.Helper()
	var failing atomic.Bool
	var hookMu sync.Mutex
	var notified []HealthCheckNotification
	badHooks := 0
	target := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/hc-hook" { // the check's own notify webhook
			body, _ := io.ReadAll(r.Body)
			m := hmac.New(sha256.New, []byte("hc-secret"))
			m.Write(body)
			var n HealthCheckNotification
			hookMu.Lock()
			defer hookMu.Unlock()
			if r.Header.Get("X-Waymark-Signature") != "sha256="+hex.EncodeToString(m.Sum(nil)) || json.Unmarshal(body, &n) != nil {
				badHooks++
				w.WriteHeader(http.StatusUnauthorized)
				return
			}
			notified = append(notified, n)
			return
		}
		if failing.Load() {
			w.WriteHeader(http.StatusInternalServerError)
			return
		}
		_, _ = w.Write([]byte("ok"))
	}))
	t.Cleanup(target.Close)
	host, port := splitHostPort(t, target.Listener.Addr().String())
	cfg := HealthCheckConfig{Type: HealthCheckHTTP, IPAddress: host, Port: port, ResourcePath: "/", RequestInterval: 1, FailureThreshold: 1}
	hc := must(c.CreateHealthCheck(ctx, CreateHealthCheckInput{Config: cfg,
		Notify: []AlarmActionInput{{Webhook: Webhook{URL: target.URL + "/hc-hook", Secret: "hc-secret"}}}}))(t, "CreateHealthCheck")
	if n := hc.HealthCheck.Notify; len(n) != 1 || n[0].Webhook.URL != target.URL+"/hc-hook" || !n[0].Webhook.SecretSet {
		t.Errorf("CreateHealthCheck notify %+v", n)
	}
	other := must(c.CreateHealthCheck(ctx, CreateHealthCheckInput{Config: HealthCheckConfig{Type: HealthCheckTCP, IPAddress: host, Port: port, RequestInterval: 1}}))(t, "CreateHealthCheck")
	var ids []string
	for h, err := range c.HealthChecks(ctx, &ListHealthChecksInput{MaxItems: 1}) {
		if err != nil {
			t.Fatalf("HealthChecks: %v", err)
		}
		ids = append(ids, h.ID)
	}
	wantIDs := []string{hc.HealthCheck.ID, other.HealthCheck.ID}
	slices.Sort(wantIDs)
	if !slices.Equal(ids, wantIDs) {
		t.Errorf("HealthChecks %v, want %v", ids, wantIDs)
	}
	id := hc.HealthCheck.ID
	if g := must(c.GetHealthCheck(ctx, id))(t, "GetHealthCheck"); g.HealthCheck.Config.Port != port || g.HealthCheck.Version != 1 {
		t.Errorf("GetHealthCheck %+v", g)
	}
	u := must(c.UpdateHealthCheck(ctx, id, UpdateHealthCheckInput{Version: Ptr[int64](1), FailureThreshold: Ptr(2)}))(t, "UpdateHealthCheck")
	if u.HealthCheck.Version != 2 || u.HealthCheck.Config.FailureThreshold != 2 {
		t.Errorf("UpdateHealthCheck %+v", u)
	}
	if _, err := c.UpdateHealthCheck(ctx, id, UpdateHealthCheckInput{Version: Ptr[int64](1), FailureThreshold: Ptr(1)}); !IsCode(err, "HealthCheckVersionMismatch") {
		t.Errorf("a stale version: %v", err)
	}
	// The check's status series: healthy since its creation.
	if m := must(c.GetHealthCheckMetrics(ctx, id, MetricsInput{Metric: "health_check_status", Period: time.Minute}))(t, "GetHealthCheckMetrics"); m.Metric != "health_check_status" || m.Period != 60 {
		t.Errorf("GetHealthCheckMetrics %+v", m)
	}
	// An alarm on the check: created, listed, read, its history, deleted.
	am := must(c.CreateAlarm(ctx, CreateAlarmInput{Name: "sdk-alarm", Metric: AlarmMetric{Namespace: "healthcheck", Name: "health_check_status", ResourceID: id},
		Statistic: "Minimum", Period: 60, EvaluationPeriods: 1, Threshold: 1, Comparison: "LessThanThreshold",
		AlarmActions: []AlarmActionInput{{Webhook: Webhook{URL: target.URL + "/hook", Secret: "sdk-secret"}}}}))(t, "CreateAlarm")
	if a := am.Alarm; a.ID == "" || len(a.AlarmActions) != 1 || !a.AlarmActions[0].Webhook.SecretSet || a.DatapointsToAlarm != 1 {
		t.Errorf("CreateAlarm %+v", a)
	}
	if l := must(c.ListAlarms(ctx))(t, "ListAlarms"); len(l.Alarms) != 1 || l.Alarms[0].ID != am.Alarm.ID {
		t.Errorf("ListAlarms %+v", l)
	}
	if g := must(c.GetAlarm(ctx, am.Alarm.ID))(t, "GetAlarm"); g.Alarm.Name != "sdk-alarm" || g.Alarm.Metric.ResourceID != id {
		t.Errorf("GetAlarm %+v", g)
	}
	must(c.GetAlarmHistory(ctx, am.Alarm.ID))(t, "GetAlarmHistory")
	must(0, c.DeleteAlarm(ctx, am.Alarm.ID))(t, "DeleteAlarm")
	if _, err := c.GetAlarm(ctx, am.Alarm.ID); !IsCode(err, "NoSuchAlarm") {
		t.Errorf("a deleted alarm: %v", err)
	}
	// status is nil once the check and its three regions all say want.
	status := func(want string) func() error {
		return func() error {
			s, err := c.GetHealthCheckStatus(ctx, id)
			if err != nil {
				return err
			}
			if s.Status != want || len(s.Checkers) != 3 || slices.ContainsFunc(s.Checkers, func(k HealthCheckerCheck) bool { return k.Status != want }) {
				return fmt.Errorf("want three regions %s, got %+v", want, s)
			}
			return nil
		}
	}
	testkit.Eventually(t, time.Minute, status(Healthy))
	// The probes so far were measured: connect and first-byte times.
	for _, metric := range []string{"connection_time", "time_to_first_byte", "percentage_healthy"} {
		testkit.Eventually(t, time.Minute, func() error {
			m, err := c.GetHealthCheckMetrics(ctx, id, MetricsInput{Metric: metric, Region: "us-east-1", Start: time.Now().Add(-10 * time.Minute), End: time.Now(), Period: 10 * time.Minute})
			if err != nil {
				return err
			}
			if m.Metric != metric || len(m.Datapoints) == 0 || m.Datapoints[len(m.Datapoints)-1].Value <= 0 {
				return fmt.Errorf("GetHealthCheckMetrics %s: %+v", metric, m)
			}
			return nil
		})
	}
	failing.Store(true)
	testkit.Eventually(t, time.Minute, status(Unhealthy))
	// The check's webhook is told, signed, without an alarm.
	testkit.Eventually(t, time.Minute, func() error {
		hookMu.Lock()
		defer hookMu.Unlock()
		for _, n := range notified {
			if n.HealthCheckID == id && n.OldStatus == Healthy && n.Status == Unhealthy {
				return nil
			}
		}
		return fmt.Errorf("notified %+v (%d badly signed)", notified, badHooks)
	})
	testkit.Eventually(t, time.Minute, func() error {
		h, err := c.GetHealthCheckHistory(ctx, id, &GetHealthCheckHistoryInput{MaxItems: 1})
		if err != nil {
			return err
		}
		if len(h.Transitions) != 1 || len(h.Transitions[0].Deliveries) != 1 || h.Transitions[0].Deliveries[0].Status != "delivered" {
			return fmt.Errorf("history %+v", h)
		}
		return nil
	})
	none := []AlarmActionInput{}
	if u := must(c.UpdateHealthCheck(ctx, other.HealthCheck.ID, UpdateHealthCheckInput{Notify: &none}))(t, "UpdateHealthCheck notify"); u.HealthCheck.Notify == nil || len(u.HealthCheck.Notify) != 0 {
		t.Errorf("UpdateHealthCheck notify %+v", u.HealthCheck.Notify)
	}
	lf := must(c.GetHealthCheckLastFailure(ctx, id))(t, "GetHealthCheckLastFailure")
	if len(lf.Checkers) == 0 || !strings.Contains(lf.Checkers[0].Reason, "500") {
		t.Errorf("GetHealthCheckLastFailure %+v", lf)
	}
	if tg := must(c.ChangeHealthCheckTags(ctx, id, TagChange{Add: []Tag{{Key: "team", Value: "web"}}}))(t, "ChangeHealthCheckTags"); len(tg.Tags) != 1 || tg.ResourceType != "healthcheck" {
		t.Errorf("ChangeHealthCheckTags %+v", tg)
	}
	if tg := must(c.ListHealthCheckTags(ctx, id))(t, "ListHealthCheckTags"); len(tg.Tags) != 1 || tg.Tags[0] != (Tag{Key: "team", Value: "web"}) {
		t.Errorf("ListHealthCheckTags %+v", tg)
	}
	h := must(c.GetHealthCheckHistory(ctx, id, &GetHealthCheckHistoryInput{MaxItems: 10}))(t, "GetHealthCheckHistory")
	if len(h.Transitions) == 0 || h.Transitions[0].Status != Unhealthy {
		t.Errorf("GetHealthCheckHistory %+v", h)
	}
	var n int
	for tr, err := range c.HealthCheckTransitions(ctx, id, &GetHealthCheckHistoryInput{MaxItems: 1}) {
		if err != nil {
			t.Fatalf("HealthCheckTransitions: %v", err)
		}
		if n == 0 && tr.Status != Unhealthy {
			t.Errorf("newest transition %+v", tr)
		}
		n++
	}
	if n != len(h.Transitions) {
		t.Errorf("HealthCheckTransitions yielded %d, the page of 10 has %d", n, len(h.Transitions))
	}
	for _, id := range wantIDs {
		if err := c.DeleteHealthCheck(ctx, id); err != nil {
			t.Errorf("DeleteHealthCheck: %v", err)
		}
	}
}

func splitHostPort(t *testing.T, addr string) (string, int) {
	t.Helper()
	m := regexp.MustCompile(`^(.*):(\d+)$`).FindStringSubmatch(addr)
	if m == nil {
		t.Fatalf("address %q", addr)
	}
	var p int
	fmt.Sscan(m[2], &p)
	return m[1], p
}

// TestIntegrationIteratorStopsEarly: breaking out of an iterator fetches
// no further page, and an error ends the iteration as its last pair.
func TestIntegrationIteratorStopsEarly(t *testing.T) {
	var pages atomic.Int32
	counting := &http.Client{Transport: roundTripFunc(func(r *http.Request) (*http.Response, error) {
		if r.URL.Path == "/v1/hostedzones" && r.Method == "GET" {
			pages.Add(1)
		}
		return http.DefaultTransport.RoundTrip(r)
	})}
	rec := &recorder{seen: map[string]bool{}}
	tc, _ := tenantClient(t, rec)
	ctx := context.Background()
	for i := range 3 {
		must(tc.CreateHostedZone(ctx, CreateHostedZoneInput{Name: fmt.Sprintf("early%d-%x.test", i, time.Now().UnixNano())}))(t, "CreateHostedZone")
	}
	c := must(New(dev.API, WithToken(tc.token), WithHTTPClient(counting)))(t, "New")
	n := 0
	for _, err := range c.HostedZones(ctx, &ListHostedZonesInput{MaxItems: 1}) {
		if err != nil {
			t.Fatal(err)
		}
		if n++; n == 2 {
			break
		}
	}
	if got := pages.Load(); got != 2 {
		t.Errorf("%d pages fetched for 2 zones of 1 per page", got)
	}
	var errs []error
	for _, err := range c.RRSets(ctx, "no-such-zone", nil) {
		errs = append(errs, err)
	}
	if len(errs) != 1 || !IsCode(errs[0], CodeNoSuchHostedZone) {
		t.Errorf("RRSets of a missing zone yielded %v", errs)
	}
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

// TestIntegrationUnauthorized: a bad token is a 401 Unauthorized with a
// request id.
func TestIntegrationUnauthorized(t *testing.T) {
	c := must(New(dev.API, WithToken("wmk_nope_nope")))(t, "New")
	_, err := c.ListHostedZones(context.Background(), nil)
	if e, ok := AsError(err); !ok || e.StatusCode != 401 || e.Code != CodeUnauthorized || e.RequestID == "" {
		t.Fatalf("got %#v", err)
	}
}

// exerciseDomains registers domains in waymark dev's built-in registry:
// test. with a new hosted zone, which turns SUCCESSFUL once the fleet
// serves the zone and the TLD's delegation (then the nameserver refers
// to it), and a TLD of the operator's without add grace, where a delete
// goes to redemption and a restore brings the domain back.
func exerciseDomains(ctx context.Context, t *testing.T, c, op *Client) {
	t.Helper()
	tlds := must(op.ListRegistryTLDs(ctx))(t, "ListRegistryTLDs")
	if len(tlds.TLDs) == 0 || tlds.TLDs[0].TLD != "test." {
		t.Fatalf("ListRegistryTLDs %+v", tlds)
	}
	must(op.GetRegistryTLD(ctx, "test"))(t, "GetRegistryTLD")
	exerciseExternalTLD(ctx, t, c, op)
	// waymark dev's registry runs on a test clock.
	before := must(op.GetRegistryClock(ctx))(t, "GetRegistryClock")
	if after := must(op.AdvanceRegistryClock(ctx, time.Minute))(t, "AdvanceRegistryClock"); after.Now.Sub(before.Now) < time.Minute {
		t.Errorf("AdvanceRegistryClock: %v → %v", before.Now, after.Now)
	}
	tld := fmt.Sprintf("sdk%d", time.Now().UnixNano()%1e9)
	must(op.PutRegistryTLD(ctx, tld, PutRegistryTLDInput{Prices: &TLDPrices{Registration: Ptr[int64](500), Restoration: Ptr[int64](2000)},
		Policy: &TLDPolicy{AddGraceSeconds: Ptr[int64](0), NegativeTTL: Ptr[int64](5)}}))(t, "PutRegistryTLD")
	must(op.PutRegistryName(ctx, tld, "gold", PutNameRuleInput{Kind: "premium", Price: 90000}))(t, "PutRegistryName")
	if n := must(op.ListRegistryNames(ctx, tld))(t, "ListRegistryNames"); len(n.Names) != 1 || n.Names[0].Price != 90000 {
		t.Errorf("ListRegistryNames %+v", n)
	}
	if err := op.DeleteRegistryName(ctx, tld, "gold"); err != nil {
		t.Errorf("DeleteRegistryName: %v", err)
	}

	name := fmt.Sprintf("sdk-%d.test", time.Now().UnixNano()%1e9)
	if a := must(c.CheckDomainAvailability(ctx, name))(t, "CheckDomainAvailability"); a.Availability != "AVAILABLE" || a.Price != 1000 || a.Currency != "USD" {
		t.Errorf("CheckDomainAvailability %+v", a)
	}
	must(c.CheckDomainTransferability(ctx, name))(t, "CheckDomainTransferability")
	if s := must(c.GetDomainSuggestions(ctx, GetDomainSuggestionsInput{Name: name, Count: 2}))(t, "GetDomainSuggestions"); len(s.Suggestions) != 2 {
		t.Errorf("GetDomainSuggestions %+v", s)
	}
	must(c.ListDomainPrices(ctx, ""))(t, "ListDomainPrices")
	ct := &Contact{Name: "Grace Hopper", City: "Arlington", CountryCode: "US", Email: "grace@example.com", Voice: "+1.7035550100"}
	reg := must(c.RegisterDomain(ctx, RegisterDomainInput{Name: name, Contacts: Contacts{Registrant: ct}, HostedZone: "create"}))(t, "RegisterDomain")
	start := time.Now()
	done, err := c.WaitOperation(ctx, reg.Operation.OperationID)
	if err != nil || done.Status != OperationSuccessful {
		t.Fatalf("WaitOperation %+v, %v", done, err)
	}
	t.Logf("registration SUCCESSFUL (zone and delegation INSYNC) %v after the answer", time.Since(start).Round(time.Millisecond))
	if _, err := c.RegisterDomain(ctx, RegisterDomainInput{Name: name, Contacts: Contacts{Registrant: ct}, HostedZone: "create"}); !IsCode(err, "DomainUnavailable") {
		t.Errorf("registering it again: %v", err)
	}
	d := must(c.GetDomain(ctx, name))(t, "GetDomain")
	if d.Domain.HostedZoneID == "" || len(d.Domain.Nameservers) == 0 || !d.Domain.TransferLock {
		t.Errorf("GetDomain %+v", d)
	}
	must(c.ListDomains(ctx, &ListDomainsInput{NamePrefix: "sdk-", MaxItems: 10}))(t, "ListDomains")
	off := false
	must(c.UpdateDomain(ctx, name, UpdateDomainInput{AutoRenew: &off}))(t, "UpdateDomain")
	nsOp := must(c.UpdateDomainNameservers(ctx, name, UpdateDomainNameserversInput{Nameservers: []DomainNameserver{
		{Name: "ns1." + name, GlueIPs: []string{"192.0.2.53"}}, {Name: "ns.example.net"}}}))(t, "UpdateDomainNameservers")
	// One operation at a time per domain: the next waits for this one.
	if _, err := c.WaitOperation(ctx, nsOp.Operation.OperationID); err != nil {
		t.Fatal(err)
	}
	ds := must(c.AddDomainDS(ctx, name, AddDomainDSInput{Records: []DSInput{{KeyTag: Ptr(2371), Algorithm: 13, DigestType: 2,
		Digest: "1F987CC6583E92DF0890718C42B3D5B3E3B1F8F5C3A4F1B7E6E2C7D0A9B8C7D6"}}}))
	added := ds(t, "AddDomainDS")
	if _, err := c.WaitOperation(ctx, added.Operation.OperationID); err != nil {
		t.Fatal(err)
	}
	if l := must(c.ListDomainDS(ctx, name))(t, "ListDomainDS"); len(l.DS) != 1 || l.DS[0].ID != added.DS[0].ID {
		t.Errorf("ListDomainDS %+v, added %+v", l, added.DS)
	}
	rm := must(c.RemoveDomainDS(ctx, name, added.DS[0].ID, ""))(t, "RemoveDomainDS")
	if _, err := c.WaitOperation(ctx, rm.Operation.OperationID); err != nil {
		t.Fatal(err)
	}
	code := must(c.GetDomainAuthCode(ctx, name))(t, "GetDomainAuthCode")
	if r := must(c.RotateDomainAuthCode(ctx, name))(t, "RotateDomainAuthCode"); r.AuthCode == code.AuthCode {
		t.Error("the auth code did not change")
	}
	must(c.RenewDomain(ctx, name, RenewDomainInput{CurrentExpiryYear: d.Domain.ExpiresAt.Year()}))(t, "RenewDomain")
	if _, err := c.RenewDomain(ctx, name, RenewDomainInput{CurrentExpiryYear: d.Domain.ExpiresAt.Year()}); !IsCode(err, CodeInvalidInput) {
		t.Errorf("a renewal with last year's expiry: %v", err)
	}
	ops := must(c.ListOperations(ctx, &ListOperationsInput{Domain: name}))(t, "ListOperations")
	if len(ops.Operations) < 5 {
		t.Errorf("ListOperations %+v", ops)
	}
	must(c.DeleteDomain(ctx, name, ""))(t, "DeleteDomain")

	// Redemption and restore in the TLD without add grace.
	other := "restore." + tld
	reg = must(c.RegisterDomain(ctx, RegisterDomainInput{Name: other, Contacts: Contacts{Registrant: ct}, HostedZone: "create"}))(t, "RegisterDomain")
	if _, err := c.WaitOperation(ctx, reg.Operation.OperationID); err != nil {
		t.Fatal(err)
	}
	del := must(c.DeleteDomain(ctx, other, ""))(t, "DeleteDomain")
	if _, err := c.WaitOperation(ctx, del.Operation.OperationID); err != nil {
		t.Fatal(err)
	}
	if d := must(c.GetDomain(ctx, other))(t, "GetDomain"); d.Domain.RGPStatus != "redemptionPeriod" {
		t.Errorf("after delete %+v", d.Domain)
	}
	res := must(c.RestoreDomain(ctx, other, CallerReferenceInput{}))(t, "RestoreDomain")
	if done, err := c.WaitOperation(ctx, res.Operation.OperationID); err != nil || done.Status != OperationSuccessful {
		t.Errorf("restore %+v, %v", done, err)
	}
}

// askSOA sends one SOA query for name (presentation, final dot) over UDP
// and waits for an answer; the package imports no DNS library.
func askSOA(t *testing.T, addr, name string) {
	t.Helper()
	q := []byte{0x12, 0x34, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0}
	for _, l := range strings.Split(strings.TrimSuffix(name, "."), ".") {
		q = append(append(q, byte(len(l))), l...)
	}
	q = append(q, 0, 0, 6, 0, 1)
	c, err := net.Dial("udp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(5 * time.Second))
	if _, err := c.Write(q); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 1500)
	if n, err := c.Read(buf); err != nil || n < 12 || buf[0] != 0x12 || buf[3]&0xf != 0 {
		t.Fatalf("SOA %s at %s: %d octets (rcode %d), %v", name, addr, n, buf[3]&0xf, err)
	}
}

// exerciseExternalTLD configures a TLD of an "external" registry that is
// waymark dev's own EPP server with its registrar login: availability
// of a name in it is asked over EPP (dev's registry does not run the TLD,
// so it answers not available, with its reason), and the secrets never
// come back.
func exerciseExternalTLD(ctx context.Context, t *testing.T, c, op *Client) {
	t.Helper()
	certPEM, err := os.ReadFile(devPath(dev.Env["WAYMARK_EPP_CERT"]))
	if err != nil {
		t.Fatal(err)
	}
	keyPEM, err := os.ReadFile(devPath(dev.Env["WAYMARK_EPP_KEY"]))
	if err != nil {
		t.Fatal(err)
	}
	caPEM, err := os.ReadFile(devPath(dev.Env["WAYMARK_EPP_CA"]))
	if err != nil {
		t.Fatal(err)
	}
	tld := fmt.Sprintf("ext%d", time.Now().UnixNano()%1e9)
	out := must(op.PutExternalTLD(ctx, tld, PutExternalTLDInput{EPPAddress: Ptr(dev.Env["WAYMARK_EPP"]), ClientID: Ptr(dev.Env["WAYMARK_EPP_CLIENT_ID"]),
		Password: dev.Env["WAYMARK_EPP_PASSWORD"], ClientCertPEM: Ptr(string(certPEM)), ClientKeyPEM: string(keyPEM), CAPEM: Ptr(string(caPEM)),
		Prices: &TLDPrices{Registration: Ptr[int64](2500)}}))(t, "PutExternalTLD")
	if out.External.TLD != tld+"." || out.External.ClientID != dev.Env["WAYMARK_EPP_CLIENT_ID"] {
		t.Errorf("PutExternalTLD %+v", out.External)
	}
	must(op.GetExternalTLD(ctx, tld))(t, "GetExternalTLD")
	if l := must(op.ListExternalTLDs(ctx))(t, "ListExternalTLDs"); len(l.External) == 0 {
		t.Errorf("ListExternalTLDs %+v", l)
	}
	a := must(c.CheckDomainAvailability(ctx, "free."+tld))(t, "CheckDomainAvailability external")
	if a.Availability != "UNAVAILABLE" || !strings.Contains(a.Reason, "not in a TLD of this registry") {
		t.Errorf("availability at an external registry that does not run the TLD: %+v", a)
	}
	if err := op.DeleteExternalTLD(ctx, tld); err != nil {
		t.Errorf("DeleteExternalTLD: %v", err)
	}
}
