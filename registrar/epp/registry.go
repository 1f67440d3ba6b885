package epp

import (
	"context"
	"crypto/x509"
	"net/netip"
	"time"
)

// Registry is what the Server needs of a registry: one method per command,
// each given the registrar the session logged in as. Methods return an
// *Error to choose the result code (CodeOf maps everything else to 2400).
// Information a registrar may not see (another sponsor's authInfo) is left
// out by the Registry, not the Server.
type Registry interface {
	// Login authenticates a registrar by client id, password and the TLS
	// client certificate it presented, and returns the registrar's id. A
	// non-empty NewPassword changes the password on success.
	Login(ctx context.Context, l LoginRequest) (registrar string, err error)

	CheckDomains(ctx context.Context, registrar string, names []string) ([]Check, error)
	// InfoDomain returns the domain; authInfo is the one the client sent,
	// which lets a non-sponsor see a domain it is about to transfer.
	InfoDomain(ctx context.Context, registrar, name, authInfo string) (Domain, error)
	CreateDomain(ctx context.Context, registrar string, c DomainCreate) (Domain, error)
	UpdateDomain(ctx context.Context, registrar string, u DomainUpdate) (Domain, error)
	// RenewDomain adds years to a domain whose expiry date is curExp (a
	// date; the registry compares the day).
	RenewDomain(ctx context.Context, registrar, name string, curExp time.Time, years int) (Domain, error)
	// DeleteDomain deletes a domain or, past the add grace period, starts
	// the redemption period (pending is then true: EPP 1001).
	DeleteDomain(ctx context.Context, registrar, name string) (pending bool, err error)
	// RestoreDomain restores a domain in its redemption period (RFC 3915).
	RestoreDomain(ctx context.Context, registrar, name string) (Domain, error)
	TransferDomain(ctx context.Context, registrar string, t TransferRequest) (Transfer, error)

	CheckHosts(ctx context.Context, registrar string, names []string) ([]Check, error)
	InfoHost(ctx context.Context, registrar, name string) (Host, error)
	CreateHost(ctx context.Context, registrar string, h Host) (Host, error)
	UpdateHost(ctx context.Context, registrar string, u HostUpdate) (Host, error)
	DeleteHost(ctx context.Context, registrar, name string) error

	CheckContacts(ctx context.Context, registrar string, ids []string) ([]Check, error)
	InfoContact(ctx context.Context, registrar, id, authInfo string) (Contact, error)
	CreateContact(ctx context.Context, registrar string, c Contact) (Contact, error)
	UpdateContact(ctx context.Context, registrar string, u ContactUpdate) (Contact, error)
	DeleteContact(ctx context.Context, registrar, id string) error

	// Poll returns the oldest message for the registrar (nil when none)
	// and how many are queued.
	Poll(ctx context.Context, registrar string) (msg *PollMessage, count int, err error)
	// Ack dequeues message id and returns how many remain.
	Ack(ctx context.Context, registrar, id string) (remaining int, err error)
}

// LoginRequest is a login's credentials.
type LoginRequest struct {
	ClientID    string
	Password    string
	NewPassword string
	// Cert is the TLS client certificate (the leaf); never nil for a
	// session the Server accepted.
	Cert *x509.Certificate
}

// Check is the availability of one name or id.
type Check struct {
	Name   string
	Avail  bool
	Reason string
}

// DS is one delegation signer record as secDNS-1.1 carries it; Digest is
// hexadecimal.
type DS struct {
	KeyTag     uint16
	Alg        uint8
	DigestType uint8
	Digest     string
}

// ContactLink is a domain's link to a contact: Type is admin, billing or
// tech.
type ContactLink struct {
	Type string
	ID   string
}

// Domain is a domain object (RFC 5731 §3.1.2 info data).
type Domain struct {
	Name string
	ROID string
	// Status are the RFC 5731 statuses ("ok", "clientHold", …).
	Status []string
	// RGPStatus are the RFC 3915 grace-period statuses ("addPeriod", …).
	RGPStatus  []string
	Registrant string
	Contacts   []ContactLink
	// NS are the host objects delegated to.
	NS []string
	// Hosts are the subordinate host objects.
	Hosts                  []string
	ClID, CrID, UpID       string
	CrDate, UpDate, ExDate time.Time
	TrDate                 time.Time
	AuthInfo               string
	DS                     []DS
}

// DomainCreate is a domain create.
type DomainCreate struct {
	Name       string
	Years      int
	NS         []string
	Registrant string
	Contacts   []ContactLink
	AuthInfo   string
	DS         []DS
	// ClTRID is the command's client transaction id (set by the Server):
	// a registry that answers 1001 names it in the poll message that
	// settles the create.
	ClTRID string
}

// DomainUpdate is a domain update; nil pointers are unchanged.
type DomainUpdate struct {
	Name                     string
	AddNS, RemNS             []string
	AddContacts, RemContacts []ContactLink
	AddStatus, RemStatus     []string
	Registrant               *string
	AuthInfo                 *string
	// AddDS are added after RemDS (or all DS, when RemAllDS) are removed.
	AddDS, RemDS []DS
	RemAllDS     bool
}

// TransferRequest is a domain transfer command; Op is request, query,
// approve, reject or cancel.
type TransferRequest struct {
	Op       string
	Name     string
	AuthInfo string
	Years    int
}

// Transfer is a transfer's state (RFC 5731 trnData). Status is pending,
// clientApproved, clientCancelled, clientRejected, serverApproved or
// serverCancelled.
type Transfer struct {
	Name   string
	Status string
	ReID   string
	ReDate time.Time
	AcID   string
	AcDate time.Time
	// ExDate is the expiry after the transfer, when it changes it.
	ExDate time.Time
}

// Host is a host object (RFC 5732).
type Host struct {
	Name             string
	ROID             string
	Status           []string
	Addrs            []netip.Addr
	ClID, CrID, UpID string
	CrDate, UpDate   time.Time
	TrDate           time.Time
}

// HostUpdate is a host update; an empty NewName keeps the name.
type HostUpdate struct {
	Name                 string
	AddAddrs, RemAddrs   []netip.Addr
	AddStatus, RemStatus []string
	NewName              string
}

// Postal is a contact's postal information; Type is "int" or "loc".
type Postal struct {
	Type   string
	Name   string
	Org    string
	Street []string
	City   string
	SP     string
	PC     string
	CC     string
}

// Contact is a contact object (RFC 5733).
type Contact struct {
	ID         string
	ROID       string
	Status     []string
	Postal     []Postal
	Voice, Fax string
	Email      string
	AuthInfo   string
	// Private is set when the contact asked for its data to be withheld
	// (disclose flag="0"): RDAP redacts it.
	Private          bool
	ClID, CrID, UpID string
	CrDate, UpDate   time.Time
}

// ContactUpdate is a contact update; nil fields are unchanged.
type ContactUpdate struct {
	ID                   string
	AddStatus, RemStatus []string
	Postal               []Postal
	Voice, Fax, Email    *string
	AuthInfo             *string
	Private              *bool
}

// PollMessage is one service message. Transfer is set for a transfer's
// news, Pending for the outcome of a command answered 1001, Change and
// Domain for a server-initiated change (RFC 8590).
type PollMessage struct {
	ID       string
	QDate    time.Time
	Text     string
	Transfer *Transfer
	Pending  *PendingAction
	Change   *Change
	Domain   *Domain
}

// Change describes a server-initiated change: Operation is one of RFC
// 8590's (create, delete, renew, transfer, update, restore, autoRenew,
// autoDelete, autoPurge, custom).
type Change struct {
	Operation string
	Date      time.Time
	SvTRID    string
	Who       string
	Reason    string
}

// PendingAction is the outcome of a command that was answered 1001 (RFC
// 5731 panData): the domain, whether it succeeded, and the command's
// transaction ids.
type PendingAction struct {
	Name   string
	OK     bool
	ClTRID string
	SvTRID string
	Date   time.Time
}
