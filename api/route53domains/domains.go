package route53domains

import (
	"context"
	"encoding/base64"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/waymark-dns/waymark/registrar"
	"github.com/waymark-dns/waymark/registrar/registry"
)

// Registrar is what the operations need of the registrar service, exactly
// the methods they call; *registrar.Service has them.
type Registrar interface {
	Availability(ctx context.Context, name string) (registry.Check, error)
	Register(ctx context.Context, tenantID string, in registrar.RegisterInput) (registrar.Operation, error)
	Operation(ctx context.Context, tenantID, id string) (registrar.Operation, error)
	ListOperations(ctx context.Context, tenantID string, max int) ([]registrar.Operation, error)
	Renew(ctx context.Context, tenantID, name string, years, currentExpiryYear int) (registrar.Operation, error)
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

func registerDomain(h *Handler, c *call) (any, error) {
	var in registerDomainInput
	if err := decode(c.body, &in); err != nil {
		return nil, err
	}
	name, err := domainName(in.DomainName)
	if err != nil {
		return nil, err
	}
	years := 1
	if in.DurationInYears != nil {
		years = *in.DurationInYears
		if years < 1 || years > registry.MaxYears {
			return nil, errInvalidInput(fmt.Sprintf("DurationInYears must be 1 to %d.", registry.MaxYears))
		}
	}
	contacts := map[string]registry.ContactInfo{}
	for _, rc := range []struct {
		role, member string
		c            *contactDetail
		required     bool
	}{
		{roleRegistrant, "RegistrantContact", in.RegistrantContact, true},
		{roleAdmin, "AdminContact", in.AdminContact, true},
		{roleTech, "TechContact", in.TechContact, true},
		{roleBilling, "BillingContact", in.BillingContact, false},
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
	privacy, err := onePrivacy(in.PrivacyProtectRegistrantContact, in.PrivacyProtectAdminContact,
		in.PrivacyProtectTechContact, in.PrivacyProtectBillingContact)
	if err != nil {
		return nil, err
	}
	op, err := h.reg.Register(c.ctx, c.tenant, registrar.RegisterInput{
		Name: name, Years: years,
		// As Route 53 Domains does, a registration gets a hosted zone of
		// the same name and is delegated to it; here in the same
		// transaction, so there is never a second zone.
		HostedZone: "create",
		AutoRenew:  in.AutoRenew == nil || *in.AutoRenew,
		Privacy:    privacy,
		Contacts:   contacts,
	})
	if err != nil {
		return nil, err
	}
	return operationIDOutput{OperationId: op.ID}, nil
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

// Paging of ListOperations.
const (
	defaultMaxItems = 20
	maxMaxItems     = 100
	// listWindow is how many of the tenant's newest operations
	// ListOperations filters and pages through: the registrar's listing
	// returns at most that many.
	listWindow = 100
)

func listOperations(h *Handler, c *call) (any, error) {
	var in listOperationsInput
	if err := decode(c.body, &in); err != nil {
		return nil, err
	}
	max := defaultMaxItems
	if in.MaxItems != nil {
		max = *in.MaxItems
		if max < 1 || max > maxMaxItems {
			return nil, errInvalidInput(fmt.Sprintf("MaxItems must be 1 to %d.", maxMaxItems))
		}
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
	desc := true // newest first unless asked otherwise
	switch in.SortOrder {
	case "", "DESC":
	case "ASC":
		desc = false
	default:
		return nil, errInvalidInput("SortOrder must be ASC or DESC.")
	}
	var after *cursor
	if in.Marker != "" {
		cur, err := parseMarker(in.Marker)
		if err != nil {
			return nil, err
		}
		after = &cur
	}
	ops, err := h.reg.ListOperations(c.ctx, c.tenant, listWindow)
	if err != nil {
		return nil, err
	}
	// The registrar lists newest first (submitted_at DESC, id); ascending
	// is the same list reversed.
	if !desc {
		slices.Reverse(ops)
	}
	out := listOperationsOutput{Operations: []operationSummary{}}
	for _, op := range ops {
		if after != nil && !after.before(op, desc) {
			continue
		}
		if in.SubmittedSince != nil && op.SubmittedAt.Before(in.SubmittedSince.Time) {
			continue
		}
		if len(in.Status) > 0 && !slices.Contains(in.Status, op.Status) ||
			len(in.Type) > 0 && !slices.Contains(in.Type, op.Type) {
			continue
		}
		if len(out.Operations) == max {
			last := out.Operations[max-1]
			out.NextPageMarker = cursor{at: last.SubmittedDate.Time, id: last.OperationId}.String()
			break
		}
		out.Operations = append(out.Operations, operationSummary{
			OperationId: op.ID, Status: op.Status, Type: op.Type, SubmittedDate: epoch{op.SubmittedAt},
			DomainName: displayName(op.Domain), Message: op.Message, StatusFlag: op.Flag, LastUpdatedDate: epoch{op.UpdatedAt},
		})
	}
	return out, nil
}

// cursor is a ListOperations position: the last operation of a page.
type cursor struct {
	at time.Time
	id string
}

// String encodes the cursor as an opaque marker.
func (c cursor) String() string {
	return base64.RawURLEncoding.EncodeToString([]byte(strconv.FormatInt(c.at.UnixNano(), 10) + " " + c.id))
}

func parseMarker(m string) (cursor, error) {
	bad := errInvalidInput("Marker is not one this service returned.")
	if len(m) > 512 {
		return cursor{}, bad
	}
	b, err := base64.RawURLEncoding.DecodeString(m)
	if err != nil {
		return cursor{}, bad
	}
	ns, id, ok := strings.Cut(string(b), " ")
	n, err := strconv.ParseInt(ns, 10, 64)
	if !ok || err != nil || id == "" {
		return cursor{}, bad
	}
	return cursor{at: time.Unix(0, n), id: id}, nil
}

// before reports whether op comes after the cursor in the listing's
// order (submitted time, then id, as the registrar sorts).
func (c cursor) before(op registrar.Operation, desc bool) bool {
	t := op.SubmittedAt.Truncate(time.Microsecond)
	at := c.at.Truncate(time.Microsecond)
	if desc {
		return t.Before(at) || t.Equal(at) && op.ID > c.id
	}
	return t.After(at) || t.Equal(at) && op.ID < c.id
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
