package controlplane

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// ackedFuture is a publish that JetStream acknowledged at seq, or refused
// with err.
type ackedFuture struct {
	ok  chan *jetstream.PubAck
	err chan error
}

func newAckedFuture(seq uint64, err error) *ackedFuture {
	f := &ackedFuture{ok: make(chan *jetstream.PubAck, 1), err: make(chan error, 1)}
	if err != nil {
		f.err <- err
	} else {
		f.ok <- &jetstream.PubAck{Stream: "zones", Sequence: seq}
	}
	return f
}

func (f *ackedFuture) Ok() <-chan *jetstream.PubAck { return f.ok }
func (f *ackedFuture) Err() <-chan error            { return f.err }
func (f *ackedFuture) Msg() *nats.Msg               { return nil }

// TestIntegrationRelayFlightOrder checks the rule that keeps records in
// order while batches are in flight: a batch is recorded only once the
// one before it was, never after one that failed, and never with a
// sequence at or below one already recorded.
func TestIntegrationRelayFlightOrder(t *testing.T) {
	t.Parallel()
	lostAck := errors.New("no ack within 5s")
	for _, tc := range []struct {
		name      string
		prev      *flight // nil: none before it
		used      uint64  // recorded before prev
		ack       uint64  // the batch's one ack (0: refused)
		wantErr   error   // nil: recorded
		recorded  bool
		wantTop   uint64
		refuseErr error
	}{
		{name: "first in flight", ack: 7, recorded: true, wantTop: 7},
		{name: "after a recorded one", prev: &flight{top: 6}, ack: 7, recorded: true, wantTop: 7},
		{name: "after a failed one", prev: &flight{err: lostAck}, ack: 7, wantErr: lostAck},
		{name: "a sequence already recorded by the one before", prev: &flight{top: 7}, ack: 7, wantErr: errStreamBehind},
		{name: "a sequence already recorded before it", used: 9, ack: 7, wantErr: errStreamBehind},
		{name: "refused", ack: 0, refuseErr: jetstream.ErrNoStreamResponse, wantErr: jetstream.ErrNoStreamResponse},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			e := newPropEnv(t)
			_, js := e.connect(t)
			e.createZone(t, "ZFLIGHT", "flight.example.")
			ctx := context.Background()
			var o outboxRow
			if err := e.svc.pool.QueryRow(ctx,
				`SELECT id, zone_id, zone_version, change_id, payload, created_at FROM outbox_event`).
				Scan(&o.id, &o.zoneID, &o.version, &o.changeID, &o.payload, &o.created); err != nil {
				t.Fatal(err)
			}
			r := NewRelay(e.svc.pool, js, RelayConfig{AckWait: 5 * time.Second})
			if tc.prev != nil {
				tc.prev.done = make(chan struct{})
				close(tc.prev.done)
			}
			f := &flight{ids: []int64{o.id}, done: make(chan struct{})}
			r.land(ctx, f, tc.prev, tc.used, []outboxRow{o},
				[]jetstream.PubAckFuture{newAckedFuture(tc.ack, tc.refuseErr)}, nil)
			select {
			case <-f.done:
			default:
				t.Fatal("land returned with the flight not done")
			}
			if !errors.Is(f.err, tc.wantErr) || (tc.wantErr == nil) != (f.err == nil) {
				t.Fatalf("flight error %v, want %v", f.err, tc.wantErr)
			}
			var seq *int64
			if err := e.svc.pool.QueryRow(ctx, `SELECT stream_seq FROM outbox_event WHERE id = $1`, o.id).Scan(&seq); err != nil {
				t.Fatal(err)
			}
			if got := seq != nil; got != tc.recorded {
				t.Fatalf("recorded %v (stream_seq %v), want %v", got, seq, tc.recorded)
			}
			if tc.recorded && uint64(*seq) != tc.ack {
				t.Fatalf("recorded at %d, acknowledged at %d", *seq, tc.ack)
			}
			if f.top != tc.wantTop {
				t.Fatalf("flight top %d, want %d", f.top, tc.wantTop)
			}
		})
	}
}
