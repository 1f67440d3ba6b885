package controlplane

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/waymark-dns/waymark/event"
)

// This file is where a change batch's transaction is built: applyChanges
// reads the zone and the record sets the batch touches, validates the
// batch against them (validate.go), and queues every write, the change
// row and the outbox events (outbox.go) for one COMMIT; txInTwoTrips is
// the two-round-trip transaction it and the other writers run in.

// batchOptions adjust applyChanges for callers other than ChangeRRSets.
type batchOptions struct {
	// keepSOASerial makes an UPSERT of the apex SOA keep the live serial
	// (zone-file import: the file's serial means nothing here).
	keepSOASerial bool
	// lockTimeout bounds the wait for the zone's lock; zero means
	// zoneLockTimeout.
	lockTimeout time.Duration
	// secondary, set by a secondary zone's refresh, is written with the
	// batch: the zone's transfer status and, on the first event, what the
	// nameservers know of the zone (secondary_refresh.go).
	secondary *secondaryWrite
	// idem, when set, is the batch's idempotency key (idempotency.go).
	idem *idempotency
}

// zoneLockTimeout is how long a batch waits for another batch on the same
// zone before it gives up with PriorRequestNotComplete, Route 53's answer
// to overlapping batches, which the AWS SDKs retry with backoff. Batches
// take milliseconds; only a large import holds a zone for longer.
const zoneLockTimeout = 10 * time.Second

// applyChanges checks prepared changes against the zone and, if they all
// pass, applies them in one transaction. details holds the failures of
// prepareChange, by index; changes that failed there are skipped here.
func (s *Service) applyChanges(ctx context.Context, tenantID, zoneID, comment string,
	changes []preparedChange, details []Detail, opt batchOptions) (ChangeInfo, error) {
	read, write, info := s.prepareApply(ctx, tenantID, zoneID, comment, changes, details, opt)
	if err := s.txInTwoTripsQ(ctx, read, write); err != nil {
		if opt.idem != nil {
			return s.replayChange(ctx, tenantID, opt.idem, err)
		}
		return ChangeInfo{}, applyError(err)
	}
	s.wakeRelay()
	return *info, nil
}

// applyError maps a failed batch's error.
func applyError(err error) error {
	var pe *pgconn.PgError
	// lock_not_available, or a deadlock between two batches whose
	// aliases point at each other's zones: both retryable.
	if errors.As(err, &pe) && (pe.Code == "55P03" || pe.Code == "40P01") {
		return Errorf(CodePriorRequestNotComplete,
			"The request was rejected because a prior request for this hosted zone was still being processed.")
	}
	return err
}

// prepareApply builds the two round trips of applyChanges; info is set
// once write has succeeded.
func (s *Service) prepareApply(ctx context.Context, tenantID, zoneID, comment string,
	changes []preparedChange, details []Detail, opt batchOptions) (read func(*pgx.Batch), write func(querier, *pgx.Batch) error, info *ChangeInfo) {
	names := make([]string, 0, len(changes))
	seen := make(map[string]bool, len(changes))
	for _, c := range changes {
		if c.ok && !seen[c.set.Name] {
			seen[c.set.Name] = true
			names = append(names, c.set.Name)
		}
	}
	// Two round trips in all. The first carries BEGIN, the zone row lock
	// and (with a snapshot taken after the lock) every record set at the
	// names the batch touches, which is all that CREATE/DELETE checks and
	// CNAME exclusivity need. The second carries every write, the change
	// and outbox rows, and COMMIT.
	var zoneName string
	var version int64
	var count int
	var quota *int32
	var found bool
	var loaded []storedRRSet
	lockTimeout := opt.lockTimeout
	if lockTimeout <= 0 {
		lockTimeout = zoneLockTimeout
	}
	read = func(b *pgx.Batch) {
		b.Queue(`SELECT set_config('lock_timeout', $1, true)`, fmt.Sprintf("%dms", lockTimeout.Milliseconds()))
		b.Queue(`SELECT z.name, z.version, z.rrset_count, t.record_quota
		         FROM hosted_zone z JOIN tenant t ON t.id = z.tenant_id
		         WHERE z.id = $1 AND z.tenant_id = $2 FOR NO KEY UPDATE OF z`, zoneID, tenantID).
			QueryRow(func(row pgx.Row) error {
				err := row.Scan(&zoneName, &version, &count, &quota)
				if errors.Is(err, pgx.ErrNoRows) {
					return nil
				}
				found = err == nil
				return err
			})
		queueLoadRRSets(b, tenantID, zoneID, names, &loaded)
		if opt.idem != nil {
			opt.idem.queueLookup(b, tenantID)
		}
	}
	info = &ChangeInfo{}
	write = func(q querier, wb *pgx.Batch) error {
		if opt.idem != nil {
			// First: a retry is answered its change, whatever the
			// zone holds now (the batch's own CREATEs, say).
			if err := opt.idem.check(); err != nil {
				return err
			}
		}
		if !found {
			return errNoSuchZone(zoneID)
		}
		wc := newWorkingCopy(zoneName, loaded)
		for _, n := range names {
			wc.loaded[n] = true
		}
		for i, c := range changes {
			if !c.ok {
				continue
			}
			if msg := wc.apply(c, opt); msg != "" {
				details = append(details, indexDetail(i, msg))
			} else {
				wc.changeIndex[c.set.Key()] = i
			}
		}
		if len(details) > 0 {
			return changeBatchError(details)
		}
		// Aliases and references reach beyond the names the batch
		// touches: extra round trips, only for batches that need them.
		if wc.hasAliasWork() {
			ad, err := s.checkAliases(ctx, q, tenantID, zoneID, wc)
			if err != nil {
				return err
			}
			if len(ad) > 0 {
				return changeBatchError(ad)
			}
		}
		deletes, upserts, delta := wc.result()
		colls, err := routingRefs(ctx, q, tenantID, changes, upserts)
		if err != nil {
			return err
		}
		limit := s.cfg.DefaultRecordQuota
		if quota != nil {
			limit = int(*quota)
		}
		if newCount := count + delta; delta > 0 && newCount > limit {
			return Errorf(CodeTooManyRecords,
				"The hosted zone would hold %d record sets; the limit is %d.", newCount, limit)
		}
		// A change is one event, unless it is too large for one message
		// (an import, or a batch of 1,000 sets with long names): then
		// consecutive events, one version each, all in this transaction.
		// The change row goes with the last one, so the change is INSYNC
		// once all of them are applied.
		chunks := splitEvent(deletes, upserts)
		wb.Queue(`UPDATE hosted_zone SET version = $2, rrset_count = rrset_count + $3 WHERE id = $1`,
			zoneID, version+int64(len(chunks)), delta)
		for i, ch := range chunks {
			v := version + int64(i) + 1
			queueDeletes(wb, zoneID, ch.deletes)
			queueUpserts(wb, zoneID, v, ch.upserts)
			ev := event.ZoneEvent{
				Kind: event.ZoneUpdated, ZoneID: zoneID, ZoneName: zoneName,
				FromVersion: v - 1, ToVersion: v,
				Deletes: ch.deletes, Upserts: eventRRSets(ch.upserts),
				Continued: i < len(chunks)-1,
			}
			if i == 0 {
				ev.CIDRCollections = colls
				if sw := opt.secondary; sw != nil {
					ev.Secondary = sw.state
					sw.queue(wb, zoneID)
				}
			}
			if i < len(chunks)-1 {
				if err := s.queueEvent(wb, tenantID, ev); err != nil {
					return err
				}
				continue
			}
			ci, err := s.queueKeyedChange(wb, tenantID, comment, ev, opt.idem)
			if err != nil {
				return err
			}
			*info = ci
		}
		return nil
	}
	return read, write, info
}

// txInTwoTrips runs a read-decide-write transaction in two round trips:
// BEGIN and the statements read queues go in one batch; write then runs on
// their results and queues the writes, which are sent with COMMIT. An error
// from write (such as a business *Error) or from either batch rolls the
// transaction back. The pool discards a connection returned inside a
// transaction, so a failed rollback cannot leak one.
func (s *Service) txInTwoTrips(ctx context.Context, read func(*pgx.Batch), write func(*pgx.Batch) error) error {
	return s.txInTwoTripsQ(ctx, read, func(_ querier, wb *pgx.Batch) error { return write(wb) })
}

// txInTwoTripsQ is txInTwoTrips whose write may also query inside the
// transaction (each query one more round trip) before it queues writes.
func (s *Service) txInTwoTripsQ(ctx context.Context, read func(*pgx.Batch), write func(querier, *pgx.Batch) error) error {
	conn, err := s.pool.Acquire(ctx)
	if err != nil {
		return fmt.Errorf("acquire connection: %w", err)
	}
	defer conn.Release()
	rollback := func() {
		if conn.Conn().PgConn().TxStatus() == 'I' {
			return
		}
		rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		defer cancel()
		_, _ = conn.Exec(rctx, "ROLLBACK")
	}
	rb := &pgx.Batch{}
	rb.Queue("BEGIN")
	read(rb)
	if err := conn.SendBatch(ctx, rb).Close(); err != nil {
		rollback()
		return fmt.Errorf("read: %w", err)
	}
	wb := &pgx.Batch{}
	if err := write(conn, wb); err != nil {
		rollback()
		return err
	}
	// The call's audit entry commits with its effect (audit.go).
	audited, err := s.queueAudit(ctx, wb)
	if err != nil {
		rollback()
		return err
	}
	wb.Queue("COMMIT")
	if err := conn.SendBatch(ctx, wb).Close(); err != nil {
		rollback()
		if e, ok := AsError(err); ok {
			return e
		}
		return fmt.Errorf("write: %w", err)
	}
	// A COMMIT of a transaction that failed earlier answers ROLLBACK
	// without an error; the batch would have reported that failure, but
	// check the state all the same.
	if st := conn.Conn().PgConn().TxStatus(); st != 'I' {
		rollback()
		return fmt.Errorf("write: transaction not committed (status %c)", st)
	}
	audited()
	return nil
}
