package event

import (
	"strings"
	"time"
	"unicode/utf8"

	"github.com/nats-io/nats.go/jetstream"
)

// Query logs (docs/observability.md, "Query logging"). A nameserver
// publishes the entries of the zones whose query logging is on to the
// JetStream stream [QueryLogStreamName], on the subject [QueryLogSubject]
// of each zone, in batches: one message holds entries of one zone, one
// JSON object a line (NDJSON), each line as QueryLogEntry.AppendJSON
// writes it. The stream is bounded by size and age (QueryLogStreamConfig):
// old entries go first, whoever has or has not read them.
const (
	QueryLogStreamName    = "WAYMARK_QUERYLOG"
	queryLogSubjectPrefix = "waymark.query.logged."
	// QueryLogSubjectAll matches the subject of every zone's log.
	QueryLogSubjectAll = queryLogSubjectPrefix + ">"
)

// QueryLogSubject returns the subject of zoneID's query log entries.
func QueryLogSubject(zoneID string) string { return queryLogSubjectPrefix + zoneID }

// Defaults of the query log stream's limits.
const (
	DefaultQueryLogMaxBytes = 1 << 30 // 1 GiB
	DefaultQueryLogMaxAge   = 24 * time.Hour
)

// QueryLogStreamConfig is the configuration of the query log stream:
// at most maxBytes and maxAge of entries (zero: the defaults), the oldest
// dropped first. Entries are not deduplicated: a nameserver publishes each
// batch once, and a lost batch is lost (logging never holds up answers).
func QueryLogStreamConfig(replicas int, maxBytes int64, maxAge time.Duration) jetstream.StreamConfig {
	if replicas < 1 {
		replicas = 1
	}
	if maxBytes <= 0 {
		maxBytes = DefaultQueryLogMaxBytes
	}
	if maxAge <= 0 {
		maxAge = DefaultQueryLogMaxAge
	}
	return jetstream.StreamConfig{
		Name:      QueryLogStreamName,
		Subjects:  []string{QueryLogSubjectAll},
		Retention: jetstream.LimitsPolicy,
		Discard:   jetstream.DiscardOld,
		Storage:   jetstream.FileStorage,
		MaxBytes:  maxBytes,
		MaxAge:    maxAge,
		Replicas:  replicas,
	}
}

// QueryLogEntry is one answer a nameserver gave from a zone whose query
// logging is on: Route 53's query log fields, in JSON.
type QueryLogEntry struct {
	// Time is when the query was answered, to the millisecond, UTC.
	Time         time.Time `json:"time"`
	HostedZoneID string    `json:"hosted_zone_id"`
	// QueryName is the name asked, lowercase, with the final dot;
	// QueryType its type (A, AAAA, TYPE65534…).
	QueryName    string `json:"query_name"`
	QueryType    string `json:"query_type"`
	ResponseCode string `json:"response_code"` // NOERROR, NXDOMAIN, …
	Protocol     string `json:"protocol"`      // UDP or TCP
	// Nameserver and Region are the node id and region of the nameserver
	// that answered (Route 53's edge location).
	Nameserver string `json:"nameserver"`
	Region     string `json:"region"`
	// Resolver is the network of the address the query came from: /24
	// for IPv4, /48 for IPv6, never the whole address.
	Resolver string `json:"resolver"`
	// EDNSClientSubnet is the query's EDNS Client Subnet, cut to at most
	// /24 or /48 as Resolver is; empty when the query sent none.
	EDNSClientSubnet string `json:"edns_client_subnet,omitempty"`
}

// QueryLogTimeLayout is the layout of QueryLogEntry.Time in its JSON: a
// fixed width, so that lines sort by time as text.
const QueryLogTimeLayout = "2006-01-02T15:04:05.000Z"

// queryLogTimeAt is where the time's text starts in a line AppendJSON
// wrote, and QueryLogTimeLen its length.
const (
	queryLogTimeAt  = len(`{"time":"`)
	QueryLogTimeLen = len(QueryLogTimeLayout)
)

// AppendJSON appends e's JSON object (no newline) to b: the same members
// as encoding/json, without reflection, the time first and in
// QueryLogTimeLayout.
func (e *QueryLogEntry) AppendJSON(b []byte) []byte {
	b = append(b, `{"time":"`...)
	b = e.Time.UTC().AppendFormat(b, QueryLogTimeLayout)
	b = append(b, '"')
	member := func(name, v string) {
		b = append(b, `,"`...)
		b = append(b, name...)
		b = append(b, `":`...)
		b = appendJSONString(b, v)
	}
	member("hosted_zone_id", e.HostedZoneID)
	member("query_name", e.QueryName)
	member("query_type", e.QueryType)
	member("response_code", e.ResponseCode)
	member("protocol", e.Protocol)
	member("nameserver", e.Nameserver)
	member("region", e.Region)
	member("resolver", e.Resolver)
	if e.EDNSClientSubnet != "" {
		member("edns_client_subnet", e.EDNSClientSubnet)
	}
	return append(b, '}')
}

// QueryLogLineTime returns the time text of a line AppendJSON wrote, to
// compare with a time in QueryLogTimeLayout; ok is false for any other
// line.
func QueryLogLineTime(line []byte) (string, bool) {
	if len(line) < queryLogTimeAt+QueryLogTimeLen+1 || !strings.HasPrefix(string(line[:queryLogTimeAt]), `{"time":"`) ||
		line[queryLogTimeAt+QueryLogTimeLen] != '"' {
		return "", false
	}
	return string(line[queryLogTimeAt : queryLogTimeAt+QueryLogTimeLen]), true
}

// appendJSONString appends s as a JSON string: quotes, backslashes and
// control characters escaped, invalid UTF-8 replaced (as encoding/json
// does).
func appendJSONString(b []byte, s string) []byte {
	const hex = "0123456789abcdef"
	b = append(b, '"')
	for _, r := range s {
		switch {
		case r == '"' || r == '\\':
			b = append(b, '\\', byte(r))
		case r < 0x20:
			b = append(b, '\\', 'u', '0', '0', hex[r>>4], hex[r&0xf])
		default:
			b = utf8.AppendRune(b, r)
		}
	}
	return append(b, '"')
}
