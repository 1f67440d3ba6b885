package api

import (
	"context"
	"errors"
	"net/http"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/waymark-dns/waymark/controlplane"
	"github.com/waymark-dns/waymark/registrar"
	"github.com/waymark-dns/waymark/registrar/registry"
)

// DomainsService serves /v1/domains, /v1/operations and the operator's
// /v1/registry/… (domain registration, docs/registrar.md), a part of
// RegistrarService; *registrar.Service has these methods. Config.Registrar
// nil answers those routes 404: the server does not register domains.
type DomainsService interface {
	Availability(ctx context.Context, name string) (registry.Check, error)
	Transferability(ctx context.Context, tenantID, name string) (registrar.Transferability, error)
	Suggestions(ctx context.Context, name string, count int, onlyAvailable bool) ([]registrar.Suggestion, error)
	Prices(ctx context.Context, tld string) ([]registry.TLD, error)
	Register(ctx context.Context, tenantID string, in registrar.RegisterInput) (registrar.Operation, error)
	GetDomain(ctx context.Context, tenantID, name string) (registrar.Domain, error)
	ListDomains(ctx context.Context, tenantID string, in registrar.ListDomainsInput) (registrar.DomainPage, error)
	UpdateDomain(ctx context.Context, tenantID, name string, in registrar.UpdateDomainInput) (registrar.Domain, *registrar.Operation, error)
	UpdateNameservers(ctx context.Context, tenantID, name string, ns []registrar.Nameserver, ref string) (registrar.Operation, error)
	RenewDomain(ctx context.Context, tenantID, name string, in registrar.RenewInput) (registrar.Operation, error)
	Restore(ctx context.Context, tenantID, name, ref string) (registrar.Operation, error)
	Delete(ctx context.Context, tenantID, name, ref string) (registrar.Operation, error)
	ListDS(ctx context.Context, tenantID, name string) ([]registrar.DSRecord, error)
	AddDS(ctx context.Context, tenantID, name string, in []registrar.DSInput, ref string) (registrar.Operation, []registrar.DSRecord, error)
	RemoveDS(ctx context.Context, tenantID, name, id, ref string) (registrar.Operation, error)
	AuthCode(ctx context.Context, tenantID, name string) (string, error)
	RotateAuthCode(ctx context.Context, tenantID, name string) (string, error)
	Operation(ctx context.Context, tenantID, id string) (registrar.Operation, error)
	WaitOperation(ctx context.Context, tenantID, id string, timeout time.Duration) (registrar.Operation, error)
	ListOperationsPage(ctx context.Context, tenantID string, in registrar.ListOperationsInput) (registrar.OperationPage, error)

	TLDs(ctx context.Context) ([]registry.TLD, error)
	TLD(ctx context.Context, name string) (registry.TLD, error)
	ConfigureTLD(ctx context.Context, name string, prices registry.Prices, pol registry.Policy) (registry.TLD, error)
	// SignTLD signs a TLD's zone (once; a signed TLD is left as it is).
	SignTLD(ctx context.Context, name string) (registry.TLD, error)
	NameRules(ctx context.Context, tld string) ([]registry.NameRule, error)
	SetNameRule(ctx context.Context, rule registry.NameRule) error

	// External registries' TLDs (registry_external.go).
	ExternalTLDs(ctx context.Context) ([]registrar.ExternalTLD, error)
	ExternalTLDByName(ctx context.Context, name string) (registrar.ExternalTLD, error)
	ConfigureExternal(ctx context.Context, name string, in registrar.ExternalInput) (registrar.ExternalTLD, bool, error)
	DeleteExternal(ctx context.Context, name string) error
}

var _ DomainsService = (*registrar.Service)(nil)

// The registrar's error codes, as the API answers them (InvalidInput is
// the control plane's too).
const (
	codeUnsupportedTLD      controlplane.Code = "UnsupportedTLD"
	codeDuplicateRequest    controlplane.Code = "DuplicateRequest"
	codeTLDRulesViolation   controlplane.Code = "TLDRulesViolation"
	codeDomainUnavailable   controlplane.Code = "DomainUnavailable"
	codeNoSuchDomain        controlplane.Code = "NoSuchDomain"
	codeNoSuchOperation     controlplane.Code = "NoSuchOperation"
	codePriceTooHigh        controlplane.Code = "PriceTooHigh"
	codeDnssecLimitExceeded controlplane.Code = "DnssecLimitExceeded"
	codeNoSuchDS            controlplane.Code = "NoSuchDS"
	codeNoSuchTLD           controlplane.Code = "NoSuchTLD"
	codeRegistryUnavailable controlplane.Code = "RegistryUnavailable"
)

// registrarCodes are the codes of registrar errors (registrar.Code), for
// the tests that every code has a status and is in openapi.yaml.
var registrarCodes = []controlplane.Code{codeUnsupportedTLD, codeDuplicateRequest, codeTLDRulesViolation,
	codeDomainUnavailable, codeNoSuchDomain, codeNoSuchOperation, codePriceTooHigh, codeDnssecLimitExceeded, codeNoSuchDS, codeNoSuchTLD, codeRegistryUnavailable}

// fromRegistrar turns a registrar refusal into the API's error, keeping
// a DuplicateRequest's pending operation.
func fromRegistrar(err error) (*controlplane.Error, string, bool) {
	var e *registrar.Error
	if !errors.As(err, &e) {
		return nil, "", false
	}
	return &controlplane.Error{Code: controlplane.Code(e.Code), Message: e.Message}, e.RequestID, true
}

// asAPIError returns err as the API answers it: a registrar refusal as
// the control plane's error type, anything else as it is.
func asAPIError(err error) error {
	if e, _, ok := fromRegistrar(err); ok {
		return e
	}
	return err
}

// errNoRegistrar answers the registrar's routes on a server without one.
func errNoRegistrar(r *http.Request) error {
	return apiError(codeNotFound, "no such endpoint: "+r.Method+" "+r.URL.Path+" (this server does not register domains)")
}

// reg wraps a registrar endpoint: 404 without a registrar.
func (h *handler) reg(fn func(w http.ResponseWriter, r *http.Request, rs RegistrarService) error) handlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		if h.cfg.Registrar == nil {
			return errNoRegistrar(r)
		}
		return fn(w, r, h.cfg.Registrar)
	}
}

// JSON shapes of /v1/domains and /v1/operations.

type contactJSON struct {
	Name         string   `json:"name"`
	Organization string   `json:"organization,omitempty"`
	Street       []string `json:"street,omitempty"`
	City         string   `json:"city"`
	State        string   `json:"state,omitempty"`
	PostalCode   string   `json:"postal_code,omitempty"`
	CountryCode  string   `json:"country_code"`
	Voice        string   `json:"voice,omitempty"`
	Fax          string   `json:"fax,omitempty"`
	Email        string   `json:"email"`
}

func (c contactJSON) info() registry.ContactInfo {
	return registry.ContactInfo{Name: c.Name, Organization: c.Organization, Street: c.Street, City: c.City, State: c.State,
		PostalCode: c.PostalCode, CountryCode: c.CountryCode, Voice: c.Voice, Fax: c.Fax, Email: c.Email}
}

func toContactJSON(c registry.ContactInfo) contactJSON {
	return contactJSON{Name: c.Name, Organization: c.Organization, Street: c.Street, City: c.City, State: c.State,
		PostalCode: c.PostalCode, CountryCode: c.CountryCode, Voice: c.Voice, Fax: c.Fax, Email: c.Email}
}

func contactsIn(in map[string]contactJSON) map[string]registry.ContactInfo {
	if in == nil {
		return nil
	}
	out := make(map[string]registry.ContactInfo, len(in))
	for role, c := range in {
		out[role] = c.info()
	}
	return out
}

type domainNSJSON struct {
	Name    string   `json:"name"`
	GlueIPs []string `json:"glue_ips,omitempty"`
}

func nameserversIn(in []domainNSJSON) ([]registrar.Nameserver, error) {
	out := make([]registrar.Nameserver, 0, len(in))
	for i, ns := range in {
		n := registrar.Nameserver{Name: ns.Name}
		for _, s := range ns.GlueIPs {
			a, err := netip.ParseAddr(s)
			if err != nil {
				return nil, &controlplane.Error{Code: controlplane.CodeInvalidInput, Message: "glue_ips: " + strconv.Quote(s) + " is not an IP address",
					Details: []controlplane.Detail{{Index: &i, Field: "nameservers.glue_ips", Message: "not an IP address"}}}
			}
			n.GlueIPs = append(n.GlueIPs, a)
		}
		out = append(out, n)
	}
	return out, nil
}

type dsJSON struct {
	ID         string `json:"id"`
	KeyTag     uint16 `json:"key_tag"`
	Algorithm  uint8  `json:"algorithm"`
	DigestType uint8  `json:"digest_type"`
	Digest     string `json:"digest"`
}

func toDSJSON(in []registrar.DSRecord) []dsJSON {
	out := make([]dsJSON, 0, len(in))
	for _, d := range in {
		out = append(out, dsJSON{ID: d.ID, KeyTag: d.KeyTag, Algorithm: d.Algorithm, DigestType: d.DigestType, Digest: d.Digest})
	}
	return out
}

type domainJSON struct {
	Name                string                 `json:"name"`
	AutoRenew           bool                   `json:"auto_renew"`
	TransferLock        bool                   `json:"transfer_lock"`
	Privacy             bool                   `json:"privacy"`
	HostedZoneID        string                 `json:"hosted_zone_id,omitempty"`
	Nameservers         []domainNSJSON         `json:"nameservers"`
	Contacts            map[string]contactJSON `json:"contacts"`
	Statuses            []string               `json:"statuses"`
	RGPStatus           string                 `json:"rgp_status,omitempty"`
	RGPUntil            *time.Time             `json:"rgp_until,omitempty"`
	RegistryDomainID    string                 `json:"registry_domain_id"`
	Registrar           string                 `json:"registrar"`
	CreatedAt           time.Time              `json:"created_at"`
	UpdatedAt           time.Time              `json:"updated_at"`
	ExpiresAt           time.Time              `json:"expires_at"`
	TransferLockedUntil *time.Time             `json:"transfer_locked_until,omitempty"`
	DS                  []dsJSON               `json:"ds"`
}

func toDomainJSON(d registrar.Domain) domainJSON {
	out := domainJSON{Name: d.Name, AutoRenew: d.AutoRenew, TransferLock: d.TransferLock, Privacy: d.Privacy,
		HostedZoneID: d.HostedZoneID, Nameservers: make([]domainNSJSON, 0, len(d.Nameservers)),
		Contacts: make(map[string]contactJSON, len(d.Contacts)), Statuses: d.Statuses, RGPStatus: d.RGP,
		RegistryDomainID: d.RegistryDomainID, Registrar: d.Registrar,
		CreatedAt: d.CreatedAt.UTC(), UpdatedAt: d.UpdatedAt.UTC(), ExpiresAt: d.ExpiresAt.UTC(), DS: toDSJSON(d.DS)}
	if d.RGPUntil != nil {
		t := d.RGPUntil.UTC()
		out.RGPUntil = &t
	}
	if d.TransferLockedUntil != nil {
		t := d.TransferLockedUntil.UTC()
		out.TransferLockedUntil = &t
	}
	for _, ns := range d.Nameservers {
		j := domainNSJSON{Name: ns.Name}
		for _, a := range ns.GlueIPs {
			j.GlueIPs = append(j.GlueIPs, a.String())
		}
		out.Nameservers = append(out.Nameservers, j)
	}
	for role, c := range d.Contacts {
		out.Contacts[role] = toContactJSON(c)
	}
	if out.Statuses == nil {
		out.Statuses = []string{}
	}
	return out
}

type operationJSON struct {
	ID              string    `json:"operation_id"`
	Domain          string    `json:"domain"`
	Type            string    `json:"type"`
	Status          string    `json:"status"`
	StatusFlag      string    `json:"status_flag,omitempty"`
	Message         string    `json:"message,omitempty"`
	CallerReference string    `json:"caller_reference,omitempty"`
	SubmittedAt     time.Time `json:"submitted_at"`
	UpdatedAt       time.Time `json:"updated_at"`
}

func toOperationJSON(o registrar.Operation) operationJSON {
	return operationJSON{ID: o.ID, Domain: o.Domain, Type: o.Type, Status: o.Status, StatusFlag: o.Flag, Message: o.Message,
		CallerReference: o.CallerReference, SubmittedAt: o.SubmittedAt.UTC(), UpdatedAt: o.UpdatedAt.UTC()}
}

type operationResponse struct {
	Operation operationJSON `json:"operation"`
}

type availabilityJSON struct {
	Name         string `json:"name"`
	Availability string `json:"availability"`
	Premium      bool   `json:"premium"`
	Price        int64  `json:"price"`
	Currency     string `json:"currency,omitempty"`
	Reason       string `json:"reason,omitempty"`
}

func toAvailabilityJSON(c registry.Check) availabilityJSON {
	return availabilityJSON{Name: c.Name, Availability: c.Availability, Premium: c.Premium, Price: c.Price, Currency: c.Currency, Reason: c.Reason}
}

type transferabilityJSON struct {
	Name            string     `json:"name"`
	Transferability string     `json:"transferability"`
	Message         string     `json:"message,omitempty"`
	ExpiresAt       *time.Time `json:"expires_at,omitempty"`
	Price           int64      `json:"price,omitempty"`
	Currency        string     `json:"currency,omitempty"`
}

type suggestionsResponse struct {
	Suggestions []availabilityJSON `json:"suggestions"`
}

type pricesJSON struct {
	Currency     string `json:"currency"`
	Registration int64  `json:"registration"`
	Renewal      int64  `json:"renewal"`
	Transfer     int64  `json:"transfer"`
	Restoration  int64  `json:"restoration"`
}

type tldPriceJSON struct {
	TLD string `json:"tld"`
	pricesJSON
}

type pricesResponse struct {
	Prices []tldPriceJSON `json:"prices"`
}

func toPricesJSON(p registry.Prices) pricesJSON {
	return pricesJSON{Currency: p.Currency, Registration: p.Register, Renewal: p.Renew, Transfer: p.Transfer, Restoration: p.Restore}
}

type registerDomainRequest struct {
	Name            string                 `json:"name"`
	DurationInYears int                    `json:"duration_in_years"`
	Contacts        map[string]contactJSON `json:"contacts"`
	Privacy         *bool                  `json:"privacy"`
	AutoRenew       *bool                  `json:"auto_renew"`
	MaxPrice        int64                  `json:"max_price"`
	Nameservers     []domainNSJSON         `json:"nameservers"`
	HostedZone      string                 `json:"hosted_zone"`
	DNSSEC          bool                   `json:"dnssec"`
	CallerReference string                 `json:"caller_reference"`
}

type domainResponse struct {
	Domain domainJSON `json:"domain"`
}

type updateDomainRequest struct {
	AutoRenew       *bool                  `json:"auto_renew"`
	TransferLock    *bool                  `json:"transfer_lock"`
	Privacy         *bool                  `json:"privacy"`
	Contacts        map[string]contactJSON `json:"contacts"`
	CallerReference string                 `json:"caller_reference"`
}

type updateDomainResponse struct {
	Domain    domainJSON     `json:"domain"`
	Operation *operationJSON `json:"operation,omitempty"`
}

type domainSummaryJSON struct {
	Name         string    `json:"name"`
	AutoRenew    bool      `json:"auto_renew"`
	TransferLock bool      `json:"transfer_lock"`
	ExpiresAt    time.Time `json:"expires_at"`
	Statuses     []string  `json:"statuses"`
	HostedZoneID string    `json:"hosted_zone_id,omitempty"`
}

type listDomainsResponse struct {
	Domains    []domainSummaryJSON `json:"domains"`
	NextMarker string              `json:"next_marker,omitempty"`
}

type nameserversRequest struct {
	Nameservers     []domainNSJSON `json:"nameservers"`
	CallerReference string         `json:"caller_reference"`
}

type renewRequest struct {
	DurationInYears   int    `json:"duration_in_years"`
	CurrentExpiryYear int    `json:"current_expiry_year"`
	CallerReference   string `json:"caller_reference"`
}

type callerReferenceRequest struct {
	CallerReference string `json:"caller_reference"`
}

type dsInputJSON struct {
	KeyTag     *uint16 `json:"key_tag"`
	Algorithm  uint8   `json:"algorithm"`
	DigestType uint8   `json:"digest_type"`
	Digest     string  `json:"digest"`
	Flags      uint16  `json:"flags"`
	PublicKey  string  `json:"public_key"`
}

type addDSRequest struct {
	Records         []dsInputJSON `json:"records"`
	CallerReference string        `json:"caller_reference"`
}

type addDSResponse struct {
	Operation operationJSON `json:"operation"`
	DS        []dsJSON      `json:"ds"`
}

type listDSResponse struct {
	DS []dsJSON `json:"ds"`
}

type authCodeResponse struct {
	AuthCode string `json:"auth_code"`
}

type listOperationsResponse struct {
	Operations []operationJSON `json:"operations"`
	NextMarker string          `json:"next_marker,omitempty"`
}

// nameParam is the query parameter "name", required.
func nameParam(q url.Values) (string, error) {
	n := q.Get("name")
	if n == "" {
		return "", &controlplane.Error{Code: controlplane.CodeInvalidInput, Message: "the query parameter name is required",
			Details: []controlplane.Detail{{Field: "name", Message: "is required"}}}
	}
	return n, nil
}

// domainAvailability is GET /v1/domains/availability?name=.
func (h *handler) domainAvailability(w http.ResponseWriter, r *http.Request, rs RegistrarService) error {
	name, err := nameParam(r.URL.Query())
	if err != nil {
		return err
	}
	c, err := rs.Availability(r.Context(), name)
	if err != nil {
		return err
	}
	h.writeJSON(w, http.StatusOK, toAvailabilityJSON(c))
	return nil
}

// domainTransferability is GET /v1/domains/transferability?name=.
func (h *handler) domainTransferability(w http.ResponseWriter, r *http.Request, rs RegistrarService) error {
	name, err := nameParam(r.URL.Query())
	if err != nil {
		return err
	}
	t, err := rs.Transferability(r.Context(), tenantID(r), name)
	if err != nil {
		return err
	}
	h.writeJSON(w, http.StatusOK, transferabilityJSON{Name: t.Name, Transferability: t.Transferable, Message: t.Message,
		ExpiresAt: t.ExpiresAt, Price: t.TransferPrice, Currency: t.Currency})
	return nil
}

// domainSuggestions is GET /v1/domains/suggestions?name=&count=&only_available=.
func (h *handler) domainSuggestions(w http.ResponseWriter, r *http.Request, rs RegistrarService) error {
	q := r.URL.Query()
	name, err := nameParam(q)
	if err != nil {
		return err
	}
	count := 10
	if s := q.Get("count"); s != "" {
		if count, err = strconv.Atoi(s); err != nil {
			return invalidInput("count must be an integer")
		}
	}
	only := true
	if s := q.Get("only_available"); s != "" {
		if only, err = strconv.ParseBool(s); err != nil {
			return invalidInput("only_available must be true or false")
		}
	}
	list, err := rs.Suggestions(r.Context(), name, count, only)
	if err != nil {
		return err
	}
	out := suggestionsResponse{Suggestions: make([]availabilityJSON, 0, len(list))}
	for _, c := range list {
		out.Suggestions = append(out.Suggestions, toAvailabilityJSON(c))
	}
	h.writeJSON(w, http.StatusOK, out)
	return nil
}

// domainPrices is GET /v1/domains/prices?tld=.
func (h *handler) domainPrices(w http.ResponseWriter, r *http.Request, rs RegistrarService) error {
	list, err := rs.Prices(r.Context(), r.URL.Query().Get("tld"))
	if err != nil {
		return err
	}
	out := pricesResponse{Prices: make([]tldPriceJSON, 0, len(list))}
	for _, t := range list {
		out.Prices = append(out.Prices, tldPriceJSON{TLD: t.Name, pricesJSON: toPricesJSON(t.Prices)})
	}
	h.writeJSON(w, http.StatusOK, out)
	return nil
}

// registerDomain is POST /v1/domains: 202 with the operation.
func (h *handler) registerDomain(w http.ResponseWriter, r *http.Request, rs RegistrarService) error {
	var req registerDomainRequest
	if err := h.decodeJSON(r, &req); err != nil {
		return err
	}
	if req.Name == "" {
		return &controlplane.Error{Code: controlplane.CodeInvalidInput, Message: "name is required",
			Details: []controlplane.Detail{{Field: "name", Message: "is required"}}}
	}
	if _, ok := req.Contacts[registrar.RoleRegistrant]; !ok {
		return &controlplane.Error{Code: controlplane.CodeInvalidInput, Message: "contacts.registrant is required",
			Details: []controlplane.Detail{{Field: "contacts.registrant", Message: "is required"}}}
	}
	ns, err := nameserversIn(req.Nameservers)
	if err != nil {
		return err
	}
	if req.HostedZone == "" && len(ns) == 0 {
		return &controlplane.Error{Code: controlplane.CodeInvalidInput, Message: `give nameservers, or hosted_zone ("create" or a hosted zone id)`,
			Details: []controlplane.Detail{{Field: "hosted_zone", Message: "or nameservers is required"}}}
	}
	years := req.DurationInYears
	if years == 0 {
		years = 1
	}
	op, err := rs.Register(r.Context(), tenantID(r), registrar.RegisterInput{
		Name: req.Name, Years: years, HostedZone: req.HostedZone, DNSSEC: req.DNSSEC, Nameservers: ns,
		AutoRenew: req.AutoRenew == nil || *req.AutoRenew, Privacy: req.Privacy == nil || *req.Privacy,
		Contacts: contactsIn(req.Contacts), MaxPrice: req.MaxPrice, CallerReference: req.CallerReference,
	})
	if err != nil {
		return err
	}
	h.writeOperation(w, op)
	return nil
}

// writeOperation answers 202 with an operation and its Location.
func (h *handler) writeOperation(w http.ResponseWriter, op registrar.Operation) {
	w.Header().Set("Location", "/v1/operations/"+url.PathEscape(op.ID))
	h.writeJSON(w, http.StatusAccepted, operationResponse{Operation: toOperationJSON(op)})
}

// listDomains is GET /v1/domains.
func (h *handler) listDomains(w http.ResponseWriter, r *http.Request, rs RegistrarService) error {
	q := r.URL.Query()
	max, err := maxItemsParam(q)
	if err != nil {
		return err
	}
	in := registrar.ListDomainsInput{NamePrefix: q.Get("name_prefix"), SortBy: q.Get("sort_by"), Marker: q.Get("marker"), MaxItems: max}
	switch q.Get("sort_order") {
	case "", "ASC", "asc":
	case "DESC", "desc":
		in.Descending = true
	default:
		return invalidInput("sort_order must be ASC or DESC")
	}
	for param, dst := range map[string]*time.Time{"expires_before": &in.ExpiresBefore, "expires_after": &in.ExpiresAfter} {
		if s := q.Get(param); s != "" {
			t, err := time.Parse(time.RFC3339, s)
			if err != nil {
				return invalidInput(param + " must be an RFC 3339 time such as 2027-01-02T03:04:05Z")
			}
			*dst = t
		}
	}
	page, err := rs.ListDomains(r.Context(), tenantID(r), in)
	if err != nil {
		return err
	}
	out := listDomainsResponse{Domains: make([]domainSummaryJSON, 0, len(page.Domains)), NextMarker: page.NextMarker}
	for _, d := range page.Domains {
		out.Domains = append(out.Domains, domainSummaryJSON{Name: d.Name, AutoRenew: d.AutoRenew, TransferLock: d.TransferLock,
			ExpiresAt: d.ExpiresAt.UTC(), Statuses: d.Statuses, HostedZoneID: d.HostedZoneID})
	}
	h.writeJSON(w, http.StatusOK, out)
	return nil
}

// getDomain is GET /v1/domains/{name}.
func (h *handler) getDomain(w http.ResponseWriter, r *http.Request, rs RegistrarService) error {
	d, err := rs.GetDomain(r.Context(), tenantID(r), chi.URLParam(r, "name"))
	if err != nil {
		return err
	}
	h.writeJSON(w, http.StatusOK, domainResponse{Domain: toDomainJSON(d)})
	return nil
}

// updateDomain is PATCH /v1/domains/{name}.
func (h *handler) updateDomain(w http.ResponseWriter, r *http.Request, rs RegistrarService) error {
	var req updateDomainRequest
	if err := h.decodeJSON(r, &req); err != nil {
		return err
	}
	d, op, err := rs.UpdateDomain(r.Context(), tenantID(r), chi.URLParam(r, "name"), registrar.UpdateDomainInput{
		AutoRenew: req.AutoRenew, TransferLock: req.TransferLock, Privacy: req.Privacy,
		Contacts: contactsIn(req.Contacts), CallerReference: req.CallerReference,
	})
	if err != nil {
		return err
	}
	out := updateDomainResponse{Domain: toDomainJSON(d)}
	if op != nil {
		j := toOperationJSON(*op)
		out.Operation = &j
	}
	h.writeJSON(w, http.StatusOK, out)
	return nil
}

// putNameservers is PUT /v1/domains/{name}/nameservers.
func (h *handler) putNameservers(w http.ResponseWriter, r *http.Request, rs RegistrarService) error {
	var req nameserversRequest
	if err := h.decodeJSON(r, &req); err != nil {
		return err
	}
	ns, err := nameserversIn(req.Nameservers)
	if err != nil {
		return err
	}
	op, err := rs.UpdateNameservers(r.Context(), tenantID(r), chi.URLParam(r, "name"), ns, req.CallerReference)
	if err != nil {
		return err
	}
	h.writeOperation(w, op)
	return nil
}

// renewDomain is POST /v1/domains/{name}/renew.
func (h *handler) renewDomain(w http.ResponseWriter, r *http.Request, rs RegistrarService) error {
	var req renewRequest
	if err := h.decodeJSON(r, &req); err != nil {
		return err
	}
	op, err := rs.RenewDomain(r.Context(), tenantID(r), chi.URLParam(r, "name"), registrar.RenewInput{
		Years: req.DurationInYears, CurrentExpiryYear: req.CurrentExpiryYear, CallerReference: req.CallerReference})
	if err != nil {
		return err
	}
	h.writeOperation(w, op)
	return nil
}

// optionalRef reads an optional {"caller_reference": …} body.
func (h *handler) optionalRef(r *http.Request) (string, error) {
	if r.ContentLength == 0 && r.Header.Get("Content-Type") == "" {
		return "", nil
	}
	var req callerReferenceRequest
	if err := h.decodeJSON(r, &req); err != nil {
		return "", err
	}
	return req.CallerReference, nil
}

// restoreDomain is POST /v1/domains/{name}/restore.
func (h *handler) restoreDomain(w http.ResponseWriter, r *http.Request, rs RegistrarService) error {
	ref, err := h.optionalRef(r)
	if err != nil {
		return err
	}
	op, err := rs.Restore(r.Context(), tenantID(r), chi.URLParam(r, "name"), ref)
	if err != nil {
		return err
	}
	h.writeOperation(w, op)
	return nil
}

// deleteDomain is DELETE /v1/domains/{name}.
func (h *handler) deleteDomain(w http.ResponseWriter, r *http.Request, rs RegistrarService) error {
	op, err := rs.Delete(r.Context(), tenantID(r), chi.URLParam(r, "name"), r.URL.Query().Get("caller_reference"))
	if err != nil {
		return err
	}
	h.writeOperation(w, op)
	return nil
}

// listDS is GET /v1/domains/{name}/ds.
func (h *handler) listDS(w http.ResponseWriter, r *http.Request, rs RegistrarService) error {
	list, err := rs.ListDS(r.Context(), tenantID(r), chi.URLParam(r, "name"))
	if err != nil {
		return err
	}
	h.writeJSON(w, http.StatusOK, listDSResponse{DS: toDSJSON(list)})
	return nil
}

// addDS is POST /v1/domains/{name}/ds: DS records, or DNSKEYs whose
// SHA-256 DS the registrar computes.
func (h *handler) addDS(w http.ResponseWriter, r *http.Request, rs RegistrarService) error {
	var req addDSRequest
	if err := h.decodeJSON(r, &req); err != nil {
		return err
	}
	in := make([]registrar.DSInput, 0, len(req.Records))
	for _, x := range req.Records {
		if x.PublicKey != "" {
			in = append(in, registrar.DSInput{DNSKEY: &registrar.DNSKEY{Flags: x.Flags, Algorithm: x.Algorithm, PublicKey: x.PublicKey}})
			continue
		}
		if x.KeyTag == nil {
			return invalidInput("a record needs key_tag, algorithm, digest_type and digest, or flags, algorithm and public_key")
		}
		in = append(in, registrar.DSInput{DS: &registry.DS{KeyTag: *x.KeyTag, Algorithm: x.Algorithm, DigestType: x.DigestType, Digest: x.Digest}})
	}
	op, recs, err := rs.AddDS(r.Context(), tenantID(r), chi.URLParam(r, "name"), in, req.CallerReference)
	if err != nil {
		return err
	}
	w.Header().Set("Location", "/v1/operations/"+url.PathEscape(op.ID))
	h.writeJSON(w, http.StatusAccepted, addDSResponse{Operation: toOperationJSON(op), DS: toDSJSON(recs)})
	return nil
}

// removeDS is DELETE /v1/domains/{name}/ds/{id}.
func (h *handler) removeDS(w http.ResponseWriter, r *http.Request, rs RegistrarService) error {
	op, err := rs.RemoveDS(r.Context(), tenantID(r), chi.URLParam(r, "name"), chi.URLParam(r, "id"), r.URL.Query().Get("caller_reference"))
	if err != nil {
		return err
	}
	h.writeOperation(w, op)
	return nil
}

// getAuthCode is GET /v1/domains/{name}/authcode.
func (h *handler) getAuthCode(w http.ResponseWriter, r *http.Request, rs RegistrarService) error {
	code, err := rs.AuthCode(r.Context(), tenantID(r), chi.URLParam(r, "name"))
	if err != nil {
		return err
	}
	h.writeJSON(w, http.StatusOK, authCodeResponse{AuthCode: code})
	return nil
}

// rotateAuthCode is POST /v1/domains/{name}/authcode/rotate.
func (h *handler) rotateAuthCode(w http.ResponseWriter, r *http.Request, rs RegistrarService) error {
	code, err := rs.RotateAuthCode(r.Context(), tenantID(r), chi.URLParam(r, "name"))
	if err != nil {
		return err
	}
	h.writeJSON(w, http.StatusOK, authCodeResponse{AuthCode: code})
	return nil
}

// listParam reads a list parameter given repeated or comma-separated.
func listParam(q url.Values, key string) []string {
	var out []string
	for _, v := range q[key] {
		for _, s := range strings.Split(v, ",") {
			if s = strings.TrimSpace(s); s != "" {
				out = append(out, s)
			}
		}
	}
	return out
}

// listOperations is GET /v1/operations.
func (h *handler) listOperations(w http.ResponseWriter, r *http.Request, rs RegistrarService) error {
	q := r.URL.Query()
	max, err := maxItemsParam(q)
	if err != nil {
		return err
	}
	in := registrar.ListOperationsInput{Statuses: listParam(q, "status"), Types: listParam(q, "type"), Domain: q.Get("domain"),
		Marker: q.Get("marker"), MaxItems: max}
	switch q.Get("sort_order") {
	case "", "DESC", "desc":
	case "ASC", "asc":
		in.Ascending = true
	default:
		return invalidInput("sort_order must be ASC or DESC")
	}
	if s := q.Get("submitted_since"); s != "" {
		if in.SubmittedSince, err = time.Parse(time.RFC3339, s); err != nil {
			return invalidInput("submitted_since must be an RFC 3339 time such as 2027-01-02T03:04:05Z")
		}
	}
	page, err := rs.ListOperationsPage(r.Context(), tenantID(r), in)
	if err != nil {
		return err
	}
	out := listOperationsResponse{Operations: make([]operationJSON, 0, len(page.Operations)), NextMarker: page.NextMarker}
	for _, o := range page.Operations {
		out.Operations = append(out.Operations, toOperationJSON(o))
	}
	h.writeJSON(w, http.StatusOK, out)
	return nil
}

// getOperation is GET /v1/operations/{id}, with ?wait=done a long poll
// until the operation is done or the timeout passes.
func (h *handler) getOperation(w http.ResponseWriter, r *http.Request, rs RegistrarService) error {
	id, q := chi.URLParam(r, "id"), r.URL.Query()
	var op registrar.Operation
	var err error
	switch wait := q.Get("wait"); wait {
	case "":
		op, err = rs.Operation(r.Context(), tenantID(r), id)
	case "done":
		timeout, terr := parseWaitTimeout(q.Get("timeout"))
		if terr != nil {
			return terr
		}
		op, err = rs.WaitOperation(r.Context(), tenantID(r), id, timeout)
	default:
		return invalidInput("wait must be done, not " + strconv.Quote(wait))
	}
	if err != nil {
		return err
	}
	h.writeJSON(w, http.StatusOK, operationResponse{Operation: toOperationJSON(op)})
	return nil
}
