package controlplane

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/waymark-dns/waymark/event"
)

// ChangeStatus is the propagation state of a change.
type ChangeStatus string

// Change statuses, as in Route 53.
const (
	StatusPending ChangeStatus = "PENDING"
	StatusInSync  ChangeStatus = "INSYNC"
)

// ChangeInfo describes one change: a change batch, a zone creation or a
// zone deletion.
type ChangeInfo struct {
	ID          string
	ZoneID      string
	ZoneVersion int64
	Status      ChangeStatus
	Comment     string
	SubmittedAt time.Time
	InSyncAt    *time.Time
	// StreamSeq is the JetStream sequence of the change's event, once the
	// relay has published it.
	StreamSeq *uint64
}

// notifyChannel is the LISTEN/NOTIFY channel that wakes the relay.
//
// The NOTIFY is sent after the change's transaction commits, not inside
// it: PostgreSQL serialises the commits of transactions that notify (they
// take a global lock on the notification queue while committing), which
// capped concurrent change batches at a third of what the database does
// without it. A waker goroutine per Service sends it, coalescing the
// wake-ups of concurrent commits into one NOTIFY.
const notifyChannel = "waymark_outbox"

// wakeRelay asks for a NOTIFY to the relay; call it after a transaction
// that wrote outbox events has committed. It never blocks: a wake-up
// already pending covers this commit too, since it is sent after it.
func (s *Service) wakeRelay() {
	s.wakeOnce.Do(func() {
		s.wake = make(chan struct{}, 1)
		go s.runWaker()
	})
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

// runWaker sends one NOTIFY per wake-up for the life of the process. A
// failed NOTIFY is not retried: the relay's backstop tick publishes the
// event a moment later.
func (s *Service) runWaker() {
	for range s.wake {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		if _, err := s.pool.Exec(ctx, `SELECT pg_notify($1, '')`, notifyChannel); err != nil {
			s.cfg.Logger.Debug("notify relay", "err", err)
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
