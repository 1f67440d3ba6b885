// Package event is the NATS contract between the control plane and the
// nameservers and health checkers: subject names, stream configuration and
// the versioned payloads that travel on them.
//
// Zone events go to the JetStream stream [StreamName] on the subject
// [ZoneSubject] of their zone. Each carries the zone version it applies to
// (FromVersion) and the version it produces (ToVersion); a nameserver applies
// an event only when FromVersion equals the version it holds, skips events it
// already has, and re-fetches the zone's snapshot on a gap.
package event

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/waymark-dns/waymark/zonecfg"
)

// Stream and subject names. Subjects follow noun.verb.id so that consumers
// can filter with wildcards.
const (
	StreamName        = "WAYMARK_ZONES"
	zoneSubjectPrefix = "waymark.zone.changed."
	// ZoneSubjectAll matches the subject of every zone event.
	ZoneSubjectAll = zoneSubjectPrefix + ">"
	// HeartbeatSubject carries nameserver heartbeats and applied-sequence
	// reports (core NATS, not persisted).
	HeartbeatSubject = "waymark.nameserver.heartbeat"
	// OutboxWakeSubject wakes the outbox relay after a commit that wrote
	// zone events (core NATS, empty, not persisted; losing one delays the
	// events to the relay's backstop tick).
	OutboxWakeSubject = "waymark.outbox.wake"
)

// ZoneSubject returns the subject on which events for zoneID are published.
func ZoneSubject(zoneID string) string { return zoneSubjectPrefix + zoneID }

// ZoneIDFromSubject returns the zone id of a zone event subject.
func ZoneIDFromSubject(subject string) (string, bool) {
	id, ok := strings.CutPrefix(subject, zoneSubjectPrefix)
	return id, ok && id != ""
}

// MsgID is the Nats-Msg-Id of a zone event: JetStream drops a second
// publish of the same zone version within the stream's duplicate window.
func MsgID(zoneID string, toVersion int64) string {
	return fmt.Sprintf("%s:%d", zoneID, toVersion)
}

// Version is the payload format version. Decoders reject versions they do
// not know rather than misreading them.
const Version = 1

// Kind says what happened to the zone.
type Kind string

// The kinds of zone event.
const (
	ZoneCreated Kind = "zone.created" // the zone now exists with Upserts as its content
	ZoneUpdated Kind = "zone.updated" // Deletes then Upserts were applied
	ZoneDeleted Kind = "zone.deleted" // the zone is gone
)

// ZoneEvent is one committed change to one zone.
type ZoneEvent struct {
	V           int    `json:"v"`
	Kind        Kind   `json:"kind"`
	ZoneID      string `json:"zone_id"`
	ZoneName    string `json:"zone_name"`
	TenantID    string `json:"tenant_id"`
	FromVersion int64  `json:"from_version"`
	ToVersion   int64  `json:"to_version"`
	ChangeID    string `json:"change_id,omitempty"`
	// Deletes are removed first, then Upserts replace whole record sets by
	// key (or create them).
	Deletes []zonecfg.Key   `json:"deletes,omitempty"`
	Upserts []zonecfg.RRSet `json:"upserts,omitempty"`
	// Continued marks a leading part of a change too large for one
	// message: more zone.updated events of the same change follow, one
	// version each. A nameserver applies a continued part to its copy of
	// the zone but serves the result only once the last part (Continued
	// false) is applied, so a client never sees half a change.
	Continued bool `json:"continued,omitempty"`
	// CIDRCollections are collections referenced by the zone, each
	// replacing the nameserver's copy with the same ID (see CIDRCollection).
	CIDRCollections []CIDRCollection `json:"cidr_collections,omitempty"`
	// NameServers are the pool names of the zone's delegation set, on
	// zone.created (a zone's set never changes): a nameserver serves the
	// zone only on the addresses of those names.
	NameServers []string `json:"name_servers,omitempty"`
	// DNSSEC, when set, replaces the zone's signing material (nil:
	// unchanged; one without keys: the zone is no longer signed). See
	// zonecfg.DNSSEC.
	DNSSEC *zonecfg.DNSSEC `json:"dnssec,omitempty"`
	// Transfers, when set, replaces the zone's outgoing transfer
	// configuration (nil: unchanged). See zonecfg.Transfers.
	Transfers *zonecfg.Transfers `json:"transfers,omitempty"`
	// QueryLogging, when set, replaces the zone's query logging setting
	// (nil: unchanged). See zonecfg.QueryLogging.
	QueryLogging *zonecfg.QueryLogging `json:"query_logging,omitempty"`
	// Secondary, when set, replaces what the nameservers know of a
	// secondary zone (nil: unchanged). See zonecfg.Secondary.
	Secondary *zonecfg.Secondary `json:"secondary,omitempty"`
	Committed time.Time          `json:"committed"`
}

// Encode returns the wire form of e.
func (e ZoneEvent) Encode() ([]byte, error) {
	e.V = Version
	return json.Marshal(e)
}

// ErrBadEvent is wrapped by every Decode error.
var ErrBadEvent = errors.New("event: malformed zone event")

// DecodeZoneEvent parses and checks a zone event.
func DecodeZoneEvent(b []byte) (ZoneEvent, error) {
	var e ZoneEvent
	if err := json.Unmarshal(b, &e); err != nil {
		return e, fmt.Errorf("%w: %v", ErrBadEvent, err)
	}
	switch {
	case e.V != Version:
		return e, fmt.Errorf("%w: unknown version %d", ErrBadEvent, e.V)
	case e.ZoneID == "":
		return e, fmt.Errorf("%w: no zone id", ErrBadEvent)
	case e.Kind != ZoneCreated && e.Kind != ZoneUpdated && e.Kind != ZoneDeleted:
		return e, fmt.Errorf("%w: unknown kind %q", ErrBadEvent, e.Kind)
	case e.ToVersion <= e.FromVersion && e.Kind != ZoneDeleted:
		return e, fmt.Errorf("%w: version %d does not follow %d", ErrBadEvent, e.ToVersion, e.FromVersion)
	}
	if e.Kind != ZoneDeleted {
		if _, err := zonecfg.CanonicalName(e.ZoneName); err != nil {
			return e, fmt.Errorf("%w: %v", ErrBadEvent, err)
		}
	}
	return e, nil
}

// Heartbeat is what a nameserver reports every second and promptly after
// applying events: who it is, where, and the highest stream sequence it has
// fully applied. Ready is false until its initial sync is done.
type Heartbeat struct {
	NodeID     string `json:"node_id"`
	Region     string `json:"region"`
	AppliedSeq uint64 `json:"applied_seq"`
	Ready      bool   `json:"ready"`
	Zones      int    `json:"zones"`
	// Unservable is how many record sets the node received but could not
	// load (it answers SERVFAIL for their names); zero when the planes
	// agree on what is valid.
	Unservable int       `json:"unservable,omitempty"`
	Sent       time.Time `json:"sent"`
	// Serves are the pool names the node serves; empty: all of them. A
	// change is INSYNC once every live node serving one of its zone's
	// pool names has applied it.
	Serves []string `json:"serves,omitempty"`
}

// Encode returns the wire form of h.
func (h Heartbeat) Encode() ([]byte, error) { return json.Marshal(h) }

// DecodeHeartbeat parses a heartbeat.
func DecodeHeartbeat(b []byte) (Heartbeat, error) {
	var h Heartbeat
	if err := json.Unmarshal(b, &h); err != nil {
		return h, fmt.Errorf("event: malformed heartbeat: %v", err)
	}
	if h.NodeID == "" {
		return h, errors.New("event: heartbeat without node id")
	}
	return h, nil
}
