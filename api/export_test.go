package api

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/miekg/dns"
	"github.com/waymark-dns/waymark/controlplane"
	"github.com/waymark-dns/waymark/internal/pgtest"
	"github.com/waymark-dns/waymark/internal/testkit"
)

// exportWatch reports when an export has returned.
type exportWatch struct {
	Service
	done atomic.Bool
}

func (e *exportWatch) ExportZone(ctx context.Context, tenantID, zoneID string, w io.Writer) error {
	defer e.done.Store(true)
	return e.Service.ExportZone(ctx, tenantID, zoneID, w)
}

// smallBuffers shrinks the send buffer of every accepted connection, so
// that a client that stops reading stops the export's writes early.
type smallBuffers struct{ net.Listener }

func (l smallBuffers) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if tc, ok := c.(*net.TCPConn); ok {
		_ = tc.SetWriteBuffer(8 << 10)
	}
	return c, err
}

// TestIntegrationExportStreamsWithoutHoldingThePool exports a zone of
// 20,000 record sets to a client that stops reading after the first
// kilobyte, through a pool of ONE connection: while the export waits on
// the client, another tenant's requests are answered; then the client
// reads the rest and gets the whole zone.
func TestIntegrationExportStreamsWithoutHoldingThePool(t *testing.T) {
	t.Parallel()
	_, dsn := pgtest.Schema(t)
	pcfg, err := pgxpool.ParseConfig(dsn)
	if err != nil {
		t.Fatal(err)
	}
	pcfg.MaxConns = 1
	pool, err := pgxpool.NewWithConfig(context.Background(), pcfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	svc, err := controlplane.New(pool, controlplane.Config{
		MasterKey: bytes.Repeat([]byte{7}, 32), JWTKey: bytes.Repeat([]byte{9}, 32), TokenTTL: 5 * time.Minute,
	})
	if err != nil {
		t.Fatal(err)
	}
	watch := &exportWatch{Service: svc}
	a := &testAPI{t: t, h: NewRouter(Config{Service: watch, AdminToken: testAdminToken}), svc: svc, db: pool,
		clock: &testClock{}, spec: loadSpec(t), seen: map[string]bool{}}
	_, bigToken := a.tenant("exporter")
	big := a.zone(bigToken, "big.example.")
	const n = 20000
	if _, err := pool.Exec(context.Background(), `
		INSERT INTO rrset (zone_id, sort_name, name, type, ttl, records, rdata, updated_version)
		SELECT $1, 'example.big.h' || i || '.', 'h' || i || '.big.example.', 'A', 60, '["192.0.2.1"]', '["192.0.2.1"]', 1
		FROM generate_series(1, $2::int) i`, big, n); err != nil {
		t.Fatal(err)
	}
	_, otherToken := a.tenant("bystander")
	other := a.zone(otherToken, "other.example.")

	srv := httptest.NewUnstartedServer(a.h)
	srv.Listener = smallBuffers{srv.Listener}
	srv.Start()
	t.Cleanup(srv.Close)
	client := &http.Client{Transport: &http.Transport{DialContext: (&net.Dialer{
		Control: func(_, _ string, c syscall.RawConn) error {
			return c.Control(func(fd uintptr) { _ = syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_RCVBUF, 4096) })
		},
	}).DialContext}}

	pages := int64(n / 500) // controlplane's exportPageSets
	acquired0 := pool.Stat().AcquireCount()
	rq, _ := http.NewRequest("GET", srv.URL+"/v1/hostedzones/"+big+"/export", nil)
	rq.Header.Set("Authorization", "Bearer "+bigToken)
	res, err := client.Do(rq)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	if res.StatusCode != http.StatusOK || res.Header.Get("Content-Type") != "text/dns; charset=utf-8" {
		t.Fatalf("export: %d %s", res.StatusCode, res.Header.Get("Content-Type"))
	}
	head := make([]byte, 1024)
	if _, err := io.ReadFull(res.Body, head); err != nil {
		t.Fatal(err)
	}

	// The export is stuck on the client, having read a few pages only;
	// the one connection is free.
	readStuck := pool.Stat().AcquireCount() - acquired0
	if readStuck >= pages {
		t.Errorf("the export took the pool %d times before the client read 1 KiB: it read the whole zone first", readStuck)
	}
	for i := 0; i < 10; i++ {
		ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
		g, _ := http.NewRequestWithContext(ctx, "GET", srv.URL+"/v1/hostedzones/"+other, nil)
		g.Header.Set("Authorization", "Bearer "+otherToken)
		gr, err := http.DefaultClient.Do(g)
		if err != nil {
			cancel()
			t.Fatalf("bystander GET %d during the export: %v", i, err)
		}
		_, _ = io.Copy(io.Discard, gr.Body)
		gr.Body.Close()
		cancel()
		if gr.StatusCode != http.StatusOK {
			t.Fatalf("bystander GET %d: %d", i, gr.StatusCode)
		}
	}
	if watch.done.Load() {
		t.Fatal("the export finished before the client read it: the test proves nothing (buffers too large)")
	}

	acquired1 := pool.Stat().AcquireCount()
	rest, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	testkit.Eventually(t, 5*time.Second, func() error {
		if !watch.done.Load() {
			return errors.New("the export has not returned")
		}
		return nil
	})
	if total := readStuck + pool.Stat().AcquireCount() - acquired1; total < pages {
		t.Errorf("the export took the pool %d times in all, want one per page (%d pages)", total, pages)
	}
	zp := dns.NewZoneParser(strings.NewReader(string(head)+string(rest)), "", "")
	count := 0
	for rr, ok := zp.Next(); ok; rr, ok = zp.Next() {
		if _, isA := rr.(*dns.A); isA {
			count++
		}
	}
	if err := zp.Err(); err != nil || count != n {
		t.Fatalf("export: %d A records (want %d), %v", count, n, err)
	}
}
