package controlplane

import (
	"context"
	"encoding/json"
	"fmt"
	"net/netip"
	"time"

	"github.com/waymark-dns/waymark/zonecfg"
)

// Secondary zones (docs/transfers.md): a hosted zone whose records are
// transferred from primaries outside Waymark instead of being changed
// through the API. The configuration is given once, at creation, and
// never changes afterwards, so the refusals of ChangeRRSets, ImportZone
// and EnableDNSSEC can read it outside their transactions.

// maxSecondaryPrimaries bounds one zone's primaries.
const maxSecondaryPrimaries = 10

// SecondaryConfig makes a new zone a secondary of Primaries.
type SecondaryConfig struct {
	Primaries []SecondaryPrimary `json:"primaries"`
}

// SecondaryPrimary is one primary: an address with port, and the name of
// one of the tenant's TSIG keys that signs the queries and transfers.
type SecondaryPrimary struct {
	Address string `json:"address"`
	TSIGKey string `json:"tsig_key"`
}

// SecondaryStatus is what the last transfer of a secondary zone did.
type SecondaryStatus struct {
	// Serial is the primary's SOA serial last applied (0: none yet).
	Serial    uint32
	SuccessAt *time.Time
	// Error is the last failure, empty after a success (or what of the
	// primary's content is not served).
	Error string
	// NotServed: the nameservers answer SERVFAIL for the zone, because
	// it was never transferred or is past its SOA expire (Error says
	// which).
	NotServed bool
	// ChangeID is the zone's latest change: the one that publishes the
	// last transfer (or the zone's creation), whose INSYNC says when every
	// nameserver serves it. Nil before the first.
	ChangeID *string
}

// normSecondary validates and canonicalises a secondary configuration:
// 1 to maxSecondaryPrimaries primaries, each an IP address with port
// (the port defaults to 53) and a TSIG key name.
func normSecondary(in *SecondaryConfig) (*SecondaryConfig, error) {
	if in == nil {
		return nil, nil
	}
	bad := func(f string, a ...any) (*SecondaryConfig, error) {
		return nil, Errorf(CodeInvalidInput, f, a...)
	}
	if len(in.Primaries) == 0 || len(in.Primaries) > maxSecondaryPrimaries {
		return bad("secondary.primaries must list 1 to %d primaries.", maxSecondaryPrimaries)
	}
	out := &SecondaryConfig{}
	for i, p := range in.Primaries {
		ap, err := netip.ParseAddrPort(p.Address)
		if err != nil {
			a, aerr := netip.ParseAddr(p.Address)
			if aerr != nil {
				return bad("secondary.primaries[%d]: address must be an IP address with an optional port, such as 192.0.2.1:53 or [2001:db8::1]:53.", i)
			}
			ap = netip.AddrPortFrom(a, 53)
		}
		if ap.Addr().Zone() != "" || ap.Port() == 0 || ap.Addr().IsUnspecified() {
			return bad("secondary.primaries[%d]: address must be a unicast IP address and a port other than 0.", i)
		}
		k, err := zonecfg.CanonicalName(p.TSIGKey)
		if p.TSIGKey == "" || err != nil {
			return bad("secondary.primaries[%d]: tsig_key must name one of your TSIG keys (transfers from primaries are always signed).", i)
		}
		out.Primaries = append(out.Primaries, SecondaryPrimary{
			Address: netip.AddrPortFrom(ap.Addr().Unmap(), ap.Port()).String(), TSIGKey: k})
	}
	return out, nil
}

// secondaryKeys are the distinct key names of c.
func secondaryKeys(c *SecondaryConfig) []string {
	m := map[string]bool{}
	for _, p := range c.Primaries {
		m[p.TSIGKey] = true
	}
	return sortedKeys(m)
}

// scanSecondary decodes the secondary column.
func scanSecondary(raw []byte) (*SecondaryConfig, error) {
	if raw == nil {
		return nil, nil
	}
	var c SecondaryConfig
	if err := json.Unmarshal(raw, &c); err != nil {
		return nil, fmt.Errorf("read zone: secondary: %w", err)
	}
	return &c, nil
}

// errSecondary refuses a change that a secondary zone takes only from its
// primaries.
func errSecondary(id, what string) error {
	return Errorf(CodeHostedZoneIsSecondary,
		"The hosted zone %s is a secondary zone: its records come from its primaries, so %s is refused (docs/transfers.md).", id, what)
}

// refuseSecondary returns errSecondary when zoneID names a secondary zone
// of the tenant. Unknown zones pass: the caller reports them itself.
func (s *Service) refuseSecondary(ctx context.Context, tenantID, zoneID, what string) error {
	id, ok := cleanID(zoneID)
	if !ok {
		return nil
	}
	var secondary bool
	err := s.pool.QueryRow(ctx, `SELECT secondary IS NOT NULL FROM hosted_zone WHERE id = $1 AND tenant_id = $2`,
		id, tenantID).Scan(&secondary)
	if err != nil || !secondary {
		return nil
	}
	return errSecondary(id, what)
}
