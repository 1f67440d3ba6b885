package dnstest

import (
	"net"

	"github.com/miekg/dns"
)

// Recorder is a dns.ResponseWriter that keeps what the handler wrote.
type Recorder struct {
	Local, Remote net.Addr
	// Wire is the last response written, in wire format; Msg is the same
	// response parsed (nil if it did not parse).
	Wire   []byte
	Msg    *dns.Msg
	Writes int
}

// NewRecorder returns a recorder that looks like a UDP exchange, or TCP.
func NewRecorder(tcp bool) *Recorder {
	if tcp {
		return &Recorder{
			Local:  &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 53},
			Remote: &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 40000},
		}
	}
	return &Recorder{
		Local:  &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 53},
		Remote: &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 40000},
	}
}

// LocalAddr implements dns.ResponseWriter.
func (r *Recorder) LocalAddr() net.Addr { return r.Local }

// RemoteAddr implements dns.ResponseWriter.
func (r *Recorder) RemoteAddr() net.Addr { return r.Remote }

// WriteMsg implements dns.ResponseWriter.
func (r *Recorder) WriteMsg(m *dns.Msg) error {
	b, err := m.Pack()
	if err != nil {
		return err
	}
	_, err = r.Write(b)
	return err
}

// Write implements dns.ResponseWriter.
func (r *Recorder) Write(b []byte) (int, error) {
	r.Writes++
	r.Wire = append([]byte(nil), b...)
	r.Msg = new(dns.Msg)
	if err := r.Msg.Unpack(r.Wire); err != nil {
		r.Msg = nil
	}
	return len(b), nil
}

// Close implements dns.ResponseWriter.
func (r *Recorder) Close() error { return nil }

// TsigStatus implements dns.ResponseWriter.
func (r *Recorder) TsigStatus() error { return nil }

// TsigTimersOnly implements dns.ResponseWriter.
func (r *Recorder) TsigTimersOnly(bool) {}

// Hijack implements dns.ResponseWriter.
func (r *Recorder) Hijack() {}
