package epp

import (
	"context"
	"crypto/tls"
	"encoding/xml"
	"errors"

	"log/slog"
	"net"
	"net/netip"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

// Server serves EPP over TLS (RFC 5734) for a Registry. The zero values of
// its limits are the defaults documented on each field.
type Server struct {
	// Registry answers the commands.
	Registry Registry
	// TLS is the server's TLS configuration. It must ask for a client
	// certificate (ClientAuth at least RequireAnyClientCert); the Registry
	// decides whether the certificate belongs to the registrar.
	TLS *tls.Config
	// ServerID is the greeting's svID and the svTRID prefix.
	ServerID string
	// MaxFrame bounds a command frame (default DefaultMaxFrame).
	MaxFrame int
	// IdleTimeout closes a session with no command for this long
	// (default 10 minutes).
	IdleTimeout time.Duration
	// HandshakeTimeout bounds the TLS handshake (default 10 seconds).
	HandshakeTimeout time.Duration
	// MaxSessions bounds concurrent connections; beyond it a connection is
	// answered 2502 and closed (default 256).
	MaxSessions int
	// MaxSessionsPerRegistrar bounds one registrar's logged-in sessions;
	// a login beyond it is answered 2502 (default 8).
	MaxSessionsPerRegistrar int
	// MaxLoginAttempts closes a session after this many failed logins
	// with 2501 (default 3).
	MaxLoginAttempts int
	// MaxCheck bounds the names in one check (default 100).
	MaxCheck int
	// Now is the clock for svDate and svTRIDs (default time.Now).
	Now func() time.Time
	// Log receives session errors (default slog.Default()).
	Log *slog.Logger

	mu       sync.Mutex
	ln       net.Listener
	conns    map[net.Conn]struct{}
	perReg   map[string]int
	closed   bool
	wg       sync.WaitGroup
	trSeq    atomic.Uint64
	sessions atomic.Int64
}

// ServedObjURIs are the objects served; ServedExtURIs the extensions.
var (
	ServedObjURIs = []string{NSDomain, NSHost, NSContact}
	ServedExtURIs = []string{NSSecDNS, NSRGP, NSChangePoll}
)

// ErrServerClosed is returned by Serve after Close.
var ErrServerClosed = errors.New("epp: server closed")

func (s *Server) maxFrame() int            { return orInt(s.MaxFrame, DefaultMaxFrame) }
func (s *Server) idle() time.Duration      { return orDur(s.IdleTimeout, 10*time.Minute) }
func (s *Server) handshake() time.Duration { return orDur(s.HandshakeTimeout, 10*time.Second) }
func (s *Server) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}
func (s *Server) log() *slog.Logger {
	if s.Log != nil {
		return s.Log
	}
	return slog.Default()
}

func orInt(v, d int) int {
	if v > 0 {
		return v
	}
	return d
}

func orDur(v, d time.Duration) time.Duration {
	if v > 0 {
		return v
	}
	return d
}

// Serve accepts TCP connections on ln, wraps them in TLS and runs a session
// on each until Close.
func (s *Server) Serve(ln net.Listener) error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return ErrServerClosed
	}
	s.ln = ln
	if s.conns == nil {
		s.conns = map[net.Conn]struct{}{}
		s.perReg = map[string]int{}
	}
	s.mu.Unlock()
	for {
		c, err := ln.Accept()
		if err != nil {
			s.mu.Lock()
			closed := s.closed
			s.mu.Unlock()
			if closed {
				return ErrServerClosed
			}
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				continue
			}
			return err
		}
		tc := tls.Server(c, s.TLS)
		s.mu.Lock()
		if s.closed {
			s.mu.Unlock()
			c.Close()
			return ErrServerClosed
		}
		s.conns[tc] = struct{}{}
		s.wg.Add(1)
		s.mu.Unlock()
		go func() {
			defer s.wg.Done()
			defer func() {
				s.mu.Lock()
				delete(s.conns, tc)
				s.mu.Unlock()
				tc.Close()
			}()
			s.session(tc)
		}()
	}
}

// Close stops accepting, closes every session and waits for them.
func (s *Server) Close() error {
	s.mu.Lock()
	s.closed = true
	var err error
	if s.ln != nil {
		err = s.ln.Close()
	}
	for c := range s.conns {
		c.Close()
	}
	s.mu.Unlock()
	s.wg.Wait()
	return err
}

// session is one connection's state.
type session struct {
	s         *Server
	c         *tls.Conn
	registrar string
	failures  int
}

func (s *Server) session(c *tls.Conn) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	_ = c.SetDeadline(time.Now().Add(s.handshake()))
	if err := c.HandshakeContext(ctx); err != nil {
		return
	}
	_ = c.SetDeadline(time.Time{})
	n := s.sessions.Add(1)
	defer s.sessions.Add(-1)
	ss := &session{s: s, c: c}
	if n > int64(orInt(s.MaxSessions, 256)) {
		ss.write(ss.result(nil, &Error{Code: CodeSessionLimit}, ""))
		return
	}
	defer ss.logout()
	if !ss.write(&Message{Greeting: s.greeting()}) {
		return
	}
	for {
		_ = c.SetReadDeadline(time.Now().Add(s.idle()))
		b, err := ReadFrame(c, s.maxFrame())
		if err != nil {
			if errors.Is(err, ErrFrameTooLarge) || errors.Is(err, ErrBadFrame) {
				ss.write(ss.result(nil, &Error{Code: CodeFailedClosing, Reason: err.Error()}, ""))
			}
			return
		}
		_ = c.SetReadDeadline(time.Time{})
		m, closeAfter := ss.handle(ctx, b)
		if !ss.write(m) || closeAfter {
			return
		}
	}
}

func (ss *session) logout() {
	if ss.registrar == "" {
		return
	}
	ss.s.mu.Lock()
	ss.s.perReg[ss.registrar]--
	ss.s.mu.Unlock()
	ss.registrar = ""
}

func (ss *session) write(m *Message) bool {
	b, err := Encode(m)
	if err != nil {
		ss.s.log().Error("epp: encoding a response", "err", err)
		return false
	}
	_ = ss.c.SetWriteDeadline(time.Now().Add(ss.s.idle()))
	return WriteFrame(ss.c, b) == nil
}

func (s *Server) greeting() *Greeting {
	g := &Greeting{
		SvID:   s.ServerID,
		SvDate: eppTime(s.now()),
		Menu: SvcMenu{
			Version:    []string{"1.0"},
			Lang:       []string{"en"},
			ObjURI:     ServedObjURIs,
			Extensions: &ExtURIs{ExtURI: ServedExtURIs},
		},
	}
	g.DCP.Access.All = &struct{}{}
	var st DCPStatement
	st.Purpose.Admin = &struct{}{}
	st.Purpose.Prov = &struct{}{}
	st.Recipient.Ours = &struct{}{}
	st.Retention.Stated = &struct{}{}
	g.DCP.Statement = []DCPStatement{st}
	return g
}

// result builds a response for err (nil: code, or 1000 when code is 0).
func (ss *session) result(cmd *Command, err error, _ string) *Message {
	return ss.respond(cmd, 0, err, nil, nil, nil)
}

func (ss *session) respond(cmd *Command, code Code, err error, rd *ResData, ext *Extension, q *MsgQ) *Message {
	r := Result{}
	if err != nil {
		r.Code = CodeOf(err)
		var e *Error
		if errors.As(err, &e) {
			r.Msg = e.Msg
			if e.Reason != "" {
				r.ExtValue = []ExtValue{{Value: InnerXML{XML: "<text>" + xmlEscape(e.Reason) + "</text>"}, Reason: e.Reason}}
			}
		} else {
			ss.s.log().Error("epp: registry failure", "registrar", ss.registrar, "err", err)
		}
		rd, ext = nil, nil
	} else {
		r.Code = code
		if r.Code == 0 {
			r.Code = CodeOK
		}
	}
	if r.Msg == "" {
		r.Msg = r.Code.Message()
	}
	resp := &Response{Result: []Result{r}, MsgQ: q, ResData: rd, Extension: ext}
	if cmd != nil {
		resp.TrID.ClTRID = cmd.ClTRID
	}
	resp.TrID.SvTRID = ss.s.ServerID + "-" + strconv.FormatInt(ss.s.now().Unix(), 36) + "-" + strconv.FormatUint(ss.s.trSeq.Add(1), 10)
	return &Message{Response: resp}
}

func xmlEscape(s string) string {
	var b []byte
	buf := &byteWriter{b: b}
	_ = xml.EscapeText(buf, []byte(s))
	return string(buf.b)
}

type byteWriter struct{ b []byte }

func (w *byteWriter) Write(p []byte) (int, error) { w.b = append(w.b, p...); return len(p), nil }

// handle answers one frame; closeAfter ends the session.
func (ss *session) handle(ctx context.Context, b []byte) (m *Message, closeAfter bool) {
	msg, err := Decode(b)
	if err != nil {
		return ss.respond(nil, 0, &Error{Code: CodeSyntaxError, Reason: err.Error()}, nil, nil, nil), false
	}
	if msg.Hello != nil {
		return &Message{Greeting: ss.s.greeting()}, false
	}
	cmd := msg.Command
	if cmd == nil {
		return ss.respond(nil, 0, &Error{Code: CodeSyntaxError, Reason: "a client sends hello or command"}, nil, nil, nil), false
	}
	if len(cmd.ClTRID) > 64 {
		return ss.respond(nil, 0, Errorf(CodeValueSyntax, "clTRID longer than 64 characters"), nil, nil, nil), false
	}
	if cmd.Login != nil {
		m := ss.login(ctx, cmd)
		return m, m.Response.Result[0].Code.closes()
	}
	if ss.registrar == "" {
		return ss.respond(cmd, 0, &Error{Code: CodeUseError, Reason: "log in first"}, nil, nil, nil), false
	}
	if cmd.Logout != nil {
		ss.logout()
		return ss.respond(cmd, CodeEndingSession, nil, nil, nil, nil), true
	}
	if cmd.Extension != nil && len(cmd.Extension.Other) > 0 {
		return ss.respond(cmd, 0, Errorf(CodeUnimplementedExtension, "%s", cmd.Extension.Other[0].Space), nil, nil, nil), false
	}
	code, rd, ext, q, err := ss.dispatch(ctx, cmd)
	return ss.respond(cmd, code, err, rd, ext, q), false
}

func (ss *session) login(ctx context.Context, cmd *Command) *Message {
	l := cmd.Login
	if ss.registrar != "" {
		return ss.respond(cmd, 0, &Error{Code: CodeUseError, Reason: "already logged in"}, nil, nil, nil)
	}
	if l.Options.Version != "1.0" {
		return ss.respond(cmd, 0, Errorf(CodeUnimplementedVersion, "version %q", l.Options.Version), nil, nil, nil)
	}
	if l.Options.Lang != "en" {
		return ss.respond(cmd, 0, Errorf(CodeUnimplementedOption, "lang %q", l.Options.Lang), nil, nil, nil)
	}
	for _, u := range l.Svcs.ObjURI {
		if !contains(ServedObjURIs, u) {
			return ss.respond(cmd, 0, Errorf(CodeUnimplementedService, "%s", u), nil, nil, nil)
		}
	}
	if l.Svcs.Extensions != nil {
		for _, u := range l.Svcs.Extensions.ExtURI {
			if !contains(ServedExtURIs, u) {
				return ss.respond(cmd, 0, Errorf(CodeUnimplementedExtension, "%s", u), nil, nil, nil)
			}
		}
	}
	if len(l.PW) < 6 || len(l.PW) > 16 || (l.NewPW != "" && (len(l.NewPW) < 6 || len(l.NewPW) > 16)) {
		// RFC 5730's pwType is 6 to 16 characters.
		return ss.failLogin(cmd, "password length")
	}
	state := ss.c.ConnectionState()
	if len(state.PeerCertificates) == 0 {
		return ss.failLogin(cmd, "no client certificate")
	}
	reg, err := ss.s.Registry.Login(ctx, LoginRequest{ClientID: l.ClID, Password: l.PW, NewPassword: l.NewPW, Cert: state.PeerCertificates[0]})
	if err != nil {
		if c := CodeOf(err); c != CodeAuthenticationError && c != CodeAuthorizationError {
			return ss.respond(cmd, 0, err, nil, nil, nil)
		}
		return ss.failLogin(cmd, "")
	}
	ss.s.mu.Lock()
	if ss.s.perReg[reg] >= orInt(ss.s.MaxSessionsPerRegistrar, 8) {
		ss.s.mu.Unlock()
		return ss.respond(cmd, 0, &Error{Code: CodeSessionLimit}, nil, nil, nil)
	}
	ss.s.perReg[reg]++
	ss.s.mu.Unlock()
	ss.registrar = reg
	return ss.respond(cmd, CodeOK, nil, nil, nil, nil)
}

func (ss *session) failLogin(cmd *Command, reason string) *Message {
	ss.failures++
	if ss.failures >= orInt(ss.s.MaxLoginAttempts, 3) {
		return ss.respond(cmd, 0, &Error{Code: CodeAuthClosing}, nil, nil, nil)
	}
	return ss.respond(cmd, 0, &Error{Code: CodeAuthenticationError, Reason: reason}, nil, nil, nil)
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

// verb names the command and its object element.
func verb(cmd *Command) (string, *Objects) {
	switch {
	case cmd.Check != nil:
		return "check", cmd.Check
	case cmd.Info != nil:
		return "info", cmd.Info
	case cmd.Create != nil:
		return "create", cmd.Create
	case cmd.Update != nil:
		return "update", cmd.Update
	case cmd.Delete != nil:
		return "delete", cmd.Delete
	case cmd.Renew != nil:
		return "renew", cmd.Renew
	case cmd.Transfer != nil:
		return "transfer", &cmd.Transfer.Objects
	}
	return "", nil
}

func (ss *session) dispatch(ctx context.Context, cmd *Command) (Code, *ResData, *Extension, *MsgQ, error) {
	if cmd.Poll != nil {
		return ss.poll(ctx, cmd.Poll)
	}
	v, o := verb(cmd)
	if o == nil {
		return 0, nil, nil, nil, &Error{Code: CodeUnknownCommand}
	}
	switch {
	case o.Other != nil:
		return 0, nil, nil, nil, Errorf(CodeUnimplementedService, "%s", o.Other.Space)
	case o.Domain != nil:
		if o.Domain.XMLName.Local != v {
			return 0, nil, nil, nil, Errorf(CodeSyntaxError, "<%s> inside <%s>", o.Domain.XMLName.Local, v)
		}
		code, rd, ext, err := ss.domain(ctx, cmd, v, o.Domain)
		return code, rd, ext, nil, err
	case o.Host != nil:
		if o.Host.XMLName.Local != v {
			return 0, nil, nil, nil, Errorf(CodeSyntaxError, "<%s> inside <%s>", o.Host.XMLName.Local, v)
		}
		rd, err := ss.host(ctx, cmd, v, o.Host)
		return 0, rd, nil, nil, err
	case o.Contact != nil:
		if o.Contact.XMLName.Local != v {
			return 0, nil, nil, nil, Errorf(CodeSyntaxError, "<%s> inside <%s>", o.Contact.XMLName.Local, v)
		}
		rd, err := ss.contact(ctx, v, o.Contact)
		return 0, rd, nil, nil, err
	}
	return 0, nil, nil, nil, Errorf(CodeMissingParameter, "no object in <%s>", v)
}

func (ss *session) poll(ctx context.Context, p *Poll) (Code, *ResData, *Extension, *MsgQ, error) {
	switch p.Op {
	case "req":
		msg, n, err := ss.s.Registry.Poll(ctx, ss.registrar)
		if err != nil {
			return 0, nil, nil, nil, err
		}
		if msg == nil {
			return CodeNoMessages, nil, nil, nil, nil
		}
		q := &MsgQ{Count: n, ID: msg.ID, QDate: eppTime(msg.QDate), Msg: msg.Text}
		var rd *ResData
		var ext *Extension
		switch {
		case msg.Transfer != nil:
			rd = &ResData{Domain: transferData(*msg.Transfer)}
		case msg.Pending != nil:
			p := msg.Pending
			res := "0"
			if p.OK {
				res = "1"
			}
			rd = &ResData{Domain: &DomainData{XMLName: xml.Name{Space: NSDomain, Local: "panData"}, Name: &DomainName{PaResult: res, Value: p.Name}, PaTRID: &TrID{ClTRID: p.ClTRID, SvTRID: p.SvTRID}, PaDate: eppTime(p.Date)}}
		case msg.Domain != nil:
			rd = &ResData{Domain: domainInfData(*msg.Domain, "all")}
			ext = domainExt(*msg.Domain)
		}
		if msg.Change != nil {
			if ext == nil {
				ext = &Extension{}
			}
			ext.ChangeData = &ChangeData{State: "after", Operation: msg.Change.Operation, Date: eppTime(msg.Change.Date), SvTRID: msg.Change.SvTRID, Who: msg.Change.Who, Reason: msg.Change.Reason}
		}
		return CodeAckToDequeue, rd, ext, q, nil
	case "ack":
		if p.MsgID == "" {
			return 0, nil, nil, nil, Errorf(CodeMissingParameter, "msgID")
		}
		n, err := ss.s.Registry.Ack(ctx, ss.registrar, p.MsgID)
		if err != nil {
			return 0, nil, nil, nil, err
		}
		return CodeOK, nil, nil, &MsgQ{Count: n, ID: p.MsgID}, nil
	}
	return 0, nil, nil, nil, Errorf(CodeValueSyntax, "poll op %q", p.Op)
}

func statuses(ss []string) []Status {
	out := make([]Status, len(ss))
	for i, s := range ss {
		out[i] = Status{S: s}
	}
	return out
}

func statusNames(ss []Status) []string {
	out := make([]string, len(ss))
	for i, s := range ss {
		out[i] = s.S
	}
	return out
}

func checkData(cs []Check, id bool) []CheckItem {
	out := make([]CheckItem, len(cs))
	for i, c := range cs {
		n := &CheckName{Avail: "0", Value: c.Name}
		if c.Avail {
			n.Avail = "1"
		}
		out[i].Reason = c.Reason
		if id {
			out[i].ID = n
		} else {
			out[i].Name = n
		}
	}
	return out
}

func (ss *session) checkNames(names []string) error {
	if len(names) == 0 {
		return Errorf(CodeMissingParameter, "no names")
	}
	if len(names) > orInt(ss.s.MaxCheck, 100) {
		return Errorf(CodeParameterPolicy, "at most %d names in one check", orInt(ss.s.MaxCheck, 100))
	}
	return nil
}

func oneName(names []DomainName) (string, error) {
	if len(names) != 1 || names[0].Value == "" {
		return "", Errorf(CodeSyntaxError, "exactly one name")
	}
	return names[0].Value, nil
}

func domainInfData(d Domain, hosts string) *DomainData {
	dd := &DomainData{
		XMLName:    xml.Name{Space: NSDomain, Local: "infData"},
		Name:       &DomainName{Value: d.Name},
		ROID:       d.ROID,
		Status:     statuses(d.Status),
		Registrant: d.Registrant,
		ClID:       d.ClID,
		CrID:       d.CrID,
		CrDate:     eppTime(d.CrDate),
		UpID:       d.UpID,
		UpDate:     eppTime(d.UpDate),
		ExDate:     eppTime(d.ExDate),
		TrDate:     eppTime(d.TrDate),
	}
	for _, c := range d.Contacts {
		dd.Contacts = append(dd.Contacts, ContactRef(c))
	}
	if (hosts == "all" || hosts == "del") && len(d.NS) > 0 {
		dd.NS = &DomainNS{HostObj: d.NS}
	}
	if hosts == "all" || hosts == "sub" {
		dd.Host = d.Hosts
	}
	if d.AuthInfo != "" {
		dd.AuthInfo = &AuthInfo{PW: d.AuthInfo}
	}
	return dd
}

// domainExt is the secDNS and RGP data of a domain, nil when it has none.
func domainExt(d Domain) *Extension {
	var ext Extension
	if len(d.DS) > 0 {
		ext.SecDNSInfData = &SecDNSInfData{DSData: dsData(d.DS)}
	}
	if len(d.RGPStatus) > 0 {
		ext.RGPInfData = &RGPInfData{XMLName: xml.Name{Space: NSRGP, Local: "infData"}, RGPStatus: statuses(d.RGPStatus)}
	}
	if ext.SecDNSInfData == nil && ext.RGPInfData == nil {
		return nil
	}
	return &ext
}

func dsData(ds []DS) []DSData {
	out := make([]DSData, len(ds))
	for i, d := range ds {
		out[i] = DSData(d)
	}
	return out
}

func fromDSData(ds []DSData, keys []InnerXML) ([]DS, error) {
	if len(keys) > 0 {
		return nil, Errorf(CodeUnimplementedOption, "secDNS keyData: send dsData")
	}
	out := make([]DS, len(ds))
	for i, d := range ds {
		if d.Digest == "" || len(d.Digest)%2 != 0 {
			return nil, Errorf(CodeValueSyntax, "DS digest %q", d.Digest)
		}
		for _, c := range d.Digest {
			if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F') {
				return nil, Errorf(CodeValueSyntax, "DS digest %q is not hexadecimal", d.Digest)
			}
		}
		out[i] = DS(d)
	}
	return out, nil
}

func transferData(t Transfer) *DomainData {
	return &DomainData{
		XMLName:  xml.Name{Space: NSDomain, Local: "trnData"},
		Name:     &DomainName{Value: t.Name},
		TrStatus: t.Status,
		ReID:     t.ReID,
		ReDate:   eppTime(t.ReDate),
		AcID:     t.AcID,
		AcDate:   eppTime(t.AcDate),
		ExDate:   eppTime(t.ExDate),
	}
}

func hostNames(ns *DomainNS) ([]string, error) {
	if ns == nil {
		return nil, nil
	}
	if len(ns.HostAttr) > 0 {
		return nil, Errorf(CodeParameterPolicy, "hostAttr is not served: create host objects and send hostObj")
	}
	return ns.HostObj, nil
}

func contactLinks(cs []ContactRef) []ContactLink {
	out := make([]ContactLink, len(cs))
	for i, c := range cs {
		out[i] = ContactLink(c)
	}
	return out
}

func (ss *session) domain(ctx context.Context, cmd *Command, v string, d *DomainCmd) (Code, *ResData, *Extension, error) {
	r, reg := ss.s.Registry, ss.registrar
	ext := cmd.Extension
	if ext == nil {
		ext = &Extension{}
	}
	if v != "create" && ext.SecDNSCreate != nil || v != "update" && (ext.SecDNSUpdate != nil || ext.RGPUpdate != nil) {
		return 0, nil, nil, Errorf(CodeSyntaxError, "extension does not belong to <%s>", v)
	}
	if v == "check" {
		names := make([]string, len(d.Names))
		for i, n := range d.Names {
			names[i] = n.Value
		}
		if err := ss.checkNames(names); err != nil {
			return 0, nil, nil, err
		}
		cs, err := r.CheckDomains(ctx, reg, names)
		if err != nil {
			return 0, nil, nil, err
		}
		return 0, &ResData{Domain: &DomainData{XMLName: xml.Name{Space: NSDomain, Local: "chkData"}, CD: checkData(cs, false)}}, nil, nil
	}
	name, err := oneName(d.Names)
	if err != nil {
		return 0, nil, nil, err
	}
	auth := ""
	if d.AuthInfo != nil {
		auth = d.AuthInfo.PW
	}
	switch v {
	case "info":
		hosts := d.Names[0].Hosts
		if hosts == "" {
			hosts = "all"
		}
		if !contains([]string{"all", "del", "sub", "none"}, hosts) {
			return 0, nil, nil, Errorf(CodeValueSyntax, "hosts=%q", hosts)
		}
		dom, err := r.InfoDomain(ctx, reg, name, auth)
		if err != nil {
			return 0, nil, nil, err
		}
		return 0, &ResData{Domain: domainInfData(dom, hosts)}, domainExt(dom), nil
	case "create":
		years, err := d.Period.Years()
		if err != nil {
			return 0, nil, nil, err
		}
		ns, err := hostNames(d.NS)
		if err != nil {
			return 0, nil, nil, err
		}
		if auth == "" {
			return 0, nil, nil, Errorf(CodeMissingParameter, "authInfo")
		}
		c := DomainCreate{Name: name, Years: years, NS: ns, Registrant: d.Registrant, Contacts: contactLinks(d.Contacts), AuthInfo: auth, ClTRID: cmd.ClTRID}
		if sc := ext.SecDNSCreate; sc != nil {
			if sc.MaxSigLife != 0 {
				return 0, nil, nil, Errorf(CodeUnimplementedOption, "secDNS maxSigLife")
			}
			if c.DS, err = fromDSData(sc.DSData, sc.KeyData); err != nil {
				return 0, nil, nil, err
			}
		}
		dom, err := r.CreateDomain(ctx, reg, c)
		if err != nil {
			return 0, nil, nil, err
		}
		return pendingCode(dom.Status), &ResData{Domain: &DomainData{XMLName: xml.Name{Space: NSDomain, Local: "creData"}, Name: &DomainName{Value: dom.Name}, CrDate: eppTime(dom.CrDate), ExDate: eppTime(dom.ExDate)}}, nil, nil
	case "update":
		if ru := ext.RGPUpdate; ru != nil {
			if ru.Restore.Op != "request" {
				return 0, nil, nil, Errorf(CodeUnimplementedOption, "rgp restore op %q (restore reports are not needed here)", ru.Restore.Op)
			}
			dom, err := r.RestoreDomain(ctx, reg, name)
			if err != nil {
				return 0, nil, nil, err
			}
			return 0, nil, &Extension{RGPUpData: &RGPInfData{XMLName: xml.Name{Space: NSRGP, Local: "upData"}, RGPStatus: statuses(orList(dom.RGPStatus, "pendingRestore"))}}, nil
		}
		u := DomainUpdate{Name: name}
		if a := d.Add; a != nil {
			if u.AddNS, err = hostNames(a.NS); err != nil {
				return 0, nil, nil, err
			}
			u.AddContacts, u.AddStatus = contactLinks(a.Contacts), statusNames(a.Status)
		}
		if rm := d.Rem; rm != nil {
			if u.RemNS, err = hostNames(rm.NS); err != nil {
				return 0, nil, nil, err
			}
			u.RemContacts, u.RemStatus = contactLinks(rm.Contacts), statusNames(rm.Status)
		}
		if c := d.Chg; c != nil {
			u.Registrant = c.Registrant
			if c.AuthInfo != nil {
				u.AuthInfo = &c.AuthInfo.PW
			}
		}
		if su := ext.SecDNSUpdate; su != nil {
			// urgent is accepted: the registry publishes every change at
			// once, so an urgent one is not treated differently.
			if su.Chg != nil {
				return 0, nil, nil, Errorf(CodeUnimplementedOption, "secDNS maxSigLife")
			}
			if rm := su.Rem; rm != nil {
				u.RemAllDS = rm.All == "true" || rm.All == "1"
				if u.RemDS, err = fromDSData(rm.DSData, rm.KeyData); err != nil {
					return 0, nil, nil, err
				}
			}
			if a := su.Add; a != nil {
				if u.AddDS, err = fromDSData(a.DSData, a.KeyData); err != nil {
					return 0, nil, nil, err
				}
			}
		}
		dom, err := r.UpdateDomain(ctx, reg, u)
		if err != nil {
			return 0, nil, nil, err
		}
		return pendingCode(dom.Status), nil, nil, nil
	case "delete":
		pending, err := r.DeleteDomain(ctx, reg, name)
		if err != nil {
			return 0, nil, nil, err
		}
		if pending {
			return CodePending, nil, nil, nil
		}
		return 0, nil, nil, nil
	case "renew":
		if d.CurExpDate == "" {
			return 0, nil, nil, Errorf(CodeMissingParameter, "curExpDate")
		}
		cur, err := parseTime(d.CurExpDate)
		if err != nil {
			return 0, nil, nil, err
		}
		years, err := d.Period.Years()
		if err != nil {
			return 0, nil, nil, err
		}
		dom, err := r.RenewDomain(ctx, reg, name, cur, years)
		if err != nil {
			return 0, nil, nil, err
		}
		return pendingCode(dom.Status), &ResData{Domain: &DomainData{XMLName: xml.Name{Space: NSDomain, Local: "renData"}, Name: &DomainName{Value: dom.Name}, ExDate: eppTime(dom.ExDate)}}, nil, nil
	case "transfer":
		op := cmd.Transfer.Op
		if !contains([]string{"request", "query", "approve", "reject", "cancel"}, op) {
			return 0, nil, nil, Errorf(CodeValueSyntax, "transfer op %q", op)
		}
		years := 0
		if d.Period != nil {
			if years, err = d.Period.Years(); err != nil {
				return 0, nil, nil, err
			}
		}
		t, err := r.TransferDomain(ctx, reg, TransferRequest{Op: op, Name: name, AuthInfo: auth, Years: years})
		if err != nil {
			return 0, nil, nil, err
		}
		code := Code(0)
		if op == "request" && t.Status == "pending" {
			code = CodePending
		}
		return code, &ResData{Domain: transferData(t)}, nil, nil
	}
	return 0, nil, nil, &Error{Code: CodeUnknownCommand}
}

func orList(l []string, d string) []string {
	if len(l) == 0 {
		return []string{d}
	}
	return l
}

// pendingCode is 1001 when the registry left the object in a pending*
// status (it acts later and tells the client by a poll message).
func pendingCode(status []string) Code {
	for _, s := range status {
		switch s {
		case "pendingCreate", "pendingUpdate", "pendingRenew", "pendingDelete", "pendingTransfer":
			return CodePending
		}
	}
	return CodeOK
}

func parseAddrs(as []HostAddr) ([]netip.Addr, error) {
	out := make([]netip.Addr, 0, len(as))
	for _, a := range as {
		ip, err := netip.ParseAddr(a.Addr)
		if err != nil || ip.Zone() != "" {
			return nil, Errorf(CodeValueSyntax, "address %q", a.Addr)
		}
		want := "v4"
		if ip.Is6() && !ip.Is4In6() {
			want = "v6"
		}
		if ip.Is4In6() || (a.IP != "" && a.IP != want) || (a.IP == "" && want == "v6") {
			return nil, Errorf(CodeValueSyntax, "address %q is not ip=%q", a.Addr, orStr(a.IP, "v4"))
		}
		out = append(out, ip)
	}
	return out, nil
}

func orStr(s, d string) string {
	if s == "" {
		return d
	}
	return s
}

func hostAddrs(as []netip.Addr) []HostAddr {
	out := make([]HostAddr, len(as))
	for i, a := range as {
		out[i] = HostAddr{IP: "v4", Addr: a.String()}
		if a.Is6() {
			out[i].IP = "v6"
		}
	}
	return out
}

func (ss *session) host(ctx context.Context, cmd *Command, v string, h *HostCmd) (*ResData, error) {
	r, reg := ss.s.Registry, ss.registrar
	if cmd.Extension != nil && (cmd.Extension.SecDNSCreate != nil || cmd.Extension.SecDNSUpdate != nil || cmd.Extension.RGPUpdate != nil) {
		return nil, Errorf(CodeSyntaxError, "domain extension on a host command")
	}
	if v == "check" {
		if err := ss.checkNames(h.Names); err != nil {
			return nil, err
		}
		cs, err := r.CheckHosts(ctx, reg, h.Names)
		if err != nil {
			return nil, err
		}
		return &ResData{Host: &HostData{XMLName: xml.Name{Space: NSHost, Local: "chkData"}, CD: checkData(cs, false)}}, nil
	}
	if len(h.Names) != 1 || h.Names[0] == "" {
		return nil, Errorf(CodeSyntaxError, "exactly one name")
	}
	name := h.Names[0]
	switch v {
	case "info":
		hh, err := r.InfoHost(ctx, reg, name)
		if err != nil {
			return nil, err
		}
		return &ResData{Host: &HostData{XMLName: xml.Name{Space: NSHost, Local: "infData"}, Name: hh.Name, ROID: hh.ROID, Status: statuses(hh.Status), Addr: hostAddrs(hh.Addrs), ClID: hh.ClID, CrID: hh.CrID, CrDate: eppTime(hh.CrDate), UpID: hh.UpID, UpDate: eppTime(hh.UpDate), TrDate: eppTime(hh.TrDate)}}, nil
	case "create":
		addrs, err := parseAddrs(h.Addr)
		if err != nil {
			return nil, err
		}
		hh, err := r.CreateHost(ctx, reg, Host{Name: name, Addrs: addrs})
		if err != nil {
			return nil, err
		}
		return &ResData{Host: &HostData{XMLName: xml.Name{Space: NSHost, Local: "creData"}, Name: hh.Name, CrDate: eppTime(hh.CrDate)}}, nil
	case "update":
		u := HostUpdate{Name: name}
		var err error
		if a := h.Add; a != nil {
			if u.AddAddrs, err = parseAddrs(a.Addr); err != nil {
				return nil, err
			}
			u.AddStatus = statusNames(a.Status)
		}
		if rm := h.Rem; rm != nil {
			if u.RemAddrs, err = parseAddrs(rm.Addr); err != nil {
				return nil, err
			}
			u.RemStatus = statusNames(rm.Status)
		}
		if h.Chg != nil {
			u.NewName = h.Chg.Name
		}
		_, err = r.UpdateHost(ctx, reg, u)
		return nil, err
	case "delete":
		return nil, r.DeleteHost(ctx, reg, name)
	}
	return nil, Errorf(CodeUnimplementedCommand, "host %s", v)
}

func toPostal(ps []PostalInfo) ([]Postal, error) {
	out := make([]Postal, len(ps))
	for i, p := range ps {
		if p.Type != "int" && p.Type != "loc" {
			return nil, Errorf(CodeValueSyntax, "postalInfo type %q", p.Type)
		}
		out[i] = Postal{Type: p.Type, Name: p.Name, Org: p.Org, Street: p.Addr.Street, City: p.Addr.City, SP: p.Addr.SP, PC: p.Addr.PC, CC: p.Addr.CC}
	}
	return out, nil
}

func fromPostal(ps []Postal) []PostalInfo {
	out := make([]PostalInfo, len(ps))
	for i, p := range ps {
		out[i] = PostalInfo{Type: p.Type, Name: p.Name, Org: p.Org, Addr: Addr{Street: p.Street, City: p.City, SP: p.SP, PC: p.PC, CC: p.CC}}
	}
	return out
}

// private reads a disclose element: flag="0" withholds, which the
// registries here apply to the whole contact (RDAP redacts it).
func private(d *Disclose) *bool {
	if d == nil {
		return nil
	}
	p := d.Flag == "0" || d.Flag == "false"
	return &p
}

func (ss *session) contact(ctx context.Context, v string, c *ContactCmd) (*ResData, error) {
	r, reg := ss.s.Registry, ss.registrar
	if v == "check" {
		if err := ss.checkNames(c.IDs); err != nil {
			return nil, err
		}
		cs, err := r.CheckContacts(ctx, reg, c.IDs)
		if err != nil {
			return nil, err
		}
		return &ResData{Contact: &ContactData{XMLName: xml.Name{Space: NSContact, Local: "chkData"}, CD: checkData(cs, true)}}, nil
	}
	if len(c.IDs) != 1 || c.IDs[0] == "" {
		return nil, Errorf(CodeSyntaxError, "exactly one id")
	}
	id := c.IDs[0]
	auth := ""
	if c.AuthInfo != nil {
		auth = c.AuthInfo.PW
	}
	switch v {
	case "info":
		ct, err := r.InfoContact(ctx, reg, id, auth)
		if err != nil {
			return nil, err
		}
		cd := &ContactData{XMLName: xml.Name{Space: NSContact, Local: "infData"}, ID: ct.ID, ROID: ct.ROID, Status: statuses(ct.Status), PostalInfo: fromPostal(ct.Postal), Voice: ct.Voice, Fax: ct.Fax, Email: ct.Email, ClID: ct.ClID, CrID: ct.CrID, CrDate: eppTime(ct.CrDate), UpID: ct.UpID, UpDate: eppTime(ct.UpDate)}
		if ct.AuthInfo != "" {
			cd.AuthInfo = &AuthInfo{PW: ct.AuthInfo}
		}
		if ct.Private {
			cd.Disclose = &Disclose{Flag: "0", Voice: &struct{}{}, Email: &struct{}{}}
		}
		return &ResData{Contact: cd}, nil
	case "create":
		ps, err := toPostal(c.PostalInfo)
		if err != nil {
			return nil, err
		}
		if len(ps) == 0 || c.Email == "" || auth == "" {
			return nil, Errorf(CodeMissingParameter, "postalInfo, email and authInfo are required")
		}
		ct := Contact{ID: id, Postal: ps, Voice: c.Voice, Fax: c.Fax, Email: c.Email, AuthInfo: auth}
		if p := private(c.Disclose); p != nil {
			ct.Private = *p
		}
		got, err := r.CreateContact(ctx, reg, ct)
		if err != nil {
			return nil, err
		}
		return &ResData{Contact: &ContactData{XMLName: xml.Name{Space: NSContact, Local: "creData"}, ID: got.ID, CrDate: eppTime(got.CrDate)}}, nil
	case "update":
		u := ContactUpdate{ID: id}
		if c.Add != nil {
			u.AddStatus = statusNames(c.Add.Status)
		}
		if c.Rem != nil {
			u.RemStatus = statusNames(c.Rem.Status)
		}
		if ch := c.Chg; ch != nil {
			var err error
			if len(ch.PostalInfo) > 0 {
				if u.Postal, err = toPostal(ch.PostalInfo); err != nil {
					return nil, err
				}
			}
			u.Voice, u.Fax, u.Email = ch.Voice, ch.Fax, ch.Email
			if ch.AuthInfo != nil {
				u.AuthInfo = &ch.AuthInfo.PW
			}
			u.Private = private(ch.Disclose)
		}
		_, err := r.UpdateContact(ctx, reg, u)
		return nil, err
	case "delete":
		return nil, r.DeleteContact(ctx, reg, id)
	}
	return nil, Errorf(CodeUnimplementedCommand, "contact %s is not served", v)
}
