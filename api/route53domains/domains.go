package route53domains

import (
	"context"
	"fmt"
	"regexp"
	"slices"
	"strings"

	"github.com/waymark-dns/waymark/registrar"
	"github.com/waymark-dns/waymark/registrar/registry"
)

// Registrar is what the operations need of the registrar service, exactly
// the methods they call; *registrar.Service has them.
type Registrar interface {
	Availability(ctx context.Context, name string) (registry.Check, error)
	Transferability(ctx context.Context, tenantID, name string) (registrar.Transferability, error)
	Suggestions(ctx context.Context, name string, count int, onlyAvailable bool) ([]registrar.Suggestion, error)
	Prices(ctx context.Context, tld string) ([]registry.TLD, error)

	Register(ctx context.Context, tenantID string, in registrar.RegisterInput) (registrar.Operation, error)
	Renew(ctx context.Context, tenantID, name string, years, currentExpiryYear int) (registrar.Operation, error)
	Delete(ctx context.Context, tenantID, name, ref string) (registrar.Operation, error)
	GetDomain(ctx context.Context, tenantID, name string) (registrar.Domain, error)
	ListDomains(ctx context.Context, tenantID string, in registrar.ListDomainsInput) (registrar.DomainPage, error)

	Operation(ctx context.Context, tenantID, id string) (registrar.Operation, error)
	ListOperationsPage(ctx context.Context, tenantID string, in registrar.ListOperationsInput) (registrar.OperationPage, error)

	UpdateNameservers(ctx context.Context, tenantID, name string, nameservers []registrar.Nameserver, ref string) (registrar.Operation, error)
	UpdateDomain(ctx context.Context, tenantID, name string, in registrar.UpdateDomainInput) (registrar.Domain, *registrar.Operation, error)
	AuthCode(ctx context.Context, tenantID, name string) (string, error)
	AddDS(ctx context.Context, tenantID, name string, in []registrar.DSInput, ref string) (registrar.Operation, []registrar.DSRecord, error)
	RemoveDS(ctx context.Context, tenantID, name, id, ref string) (registrar.Operation, error)
	ContactReachability(ctx context.Context, tenantID, name string) (registrar.Reachability, error)
	ResendVerification(ctx context.Context, tenantID, name string) (registrar.Reachability, error)

	TransferIn(ctx context.Context, tenantID string, in registrar.TransferInInput) (registrar.Operation, error)
	TransferToTenant(ctx context.Context, tenantID, name, toTenant, ref string) (registrar.TransferOffer, error)
	AcceptTransfer(ctx context.Context, tenantID, name, password, ref string) (registrar.Operation, error)
	RejectTransfer(ctx context.Context, tenantID, name, ref string) (registrar.Operation, error)
	CancelTransfer(ctx context.Context, tenantID, name, ref string) (registrar.Operation, error)
}

var _ Registrar = (*registrar.Service)(nil)

// maxDomainName is the model's limit on DomainName.
const maxDomainName = 255

func domainName(name string) (string, error) {
	switch {
	case name == "":
		return "", errInvalidInput("DomainName is required.")
	case len(name) > maxDomainName:
		return "", errInvalidInput(fmt.Sprintf("DomainName must be at most %d characters.", maxDomainName))
	}
	return name, nil
}

func checkDomainAvailability(h *Handler, c *call) (any, error) {
	var in checkDomainAvailabilityInput
	if err := decode(c.body, &in); err != nil {
		return nil, err
	}
	name, err := domainName(in.DomainName)
	if err != nil {
		return nil, err
	}
	chk, err := h.reg.Availability(c.ctx, name)
	if err != nil {
		return nil, err
	}
	return checkDomainAvailabilityOutput{Availability: chk.Availability}, nil
}

// Contact roles, the keys of registrar.RegisterInput.Contacts.
const (
	roleRegistrant = "registrant"
	roleAdmin      = "admin"
	roleTech       = "tech"
	roleBilling    = "billing"
)

// registration is what RegisterDomain and TransferDomain share, checked.
type registration struct {
	name      string
	years     int
	autoRenew bool
	privacy   bool
	contacts  map[string]registry.ContactInfo
}

func (in registerDomainInput) check() (registration, error) {
	name, err := domainName(in.DomainName)
	if err != nil {
		return registration{}, err
	}
	r := registration{name: name, years: 1, autoRenew: in.AutoRenew == nil || *in.AutoRenew}
	if in.DurationInYears != nil {
		r.years = *in.DurationInYears
		if r.years < 1 || r.years > registry.MaxYears {
			return registration{}, errInvalidInput(fmt.Sprintf("DurationInYears must be 1 to %d.", registry.MaxYears))
		}
	}
	if r.contacts, err = contactsOf(in.RegistrantContact, in.AdminContact, in.TechContact, in.BillingContact, true); err != nil {
		return registration{}, err
	}
	r.privacy, err = onePrivacy(in.PrivacyProtectRegistrantContact, in.PrivacyProtectAdminContact,
		in.PrivacyProtectTechContact, in.PrivacyProtectBillingContact)
	return r, err
}

func registerDomain(h *Handler, c *call) (any, error) {
	var in registerDomainInput
	if err := decode(c.body, &in); err != nil {
		return nil, err
	}
	r, err := in.check()
	if err != nil {
		return nil, err
	}
	op, err := h.reg.Register(c.ctx, c.tenant, registrar.RegisterInput{
		Name: r.name, Years: r.years,
		// As Route 53 Domains does, a registration gets a hosted zone of
		// the same name and is delegated to it; here in the same
		// transaction, so there is never a second zone.
		HostedZone: "create",
		AutoRenew:  r.autoRenew,
		Privacy:    r.privacy,
		Contacts:   r.contacts,
	})
	if err != nil {
		return nil, err
	}
	return operationIDOutput{OperationId: op.ID}, nil
}

// contactsOf converts the four contacts of a request to the registrar's
// map by role; with required, the registrant, admin and tech contacts
// must be there (RegisterDomain, TransferDomain).
func contactsOf(registrant, admin, tech, billing *contactDetail, required bool) (map[string]registry.ContactInfo, error) {
	contacts := map[string]registry.ContactInfo{}
	for _, rc := range []struct {
		role, member string
		c            *contactDetail
		required     bool
	}{
		{roleRegistrant, "RegistrantContact", registrant, required},
		{roleAdmin, "AdminContact", admin, required},
		{roleTech, "TechContact", tech, required},
		{roleBilling, "BillingContact", billing, false},
	} {
		if rc.c == nil {
			if rc.required {
				return nil, errInvalidInput(rc.member + " is required.")
			}
			continue
		}
		info, err := contactInfo(rc.member, *rc.c)
		if err != nil {
			return nil, err
		}
		contacts[rc.role] = info
	}
	return contacts, nil
}

// onePrivacy folds Route 53 Domains' four privacy flags into the
// registrar's one. Each defaults to true; Route 53 Domains requires them
// to agree, and so does this.
func onePrivacy(flags ...*bool) (bool, error) {
	var set []bool
	for _, f := range flags {
		if f != nil {
			set = append(set, *f)
		}
	}
	if len(set) == 0 {
		return true, nil
	}
	for _, v := range set[1:] {
		if v != set[0] {
			return false, errInvalidInput("The privacy protection of the registrant, admin, tech and billing contacts must be the same.")
		}
	}
	return set[0], nil
}

// The model's contact rules the API checks itself: they are about the
// shape of Route 53 Domains' fields, which the registrar does not see.
var (
	contactTypes = []string{"PERSON", "COMPANY", "ASSOCIATION", "PUBLIC_BODY", "RESELLER"}
	phoneNumber  = regexp.MustCompile(`^\+[0-9]{1,3}\.[0-9]{1,26}$`)
)

// maxContactField is the model's limit on the contact's string members.
const maxContactField = 255

// contactInfo converts a ContactDetail to the registrar's RFC 5733
// fields: the name is FirstName and LastName, the street the two address
// lines. ExtraParams are accepted and not kept (no TLD here needs them).
func contactInfo(member string, c contactDetail) (registry.ContactInfo, error) {
	bad := func(format string, a ...any) (registry.ContactInfo, error) {
		return registry.ContactInfo{}, errInvalidInput(member + ": " + fmt.Sprintf(format, a...))
	}
	for field, v := range map[string]string{
		"FirstName": c.FirstName, "LastName": c.LastName, "OrganizationName": c.OrganizationName,
		"AddressLine1": c.AddressLine1, "AddressLine2": c.AddressLine2, "City": c.City, "State": c.State,
		"ZipCode": c.ZipCode, "Email": c.Email, "PhoneNumber": c.PhoneNumber, "Fax": c.Fax,
	} {
		if len(v) > maxContactField {
			return bad("%s must be at most %d characters.", field, maxContactField)
		}
	}
	if c.ContactType != "" && !slices.Contains(contactTypes, c.ContactType) {
		return bad("ContactType must be one of %s.", strings.Join(contactTypes, ", "))
	}
	if c.CountryCode != "" && !isCountryCode(c.CountryCode) {
		return bad("CountryCode must be a two-letter ISO 3166 code.")
	}
	if c.PhoneNumber != "" && !phoneNumber.MatchString(c.PhoneNumber) {
		return bad("PhoneNumber must be in the format +[country dialing code].[number], for example +1.1234567890.")
	}
	if c.Fax != "" && !phoneNumber.MatchString(c.Fax) {
		return bad("Fax must be in the format +[country dialing code].[number].")
	}
	if c.Email != "" && !strings.Contains(c.Email, "@") {
		return bad("Email must be an email address.")
	}
	info := registry.ContactInfo{
		Name:         strings.TrimSpace(c.FirstName + " " + c.LastName),
		Organization: c.OrganizationName,
		City:         c.City,
		State:        c.State,
		PostalCode:   c.ZipCode,
		CountryCode:  c.CountryCode,
		Voice:        c.PhoneNumber,
		Fax:          c.Fax,
		Email:        c.Email,
	}
	for _, l := range []string{c.AddressLine1, c.AddressLine2} {
		if l != "" {
			info.Street = append(info.Street, l)
		}
	}
	return info, nil
}

func isCountryCode(s string) bool {
	return len(s) == 2 && 'A' <= s[0] && s[0] <= 'Z' && 'A' <= s[1] && s[1] <= 'Z'
}

func getOperationDetail(h *Handler, c *call) (any, error) {
	var in getOperationDetailInput
	if err := decode(c.body, &in); err != nil {
		return nil, err
	}
	if in.OperationId == "" || len(in.OperationId) > 255 {
		return nil, errInvalidInput("OperationId is required and at most 255 characters.")
	}
	op, err := h.reg.Operation(c.ctx, c.tenant, in.OperationId)
	if err != nil {
		return nil, err
	}
	return getOperationDetailOutput{
		OperationId: op.ID, Status: op.Status, Message: op.Message, DomainName: displayName(op.Domain),
		Type: op.Type, SubmittedDate: epoch{op.SubmittedAt}, LastUpdatedDate: epoch{op.UpdatedAt}, StatusFlag: op.Flag,
	}, nil
}

// displayName is a domain name as Route 53 Domains gives it: without the
// trailing dot.
func displayName(name string) string { return strings.TrimSuffix(name, ".") }

// Route 53 Domains' operation types and statuses (ROUTE53.md §1.2). The
// registrar's operations carry exactly these names.
var (
	operationTypes = []string{"REGISTER_DOMAIN", "DELETE_DOMAIN", "TRANSFER_IN_DOMAIN", "UPDATE_DOMAIN_CONTACT",
		"UPDATE_NAMESERVER", "CHANGE_PRIVACY_PROTECTION", "DOMAIN_LOCK", "ENABLE_AUTORENEW", "DISABLE_AUTORENEW",
		"ADD_DNSSEC", "REMOVE_DNSSEC", "EXPIRE_DOMAIN", "TRANSFER_OUT_DOMAIN", "CHANGE_DOMAIN_OWNER", "RENEW_DOMAIN",
		"PUSH_DOMAIN", "INTERNAL_TRANSFER_OUT_DOMAIN", "INTERNAL_TRANSFER_IN_DOMAIN", "RELEASE_TO_GANDI",
		"TRANSFER_ON_RENEW", "RESTORE_DOMAIN"}
	operationStatuses = []string{registrar.StatusSubmitted, registrar.StatusInProgress, registrar.StatusError,
		registrar.StatusSuccessful, registrar.StatusFailed}
)

// The model's paging bounds.
const (
	defaultMaxItems = 20
	maxMaxItems     = 100
)

// maxItems reads MaxItems: default 20, at most limit.
func maxItems(p *int, limit int) (int, error) {
	if p == nil {
		return defaultMaxItems, nil
	}
	if *p < 1 || *p > limit {
		return 0, errInvalidInput(fmt.Sprintf("MaxItems must be 1 to %d.", limit))
	}
	return *p, nil
}

func listOperations(h *Handler, c *call) (any, error) {
	var in listOperationsInput
	if err := decode(c.body, &in); err != nil {
		return nil, err
	}
	max, err := maxItems(in.MaxItems, maxMaxItems)
	if err != nil {
		return nil, err
	}
	for _, s := range in.Status {
		if !slices.Contains(operationStatuses, s) {
			return nil, errInvalidInput("Status must be one of " + strings.Join(operationStatuses, ", ") + ".")
		}
	}
	for _, t := range in.Type {
		if !slices.Contains(operationTypes, t) {
			return nil, errInvalidInput("Type must be one of the OperationType values.")
		}
	}
	if in.SortBy != "" && in.SortBy != "SubmittedDate" {
		return nil, errInvalidInput("SortBy must be SubmittedDate.")
	}
	if in.SortOrder != "" && in.SortOrder != "ASC" && in.SortOrder != "DESC" {
		return nil, errInvalidInput("SortOrder must be ASC or DESC.")
	}
	if len(in.Marker) > 1024 {
		return nil, errInvalidInput("Marker is not one this service returned.")
	}
	q := registrar.ListOperationsInput{Statuses: in.Status, Types: in.Type, Ascending: in.SortOrder == "ASC",
		Marker: in.Marker, MaxItems: max}
	if in.SubmittedSince != nil {
		q.SubmittedSince = in.SubmittedSince.Time
	}
	page, err := h.reg.ListOperationsPage(c.ctx, c.tenant, q)
	if err != nil {
		return nil, err
	}
	out := listOperationsOutput{Operations: []operationSummary{}, NextPageMarker: page.NextMarker}
	for _, op := range page.Operations {
		out.Operations = append(out.Operations, operationSummary{
			OperationId: op.ID, Status: op.Status, Type: op.Type, SubmittedDate: epoch{op.SubmittedAt},
			DomainName: displayName(op.Domain), Message: op.Message, StatusFlag: op.Flag, LastUpdatedDate: epoch{op.UpdatedAt},
		})
	}
	return out, nil
}

func renewDomain(h *Handler, c *call) (any, error) {
	var in renewDomainInput
	if err := decode(c.body, &in); err != nil {
		return nil, err
	}
	name, err := domainName(in.DomainName)
	if err != nil {
		return nil, err
	}
	if in.CurrentExpiryYear == nil {
		return nil, errInvalidInput("CurrentExpiryYear is required.")
	}
	years := 1
	if in.DurationInYears != nil {
		years = *in.DurationInYears
		if years < 1 || years > registry.MaxYears {
			return nil, errInvalidInput(fmt.Sprintf("DurationInYears must be 1 to %d.", registry.MaxYears))
		}
	}
	op, err := h.reg.Renew(c.ctx, c.tenant, name, years, *in.CurrentExpiryYear)
	if err != nil {
		return nil, err
	}
	return operationIDOutput{OperationId: op.ID}, nil
}
