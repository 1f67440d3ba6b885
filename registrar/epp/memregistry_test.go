package epp

import (
	"context"
	"crypto/sha256"
	"slices"
	"strconv"
	"sync"
	"time"
)

// memRegistry is a small in-memory Registry for the protocol tests: the
// server's behaviour is what is under test here; the real registry's rules
// are tested in registrar/registry.
type memRegistry struct {
	mu       sync.Mutex
	now      time.Time
	users    map[string]memUser // client id → password, cert fingerprint
	domains  map[string]*Domain
	hosts    map[string]*Host
	contacts map[string]*Contact
	queue    map[string][]PollMessage
	gainers  map[string]string // domain → registrar that asked for it
	seq      int
}

type memUser struct {
	pw   string
	cert [32]byte
}

func newMemRegistry(now time.Time) *memRegistry {
	return &memRegistry{now: now, users: map[string]memUser{}, domains: map[string]*Domain{}, hosts: map[string]*Host{}, contacts: map[string]*Contact{}, queue: map[string][]PollMessage{}, gainers: map[string]string{}}
}

func (m *memRegistry) Login(_ context.Context, l LoginRequest) (string, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	u, ok := m.users[l.ClientID]
	if !ok || u.pw != l.Password || sha256.Sum256(l.Cert.Raw) != u.cert {
		return "", &Error{Code: CodeAuthenticationError}
	}
	if l.NewPassword != "" {
		u.pw = l.NewPassword
		m.users[l.ClientID] = u
	}
	return l.ClientID, nil
}

func (m *memRegistry) CheckDomains(_ context.Context, _ string, names []string) ([]Check, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []Check
	for _, n := range names {
		_, taken := m.domains[n]
		c := Check{Name: n, Avail: !taken}
		if taken {
			c.Reason = "In use"
		}
		out = append(out, c)
	}
	return out, nil
}

func (m *memRegistry) InfoDomain(_ context.Context, reg, name, auth string) (Domain, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	d, ok := m.domains[name]
	if !ok {
		return Domain{}, &Error{Code: CodeObjectDoesNotExist}
	}
	out := *d
	if reg != d.ClID && auth != d.AuthInfo {
		out.AuthInfo = ""
	}
	return out, nil
}

func (m *memRegistry) CreateDomain(_ context.Context, reg string, c DomainCreate) (Domain, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, ok := m.domains[c.Name]; ok {
		return Domain{}, &Error{Code: CodeObjectExists}
	}
	for _, h := range c.NS {
		if _, ok := m.hosts[h]; !ok {
			return Domain{}, Errorf(CodeAssociationProhibits, "host %s does not exist", h)
		}
	}
	m.seq++
	d := &Domain{Name: c.Name, ROID: "D" + strconv.Itoa(m.seq) + "-TEST", Status: []string{"ok"}, RGPStatus: []string{"addPeriod"}, Registrant: c.Registrant, Contacts: c.Contacts, NS: c.NS,
		ClID: reg, CrID: reg, CrDate: m.now, ExDate: m.now.AddDate(c.Years, 0, 0), AuthInfo: c.AuthInfo, DS: c.DS}
	m.domains[c.Name] = d
	return *d, nil
}

func (m *memRegistry) sponsored(reg, name string) (*Domain, error) {
	d, ok := m.domains[name]
	if !ok {
		return nil, &Error{Code: CodeObjectDoesNotExist}
	}
	if d.ClID != reg {
		return nil, &Error{Code: CodeAuthorizationError}
	}
	return d, nil
}

func (m *memRegistry) UpdateDomain(_ context.Context, reg string, u DomainUpdate) (Domain, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	d, err := m.sponsored(reg, u.Name)
	if err != nil {
		return Domain{}, err
	}
	d.NS = slices.DeleteFunc(d.NS, func(h string) bool { return slices.Contains(u.RemNS, h) })
	d.NS = append(d.NS, u.AddNS...)
	if u.RemAllDS {
		d.DS = nil
	}
	d.DS = slices.DeleteFunc(d.DS, func(x DS) bool { return slices.Contains(u.RemDS, x) })
	d.DS = append(d.DS, u.AddDS...)
	if u.AuthInfo != nil {
		d.AuthInfo = *u.AuthInfo
	}
	d.UpID, d.UpDate = reg, m.now
	return *d, nil
}

func (m *memRegistry) RenewDomain(_ context.Context, reg, name string, cur time.Time, years int) (Domain, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	d, err := m.sponsored(reg, name)
	if err != nil {
		return Domain{}, err
	}
	if d.ExDate.Format(time.DateOnly) != cur.Format(time.DateOnly) {
		return Domain{}, Errorf(CodeParameterPolicy, "curExpDate is not the expiry date")
	}
	d.ExDate = d.ExDate.AddDate(years, 0, 0)
	return *d, nil
}

func (m *memRegistry) DeleteDomain(_ context.Context, reg, name string) (bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, err := m.sponsored(reg, name); err != nil {
		return false, err
	}
	delete(m.domains, name)
	return false, nil
}

func (m *memRegistry) RestoreDomain(_ context.Context, reg, name string) (Domain, error) {
	return Domain{}, Errorf(CodeStatusProhibits, "not in redemption")
}

func (m *memRegistry) TransferDomain(_ context.Context, reg string, t TransferRequest) (Transfer, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	d, ok := m.domains[t.Name]
	if !ok {
		return Transfer{}, &Error{Code: CodeObjectDoesNotExist}
	}
	switch t.Op {
	case "request":
		if t.AuthInfo != d.AuthInfo {
			return Transfer{}, &Error{Code: CodeInvalidAuthInfo}
		}
		tr := Transfer{Name: d.Name, Status: "pending", ReID: reg, ReDate: m.now, AcID: d.ClID, AcDate: m.now.AddDate(0, 0, 5)}
		m.seq++
		m.queue[d.ClID] = append(m.queue[d.ClID], PollMessage{ID: strconv.Itoa(m.seq), QDate: m.now, Text: "Transfer requested.", Transfer: &tr})
		d.Status = []string{"pendingTransfer"}
		m.gainers[d.Name] = reg
		return tr, nil
	case "approve":
		if d.ClID != reg {
			return Transfer{}, &Error{Code: CodeAuthorizationError}
		}
		gainer, ok := m.gainers[d.Name]
		if !ok {
			return Transfer{}, &Error{Code: CodeNotPendingTransfer}
		}
		tr := Transfer{Name: d.Name, Status: "clientApproved", ReID: gainer, ReDate: m.now, AcID: reg, AcDate: m.now}
		d.ClID, d.Status, d.TrDate = gainer, []string{"ok"}, m.now
		m.seq++
		m.queue[gainer] = append(m.queue[gainer], PollMessage{ID: strconv.Itoa(m.seq), QDate: m.now, Text: "Transfer approved.", Transfer: &tr})
		return tr, nil
	}
	return Transfer{}, Errorf(CodeUnimplementedOption, "op %s", t.Op)
}

func (m *memRegistry) CheckHosts(_ context.Context, _ string, names []string) ([]Check, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []Check
	for _, n := range names {
		_, taken := m.hosts[n]
		out = append(out, Check{Name: n, Avail: !taken})
	}
	return out, nil
}

func (m *memRegistry) InfoHost(_ context.Context, _, name string) (Host, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	h, ok := m.hosts[name]
	if !ok {
		return Host{}, &Error{Code: CodeObjectDoesNotExist}
	}
	return *h, nil
}

func (m *memRegistry) CreateHost(_ context.Context, reg string, h Host) (Host, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, ok := m.hosts[h.Name]; ok {
		return Host{}, &Error{Code: CodeObjectExists}
	}
	h.ClID, h.CrID, h.CrDate, h.Status = reg, reg, m.now, []string{"ok"}
	m.hosts[h.Name] = &h
	return h, nil
}

func (m *memRegistry) UpdateHost(_ context.Context, reg string, u HostUpdate) (Host, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	h, ok := m.hosts[u.Name]
	if !ok {
		return Host{}, &Error{Code: CodeObjectDoesNotExist}
	}
	h.Addrs = append(h.Addrs, u.AddAddrs...)
	return *h, nil
}

func (m *memRegistry) DeleteHost(_ context.Context, _, name string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	delete(m.hosts, name)
	return nil
}

func (m *memRegistry) CheckContacts(_ context.Context, _ string, ids []string) ([]Check, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []Check
	for _, n := range ids {
		_, taken := m.contacts[n]
		out = append(out, Check{Name: n, Avail: !taken})
	}
	return out, nil
}

func (m *memRegistry) InfoContact(_ context.Context, _, id, _ string) (Contact, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	c, ok := m.contacts[id]
	if !ok {
		return Contact{}, &Error{Code: CodeObjectDoesNotExist}
	}
	return *c, nil
}

func (m *memRegistry) CreateContact(_ context.Context, reg string, c Contact) (Contact, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, ok := m.contacts[c.ID]; ok {
		return Contact{}, &Error{Code: CodeObjectExists}
	}
	c.ClID, c.CrID, c.CrDate = reg, reg, m.now
	m.contacts[c.ID] = &c
	return c, nil
}

func (m *memRegistry) UpdateContact(_ context.Context, _ string, u ContactUpdate) (Contact, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	c, ok := m.contacts[u.ID]
	if !ok {
		return Contact{}, &Error{Code: CodeObjectDoesNotExist}
	}
	if u.Email != nil {
		c.Email = *u.Email
	}
	return *c, nil
}

func (m *memRegistry) DeleteContact(_ context.Context, _, id string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	delete(m.contacts, id)
	return nil
}

func (m *memRegistry) Poll(_ context.Context, reg string) (*PollMessage, int, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	q := m.queue[reg]
	if len(q) == 0 {
		return nil, 0, nil
	}
	msg := q[0]
	return &msg, len(q), nil
}

func (m *memRegistry) Ack(_ context.Context, reg, id string) (int, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	q := m.queue[reg]
	if len(q) == 0 || q[0].ID != id {
		return 0, Errorf(CodeObjectDoesNotExist, "message %s", id)
	}
	m.queue[reg] = q[1:]
	return len(q) - 1, nil
}
