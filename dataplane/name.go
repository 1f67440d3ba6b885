package dataplane

import (
	"fmt"

	"github.com/miekg/dns"
)

// Names inside the data plane are kept in uncompressed wire format with
// ASCII letters lowercased, as Go strings: "\x03www\x07example\x03com\x00".
// That form needs no escaping, walking up to the parent is slicing, and a
// query name read from a packet becomes a map key without conversion.
// Label length octets are at most 63, below 'A', so lowercasing every byte
// of a wire name is safe.

// maxNameWire is the longest name in wire format (RFC 1035 §3.1).
const maxNameWire = 255

// rootName is the root in wire format.
const rootName = "\x00"

// wireName converts a presentation-format name to lowercase wire format.
func wireName(name string) (string, error) {
	if w, ok := plainWireName(name); ok {
		return w, nil
	}
	return packWireName(name)
}

// plainWireName is wireName's fast path for the commonest names: fully
// qualified, not the root, of letters, digits, hyphens, underscores and
// asterisks, which need no escape handling (TestWireNameFastPath). It
// reports false for anything else.
func plainWireName(name string) (string, bool) {
	if len(name) < 2 || len(name)+1 > maxNameWire || name[len(name)-1] != '.' {
		return "", false
	}
	var buf [maxNameWire + 1]byte
	b := buf[:len(name)+1]
	start := 0 // where the current label's length octet goes
	for i := 0; i < len(name); i++ {
		c := name[i]
		switch {
		case c == '.':
			l := i - start
			if l == 0 || l > 63 {
				return "", false
			}
			b[start] = byte(l)
			start = i + 1
			continue
		case 'A' <= c && c <= 'Z':
			c += 'a' - 'A'
		case 'a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '-' || c == '_' || c == '*':
		default:
			return "", false
		}
		b[i+1] = c
	}
	b[len(name)] = 0
	return string(b), true
}

// packWireName is wireName through miekg's packer.
func packWireName(name string) (string, error) {
	var buf [maxNameWire + 1]byte
	n, err := dns.PackDomainName(dns.Fqdn(name), buf[:], 0, nil, false)
	if err != nil {
		return "", fmt.Errorf("name %q: %w", name, err)
	}
	lowerBytes(buf[:n])
	return string(buf[:n]), nil
}

// presentationName converts a wire name back to presentation format.
func presentationName(w string) string {
	s, _, err := dns.UnpackDomainName([]byte(w), 0)
	if err != nil {
		return "."
	}
	return s
}

// lowerBytes lowercases ASCII letters in place.
func lowerBytes(b []byte) {
	for i, c := range b {
		if 'A' <= c && c <= 'Z' {
			b[i] = c + 'a' - 'A'
		}
	}
}

// parentName returns the name with its first label removed; the root's
// parent is "".
func parentName(w string) string {
	if len(w) <= 1 {
		return ""
	}
	return w[1+int(w[0]):]
}

// isWildcardName reports whether the leftmost label of w is "*".
func isWildcardName(w string) bool { return len(w) >= 2 && w[0] == 1 && w[1] == '*' }

// isSubName reports whether child is parent or below it, comparing at label
// boundaries (a plain suffix test could match inside a label).
func isSubName(child, parent string) bool {
	if len(child) < len(parent) {
		return false
	}
	for len(child) > len(parent) {
		child = parentName(child)
	}
	return child == parent
}
