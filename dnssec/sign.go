package dnssec

import (
	"errors"
	"hash/fnv"
	"strings"
	"time"

	"github.com/miekg/dns"
)

// Timing is when signatures start and end (RFC 6781 §4.4.2): inception
// backdated for clients with slow clocks, a validity long enough to ride
// out an outage, a refresh well before expiry, and jitter so that the
// signatures of one zone do not all expire in the same second.
type Timing struct {
	// Validity is how long a signature is valid. Default 14 days.
	Validity time.Duration
	// Backdate moves inception into the past. Default 1 hour.
	Backdate time.Duration
	// Refresh is how long before expiry a signature is re-made. Default
	// a quarter of Validity.
	Refresh time.Duration
	// Jitter is the most by which expiry is brought forward, chosen per
	// record set from its owner and type (deterministic). Default 1 day.
	Jitter time.Duration
}

// DefaultTiming is Timing's defaults.
var DefaultTiming = Timing{Validity: 14 * 24 * time.Hour, Backdate: time.Hour, Refresh: 14 * 24 * time.Hour / 4, Jitter: 24 * time.Hour}

// Norm returns t with zero fields set to their defaults.
func (t Timing) Norm() Timing {
	if t.Validity <= 0 {
		t.Validity = DefaultTiming.Validity
	}
	if t.Backdate <= 0 {
		t.Backdate = DefaultTiming.Backdate
	}
	if t.Refresh <= 0 || t.Refresh >= t.Validity {
		t.Refresh = t.Validity / 4
	}
	if t.Jitter < 0 || t.Jitter >= t.Validity-t.Refresh {
		t.Jitter = 0
	} else if t.Jitter == 0 {
		t.Jitter = min(DefaultTiming.Jitter, (t.Validity-t.Refresh)/2)
	}
	return t
}

// Window returns the inception and expiration of a signature over the
// RRset (owner, typ) made at now, and the time from which it should be
// re-made. Inception is aligned to the hour so that every node signing
// the same RRset within an hour makes the same signature.
func (t Timing) Window(now time.Time, owner string, typ uint16) (inception, expiration uint32, refreshAt time.Time) {
	t = t.Norm()
	start := now.Truncate(time.Hour).Add(-t.Backdate)
	end := start.Add(t.Validity)
	if t.Jitter > 0 {
		h := fnv.New64a()
		h.Write([]byte(strings.ToLower(owner)))
		h.Write([]byte{byte(typ >> 8), byte(typ)})
		end = end.Add(-time.Duration(h.Sum64() % uint64(t.Jitter/time.Second) * uint64(time.Second)))
	}
	return uint32(start.Unix()), uint32(end.Unix()), end.Add(-t.Refresh)
}

// ErrEmptyRRSet is returned when asked to sign nothing.
var ErrEmptyRRSet = errors.New("dnssec: empty RRset")

// Sign returns the RRSIG of rrset (one owner, type and class) made with k
// for the zone signer (the key's owner) over [inception, expiration]. The
// signature is over the canonical form of RFC 4034 §6.2: lower-cased owner
// and RDATA names, records sorted, the original TTL. The RRSIG's owner is
// the RRset's owner as given, lower-cased.
func (k *Key) Sign(rrset []dns.RR, inception, expiration uint32) (*dns.RRSIG, error) {
	if len(rrset) == 0 {
		return nil, ErrEmptyRRSet
	}
	h := rrset[0].Header()
	sig := &dns.RRSIG{
		Hdr:        dns.RR_Header{Name: strings.ToLower(h.Name), Rrtype: dns.TypeRRSIG, Class: dns.ClassINET, Ttl: h.Ttl},
		Algorithm:  k.DNSKEY.Algorithm,
		SignerName: k.DNSKEY.Hdr.Name,
		KeyTag:     k.KeyTag(),
		Inception:  inception,
		Expiration: expiration,
	}
	if err := sig.Sign(k.signer, rrset); err != nil {
		return nil, err
	}
	// miekg copies the owner as given; canonical answers carry it
	// lower-cased whatever case the query used (pdns#5546).
	sig.Hdr.Name = strings.ToLower(h.Name)
	return sig, nil
}
