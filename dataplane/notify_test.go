package dataplane

import (
	"context"
	"errors"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/waymark-dns/waymark/event"
	"github.com/waymark-dns/waymark/internal/testkit"
	"github.com/waymark-dns/waymark/zonecfg"
)

// notifyRecv is a secondary's NOTIFY listener (miekg/dns, which checks
// the TSIG): it refuses the first failFirst NOTIFYs and records the
// serials of the ones it acknowledges.
type notifyRecv struct {
	mu        sync.Mutex
	failFirst int
	seen      int
	badTSIG   int
	acked     []uint32
}

func (r *notifyRecv) ServeDNS(w dns.ResponseWriter, req *dns.Msg) {
	r.mu.Lock()
	defer r.mu.Unlock()
	m := new(dns.Msg)
	m.SetReply(req)
	t := req.IsTsig()
	if req.Opcode != dns.OpcodeNotify || t == nil || w.TsigStatus() != nil {
		r.badTSIG++
		m.Rcode = dns.RcodeRefused
		_ = w.WriteMsg(m)
		return
	}
	r.seen++
	if r.seen <= r.failFirst {
		m.Rcode = dns.RcodeServerFailure
	} else if len(req.Answer) == 1 {
		r.acked = append(r.acked, req.Answer[0].(*dns.SOA).Serial)
	}
	m.SetTsig(t.Hdr.Name, t.Algorithm, 300, time.Now().Unix())
	_ = w.WriteMsg(m)
}

// until adapts a condition to testkit.Eventually.
func until(f func() bool) func() error {
	return func() error {
		if f() {
			return nil
		}
		return errors.New("not yet")
	}
}

func (r *notifyRecv) state() (seen, bad int, acked []uint32) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.seen, r.badTSIG, append([]uint32(nil), r.acked...)
}

// TestNotifySignedRetriedUntilAcked: a new zone version is notified to the
// target, signed with its key (checked by miekg's server), retried after
// SERVFAILs until acknowledged, and not sent again for the same version.
func TestNotifySignedRetriedUntilAcked(t *testing.T) {
	t.Parallel()
	store, secret := xfrStore(t, "127.0.0.0/8")
	recv := &notifyRecv{failFirst: 2}
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &dns.Server{PacketConn: pc, Handler: recv, TsigSecret: map[string]string{xfrKeyName: secret}}
	go func() { _ = srv.ActivateAndServe() }()
	t.Cleanup(func() { _ = srv.Shutdown() })
	port := pc.LocalAddr().(*net.UDPAddr).Port

	n := NewNotifier(store, NotifyConfig{MinRetry: 10 * time.Millisecond, MaxRetry: 50 * time.Millisecond, Attempts: 5})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { _ = n.Run(ctx); close(done) }()
	t.Cleanup(func() { cancel(); <-done })
	testkit.Eventually(t, 2*time.Second, until(func() bool { return store.notifier.Load() == n }))

	st, _ := store.ZoneState(xfrZoneID)
	cfg := *st.Transfers
	cfg.Notify = []zonecfg.NotifyTarget{{Address: "127.0.0.1", Port: uint16(port), Key: xfrKeyName}}
	if _, err := store.Apply(event.ZoneEvent{Kind: event.ZoneUpdated, ZoneID: xfrZoneID, FromVersion: 7, ToVersion: 8,
		Transfers: &cfg}); err != nil {
		t.Fatal(err)
	}
	testkit.Eventually(t, 2*time.Second, until(func() bool { _, _, a := recv.state(); return len(a) == 1 }))
	seen, bad, acked := recv.state()
	if seen != 3 || bad != 0 || acked[0] != 8 {
		t.Fatalf("seen %d NOTIFYs (%d badly signed), acked serials %v; want 3, 0, [8]", seen, bad, acked)
	}
	// The same version again (a re-fetch) is not notified; the next one is.
	st, _ = store.ZoneState(xfrZoneID)
	if err := store.ReplaceZone(st); err != nil {
		t.Fatal(err)
	}
	if _, err := store.Apply(event.ZoneEvent{Kind: event.ZoneUpdated, ZoneID: xfrZoneID, FromVersion: 8, ToVersion: 9,
		Upserts: []zonecfg.RRSet{{Name: "new.xfr.test.", Type: "A", TTL: 60, Records: []string{"192.0.2.9"}}}}); err != nil {
		t.Fatal(err)
	}
	testkit.Eventually(t, 2*time.Second, until(func() bool { _, _, a := recv.state(); return len(a) == 2 }))
	if _, _, acked := recv.state(); acked[1] != 9 {
		t.Fatalf("acked serials %v, want [8 9]", acked)
	}
}

// TestNotifyWrongKeyNotAcked: a secondary with another secret refuses
// every attempt; the notifier stops after Attempts.
func TestNotifyWrongKeyNotAcked(t *testing.T) {
	t.Parallel()
	store, _ := xfrStore(t, "127.0.0.0/8")
	recv := &notifyRecv{}
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &dns.Server{PacketConn: pc, Handler: recv, TsigSecret: map[string]string{xfrKeyName: "c2VjcmV0c2VjcmV0c2VjcmV0c2VjcmV0c2VjcmV0MTI="}}
	go func() { _ = srv.ActivateAndServe() }()
	t.Cleanup(func() { _ = srv.Shutdown() })
	port := pc.LocalAddr().(*net.UDPAddr).Port
	n := NewNotifier(store, NotifyConfig{MinRetry: 5 * time.Millisecond, MaxRetry: 10 * time.Millisecond, Attempts: 3})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { _ = n.Run(ctx); close(done) }()
	t.Cleanup(func() { cancel(); <-done })
	testkit.Eventually(t, 2*time.Second, until(func() bool { return store.notifier.Load() == n }))
	st, _ := store.ZoneState(xfrZoneID)
	cfg := *st.Transfers
	cfg.Notify = []zonecfg.NotifyTarget{{Address: "127.0.0.1", Port: uint16(port), Key: xfrKeyName}}
	if _, err := store.Apply(event.ZoneEvent{Kind: event.ZoneUpdated, ZoneID: xfrZoneID, FromVersion: 7, ToVersion: 8, Transfers: &cfg}); err != nil {
		t.Fatal(err)
	}
	testkit.Eventually(t, 2*time.Second, until(func() bool { _, b, _ := recv.state(); return b == 3 }))
	if _, bad, acked := recv.state(); bad != 3 || len(acked) != 0 {
		t.Fatalf("bad %d acked %v, want 3 refused, none acked", bad, acked)
	}
	testkit.Eventually(t, 2*time.Second, until(func() bool { n.mu.Lock(); defer n.mu.Unlock(); _, busy := n.pending[xfrZoneID]; return !busy }))
}

// TestNotifyFallsBackToTCP: a target whose UDP port swallows every
// datagram (a filter that drops UDP) and that answers over TCP gets the
// NOTIFY over TCP once two attempts over UDP have gone unanswered.
func TestNotifyFallsBackToTCP(t *testing.T) {
	t.Parallel()
	store, secret := xfrStore(t, "127.0.0.0/8")
	recv := &notifyRecv{}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	// The same port over UDP, bound and never read: no answer, no ICMP.
	silent, err := net.ListenPacket("udp", l.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = silent.Close() })
	srv := &dns.Server{Listener: l, Handler: recv, TsigSecret: map[string]string{xfrKeyName: secret}}
	go func() { _ = srv.ActivateAndServe() }()
	t.Cleanup(func() { _ = srv.Shutdown() })

	n := NewNotifier(store, NotifyConfig{MinRetry: 5 * time.Millisecond, MaxRetry: 10 * time.Millisecond,
		Timeout: 50 * time.Millisecond, Attempts: 4})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { _ = n.Run(ctx); close(done) }()
	t.Cleanup(func() { cancel(); <-done })
	testkit.Eventually(t, 2*time.Second, until(func() bool { return store.notifier.Load() == n }))
	st, _ := store.ZoneState(xfrZoneID)
	cfg := *st.Transfers
	cfg.Notify = []zonecfg.NotifyTarget{{Address: "127.0.0.1", Port: uint16(port), Key: xfrKeyName}}
	if _, err := store.Apply(event.ZoneEvent{Kind: event.ZoneUpdated, ZoneID: xfrZoneID, FromVersion: 7, ToVersion: 8, Transfers: &cfg}); err != nil {
		t.Fatal(err)
	}
	testkit.Eventually(t, 5*time.Second, until(func() bool { _, _, a := recv.state(); return len(a) == 1 }))
	if seen, bad, acked := recv.state(); seen != 1 || bad != 0 || acked[0] != 8 {
		t.Fatalf("over TCP: seen %d (%d badly signed), acked %v; want one signed NOTIFY for 8", seen, bad, acked)
	}
}
