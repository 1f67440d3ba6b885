package controlplane

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// A health check's own notifications: the webhooks of its notify field
// are POSTed every status change, without an alarm. They reuse the
// alarms' machinery: the notification outbox, DeliverNotifications (the
// signature, the retries with backoff, the refusal of non-public
// targets) and the alarm leader (RunAlarms). health_check_notify holds
// each check's actions and a cursor in health_check_transition.

// healthNotifyBatch bounds the transitions one check's turn queues.
const healthNotifyBatch = 100

// HealthCheckNotification is the JSON document a health check's webhook
// is POSTed on a status change. Status and OldStatus are HEALTHY or
// UNHEALTHY; TransitionID orders a check's notifications (a receiver may
// see one twice, as delivery is at least once, and never two for one id).
type HealthCheckNotification struct {
	HealthCheckID   string    `json:"health_check_id"`
	CallerReference string    `json:"caller_reference"`
	TransitionID    int64     `json:"transition_id"`
	OldStatus       string    `json:"old_status"`
	Status          string    `json:"status"`
	Reason          string    `json:"reason"`
	Timestamp       time.Time `json:"timestamp"`
}

func healthStatusName(healthy bool) string {
	if healthy {
		return "HEALTHY"
	}
	return "UNHEALTHY"
}

// NotifyHealthTransitions queues the notifications of the status changes
// of checks with notify actions that are not yet queued. Each check's
// turn is one transaction that locks its health_check_notify row, reads
// the transitions after its cursor, queues one notification per action
// and transition and moves the cursor: two leaders (an old one not yet
// aware it lost the lock, and the new one) cannot both queue the same
// transition, and a crash queues all or none of it. It returns how many
// transitions were queued.
func (s *Service) NotifyHealthTransitions(ctx context.Context) (int, error) {
	rows, err := s.pool.Query(ctx, `SELECT n.check_id FROM health_check_notify n
	    WHERE EXISTS (SELECT 1 FROM health_check_transition t WHERE t.check_id = n.check_id AND t.id > n.last_transition_id)
	    ORDER BY n.check_id`)
	if err != nil {
		return 0, fmt.Errorf("list health checks to notify: %w", err)
	}
	ids, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return 0, fmt.Errorf("list health checks to notify: %w", err)
	}
	total := 0
	var errs []error
	for _, id := range ids {
		n, err := s.notifyHealthCheck(ctx, id)
		total += n
		if err != nil {
			errs = append(errs, fmt.Errorf("health check %s: %w", id, err))
		}
	}
	return total, errors.Join(errs...)
}

func (s *Service) notifyHealthCheck(ctx context.Context, id string) (int, error) {
	n := 0
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		n = 0
		var tenantID, ref string
		var actsJSON []byte
		var cursor int64
		err := tx.QueryRow(ctx, `SELECT n.tenant_id, n.actions, n.last_transition_id, h.caller_reference
		    FROM health_check_notify n JOIN health_check h ON h.id = n.check_id
		    WHERE n.check_id = $1 FOR UPDATE OF n`, id).Scan(&tenantID, &actsJSON, &cursor, &ref)
		if errors.Is(err, pgx.ErrNoRows) {
			return nil // notify removed meanwhile
		}
		if err != nil {
			return fmt.Errorf("lock notify: %w", err)
		}
		var acts []AlarmAction
		if err := json.Unmarshal(actsJSON, &acts); err != nil {
			return fmt.Errorf("decode notify: %w", err)
		}
		rows, err := tx.Query(ctx, `SELECT id, healthy, at, reason FROM health_check_transition
		    WHERE check_id = $1 AND id > $2 ORDER BY id LIMIT $3`, id, cursor, healthNotifyBatch)
		if err != nil {
			return fmt.Errorf("read transitions: %w", err)
		}
		type tr struct {
			id      int64
			healthy bool
			at      time.Time
			reason  string
		}
		trs, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (tr, error) {
			var t tr
			return t, r.Scan(&t.id, &t.healthy, &t.at, &t.reason)
		})
		if err != nil {
			return fmt.Errorf("read transitions: %w", err)
		}
		if len(trs) == 0 {
			return nil // another leader queued them
		}
		now := s.cfg.NowFunc().UTC()
		b := &pgx.Batch{}
		for _, t := range trs {
			// Transitions alternate: each one is a change from the other status.
			body, err := json.Marshal(HealthCheckNotification{HealthCheckID: id, CallerReference: ref, TransitionID: t.id,
				OldStatus: healthStatusName(!t.healthy), Status: healthStatusName(t.healthy), Reason: t.reason, Timestamp: t.at.UTC()})
			if err != nil {
				return err
			}
			for _, a := range acts {
				if a.Webhook == nil {
					continue
				}
				b.Queue(`INSERT INTO notification (tenant_id, source, source_id, history_id, url, secret, body, created_at, next_attempt_at)
				    VALUES ($1, 'healthcheck', $2, $3, $4, $5, $6, $7, $7)`,
					tenantID, id, t.id, a.Webhook.URL, a.Webhook.Secret, body, now)
			}
		}
		b.Queue(`UPDATE health_check_notify SET last_transition_id = $2 WHERE check_id = $1`, id, trs[len(trs)-1].id)
		if err := tx.SendBatch(ctx, b).Close(); err != nil {
			return fmt.Errorf("queue notifications: %w", err)
		}
		n = len(trs)
		return nil
	})
	return n, err
}

// healthDeliveries returns the deliveries of the notifications of the
// given transitions of check id, by transition id.
func (s *Service) healthDeliveries(ctx context.Context, id string, transitions []int64) (map[int64][]Delivery, error) {
	out := map[int64][]Delivery{}
	if len(transitions) == 0 {
		return out, nil
	}
	rows, err := s.pool.Query(ctx, `SELECT history_id, url, status, attempts, last_error, last_status, delivered_at
	    FROM notification WHERE source = 'healthcheck' AND source_id = $1 AND history_id = ANY($2) ORDER BY id`, id, transitions)
	if err != nil {
		return nil, fmt.Errorf("read deliveries: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var hid int64
		var d Delivery
		if err := rows.Scan(&hid, &d.URL, &d.Status, &d.Attempts, &d.LastError, &d.LastStatus, &d.DeliveredAt); err != nil {
			return nil, fmt.Errorf("read deliveries: %w", err)
		}
		if d.DeliveredAt != nil {
			t := d.DeliveredAt.UTC()
			d.DeliveredAt = &t
		}
		out[hid] = append(out[hid], d)
	}
	return out, rows.Err()
}
