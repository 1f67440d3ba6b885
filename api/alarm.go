package api

import (
	"net/http"
	"net/url"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/waymark-dns/waymark/controlplane"
)

// JSON shapes of /v1/alarms. Requests read webhook secrets; responses
// never carry them (secret_set says one is stored).

type webhookJSON struct {
	URL       string `json:"url"`
	SecretSet bool   `json:"secret_set"`
}

type alarmActionJSON struct {
	Webhook *webhookJSON `json:"webhook"`
}

type alarmJSON struct {
	ID                string                   `json:"id"`
	Name              string                   `json:"name"`
	Metric            controlplane.AlarmMetric `json:"metric"`
	Statistic         string                   `json:"statistic"`
	Period            int                      `json:"period"`
	EvaluationPeriods int                      `json:"evaluation_periods"`
	DatapointsToAlarm int                      `json:"datapoints_to_alarm"`
	Threshold         float64                  `json:"threshold"`
	Comparison        string                   `json:"comparison"`
	AlarmActions      []alarmActionJSON        `json:"alarm_actions"`
	OKActions         []alarmActionJSON        `json:"ok_actions"`
	State             string                   `json:"state"`
	StateReason       string                   `json:"state_reason"`
	StateChangedAt    time.Time                `json:"state_changed_at"`
	CreatedAt         time.Time                `json:"created_at"`
}

type createAlarmRequest struct {
	Name              string                     `json:"name"`
	Metric            controlplane.AlarmMetric   `json:"metric"`
	Statistic         string                     `json:"statistic"`
	Period            int                        `json:"period"`
	EvaluationPeriods int                        `json:"evaluation_periods"`
	DatapointsToAlarm int                        `json:"datapoints_to_alarm"`
	Threshold         *float64                   `json:"threshold"`
	Comparison        string                     `json:"comparison"`
	AlarmActions      []controlplane.AlarmAction `json:"alarm_actions"`
	OKActions         []controlplane.AlarmAction `json:"ok_actions"`
}

type alarmResponse struct {
	Alarm alarmJSON `json:"alarm"`
}

type listAlarmsResponse struct {
	Alarms []alarmJSON `json:"alarms"`
}

type deliveryJSON struct {
	URL         string     `json:"url"`
	Status      string     `json:"status"`
	Attempts    int        `json:"attempts"`
	LastError   string     `json:"last_error,omitempty"`
	LastStatus  *int       `json:"last_status,omitempty"`
	DeliveredAt *time.Time `json:"delivered_at,omitempty"`
}

type alarmHistoryJSON struct {
	At         time.Time      `json:"at"`
	OldState   string         `json:"old_state"`
	NewState   string         `json:"new_state"`
	Reason     string         `json:"reason"`
	Deliveries []deliveryJSON `json:"deliveries"`
}

type alarmHistoryResponse struct {
	History []alarmHistoryJSON `json:"history"`
}

func toActionsJSON(in []controlplane.AlarmAction) []alarmActionJSON {
	out := make([]alarmActionJSON, 0, len(in))
	for _, a := range in {
		var w *webhookJSON
		if a.Webhook != nil {
			// The service has cleared the secret; every stored action has one.
			w = &webhookJSON{URL: a.Webhook.URL, SecretSet: true}
		}
		out = append(out, alarmActionJSON{Webhook: w})
	}
	return out
}

// toDeliveriesJSON is the deliveries of one transition's notifications,
// an alarm's or a health check's; never nil.
func toDeliveriesJSON(in []controlplane.Delivery) []deliveryJSON {
	out := make([]deliveryJSON, 0, len(in))
	for _, d := range in {
		out = append(out, deliveryJSON{URL: d.URL, Status: d.Status, Attempts: d.Attempts,
			LastError: d.LastError, LastStatus: d.LastStatus, DeliveredAt: d.DeliveredAt})
	}
	return out
}

func toAlarmJSON(a controlplane.Alarm) alarmJSON {
	return alarmJSON{ID: a.ID, Name: a.Name, Metric: a.Metric, Statistic: a.Statistic, Period: a.Period,
		EvaluationPeriods: a.EvaluationPeriods, DatapointsToAlarm: a.DatapointsToAlarm, Threshold: a.Threshold,
		Comparison: a.Comparison, AlarmActions: toActionsJSON(a.AlarmActions), OKActions: toActionsJSON(a.OKActions),
		State: a.State, StateReason: a.StateReason, StateChangedAt: a.StateChangedAt.UTC(), CreatedAt: a.CreatedAt.UTC()}
}

// createAlarm is POST /v1/alarms.
func (h *handler) createAlarm(w http.ResponseWriter, r *http.Request) error {
	var req createAlarmRequest
	if err := h.decodeJSON(r, &req); err != nil {
		return err
	}
	if req.Threshold == nil {
		return &controlplane.Error{Code: controlplane.CodeInvalidInput, Message: "threshold is required",
			Details: []controlplane.Detail{{Field: "threshold", Message: "is required"}}}
	}
	a, err := h.svc.CreateAlarm(r.Context(), tenantID(r), controlplane.CreateAlarmInput{
		Name: req.Name, Metric: req.Metric, Statistic: req.Statistic, Period: req.Period,
		EvaluationPeriods: req.EvaluationPeriods, DatapointsToAlarm: req.DatapointsToAlarm, Threshold: *req.Threshold,
		Comparison: req.Comparison, AlarmActions: req.AlarmActions, OKActions: req.OKActions,
	})
	if err != nil {
		return err
	}
	w.Header().Set("Location", "/v1/alarms/"+url.PathEscape(a.ID))
	h.writeJSON(w, http.StatusCreated, alarmResponse{Alarm: toAlarmJSON(a)})
	return nil
}

// listAlarms is GET /v1/alarms.
func (h *handler) listAlarms(w http.ResponseWriter, r *http.Request) error {
	list, err := h.svc.ListAlarms(r.Context(), tenantID(r))
	if err != nil {
		return err
	}
	out := listAlarmsResponse{Alarms: make([]alarmJSON, 0, len(list))}
	for _, a := range list {
		out.Alarms = append(out.Alarms, toAlarmJSON(a))
	}
	h.writeJSON(w, http.StatusOK, out)
	return nil
}

// getAlarm is GET /v1/alarms/{id}.
func (h *handler) getAlarm(w http.ResponseWriter, r *http.Request) error {
	a, err := h.svc.GetAlarm(r.Context(), tenantID(r), chi.URLParam(r, "id"))
	if err != nil {
		return err
	}
	h.writeJSON(w, http.StatusOK, alarmResponse{Alarm: toAlarmJSON(a)})
	return nil
}

// deleteAlarm is DELETE /v1/alarms/{id}.
func (h *handler) deleteAlarm(w http.ResponseWriter, r *http.Request) error {
	if err := h.svc.DeleteAlarm(r.Context(), tenantID(r), chi.URLParam(r, "id")); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// alarmHistory is GET /v1/alarms/{id}/history: the transitions, newest
// first, each with its webhook deliveries.
func (h *handler) alarmHistory(w http.ResponseWriter, r *http.Request) error {
	list, err := h.svc.AlarmHistory(r.Context(), tenantID(r), chi.URLParam(r, "id"))
	if err != nil {
		return err
	}
	out := alarmHistoryResponse{History: make([]alarmHistoryJSON, 0, len(list))}
	for _, it := range list {
		out.History = append(out.History, alarmHistoryJSON{At: it.At.UTC(), OldState: it.OldState, NewState: it.NewState,
			Reason: it.Reason, Deliveries: toDeliveriesJSON(it.Deliveries)})
	}
	h.writeJSON(w, http.StatusOK, out)
	return nil
}
