// Package epp speaks the Extensible Provisioning Protocol: the frames of
// RFC 5734 over TLS, the core messages of RFC 5730 and the domain (RFC 5731),
// host (RFC 5732) and contact (RFC 5733) mappings with the secDNS-1.1
// (RFC 5910), RGP (RFC 3915) and change-poll (RFC 8590) extensions. It has a
// server, which serves any Registry, and a client for external registries.
package epp

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
)

// headerLen is the size of the RFC 5734 length header, which counts itself.
const headerLen = 4

// DefaultMaxFrame bounds a frame when a Server or Client sets none. Real
// commands are a few kilobytes; the bound keeps a peer from making us
// allocate what it claims.
const DefaultMaxFrame = 64 << 10

// ErrFrameTooLarge is returned by ReadFrame for a header announcing more than
// the limit; the payload is not read, so the stream cannot be resynchronised
// and the connection should be closed.
var ErrFrameTooLarge = errors.New("epp: frame exceeds the limit")

// ErrBadFrame is returned by ReadFrame for a header smaller than itself.
var ErrBadFrame = errors.New("epp: frame length smaller than its header")

// ReadFrame reads one RFC 5734 data unit: a 4-byte big-endian total length
// (header included) and the XML instance. max bounds the total length.
func ReadFrame(r io.Reader, max int) ([]byte, error) {
	var h [headerLen]byte
	if _, err := io.ReadFull(r, h[:]); err != nil {
		return nil, err
	}
	n := binary.BigEndian.Uint32(h[:])
	if n < headerLen+1 {
		return nil, ErrBadFrame
	}
	if uint64(n) > uint64(max) {
		return nil, fmt.Errorf("%w: %d > %d bytes", ErrFrameTooLarge, n, max)
	}
	b := make([]byte, n-headerLen)
	if _, err := io.ReadFull(r, b); err != nil {
		if errors.Is(err, io.EOF) {
			err = io.ErrUnexpectedEOF
		}
		return nil, err
	}
	return b, nil
}

// WriteFrame writes b as one data unit, header and payload in one write so
// a frame is never split across TLS records needlessly.
func WriteFrame(w io.Writer, b []byte) error {
	buf := make([]byte, headerLen+len(b))
	binary.BigEndian.PutUint32(buf, uint32(headerLen+len(b)))
	copy(buf[headerLen:], b)
	_, err := w.Write(buf)
	return err
}
