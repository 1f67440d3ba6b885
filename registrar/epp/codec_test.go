package epp

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
)

func readGolden(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestDecodeRFCExamples decodes the examples of RFC 5730-5733, 5910 and
// 3915 and checks the fields a server or client acts on.
func TestDecodeRFCExamples(t *testing.T) {
	t.Parallel()
	tests := []struct {
		file  string
		check func(t *testing.T, m *Message)
	}{
		{"rfc5730-login.xml", func(t *testing.T, m *Message) {
			l := m.Command.Login
			if l.ClID != "ClientX" || l.PW != "foo-BAR2" || l.NewPW != "bar-FOO2" || l.Options.Version != "1.0" || len(l.Svcs.ObjURI) != 3 || l.Svcs.Extensions.ExtURI[0] != "http://custom/obj1ext-1.0" || m.Command.ClTRID != "ABC-12345" {
				t.Errorf("login = %+v", l)
			}
		}},
		{"rfc5730-greeting.xml", func(t *testing.T, m *Message) {
			g := m.Greeting
			if g.SvID != "Example EPP server epp.example.com" || len(g.Menu.Lang) != 2 || g.DCP.Access.All == nil || g.DCP.Statement[0].Recipient.Public == nil {
				t.Errorf("greeting = %+v", g)
			}
		}},
		{"rfc5731-check.xml", func(t *testing.T, m *Message) {
			d := m.Command.Check.Domain
			if d.XMLName.Local != "check" || len(d.Names) != 3 || d.Names[2].Value != "example.org" {
				t.Errorf("check = %+v", d)
			}
		}},
		{"rfc5731-chkdata.xml", func(t *testing.T, m *Message) {
			got := checks(m.Response.ResData.Domain.CD)
			want := []Check{{"example.com", true, ""}, {"example.net", false, "In use"}, {"example.org", true, ""}}
			if !reflect.DeepEqual(got, want) {
				t.Errorf("checks = %+v", got)
			}
		}},
		{"rfc5731-create.xml", func(t *testing.T, m *Message) {
			d := m.Command.Create.Domain
			y, _ := d.Period.Years()
			if d.Names[0].Value != "example.com" || y != 2 || len(d.NS.HostObj) != 2 || d.Registrant != "jd1234" || d.Contacts[1] != (ContactRef{"tech", "sh8013"}) || d.AuthInfo.PW != "2fooBAR" {
				t.Errorf("create = %+v", d)
			}
		}},
		{"rfc5731-infdata.xml", func(t *testing.T, m *Message) {
			d := fromDomainData(m.Response.ResData.Domain, m.Response.Extension)
			if d.Name != "example.com" || d.ROID != "EXAMPLE1-REP" || d.Status[0] != "ok" || len(d.NS) != 2 || len(d.Hosts) != 2 || d.ExDate.Year() != 2005 || d.AuthInfo != "2fooBAR" {
				t.Errorf("info = %+v", d)
			}
			if want := []DS{{12345, 3, 1, "49FD46E6C4B45C55D4AC"}}; !reflect.DeepEqual(d.DS, want) {
				t.Errorf("DS = %+v", d.DS)
			}
		}},
		{"rfc5731-renew.xml", func(t *testing.T, m *Message) {
			d := m.Command.Renew.Domain
			if d.CurExpDate != "2000-04-03" || d.Period.Value != 5 {
				t.Errorf("renew = %+v", d)
			}
			if _, err := parseTime(d.CurExpDate); err != nil {
				t.Error(err)
			}
		}},
		{"rfc5731-transfer.xml", func(t *testing.T, m *Message) {
			tr := m.Command.Transfer
			if tr.Op != "request" || tr.Domain.Names[0].Value != "example.com" || tr.Domain.AuthInfo.PW != "2fooBAR" {
				t.Errorf("transfer = %+v", tr)
			}
		}},
		{"rfc5731-update.xml", func(t *testing.T, m *Message) {
			d := m.Command.Update.Domain
			if d.Add.NS.HostObj[0] != "ns2.example.com" || d.Add.Status[0].S != "clientHold" || d.Add.Status[0].Text != "Payment overdue." || d.Rem.Contacts[0].ID != "sh8013" || *d.Chg.Registrant != "sh8013" || d.Chg.AuthInfo.PW != "2BARfoo" {
				t.Errorf("update = %+v", d)
			}
		}},
		{"rfc5732-create.xml", func(t *testing.T, m *Message) {
			h := m.Command.Create.Host
			addrs, err := parseAddrs(h.Addr)
			if err != nil || h.Names[0] != "ns1.example.com" || len(addrs) != 3 || !addrs[2].Is6() {
				t.Errorf("host create = %+v %v %v", h, addrs, err)
			}
		}},
		{"rfc5733-create.xml", func(t *testing.T, m *Message) {
			c := m.Command.Create.Contact
			if c.IDs[0] != "sh8013" || c.PostalInfo[0].Addr.Street[1] != "Suite 100" || c.PostalInfo[0].Addr.CC != "US" || c.Email != "jdoe@example.com" || !*private(c.Disclose) {
				t.Errorf("contact create = %+v", c)
			}
		}},
		{"rfc5910-create.xml", func(t *testing.T, m *Message) {
			ds, err := fromDSData(m.Command.Extension.SecDNSCreate.DSData, nil)
			if err != nil || !reflect.DeepEqual(ds, []DS{{12345, 3, 1, "49FD46E6C4B45C55D4AC"}}) {
				t.Errorf("secDNS create = %+v %v", ds, err)
			}
		}},
		{"rfc5910-update.xml", func(t *testing.T, m *Message) {
			u := m.Command.Extension.SecDNSUpdate
			if u.Rem.All != "true" || u.Add.DSData[0].KeyTag != 12346 {
				t.Errorf("secDNS update = %+v", u)
			}
		}},
		{"rfc3915-restore.xml", func(t *testing.T, m *Message) {
			if r := m.Command.Extension.RGPUpdate; r == nil || r.Restore.Op != "request" {
				t.Errorf("rgp = %+v", m.Command.Extension)
			}
		}},
		{"rfc5730-poll.xml", func(t *testing.T, m *Message) {
			r := m.Response
			tr := fromTrnData(r.ResData.Domain)
			if r.Result[0].Code != CodeAckToDequeue || r.MsgQ.Count != 5 || r.MsgQ.ID != "12345" || tr.Status != "pending" || tr.ReID != "ClientX" || tr.AcDate.Day() != 13 {
				t.Errorf("poll = %+v %+v", r, tr)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			t.Parallel()
			m, err := Decode(readGolden(t, tt.file))
			if err != nil {
				t.Fatal(err)
			}
			tt.check(t, m)
			// What we encode decodes to the same message: the codec is
			// its own inverse on every RFC example.
			b, err := Encode(m)
			if err != nil {
				t.Fatal(err)
			}
			m2, err := Decode(b)
			if err != nil {
				t.Fatalf("re-decode: %v\n%s", err, b)
			}
			tt.check(t, m2)
		})
	}
}

// TestDecodeRefuses covers the inputs the decoder must refuse cheaply.
func TestDecodeRefuses(t *testing.T) {
	t.Parallel()
	deep := strings.Repeat("<a>", 40) + strings.Repeat("</a>", 40)
	for name, in := range map[string]string{
		"empty":       "",
		"not xml":     "hello",
		"dtd":         `<?xml version="1.0"?><!DOCTYPE epp [<!ENTITY x "y">]><epp xmlns="urn:ietf:params:xml:ns:epp-1.0"><hello/></epp>`,
		"deep":        `<epp xmlns="urn:ietf:params:xml:ns:epp-1.0"><command>` + deep + `</command></epp>`,
		"wrong ns":    `<epp xmlns="urn:example"><hello/></epp>`,
		"two kinds":   `<epp xmlns="urn:ietf:params:xml:ns:epp-1.0"><hello/><command/></epp>`,
		"none":        `<epp xmlns="urn:ietf:params:xml:ns:epp-1.0"></epp>`,
		"unclosed":    `<epp xmlns="urn:ietf:params:xml:ns:epp-1.0"><hello>`,
		"two objects": `<epp xmlns="urn:ietf:params:xml:ns:epp-1.0"><command><check><domain:check xmlns:domain="urn:ietf:params:xml:ns:domain-1.0"/><host:check xmlns:host="urn:ietf:params:xml:ns:host-1.0"/></check></command></epp>`,
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			if _, err := Decode([]byte(in)); !errors.Is(err, ErrSyntax) {
				t.Errorf("Decode = %v, want ErrSyntax", err)
			}
		})
	}
}

func frame(n uint32, body string) []byte {
	b := make([]byte, 4, 4+len(body))
	binary.BigEndian.PutUint32(b, n)
	return append(b, body...)
}

// TestReadFrame covers RFC 5734's header: it counts itself.
func TestReadFrame(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		in      []byte
		want    string
		wantErr error
	}{
		{"one", frame(9, "hello"), "hello", nil},
		{"header only", frame(4, ""), "", ErrBadFrame},
		{"too small", frame(2, ""), "", ErrBadFrame},
		{"too large", frame(1<<20, ""), "", ErrFrameTooLarge},
		{"truncated body", frame(20, "abc"), "", io.ErrUnexpectedEOF},
		{"truncated header", []byte{0, 0}, "", io.ErrUnexpectedEOF},
		{"eof", nil, "", io.EOF},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := ReadFrame(bytes.NewReader(tt.in), 1024)
			if !errors.Is(err, tt.wantErr) || string(got) != tt.want {
				t.Errorf("ReadFrame = %q, %v; want %q, %v", got, err, tt.want, tt.wantErr)
			}
		})
	}
	var buf bytes.Buffer
	if err := WriteFrame(&buf, []byte("<epp/>")); err != nil {
		t.Fatal(err)
	}
	if binary.BigEndian.Uint32(buf.Bytes()) != 10 {
		t.Errorf("WriteFrame header = %x, want 10 (4 + 6)", buf.Bytes()[:4])
	}
}

// FuzzReadFrame checks the frame reader never panics nor returns more
// than the limit or than its header announced.
func FuzzReadFrame(f *testing.F) {
	f.Add(frame(9, "hello"))
	f.Add(frame(4, ""))
	f.Add(frame(0xffffffff, "x"))
	f.Fuzz(func(t *testing.T, b []byte) {
		got, err := ReadFrame(bytes.NewReader(b), 256)
		if err == nil && (len(got)+4 > 256 || len(got)+4 != int(binary.BigEndian.Uint32(b))) {
			t.Fatalf("frame of %d bytes from header %x", len(got), b[:4])
		}
	})
}

// FuzzDecode feeds the RFC examples, mutated, through the decoder and, for
// what decodes (logins aside: they need a TLS connection), through a
// logged-in session's handling with a memory registry: neither may panic,
// and every answer must encode.
func FuzzDecode(f *testing.F) {
	ents, _ := os.ReadDir("testdata")
	for _, e := range ents {
		f.Add(readGolden(f, e.Name()))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := Decode(b)
		if err != nil {
			return
		}
		if _, err := Encode(m); err != nil {
			t.Fatalf("decoded but cannot encode: %v", err)
		}
		if m.Command != nil && m.Command.Login != nil {
			return
		}
		ss := &session{s: &Server{Registry: newMemRegistry(time.Unix(0, 0)), ServerID: "fuzz", Log: slog.New(slog.DiscardHandler)}, registrar: "reg-a"}
		resp, _ := ss.handle(context.Background(), b)
		if _, err := Encode(resp); err != nil {
			t.Fatalf("answer cannot encode: %v", err)
		}
	})
}
