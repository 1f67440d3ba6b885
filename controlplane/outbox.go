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

// recordChange inserts the change row and its outbox event inside tx, and
// notifies the relay on commit. ev must have its zone, versions and kind
// set; recordChange fills in the change id and commit time.
func (s *Service) recordChange(ctx context.Context, tx pgx.Tx, tenantID, comment string, ev event.ZoneEvent) (ChangeInfo, error) {
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
	if _, err := tx.Exec(ctx,
		`INSERT INTO change (id, tenant_id, zone_id, zone_version, status, comment, submitted_at)
		 VALUES ($1, $2, $3, $4, 'PENDING', $5, $6)`,
		id, tenantID, ev.ZoneID, ev.ToVersion, comment, now); err != nil {
		return ChangeInfo{}, fmt.Errorf("insert change: %w", err)
	}
	if _, err := tx.Exec(ctx,
		`INSERT INTO outbox_event (zone_id, zone_version, change_id, payload, created_at)
		 VALUES ($1, $2, $3, $4, $5)`,
		ev.ZoneID, ev.ToVersion, id, payload, now); err != nil {
		return ChangeInfo{}, fmt.Errorf("insert outbox event: %w", err)
	}
	if _, err := tx.Exec(ctx, `SELECT pg_notify($1, '')`, notifyChannel); err != nil {
		return ChangeInfo{}, fmt.Errorf("notify relay: %w", err)
	}
	return ChangeInfo{
		ID: id, ZoneID: ev.ZoneID, ZoneVersion: ev.ToVersion,
		Status: StatusPending, Comment: comment, SubmittedAt: now,
	}, nil
}
