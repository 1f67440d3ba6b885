package event

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/waymark-dns/waymark/healthcfg"
)

// Health checks travel on NATS in three forms:
//
//   - Configurations, in the JetStream KV bucket [HealthChecksBucket]: key =
//     check id, value = [HealthCheck]. The control plane's aggregator (one
//     leader among the API processes) keeps it equal to PostgreSQL; every
//     health checker watches it, so a checker never opens the database.
//   - Observations, on core NATS subject [HealthObservedSubject] (one per
//     probe; losing one is harmless, the next comes an interval later),
//     payload [HealthObservation]. The aggregator subscribes to
//     [HealthObservedAll].
//   - Status, in the KV bucket [HealthStatusBucket]: key = check id, value =
//     [HealthStatus]. The aggregator writes a key only when the check's
//     status changes (and once when a check is created). Nameservers watch
//     the bucket: a watch first delivers every current value, then a nil
//     entry, then each change as it happens — the full map at startup and
//     the live feed in one call. [HealthWatcher] does exactly that.
//
// Health checkers also send a [HealthCheckerHeartbeat] every second on
// [HealthCheckerHeartbeatSubject], so that the checkers of one region can
// share the work among the live ones.
const (
	// HealthChecksBucket is the KV bucket of check configurations.
	HealthChecksBucket = "waymark_healthchecks"
	// HealthStatusBucket is the KV bucket of check statuses, the feed the
	// nameservers consume.
	HealthStatusBucket = "waymark_health"

	healthObservedPrefix = "waymark.health.observed."
	// HealthObservedAll matches the subject of every observation.
	HealthObservedAll = healthObservedPrefix + ">"
	// HealthCheckerHeartbeatSubject carries health checker heartbeats
	// (core NATS, not persisted).
	HealthCheckerHeartbeatSubject = "waymark.healthchecker.heartbeat"
)

// HealthObservedSubject returns the subject of observations of checkID.
func HealthObservedSubject(checkID string) string { return healthObservedPrefix + checkID }

// HealthCheck is one check's configuration, as checkers and the aggregator
// need it. Version goes up by one on every update; a checker that sees a
// new version applies it at its next probe.
type HealthCheck struct {
	V       int    `json:"v"`
	ID      string `json:"id"`
	Version int64  `json:"version"`
	healthcfg.Config
}

// Encode returns the wire form of h.
func (h HealthCheck) Encode() ([]byte, error) {
	h.V = Version
	return json.Marshal(h)
}

// ErrBadHealthEvent is wrapped by every health Decode error.
var ErrBadHealthEvent = errors.New("event: malformed health message")

// DecodeHealthCheck parses and checks a health check configuration.
func DecodeHealthCheck(b []byte) (HealthCheck, error) {
	var h HealthCheck
	if err := json.Unmarshal(b, &h); err != nil {
		return h, fmt.Errorf("%w: %v", ErrBadHealthEvent, err)
	}
	switch {
	case h.V != Version:
		return h, fmt.Errorf("%w: unknown version %d", ErrBadHealthEvent, h.V)
	case h.ID == "":
		return h, fmt.Errorf("%w: no check id", ErrBadHealthEvent)
	case !h.Type.Valid():
		return h, fmt.Errorf("%w: unknown type %q", ErrBadHealthEvent, h.Type)
	case h.Type != healthcfg.Calculated && (h.RequestInterval <= 0 || h.FailureThreshold <= 0):
		return h, fmt.Errorf("%w: interval %d, threshold %d", ErrBadHealthEvent, h.RequestInterval, h.FailureThreshold)
	case h.Type != healthcfg.Calculated && (h.Port <= 0 || h.Port > 65535):
		return h, fmt.Errorf("%w: port %d", ErrBadHealthEvent, h.Port)
	}
	return h, nil
}

// HealthObservation is one probe's raw result from one checker. OK is the
// endpoint's own result (before inversion and failure thresholds, which
// the aggregator applies). Reason is a short human text in Route 53's
// style: "Success: HTTP Status Code 200, OK" or "Failure: …".
// ConnectMS and FirstByteMS are the probe's TCP connect time and time to
// first byte of the HTTP response, in milliseconds, when it measured them
// (absent when the connect failed, and a TCP probe has no first byte);
// checkers older than these fields send neither.
type HealthObservation struct {
	V            int       `json:"v"`
	CheckID      string    `json:"check_id"`
	CheckVersion int64     `json:"check_version"`
	Region       string    `json:"region"`
	NodeID       string    `json:"node_id"`
	OK           bool      `json:"ok"`
	Reason       string    `json:"reason"`
	CheckedAt    time.Time `json:"checked_at"`
	ConnectMS    *float64  `json:"connect_ms,omitempty"`
	FirstByteMS  *float64  `json:"ttfb_ms,omitempty"`
}

// MaxProbeMS bounds an observation's times: no probe waits longer than
// Route 53's timeouts, so anything above a minute is a bad event.
const MaxProbeMS = 60_000

// Encode returns the wire form of o.
func (o HealthObservation) Encode() ([]byte, error) {
	o.V = Version
	return json.Marshal(o)
}

// DecodeHealthObservation parses and checks an observation.
func DecodeHealthObservation(b []byte) (HealthObservation, error) {
	var o HealthObservation
	if err := json.Unmarshal(b, &o); err != nil {
		return o, fmt.Errorf("%w: %v", ErrBadHealthEvent, err)
	}
	switch {
	case o.V != Version:
		return o, fmt.Errorf("%w: unknown version %d", ErrBadHealthEvent, o.V)
	case o.CheckID == "" || o.Region == "":
		return o, fmt.Errorf("%w: observation without check id or region", ErrBadHealthEvent)
	case o.CheckedAt.IsZero():
		return o, fmt.Errorf("%w: observation without time", ErrBadHealthEvent)
	case badMS(o.ConnectMS) || badMS(o.FirstByteMS):
		return o, fmt.Errorf("%w: probe time out of range", ErrBadHealthEvent)
	}
	return o, nil
}

func badMS(ms *float64) bool { return ms != nil && !(*ms >= 0 && *ms <= MaxProbeMS) }

// HealthStatus is a check's current status: what the nameservers use. It
// already includes inversion, disabling and the calculation of calculated
// checks. Changed is when it took this value.
type HealthStatus struct {
	V       int       `json:"v"`
	CheckID string    `json:"check_id"`
	Healthy bool      `json:"healthy"`
	Changed time.Time `json:"changed"`
	// Reason says why, for people: "2 of 3 checkers report healthy".
	Reason string `json:"reason,omitempty"`
}

// Encode returns the wire form of s.
func (s HealthStatus) Encode() ([]byte, error) {
	s.V = Version
	return json.Marshal(s)
}

// DecodeHealthStatus parses and checks a status.
func DecodeHealthStatus(b []byte) (HealthStatus, error) {
	var s HealthStatus
	if err := json.Unmarshal(b, &s); err != nil {
		return s, fmt.Errorf("%w: %v", ErrBadHealthEvent, err)
	}
	switch {
	case s.V != Version:
		return s, fmt.Errorf("%w: unknown version %d", ErrBadHealthEvent, s.V)
	case s.CheckID == "":
		return s, fmt.Errorf("%w: status without check id", ErrBadHealthEvent)
	}
	return s, nil
}

// HealthCheckerHeartbeat says that a health checker is alive and in which
// region; the checkers of a region divide the checks among the live ones.
type HealthCheckerHeartbeat struct {
	NodeID string    `json:"node_id"`
	Region string    `json:"region"`
	Sent   time.Time `json:"sent"`
}

// Encode returns the wire form of h.
func (h HealthCheckerHeartbeat) Encode() ([]byte, error) { return json.Marshal(h) }

// DecodeHealthCheckerHeartbeat parses a health checker heartbeat.
func DecodeHealthCheckerHeartbeat(b []byte) (HealthCheckerHeartbeat, error) {
	var h HealthCheckerHeartbeat
	if err := json.Unmarshal(b, &h); err != nil {
		return h, fmt.Errorf("%w: %v", ErrBadHealthEvent, err)
	}
	if h.NodeID == "" || h.Region == "" {
		return h, fmt.Errorf("%w: heartbeat without node id or region", ErrBadHealthEvent)
	}
	return h, nil
}

// HealthRegionState is one region's view of one check, as the aggregator
// keeps it: Healthy after the failure threshold, Streak the number of
// consecutive results that disagree with it, and the last observation
// and failure. It is not sent on NATS; it is the type the aggregator
// (package healthcheck) and its PostgreSQL store (package controlplane)
// share without importing each other.
type HealthRegionState struct {
	CheckID           string
	Region            string
	Healthy           bool
	Streak            int
	LastOK            bool
	NodeID            string
	CheckedAt         time.Time
	Reason            string
	LastFailureAt     time.Time // zero: never failed
	LastFailureReason string
}

// HealthMinute is the aggregator's rollup of one check's observations
// from one region during one minute (what the tenant's health check
// metrics are read from): Samples observations applied, Healthy of them
// with the region's view healthy after the failure threshold, and the
// sums and counts of the measured connect times and times to first byte.
type HealthMinute struct {
	CheckID        string
	Region         string
	Minute         time.Time
	Samples        int64
	Healthy        int64
	ConnectMSSum   float64
	ConnectCount   int64
	FirstByteMSSum float64
	FirstByteCount int64
}

// HealthConfigDelta is what changed in the health check configurations
// since a revision: the live checks written since (with their current
// status, in the same order) and the ids of the checks deleted since.
// Revision is the revision to ask from next time. A Full delta (asked
// from revision 0) lists every live check and no deletions: every check
// it does not list is gone.
type HealthConfigDelta struct {
	Full     bool
	Checks   []HealthCheck
	Status   []HealthStatus
	Deleted  []string
	Revision int64
}

// HealthChecksKVConfig is the configuration of [HealthChecksBucket]. Every
// party may create it with CreateOrUpdateKeyValue: the config is the same.
func HealthChecksKVConfig(replicas int) jetstream.KeyValueConfig {
	return jetstream.KeyValueConfig{
		Bucket:      HealthChecksBucket,
		Description: "Waymark health check configurations (check id -> event.HealthCheck)",
		History:     1,
		Storage:     jetstream.FileStorage,
		Replicas:    max(replicas, 1),
	}
}

// HealthStatusKVConfig is the configuration of [HealthStatusBucket].
func HealthStatusKVConfig(replicas int) jetstream.KeyValueConfig {
	return jetstream.KeyValueConfig{
		Bucket:      HealthStatusBucket,
		Description: "Waymark health check status (check id -> event.HealthStatus)",
		History:     1,
		Storage:     jetstream.FileStorage,
		Replicas:    max(replicas, 1),
	}
}

// OpenKeyValue opens the bucket cfg names, creating it with cfg if it does
// not exist yet. Unlike CreateOrUpdateKeyValue it never changes an
// existing bucket, so a consumer's defaults (one replica) cannot undo the
// operator's settings. The aggregator, which owns both health buckets,
// uses CreateOrUpdateKeyValue with the configured replicas.
func OpenKeyValue(ctx context.Context, js jetstream.JetStream, cfg jetstream.KeyValueConfig) (jetstream.KeyValue, error) {
	kv, err := js.KeyValue(ctx, cfg.Bucket)
	if !errors.Is(err, jetstream.ErrBucketNotFound) {
		return kv, err
	}
	kv, err = js.CreateKeyValue(ctx, cfg)
	if errors.Is(err, jetstream.ErrBucketExists) {
		return js.KeyValue(ctx, cfg.Bucket) // created meanwhile by someone else
	}
	return kv, err
}

// HealthWatcher keeps the current status of every check, for a nameserver:
// Start loads the whole map (it returns once the bucket's current values
// are in) and then follows changes in the background. Healthy answers
// Route 53's way for a record with a check: unknown or deleted checks
// count as healthy. It is safe for concurrent use; Healthy takes a read
// lock only.
type HealthWatcher struct {
	mu     sync.RWMutex
	status map[string]bool
	// OnChange, if set before Start, is called (outside the lock) after
	// every change with the check id and its new status.
	OnChange func(checkID string, healthy bool)
}

// NewHealthWatcher returns an empty watcher.
func NewHealthWatcher() *HealthWatcher { return &HealthWatcher{status: map[string]bool{}} }

// Healthy reports a check's status; unknown checks are healthy.
func (w *HealthWatcher) Healthy(checkID string) bool {
	w.mu.RLock()
	defer w.mu.RUnlock()
	h, ok := w.status[checkID]
	return !ok || h
}

// Snapshot returns a copy of the whole map.
func (w *HealthWatcher) Snapshot() map[string]bool {
	w.mu.RLock()
	defer w.mu.RUnlock()
	out := make(map[string]bool, len(w.status))
	for k, v := range w.status {
		out[k] = v
	}
	return out
}

// Start creates the status bucket if needed, loads every current status
// and follows changes until ctx is done. It returns when the initial load
// is complete (or failed). If the NATS connection is lost, the underlying
// watcher resumes by itself when it comes back; the last known statuses
// stay in place meanwhile.
func (w *HealthWatcher) Start(ctx context.Context, js jetstream.JetStream) error {
	kv, err := OpenKeyValue(ctx, js, HealthStatusKVConfig(1))
	if err != nil {
		return fmt.Errorf("health status bucket: %w", err)
	}
	kw, err := kv.WatchAll(ctx)
	if err != nil {
		return fmt.Errorf("watch health status: %w", err)
	}
	ready := make(chan struct{})
	go func() {
		defer func() { _ = kw.Stop() }()
		initial := true
		for {
			select {
			case <-ctx.Done():
				if initial {
					close(ready)
				}
				return
			case e, ok := <-kw.Updates():
				if !ok {
					if initial {
						close(ready)
					}
					return
				}
				if e == nil {
					if initial {
						initial = false
						close(ready)
					}
					continue
				}
				w.apply(e, !initial)
			}
		}
	}()
	select {
	case <-ready:
		return ctx.Err()
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (w *HealthWatcher) apply(e jetstream.KeyValueEntry, notify bool) {
	id := e.Key()
	healthy := true
	present := false
	if e.Operation() == jetstream.KeyValuePut {
		s, err := DecodeHealthStatus(e.Value())
		if err != nil {
			return // a value we cannot read changes nothing
		}
		healthy, present = s.Healthy, true
	}
	w.mu.Lock()
	if present {
		w.status[id] = healthy
	} else {
		delete(w.status, id)
	}
	w.mu.Unlock()
	if notify && w.OnChange != nil {
		w.OnChange(id, healthy)
	}
}
