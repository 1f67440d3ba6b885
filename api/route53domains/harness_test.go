package route53domains_test

import (
	"context"
	"errors"
	"fmt"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	r53d "github.com/aws/aws-sdk-go-v2/service/route53domains"
	"github.com/aws/smithy-go"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/waymark-dns/waymark/api"
	"github.com/waymark-dns/waymark/controlplane"
	"github.com/waymark-dns/waymark/dataplane"
	"github.com/waymark-dns/waymark/internal/httpcomp"
	"github.com/waymark-dns/waymark/internal/natstest"
	"github.com/waymark-dns/waymark/internal/pgtest"
	"github.com/waymark-dns/waymark/nspool"
	"github.com/waymark-dns/waymark/registrar"
	"github.com/waymark-dns/waymark/registrar/registry"
)

const adminToken = "route53domains-admin-token"

// server is a whole Waymark in the test process: the control plane, the
// built-in registry (TLD wmk., on its own delegation set of the pool's 8
// names) and the registrar on a real PostgreSQL
// schema, the real API router on an httptest server, embedded NATS with a
// relay and a tracker, and a nameserver node whose acknowledgements turn
// changes INSYNC, so that operations become SUCCESSFUL for real.
type server struct {
	t    testing.TB
	cp   *controlplane.Service
	reg  *registry.Registry
	svc  *registrar.Service
	http *httptest.Server
}

func newServer(t testing.TB) *server {
	t.Helper()
	var items []string
	for i := 1; i <= 8; i++ {
		items = append(items, fmt.Sprintf("ns%d.pool.wmk.", i))
	}
	pool, err := nspool.Parse(strings.Join(items, ","), 4)
	if err != nil {
		t.Fatal(err)
	}
	db, _ := pgtest.Schema(t)
	cp, err := controlplane.New(db, controlplane.Config{
		MasterKey: []byte(strings.Repeat("m", 32)), JWTKey: []byte(strings.Repeat("j", 32)),
		Pool: pool, PredictableSets: true, DefaultZoneQuota: 1000,
	})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	reg, err := registry.Open(ctx, db, cp, registry.Config{Pool: pool})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := reg.ConfigureTLD(ctx, "wmk.", registry.Prices{Currency: "USD", Register: 1000, Renew: 1200, Transfer: 900, Restore: 5000}, registry.DefaultPolicy()); err != nil {
		t.Fatal(err)
	}
	svc, err := registrar.New(ctx, db, cp, reg, registrar.Config{})
	if err != nil {
		t.Fatal(err)
	}
	s := &server{t: t, cp: cp, reg: reg, svc: svc}
	s.http = httptest.NewServer(httpcomp.Prefix("/v1/nameserver/", api.NewRouter(api.Config{
		Service: cp, Registrar: svc, AdminToken: adminToken, RateLimit: 1e6, RateBurst: 1e6,
	})))
	t.Cleanup(s.http.Close)

	ns := natstest.Run(t)
	connect := func() *nats.Conn {
		nc, err := nats.Connect(ns.ClientURL(), nats.MaxReconnects(-1))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(nc.Close)
		return nc
	}
	js, err := jetstream.New(connect())
	if err != nil {
		t.Fatal(err)
	}
	rctx, cancel := context.WithCancel(ctx)
	var wg sync.WaitGroup
	t.Cleanup(func() { cancel(); wg.Wait() })
	relay := controlplane.NewRelay(db, js, controlplane.RelayConfig{Tick: 50 * time.Millisecond})
	tr := controlplane.NewTracker(db, connect(), controlplane.TrackerConfig{LiveTimeout: 2 * time.Second})
	wg.Add(2)
	go func() { defer wg.Done(); _ = relay.Run(rctx) }()
	go func() { defer wg.Done(); _ = tr.Run(rctx) }()
	store := dataplane.NewStoreViews(pool.Names())
	base := dataplane.NewHandler(store)
	node, err := dataplane.NewNode(dataplane.NodeConfig{
		NodeID: "ns-a", Region: "r", NATSURL: ns.ClientURL(), SnapshotURL: s.http.URL, AdminToken: adminToken,
		Store: store, SetReady: base.SetReady, Serves: pool.Names(), CacheDir: t.TempDir(),
		HeartbeatInterval: 100 * time.Millisecond, RetryInterval: 100 * time.Millisecond,
	})
	if err != nil {
		t.Fatal(err)
	}
	wg.Add(1)
	go func() { defer wg.Done(); _ = node.Run(rctx) }()
	return s
}

// tenant creates a tenant and returns its id and key pair.
func (s *server) tenant(name string) (id, keyID, secret string) {
	s.t.Helper()
	tn, key, err := s.cp.CreateTenant(context.Background(), fmt.Sprintf("%s-%d", name, time.Now().UnixNano()))
	if err != nil {
		s.t.Fatalf("CreateTenant: %v", err)
	}
	return tn.ID, key.ID, key.Secret
}

// client is the real route53domains SDK client signing with the key pair,
// pointed at the server, with the SDK's default retries.
func (s *server) client(keyID, secret string) *r53d.Client {
	return r53d.NewFromConfig(aws.Config{
		Region:      "us-east-1",
		Credentials: credentials.NewStaticCredentialsProvider(keyID, secret, ""),
	}, func(o *r53d.Options) { o.BaseEndpoint = aws.String(s.http.URL) })
}

// apiCode returns the AWS error code of err, failing if it has none.
func apiCode(t testing.TB, err error) string {
	t.Helper()
	var ae smithy.APIError
	if !errors.As(err, &ae) {
		t.Fatalf("not an API error: %v", err)
	}
	return ae.ErrorCode()
}
