package route53_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/aws-sdk-go-v2/credentials"
	r53 "github.com/aws/aws-sdk-go-v2/service/route53"
	"github.com/aws/smithy-go"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/waymark-dns/waymark/api"
	"github.com/waymark-dns/waymark/controlplane"
	"github.com/waymark-dns/waymark/dataplane"
	"github.com/waymark-dns/waymark/event"
	"github.com/waymark-dns/waymark/healthcfg"
	"github.com/waymark-dns/waymark/healthcheck"
	"github.com/waymark-dns/waymark/internal/natstest"
	"github.com/waymark-dns/waymark/internal/pgtest"
)

const adminToken = "route53-admin-token"

// server is a whole Waymark inside the test process: the control plane
// with health checks on a real PostgreSQL schema, the real API router
// (so /v1 and /2013-04-01 side by side) on an httptest server, embedded
// NATS with a relay and a tracker, and one nameserver on real sockets,
// whose acknowledgements turn changes INSYNC.
type server struct {
	t    testing.TB
	svc  *controlplane.Service
	http *httptest.Server
	ns   *dataplane.Server
	// skew shifts the API's clock (the signature window), in nanoseconds.
	skew atomic.Int64
}

type serverOptions struct {
	rateLimit float64 // requests per second per tenant; 0: unlimited
	rateBurst int
	// checkers runs the health aggregator and checkers in two regions.
	checkers bool
}

func newServer(t testing.TB, o serverOptions) *server {
	t.Helper()
	pool, _ := pgtest.Schema(t)
	svc, err := controlplane.New(pool, controlplane.Config{
		MasterKey:    []byte(strings.Repeat("m", 32)),
		JWTKey:       []byte(strings.Repeat("j", 32)),
		HealthChecks: controlplane.HealthCheckOptions{Options: healthcfg.Options{AllowPrivateTargets: true, MinRequestInterval: 1}},
	})
	if err != nil {
		t.Fatalf("controlplane.New: %v", err)
	}
	s := &server{t: t, svc: svc}
	nsrv := natstest.Run(t)
	connect := func() *nats.Conn {
		nc, err := nats.Connect(nsrv.ClientURL(), nats.MaxReconnects(-1), nats.ReconnectWait(50*time.Millisecond))
		if err != nil {
			t.Fatalf("nats: %v", err)
		}
		t.Cleanup(nc.Close)
		return nc
	}
	if o.rateLimit == 0 {
		o.rateLimit, o.rateBurst = 1e6, 1e6
	}
	nc := connect()
	router := api.NewRouter(api.Config{
		Service: svc, AdminToken: adminToken, RateLimit: o.rateLimit, RateBurst: o.rateBurst,
		NowFunc: func() time.Time { return time.Now().Add(time.Duration(s.skew.Load())) },
		TestAnswer: func(ctx context.Context, req event.TestAnswerRequest) (event.TestAnswerResponse, error) {
			return event.RequestTestAnswer(ctx, nc, req)
		},
	})
	s.http = httptest.NewServer(router)
	t.Cleanup(s.http.Close)

	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	t.Cleanup(func() { cancel(); wg.Wait() })
	js, err := jetstream.New(connect())
	if err != nil {
		t.Fatal(err)
	}
	relay := controlplane.NewRelay(pool, js, controlplane.RelayConfig{Tick: 100 * time.Millisecond})
	tracker := controlplane.NewTracker(pool, connect(), controlplane.TrackerConfig{LiveTimeout: 5 * time.Second})
	wg.Add(2)
	go func() { defer wg.Done(); _ = relay.Run(ctx) }()
	go func() { defer wg.Done(); _ = tracker.Run(ctx) }()

	if o.checkers {
		// The aggregator elects itself with an advisory lock; a key of its
		// own keeps parallel tests' aggregators apart.
		agg, err := healthcheck.NewAggregator(healthcheck.AggregatorConfig{NATS: connect(), Store: svc})
		if err != nil {
			t.Fatal(err)
		}
		lockKey := int64(rand.Uint64() >> 1)
		wg.Add(1)
		go func() { defer wg.Done(); _ = svc.RunLeader(ctx, lockKey, agg.Run) }()
		for _, region := range []string{"us-east-1", "eu-west-1"} {
			hc, err := healthcheck.NewChecker(healthcheck.Config{Region: region, NodeID: "hc-" + region, NATS: connect(), AllowPrivateTargets: true})
			if err != nil {
				t.Fatal(err)
			}
			wg.Add(1)
			go func() { defer wg.Done(); _ = hc.Run(ctx) }()
		}
	}

	store := dataplane.NewStore()
	s.ns = dataplane.NewServer(store, dataplane.Config{Addr: "127.0.0.1:0"})
	if err := s.ns.Start(ctx); err != nil {
		t.Fatalf("start DNS server: %v", err)
	}
	stopRouting, err := dataplane.StartRouting(ctx, connect(), s.ns.Handler(), dataplane.RoutingOptions{NodeID: "ns-test", Region: "us-east-1", HealthWait: -1})
	if err != nil {
		t.Fatal(err)
	}
	node, err := dataplane.NewNode(dataplane.NodeConfig{
		NodeID: "ns-test", Region: "us-east-1", NATSURL: nsrv.ClientURL(),
		SnapshotURL: s.http.URL, AdminToken: adminToken, CacheDir: t.TempDir(),
		Store: store, SetReady: s.ns.SetReady,
		HeartbeatInterval: 100 * time.Millisecond, RetryInterval: 100 * time.Millisecond,
	})
	if err != nil {
		t.Fatal(err)
	}
	wg.Add(1)
	go func() { defer wg.Done(); _ = node.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		sctx, scancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer scancel()
		_ = s.ns.Shutdown(sctx)
		stopRouting()
	})
	return s
}

// tenant creates a tenant and returns its id and key pair.
func (s *server) tenant(name string) (id, keyID, secret string) {
	s.t.Helper()
	tn, key, err := s.svc.CreateTenant(context.Background(), fmt.Sprintf("%s-%d", name, time.Now().UnixNano()))
	if err != nil {
		s.t.Fatalf("CreateTenant: %v", err)
	}
	return tn.ID, key.ID, key.Secret
}

// client returns the real Route 53 SDK client signing with the key pair,
// pointed at the server. Retries stay on (the SDK's defaults), as a user
// would have them.
func (s *server) client(keyID, secret string, opts ...func(*r53.Options)) *r53.Client {
	cfg := aws.Config{
		Region:      "eu-central-1", // any region signs; the SDK uses the configured one with an endpoint override
		Credentials: credentials.NewStaticCredentialsProvider(keyID, secret, ""),
	}
	return r53.NewFromConfig(cfg, append([]func(*r53.Options){func(o *r53.Options) {
		o.BaseEndpoint = aws.String(s.http.URL)
	}}, opts...)...)
}

// apiCode returns the Route 53 error code of err, failing if it has none.
func apiCode(t testing.TB, err error) string {
	t.Helper()
	var ae smithy.APIError
	if !errors.As(err, &ae) {
		t.Fatalf("not an API error: %v", err)
	}
	return ae.ErrorCode()
}

// rawResponse is a response to a hand-made request.
type rawResponse struct {
	status int
	header http.Header
	body   string
}

// signed sends a request signed by the SDK's own SigV4 signer at the given
// time; mutate runs after signing (to tamper with it).
func (s *server) signed(t testing.TB, keyID, secret, method, path, body string, at time.Time, mutate ...func(*http.Request)) rawResponse {
	t.Helper()
	req, err := http.NewRequest(method, s.http.URL+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256([]byte(body))
	if err := v4.NewSigner().SignHTTP(context.Background(), aws.Credentials{AccessKeyID: keyID, SecretAccessKey: secret},
		req, hex.EncodeToString(sum[:]), "route53", "us-west-2", at); err != nil {
		t.Fatal(err)
	}
	for _, m := range mutate {
		m(req)
	}
	return s.do(t, req)
}

func (s *server) do(t testing.TB, req *http.Request) rawResponse {
	t.Helper()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return rawResponse{status: resp.StatusCode, header: resp.Header, body: string(b)}
}
