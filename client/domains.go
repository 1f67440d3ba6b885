package client

import (
	"context"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// Domain registration (docs/registrar.md): /v1/domains, /v1/operations
// and the operator's /v1/registry/….
var (
	opCheckDomainAvailability    = operation{"checkDomainAvailability", "GET", "/v1/domains/availability"}
	opCheckDomainTransferability = operation{"checkDomainTransferability", "GET", "/v1/domains/transferability"}
	opGetDomainSuggestions       = operation{"getDomainSuggestions", "GET", "/v1/domains/suggestions"}
	opListDomainPrices           = operation{"listDomainPrices", "GET", "/v1/domains/prices"}
	opRegisterDomain             = operation{"registerDomain", "POST", "/v1/domains"}
	opListDomains                = operation{"listDomains", "GET", "/v1/domains"}
	opGetDomain                  = operation{"getDomain", "GET", "/v1/domains/{name}"}
	opUpdateDomain               = operation{"updateDomain", "PATCH", "/v1/domains/{name}"}
	opDeleteDomain               = operation{"deleteDomain", "DELETE", "/v1/domains/{name}"}
	opUpdateDomainNameservers    = operation{"updateDomainNameservers", "PUT", "/v1/domains/{name}/nameservers"}
	opRenewDomain                = operation{"renewDomain", "POST", "/v1/domains/{name}/renew"}
	opRestoreDomain              = operation{"restoreDomain", "POST", "/v1/domains/{name}/restore"}
	opListDomainDS               = operation{"listDomainDS", "GET", "/v1/domains/{name}/ds"}
	opAddDomainDS                = operation{"addDomainDS", "POST", "/v1/domains/{name}/ds"}
	opRemoveDomainDS             = operation{"removeDomainDS", "DELETE", "/v1/domains/{name}/ds/{id}"}
	opGetDomainAuthCode          = operation{"getDomainAuthCode", "GET", "/v1/domains/{name}/authcode"}
	opRotateDomainAuthCode       = operation{"rotateDomainAuthCode", "POST", "/v1/domains/{name}/authcode/rotate"}
	opListOperations             = operation{"listOperations", "GET", "/v1/operations"}
	opGetOperation               = operation{"getOperation", "GET", "/v1/operations/{id}"}
	opListRegistryTLDs           = operation{"listRegistryTLDs", "GET", "/v1/registry/tlds"}
	opGetRegistryTLD             = operation{"getRegistryTLD", "GET", "/v1/registry/tlds/{tld}"}
	opPutRegistryTLD             = operation{"putRegistryTLD", "PUT", "/v1/registry/tlds/{tld}"}
	opListRegistryNames          = operation{"listRegistryNames", "GET", "/v1/registry/tlds/{tld}/names"}
	opPutRegistryName            = operation{"putRegistryName", "PUT", "/v1/registry/tlds/{tld}/names/{label}"}
	opDeleteRegistryName         = operation{"deleteRegistryName", "DELETE", "/v1/registry/tlds/{tld}/names/{label}"}
	opListExternalTLDs           = operation{"listExternalTLDs", "GET", "/v1/registry/external"}
	opGetExternalTLD             = operation{"getExternalTLD", "GET", "/v1/registry/external/{tld}"}
	opPutExternalTLD             = operation{"putExternalTLD", "PUT", "/v1/registry/external/{tld}"}
	opDeleteExternalTLD          = operation{"deleteExternalTLD", "DELETE", "/v1/registry/external/{tld}"}
)

func domainOperations() []operation {
	return []operation{opCheckDomainAvailability, opCheckDomainTransferability, opGetDomainSuggestions, opListDomainPrices,
		opRegisterDomain, opListDomains, opGetDomain, opUpdateDomain, opDeleteDomain, opUpdateDomainNameservers,
		opRenewDomain, opRestoreDomain, opListDomainDS, opAddDomainDS, opRemoveDomainDS, opGetDomainAuthCode,
		opRotateDomainAuthCode, opListOperations, opGetOperation, opListRegistryTLDs, opGetRegistryTLD, opPutRegistryTLD,
		opListRegistryNames, opPutRegistryName, opDeleteRegistryName, opGetRegistryClock, opAdvanceRegistryClock,
		opListExternalTLDs, opGetExternalTLD, opPutExternalTLD, opDeleteExternalTLD}
}

// Operation statuses, Route 53 Domains'.
const (
	OperationSubmitted  = "SUBMITTED"
	OperationInProgress = "IN_PROGRESS"
	OperationSuccessful = "SUCCESSFUL"
	OperationError      = "ERROR"
	OperationFailed     = "FAILED"
)

// Contact is a domain contact's RFC 5733 fields. Voice and Fax are
// +CC.NUMBER; CountryCode is ISO 3166 alpha-2.
type Contact struct {
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

// Contacts are a domain's contacts by role; at registration a role left
// out takes the registrant.
type Contacts struct {
	Registrant *Contact `json:"registrant,omitempty"`
	Admin      *Contact `json:"admin,omitempty"`
	Tech       *Contact `json:"tech,omitempty"`
	Billing    *Contact `json:"billing,omitempty"`
}

// DomainNameserver is a nameserver of a domain, with glue addresses when
// it is inside the domain.
type DomainNameserver struct {
	Name    string   `json:"name"`
	GlueIPs []string `json:"glue_ips,omitempty"`
}

// DSRecord is a DS record of a domain; ID is derived from its four fields
// and so stable.
type DSRecord struct {
	ID         string `json:"id"`
	KeyTag     int    `json:"key_tag"`
	Algorithm  int    `json:"algorithm"`
	DigestType int    `json:"digest_type"`
	Digest     string `json:"digest"`
}

// DSInput is a DS record to add: KeyTag, Algorithm, DigestType and
// Digest, or a DNSKEY's Flags, Algorithm and PublicKey (base64).
type DSInput struct {
	KeyTag     *int   `json:"key_tag,omitempty"`
	Algorithm  int    `json:"algorithm"`
	DigestType int    `json:"digest_type,omitempty"`
	Digest     string `json:"digest,omitempty"`
	Flags      int    `json:"flags,omitempty"`
	PublicKey  string `json:"public_key,omitempty"`
}

// Operation is an asynchronous registrar operation with Route 53
// Domains' type and status.
type Operation struct {
	OperationID     string    `json:"operation_id"`
	Domain          string    `json:"domain"`
	Type            string    `json:"type"`
	Status          string    `json:"status"`
	StatusFlag      string    `json:"status_flag,omitempty"`
	Message         string    `json:"message,omitempty"`
	CallerReference string    `json:"caller_reference,omitempty"`
	SubmittedAt     time.Time `json:"submitted_at"`
	UpdatedAt       time.Time `json:"updated_at"`
}

// Done reports whether the operation has finished (SUCCESSFUL, ERROR or
// FAILED).
func (o Operation) Done() bool {
	return o.Status == OperationSuccessful || o.Status == OperationError || o.Status == OperationFailed
}

// OperationOutput is the answer of every operation-making call.
type OperationOutput struct {
	Operation Operation `json:"operation"`
}

// ListOperationsOutput is a page of operations.
type ListOperationsOutput struct {
	Operations []Operation `json:"operations"`
	NextMarker string      `json:"next_marker,omitempty"`
}

// Domain is one of the account's domains.
type Domain struct {
	Name                string             `json:"name"`
	AutoRenew           bool               `json:"auto_renew"`
	TransferLock        bool               `json:"transfer_lock"`
	Privacy             bool               `json:"privacy"`
	HostedZoneID        string             `json:"hosted_zone_id,omitempty"`
	Nameservers         []DomainNameserver `json:"nameservers"`
	Contacts            Contacts           `json:"contacts"`
	Statuses            []string           `json:"statuses"`
	RGPStatus           string             `json:"rgp_status,omitempty"`
	RGPUntil            *time.Time         `json:"rgp_until,omitempty"`
	RegistryDomainID    string             `json:"registry_domain_id"`
	Registrar           string             `json:"registrar"`
	CreatedAt           time.Time          `json:"created_at"`
	UpdatedAt           time.Time          `json:"updated_at"`
	ExpiresAt           time.Time          `json:"expires_at"`
	TransferLockedUntil *time.Time         `json:"transfer_locked_until,omitempty"`
	DS                  []DSRecord         `json:"ds"`
}

// DomainOutput is GetDomain's answer.
type DomainOutput struct {
	Domain Domain `json:"domain"`
}

// UpdateDomainOutput is UpdateDomain's answer: the domain, and the
// operation when the change made one.
type UpdateDomainOutput struct {
	Domain    Domain     `json:"domain"`
	Operation *Operation `json:"operation,omitempty"`
}

// DomainSummary is a domain in ListDomains.
type DomainSummary struct {
	Name         string    `json:"name"`
	AutoRenew    bool      `json:"auto_renew"`
	TransferLock bool      `json:"transfer_lock"`
	ExpiresAt    time.Time `json:"expires_at"`
	Statuses     []string  `json:"statuses"`
	HostedZoneID string    `json:"hosted_zone_id,omitempty"`
}

// ListDomainsOutput is a page of domains.
type ListDomainsOutput struct {
	Domains    []DomainSummary `json:"domains"`
	NextMarker string          `json:"next_marker,omitempty"`
}

// Availability is a name's availability (Route 53's values) and yearly
// price in minor units of Currency.
type Availability struct {
	Name         string `json:"name"`
	Availability string `json:"availability"`
	Premium      bool   `json:"premium"`
	Price        int64  `json:"price"`
	Currency     string `json:"currency,omitempty"`
	Reason       string `json:"reason,omitempty"`
}

// Transferability says whether a name can be transferred into the account.
type Transferability struct {
	Name            string     `json:"name"`
	Transferability string     `json:"transferability"`
	Message         string     `json:"message,omitempty"`
	ExpiresAt       *time.Time `json:"expires_at,omitempty"`
	Price           int64      `json:"price,omitempty"`
	Currency        string     `json:"currency,omitempty"`
}

// SuggestionsOutput is GetDomainSuggestions' answer.
type SuggestionsOutput struct {
	Suggestions []Availability `json:"suggestions"`
}

// TLDPrice is a TLD's yearly prices in minor units of Currency.
type TLDPrice struct {
	TLD          string `json:"tld"`
	Currency     string `json:"currency"`
	Registration int64  `json:"registration"`
	Renewal      int64  `json:"renewal"`
	Transfer     int64  `json:"transfer"`
	Restoration  int64  `json:"restoration"`
}

// PricesOutput is ListDomainPrices' answer.
type PricesOutput struct {
	Prices []TLDPrice `json:"prices"`
}

// RegisterDomainInput registers a domain: give HostedZone ("create" or a
// zone id) or Nameservers. DurationInYears 1–10 (0: 1); AutoRenew and
// Privacy default to true when nil.
type RegisterDomainInput struct {
	Name            string             `json:"name"`
	DurationInYears int                `json:"duration_in_years,omitempty"`
	Contacts        Contacts           `json:"contacts"`
	Privacy         *bool              `json:"privacy,omitempty"`
	AutoRenew       *bool              `json:"auto_renew,omitempty"`
	MaxPrice        int64              `json:"max_price,omitempty"`
	Nameservers     []DomainNameserver `json:"nameservers,omitempty"`
	HostedZone      string             `json:"hosted_zone,omitempty"`
	// DNSSEC, with HostedZone "create", signs the new zone in the same
	// transaction and publishes its DS with the delegation.
	DNSSEC          bool   `json:"dnssec,omitempty"`
	CallerReference string `json:"caller_reference,omitempty"`
}

// UpdateDomainInput changes a domain's settings; nil fields stay.
type UpdateDomainInput struct {
	AutoRenew       *bool     `json:"auto_renew,omitempty"`
	TransferLock    *bool     `json:"transfer_lock,omitempty"`
	Privacy         *bool     `json:"privacy,omitempty"`
	Contacts        *Contacts `json:"contacts,omitempty"`
	CallerReference string    `json:"caller_reference,omitempty"`
}

// UpdateDomainNameserversInput replaces a domain's nameservers.
type UpdateDomainNameserversInput struct {
	Nameservers     []DomainNameserver `json:"nameservers"`
	CallerReference string             `json:"caller_reference,omitempty"`
}

// RenewDomainInput renews a domain; CurrentExpiryYear must be the year it
// expires now.
type RenewDomainInput struct {
	DurationInYears   int    `json:"duration_in_years,omitempty"`
	CurrentExpiryYear int    `json:"current_expiry_year"`
	CallerReference   string `json:"caller_reference,omitempty"`
}

// CallerReferenceInput is an optional caller reference.
type CallerReferenceInput struct {
	CallerReference string `json:"caller_reference,omitempty"`
}

// AddDomainDSInput adds DS records.
type AddDomainDSInput struct {
	Records         []DSInput `json:"records"`
	CallerReference string    `json:"caller_reference,omitempty"`
}

// AddDomainDSOutput is AddDomainDS' answer: the operation and the
// records' ids.
type AddDomainDSOutput struct {
	Operation Operation  `json:"operation"`
	DS        []DSRecord `json:"ds"`
}

// DSListOutput is ListDomainDS' answer.
type DSListOutput struct {
	DS []DSRecord `json:"ds"`
}

// AuthCodeOutput is a domain's transfer auth code.
type AuthCodeOutput struct {
	AuthCode string `json:"auth_code"`
}

// ListDomainsInput filters and pages ListDomains. SortBy is name or
// expiry; SortOrder ASC or DESC.
type ListDomainsInput struct {
	NamePrefix    string
	ExpiresBefore time.Time
	ExpiresAfter  time.Time
	SortBy        string
	SortOrder     string
	Marker        string
	MaxItems      int
}

// ListOperationsInput filters and pages ListOperations (newest first by
// default; SortOrder ASC for oldest first).
type ListOperationsInput struct {
	Statuses       []string
	Types          []string
	Domain         string
	SubmittedSince time.Time
	SortOrder      string
	Marker         string
	MaxItems       int
}

// GetOperationInput makes GetOperation wait until the operation is done,
// up to Timeout (0: the server's default, 30 s).
type GetOperationInput struct {
	Wait    bool
	Timeout time.Duration
}

// GetDomainSuggestionsInput asks for Count names (1–50; 0: 10) like
// Name; AllAvailability includes names that are not AVAILABLE.
type GetDomainSuggestionsInput struct {
	Name            string
	Count           int
	AllAvailability bool
}

func (q query) time(k string, t time.Time) query {
	if !t.IsZero() {
		url.Values(q).Set(k, t.UTC().Format(time.RFC3339))
	}
	return q
}

// CheckDomainAvailability says whether a name can be registered, and at
// what price.
func (c *Client) CheckDomainAvailability(ctx context.Context, name string) (*Availability, error) {
	return callOut[Availability](ctx, c, request{op: opCheckDomainAvailability, query: url.Values(query{}.str("name", name))})
}

// CheckDomainTransferability says whether a name can be transferred into
// this account.
func (c *Client) CheckDomainTransferability(ctx context.Context, name string) (*Transferability, error) {
	return callOut[Transferability](ctx, c, request{op: opCheckDomainTransferability, query: url.Values(query{}.str("name", name))})
}

// GetDomainSuggestions offers names like in.Name with their availability.
func (c *Client) GetDomainSuggestions(ctx context.Context, in GetDomainSuggestionsInput) (*SuggestionsOutput, error) {
	q := query{}.str("name", in.Name).int("count", int64(in.Count))
	if in.AllAvailability {
		q.str("only_available", "false")
	}
	return callOut[SuggestionsOutput](ctx, c, request{op: opGetDomainSuggestions, query: url.Values(q)})
}

// ListDomainPrices lists yearly prices of one TLD, or of all with "".
func (c *Client) ListDomainPrices(ctx context.Context, tld string) (*PricesOutput, error) {
	return callOut[PricesOutput](ctx, c, request{op: opListDomainPrices, query: url.Values(query{}.str("tld", tld))})
}

// RegisterDomain registers a domain; the answer is the operation.
func (c *Client) RegisterDomain(ctx context.Context, in RegisterDomainInput) (*OperationOutput, error) {
	if in.CallerReference == "" {
		in.CallerReference = callerReference()
	}
	return callOut[OperationOutput](ctx, c, request{op: opRegisterDomain, body: in})
}

// ListDomains returns one page of the account's domains.
func (c *Client) ListDomains(ctx context.Context, in *ListDomainsInput) (*ListDomainsOutput, error) {
	if in == nil {
		in = &ListDomainsInput{}
	}
	q := query{}.str("name_prefix", in.NamePrefix).time("expires_before", in.ExpiresBefore).time("expires_after", in.ExpiresAfter).
		str("sort_by", in.SortBy).str("sort_order", in.SortOrder).str("marker", in.Marker).int("max_items", int64(in.MaxItems))
	return callOut[ListDomainsOutput](ctx, c, request{op: opListDomains, query: url.Values(q)})
}

// GetDomain returns one domain.
func (c *Client) GetDomain(ctx context.Context, name string) (*DomainOutput, error) {
	return callOut[DomainOutput](ctx, c, request{op: opGetDomain, pathArgs: []string{name}})
}

// UpdateDomain changes auto-renew, transfer lock, privacy or contacts.
func (c *Client) UpdateDomain(ctx context.Context, name string, in UpdateDomainInput) (*UpdateDomainOutput, error) {
	return callOut[UpdateDomainOutput](ctx, c, request{op: opUpdateDomain, pathArgs: []string{name}, body: in})
}

// DeleteDomain deletes a domain (refunded in the add grace period,
// restorable from redemption otherwise).
func (c *Client) DeleteDomain(ctx context.Context, name, callerRef string) (*OperationOutput, error) {
	return callOut[OperationOutput](ctx, c, request{op: opDeleteDomain, pathArgs: []string{name}, query: url.Values(query{}.str("caller_reference", callerRef))})
}

// UpdateDomainNameservers replaces a domain's nameservers.
func (c *Client) UpdateDomainNameservers(ctx context.Context, name string, in UpdateDomainNameserversInput) (*OperationOutput, error) {
	return callOut[OperationOutput](ctx, c, request{op: opUpdateDomainNameservers, pathArgs: []string{name}, body: in})
}

// RenewDomain renews a domain.
func (c *Client) RenewDomain(ctx context.Context, name string, in RenewDomainInput) (*OperationOutput, error) {
	return callOut[OperationOutput](ctx, c, request{op: opRenewDomain, pathArgs: []string{name}, body: in})
}

// RestoreDomain restores a domain from redemption.
func (c *Client) RestoreDomain(ctx context.Context, name string, in CallerReferenceInput) (*OperationOutput, error) {
	return callOut[OperationOutput](ctx, c, request{op: opRestoreDomain, pathArgs: []string{name}, body: in})
}

// ListDomainDS lists a domain's DS records.
func (c *Client) ListDomainDS(ctx context.Context, name string) (*DSListOutput, error) {
	return callOut[DSListOutput](ctx, c, request{op: opListDomainDS, pathArgs: []string{name}})
}

// AddDomainDS adds DS records (or DNSKEYs) to a domain.
func (c *Client) AddDomainDS(ctx context.Context, name string, in AddDomainDSInput) (*AddDomainDSOutput, error) {
	return callOut[AddDomainDSOutput](ctx, c, request{op: opAddDomainDS, pathArgs: []string{name}, body: in})
}

// RemoveDomainDS removes a DS record by its id.
func (c *Client) RemoveDomainDS(ctx context.Context, name, id, callerRef string) (*OperationOutput, error) {
	return callOut[OperationOutput](ctx, c, request{op: opRemoveDomainDS, pathArgs: []string{name, id}, query: url.Values(query{}.str("caller_reference", callerRef))})
}

// GetDomainAuthCode returns a domain's transfer auth code.
func (c *Client) GetDomainAuthCode(ctx context.Context, name string) (*AuthCodeOutput, error) {
	return callOut[AuthCodeOutput](ctx, c, request{op: opGetDomainAuthCode, pathArgs: []string{name}})
}

// RotateDomainAuthCode draws a new auth code.
func (c *Client) RotateDomainAuthCode(ctx context.Context, name string) (*AuthCodeOutput, error) {
	return callOut[AuthCodeOutput](ctx, c, request{op: opRotateDomainAuthCode, pathArgs: []string{name}})
}

// ListOperations returns one page of registrar operations.
func (c *Client) ListOperations(ctx context.Context, in *ListOperationsInput) (*ListOperationsOutput, error) {
	if in == nil {
		in = &ListOperationsInput{}
	}
	q := query{}.str("status", strings.Join(in.Statuses, ",")).str("type", strings.Join(in.Types, ",")).str("domain", in.Domain).
		time("submitted_since", in.SubmittedSince).str("sort_order", in.SortOrder).str("marker", in.Marker).int("max_items", int64(in.MaxItems))
	return callOut[ListOperationsOutput](ctx, c, request{op: opListOperations, query: url.Values(q)})
}

// GetOperation returns an operation; with in.Wait it answers once the
// operation is done or the timeout passes.
func (c *Client) GetOperation(ctx context.Context, id string, in *GetOperationInput) (*OperationOutput, error) {
	q := query{}
	if in != nil && in.Wait {
		q.str("wait", "done")
		if in.Timeout > 0 {
			q.str("timeout", strconv.FormatFloat(in.Timeout.Seconds(), 'f', -1, 64)+"s")
		}
	}
	return callOut[OperationOutput](ctx, c, request{op: opGetOperation, pathArgs: []string{id}, query: url.Values(q)})
}

// WaitOperation polls an operation with long polls until it is done or
// ctx ends.
func (c *Client) WaitOperation(ctx context.Context, id string) (*Operation, error) {
	for {
		out, err := c.GetOperation(ctx, id, &GetOperationInput{Wait: true, Timeout: 30 * time.Second})
		if err != nil {
			return nil, err
		}
		if out.Operation.Done() {
			return &out.Operation, nil
		}
		if err := ctx.Err(); err != nil {
			return &out.Operation, err
		}
	}
}

// TLDPrices are a TLD's prices in a PutRegistryTLD; nil fields stay.
type TLDPrices struct {
	Currency     *string `json:"currency,omitempty"`
	Registration *int64  `json:"registration,omitempty"`
	Renewal      *int64  `json:"renewal,omitempty"`
	Transfer     *int64  `json:"transfer,omitempty"`
	Restoration  *int64  `json:"restoration,omitempty"`
}

// TLDPolicy is a TLD's lifecycle policy in seconds in a PutRegistryTLD;
// nil fields stay.
type TLDPolicy struct {
	AddGraceSeconds       *int64 `json:"add_grace_seconds,omitempty"`
	RenewGraceSeconds     *int64 `json:"renew_grace_seconds,omitempty"`
	AutoRenewGraceSeconds *int64 `json:"auto_renew_grace_seconds,omitempty"`
	TransferGraceSeconds  *int64 `json:"transfer_grace_seconds,omitempty"`
	RedemptionSeconds     *int64 `json:"redemption_seconds,omitempty"`
	PendingDeleteSeconds  *int64 `json:"pending_delete_seconds,omitempty"`
	TransferLockSeconds   *int64 `json:"transfer_lock_seconds,omitempty"`
	TransferWaitSeconds   *int64 `json:"transfer_wait_seconds,omitempty"`
	NegativeTTL           *int64 `json:"negative_ttl,omitempty"`
	DelegationTTL         *int64 `json:"delegation_ttl,omitempty"`
	// CreateApproval makes every domain create wait for the operator
	// (EPP 1001, pendingCreate), as in a sunrise or land-rush period.
	CreateApproval *bool `json:"create_approval,omitempty"`
}

// PutRegistryTLDInput creates or configures a TLD.
type PutRegistryTLDInput struct {
	Prices *TLDPrices `json:"prices,omitempty"`
	Policy *TLDPolicy `json:"policy,omitempty"`
	// DNSSEC true signs the TLD's zone (a signed TLD stays signed).
	DNSSEC *bool `json:"dnssec,omitempty"`
}

// RegistryTLD is a TLD of the built-in registry; its Prices and Policy
// fields are all set.
type RegistryTLD struct {
	TLD          string    `json:"tld"`
	HostedZoneID string    `json:"hosted_zone_id"`
	Prices       TLDPrices `json:"prices"`
	Policy       TLDPolicy `json:"policy"`
	NameServers  []string  `json:"name_servers"`
	// DS is the signed TLD zone's trust anchor (presentation form);
	// empty while unsigned.
	DS        []string  `json:"ds"`
	CreatedAt time.Time `json:"created_at"`
}

// RegistryTLDOutput is one TLD.
type RegistryTLDOutput struct {
	TLD RegistryTLD `json:"tld"`
}

// RegistryTLDsOutput lists TLDs.
type RegistryTLDsOutput struct {
	TLDs []RegistryTLD `json:"tlds"`
}

// NameRule is a reserved or premium label of a TLD.
type NameRule struct {
	Label string `json:"label"`
	Kind  string `json:"kind"`
	Price int64  `json:"price,omitempty"`
}

// PutNameRuleInput reserves a label (Kind "reserved") or makes it premium
// at a yearly Price.
type PutNameRuleInput struct {
	Kind  string `json:"kind"`
	Price int64  `json:"price,omitempty"`
}

// NameRuleOutput is one rule.
type NameRuleOutput struct {
	Name NameRule `json:"name"`
}

// NameRulesOutput lists a TLD's rules.
type NameRulesOutput struct {
	Names []NameRule `json:"names"`
}

// ListRegistryTLDs lists the built-in registry's TLDs (operator token).
func (c *Client) ListRegistryTLDs(ctx context.Context) (*RegistryTLDsOutput, error) {
	return callOut[RegistryTLDsOutput](ctx, c, request{op: opListRegistryTLDs})
}

// GetRegistryTLD returns one TLD (operator token).
func (c *Client) GetRegistryTLD(ctx context.Context, tld string) (*RegistryTLDOutput, error) {
	return callOut[RegistryTLDOutput](ctx, c, request{op: opGetRegistryTLD, pathArgs: []string{tld}})
}

// PutRegistryTLD creates a TLD or changes its prices and policy
// (operator token).
func (c *Client) PutRegistryTLD(ctx context.Context, tld string, in PutRegistryTLDInput) (*RegistryTLDOutput, error) {
	return callOut[RegistryTLDOutput](ctx, c, request{op: opPutRegistryTLD, pathArgs: []string{tld}, body: in})
}

// ListRegistryNames lists a TLD's reserved and premium names (operator
// token).
func (c *Client) ListRegistryNames(ctx context.Context, tld string) (*NameRulesOutput, error) {
	return callOut[NameRulesOutput](ctx, c, request{op: opListRegistryNames, pathArgs: []string{tld}})
}

// PutRegistryName reserves a label or makes it premium (operator token).
func (c *Client) PutRegistryName(ctx context.Context, tld, label string, in PutNameRuleInput) (*NameRuleOutput, error) {
	return callOut[NameRuleOutput](ctx, c, request{op: opPutRegistryName, pathArgs: []string{tld, label}, body: in})
}

// DeleteRegistryName removes a label's rule (operator token).
func (c *Client) DeleteRegistryName(ctx context.Context, tld, label string) error {
	return c.call(ctx, request{op: opDeleteRegistryName, pathArgs: []string{tld, label}}, nil)
}

// PutExternalTLDInput configures a TLD run by another registry, sold
// through the registrar's EPP client. Nil fields and empty secrets keep
// their value; a new TLD needs all but CAPEM and Prices.
type PutExternalTLDInput struct {
	EPPAddress    *string `json:"epp_address,omitempty"`
	ClientID      *string `json:"client_id,omitempty"`
	Password      string  `json:"password,omitempty"`
	ClientCertPEM *string `json:"client_cert_pem,omitempty"`
	// ClientKeyPEM is sealed by the server and never returned.
	ClientKeyPEM string     `json:"client_key_pem,omitempty"`
	CAPEM        *string    `json:"ca_pem,omitempty"`
	Prices       *TLDPrices `json:"prices,omitempty"`
}

// ExternalTLD is a TLD of an external registry, without its secrets.
type ExternalTLD struct {
	TLD           string    `json:"tld"`
	EPPAddress    string    `json:"epp_address"`
	ClientID      string    `json:"client_id"`
	ClientCertPEM string    `json:"client_cert_pem"`
	CAPEM         string    `json:"ca_pem"`
	Prices        TLDPrices `json:"prices"`
	CreatedAt     time.Time `json:"created_at"`
	UpdatedAt     time.Time `json:"updated_at"`
}

// ExternalTLDOutput is one external TLD.
type ExternalTLDOutput struct {
	External ExternalTLD `json:"external"`
}

// ExternalTLDsOutput lists external TLDs.
type ExternalTLDsOutput struct {
	External []ExternalTLD `json:"external"`
}

// ListExternalTLDs lists the external registries' TLDs (operator token).
func (c *Client) ListExternalTLDs(ctx context.Context) (*ExternalTLDsOutput, error) {
	return callOut[ExternalTLDsOutput](ctx, c, request{op: opListExternalTLDs})
}

// GetExternalTLD returns one external TLD (operator token).
func (c *Client) GetExternalTLD(ctx context.Context, tld string) (*ExternalTLDOutput, error) {
	return callOut[ExternalTLDOutput](ctx, c, request{op: opGetExternalTLD, pathArgs: []string{tld}})
}

// PutExternalTLD creates or changes an external TLD (operator token).
func (c *Client) PutExternalTLD(ctx context.Context, tld string, in PutExternalTLDInput) (*ExternalTLDOutput, error) {
	return callOut[ExternalTLDOutput](ctx, c, request{op: opPutExternalTLD, pathArgs: []string{tld}, body: in})
}

// DeleteExternalTLD stops selling an external TLD (operator token).
func (c *Client) DeleteExternalTLD(ctx context.Context, tld string) error {
	return c.call(ctx, request{op: opDeleteExternalTLD, pathArgs: []string{tld}}, nil)
}

var (
	opGetRegistryClock     = operation{"getRegistryClock", "GET", "/v1/registry/clock"}
	opAdvanceRegistryClock = operation{"advanceRegistryClock", "POST", "/v1/registry/clock"}
)

// RegistryClock is the built-in registry's time.
type RegistryClock struct {
	Now time.Time `json:"now"`
}

// RegistryClockAdvance moves a test clock forward by a Go duration
// ("720h").
type RegistryClockAdvance struct {
	Advance string `json:"advance"`
}

// GetRegistryClock returns the registry's time (operator token; 404 when
// the clock is not a test clock).
func (c *Client) GetRegistryClock(ctx context.Context) (*RegistryClock, error) {
	return callOut[RegistryClock](ctx, c, request{op: opGetRegistryClock})
}

// AdvanceRegistryClock moves the registry's test clock forward (operator
// token; `waymark dev` only).
func (c *Client) AdvanceRegistryClock(ctx context.Context, d time.Duration) (*RegistryClock, error) {
	return callOut[RegistryClock](ctx, c, request{op: opAdvanceRegistryClock, body: RegistryClockAdvance{Advance: d.String()}})
}
