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
const notifyChannel = "waymark_outbox"

// recordChange writes the change row and its outbox event inside tx and
// notifies the relay on commit: queueChange for callers that hold a
// transaction rather than a batch.
func (s *Service) recordChange(ctx context.Context, tx pgx.Tx, tenantID, comment string, ev event.ZoneEvent) (ChangeInfo, error) {
	var b pgx.Batch
	info, err := s.queueChange(&b, tenantID, comment, ev)
	if err != nil {
		return ChangeInfo{}, err
	}
	if err := tx.SendBatch(ctx, &b).Close(); err != nil {
		return ChangeInfo{}, fmt.Errorf("record change: %w", err)
	}
	return info, nil
}
