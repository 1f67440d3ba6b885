package zonecfg

// DNSSEC is a signed zone's signing material as it travels to the
// nameservers, in the snapshot, in zone events and in the nameservers'
// cache: the one model of a zone's keys outside the control plane. It
// holds no private key in plain text: a KSK never leaves the control
// plane (which signs the DNSKEY set itself and ships the signatures), and
// a ZSK's private key is wrapped under the fleet key (AES-256-GCM, the
// zone id and key name as associated data).
//
// A nil *DNSSEC in a zone state means the zone is not signed; in a zone
// event it means "unchanged", and a non-nil value replaces the zone's
// signing material (one without ZSKs: the zone is no longer signed).
type DNSSEC struct {
	// DNSKEYTTL is the TTL of the DNSKEY, CDS and CDNSKEY record sets.
	DNSKEYTTL uint32 `json:"dnskey_ttl"`
	// DNSKEYs are the RDATA, in presentation form, of every published
	// DNSKEY: the active KSKs and every ZSK (pre-published, active or
	// retiring).
	DNSKEYs []string `json:"dnskeys"`
	// DNSKEYSigs are RRSIG RDATA over the DNSKEY set, one per active KSK,
	// made by the control plane.
	DNSKEYSigs []string `json:"dnskey_sigs"`
	// CDS and CDNSKEY are the child's DS and DNSKEY records for parents
	// that scan for them (RFC 7344, RFC 8078), with CDSSigs and
	// CDNSKEYSigs their RRSIGs by the KSKs. Empty: none published.
	CDS         []string `json:"cds,omitempty"`
	CDSSigs     []string `json:"cds_sigs,omitempty"`
	CDNSKEY     []string `json:"cdnskey,omitempty"`
	CDNSKEYSigs []string `json:"cdnskey_sigs,omitempty"`
	// ZSKs are the zone-signing keys; the one with Active signs answers.
	ZSKs []ZSK `json:"zsks"`
}

// ZSK is one zone-signing key as nameservers get it.
type ZSK struct {
	// Name identifies the key within its zone; it is part of the
	// associated data that Wrapped is sealed with.
	Name      string `json:"name"`
	KeyTag    uint16 `json:"key_tag"`
	Algorithm uint8  `json:"algorithm"`
	// Active is set on the key that signs; the others are only
	// published (before and after a rollover).
	Active bool `json:"active"`
	// Wrapped is the private key sealed under the fleet key.
	Wrapped []byte `json:"wrapped"`
}

// Signed reports whether d describes a zone that is signed.
func (d *DNSSEC) Signed() bool { return d != nil && len(d.ZSKs) > 0 }

// ActiveZSK returns the key that signs, or nil.
func (d *DNSSEC) ActiveZSK() *ZSK {
	if d == nil {
		return nil
	}
	for i := range d.ZSKs {
		if d.ZSKs[i].Active {
			return &d.ZSKs[i]
		}
	}
	return nil
}
