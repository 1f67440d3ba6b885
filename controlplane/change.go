package controlplane

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/waymark-dns/waymark/zonecfg"
)

// Action is what a change does to its record set. Callers must spell it
// exactly, in uppercase, as Route 53's XSD requires.
type Action string

// The change actions.
const (
	// ActionCreate creates a record set that must not exist yet.
	ActionCreate Action = "CREATE"
	// ActionDelete deletes a record set whose TTL and values must match
	// the live ones exactly (a compare-and-swap).
	ActionDelete Action = "DELETE"
	// ActionUpsert creates a record set or replaces it whole.
	ActionUpsert Action = "UPSERT"
	// actionRemove deletes a record set if it exists, whatever its
	// values: only the secondary refresh (secondary_refresh.go), which
	// mirrors a primary, uses it; callers cannot spell it.
	actionRemove Action = "remove"
)

// RRSetChange is one change of a batch. The record set is raw caller input:
// its name and type are canonicalised and its values validated by
// ChangeRRSets.
type RRSetChange struct {
	Action Action
	RRSet  zonecfg.RRSet
}

// ChangeBatch is a list of changes applied to one zone atomically.
type ChangeBatch struct {
	Comment string
	Changes []RRSetChange
	// IdempotencyKey, when set, makes the batch safe to retry: a batch of
	// the tenant with the same key and the same comment and changes is
	// answered the change the first one made, applied once; a different
	// batch with that key is refused (CodeIdempotencyKeyReused). Up to
	// MaxIdempotencyKeyLength visible ASCII characters.
	IdempotencyKey string `json:"-"`
}

// ChangeRRSets applies a change batch to a zone in one transaction and
// returns the change that publishes it.
//
// The changes are checked in order against a working copy of the zone, as
// Route 53 does (ROUTE53.md §4.1): a DELETE followed by a CREATE of the same
// record set is valid, deleting the same set twice is not. If any change
// fails, nothing is applied and the *Error (CodeInvalidChangeBatch) has one
// Detail per failing change. Batch-wide limits fail without details.
//
// Concurrent batches on one zone are serialised by a row lock on the zone;
// batches on different zones do not wait for each other.
func (s *Service) ChangeRRSets(ctx context.Context, tenantID, zoneID string, b ChangeBatch) (ChangeInfo, error) {
	id, changes, details, err := prepareBatch(zoneID, b)
	if err != nil {
		return ChangeInfo{}, err
	}
	idem, err := newIdempotency(id, b)
	if err != nil {
		return ChangeInfo{}, err
	}
	if err := s.refuseSecondary(ctx, tenantID, id, "a change batch"); err != nil {
		return ChangeInfo{}, err
	}
	return s.applyChanges(ctx, tenantID, id, b.Comment, changes, details, batchOptions{idem: idem})
}

// prepareBatch checks a batch on its own, without the zone: the zone id,
// the comment, the limits and each change (its failures in details).
func prepareBatch(zoneID string, b ChangeBatch) (string, []preparedChange, []Detail, error) {
	id, ok := cleanID(zoneID)
	if !ok {
		return "", nil, nil, errNoSuchZone(displayID(zoneID))
	}
	if err := checkText("Comment", b.Comment, 0, MaxCommentLength); err != nil {
		return "", nil, nil, err
	}
	if len(b.Changes) == 0 {
		return "", nil, nil, Errorf(CodeInvalidInput, "A change batch must contain at least one change.")
	}
	if err := checkBatchLimits(b.Changes); err != nil {
		return "", nil, nil, err
	}
	changes := make([]preparedChange, len(b.Changes))
	var details []Detail
	for i, c := range b.Changes {
		var msg string
		changes[i], msg = prepareChange(c)
		if msg != "" {
			details = append(details, indexDetail(i, msg))
		}
	}
	return id, changes, details, nil
}

// GetChange returns the status of one of the tenant's changes.
func (s *Service) GetChange(ctx context.Context, tenantID, changeID string) (ChangeInfo, error) {
	return s.changeRow(ctx, s.pool, tenantID, changeID)
}

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

// changeRow reads a change of tenantID with its stream sequence.
func (s *Service) changeRow(ctx context.Context, q interface {
	QueryRow(context.Context, string, ...any) pgx.Row
}, tenantID, changeID string) (ChangeInfo, error) {
	id, ok := cleanID(changeID)
	if !ok {
		return ChangeInfo{}, errNoSuchChange(displayID(changeID))
	}
	var c ChangeInfo
	var status string
	var seq *int64
	err := q.QueryRow(ctx,
		`SELECT id, zone_id, zone_version, status, comment, submitted_at, insync_at, stream_seq
		   FROM change WHERE id = $1 AND tenant_id = $2`, id, tenantID).
		Scan(&c.ID, &c.ZoneID, &c.ZoneVersion, &status, &c.Comment, &c.SubmittedAt, &c.InSyncAt, &seq)
	if errors.Is(err, pgx.ErrNoRows) {
		return ChangeInfo{}, errNoSuchChange(id)
	}
	if err != nil {
		return ChangeInfo{}, fmt.Errorf("get change: %w", err)
	}
	c.fill(status, seq)
	return c, nil
}

// fill completes a ChangeInfo scanned from a change row: its status, its
// times in UTC and its stream sequence.
func (c *ChangeInfo) fill(status string, seq *int64) {
	c.Status = ChangeStatus(status)
	c.SubmittedAt = c.SubmittedAt.UTC()
	if c.InSyncAt != nil {
		t := c.InSyncAt.UTC()
		c.InSyncAt = &t
	}
	if seq != nil {
		u := uint64(*seq)
		c.StreamSeq = &u
	}
}
