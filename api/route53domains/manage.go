package route53domains

import (
	"errors"
	"fmt"
	"math"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/waymark-dns/waymark/registrar"
	"github.com/waymark-dns/waymark/registrar/registry"
)

// The operations on registered domains, transfers and the catalog. Each
// decodes its input, calls one registrar method and encodes the result.

// decodeDomain decodes an input whose only member is DomainName.
func decodeDomain(c *call) (string, error) {
	var in domainInput
	if err := decode(c.body, &in); err != nil {
		return "", err
	}
	return domainName(in.DomainName)
}

// opID answers an asynchronous operation's id.
func opID(op registrar.Operation, err error) (any, error) {
	if err != nil {
		return nil, err
	}
	return operationIDOutput{OperationId: op.ID}, nil
}

func checkDomainTransferability(h *Handler, c *call) (any, error) {
	var in checkDomainTransferabilityInput
	if err := decode(c.body, &in); err != nil {
		return nil, err
	}
	name, err := domainName(in.DomainName)
	if err != nil {
		return nil, err
	}
	// AuthCode is not needed to judge transferability here: the registry
	// checks it when the transfer is asked for.
	t, err := h.reg.Transferability(c.ctx, c.tenant, name)
	if err != nil {
		return nil, err
	}
	return checkDomainTransferabilityOutput{Transferability: domainTransferability{Transferable: t.Transferable}, Message: t.Message}, nil
}

func getDomainSuggestions(h *Handler, c *call) (any, error) {
	var in getDomainSuggestionsInput
	if err := decode(c.body, &in); err != nil {
		return nil, err
	}
	name, err := domainName(in.DomainName)
	if err != nil {
		return nil, err
	}
	if in.SuggestionCount == nil || in.OnlyAvailable == nil {
		return nil, errInvalidInput("SuggestionCount and OnlyAvailable are required.")
	}
	list, err := h.reg.Suggestions(c.ctx, name, *in.SuggestionCount, *in.OnlyAvailable)
	if err != nil {
		return nil, err
	}
	out := getDomainSuggestionsOutput{SuggestionsList: []domainSuggestion{}}
	for _, s := range list {
		out.SuggestionsList = append(out.SuggestionsList, domainSuggestion{DomainName: displayName(s.Name), Availability: s.Availability})
	}
	return out, nil
}

// maxPriceItems is the model's bound on ListPrices' MaxItems.
const maxPriceItems = 1000

// price converts minor units to Route 53 Domains' decimal prices: the
// registry's currencies have two decimals (cents).
func price(minor int64, currency string) *priceWithCurrency {
	return &priceWithCurrency{Price: float64(minor) / 100, Currency: currency}
}

func listPrices(h *Handler, c *call) (any, error) {
	var in listPricesInput
	if err := decode(c.body, &in); err != nil {
		return nil, err
	}
	max, err := maxItems(in.MaxItems, maxPriceItems)
	if err != nil {
		return nil, err
	}
	if len(in.Tld) > 255 || len(in.Marker) > 255 {
		return nil, errInvalidInput("Tld and Marker must be at most 255 characters.")
	}
	tld := strings.ToLower(strings.Trim(in.Tld, "."))
	if tld != "" {
		tld += "."
	}
	tlds, err := h.reg.Prices(c.ctx, tld)
	if err != nil {
		return nil, err
	}
	slices.SortFunc(tlds, func(a, b registry.TLD) int { return strings.Compare(a.Name, b.Name) })
	out := listPricesOutput{Prices: []domainPrice{}}
	for _, t := range tlds {
		name := strings.TrimSuffix(t.Name, ".")
		if in.Marker != "" && name <= in.Marker {
			continue
		}
		if len(out.Prices) == max {
			out.NextPageMarker = out.Prices[max-1].Name
			break
		}
		p := t.Prices
		out.Prices = append(out.Prices, domainPrice{
			Name: name, RegistrationPrice: price(p.Register, p.Currency), TransferPrice: price(p.Transfer, p.Currency),
			RenewalPrice: price(p.Renew, p.Currency), RestorationPrice: price(p.Restore, p.Currency),
			// A change of owner is a contact update, free here.
			ChangeOwnershipPrice: price(0, p.Currency),
		})
	}
	return out, nil
}

// contactDetailOf is the reverse of contactInfo: the RFC 5733 name's last
// word is LastName, the rest FirstName.
func contactDetailOf(info registry.ContactInfo, ok bool) *contactDetail {
	if !ok {
		return nil
	}
	d := &contactDetail{
		OrganizationName: info.Organization, City: info.City, State: info.State, CountryCode: info.CountryCode,
		ZipCode: info.PostalCode, PhoneNumber: info.Voice, Email: info.Email, Fax: info.Fax, ContactType: "PERSON",
	}
	if info.Organization != "" {
		d.ContactType = "COMPANY"
	}
	name := strings.TrimSpace(info.Name)
	if i := strings.LastIndexByte(name, ' '); i >= 0 {
		d.FirstName, d.LastName = name[:i], name[i+1:]
	} else {
		d.LastName = name
	}
	if len(info.Street) > 0 {
		d.AddressLine1 = info.Street[0]
	}
	if len(info.Street) > 1 {
		d.AddressLine2 = strings.Join(info.Street[1:], ", ")
	}
	return d
}

func getDomainDetail(h *Handler, c *call) (any, error) {
	name, err := decodeDomain(c)
	if err != nil {
		return nil, err
	}
	d, err := h.reg.GetDomain(c.ctx, c.tenant, name)
	if err != nil {
		return nil, err
	}
	contact := func(role string) *contactDetail {
		info, ok := d.Contacts[role]
		return contactDetailOf(info, ok)
	}
	out := getDomainDetailOutput{
		DomainName: displayName(d.Name), Nameservers: []nameserver{}, AutoRenew: d.AutoRenew,
		RegistrantContact: contact(roleRegistrant), AdminContact: contact(roleAdmin),
		TechContact: contact(roleTech), BillingContact: contact(roleBilling),
		AdminPrivacy: d.Privacy, RegistrantPrivacy: d.Privacy, TechPrivacy: d.Privacy, BillingPrivacy: d.Privacy,
		RegistrarName: "Waymark", RegistryDomainId: d.RegistryDomainID,
		CreationDate: epoch{d.CreatedAt}, UpdatedDate: epoch{d.UpdatedAt}, ExpirationDate: epoch{d.ExpiresAt},
		DnsSec: "DISABLED", StatusList: d.Statuses, DnssecKeys: []dnssecKey{},
	}
	if out.StatusList == nil {
		out.StatusList = []string{}
	}
	for _, ns := range d.Nameservers {
		n := nameserver{Name: displayName(ns.Name)}
		for _, a := range ns.GlueIPs {
			n.GlueIps = append(n.GlueIps, a.String())
		}
		out.Nameservers = append(out.Nameservers, n)
	}
	for _, ds := range d.DS {
		out.DnssecKeys = append(out.DnssecKeys, dnssecKey{Algorithm: int(ds.Algorithm), DigestType: int(ds.DigestType),
			Digest: ds.Digest, KeyTag: int(ds.KeyTag), Id: ds.ID})
	}
	if len(out.DnssecKeys) > 0 {
		out.DnsSec = "ENABLED"
	}
	return out, nil
}

// parseExpiry reads an Expiry filter value: epoch seconds, or RFC 3339.
func parseExpiry(v string) (time.Time, error) {
	if f, err := strconv.ParseFloat(v, 64); err == nil && !math.IsNaN(f) && f >= 0 && f <= maxEpoch {
		sec, frac := math.Modf(f)
		return time.Unix(int64(sec), int64(frac*1e9)).UTC(), nil
	}
	if t, err := time.Parse(time.RFC3339, v); err == nil {
		return t, nil
	}
	return time.Time{}, errInvalidInput("An Expiry value must be seconds since 1970 or an RFC 3339 time.")
}

func listDomains(h *Handler, c *call) (any, error) {
	var in listDomainsInput
	if err := decode(c.body, &in); err != nil {
		return nil, err
	}
	max, err := maxItems(in.MaxItems, maxMaxItems)
	if err != nil {
		return nil, err
	}
	if len(in.Marker) > 4096 {
		return nil, errInvalidInput("Marker is not one this service returned.")
	}
	q := registrar.ListDomainsInput{Marker: in.Marker, MaxItems: max}
	for _, f := range in.FilterConditions {
		if len(f.Values) != 1 {
			return nil, errInvalidInput("A filter condition takes exactly one value.")
		}
		v := f.Values[0]
		switch {
		case f.Name == "DomainName" && f.Operator == "BEGINS_WITH":
			if len(v) > maxDomainName {
				return nil, errInvalidInput("A DomainName value must be at most 255 characters.")
			}
			q.NamePrefix = strings.ToLower(v)
		case f.Name == "Expiry" && (f.Operator == "LE" || f.Operator == "GE"):
			t, err := parseExpiry(v)
			if err != nil {
				return nil, err
			}
			if f.Operator == "LE" {
				q.ExpiresBefore = t
			} else {
				q.ExpiresAfter = t
			}
		default:
			return nil, errInvalidInput("Filter conditions are DomainName BEGINS_WITH, Expiry LE and Expiry GE.")
		}
	}
	if sc := in.SortCondition; sc != nil {
		switch sc.Name {
		case "DomainName":
			q.SortBy = registrar.SortByName
		case "Expiry":
			q.SortBy = registrar.SortByExpiry
		default:
			return nil, errInvalidInput("SortCondition.Name must be DomainName or Expiry.")
		}
		switch sc.SortOrder {
		case "ASC", "":
		case "DESC":
			q.Descending = true
		default:
			return nil, errInvalidInput("SortCondition.SortOrder must be ASC or DESC.")
		}
	}
	page, err := h.reg.ListDomains(c.ctx, c.tenant, q)
	if err != nil {
		return nil, err
	}
	out := listDomainsOutput{Domains: []domainSummary{}, NextPageMarker: page.NextMarker}
	for _, d := range page.Domains {
		out.Domains = append(out.Domains, domainSummary{DomainName: displayName(d.Name), AutoRenew: d.AutoRenew,
			TransferLock: d.TransferLock, Expiry: epoch{d.ExpiresAt}})
	}
	return out, nil
}

// maxNameservers is how many nameservers a request may carry (the
// registrar checks its own rules; this bounds the decoding work).
const maxNameservers = 13

func nameserversOf(in []nameserver) ([]registrar.Nameserver, error) {
	if len(in) > maxNameservers {
		return nil, errInvalidInput(fmt.Sprintf("At most %d nameservers.", maxNameservers))
	}
	out := make([]registrar.Nameserver, 0, len(in))
	for _, ns := range in {
		if ns.Name == "" || len(ns.Name) > maxDomainName {
			return nil, errInvalidInput("A nameserver's Name is required and at most 255 characters.")
		}
		n := registrar.Nameserver{Name: ns.Name}
		if len(ns.GlueIps) > 2*maxNameservers {
			return nil, errInvalidInput("Too many GlueIps.")
		}
		for _, ip := range ns.GlueIps {
			a, err := netip.ParseAddr(ip)
			if err != nil {
				return nil, errInvalidInput(fmt.Sprintf("GlueIps of %s: %s is not an IP address.", quoteShort(ns.Name), quoteShort(ip)))
			}
			n.GlueIPs = append(n.GlueIPs, a)
		}
		out = append(out, n)
	}
	return out, nil
}

func updateDomainNameservers(h *Handler, c *call) (any, error) {
	var in updateDomainNameserversInput
	if err := decode(c.body, &in); err != nil {
		return nil, err
	}
	name, err := domainName(in.DomainName)
	if err != nil {
		return nil, err
	}
	if len(in.Nameservers) == 0 {
		return nil, errInvalidInput("Nameservers is required.")
	}
	nss, err := nameserversOf(in.Nameservers)
	if err != nil {
		return nil, err
	}
	return opID(h.reg.UpdateNameservers(c.ctx, c.tenant, name, nss, ""))
}

// update runs an UpdateDomain that makes an operation and answers its id.
func update(h *Handler, c *call, name string, in registrar.UpdateDomainInput) (any, error) {
	_, op, err := h.reg.UpdateDomain(c.ctx, c.tenant, name, in)
	if err != nil {
		return nil, err
	}
	if op == nil {
		return nil, errors.New("route53domains: the registrar made no operation for a change that has one")
	}
	return operationIDOutput{OperationId: op.ID}, nil
}

func updateDomainContact(h *Handler, c *call) (any, error) {
	var in updateDomainContactInput
	if err := decode(c.body, &in); err != nil {
		return nil, err
	}
	name, err := domainName(in.DomainName)
	if err != nil {
		return nil, err
	}
	// Consent (a price for an owner change) is accepted: a contact change
	// costs nothing here.
	contacts, err := contactsOf(in.RegistrantContact, in.AdminContact, in.TechContact, in.BillingContact, false)
	if err != nil {
		return nil, err
	}
	if len(contacts) == 0 {
		return nil, errInvalidInput("Give at least one contact to update.")
	}
	return update(h, c, name, registrar.UpdateDomainInput{Contacts: contacts})
}

func updateDomainContactPrivacy(h *Handler, c *call) (any, error) {
	var in updateDomainContactPrivacyInput
	if err := decode(c.body, &in); err != nil {
		return nil, err
	}
	name, err := domainName(in.DomainName)
	if err != nil {
		return nil, err
	}
	if in.AdminPrivacy == nil && in.RegistrantPrivacy == nil && in.TechPrivacy == nil && in.BillingPrivacy == nil {
		return nil, errInvalidInput("Give the privacy protection to set.")
	}
	privacy, err := onePrivacy(in.RegistrantPrivacy, in.AdminPrivacy, in.TechPrivacy, in.BillingPrivacy)
	if err != nil {
		return nil, err
	}
	return update(h, c, name, registrar.UpdateDomainInput{Privacy: &privacy})
}

// setAutoRenew is Enable/DisableDomainAutoRenew: synchronous, no
// operation, an empty answer.
func setAutoRenew(on bool) opFunc {
	return func(h *Handler, c *call) (any, error) {
		name, err := decodeDomain(c)
		if err != nil {
			return nil, err
		}
		if _, _, err := h.reg.UpdateDomain(c.ctx, c.tenant, name, registrar.UpdateDomainInput{AutoRenew: &on}); err != nil {
			return nil, err
		}
		return struct{}{}, nil
	}
}

// setTransferLock is Enable/DisableDomainTransferLock.
func setTransferLock(on bool) opFunc {
	return func(h *Handler, c *call) (any, error) {
		name, err := decodeDomain(c)
		if err != nil {
			return nil, err
		}
		return update(h, c, name, registrar.UpdateDomainInput{TransferLock: &on})
	}
}

func retrieveDomainAuthCode(h *Handler, c *call) (any, error) {
	name, err := decodeDomain(c)
	if err != nil {
		return nil, err
	}
	code, err := h.reg.AuthCode(c.ctx, c.tenant, name)
	if err != nil {
		return nil, err
	}
	return retrieveDomainAuthCodeOutput{AuthCode: code}, nil
}

func deleteDomain(h *Handler, c *call) (any, error) {
	name, err := decodeDomain(c)
	if err != nil {
		return nil, err
	}
	return opID(h.reg.Delete(c.ctx, c.tenant, name, ""))
}

// maxPublicKey bounds a DNSKEY's base64 public key (RSA-4096 is 700
// characters).
const maxPublicKey = 4096

func associateDelegationSigner(h *Handler, c *call) (any, error) {
	var in associateDelegationSignerInput
	if err := decode(c.body, &in); err != nil {
		return nil, err
	}
	name, err := domainName(in.DomainName)
	if err != nil {
		return nil, err
	}
	sa := in.SigningAttributes
	if sa == nil || sa.Algorithm == nil || sa.Flags == nil || sa.PublicKey == "" {
		return nil, errInvalidInput("SigningAttributes with Algorithm, Flags and PublicKey is required.")
	}
	if *sa.Algorithm < 0 || *sa.Algorithm > 255 || *sa.Flags < 0 || *sa.Flags > 65535 || len(sa.PublicKey) > maxPublicKey {
		return nil, errInvalidInput("Algorithm must be 0 to 255, Flags 0 to 65535, PublicKey at most 4096 characters.")
	}
	op, _, err := h.reg.AddDS(c.ctx, c.tenant, name, []registrar.DSInput{{DNSKEY: &registrar.DNSKEY{
		Flags: uint16(*sa.Flags), Algorithm: uint8(*sa.Algorithm), PublicKey: sa.PublicKey,
	}}}, "")
	return opID(op, err)
}

func disassociateDelegationSigner(h *Handler, c *call) (any, error) {
	var in disassociateDelegationSignerInput
	if err := decode(c.body, &in); err != nil {
		return nil, err
	}
	name, err := domainName(in.DomainName)
	if err != nil {
		return nil, err
	}
	if in.Id == "" || len(in.Id) > 255 {
		return nil, errInvalidInput("Id is required and at most 255 characters.")
	}
	return opID(h.reg.RemoveDS(c.ctx, c.tenant, name, in.Id, ""))
}

func getContactReachabilityStatus(h *Handler, c *call) (any, error) {
	var in reachabilityInput
	if err := decode(c.body, &in); err != nil {
		return nil, err
	}
	name, err := domainName(in.DomainName)
	if err != nil {
		return nil, err
	}
	r, err := h.reg.ContactReachability(c.ctx, c.tenant, name)
	if err != nil {
		return nil, err
	}
	return getContactReachabilityStatusOutput{DomainName: displayName(r.Domain), Status: r.Status}, nil
}

func resendContactReachabilityEmail(h *Handler, c *call) (any, error) {
	var in reachabilityInput
	if err := decode(c.body, &in); err != nil {
		return nil, err
	}
	name, err := domainName(in.DomainName)
	if err != nil {
		return nil, err
	}
	r, err := h.reg.ResendVerification(c.ctx, c.tenant, name)
	if err != nil {
		return nil, err
	}
	return resendContactReachabilityEmailOutput{DomainName: displayName(r.Domain), EmailAddress: r.Email,
		IsAlreadyVerified: r.Status == registrar.ReachabilityDone}, nil
}

func transferDomain(h *Handler, c *call) (any, error) {
	var in transferDomainInput
	if err := decode(c.body, &in); err != nil {
		return nil, err
	}
	r, err := in.check()
	if err != nil {
		return nil, err
	}
	if len(in.Nameservers) > 0 {
		// The registry transfers a domain with its nameservers; changing
		// them in the same request is not supported.
		return nil, errInvalidInput("Nameservers cannot be changed by TransferDomain here: transfer the domain, then call UpdateDomainNameservers.")
	}
	if in.AuthCode == "" || len(in.AuthCode) > 1024 {
		return nil, errInvalidInput("AuthCode is required and at most 1024 characters.")
	}
	return opID(h.reg.TransferIn(c.ctx, c.tenant, registrar.TransferInInput{
		Name: r.name, AuthCode: in.AuthCode, Years: r.years, AutoRenew: r.autoRenew, Privacy: r.privacy, Contacts: r.contacts,
	}))
}

func transferDomainToAnotherAccount(h *Handler, c *call) (any, error) {
	var in transferToAccountInput
	if err := decode(c.body, &in); err != nil {
		return nil, err
	}
	name, err := domainName(in.DomainName)
	if err != nil {
		return nil, err
	}
	// AccountId is the receiving tenant's id (an AWS account id is 12
	// digits; a Waymark account is a tenant).
	if in.AccountId == "" || len(in.AccountId) > 255 {
		return nil, errInvalidInput("AccountId (the receiving tenant's id) is required.")
	}
	offer, err := h.reg.TransferToTenant(c.ctx, c.tenant, name, in.AccountId, "")
	if err != nil {
		return nil, err
	}
	return transferToAccountOutput{OperationId: offer.Operation.ID, Password: offer.Password}, nil
}

func acceptDomainTransfer(h *Handler, c *call) (any, error) {
	var in acceptTransferInput
	if err := decode(c.body, &in); err != nil {
		return nil, err
	}
	name, err := domainName(in.DomainName)
	if err != nil {
		return nil, err
	}
	if in.Password == "" || len(in.Password) > 1024 {
		return nil, errInvalidInput("Password is required.")
	}
	return opID(h.reg.AcceptTransfer(c.ctx, c.tenant, name, in.Password, ""))
}

func rejectDomainTransfer(h *Handler, c *call) (any, error) {
	name, err := decodeDomain(c)
	if err != nil {
		return nil, err
	}
	return opID(h.reg.RejectTransfer(c.ctx, c.tenant, name, ""))
}

func cancelDomainTransfer(h *Handler, c *call) (any, error) {
	name, err := decodeDomain(c)
	if err != nil {
		return nil, err
	}
	return opID(h.reg.CancelTransfer(c.ctx, c.tenant, name, ""))
}
