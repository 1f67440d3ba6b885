package controlplane

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/waymark-dns/waymark/healthcfg"
	"github.com/waymark-dns/waymark/internal/retry"
)

// DefaultAlarmLockKey is the session lock that elects the alarm
// evaluator and webhook deliverer ("wmalarm" in ASCII).
const DefaultAlarmLockKey int64 = 0x776d616c61726d

// Webhook delivery settings.
const (
	// webhookMaxAttempts: a notification is given up (status failed)
	// after this many attempts.
	webhookMaxAttempts = 8
	webhookMinBackoff  = time.Second
	webhookMaxBackoff  = 5 * time.Minute
	webhookTimeout     = 10 * time.Second
	webhookBatch       = 20
	// SignatureHeader carries "sha256=" and the hex HMAC-SHA256 of the
	// body under the action's secret.
	SignatureHeader = "X-Waymark-Signature"
)

// AlarmNotification is the JSON document a webhook is POSTed.
type AlarmNotification struct {
	AlarmName string    `json:"alarm_name"`
	AlarmID   string    `json:"alarm_id"`
	OldState  string    `json:"old_state"`
	NewState  string    `json:"state"`
	Reason    string    `json:"reason"`
	Timestamp time.Time `json:"timestamp"`
}

// Sign returns the X-Waymark-Signature value of body under secret.
func Sign(secret string, body []byte) string {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write(body)
	return "sha256=" + hex.EncodeToString(m.Sum(nil))
}

// evaluate computes an alarm's state from the datapoints of its last
// evaluation periods: ALARM when at least datapoints_to_alarm of them
// breach, INSUFFICIENT_DATA when there are none at all, else OK (missing
// datapoints are CloudWatch's "missing", neither breaching nor not).
func evaluate(a Alarm, dps []Datapoint) (state, reason string) {
	if len(dps) == 0 {
		return AlarmInsufficientData, fmt.Sprintf("no datapoints in the last %d periods of %d s", a.EvaluationPeriods, a.Period)
	}
	n := 0
	for _, d := range dps {
		if breaches(a.Comparison, d.Value, a.Threshold) {
			n++
		}
	}
	desc := fmt.Sprintf("%d of the last %d datapoints (%d periods of %d s) %s %g", n, len(dps), a.EvaluationPeriods, a.Period, a.Comparison, a.Threshold)
	if n >= a.DatapointsToAlarm {
		return AlarmAlarm, "Threshold Crossed: " + desc
	}
	return AlarmOK, "Threshold not crossed: " + desc
}

// EvaluateAlarms evaluates every alarm once, at the clock's now, on the
// periods that have ended. A transition, its history row and its
// notifications are written in one transaction that first re-reads the
// alarm's state under a row lock: two evaluators (an old leader not yet
// aware it lost the lock, and the new one) cannot both record the same
// transition. It returns the number of transitions.
func (s *Service) EvaluateAlarms(ctx context.Context) (int, error) {
	rows, err := s.pool.Query(ctx, `SELECT `+alarmColumns+`, tenant_id FROM alarm ORDER BY id`)
	if err != nil {
		return 0, fmt.Errorf("list alarms: %w", err)
	}
	type tenantAlarm struct {
		tenant string
		a      Alarm
	}
	all, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (tenantAlarm, error) {
		var t tenantAlarm
		var err error
		t.a, err = scanAlarm(r, &t.tenant)
		return t, err
	})
	if err != nil {
		return 0, fmt.Errorf("list alarms: %w", err)
	}
	now := s.cfg.NowFunc().UTC()
	changed := 0
	var errs []error
	for _, ta := range all {
		a := ta.a
		period := time.Duration(a.Period) * time.Second
		end := now.Truncate(period)
		series, err := s.QueryMetrics(ctx, ta.tenant, MetricQuery{Namespace: a.Metric.Namespace, ResourceID: a.Metric.ResourceID,
			Metric: a.Metric.Name, Start: end.Add(-time.Duration(a.EvaluationPeriods) * period), End: end, Period: period})
		var state, reason string
		switch {
		case IsCode(err, CodeNoSuchHealthCheck) || IsCode(err, CodeNoSuchHostedZone):
			state, reason = AlarmInsufficientData, "the alarm's resource no longer exists"
		case err != nil:
			errs = append(errs, fmt.Errorf("alarm %s: %w", a.ID, err))
			continue
		default:
			state, reason = evaluate(a, series.Datapoints)
		}
		if state == a.State {
			continue
		}
		ok, err := s.transition(ctx, ta.tenant, a.ID, state, reason, now)
		if err != nil {
			errs = append(errs, fmt.Errorf("alarm %s: %w", a.ID, err))
		} else if ok {
			changed++
		}
	}
	return changed, errors.Join(errs...)
}

// transition moves alarm id to state unless another evaluator already did,
// with its history row and one notification per action of the new state,
// in one transaction.
func (s *Service) transition(ctx context.Context, tenantID, id, state, reason string, now time.Time) (bool, error) {
	done := false
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		a, err := scanAlarm(tx.QueryRow(ctx, `SELECT `+alarmColumns+` FROM alarm WHERE id = $1 FOR UPDATE`, id))
		if errors.Is(err, pgx.ErrNoRows) {
			return nil // deleted meanwhile
		}
		if err != nil {
			return fmt.Errorf("lock alarm: %w", err)
		}
		if a.State == state {
			return nil // another evaluator recorded it
		}
		if _, err := tx.Exec(ctx, `UPDATE alarm SET state = $2, state_reason = $3, state_changed_at = $4 WHERE id = $1`,
			id, state, reason, now); err != nil {
			return fmt.Errorf("update alarm: %w", err)
		}
		var hid int64
		if err := tx.QueryRow(ctx, `INSERT INTO alarm_history (alarm_id, at, old_state, new_state, reason)
		    VALUES ($1, $2, $3, $4, $5) RETURNING id`, id, now, a.State, state, reason).Scan(&hid); err != nil {
			return fmt.Errorf("insert alarm history: %w", err)
		}
		var acts []AlarmAction
		switch state {
		case AlarmAlarm:
			acts = a.AlarmActions
		case AlarmOK:
			acts = a.OKActions
		}
		body, err := json.Marshal(AlarmNotification{AlarmName: a.Name, AlarmID: a.ID, OldState: a.State,
			NewState: state, Reason: reason, Timestamp: now})
		if err != nil {
			return err
		}
		for _, act := range acts {
			if act.Webhook == nil {
				continue
			}
			if _, err := tx.Exec(ctx, `INSERT INTO notification (tenant_id, source, source_id, history_id, url, secret,
			        body, created_at, next_attempt_at) VALUES ($1, 'alarm', $2, $3, $4, $5, $6, $7, $7)`,
				tenantID, id, hid, act.Webhook.URL, act.Webhook.Secret, body, now); err != nil {
				return fmt.Errorf("queue notification: %w", err)
			}
		}
		done = true
		return nil
	})
	return done, err
}

// webhookClient returns the HTTP client deliveries use: its dialer
// refuses non-public addresses (healthcfg.PublicTarget) unless the
// operator allows them, so a name that resolves to the operator's own
// network is refused at connection time, not just at creation.
func (s *Service) webhookClient() *http.Client {
	allow := s.cfg.HealthChecks.AllowPrivateTargets
	d := &net.Dialer{Timeout: webhookTimeout, Control: func(_, address string, _ syscall.RawConn) error {
		if allow {
			return nil
		}
		ap, err := netip.ParseAddrPort(address)
		if err != nil || !healthcfg.PublicTarget(ap.Addr()) {
			return fmt.Errorf("webhook target %s is not a public address", address)
		}
		return nil
	}}
	return &http.Client{
		Timeout:   webhookTimeout,
		Transport: &http.Transport{DialContext: d.DialContext, Proxy: nil, MaxIdleConns: 10, IdleConnTimeout: time.Minute},
		// A redirect could lead anywhere: deliveries do not follow them.
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
}

// DeliverNotifications POSTs the notifications due at the clock's now,
// each in a transaction that holds its row (SKIP LOCKED: two deliverers
// never send the same one at once) and records the attempt: delivered on
// a 2xx answer, else retried after a backoff that doubles per attempt, up
// to webhookMaxAttempts. A crash between the POST and the commit sends
// it again: delivery is at least once. It returns how many it attempted.
func (s *Service) DeliverNotifications(ctx context.Context, client *http.Client) (int, error) {
	n := 0
	// A delivery that has begun is recorded even if ctx ends meanwhile
	// (the leader stepping down): otherwise the POST would be sent and
	// its row rolled back, and the next leader would send it again.
	for n < webhookBatch && ctx.Err() == nil {
		attempted := false
		rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 2*webhookTimeout)
		err := pgx.BeginFunc(rctx, s.pool, func(tx pgx.Tx) error {
			now := s.cfg.NowFunc().UTC()
			var id int64
			var attempts int
			var u, secret string
			var body []byte
			err := tx.QueryRow(rctx, `SELECT id, url, secret, body, attempts FROM notification
			    WHERE status = 'pending' AND next_attempt_at <= $1
			    ORDER BY next_attempt_at, id LIMIT 1 FOR UPDATE SKIP LOCKED`, now).Scan(&id, &u, &secret, &body, &attempts)
			if errors.Is(err, pgx.ErrNoRows) {
				return nil
			}
			if err != nil {
				return fmt.Errorf("next notification: %w", err)
			}
			attempted = true
			code, derr := post(rctx, client, u, secret, body)
			attempts++
			status, next := "pending", now
			switch {
			case derr == nil:
				status = "delivered"
			case attempts >= webhookMaxAttempts:
				status = "failed"
			default:
				b := retry.NewBackoff(webhookMinBackoff, webhookMaxBackoff)
				for range attempts {
					next = now.Add(b.Next())
				}
			}
			errText := ""
			if derr != nil {
				errText = derr.Error()
			}
			var lastStatus *int
			if code != 0 {
				lastStatus = &code
			}
			_, err = tx.Exec(rctx, `UPDATE notification SET status = $2, attempts = $3, last_error = $4,
			        last_status = $5, next_attempt_at = $6,
			        delivered_at = CASE WHEN $2 = 'delivered' THEN $7::timestamptz END
			    WHERE id = $1`, id, status, attempts, errText, lastStatus, next, s.cfg.NowFunc().UTC())
			if err != nil {
				return fmt.Errorf("record delivery: %w", err)
			}
			return nil
		})
		cancel()
		if err != nil {
			return n, err
		}
		if !attempted {
			break
		}
		n++
	}
	return n, nil
}

// post sends one signed notification and returns the answer's status.
func post(ctx context.Context, client *http.Client, u, secret string, body []byte) (int, error) {
	ctx, cancel := context.WithTimeout(ctx, webhookTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u, bytes.NewReader(body))
	if err != nil {
		return 0, err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "Waymark-Notifications/1")
	req.Header.Set(SignatureHeader, Sign(secret, body))
	resp, err := client.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return resp.StatusCode, fmt.Errorf("webhook answered %s", resp.Status)
	}
	return resp.StatusCode, nil
}

// DefaultAlarmInterval is RunAlarms' interval when none is given.
const DefaultAlarmInterval = 10 * time.Second

// RunAlarms evaluates the alarms, queues the health checks' own
// notifications (NotifyHealthTransitions) and delivers notifications
// every interval until ctx ends; run it under
// RunLeader(DefaultAlarmLockKey).
// Errors are logged and retried on the next tick.
func (s *Service) RunAlarms(ctx context.Context, interval time.Duration) error {
	if interval <= 0 {
		interval = DefaultAlarmInterval
	}
	client := s.webhookClient()
	log := s.cfg.Logger.With("component", "alarms")
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		if _, err := s.EvaluateAlarms(ctx); err != nil && ctx.Err() == nil {
			log.Warn("evaluating alarms", "err", err)
		}
		if _, err := s.NotifyHealthTransitions(ctx); err != nil && ctx.Err() == nil {
			log.Warn("queueing health check notifications", "err", err)
		}
		if _, err := s.DeliverNotifications(ctx, client); err != nil && ctx.Err() == nil {
			log.Warn("delivering notifications", "err", err)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-t.C:
		}
	}
}

// AlarmHistoryItem is one transition of an alarm with the deliveries of
// its notifications.
type AlarmHistoryItem struct {
	ID         int64
	At         time.Time
	OldState   string
	NewState   string
	Reason     string
	Deliveries []Delivery
}

// Delivery is one notification's delivery record: how many attempts,
// the last one's error and HTTP status, and when it was delivered.
type Delivery struct {
	URL         string
	Status      string // pending, delivered, failed
	Attempts    int
	LastError   string
	LastStatus  *int
	DeliveredAt *time.Time
}

// AlarmHistory returns the transitions of one of tenantID's alarms,
// newest first, at most 100. Errors: NoSuchAlarm.
func (s *Service) AlarmHistory(ctx context.Context, tenantID, id string) ([]AlarmHistoryItem, error) {
	if _, err := s.GetAlarm(ctx, tenantID, id); err != nil {
		return nil, err
	}
	rows, err := s.pool.Query(ctx, `SELECT h.id, h.at, h.old_state, h.new_state, h.reason,
	        n.url, n.status, n.attempts, n.last_error, n.last_status, n.delivered_at
	    FROM (SELECT * FROM alarm_history WHERE alarm_id = $1 ORDER BY id DESC LIMIT 100) h
	    LEFT JOIN notification n ON n.source = 'alarm' AND n.source_id = h.alarm_id AND n.history_id = h.id
	    ORDER BY h.id DESC, n.id`, id)
	if err != nil {
		return nil, fmt.Errorf("read alarm history: %w", err)
	}
	defer rows.Close()
	out := []AlarmHistoryItem{}
	for rows.Next() {
		var h AlarmHistoryItem
		var u, st, le *string
		var att *int
		var d Delivery
		if err := rows.Scan(&h.ID, &h.At, &h.OldState, &h.NewState, &h.Reason, &u, &st, &att, &le, &d.LastStatus, &d.DeliveredAt); err != nil {
			return nil, fmt.Errorf("read alarm history: %w", err)
		}
		if len(out) == 0 || out[len(out)-1].ID != h.ID {
			h.At = h.At.UTC()
			out = append(out, h)
		}
		if u != nil {
			d.URL, d.Status, d.Attempts, d.LastError = *u, *st, *att, *le
			last := &out[len(out)-1]
			last.Deliveries = append(last.Deliveries, d)
		}
	}
	return out, rows.Err()
}
