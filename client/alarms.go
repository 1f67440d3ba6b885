package client

import (
	"context"
	"time"
)

// Alarm operations (docs/alarms.md).
var (
	opCreateAlarm     = operation{"createAlarm", "POST", "/v1/alarms"}
	opListAlarms      = operation{"listAlarms", "GET", "/v1/alarms"}
	opGetAlarm        = operation{"getAlarm", "GET", "/v1/alarms/{id}"}
	opDeleteAlarm     = operation{"deleteAlarm", "DELETE", "/v1/alarms/{id}"}
	opGetAlarmHistory = operation{"getAlarmHistory", "GET", "/v1/alarms/{id}/history"}
)

func alarmOperations() []operation {
	return []operation{opCreateAlarm, opListAlarms, opGetAlarm, opDeleteAlarm, opGetAlarmHistory}
}

// AlarmMetric names the metric an alarm watches: health_check_status in
// namespace healthcheck, or dns_queries in namespace hostedzone.
type AlarmMetric struct {
	Namespace  string `json:"namespace"`
	Name       string `json:"name"`
	ResourceID string `json:"resource_id"`
}

// Webhook is where a notification is POSTed; Secret signs the body
// (X-Waymark-Signature: sha256=<hex HMAC-SHA256>) and is never returned.
type Webhook struct {
	URL    string `json:"url"`
	Secret string `json:"secret"`
}

// AlarmActionInput is one action of an alarm being created.
type AlarmActionInput struct {
	Webhook Webhook `json:"webhook"`
}

// CreateAlarmInput is the body of CreateAlarm.
type CreateAlarmInput struct {
	Name              string             `json:"name"`
	Metric            AlarmMetric        `json:"metric"`
	Statistic         string             `json:"statistic"` // the metric's: Minimum, Maximum, Sum or Average
	Period            int                `json:"period"`    // seconds, a multiple of 60
	EvaluationPeriods int                `json:"evaluation_periods"`
	DatapointsToAlarm int                `json:"datapoints_to_alarm,omitempty"`
	Threshold         float64            `json:"threshold"`
	Comparison        string             `json:"comparison"`
	AlarmActions      []AlarmActionInput `json:"alarm_actions,omitempty"`
	OKActions         []AlarmActionInput `json:"ok_actions,omitempty"`
}

// AlarmAction is an action as the API shows it: the secret only as set or not.
type AlarmAction struct {
	Webhook struct {
		URL       string `json:"url"`
		SecretSet bool   `json:"secret_set"`
	} `json:"webhook"`
}

// Alarm is an alarm with its state (OK, ALARM or INSUFFICIENT_DATA).
type Alarm struct {
	ID                string        `json:"id"`
	Name              string        `json:"name"`
	Metric            AlarmMetric   `json:"metric"`
	Statistic         string        `json:"statistic"`
	Period            int           `json:"period"`
	EvaluationPeriods int           `json:"evaluation_periods"`
	DatapointsToAlarm int           `json:"datapoints_to_alarm"`
	Threshold         float64       `json:"threshold"`
	Comparison        string        `json:"comparison"`
	AlarmActions      []AlarmAction `json:"alarm_actions"`
	OKActions         []AlarmAction `json:"ok_actions"`
	State             string        `json:"state"`
	StateReason       string        `json:"state_reason"`
	StateChangedAt    time.Time     `json:"state_changed_at"`
	CreatedAt         time.Time     `json:"created_at"`
}

// AlarmOutput is CreateAlarm's and GetAlarm's response.
type AlarmOutput struct {
	Alarm Alarm `json:"alarm"`
}

// AlarmsOutput is ListAlarms' response.
type AlarmsOutput struct {
	Alarms []Alarm `json:"alarms"`
}

// AlarmDelivery is one webhook delivery of a state change (an alarm's or
// a health check's).
type AlarmDelivery struct {
	URL         string     `json:"url"`
	Status      string     `json:"status"` // pending, delivered or failed
	Attempts    int        `json:"attempts"`
	LastError   string     `json:"last_error,omitempty"`
	LastStatus  int        `json:"last_status,omitempty"`
	DeliveredAt *time.Time `json:"delivered_at,omitempty"`
}

// AlarmTransition is one state change of an alarm.
type AlarmTransition struct {
	At         time.Time       `json:"at"`
	OldState   string          `json:"old_state"`
	NewState   string          `json:"new_state"`
	Reason     string          `json:"reason"`
	Deliveries []AlarmDelivery `json:"deliveries"`
}

// AlarmHistoryOutput is GetAlarmHistory's response, newest first.
type AlarmHistoryOutput struct {
	History []AlarmTransition `json:"history"`
}

// CreateAlarm creates an alarm on a metric of the tenant's own resource.
func (c *Client) CreateAlarm(ctx context.Context, in CreateAlarmInput) (*AlarmOutput, error) {
	return callOut[AlarmOutput](ctx, c, request{op: opCreateAlarm, body: in})
}

// ListAlarms lists the tenant's alarms.
func (c *Client) ListAlarms(ctx context.Context) (*AlarmsOutput, error) {
	return callOut[AlarmsOutput](ctx, c, request{op: opListAlarms})
}

// GetAlarm returns one alarm with its state.
func (c *Client) GetAlarm(ctx context.Context, id string) (*AlarmOutput, error) {
	return callOut[AlarmOutput](ctx, c, request{op: opGetAlarm, pathArgs: []string{id}})
}

// DeleteAlarm deletes an alarm, its history and undelivered notifications.
func (c *Client) DeleteAlarm(ctx context.Context, id string) error {
	return c.call(ctx, request{op: opDeleteAlarm, pathArgs: []string{id}}, nil)
}

// GetAlarmHistory returns an alarm's state changes with their deliveries.
func (c *Client) GetAlarmHistory(ctx context.Context, id string) (*AlarmHistoryOutput, error) {
	return callOut[AlarmHistoryOutput](ctx, c, request{op: opGetAlarmHistory, pathArgs: []string{id}})
}
