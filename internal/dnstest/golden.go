package dnstest

import (
	"bytes"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"sort"
	"strconv"
	"strings"

	"github.com/miekg/dns"
)

// Query is a test query written in a dig-like syntax:
//
//	name type [class] [+flag ...]
//
// Flags: +rd +cd +tcp +edns[=size] +ednsver=N +do +nsid (an NSID option)
// +opt2 (a second OPT) +id=N +opcode=NAME|N +qdcount=0|2 +qr +ancount
// (an answer record in the query) +nscount (an authority record)
// +cookie=HEX (a COOKIE option with these octets) and +raw=HEX (send these bytes instead).
// Other flags are left in Flags for the caller.
type Query struct {
	Msg   *dns.Msg // nil with +raw
	Raw   []byte
	TCP   bool
	Flags []string
}

// ParseQuery parses the dig-like syntax above.
func ParseQuery(s string) (Query, error) {
	var q Query
	var words []string
	for _, f := range strings.Fields(s) {
		if strings.HasPrefix(f, "+") {
			continue
		}
		words = append(words, f)
	}
	m := new(dns.Msg)
	m.Id = 0x1234
	if len(words) >= 2 {
		t, ok := dns.StringToType[strings.ToUpper(words[1])]
		if !ok {
			n, err := strconv.ParseUint(strings.TrimPrefix(strings.ToUpper(words[1]), "TYPE"), 10, 16)
			if err != nil {
				return q, fmt.Errorf("query %q: unknown type %q", s, words[1])
			}
			t = uint16(n)
		}
		c := uint16(dns.ClassINET)
		if len(words) >= 3 {
			cc, ok := dns.StringToClass[strings.ToUpper(words[2])]
			if !ok {
				return q, fmt.Errorf("query %q: unknown class %q", s, words[2])
			}
			c = cc
		}
		m.Question = []dns.Question{{Name: words[0], Qtype: t, Qclass: c}}
	}
	var opt *dns.OPT
	ednsOn := func() *dns.OPT {
		if opt == nil {
			opt = &dns.OPT{Hdr: dns.RR_Header{Name: ".", Rrtype: dns.TypeOPT}}
			opt.SetUDPSize(1232)
			m.Extra = append(m.Extra, opt)
		}
		return opt
	}
	for _, f := range strings.Fields(s) {
		name, val, _ := strings.Cut(strings.TrimPrefix(f, "+"), "=")
		if !strings.HasPrefix(f, "+") {
			continue
		}
		n, _ := strconv.Atoi(val)
		switch name {
		case "rd":
			m.RecursionDesired = true
		case "cd":
			m.CheckingDisabled = true
		case "tcp":
			q.TCP = true
		case "edns":
			o := ednsOn()
			if val != "" {
				o.SetUDPSize(uint16(n))
			}
		case "ednsver":
			ednsOn().SetVersion(uint8(n))
		case "do":
			ednsOn().SetDo()
		case "nsid":
			o := ednsOn()
			o.Option = append(o.Option, &dns.EDNS0_NSID{Code: dns.EDNS0NSID})
		case "opt2":
			ednsOn()
			o2 := &dns.OPT{Hdr: dns.RR_Header{Name: ".", Rrtype: dns.TypeOPT}}
			o2.SetUDPSize(512)
			m.Extra = append(m.Extra, o2)
		case "id":
			m.Id = uint16(n)
		case "opcode":
			if op, ok := dns.StringToOpcode[strings.ToUpper(val)]; ok {
				m.Opcode = op
			} else {
				m.Opcode = n
			}
		case "qdcount":
			switch n {
			case 0:
				m.Question = nil
			default:
				for len(m.Question) < n {
					m.Question = append(m.Question, m.Question[0])
				}
			}
		case "qr":
			m.Response = true
		case "ancount":
			rr, _ := dns.NewRR(m.Question[0].Name + " 60 IN A 192.0.2.1")
			m.Answer = append(m.Answer, rr)
		case "nscount":
			rr, _ := dns.NewRR(m.Question[0].Name + " 60 IN NS ns.example.")
			m.Ns = append(m.Ns, rr)
		case "cookie":
			o := ednsOn()
			o.Option = append(o.Option, &dns.EDNS0_COOKIE{Code: dns.EDNS0COOKIE, Cookie: val})
		case "raw":
			b, err := hex.DecodeString(val)
			if err != nil {
				return q, fmt.Errorf("query %q: %w", s, err)
			}
			q.Raw = b
			return q, nil
		default:
			q.Flags = append(q.Flags, name)
		}
	}
	if len(words) < 2 {
		return q, fmt.Errorf("query %q: want name and type", s)
	}
	q.Msg = m
	return q, nil
}

// Wire returns the query in wire format.
func (q Query) Wire() ([]byte, error) {
	if q.Msg == nil {
		return q.Raw, nil
	}
	return q.Msg.Pack()
}

// Format renders a response for golden files: header, EDNS, then each
// section with its records sorted, so that record order within a section
// (which DNS does not define) does not make tests flaky. A nil message
// formats as "no response".
func Format(m *dns.Msg) string {
	if m == nil {
		return ";; no response\n"
	}
	var b strings.Builder
	rcode := dns.RcodeToString[m.Rcode]
	if m.Rcode == dns.RcodeBadVers {
		rcode = "BADVERS" // miekg names 16 after TSIG's BADSIG
	}
	if rcode == "" {
		rcode = strconv.Itoa(m.Rcode)
	}
	fmt.Fprintf(&b, ";; opcode %s, rcode %s, id %d\n", dns.OpcodeToString[m.Opcode], rcode, m.Id)
	var flags []string
	for _, f := range []struct {
		on   bool
		name string
	}{{m.Response, "qr"}, {m.Authoritative, "aa"}, {m.Truncated, "tc"}, {m.RecursionDesired, "rd"},
		{m.RecursionAvailable, "ra"}, {m.AuthenticatedData, "ad"}, {m.CheckingDisabled, "cd"}} {
		if f.on {
			flags = append(flags, f.name)
		}
	}
	extra := make([]dns.RR, 0, len(m.Extra))
	var opt *dns.OPT
	for _, rr := range m.Extra {
		if o, ok := rr.(*dns.OPT); ok {
			opt = o
			continue
		}
		extra = append(extra, rr)
	}
	fmt.Fprintf(&b, ";; flags %s; QUERY %d, ANSWER %d, AUTHORITY %d, ADDITIONAL %d\n",
		strings.Join(flags, " "), len(m.Question), len(m.Answer), len(m.Ns), len(m.Extra))
	if opt != nil {
		fmt.Fprintf(&b, ";; EDNS version %d, udp %d", opt.Version(), opt.UDPSize())
		if opt.Do() {
			b.WriteString(", flags do")
		}
		for _, o := range opt.Option {
			if e, ok := o.(*dns.EDNS0_EDE); ok {
				fmt.Fprintf(&b, ", ede %d", e.InfoCode)
				if e.ExtraText != "" {
					fmt.Fprintf(&b, " %q", e.ExtraText)
				}
				continue
			}
			fmt.Fprintf(&b, ", option %d", o.Option())
		}
		b.WriteString("\n")
	}
	for _, q := range m.Question {
		fmt.Fprintf(&b, ";; QUESTION %s\n", strings.TrimPrefix(q.String(), ";"))
	}
	for _, sec := range []struct {
		name string
		rrs  []dns.RR
	}{{"ANSWER", m.Answer}, {"AUTHORITY", m.Ns}, {"ADDITIONAL", extra}} {
		if len(sec.rrs) == 0 {
			continue
		}
		fmt.Fprintf(&b, ";; %s\n", sec.name)
		lines := make([]string, len(sec.rrs))
		for i, rr := range sec.rrs {
			lines[i] = rr.String()
		}
		sort.Strings(lines)
		for _, l := range lines {
			b.WriteString(l + "\n")
		}
	}
	return b.String()
}

// Case is one golden case: a name, a query line and the expected output.
type Case struct {
	Name  string
	Query string
	Want  string
}

// ReadCases reads a golden file: an optional header of comment lines, then
// cases, each
//
//	=== name
//	> query
//	expected output, up to the next "===" line
//
// It returns the header too, so that WriteCases keeps it.
func ReadCases(path string) (header string, cases []Case, err error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return "", nil, err
	}
	parts := strings.Split("\n"+string(b), "\n=== ")
	header = strings.TrimPrefix(parts[0], "\n")
	for _, p := range parts[1:] {
		name, rest, _ := strings.Cut(p, "\n")
		query, want, _ := strings.Cut(rest, "\n")
		if !strings.HasPrefix(query, "> ") {
			return "", nil, fmt.Errorf("%s: case %q: second line must be \"> query\"", path, name)
		}
		cases = append(cases, Case{
			Name:  strings.TrimSpace(name),
			Query: strings.TrimPrefix(query, "> "),
			Want:  strings.TrimRight(want, "\n") + "\n",
		})
	}
	if len(cases) == 0 {
		return "", nil, errors.New(path + ": no cases")
	}
	return header, cases, nil
}

// WriteCases writes a golden file in the format ReadCases reads.
func WriteCases(path, header string, cases []Case) error {
	var b bytes.Buffer
	if header = strings.TrimRight(header, "\n"); header != "" {
		b.WriteString(header + "\n")
	}
	for _, c := range cases {
		fmt.Fprintf(&b, "=== %s\n> %s\n%s\n\n", c.Name, c.Query, strings.TrimRight(c.Want, "\n"))
	}
	return os.WriteFile(path, b.Bytes(), 0o644)
}
