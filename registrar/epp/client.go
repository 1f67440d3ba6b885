package epp

import (
	"context"
	"crypto/tls"
	"encoding/xml"

	"fmt"
	"net"
	"net/netip"
	"strconv"
	"sync"
	"time"
)

// Client is an EPP session with a registry: TLS with a client certificate,
// one command at a time (EPP is strictly request–response per session).
// Commands answered 1001 are remembered as pending until Settle matches
// the registry's poll message to them.
type Client struct {
	// Greeting is the server's greeting read at Dial.
	Greeting *Greeting
	// MaxFrame bounds a response frame (default 4 × DefaultMaxFrame: a
	// large info or check can exceed the server's command limit).
	MaxFrame int
	// Timeout bounds one command's round trip when ctx has no deadline
	// (default 30 seconds).
	Timeout time.Duration

	mu      sync.Mutex
	conn    net.Conn
	prefix  string
	seq     uint64
	pending []PendingOp
}

// PendingOp is a command the registry answered 1001.
type PendingOp struct {
	// Command is create, update, renew, delete or transfer.
	Command string
	// Name is the domain.
	Name   string
	ClTRID string
	SvTRID string
}

// Settled is a pending command's outcome, read from a poll message.
type Settled struct {
	Op PendingOp
	OK bool
	// Status is the transfer status for a transfer, "" otherwise.
	Status string
}

// Dial connects to addr over TLS with cfg (which carries the client
// certificate) and reads the greeting. clTRIDs are prefix + a counter.
func Dial(ctx context.Context, addr string, cfg *tls.Config, prefix string) (*Client, error) {
	d := tls.Dialer{Config: cfg}
	conn, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return nil, err
	}
	c := &Client{conn: conn, prefix: prefix}
	m, err := c.read(ctx)
	if err != nil {
		conn.Close()
		return nil, err
	}
	if m.Greeting == nil {
		conn.Close()
		return nil, fmt.Errorf("epp: expected a greeting")
	}
	c.Greeting = m.Greeting
	return c, nil
}

// Close closes the connection without logging out.
func (c *Client) Close() error { return c.conn.Close() }

func (c *Client) deadline(ctx context.Context) time.Time {
	if d, ok := ctx.Deadline(); ok {
		return d
	}
	return time.Now().Add(orDur(c.Timeout, 30*time.Second))
}

func (c *Client) read(ctx context.Context) (*Message, error) {
	_ = c.conn.SetReadDeadline(c.deadline(ctx))
	b, err := ReadFrame(c.conn, orInt(c.MaxFrame, 4*DefaultMaxFrame))
	if err != nil {
		return nil, err
	}
	return Decode(b)
}

// Do sends cmd (with a fresh clTRID) and returns the response. A failure
// result is returned as an *Error together with the response.
func (c *Client) Do(ctx context.Context, cmd *Command) (*Response, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.seq++
	cmd.ClTRID = c.prefix + strconv.FormatUint(c.seq, 10)
	b, err := Encode(&Message{Command: cmd})
	if err != nil {
		return nil, err
	}
	_ = c.conn.SetWriteDeadline(c.deadline(ctx))
	if err := WriteFrame(c.conn, b); err != nil {
		return nil, err
	}
	m, err := c.read(ctx)
	if err != nil {
		return nil, err
	}
	r := m.Response
	if r == nil || len(r.Result) == 0 {
		return nil, fmt.Errorf("epp: expected a response")
	}
	if r.TrID.ClTRID != "" && r.TrID.ClTRID != cmd.ClTRID {
		return nil, fmt.Errorf("epp: response for %q, sent %q", r.TrID.ClTRID, cmd.ClTRID)
	}
	res := r.Result[0]
	if !res.Code.Success() {
		e := &Error{Code: res.Code, Msg: res.Msg}
		if len(res.ExtValue) > 0 {
			e.Reason = res.ExtValue[0].Reason
		}
		return r, e
	}
	return r, nil
}

func (c *Client) remember(r *Response, command, name string) bool {
	if r.Result[0].Code != CodePending {
		return false
	}
	c.mu.Lock()
	c.pending = append(c.pending, PendingOp{Command: command, Name: name, ClTRID: r.TrID.ClTRID, SvTRID: r.TrID.SvTRID})
	c.mu.Unlock()
	return true
}

// Pending lists the commands still waiting for the registry.
func (c *Client) Pending() []PendingOp {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]PendingOp(nil), c.pending...)
}

// Login opens the session for the objects and extensions served here.
func (c *Client) Login(ctx context.Context, clientID, password, newPassword string) error {
	_, err := c.Do(ctx, &Command{Login: &Login{
		ClID: clientID, PW: password, NewPW: newPassword,
		Options: LoginOptions{Version: "1.0", Lang: "en"},
		Svcs:    LoginSvcs{ObjURI: ServedObjURIs, Extensions: &ExtURIs{ExtURI: ServedExtURIs}},
	}})
	return err
}

// Logout ends the session (1500) and closes the connection.
func (c *Client) Logout(ctx context.Context) error {
	_, err := c.Do(ctx, &Command{Logout: &struct{}{}})
	c.conn.Close()
	return err
}

// Hello asks for a fresh greeting (RFC 5730 §2.3), the usual keep-alive.
func (c *Client) Hello(ctx context.Context) (*Greeting, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	b, err := Encode(&Message{Hello: &struct{}{}})
	if err != nil {
		return nil, err
	}
	_ = c.conn.SetWriteDeadline(c.deadline(ctx))
	if err := WriteFrame(c.conn, b); err != nil {
		return nil, err
	}
	m, err := c.read(ctx)
	if err != nil {
		return nil, err
	}
	if m.Greeting == nil {
		return nil, fmt.Errorf("epp: expected a greeting")
	}
	return m.Greeting, nil
}

func dom(verb string, d DomainCmd) *Objects {
	d.XMLName = xml.Name{Space: NSDomain, Local: verb}
	return &Objects{Domain: &d}
}

func names(ns []string) []DomainName {
	out := make([]DomainName, len(ns))
	for i, n := range ns {
		out[i] = DomainName{Value: n}
	}
	return out
}

func checks(cd []CheckItem) []Check {
	out := make([]Check, 0, len(cd))
	for _, c := range cd {
		n := c.Name
		if n == nil {
			n = c.ID
		}
		if n == nil {
			continue
		}
		out = append(out, Check{Name: n.Value, Avail: n.Available(), Reason: c.Reason})
	}
	return out
}

func parseT(s string) time.Time {
	if s == "" {
		return time.Time{}
	}
	t, _ := time.Parse(time.RFC3339Nano, s)
	return t
}

func fromDomainData(d *DomainData, ext *Extension) Domain {
	out := Domain{ROID: d.ROID, Status: statusNames(d.Status), Registrant: d.Registrant, Hosts: d.Host, ClID: d.ClID, CrID: d.CrID, UpID: d.UpID,
		CrDate: parseT(d.CrDate), UpDate: parseT(d.UpDate), ExDate: parseT(d.ExDate), TrDate: parseT(d.TrDate)}
	if d.Name != nil {
		out.Name = d.Name.Value
	}
	out.Contacts = contactLinks(d.Contacts)
	if d.NS != nil {
		out.NS = d.NS.HostObj
		for _, h := range d.NS.HostAttr {
			out.NS = append(out.NS, h.HostName)
		}
	}
	if d.AuthInfo != nil {
		out.AuthInfo = d.AuthInfo.PW
	}
	if ext != nil && ext.SecDNSInfData != nil {
		for _, x := range ext.SecDNSInfData.DSData {
			out.DS = append(out.DS, DS(x))
		}
	}
	if ext != nil && ext.RGPInfData != nil {
		out.RGPStatus = statusNames(ext.RGPInfData.RGPStatus)
	}
	return out
}

func errNoData(what string) error { return fmt.Errorf("epp: response has no %s", what) }

// CheckDomains checks names' availability.
func (c *Client) CheckDomains(ctx context.Context, ns ...string) ([]Check, error) {
	r, err := c.Do(ctx, &Command{Check: dom("check", DomainCmd{Names: names(ns)})})
	if err != nil {
		return nil, err
	}
	if r.ResData == nil || r.ResData.Domain == nil {
		return nil, errNoData("domain:chkData")
	}
	return checks(r.ResData.Domain.CD), nil
}

// InfoDomain reads a domain; authInfo may be empty for the sponsor.
func (c *Client) InfoDomain(ctx context.Context, name, authInfo string) (Domain, error) {
	d := DomainCmd{Names: []DomainName{{Value: name, Hosts: "all"}}}
	if authInfo != "" {
		d.AuthInfo = &AuthInfo{PW: authInfo}
	}
	r, err := c.Do(ctx, &Command{Info: dom("info", d)})
	if err != nil {
		return Domain{}, err
	}
	if r.ResData == nil || r.ResData.Domain == nil {
		return Domain{}, errNoData("domain:infData")
	}
	return fromDomainData(r.ResData.Domain, r.Extension), nil
}

// CreateDomain registers a domain; pending is true when the registry
// answered 1001 (Settle reports the outcome).
func (c *Client) CreateDomain(ctx context.Context, in DomainCreate) (out Domain, pending bool, err error) {
	d := DomainCmd{Names: names([]string{in.Name}), Registrant: in.Registrant, AuthInfo: &AuthInfo{PW: in.AuthInfo}}
	if in.Years > 0 {
		d.Period = &Period{Unit: "y", Value: in.Years}
	}
	if len(in.NS) > 0 {
		d.NS = &DomainNS{HostObj: in.NS}
	}
	for _, l := range in.Contacts {
		d.Contacts = append(d.Contacts, ContactRef(l))
	}
	cmd := &Command{Create: dom("create", d)}
	if len(in.DS) > 0 {
		cmd.Extension = &Extension{SecDNSCreate: &SecDNSCreate{DSData: dsData(in.DS)}}
	}
	r, err := c.Do(ctx, cmd)
	if err != nil {
		return Domain{}, false, err
	}
	if r.ResData == nil || r.ResData.Domain == nil {
		return Domain{}, false, errNoData("domain:creData")
	}
	return fromDomainData(r.ResData.Domain, nil), c.remember(r, "create", in.Name), nil
}

// UpdateDomain changes a domain, DS included (secDNS-1.1).
func (c *Client) UpdateDomain(ctx context.Context, u DomainUpdate) (pending bool, err error) {
	d := DomainCmd{Names: names([]string{u.Name})}
	if len(u.AddNS)+len(u.AddContacts)+len(u.AddStatus) > 0 {
		d.Add = &DomainAddRem{Status: statuses(u.AddStatus)}
		if len(u.AddNS) > 0 {
			d.Add.NS = &DomainNS{HostObj: u.AddNS}
		}
		for _, l := range u.AddContacts {
			d.Add.Contacts = append(d.Add.Contacts, ContactRef(l))
		}
	}
	if len(u.RemNS)+len(u.RemContacts)+len(u.RemStatus) > 0 {
		d.Rem = &DomainAddRem{Status: statuses(u.RemStatus)}
		if len(u.RemNS) > 0 {
			d.Rem.NS = &DomainNS{HostObj: u.RemNS}
		}
		for _, l := range u.RemContacts {
			d.Rem.Contacts = append(d.Rem.Contacts, ContactRef(l))
		}
	}
	if u.Registrant != nil || u.AuthInfo != nil {
		d.Chg = &DomainChg{Registrant: u.Registrant}
		if u.AuthInfo != nil {
			d.Chg.AuthInfo = &AuthInfo{PW: *u.AuthInfo}
		}
	}
	cmd := &Command{Update: dom("update", d)}
	if u.RemAllDS || len(u.RemDS)+len(u.AddDS) > 0 {
		su := &SecDNSUpdate{}
		if u.RemAllDS {
			su.Rem = &SecDNSRem{All: "true"}
		} else if len(u.RemDS) > 0 {
			su.Rem = &SecDNSRem{DSData: dsData(u.RemDS)}
		}
		if len(u.AddDS) > 0 {
			su.Add = &SecDNSAdd{DSData: dsData(u.AddDS)}
		}
		cmd.Extension = &Extension{SecDNSUpdate: su}
	}
	r, err := c.Do(ctx, cmd)
	if err != nil {
		return false, err
	}
	return c.remember(r, "update", u.Name), nil
}

// RenewDomain renews a domain whose expiry date is curExp.
func (c *Client) RenewDomain(ctx context.Context, name string, curExp time.Time, years int) (Domain, bool, error) {
	r, err := c.Do(ctx, &Command{Renew: dom("renew", DomainCmd{Names: names([]string{name}), CurExpDate: curExp.UTC().Format("2006-01-02"), Period: &Period{Unit: "y", Value: years}})})
	if err != nil {
		return Domain{}, false, err
	}
	if r.ResData == nil || r.ResData.Domain == nil {
		return Domain{}, false, errNoData("domain:renData")
	}
	return fromDomainData(r.ResData.Domain, nil), c.remember(r, "renew", name), nil
}

// DeleteDomain deletes a domain (pending: it entered redemption).
func (c *Client) DeleteDomain(ctx context.Context, name string) (bool, error) {
	r, err := c.Do(ctx, &Command{Delete: dom("delete", DomainCmd{Names: names([]string{name})})})
	if err != nil {
		return false, err
	}
	return r.Result[0].Code == CodePending, nil
}

// RestoreDomain requests an RGP restore of a domain in redemption.
func (c *Client) RestoreDomain(ctx context.Context, name string) ([]string, error) {
	cmd := &Command{Update: dom("update", DomainCmd{Names: names([]string{name}), Chg: &DomainChg{}})}
	cmd.Extension = &Extension{RGPUpdate: &RGPUpdate{}}
	cmd.Extension.RGPUpdate.Restore.Op = "request"
	r, err := c.Do(ctx, cmd)
	if err != nil {
		return nil, err
	}
	if r.Extension != nil && r.Extension.RGPUpData != nil {
		return statusNames(r.Extension.RGPUpData.RGPStatus), nil
	}
	return nil, nil
}

// TransferDomain runs a transfer op; a request answered 1001 is pending.
func (c *Client) TransferDomain(ctx context.Context, t TransferRequest) (Transfer, bool, error) {
	d := DomainCmd{Names: names([]string{t.Name})}
	if t.AuthInfo != "" {
		d.AuthInfo = &AuthInfo{PW: t.AuthInfo}
	}
	if t.Years > 0 {
		d.Period = &Period{Unit: "y", Value: t.Years}
	}
	o := dom("transfer", d)
	r, err := c.Do(ctx, &Command{Transfer: &TransferCmd{Op: t.Op, Objects: *o}})
	if err != nil {
		return Transfer{}, false, err
	}
	if r.ResData == nil || r.ResData.Domain == nil {
		return Transfer{}, false, errNoData("domain:trnData")
	}
	return fromTrnData(r.ResData.Domain), c.remember(r, "transfer", t.Name), nil
}

func fromTrnData(d *DomainData) Transfer {
	t := Transfer{Status: d.TrStatus, ReID: d.ReID, ReDate: parseT(d.ReDate), AcID: d.AcID, AcDate: parseT(d.AcDate), ExDate: parseT(d.ExDate)}
	if d.Name != nil {
		t.Name = d.Name.Value
	}
	return t
}

func hostCmd(verb string, h HostCmd) *Objects {
	h.XMLName = xml.Name{Space: NSHost, Local: verb}
	return &Objects{Host: &h}
}

// CheckHosts checks host names.
func (c *Client) CheckHosts(ctx context.Context, ns ...string) ([]Check, error) {
	r, err := c.Do(ctx, &Command{Check: hostCmd("check", HostCmd{Names: ns})})
	if err != nil {
		return nil, err
	}
	if r.ResData == nil || r.ResData.Host == nil {
		return nil, errNoData("host:chkData")
	}
	return checks(r.ResData.Host.CD), nil
}

// CreateHost creates a host object with its glue addresses.
func (c *Client) CreateHost(ctx context.Context, name string, addrs ...netip.Addr) error {
	_, err := c.Do(ctx, &Command{Create: hostCmd("create", HostCmd{Names: []string{name}, Addr: hostAddrs(addrs)})})
	return err
}

// InfoHost reads a host object.
func (c *Client) InfoHost(ctx context.Context, name string) (Host, error) {
	r, err := c.Do(ctx, &Command{Info: hostCmd("info", HostCmd{Names: []string{name}})})
	if err != nil {
		return Host{}, err
	}
	if r.ResData == nil || r.ResData.Host == nil {
		return Host{}, errNoData("host:infData")
	}
	h := r.ResData.Host
	out := Host{Name: h.Name, ROID: h.ROID, Status: statusNames(h.Status), ClID: h.ClID, CrID: h.CrID, UpID: h.UpID, CrDate: parseT(h.CrDate), UpDate: parseT(h.UpDate)}
	for _, a := range h.Addr {
		if ip, err := netip.ParseAddr(a.Addr); err == nil {
			out.Addrs = append(out.Addrs, ip)
		}
	}
	return out, nil
}

// UpdateHost changes a host's addresses, statuses or name.
func (c *Client) UpdateHost(ctx context.Context, u HostUpdate) error {
	h := HostCmd{Names: []string{u.Name}}
	if len(u.AddAddrs)+len(u.AddStatus) > 0 {
		h.Add = &HostAddRem{Addr: hostAddrs(u.AddAddrs), Status: statuses(u.AddStatus)}
	}
	if len(u.RemAddrs)+len(u.RemStatus) > 0 {
		h.Rem = &HostAddRem{Addr: hostAddrs(u.RemAddrs), Status: statuses(u.RemStatus)}
	}
	if u.NewName != "" {
		h.Chg = &HostChg{Name: u.NewName}
	}
	_, err := c.Do(ctx, &Command{Update: hostCmd("update", h)})
	return err
}

// DeleteHost deletes a host object.
func (c *Client) DeleteHost(ctx context.Context, name string) error {
	_, err := c.Do(ctx, &Command{Delete: hostCmd("delete", HostCmd{Names: []string{name}})})
	return err
}

func contactCmd(verb string, ct ContactCmd) *Objects {
	ct.XMLName = xml.Name{Space: NSContact, Local: verb}
	return &Objects{Contact: &ct}
}

// CheckContacts checks contact ids.
func (c *Client) CheckContacts(ctx context.Context, ids ...string) ([]Check, error) {
	r, err := c.Do(ctx, &Command{Check: contactCmd("check", ContactCmd{IDs: ids})})
	if err != nil {
		return nil, err
	}
	if r.ResData == nil || r.ResData.Contact == nil {
		return nil, errNoData("contact:chkData")
	}
	return checks(r.ResData.Contact.CD), nil
}

// CreateContact creates a contact; Private sends disclose flag="0".
func (c *Client) CreateContact(ctx context.Context, ct Contact) error {
	cc := ContactCmd{IDs: []string{ct.ID}, PostalInfo: fromPostal(ct.Postal), Voice: ct.Voice, Fax: ct.Fax, Email: ct.Email, AuthInfo: &AuthInfo{PW: ct.AuthInfo}}
	if ct.Private {
		cc.Disclose = &Disclose{Flag: "0", Voice: &struct{}{}, Email: &struct{}{}}
	}
	_, err := c.Do(ctx, &Command{Create: contactCmd("create", cc)})
	return err
}

// InfoContact reads a contact.
func (c *Client) InfoContact(ctx context.Context, id, authInfo string) (Contact, error) {
	cc := ContactCmd{IDs: []string{id}}
	if authInfo != "" {
		cc.AuthInfo = &AuthInfo{PW: authInfo}
	}
	r, err := c.Do(ctx, &Command{Info: contactCmd("info", cc)})
	if err != nil {
		return Contact{}, err
	}
	if r.ResData == nil || r.ResData.Contact == nil {
		return Contact{}, errNoData("contact:infData")
	}
	d := r.ResData.Contact
	p, _ := toPostal(d.PostalInfo)
	out := Contact{ID: d.ID, ROID: d.ROID, Status: statusNames(d.Status), Postal: p, Voice: d.Voice, Fax: d.Fax, Email: d.Email, ClID: d.ClID, CrID: d.CrID, UpID: d.UpID, CrDate: parseT(d.CrDate), UpDate: parseT(d.UpDate)}
	if d.AuthInfo != nil {
		out.AuthInfo = d.AuthInfo.PW
	}
	if d.Disclose != nil && (d.Disclose.Flag == "0" || d.Disclose.Flag == "false") {
		out.Private = true
	}
	return out, nil
}

// DeleteContact deletes a contact.
func (c *Client) DeleteContact(ctx context.Context, id string) error {
	_, err := c.Do(ctx, &Command{Delete: contactCmd("delete", ContactCmd{IDs: []string{id}})})
	return err
}

// Poll reads the head of the message queue (nil when empty).
func (c *Client) Poll(ctx context.Context) (*PollMessage, int, error) {
	r, err := c.Do(ctx, &Command{Poll: &Poll{Op: "req"}})
	if err != nil {
		return nil, 0, err
	}
	if r.Result[0].Code == CodeNoMessages || r.MsgQ == nil {
		return nil, 0, nil
	}
	m := &PollMessage{ID: r.MsgQ.ID, QDate: parseT(r.MsgQ.QDate), Text: r.MsgQ.Msg}
	if rd := r.ResData; rd != nil && rd.Domain != nil {
		switch rd.Domain.XMLName.Local {
		case "trnData":
			t := fromTrnData(rd.Domain)
			m.Transfer = &t
		case "panData":
			p := &PendingAction{}
			if rd.Domain.Name != nil {
				p.Name = rd.Domain.Name.Value
				p.OK = rd.Domain.Name.PaResult == "1" || rd.Domain.Name.PaResult == "true"
			}
			if rd.Domain.PaTRID != nil {
				p.ClTRID, p.SvTRID = rd.Domain.PaTRID.ClTRID, rd.Domain.PaTRID.SvTRID
			}
			p.Date = parseT(rd.Domain.PaDate)
			m.Pending = p
		case "infData":
			d := fromDomainData(rd.Domain, r.Extension)
			m.Domain = &d
		}
	}
	if r.Extension != nil && r.Extension.ChangeData != nil {
		cd := r.Extension.ChangeData
		m.Change = &Change{Operation: cd.Operation, Date: parseT(cd.Date), SvTRID: cd.SvTRID, Who: cd.Who, Reason: cd.Reason}
	}
	return m, r.MsgQ.Count, nil
}

// Ack dequeues a message and returns how many remain.
func (c *Client) Ack(ctx context.Context, id string) (int, error) {
	r, err := c.Do(ctx, &Command{Poll: &Poll{Op: "ack", MsgID: id}})
	if err != nil {
		return 0, err
	}
	if r.MsgQ == nil {
		return 0, nil
	}
	return r.MsgQ.Count, nil
}

// Settle drains the poll queue, acknowledging every message, and returns
// the pending commands the messages settled (transfer news by domain name,
// pending-action notices by the command's svTRID, falling back to the
// name). Messages that settle nothing are acknowledged too, and returned
// in other so the caller can act on them.
func (c *Client) Settle(ctx context.Context) (settled []Settled, other []PollMessage, err error) {
	for {
		m, _, err := c.Poll(ctx)
		if err != nil {
			return settled, other, err
		}
		if m == nil {
			return settled, other, nil
		}
		if s, ok := c.match(m); ok {
			settled = append(settled, s)
		} else {
			other = append(other, *m)
		}
		if _, err := c.Ack(ctx, m.ID); err != nil {
			return settled, other, err
		}
	}
}

func (c *Client) match(m *PollMessage) (Settled, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for i, p := range c.pending {
		var s Settled
		switch {
		case m.Transfer != nil && p.Command == "transfer" && p.Name == m.Transfer.Name:
			if m.Transfer.Status == "pending" {
				continue
			}
			s = Settled{Op: p, Status: m.Transfer.Status, OK: m.Transfer.Status == "clientApproved" || m.Transfer.Status == "serverApproved"}
		case m.Pending != nil && (m.Pending.SvTRID != "" && m.Pending.SvTRID == p.SvTRID || m.Pending.SvTRID == "" && m.Pending.Name == p.Name):
			s = Settled{Op: p, OK: m.Pending.OK}
		default:
			continue
		}
		c.pending = append(c.pending[:i], c.pending[i+1:]...)
		return s, true
	}
	return Settled{}, false
}
