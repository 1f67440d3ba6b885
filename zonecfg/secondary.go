package zonecfg

// Secondary is what the nameservers know of a secondary zone, one whose
// records the control plane transfers from the customer's primaries
// (docs/transfers.md): where NOTIFY may come from, and whether the zone is
// past its SOA expire.
//
// A nil *Secondary in a zone state means an ordinary zone; in a zone event
// it means "unchanged", and a non-nil value replaces the nameserver's copy.
type Secondary struct {
	// Primaries are the addresses NOTIFY is accepted from, each with the
	// TSIG key that must sign it ("" for unsigned).
	Primaries []NotifySource `json:"primaries"`
	// Keys are the TSIG keys Primaries name, secrets wrapped under the
	// fleet key as for Transfers (TSIGKeyAD).
	Keys []TSIGKey `json:"keys,omitempty"`
	// Expired is set once the zone has gone past its SOA expire timer
	// without a successful refresh: RFC 1035 §3.3.13 says it is no longer
	// authoritative, so the nameservers answer SERVFAIL for every name in
	// it until a refresh succeeds and clears the flag.
	Expired bool `json:"expired,omitempty"`
}

// NotifySource is one primary a NOTIFY for a secondary zone may come from.
type NotifySource struct {
	// Address is the primary's IP address (no port: RFC 1996 NOTIFY comes
	// from any source port).
	Address string `json:"address"`
	Key     string `json:"key,omitempty"`
}

// Key returns the key named name, or nil.
func (s *Secondary) Key(name string) *TSIGKey {
	if s == nil {
		return nil
	}
	for i := range s.Keys {
		if s.Keys[i].Name == name {
			return &s.Keys[i]
		}
	}
	return nil
}
