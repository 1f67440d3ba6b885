package registrar

import (
	"context"
	"errors"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/waymark-dns/waymark/registrar/registry"
	"github.com/waymark-dns/waymark/zonecfg"
)

// Transferability values, Route 53 Domains'.
const (
	Transferable            = "TRANSFERABLE"
	Untransferable          = "UNTRANSFERABLE"
	DomainInOwnAccount      = "DOMAIN_IN_OWN_ACCOUNT"
	DomainInAnotherAccount  = "DOMAIN_IN_ANOTHER_ACCOUNT"
	TransferabilityDontKnow = "DONT_KNOW"
	PremiumDomain           = "PREMIUM_DOMAIN"
)

// Transferability says whether a name can be transferred to the tenant.
type Transferability struct {
	Name          string
	Transferable  string
	Message       string
	ExpiresAt     *time.Time
	TransferPrice int64
	Currency      string
}

// Transferability checks whether a domain can be transferred into the
// tenant's account: it must be registered, by another registrar (a
// domain of another Waymark tenant moves between accounts instead), and
// neither locked nor in its post-registration lock period.
func (s *Service) Transferability(ctx context.Context, tenantID, name string) (Transferability, error) {
	c, err := s.Availability(ctx, name)
	if err != nil {
		return Transferability{}, err
	}
	t := Transferability{Name: c.Name, Transferable: Untransferable}
	switch c.Availability {
	case registry.InvalidNameForTLD:
		t.Message = c.Reason
		return t, nil
	case registry.Available, registry.Reserved:
		t.Message = c.Name + " is not registered"
		return t, nil
	}
	if _, _, external, err := s.externalFor(ctx, c.Name); err != nil {
		return Transferability{}, err
	} else if external {
		// Registered at an external registry: whether a transfer is
		// allowed (lock, auth code) only that registry says, when asked
		// with the auth code (external_transfer.go).
		var owner string
		if err := s.db.QueryRow(ctx, `SELECT tenant_id FROM registrar_domain WHERE name = $1`, c.Name).Scan(&owner); err == nil {
			t.Transferable, t.Message = DomainInAnotherAccount, c.Name+" is registered through Waymark by another account"
			if owner == tenantID {
				t.Transferable, t.Message = DomainInOwnAccount, c.Name+" is already in this account"
			}
			return t, nil
		}
		t.Transferable = Transferable
		t.Message = c.Name + " is registered at an external registry: its registry decides, with the auth code, when asked"
		if x, _, _, err := s.externalFor(ctx, c.Name); err == nil {
			t.TransferPrice, t.Currency = x.Prices.Transfer, x.Prices.Currency
		}
		return t, nil
	}
	var owner string
	err = s.db.QueryRow(ctx, `SELECT tenant_id FROM registrar_domain WHERE name = $1`, c.Name).Scan(&owner)
	switch {
	case err == nil && owner == tenantID:
		t.Transferable, t.Message = DomainInOwnAccount, c.Name+" is already in this account"
		return t, nil
	case err == nil:
		t.Transferable, t.Message = DomainInAnotherAccount, c.Name+" is registered through Waymark by another account"
		return t, nil
	case !errors.Is(err, pgx.ErrNoRows):
		return Transferability{}, err
	}
	d, err := s.reg.Domain(ctx, c.Name)
	if err != nil {
		return Transferability{}, fromRegistry(err)
	}
	tld, err := s.reg.TLD(ctx, d.TLD)
	if err != nil {
		return Transferability{}, fromRegistry(err)
	}
	t.ExpiresAt, t.TransferPrice, t.Currency = &d.ExpiresAt, tld.Prices.Transfer, tld.Prices.Currency
	now := s.reg.Now()
	switch {
	case slices.Contains(d.Statuses, StatusTransferProhibited) || slices.Contains(d.Statuses, "serverTransferProhibited"):
		t.Message = c.Name + " is locked against transfer by its registrar"
	case d.TransferLockedUntil != nil && now.Before(*d.TransferLockedUntil):
		t.Message = c.Name + " cannot be transferred before " + d.TransferLockedUntil.Format(time.RFC3339) + " (the lock after registration or transfer)"
	case d.RGP == registry.RGPRedemption || d.RGP == registry.RGPPending:
		t.Message = c.Name + " is deleted (" + d.RGP + ")"
	case c.Premium:
		t.Transferable, t.Message = PremiumDomain, c.Name+" is a premium name"
	default:
		t.Transferable = Transferable
	}
	return t, nil
}

// Suggestion is a name offered instead of, or beside, the one asked for.
type Suggestion = registry.Check

// MaxSuggestions bounds Suggestions' count.
const MaxSuggestions = 50

// suggestionAffixes make the variants of a label, in the order offered.
var suggestionAffixes = []struct{ prefix, suffix string }{
	{"", "app"}, {"get", ""}, {"", "hq"}, {"my", ""}, {"", "-online"}, {"try", ""}, {"", "labs"}, {"the", ""},
	{"", "io"}, {"", "now"}, {"go", ""}, {"", "hub"}, {"", "-dev"}, {"", "web"}, {"use", ""}, {"", "online"},
}

// Suggestions offers up to count names like name: its label in the
// registry's other TLDs, then variants of it in name's TLD, each with its
// availability and price; onlyAvailable keeps the AVAILABLE ones.
func (s *Service) Suggestions(ctx context.Context, name string, count int, onlyAvailable bool) ([]Suggestion, error) {
	if count < 1 || count > MaxSuggestions {
		return nil, errorf(CodeInvalidInput, "count must be 1 to %d", MaxSuggestions)
	}
	c, err := s.Availability(ctx, name)
	if err != nil {
		return nil, err
	}
	if c.Availability == registry.InvalidNameForTLD {
		return nil, errorf(CodeInvalidInput, "%s", c.Reason)
	}
	label, tld, _ := strings.Cut(c.Name, ".")
	tlds, err := s.reg.TLDs(ctx)
	if err != nil {
		return nil, err
	}
	var candidates []string
	for _, t := range tlds {
		if t.Name != tld {
			candidates = append(candidates, label+"."+t.Name)
		}
	}
	for _, a := range suggestionAffixes {
		if l := a.prefix + label + a.suffix; len(l) <= 63 {
			candidates = append(candidates, l+"."+tld)
		}
	}
	out := []Suggestion{}
	for _, n := range candidates {
		if len(out) == count {
			break
		}
		sc, err := s.Availability(ctx, n)
		if err != nil {
			continue // a TLD that went away in between
		}
		if onlyAvailable && sc.Availability != registry.Available {
			continue
		}
		out = append(out, sc)
	}
	return out, nil
}

// Prices returns the prices of one TLD, or of every TLD when tld is "".
func (s *Service) Prices(ctx context.Context, tld string) ([]registry.TLD, error) {
	if tld == "" {
		return s.reg.TLDs(ctx)
	}
	t, err := s.reg.TLD(ctx, tld)
	if err != nil {
		return nil, fromRegistry(err)
	}
	return []registry.TLD{t}, nil
}

// The operator's configuration of the built-in registry.

// TLDs lists the registry's TLDs with their prices and policy.
func (s *Service) TLDs(ctx context.Context) ([]registry.TLD, error) { return s.reg.TLDs(ctx) }

// TLD returns one of the registry's TLDs.
func (s *Service) TLD(ctx context.Context, name string) (registry.TLD, error) {
	t, err := s.reg.TLD(ctx, name)
	return t, fromRegistry(err)
}

// ConfigureTLD creates a TLD of the registry, with its zone, or changes
// its prices and policy.
func (s *Service) ConfigureTLD(ctx context.Context, name string, prices registry.Prices, pol registry.Policy) (registry.TLD, error) {
	if tld, err := zonecfg.CanonicalName(name); err == nil {
		var external bool
		if err := s.db.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM registry_external WHERE tld = $1)`, tld).Scan(&external); err != nil {
			return registry.TLD{}, err
		}
		if external {
			return registry.TLD{}, errorf(CodeTLDRulesViolation, "%s is an external registry's TLD (/v1/registry/external/%s); the built-in registry cannot run it too", tld, tld)
		}
	}
	t, err := s.reg.ConfigureTLD(ctx, name, prices, pol)
	return t, fromRegistry(err)
}

// SignTLD signs a TLD's zone with the control plane's DNSSEC support and
// returns the TLD with its DS, the trust anchor of private resolvers.
func (s *Service) SignTLD(ctx context.Context, name string) (registry.TLD, error) {
	t, err := s.reg.SignTLD(ctx, name)
	return t, fromRegistry(err)
}

// NameRules lists a TLD's reserved and premium names.
func (s *Service) NameRules(ctx context.Context, tld string) ([]registry.NameRule, error) {
	r, err := s.reg.NameRules(ctx, tld)
	return r, fromRegistry(err)
}

// SetNameRule reserves a label of a TLD or makes it premium; kind ""
// removes its rule.
func (s *Service) SetNameRule(ctx context.Context, rule registry.NameRule) error {
	return fromRegistry(s.reg.SetNameRule(ctx, rule))
}

// ListOperationsInput filters and pages ListOperationsPage.
type ListOperationsInput struct {
	// Statuses and Types keep operations with one of them.
	Statuses, Types []string
	// Domain keeps one domain's operations.
	Domain string
	// SubmittedSince keeps operations submitted at or after it.
	SubmittedSince time.Time
	// Ascending lists oldest first; the default is newest first.
	Ascending bool
	// Marker is a page's NextMarker; MaxItems 1–100, default 20.
	Marker   string
	MaxItems int
}

// OperationPage is a page of operations.
type OperationPage struct {
	Operations []Operation
	NextMarker string
}

// ListOperationsPage lists the tenant's operations by submission time.
func (s *Service) ListOperationsPage(ctx context.Context, tenantID string, in ListOperationsInput) (OperationPage, error) {
	if in.MaxItems == 0 {
		in.MaxItems = 20
	}
	if in.MaxItems < 1 || in.MaxItems > 100 {
		return OperationPage{}, errorf(CodeInvalidInput, "max_items must be 1 to 100")
	}
	where := []string{"tenant_id = $1"}
	args := []any{tenantID}
	arg := func(v any) string { args = append(args, v); return "$" + strconv.Itoa(len(args)) }
	if len(in.Statuses) > 0 {
		for _, st := range in.Statuses {
			if !slices.Contains([]string{StatusSubmitted, StatusInProgress, StatusSuccessful, StatusError, StatusFailed}, st) {
				return OperationPage{}, errorf(CodeInvalidInput, "status %q: one of SUBMITTED, IN_PROGRESS, SUCCESSFUL, ERROR, FAILED", st)
			}
		}
		where = append(where, "status = ANY("+arg(in.Statuses)+")")
	}
	if len(in.Types) > 0 {
		where = append(where, "type = ANY("+arg(in.Types)+")")
	}
	if in.Domain != "" {
		n, err := zonecfg.CanonicalName(in.Domain)
		if err != nil {
			return OperationPage{}, errorf(CodeInvalidInput, "domain %q is not a domain name", in.Domain)
		}
		where = append(where, "domain = "+arg(n))
	}
	if !in.SubmittedSince.IsZero() {
		where = append(where, "submitted_at >= "+arg(in.SubmittedSince))
	}
	cmp, dir := "<", "DESC"
	if in.Ascending {
		cmp, dir = ">", "ASC"
	}
	if in.Marker != "" {
		t, id, err := decodeMarker(in.Marker, true)
		if err != nil {
			return OperationPage{}, err
		}
		where = append(where, "(submitted_at, id) "+cmp+" ("+arg(t)+", "+arg(id)+")")
	}
	limit := arg(in.MaxItems + 1)
	rows, err := s.db.Query(ctx, `SELECT `+opColumns+` FROM registrar_operation WHERE `+strings.Join(where, " AND ")+
		` ORDER BY submitted_at `+dir+`, id `+dir+` LIMIT `+limit, args...)
	if err != nil {
		return OperationPage{}, err
	}
	ops, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (Operation, error) { return scanOp(row) })
	if err != nil {
		return OperationPage{}, err
	}
	page := OperationPage{Operations: ops}
	if len(ops) > in.MaxItems {
		page.Operations = ops[:in.MaxItems]
		last := page.Operations[in.MaxItems-1]
		page.NextMarker = encodeMarker(last.SubmittedAt, last.ID, true)
	}
	for i := range page.Operations {
		if page.Operations[i], err = s.settle(ctx, page.Operations[i]); err != nil {
			return OperationPage{}, err
		}
	}
	return page, nil
}
