package controlplane

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/waymark-dns/waymark/event"
	"github.com/waymark-dns/waymark/zonecfg"
)

// This file is where the outbox is written: queueChange and queueEvent
// queue a change's row and its zone events into the transaction that
// applies it (transaction.go), splitEvent cuts events to NATS's size, and
// the relay (relay.go) is woken after the commit to publish them.

// notifyChannel is the LISTEN/NOTIFY channel that wakes the relay, as
// event.OutboxWakeSubject does for an API process connected to NATS (the
// relay listens on both).
//
// The wake-up is sent after the change's transaction commits, not inside
// it: PostgreSQL serialises the commits of transactions that notify (they
// take a global lock on the notification queue while committing), which
// capped concurrent change batches at a third of what the database does
// without it. And it goes straight to the relay when it leads in this
// process, else over NATS where it can: a NOTIFY after the commit is one
// more transaction, whose round trip took 0.5 ms at the median and 5–7 ms
// at p99 in the fleet test, where a NATS message is a buffered write.
// Losing one costs nothing that matters: if NATS is unreachable the relay
// cannot publish either, and its backstop tick reads the outbox anyway. A
// waker goroutine per Service sends them, coalescing the wake-ups of
// concurrent commits into one.
const notifyChannel = "waymark_outbox"

// wakeRelay asks for a wake-up of the relay; call it after a transaction
// that wrote outbox events has committed. It never blocks: a wake-up
// already pending covers this commit too, since it is sent after it.
func (s *Service) wakeRelay() {
	if r := s.relay.Load(); r != nil && r.Wake() {
		return
	}
	s.wakeOnce.Do(func() {
		s.wake = make(chan struct{}, 1)
		go s.runWaker()
	})
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

// AttachRelay makes wake-ups after this process's commits go straight to
// r while r leads (Relay.Wake): the relay of an API process.
func (s *Service) AttachRelay(r *Relay) { s.relay.Store(r) }

// runWaker sends one wake-up per wakeRelay for the life of the process,
// over NATS when the Service has a connection, else as a NOTIFY. A failed
// one is not retried: the relay's backstop tick publishes the event a
// moment later.
func (s *Service) runWaker() {
	for range s.wake {
		if nc := s.cfg.RelayWake; nc != nil {
			if err := nc.Publish(event.OutboxWakeSubject, nil); err != nil {
				s.log.Debug("wake relay", "err", err)
			}
			continue
		}
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		if _, err := s.pool.Exec(ctx, `SELECT pg_notify($1, '')`, notifyChannel); err != nil {
			s.log.Debug("notify relay", "err", err)
		}
		cancel()
	}
}

// recordChange writes the change row and its outbox event inside tx and
// notifies the relay on commit: queueChange for callers that hold a
// transaction rather than a batch and commit it themselves.
func (s *Service) recordChange(ctx context.Context, tx pgx.Tx, tenantID, comment string, ev event.ZoneEvent) (ChangeInfo, error) {
	var b pgx.Batch
	info, err := s.queueChange(&b, tenantID, comment, ev)
	if err != nil {
		return ChangeInfo{}, err
	}
	// Rare paths (CIDR collection changes) notify inside the transaction:
	// they hold a pgx.Tx, not the commit.
	b.Queue(`SELECT pg_notify($1, '')`, notifyChannel)
	if err := tx.SendBatch(ctx, &b).Close(); err != nil {
		return ChangeInfo{}, fmt.Errorf("record change: %w", err)
	}
	return info, nil
}

// queueChange queues the change row and the outbox event of a change on b,
// so that a change batch commits in two round trips. It does not wake the
// relay: the caller calls wakeRelay once the transaction has committed
// (outbox.go says why).
func (s *Service) queueChange(b *pgx.Batch, tenantID, comment string, ev event.ZoneEvent) (ChangeInfo, error) {
	return s.queueKeyedChange(b, tenantID, comment, ev, nil)
}

// queueKeyedChange is queueChange of a change batch that may carry an
// idempotency key, stored with its change row (idempotency.go).
func (s *Service) queueKeyedChange(b *pgx.Batch, tenantID, comment string, ev event.ZoneEvent, idem *idempotency) (ChangeInfo, error) {
	id, err := s.newID(prefixChange)
	if err != nil {
		return ChangeInfo{}, err
	}
	now := s.now()
	ev.ChangeID = id
	ev.TenantID = tenantID
	ev.Committed = now
	payload, err := ev.Encode()
	if err != nil {
		return ChangeInfo{}, fmt.Errorf("encode zone event: %w", err)
	}
	var key *string
	var hash []byte
	if idem != nil {
		key, hash = &idem.key, idem.hash
	}
	b.Queue(`INSERT INTO change (id, tenant_id, zone_id, zone_version, status, comment, submitted_at, idempotency_key, request_hash)
	         VALUES ($1, $2, $3, $4, 'PENDING', $5, $6, $7, $8)`,
		id, tenantID, ev.ZoneID, ev.ToVersion, comment, now, key, hash)
	b.Queue(`INSERT INTO outbox_event (zone_id, zone_version, change_id, payload, created_at)
	         VALUES ($1, $2, $3, $4, $5)`,
		ev.ZoneID, ev.ToVersion, id, payload, now)
	return ChangeInfo{
		ID: id, ZoneID: ev.ZoneID, ZoneVersion: ev.ToVersion,
		Status: StatusPending, Comment: comment, SubmittedAt: now,
	}, nil
}

// queueEvent queues an outbox event that belongs to no change row: a
// leading part of a change split by splitEvent. The change row goes with
// the last part, so that the relay marks the change INSYNC only when the
// whole of it is applied.
func (s *Service) queueEvent(b *pgx.Batch, tenantID string, ev event.ZoneEvent) error {
	ev.TenantID = tenantID
	ev.Committed = s.now()
	payload, err := ev.Encode()
	if err != nil {
		return fmt.Errorf("encode zone event: %w", err)
	}
	b.Queue(`INSERT INTO outbox_event (zone_id, zone_version, change_id, payload, created_at)
	         VALUES ($1, $2, NULL, $3, $4)`,
		ev.ZoneID, ev.ToVersion, payload, ev.Committed)
	return nil
}

// maxEventBytes bounds the estimated payload of one zone event, well under
// NATS's default max_payload of 1 MiB.
const maxEventBytes = 256 << 10

// eventChunk is one event's share of a change.
type eventChunk struct {
	deletes []zonecfg.Key
	upserts []storedRRSet
}

// splitEvent splits a change's deletes and upserts into events of at most
// maxEventBytes (estimated, assuming every character may need escaping).
// The keys of deletes and upserts are disjoint, so the parts may be applied
// in any order. Nearly every change fits in one event; imports and the
// largest batches (1,000 sets with long names) may not.
func splitEvent(deletes []zonecfg.Key, upserts []storedRRSet) []eventChunk {
	const overhead = 64
	keySize := func(k zonecfg.Key) int { return 2*(len(k.Name)+len(k.Type)+len(k.SetIdentifier)) + overhead }
	total := 0
	for _, k := range deletes {
		total += keySize(k)
	}
	setSize := func(rs storedRRSet) int {
		n := keySize(rs.Key())
		for _, v := range rs.RData {
			n += 2*len(v) + 4
		}
		return n
	}
	for _, rs := range upserts {
		total += setSize(rs)
	}
	if total <= maxEventBytes {
		return []eventChunk{{deletes: deletes, upserts: upserts}}
	}
	var chunks []eventChunk
	cur, size := eventChunk{}, 0
	flushIfFull := func(n int) {
		if size+n > maxEventBytes && (len(cur.deletes) > 0 || len(cur.upserts) > 0) {
			chunks = append(chunks, cur)
			cur, size = eventChunk{}, 0
		}
		size += n
	}
	for _, k := range deletes {
		flushIfFull(keySize(k))
		cur.deletes = append(cur.deletes, k)
	}
	for _, rs := range upserts {
		flushIfFull(setSize(rs))
		cur.upserts = append(cur.upserts, rs)
	}
	return append(chunks, cur)
}
