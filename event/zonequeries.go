package event

import (
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/nats-io/nats.go/jetstream"
)

// Per-zone query counts travel from the nameservers to the control plane
// on the JetStream stream [ZoneQueriesStream], subject
// [ZoneQueriesSubject]: every interval (10 s by default) each nameserver
// publishes what each zone it serves was asked since the last report, by
// rcode, as one or more [ZoneQueryReport] parts. The control plane adds
// them to its per-minute rollups, once per (node, interval start, part):
// a redelivered or re-published report is recognised and not counted
// again. The stream keeps reports for [ZoneQueriesMaxAge] only, so a
// control plane that was down longer loses those counts, never more
// memory or disk than the limits.
const (
	// ZoneQueriesStream is the stream of zone query reports.
	ZoneQueriesStream = "WAYMARK_ZONE_QUERIES"
	// ZoneQueriesSubject is the subject of every report.
	ZoneQueriesSubject = "waymark.metrics.zonequeries"
	// ZoneQueriesMaxAge is how long the stream keeps a report.
	ZoneQueriesMaxAge = time.Hour
	// ZoneQueriesMaxBytes bounds the stream's size; the oldest reports go
	// first.
	ZoneQueriesMaxBytes = 256 << 20
	// MaxZoneQueryCounts is the most counts one report part carries, so
	// that a part stays well under NATS's default 1 MiB payload limit.
	MaxZoneQueryCounts = 5000
)

// ZoneQueriesStreamConfig is the configuration of the report stream.
func ZoneQueriesStreamConfig(replicas int) jetstream.StreamConfig {
	if replicas < 1 {
		replicas = 1
	}
	return jetstream.StreamConfig{
		Name:       ZoneQueriesStream,
		Subjects:   []string{ZoneQueriesSubject},
		Retention:  jetstream.LimitsPolicy,
		Storage:    jetstream.FileStorage,
		Discard:    jetstream.DiscardOld,
		MaxAge:     ZoneQueriesMaxAge,
		MaxBytes:   ZoneQueriesMaxBytes,
		Duplicates: 2 * time.Minute,
		Replicas:   replicas,
	}
}

// ZoneQueryReport is one part of one nameserver's counts for one interval
// [Start, End). (NodeID, Start, Part) identifies it. Start is in whole
// microseconds (what PostgreSQL keeps), and intervals divide a minute, so
// that each report falls in one minute of the rollups: the minute of
// Start.
type ZoneQueryReport struct {
	V      int              `json:"v"`
	NodeID string           `json:"node_id"`
	Region string           `json:"region"`
	Start  time.Time        `json:"start"`
	End    time.Time        `json:"end"`
	Part   int              `json:"part"`
	Counts []ZoneQueryCount `json:"counts"`
}

// ZoneQueryCount is how many queries for one zone were answered with one
// rcode (its name: NOERROR, NXDOMAIN, SERVFAIL, …; OTHER for the rest).
type ZoneQueryCount struct {
	ZoneID  string `json:"zone_id"`
	RCode   string `json:"rcode"`
	Queries uint64 `json:"queries"`
}

// MsgID is the report's Nats-Msg-Id: JetStream drops a re-publish within
// its duplicate window, and the control plane's ingest after it.
func (r ZoneQueryReport) MsgID() string {
	return fmt.Sprintf("%s:%d:%d", r.NodeID, r.Start.UnixMicro(), r.Part)
}

// Encode returns the wire form of r.
func (r ZoneQueryReport) Encode() ([]byte, error) {
	r.V = Version
	return json.Marshal(r)
}

// ErrBadZoneQueryReport is wrapped by every DecodeZoneQueryReport error.
var ErrBadZoneQueryReport = errors.New("event: malformed zone query report")

// DecodeZoneQueryReport parses and checks a report.
func DecodeZoneQueryReport(b []byte) (ZoneQueryReport, error) {
	var r ZoneQueryReport
	if err := json.Unmarshal(b, &r); err != nil {
		return r, fmt.Errorf("%w: %v", ErrBadZoneQueryReport, err)
	}
	switch {
	case r.V != Version:
		return r, fmt.Errorf("%w: unknown version %d", ErrBadZoneQueryReport, r.V)
	case r.NodeID == "" || r.Region == "":
		return r, fmt.Errorf("%w: no node id or region", ErrBadZoneQueryReport)
	case r.Start.IsZero() || r.End.Before(r.Start) || r.End.Sub(r.Start) > time.Minute:
		return r, fmt.Errorf("%w: interval %s to %s", ErrBadZoneQueryReport, r.Start, r.End)
	case r.Part < 0 || len(r.Counts) > MaxZoneQueryCounts:
		return r, fmt.Errorf("%w: part %d with %d counts", ErrBadZoneQueryReport, r.Part, len(r.Counts))
	}
	for _, c := range r.Counts {
		if c.ZoneID == "" || c.RCode == "" || len(c.RCode) > 16 || c.Queries == 0 || c.Queries > 1<<62 {
			return r, fmt.Errorf("%w: count %+v", ErrBadZoneQueryReport, c)
		}
	}
	r.Start = r.Start.UTC()
	r.End = r.End.UTC()
	return r, nil
}
