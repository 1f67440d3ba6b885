package event

import (
	"encoding/json"
	"fmt"
)

// SecondaryNotifySubject carries, on core NATS (not JetStream: a lost
// NOTIFY costs only the wait until the next refresh timer), the NOTIFYs
// that nameservers accepted for secondary zones from their primaries. The
// control plane's refresh leader subscribes and refreshes the zone at once.
const SecondaryNotifySubject = "waymark.secondary.notified"

// SecondaryNotify is one NOTIFY (RFC 1996) a nameserver accepted for a
// secondary zone: it came from one of the zone's primaries and, when that
// primary has a key, was signed with it.
type SecondaryNotify struct {
	V      int    `json:"v"`
	ZoneID string `json:"zone_id"`
	// Serial is the SOA serial the NOTIFY carried in its answer section, 0
	// when it had none (the serial is only a hint, RFC 1996 §3.7).
	Serial uint32 `json:"serial,omitempty"`
	// From is the primary's address as the nameserver saw it.
	From string `json:"from"`
	// Node is the nameserver that accepted it.
	Node string `json:"node"`
}

// Encode returns the wire form of n.
func (n SecondaryNotify) Encode() ([]byte, error) {
	n.V = Version
	return json.Marshal(n)
}

// DecodeSecondaryNotify parses a SecondaryNotify, refusing unknown
// versions and one without a zone.
func DecodeSecondaryNotify(b []byte) (SecondaryNotify, error) {
	var n SecondaryNotify
	if err := json.Unmarshal(b, &n); err != nil {
		return n, fmt.Errorf("event: secondary notify: %w", err)
	}
	if n.V != Version {
		return n, fmt.Errorf("event: secondary notify: unknown version %d", n.V)
	}
	if n.ZoneID == "" {
		return n, fmt.Errorf("event: secondary notify: no zone id")
	}
	return n, nil
}
