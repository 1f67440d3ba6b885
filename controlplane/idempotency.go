package controlplane

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// MaxIdempotencyKeyLength bounds a change batch's idempotency key.
const MaxIdempotencyKeyLength = 255

// idempotencyIndex is the unique index of (tenant, key) on change
// (migration 00031).
const idempotencyIndex = "change_idempotency_key_idx"

// keyedChangeSQL reads the change a tenant's key names, and its digest.
const keyedChangeSQL = `SELECT id, request_hash FROM change WHERE tenant_id = $1 AND idempotency_key = $2`

// An idempotency is a change batch's idempotency key, the digest of the
// batch it was sent with, and what the key already names, as read in the
// batch's transaction (queueLookup).
//
// A retry is told from another batch by the digest, not by the key
// alone: a client that reuses a key for a new batch is refused rather
// than answered a change that is not the one it asked for.
type idempotency struct {
	key  string
	hash []byte

	priorID   string
	priorHash []byte
}

// errReplay is the answer of a batch whose key names an earlier change of
// the same batch: that change, with nothing written.
type errReplay struct{ id string }

func (e errReplay) Error() string { return "change batch already applied as " + e.id }

// newIdempotency checks b's key and digests b with its zone; nil without
// a key.
func newIdempotency(zoneID string, b ChangeBatch) (*idempotency, error) {
	k := b.IdempotencyKey
	if k == "" {
		return nil, nil
	}
	if len(k) > MaxIdempotencyKeyLength {
		return nil, Errorf(CodeInvalidInput, "The idempotency key is %d characters long; the limit is %d.", len(k), MaxIdempotencyKeyLength)
	}
	for i := range len(k) {
		if k[i] < 0x21 || k[i] > 0x7e {
			return nil, Errorf(CodeInvalidInput, "The idempotency key must be visible ASCII characters (byte %d is %#x).", i, k[i])
		}
	}
	// The batch as the service reads it: two bodies that differ only in
	// spacing or the order of their fields are one batch.
	j, err := json.Marshal(struct {
		Zone    string
		Comment string
		Changes []RRSetChange
	}{zoneID, b.Comment, b.Changes})
	if err != nil {
		return nil, fmt.Errorf("digest change batch: %w", err)
	}
	sum := sha256.Sum256(j)
	return &idempotency{key: k, hash: sum[:]}, nil
}

// queueLookup reads the change the key names, if any. Queued after the
// zone's row lock, it sees an attempt on the same zone that committed
// while this one waited.
func (i *idempotency) queueLookup(b *pgx.Batch, tenantID string) {
	b.Queue(keyedChangeSQL, tenantID, i.key).
		QueryRow(func(row pgx.Row) error {
			err := row.Scan(&i.priorID, &i.priorHash)
			if errors.Is(err, pgx.ErrNoRows) {
				return nil
			}
			return err
		})
}

// check returns errReplay when the key names a change of this batch, and
// refuses the batch when it names another one.
func (i *idempotency) check() error {
	switch {
	case i.priorID == "":
		return nil
	case !bytes.Equal(i.priorHash, i.hash):
		return Errorf(CodeIdempotencyKeyReused,
			"The idempotency key was used for another change batch (change %s); use a new key for a new batch.", i.priorID)
	}
	return errReplay{id: i.priorID}
}

// replayChange answers the failure err of a batch with a key: the change
// an earlier attempt made (errReplay), or that an attempt on another
// zone committed first (the key's unique index); any other failure is
// the batch's own.
func (s *Service) replayChange(ctx context.Context, tenantID string, i *idempotency, err error) (ChangeInfo, error) {
	var pe *pgconn.PgError
	if errors.As(err, &pe) && pe.Code == pgUniqueViolation && pe.ConstraintName == idempotencyIndex {
		i.priorID = ""
		err = s.pool.QueryRow(ctx, keyedChangeSQL, tenantID, i.key).Scan(&i.priorID, &i.priorHash)
		if err == nil {
			err = i.check()
		}
	}
	if r, ok := errors.AsType[errReplay](err); ok {
		return s.changeRow(ctx, s.pool, tenantID, r.id)
	}
	return ChangeInfo{}, applyError(err)
}
