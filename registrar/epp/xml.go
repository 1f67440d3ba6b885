package epp

import (
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"strconv"
	"time"
)

// The namespaces of the protocol and of every object and extension served.
const (
	NSEPP        = "urn:ietf:params:xml:ns:epp-1.0"
	NSDomain     = "urn:ietf:params:xml:ns:domain-1.0"
	NSHost       = "urn:ietf:params:xml:ns:host-1.0"
	NSContact    = "urn:ietf:params:xml:ns:contact-1.0"
	NSSecDNS     = "urn:ietf:params:xml:ns:secDNS-1.1"
	NSRGP        = "urn:ietf:params:xml:ns:rgp-1.0"
	NSChangePoll = "urn:ietf:params:xml:ns:changePoll-1.0"
)

// Message is one EPP instance (the <epp> element): exactly one of its
// fields is set. The same type is decoded by the server and encoded by the
// client, and the other way round for Greeting and Response.
type Message struct {
	XMLName  xml.Name  `xml:"urn:ietf:params:xml:ns:epp-1.0 epp"`
	Hello    *struct{} `xml:"hello"`
	Greeting *Greeting `xml:"greeting"`
	Command  *Command  `xml:"command"`
	Response *Response `xml:"response"`
}

// Greeting is the server's first frame and its answer to <hello>.
type Greeting struct {
	SvID   string  `xml:"svID"`
	SvDate string  `xml:"svDate"`
	Menu   SvcMenu `xml:"svcMenu"`
	DCP    DCP     `xml:"dcp"`
}

// SvcMenu lists the protocol versions, languages, objects and extensions.
type SvcMenu struct {
	Version    []string `xml:"version"`
	Lang       []string `xml:"lang"`
	ObjURI     []string `xml:"objURI"`
	Extensions *ExtURIs `xml:"svcExtension,omitempty"`
}

// ExtURIs is a <svcExtension> list.
type ExtURIs struct {
	ExtURI []string `xml:"extURI"`
}

// DCP is the data collection policy of RFC 5730 §2.4, kept as its parts are
// in the greeting: access, statements of purpose, recipient and retention.
type DCP struct {
	Access    DCPAccess      `xml:"access"`
	Statement []DCPStatement `xml:"statement"`
}

// DCPAccess says which of the data collected a client may see.
type DCPAccess struct {
	All      *struct{} `xml:"all"`
	None     *struct{} `xml:"none"`
	Personal *struct{} `xml:"personal"`
}

// DCPStatement is one purpose/recipient/retention statement.
type DCPStatement struct {
	Purpose struct {
		Admin   *struct{} `xml:"admin"`
		Contact *struct{} `xml:"contact"`
		Prov    *struct{} `xml:"prov"`
		Other   *struct{} `xml:"other"`
	} `xml:"purpose"`
	Recipient struct {
		Ours   *struct{} `xml:"ours"`
		Public *struct{} `xml:"public"`
		Other  *struct{} `xml:"other"`
	} `xml:"recipient"`
	Retention struct {
		Business   *struct{} `xml:"business"`
		Indefinite *struct{} `xml:"indefinite"`
		Legal      *struct{} `xml:"legal"`
		None       *struct{} `xml:"none"`
		Stated     *struct{} `xml:"stated"`
	} `xml:"retention"`
}

// Command is a client's <command>: one verb, its object, extensions and the
// client's transaction id.
type Command struct {
	Login     *Login       `xml:"login"`
	Logout    *struct{}    `xml:"logout"`
	Check     *Objects     `xml:"check"`
	Info      *Objects     `xml:"info"`
	Create    *Objects     `xml:"create"`
	Update    *Objects     `xml:"update"`
	Delete    *Objects     `xml:"delete"`
	Renew     *Objects     `xml:"renew"`
	Transfer  *TransferCmd `xml:"transfer"`
	Poll      *Poll        `xml:"poll"`
	Extension *Extension   `xml:"extension"`
	ClTRID    string       `xml:"clTRID,omitempty"`
}

// Login opens a session (RFC 5730 §2.9.1.1).
type Login struct {
	ClID    string       `xml:"clID"`
	PW      string       `xml:"pw"`
	NewPW   string       `xml:"newPW,omitempty"`
	Options LoginOptions `xml:"options"`
	Svcs    LoginSvcs    `xml:"svcs"`
}

// LoginOptions are the version and language the client speaks.
type LoginOptions struct {
	Version string `xml:"version"`
	Lang    string `xml:"lang"`
}

// LoginSvcs are the objects and extensions the client will use.
type LoginSvcs struct {
	ObjURI     []string `xml:"objURI"`
	Extensions *ExtURIs `xml:"svcExtension,omitempty"`
}

// Objects holds a command's object element: the mapping's namespace says
// which one, so exactly one field is set.
type Objects struct {
	Domain  *DomainCmd
	Host    *HostCmd
	Contact *ContactCmd
	// Other is set to the element's name for an object not served here.
	Other *xml.Name `xml:"-"`
}

// UnmarshalXML chooses the field by the child element's namespace: the
// mappings share local names (check, info, …), so the tag cannot.
func (o *Objects) UnmarshalXML(d *xml.Decoder, start xml.StartElement) error {
	return decodeChildren(d, func(t xml.StartElement) (any, error) {
		switch {
		case o.Domain != nil || o.Host != nil || o.Contact != nil || o.Other != nil:
			return nil, fmt.Errorf("more than one object in <%s>", start.Name.Local)
		case t.Name.Space == NSDomain:
			o.Domain = new(DomainCmd)
			return o.Domain, nil
		case t.Name.Space == NSHost:
			o.Host = new(HostCmd)
			return o.Host, nil
		case t.Name.Space == NSContact:
			o.Contact = new(ContactCmd)
			return o.Contact, nil
		}
		n := t.Name
		o.Other = &n
		return nil, nil
	})
}

// decodeChildren decodes each child element into what pick returns for it,
// skipping it when pick returns nil, until the parent's end.
func decodeChildren(d *xml.Decoder, pick func(xml.StartElement) (any, error)) error {
	for {
		tok, err := d.Token()
		if err != nil {
			return err
		}
		switch t := tok.(type) {
		case xml.EndElement:
			return nil
		case xml.StartElement:
			dst, err := pick(t)
			if err != nil {
				return err
			}
			if dst == nil {
				if err := d.Skip(); err != nil {
					return err
				}
				continue
			}
			if err := d.DecodeElement(dst, &t); err != nil {
				return err
			}
		}
	}
}

// TransferCmd is <transfer op="…"> with its object.
type TransferCmd struct {
	Op string `xml:"op,attr"`
	Objects
}

// UnmarshalXML reads the op attribute, then the object as Objects does.
func (t *TransferCmd) UnmarshalXML(d *xml.Decoder, start xml.StartElement) error {
	for _, a := range start.Attr {
		if a.Name.Local == "op" {
			t.Op = a.Value
		}
	}
	return t.Objects.UnmarshalXML(d, start)
}

// Poll is <poll op="req|ack" msgID="…">.
type Poll struct {
	Op    string `xml:"op,attr"`
	MsgID string `xml:"msgID,attr,omitempty"`
}

// Extension holds the command or response extensions understood here.
type Extension struct {
	SecDNSCreate  *SecDNSCreate  `xml:"urn:ietf:params:xml:ns:secDNS-1.1 create"`
	SecDNSUpdate  *SecDNSUpdate  `xml:"urn:ietf:params:xml:ns:secDNS-1.1 update"`
	SecDNSInfData *SecDNSInfData `xml:"urn:ietf:params:xml:ns:secDNS-1.1 infData"`
	RGPUpdate     *RGPUpdate     `xml:"urn:ietf:params:xml:ns:rgp-1.0 update"`
	RGPInfData    *RGPInfData    `xml:"urn:ietf:params:xml:ns:rgp-1.0 infData"`
	RGPUpData     *RGPInfData    `xml:"urn:ietf:params:xml:ns:rgp-1.0 upData"`
	ChangeData    *ChangeData    `xml:"urn:ietf:params:xml:ns:changePoll-1.0 changeData"`
	// Other keeps extensions not known here, so a server can refuse them
	// with 2103 instead of ignoring what the client meant.
	Other []xml.Name `xml:"-"`
}

// UnmarshalXML decodes the known extensions and records the names of the rest.
func (e *Extension) UnmarshalXML(d *xml.Decoder, start xml.StartElement) error {
	return decodeChildren(d, func(t xml.StartElement) (any, error) {
		switch t.Name {
		case xml.Name{Space: NSSecDNS, Local: "create"}:
			e.SecDNSCreate = new(SecDNSCreate)
			return e.SecDNSCreate, nil
		case xml.Name{Space: NSSecDNS, Local: "update"}:
			e.SecDNSUpdate = new(SecDNSUpdate)
			return e.SecDNSUpdate, nil
		case xml.Name{Space: NSSecDNS, Local: "infData"}:
			e.SecDNSInfData = new(SecDNSInfData)
			return e.SecDNSInfData, nil
		case xml.Name{Space: NSRGP, Local: "update"}:
			e.RGPUpdate = new(RGPUpdate)
			return e.RGPUpdate, nil
		case xml.Name{Space: NSRGP, Local: "infData"}:
			e.RGPInfData = new(RGPInfData)
			return e.RGPInfData, nil
		case xml.Name{Space: NSRGP, Local: "upData"}:
			e.RGPUpData = new(RGPInfData)
			return e.RGPUpData, nil
		case xml.Name{Space: NSChangePoll, Local: "changeData"}:
			e.ChangeData = new(ChangeData)
			return e.ChangeData, nil
		}
		e.Other = append(e.Other, t.Name)
		return nil, nil
	})
}

// Response is the server's <response>.
type Response struct {
	Result    []Result   `xml:"result"`
	MsgQ      *MsgQ      `xml:"msgQ,omitempty"`
	ResData   *ResData   `xml:"resData,omitempty"`
	Extension *Extension `xml:"extension,omitempty"`
	TrID      TrID       `xml:"trID"`
}

// Result is one <result code="…">.
type Result struct {
	Code     Code       `xml:"code,attr"`
	Msg      string     `xml:"msg"`
	ExtValue []ExtValue `xml:"extValue,omitempty"`
}

// ExtValue explains a failure; the value element is kept as raw XML.
type ExtValue struct {
	Value  InnerXML `xml:"value"`
	Reason string   `xml:"reason"`
}

// InnerXML carries an element's content unparsed.
type InnerXML struct {
	XML string `xml:",innerxml"`
}

// MsgQ describes the poll queue (RFC 5730 §2.6).
type MsgQ struct {
	Count int    `xml:"count,attr"`
	ID    string `xml:"id,attr"`
	QDate string `xml:"qDate,omitempty"`
	Msg   string `xml:"msg,omitempty"`
}

// TrID is the pair of transaction ids.
type TrID struct {
	ClTRID string `xml:"clTRID,omitempty"`
	SvTRID string `xml:"svTRID"`
}

// ResData holds the object-specific response data; one field is set.
type ResData struct {
	Domain  *DomainData
	Host    *HostData
	Contact *ContactData
}

// UnmarshalXML chooses the field by namespace, as Objects does; data of
// other objects is skipped.
func (r *ResData) UnmarshalXML(d *xml.Decoder, start xml.StartElement) error {
	return decodeChildren(d, func(t xml.StartElement) (any, error) {
		switch t.Name.Space {
		case NSDomain:
			r.Domain = new(DomainData)
			return r.Domain, nil
		case NSHost:
			r.Host = new(HostData)
			return r.Host, nil
		case NSContact:
			r.Contact = new(ContactData)
			return r.Contact, nil
		}
		return nil, nil
	})
}

// Text is an element with character content and optional attributes used
// across the mappings (avail, s, lang, type, ip, unit, hosts).
type Text struct {
	Value string `xml:",chardata"`
}

// DomainCmd is the domain-1.0 element of any command; XMLName.Local is the
// verb (check, info, create, update, delete, renew, transfer).
type DomainCmd struct {
	XMLName    xml.Name
	Names      []DomainName  `xml:"name"`
	Period     *Period       `xml:"period,omitempty"`
	CurExpDate string        `xml:"curExpDate,omitempty"`
	NS         *DomainNS     `xml:"ns,omitempty"`
	Registrant string        `xml:"registrant,omitempty"`
	Contacts   []ContactRef  `xml:"contact,omitempty"`
	AuthInfo   *AuthInfo     `xml:"authInfo,omitempty"`
	Add        *DomainAddRem `xml:"add,omitempty"`
	Rem        *DomainAddRem `xml:"rem,omitempty"`
	Chg        *DomainChg    `xml:"chg,omitempty"`
}

// Period is a registration period; unit "y" (years) or "m" (months).
type Period struct {
	Unit  string `xml:"unit,attr"`
	Value int    `xml:",chardata"`
}

// Years converts the period to whole years, rejecting months that are not
// a multiple of twelve: registries of ours sell whole years.
func (p *Period) Years() (int, error) {
	if p == nil {
		return 1, nil
	}
	switch p.Unit {
	case "y", "":
		return p.Value, nil
	case "m":
		if p.Value%12 == 0 {
			return p.Value / 12, nil
		}
	}
	return 0, Errorf(CodeParameterPolicy, "period %d%s is not whole years", p.Value, p.Unit)
}

// DomainNS is <domain:ns>: host objects or host attributes.
type DomainNS struct {
	HostObj  []string   `xml:"hostObj,omitempty"`
	HostAttr []HostAttr `xml:"hostAttr,omitempty"`
}

// HostAttr is an in-line host with its glue.
type HostAttr struct {
	HostName string     `xml:"hostName"`
	HostAddr []HostAddr `xml:"hostAddr,omitempty"`
}

// HostAddr is an address with its version, "v4" (default) or "v6".
type HostAddr struct {
	IP   string `xml:"ip,attr,omitempty"`
	Addr string `xml:",chardata"`
}

// ContactRef links a contact by id; Type is admin, billing or tech.
type ContactRef struct {
	Type string `xml:"type,attr,omitempty"`
	ID   string `xml:",chardata"`
}

// AuthInfo is a password authorisation (the only kind served here).
type AuthInfo struct {
	PW   string    `xml:"pw,omitempty"`
	Null *struct{} `xml:"null"`
}

// Status is an object status with its optional text.
type Status struct {
	S    string `xml:"s,attr"`
	Lang string `xml:"lang,attr,omitempty"`
	Text string `xml:",chardata"`
}

// DomainAddRem is the add or rem part of a domain update.
type DomainAddRem struct {
	NS       *DomainNS    `xml:"ns,omitempty"`
	Contacts []ContactRef `xml:"contact,omitempty"`
	Status   []Status     `xml:"status,omitempty"`
}

// DomainChg is the chg part of a domain update.
type DomainChg struct {
	Registrant *string   `xml:"registrant,omitempty"`
	AuthInfo   *AuthInfo `xml:"authInfo,omitempty"`
}

// DomainData is the domain-1.0 element of a response: chkData, infData,
// creData, renData, trnData or panData (XMLName.Local says which).
type DomainData struct {
	XMLName xml.Name
	// CD are the check results (chkData).
	CD []CheckItem `xml:"cd,omitempty"`
	// Name is every other kind's name (and paResult's).
	Name       *DomainName  `xml:"name,omitempty"`
	ROID       string       `xml:"roid,omitempty"`
	Status     []Status     `xml:"status,omitempty"`
	Registrant string       `xml:"registrant,omitempty"`
	Contacts   []ContactRef `xml:"contact,omitempty"`
	NS         *DomainNS    `xml:"ns,omitempty"`
	Host       []string     `xml:"host,omitempty"`
	ClID       string       `xml:"clID,omitempty"`
	CrID       string       `xml:"crID,omitempty"`
	CrDate     string       `xml:"crDate,omitempty"`
	UpID       string       `xml:"upID,omitempty"`
	UpDate     string       `xml:"upDate,omitempty"`
	ExDate     string       `xml:"exDate,omitempty"`
	TrDate     string       `xml:"trDate,omitempty"`
	AuthInfo   *AuthInfo    `xml:"authInfo,omitempty"`
	// Transfer data (trnData).
	TrStatus string `xml:"trStatus,omitempty"`
	ReID     string `xml:"reID,omitempty"`
	ReDate   string `xml:"reDate,omitempty"`
	AcID     string `xml:"acID,omitempty"`
	AcDate   string `xml:"acDate,omitempty"`
	// PaTRID and PaDate are a pending action's outcome (panData).
	PaTRID *TrID  `xml:"paTRID,omitempty"`
	PaDate string `xml:"paDate,omitempty"`
}

// DomainName is a name with the info command's hosts attribute or the
// panData paResult attribute.
type DomainName struct {
	Hosts    string `xml:"hosts,attr,omitempty"`
	PaResult string `xml:"paResult,attr,omitempty"`
	Value    string `xml:",chardata"`
}

// CheckItem is one <cd>: the name or id and whether it is available.
type CheckItem struct {
	Name   *CheckName `xml:"name,omitempty"`
	ID     *CheckName `xml:"id,omitempty"`
	Reason string     `xml:"reason,omitempty"`
}

// CheckName is the checked name with its avail flag ("1"/"0" or
// "true"/"false"; read it with Available).
type CheckName struct {
	Avail string `xml:"avail,attr"`
	Value string `xml:",chardata"`
}

// Available reads the avail flag.
func (c *CheckName) Available() bool { return c != nil && (c.Avail == "1" || c.Avail == "true") }

// HostCmd is the host-1.0 element of any command.
type HostCmd struct {
	XMLName xml.Name
	Names   []string    `xml:"name"`
	Addr    []HostAddr  `xml:"addr,omitempty"`
	Add     *HostAddRem `xml:"add,omitempty"`
	Rem     *HostAddRem `xml:"rem,omitempty"`
	Chg     *HostChg    `xml:"chg,omitempty"`
}

// HostAddRem is the add or rem part of a host update.
type HostAddRem struct {
	Addr   []HostAddr `xml:"addr,omitempty"`
	Status []Status   `xml:"status,omitempty"`
}

// HostChg renames a host.
type HostChg struct {
	Name string `xml:"name"`
}

// HostData is the host-1.0 element of a response.
type HostData struct {
	XMLName xml.Name
	CD      []CheckItem `xml:"cd,omitempty"`
	Name    string      `xml:"name,omitempty"`
	ROID    string      `xml:"roid,omitempty"`
	Status  []Status    `xml:"status,omitempty"`
	Addr    []HostAddr  `xml:"addr,omitempty"`
	ClID    string      `xml:"clID,omitempty"`
	CrID    string      `xml:"crID,omitempty"`
	CrDate  string      `xml:"crDate,omitempty"`
	UpID    string      `xml:"upID,omitempty"`
	UpDate  string      `xml:"upDate,omitempty"`
	TrDate  string      `xml:"trDate,omitempty"`
}

// ContactCmd is the contact-1.0 element of any command.
type ContactCmd struct {
	XMLName    xml.Name
	IDs        []string       `xml:"id"`
	PostalInfo []PostalInfo   `xml:"postalInfo,omitempty"`
	Voice      string         `xml:"voice,omitempty"`
	Fax        string         `xml:"fax,omitempty"`
	Email      string         `xml:"email,omitempty"`
	AuthInfo   *AuthInfo      `xml:"authInfo,omitempty"`
	Disclose   *Disclose      `xml:"disclose,omitempty"`
	Add        *ContactAddRem `xml:"add,omitempty"`
	Rem        *ContactAddRem `xml:"rem,omitempty"`
	Chg        *ContactChg    `xml:"chg,omitempty"`
}

// PostalInfo is a contact's postal information; Type is "int" or "loc".
type PostalInfo struct {
	Type string `xml:"type,attr"`
	Name string `xml:"name"`
	Org  string `xml:"org,omitempty"`
	Addr Addr   `xml:"addr"`
}

// Addr is a postal address.
type Addr struct {
	Street []string `xml:"street,omitempty"`
	City   string   `xml:"city"`
	SP     string   `xml:"sp,omitempty"`
	PC     string   `xml:"pc,omitempty"`
	CC     string   `xml:"cc"`
}

// Disclose is the contact's disclosure preference; Flag "0" asks that the
// listed elements be withheld, which the registry treats as privacy.
type Disclose struct {
	Flag  string    `xml:"flag,attr"`
	Voice *struct{} `xml:"voice"`
	Email *struct{} `xml:"email"`
	Fax   *struct{} `xml:"fax"`
	Name  []Text    `xml:"name"`
	Org   []Text    `xml:"org"`
	Addr  []Text    `xml:"addr"`
}

// ContactAddRem is the add or rem part of a contact update.
type ContactAddRem struct {
	Status []Status `xml:"status,omitempty"`
}

// ContactChg is the chg part of a contact update.
type ContactChg struct {
	PostalInfo []PostalInfo `xml:"postalInfo,omitempty"`
	Voice      *string      `xml:"voice,omitempty"`
	Fax        *string      `xml:"fax,omitempty"`
	Email      *string      `xml:"email,omitempty"`
	AuthInfo   *AuthInfo    `xml:"authInfo,omitempty"`
	Disclose   *Disclose    `xml:"disclose,omitempty"`
}

// ContactData is the contact-1.0 element of a response.
type ContactData struct {
	XMLName    xml.Name
	CD         []CheckItem  `xml:"cd,omitempty"`
	ID         string       `xml:"id,omitempty"`
	ROID       string       `xml:"roid,omitempty"`
	Status     []Status     `xml:"status,omitempty"`
	PostalInfo []PostalInfo `xml:"postalInfo,omitempty"`
	Voice      string       `xml:"voice,omitempty"`
	Fax        string       `xml:"fax,omitempty"`
	Email      string       `xml:"email,omitempty"`
	ClID       string       `xml:"clID,omitempty"`
	CrID       string       `xml:"crID,omitempty"`
	CrDate     string       `xml:"crDate,omitempty"`
	UpID       string       `xml:"upID,omitempty"`
	UpDate     string       `xml:"upDate,omitempty"`
	TrDate     string       `xml:"trDate,omitempty"`
	AuthInfo   *AuthInfo    `xml:"authInfo,omitempty"`
	Disclose   *Disclose    `xml:"disclose,omitempty"`
}

// DSData is one secDNS-1.1 <dsData>.
type DSData struct {
	KeyTag     uint16 `xml:"keyTag"`
	Alg        uint8  `xml:"alg"`
	DigestType uint8  `xml:"digestType"`
	Digest     string `xml:"digest"`
}

// SecDNSCreate is <secDNS:create>: the DS of a new domain. keyData is not
// served (the registry publishes DS it is given, it does not hash keys).
type SecDNSCreate struct {
	XMLName    xml.Name   `xml:"urn:ietf:params:xml:ns:secDNS-1.1 create"`
	MaxSigLife int        `xml:"maxSigLife,omitempty"`
	DSData     []DSData   `xml:"dsData"`
	KeyData    []InnerXML `xml:"keyData"`
}

// SecDNSUpdate is <secDNS:update>: rem (all or listed) then add.
type SecDNSUpdate struct {
	XMLName xml.Name   `xml:"urn:ietf:params:xml:ns:secDNS-1.1 update"`
	Urgent  string     `xml:"urgent,attr,omitempty"`
	Rem     *SecDNSRem `xml:"rem,omitempty"`
	Add     *SecDNSAdd `xml:"add,omitempty"`
	Chg     *InnerXML  `xml:"chg,omitempty"`
}

// SecDNSRem removes all DS (All "true"/"1") or the listed ones.
type SecDNSRem struct {
	All     string     `xml:"all,omitempty"`
	DSData  []DSData   `xml:"dsData"`
	KeyData []InnerXML `xml:"keyData"`
}

// SecDNSAdd adds DS.
type SecDNSAdd struct {
	DSData  []DSData   `xml:"dsData"`
	KeyData []InnerXML `xml:"keyData"`
}

// SecDNSInfData is the DS of a domain in an info response.
type SecDNSInfData struct {
	XMLName xml.Name `xml:"urn:ietf:params:xml:ns:secDNS-1.1 infData"`
	DSData  []DSData `xml:"dsData"`
}

// RGPUpdate is <rgp:update><rgp:restore op="request|report"/>.
type RGPUpdate struct {
	XMLName xml.Name `xml:"urn:ietf:params:xml:ns:rgp-1.0 update"`
	Restore struct {
		Op string `xml:"op,attr"`
	} `xml:"restore"`
}

// RGPInfData carries the grace-period statuses (infData and upData).
type RGPInfData struct {
	XMLName   xml.Name
	RGPStatus []Status `xml:"rgpStatus"`
}

// ChangeData is RFC 8590's description of a server-initiated change.
type ChangeData struct {
	XMLName   xml.Name `xml:"urn:ietf:params:xml:ns:changePoll-1.0 changeData"`
	State     string   `xml:"state,attr,omitempty"`
	Operation string   `xml:"operation"`
	Date      string   `xml:"date"`
	SvTRID    string   `xml:"svTRID"`
	Who       string   `xml:"who"`
	Reason    string   `xml:"reason,omitempty"`
}

// maxDepth bounds element nesting in a decoded frame: no EPP message is
// deeper than a dozen levels, and a bound keeps hostile input cheap.
const maxDepth = 32

// ErrSyntax wraps every decoding failure so the server can answer 2001.
var ErrSyntax = errors.New("epp: malformed message")

// Decode parses one frame's XML. It refuses DTDs (no entity expansion),
// excessive nesting and anything but one <epp> element, so a hostile frame
// costs at most its own size.
func Decode(b []byte) (*Message, error) {
	if err := precheck(b); err != nil {
		return nil, err
	}
	var m Message
	d := xml.NewDecoder(bytes.NewReader(b))
	d.Strict = true
	if err := d.Decode(&m); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrSyntax, err)
	}
	n := 0
	if m.Hello != nil {
		n++
	}
	if m.Greeting != nil {
		n++
	}
	if m.Command != nil {
		n++
	}
	if m.Response != nil {
		n++
	}
	if n != 1 {
		return nil, fmt.Errorf("%w: <epp> must hold exactly one of hello, greeting, command, response", ErrSyntax)
	}
	return &m, nil
}

// precheck walks the tokens once: it rejects directives (<!DOCTYPE …>)
// and nesting deeper than maxDepth before the struct decoder sees them.
func precheck(b []byte) error {
	d := xml.NewDecoder(bytes.NewReader(b))
	d.Strict = true
	depth := 0
	for {
		tok, err := d.RawToken()
		if err != nil {
			if err.Error() == "EOF" {
				return nil
			}
			return fmt.Errorf("%w: %v", ErrSyntax, err)
		}
		switch tok.(type) {
		case xml.StartElement:
			depth++
			if depth > maxDepth {
				return fmt.Errorf("%w: nested deeper than %d", ErrSyntax, maxDepth)
			}
		case xml.EndElement:
			depth--
		case xml.Directive:
			return fmt.Errorf("%w: DTDs are not accepted", ErrSyntax)
		}
	}
}

// Encode serialises m with the XML declaration RFC 5730 examples carry.
func Encode(m *Message) ([]byte, error) {
	var buf bytes.Buffer
	buf.WriteString(xml.Header[:len(xml.Header)-1])
	buf.WriteString("\n")
	m.XMLName = xml.Name{Space: NSEPP, Local: "epp"}
	if err := xml.NewEncoder(&buf).Encode(m); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// eppTime is the timestamp format of the mappings (RFC 3339, UTC).
func eppTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format("2006-01-02T15:04:05.0Z")
}

// parseTime reads an EPP dateTime or a bare date (curExpDate is a date).
func parseTime(s string) (time.Time, error) {
	for _, f := range []string{time.RFC3339Nano, "2006-01-02"} {
		if t, err := time.Parse(f, s); err == nil {
			return t, nil
		}
	}
	return time.Time{}, Errorf(CodeValueSyntax, "bad date %q", s)
}

// MarshalXML writes the secDNS info data with the "secDNS:" prefix: some
// clients (Net::EPP::Simple among them) find dsData by prefixed tag name
// rather than by namespace, and the prefix is what RFC 5910's examples use.
func (s *SecDNSInfData) MarshalXML(e *xml.Encoder, _ xml.StartElement) error {
	pfx := func(l string) xml.Name { return xml.Name{Local: "secDNS:" + l} }
	start := xml.StartElement{Name: pfx("infData"), Attr: []xml.Attr{{Name: xml.Name{Local: "xmlns:secDNS"}, Value: NSSecDNS}}}
	if err := e.EncodeToken(start); err != nil {
		return err
	}
	for _, d := range s.DSData {
		ds := xml.StartElement{Name: pfx("dsData")}
		if err := e.EncodeToken(ds); err != nil {
			return err
		}
		for _, f := range []struct{ n, v string }{{"keyTag", strconv.Itoa(int(d.KeyTag))}, {"alg", strconv.Itoa(int(d.Alg))}, {"digestType", strconv.Itoa(int(d.DigestType))}, {"digest", d.Digest}} {
			if err := e.EncodeElement(f.v, xml.StartElement{Name: pfx(f.n)}); err != nil {
				return err
			}
		}
		if err := e.EncodeToken(ds.End()); err != nil {
			return err
		}
	}
	return e.EncodeToken(start.End())
}
