package zonecfg

// Transfers is a zone's outgoing zone-transfer configuration as it
// travels to the nameservers, in the snapshot, in zone events and in the
// nameservers' cache: who may transfer the zone (AXFR over TCP, signed
// with one of Keys and from one of the CIDRs) and whom to NOTIFY.
//
// A nil *Transfers in a zone state means no transfers; in a zone event it
// means "unchanged", and a non-nil value replaces the configuration (an
// empty one: transfers off).
type Transfers struct {
	Allow  []TransferACL  `json:"allow,omitempty"`
	Notify []NotifyTarget `json:"notify,omitempty"`
	// Keys are the TSIG keys Allow and Notify name, secrets wrapped.
	Keys []TSIGKey `json:"keys,omitempty"`
}

// TransferACL lets requests signed with the key named Key, from an address
// in one of CIDRs, transfer the zone.
type TransferACL struct {
	Key   string   `json:"key"`
	CIDRs []string `json:"cidrs"`
}

// NotifyTarget is a secondary to send NOTIFY to, signed with Key ("" for
// unsigned).
type NotifyTarget struct {
	Address string `json:"address"`
	Port    uint16 `json:"port"`
	Key     string `json:"key,omitempty"`
}

// TSIGKey is one TSIG key as nameservers get it. Name is the key's name as
// it appears in TSIG records (a domain name, canonical, with the final
// dot); Wrapped is its secret sealed under the fleet key (AES-256-GCM, the
// zone id and "tsig/"+Name as associated data), never the plain secret.
type TSIGKey struct {
	Name      string `json:"name"`
	Algorithm string `json:"algorithm"` // "hmac-sha256" or "hmac-sha512"
	Wrapped   []byte `json:"wrapped"`
}

// Enabled reports whether t lets anyone transfer the zone.
func (t *Transfers) Enabled() bool { return t != nil && len(t.Allow) > 0 }

// Key returns the key named name, or nil.
func (t *Transfers) Key(name string) *TSIGKey {
	if t == nil {
		return nil
	}
	for i := range t.Keys {
		if t.Keys[i].Name == name {
			return &t.Keys[i]
		}
	}
	return nil
}

// TSIGKeyAD is the associated data a zone's copy of a TSIG secret is
// wrapped with, so that it cannot be replayed into another zone or key.
func TSIGKeyAD(zoneID, keyName string) []byte { return []byte(zoneID + "/tsig/" + keyName) }
