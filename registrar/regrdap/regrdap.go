// Package regrdap is the built-in registry (registrar/registry) as an
// rdap.Source: what rdap.Handler serves about the registry's domains,
// hosts and contacts. It lives apart from both so that registrar/rdap
// knows nothing of PostgreSQL and the registry nothing of RDAP.
package regrdap

import (
	"context"
	"strings"

	"github.com/waymark-dns/waymark/registrar/rdap"
	"github.com/waymark-dns/waymark/registrar/registry"
)

// Source answers RDAP lookups from a registry.
type Source struct {
	// Registry is the built-in registry.
	Registry *registry.Registry
	// Disclose publishes contacts' data. The registry keeps no privacy
	// flag per contact (the registrar's privacy setting is not stored in
	// it), so by default every contact is redacted: a contact's data is
	// never published unless the operator chose to.
	Disclose bool
}

var _ rdap.Source = (*Source)(nil)

// notFound turns the registry's "does not exist" into rdap.ErrNotFound;
// every other error passes through (the handler answers 500).
func notFound(err error) error {
	if registry.IsCode(err, registry.ErrObjectDoesNotExist) {
		return rdap.ErrNotFound
	}
	return err
}

func bare(name string) string { return strings.TrimSuffix(strings.ToLower(name), ".") }

// Domain is a domain with its nameservers, registrar and contacts. DS is
// what the TLD zone publishes: none while the delegation is withdrawn.
func (s *Source) Domain(ctx context.Context, name string) (rdap.Domain, error) {
	d, err := s.Registry.Domain(ctx, name)
	if err != nil {
		return rdap.Domain{}, notFound(err)
	}
	out := rdap.Domain{
		Name:       bare(d.Name),
		Handle:     d.ROID,
		Status:     append([]string(nil), d.Statuses...),
		Registered: d.CreatedAt,
		Changed:    d.UpdatedAt,
		Expires:    d.ExpiresAt,
	}
	if len(out.Status) == 0 {
		// RFC 5731 s2.3: "ok" when no other status is set (RGP
		// statuses are an extension's and do not count).
		out.Status = []string{"ok"}
	}
	if d.RGP != "" {
		out.Status = append(out.Status, d.RGP)
	}
	if d.InDNS() {
		for _, ds := range d.DS {
			out.DS = append(out.DS, rdap.DS{KeyTag: ds.KeyTag, Algorithm: ds.Algorithm, DigestType: ds.DigestType, Digest: ds.Digest})
		}
	}
	for _, ns := range d.Nameservers {
		// A nameserver outside the registry has no host object: it is
		// shown by name alone.
		n, err := s.Nameserver(ctx, bare(ns))
		if err == rdap.ErrNotFound {
			n, err = rdap.Nameserver{Name: bare(ns)}, nil
		}
		if err != nil {
			return rdap.Domain{}, err
		}
		out.Nameservers = append(out.Nameservers, n)
	}
	out.Entities = append(out.Entities, rdap.Entity{Handle: d.RegistrarID, Roles: []string{"registrar"}})
	// One entity per contact, with every role it holds on the domain.
	var order []string
	roles := map[string][]string{}
	for _, c := range []struct{ id, role string }{
		{d.Registrant, "registrant"}, {d.Admin, "administrative"}, {d.Tech, "technical"}, {d.Billing, "billing"},
	} {
		if c.id == "" {
			continue
		}
		if roles[c.id] == nil {
			order = append(order, c.id)
		}
		roles[c.id] = append(roles[c.id], c.role)
	}
	for _, id := range order {
		e, err := s.Entity(ctx, id)
		if err != nil {
			return rdap.Domain{}, err
		}
		e.Roles = roles[id]
		out.Entities = append(out.Entities, e)
	}
	return out, nil
}

// Nameserver is a host object with its addresses.
func (s *Source) Nameserver(ctx context.Context, name string) (rdap.Nameserver, error) {
	h, err := s.Registry.Host(ctx, name)
	if err != nil {
		return rdap.Nameserver{}, notFound(err)
	}
	return rdap.Nameserver{Name: bare(h.Name), Handle: h.ROID, Addrs: h.Addrs}, nil
}

// Entity is a contact, by its id.
func (s *Source) Entity(ctx context.Context, handle string) (rdap.Entity, error) {
	c, err := s.Registry.Contact(ctx, handle)
	if err != nil {
		return rdap.Entity{}, notFound(err)
	}
	i := c.Info
	return rdap.Entity{
		Handle: c.ID, Name: i.Name, Org: i.Organization, Street: i.Street, City: i.City,
		SP: i.State, PC: i.PostalCode, CC: i.CountryCode, Voice: i.Voice, Email: i.Email,
		Private: !s.Disclose,
	}, nil
}
