package controlplane

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/netip"
	"net/url"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/waymark-dns/waymark/healthcfg"
)

// Alarms are CloudWatch's PutMetricAlarm in Waymark's conventions: a
// metric of one of the tenant's own resources (QueryMetrics), compared
// with a threshold over the last evaluation periods. Migration 00017 holds
// them; alarmeval.go evaluates them on one leader and webhook.go delivers
// their notifications.

// Alarm states, as CloudWatch names them.
const (
	AlarmOK               = "OK"
	AlarmAlarm            = "ALARM"
	AlarmInsufficientData = "INSUFFICIENT_DATA"
)

// Limits of an alarm's fields.
const (
	// MaxAlarmEvaluationPeriods bounds evaluation_periods (CloudWatch
	// allows more, but our rollups keep days, not months).
	MaxAlarmEvaluationPeriods = 100
	// MaxAlarmActions bounds each action list.
	MaxAlarmActions = 5
	// MaxAlarmPeriod is the longest period, in seconds (one day).
	MaxAlarmPeriod = 86400
	maxAlarmName   = 255
	maxWebhookURL  = 2048
	maxSecret      = 256
)

// AlarmMetric names the time series an alarm watches.
type AlarmMetric struct {
	Namespace  string `json:"namespace"`
	Name       string `json:"name"`
	ResourceID string `json:"resource_id"`
}

// Webhook is a notification target: an HTTP(S) URL that is POSTed the
// notification's JSON, signed with Secret (X-Waymark-Signature).
type Webhook struct {
	URL    string `json:"url"`
	Secret string `json:"secret"`
}

// AlarmAction is one thing done on a transition. Only webhooks exist.
type AlarmAction struct {
	Webhook *Webhook `json:"webhook"`
}

// Alarm is a stored alarm. Its actions' secrets are only ever set in what
// CreateAlarm is given; every read clears them.
type Alarm struct {
	ID                string
	Name              string
	Metric            AlarmMetric
	Statistic         string
	Period            int // seconds
	EvaluationPeriods int
	DatapointsToAlarm int
	Threshold         float64
	Comparison        string
	AlarmActions      []AlarmAction
	OKActions         []AlarmAction
	State             string
	StateReason       string
	StateChangedAt    time.Time
	CreatedAt         time.Time
}

// CreateAlarmInput is what a caller gives to create an alarm.
// DatapointsToAlarm zero means EvaluationPeriods.
type CreateAlarmInput struct {
	Name              string
	Metric            AlarmMetric
	Statistic         string
	Period            int
	EvaluationPeriods int
	DatapointsToAlarm int
	Threshold         float64
	Comparison        string
	AlarmActions      []AlarmAction
	OKActions         []AlarmAction
}

// metricStatistic is the one statistic the metrics store computes for
// each metric: the status's lowest value in a period (Minimum), the
// queries' total (Sum), the probes' mean (Average).
var metricStatistic = map[string]string{
	NamespaceHealthCheck + "/" + MetricHealthCheckStatus:       "Minimum",
	NamespaceHealthCheck + "/" + MetricHealthPercentageHealthy: "Average",
	NamespaceHealthCheck + "/" + MetricHealthConnectionTime:    "Average",
	NamespaceHealthCheck + "/" + MetricHealthTimeToFirstByte:   "Average",
	NamespaceHostedZone + "/" + MetricDNSQueries:               "Sum",
	NamespaceHostedZone + "/" + MetricNXDOMAINQueries:          "Sum",
	NamespaceHostedZone + "/" + MetricChangePendingSeconds:     "Maximum",
}

// breaches reports whether v is on the alarming side of threshold.
func breaches(comparison string, v, threshold float64) bool {
	switch comparison {
	case "GreaterThanThreshold":
		return v > threshold
	case "GreaterThanOrEqualToThreshold":
		return v >= threshold
	case "LessThanThreshold":
		return v < threshold
	case "LessThanOrEqualToThreshold":
		return v <= threshold
	}
	return false
}

func (in *CreateAlarmInput) check(allowPrivate bool) error {
	in.Name = strings.TrimSpace(in.Name)
	if in.DatapointsToAlarm == 0 {
		in.DatapointsToAlarm = in.EvaluationPeriods
	}
	key := in.Metric.Namespace + "/" + in.Metric.Name
	stat, known := metricStatistic[key]
	switch {
	case in.Name == "" || len(in.Name) > maxAlarmName:
		return Errorf(CodeInvalidInput, "name must be 1 to %d characters long", maxAlarmName)
	case in.Metric.Namespace != NamespaceHealthCheck && in.Metric.Namespace != NamespaceHostedZone:
		return Errorf(CodeInvalidInput, "metric.namespace must be %q or %q", NamespaceHealthCheck, NamespaceHostedZone)
	case !known:
		return Errorf(CodeInvalidInput, "metric.name %q is not a metric of namespace %s", in.Metric.Name, in.Metric.Namespace)
	case in.Metric.ResourceID == "":
		return Errorf(CodeInvalidInput, "metric.resource_id is required")
	case in.Statistic != stat:
		return Errorf(CodeInvalidInput, "statistic must be %q for metric %s", stat, key)
	case in.Period <= 0 || in.Period%60 != 0 || in.Period > MaxAlarmPeriod:
		return Errorf(CodeInvalidInput, "period must be a multiple of 60 seconds, at most %d", MaxAlarmPeriod)
	case in.EvaluationPeriods < 1 || in.EvaluationPeriods > MaxAlarmEvaluationPeriods:
		return Errorf(CodeInvalidInput, "evaluation_periods must be 1 to %d", MaxAlarmEvaluationPeriods)
	case in.EvaluationPeriods*in.Period/60 > MaxMetricDatapoints:
		return Errorf(CodeInvalidInput, "evaluation_periods × period must be at most %d minutes", MaxMetricDatapoints)
	case in.DatapointsToAlarm < 1 || in.DatapointsToAlarm > in.EvaluationPeriods:
		return Errorf(CodeInvalidInput, "datapoints_to_alarm must be 1 to evaluation_periods (%d)", in.EvaluationPeriods)
	case !breaches(in.Comparison, 0, 0) && !breaches(in.Comparison, 1, 0) && !breaches(in.Comparison, -1, 0):
		return Errorf(CodeInvalidInput, "comparison must be GreaterThanThreshold, GreaterThanOrEqualToThreshold, LessThanThreshold or LessThanOrEqualToThreshold")
	}
	if err := checkActions("alarm_actions", in.AlarmActions, allowPrivate); err != nil {
		return err
	}
	return checkActions("ok_actions", in.OKActions, allowPrivate)
}

// checkActions validates a list of notification actions (an alarm's, or
// a health check's notify) and normalises their URLs in place.
func checkActions(field string, acts []AlarmAction, allowPrivate bool) error {
	if len(acts) > MaxAlarmActions {
		return Errorf(CodeInvalidInput, "%s: at most %d actions", field, MaxAlarmActions)
	}
	for i, a := range acts {
		if a.Webhook == nil {
			return Errorf(CodeInvalidInput, "%s[%d]: webhook is required", field, i)
		}
		u, err := CheckWebhookURL(a.Webhook.URL, allowPrivate)
		if err != nil {
			return Errorf(CodeInvalidInput, "%s[%d].webhook.url: %v", field, i, err)
		}
		a.Webhook.URL = u
		if a.Webhook.Secret == "" || len(a.Webhook.Secret) > maxSecret {
			return Errorf(CodeInvalidInput, "%s[%d].webhook.secret must be 1 to %d characters long", field, i, maxSecret)
		}
	}
	return nil
}

// CheckWebhookURL validates a webhook target and returns it normalised:
// http or https, a host, no credentials; an IP literal must be public
// and a name not localhost unless allowPrivate (the operator's switch for
// health check targets, healthcfg.Options.AllowPrivateTargets). Names are
// checked again, resolved, when delivering (webhookDialer).
func CheckWebhookURL(raw string, allowPrivate bool) (string, error) {
	if raw == "" || len(raw) > maxWebhookURL {
		return "", fmt.Errorf("must be 1 to %d characters long", maxWebhookURL)
	}
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Hostname() == "" || u.Opaque != "" {
		return "", errors.New("must be an absolute http or https URL")
	}
	if u.User != nil {
		return "", errors.New("must not carry credentials")
	}
	host := strings.ToLower(strings.TrimSuffix(u.Hostname(), "."))
	if allowPrivate {
		return u.String(), nil
	}
	if a, err := netip.ParseAddr(host); err == nil {
		if !healthcfg.PublicTarget(a) {
			return "", fmt.Errorf("%s is in a private, local, reserved or multicast range", a)
		}
	} else if host == "localhost" || strings.HasSuffix(host, ".localhost") {
		return "", fmt.Errorf("%s is a local name", host)
	}
	return u.String(), nil
}

func errNoSuchAlarm(id string) *Error {
	return Errorf(CodeNoSuchAlarm, "no alarm found with id %s", id)
}

// CreateAlarm stores a new alarm in INSUFFICIENT_DATA, on a resource
// tenantID owns. Errors: InvalidInput, NoSuchHealthCheck, NoSuchHostedZone,
// AlarmAlreadyExists.
func (s *Service) CreateAlarm(ctx context.Context, tenantID string, in CreateAlarmInput) (Alarm, error) {
	if err := in.check(s.cfg.HealthChecks.AllowPrivateTargets); err != nil {
		return Alarm{}, err
	}
	if in.AlarmActions == nil {
		in.AlarmActions = []AlarmAction{}
	}
	if in.OKActions == nil {
		in.OKActions = []AlarmAction{}
	}
	id, err := s.newID("AL")
	if err != nil {
		return Alarm{}, err
	}
	now := s.cfg.NowFunc().UTC()
	a := Alarm{ID: id, Name: in.Name, Metric: in.Metric, Statistic: in.Statistic, Period: in.Period,
		EvaluationPeriods: in.EvaluationPeriods, DatapointsToAlarm: in.DatapointsToAlarm, Threshold: in.Threshold,
		Comparison: in.Comparison, AlarmActions: in.AlarmActions, OKActions: in.OKActions,
		State: AlarmInsufficientData, StateReason: "Unchecked: initial alarm creation", StateChangedAt: now, CreatedAt: now}
	alarmActs, _ := json.Marshal(in.AlarmActions)
	okActs, _ := json.Marshal(in.OKActions)
	err = s.inTx(ctx, func(tx pgx.Tx) error {
		if err := ownsResource(ctx, tx, tenantID, in.Metric); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, `INSERT INTO alarm (id, tenant_id, name, namespace, metric_name, resource_id, statistic,
		        period, evaluation_periods, datapoints_to_alarm, threshold, comparison, alarm_actions, ok_actions,
		        state, state_reason, state_changed_at, created_at)
		    VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,$13,$14,$15,$16,$17,$17)`,
			id, tenantID, a.Name, a.Metric.Namespace, a.Metric.Name, a.Metric.ResourceID, a.Statistic,
			a.Period, a.EvaluationPeriods, a.DatapointsToAlarm, a.Threshold, a.Comparison, alarmActs, okActs,
			a.State, a.StateReason, now)
		var pe *pgconn.PgError
		if errors.As(err, &pe) && pe.Code == "23505" {
			return Errorf(CodeAlarmAlreadyExists, "an alarm named %q already exists", a.Name)
		}
		if err != nil {
			return fmt.Errorf("insert alarm: %w", err)
		}
		return nil
	})
	if err != nil {
		return Alarm{}, err
	}
	return a.redacted(), nil
}

// ownsResource answers NoSuch… unless tenantID owns m's resource.
func ownsResource(ctx context.Context, tx pgx.Tx, tenantID string, m AlarmMetric) error {
	var ok bool
	var err error
	switch m.Namespace {
	case NamespaceHealthCheck:
		err = tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM health_check WHERE id = $1 AND tenant_id = $2 AND deleted_at IS NULL)`,
			m.ResourceID, tenantID).Scan(&ok)
		if err == nil && !ok {
			return errNoSuchHealthCheck(m.ResourceID)
		}
	default:
		err = tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM hosted_zone WHERE id = $1 AND tenant_id = $2)`,
			m.ResourceID, tenantID).Scan(&ok)
		if err == nil && !ok {
			return errNoSuchZone(m.ResourceID)
		}
	}
	if err != nil {
		return fmt.Errorf("read alarm resource: %w", err)
	}
	return nil
}

// redacted returns a with its webhook secrets cleared.
func (a Alarm) redacted() Alarm {
	a.AlarmActions, a.OKActions = redactActions(a.AlarmActions), redactActions(a.OKActions)
	return a
}

// redactActions returns a copy of in without the webhook secrets.
func redactActions(in []AlarmAction) []AlarmAction {
	out := make([]AlarmAction, 0, len(in))
	for _, x := range in {
		if x.Webhook != nil {
			x = AlarmAction{Webhook: &Webhook{URL: x.Webhook.URL}}
		}
		out = append(out, x)
	}
	return out
}

const alarmColumns = `id, name, namespace, metric_name, resource_id, statistic, period, evaluation_periods,
    datapoints_to_alarm, threshold, comparison, alarm_actions, ok_actions, state, state_reason,
    state_changed_at, created_at`

// scanAlarm reads alarmColumns, secrets included, and then any extra
// columns into extra.
func scanAlarm(r pgx.Row, extra ...any) (Alarm, error) {
	var a Alarm
	var alarmActs, okActs []byte
	dest := append([]any{&a.ID, &a.Name, &a.Metric.Namespace, &a.Metric.Name, &a.Metric.ResourceID, &a.Statistic,
		&a.Period, &a.EvaluationPeriods, &a.DatapointsToAlarm, &a.Threshold, &a.Comparison, &alarmActs, &okActs,
		&a.State, &a.StateReason, &a.StateChangedAt, &a.CreatedAt}, extra...)
	err := r.Scan(dest...)
	if err != nil {
		return a, err
	}
	if err := json.Unmarshal(alarmActs, &a.AlarmActions); err != nil {
		return a, fmt.Errorf("alarm %s actions: %w", a.ID, err)
	}
	if err := json.Unmarshal(okActs, &a.OKActions); err != nil {
		return a, fmt.Errorf("alarm %s ok actions: %w", a.ID, err)
	}
	a.StateChangedAt, a.CreatedAt = a.StateChangedAt.UTC(), a.CreatedAt.UTC()
	return a, nil
}

// GetAlarm returns one of tenantID's alarms, without secrets.
func (s *Service) GetAlarm(ctx context.Context, tenantID, id string) (Alarm, error) {
	a, err := scanAlarm(s.pool.QueryRow(ctx, `SELECT `+alarmColumns+` FROM alarm WHERE id = $1 AND tenant_id = $2`, id, tenantID))
	if errors.Is(err, pgx.ErrNoRows) {
		return Alarm{}, errNoSuchAlarm(id)
	}
	if err != nil {
		return Alarm{}, fmt.Errorf("read alarm: %w", err)
	}
	return a.redacted(), nil
}

// ListAlarms returns tenantID's alarms by name, without secrets. A tenant
// has few alarms (each costs an evaluation a minute), so there is no
// paging yet.
func (s *Service) ListAlarms(ctx context.Context, tenantID string) ([]Alarm, error) {
	rows, err := s.pool.Query(ctx, `SELECT `+alarmColumns+` FROM alarm WHERE tenant_id = $1 ORDER BY name`, tenantID)
	if err != nil {
		return nil, fmt.Errorf("list alarms: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (Alarm, error) { return scanAlarm(r) })
	if err != nil {
		return nil, fmt.Errorf("list alarms: %w", err)
	}
	for i := range out {
		out[i] = out[i].redacted()
	}
	return out, nil
}

// DeleteAlarm deletes one of tenantID's alarms with its history; its
// pending notifications are dropped. Errors: NoSuchAlarm.
func (s *Service) DeleteAlarm(ctx context.Context, tenantID, id string) error {
	return s.inTx(ctx, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `DELETE FROM alarm WHERE id = $1 AND tenant_id = $2`, id, tenantID)
		if err != nil {
			return fmt.Errorf("delete alarm: %w", err)
		}
		if tag.RowsAffected() == 0 {
			return errNoSuchAlarm(id)
		}
		if _, err := tx.Exec(ctx, `DELETE FROM notification WHERE source = 'alarm' AND source_id = $1 AND status = 'pending'`, id); err != nil {
			return fmt.Errorf("drop alarm notifications: %w", err)
		}
		return nil
	})
}
