package zonecfg

import (
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/miekg/dns"
	"golang.org/x/net/idna"
)

// MaxNameLength is the longest name in presentation form that we accept
// before canonicalisation; the wire limit of 255 octets is checked as well.
const MaxNameLength = 1024

// ErrInvalidName is wrapped by every error CanonicalName returns.
var ErrInvalidName = errors.New("invalid domain name")

// idnaProfile converts Unicode labels to punycode. It is lenient about
// underscores and other characters DNS allows but hostnames do not, because
// record names such as _dmarc.example.com are valid DNS names.
var idnaProfile = idna.New(idna.MapForLookup(), idna.Transitional(false), idna.StrictDomainName(false))

// CanonicalName validates name and returns it in Waymark's canonical form:
// lowercase, fully qualified (trailing dot), with Unicode labels converted to
// punycode and escapes normalised. The root name "." is valid.
func CanonicalName(name string) (string, error) {
	name = strings.TrimSpace(name)
	if name == "" {
		return "", fmt.Errorf("%w: empty name", ErrInvalidName)
	}
	if len(name) > MaxNameLength {
		return "", fmt.Errorf("%w: name is too long", ErrInvalidName)
	}
	if !utf8.ValidString(name) {
		return "", fmt.Errorf("%w: name is not valid UTF-8", ErrInvalidName)
	}
	if hasNonASCII(name) {
		ascii, err := idnaProfile.ToASCII(strings.TrimSuffix(name, "."))
		if err != nil {
			return "", fmt.Errorf("%w: %q: %v", ErrInvalidName, name, err)
		}
		name = ascii
	}
	escaped := false
	for i := 0; i < len(name); i++ {
		c := name[i]
		switch {
		case c < 0x20 || c == 0x7f || (c == ' ' && !escaped):
			// "\ " is how names with a space are written (and how we
			// return them), so an escaped space is accepted.
			return "", fmt.Errorf("%w: %q contains a control character or space; use \\DDD escapes", ErrInvalidName, name)
		case escaped:
			escaped = false
		case c == '\\':
			escaped = true
		}
	}
	name = dns.Fqdn(name)
	if strings.Contains(name, "..") && name != "." {
		return "", fmt.Errorf("%w: %q has an empty label", ErrInvalidName, name)
	}
	// Round-trip through wire format: this checks label and name lengths and
	// normalises escapes (\065 becomes A, then lowercase a).
	buf := make([]byte, 256)
	off, err := dns.PackDomainName(name, buf, 0, nil, false)
	if err != nil {
		return "", fmt.Errorf("%w: %q: %v", ErrInvalidName, name, err)
	}
	out, _, err := dns.UnpackDomainName(buf[:off], 0)
	if err != nil {
		return "", fmt.Errorf("%w: %q: %v", ErrInvalidName, name, err)
	}
	return lowerASCII(out), nil
}

// MustCanonicalName is CanonicalName for names known to be valid, such as
// constants in tests. It panics on error.
func MustCanonicalName(name string) string {
	n, err := CanonicalName(name)
	if err != nil {
		panic(err)
	}
	return n
}

// IsSubdomain reports whether child is parent or below it. Both must be
// canonical.
func IsSubdomain(child, parent string) bool {
	if parent == "." {
		return true
	}
	if child == parent {
		return true
	}
	return strings.HasSuffix(child, "."+parent)
}

// SortKey returns the key that orders names the way Route 53 lists them: the
// labels reversed, compared as bytes ("www.example.com." sorts as
// "com.example.www."). name must be canonical.
func SortKey(name string) string {
	if name == "." {
		return ""
	}
	labels := dns.SplitDomainName(name)
	var b strings.Builder
	b.Grow(len(name))
	for i := len(labels) - 1; i >= 0; i-- {
		b.WriteString(labels[i])
		b.WriteByte('.')
	}
	return b.String()
}

// IsWildcard reports whether name's leftmost label is exactly "*".
func IsWildcard(name string) bool {
	return strings.HasPrefix(name, "*.")
}

func hasNonASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return true
		}
	}
	return false
}

// lowerASCII lowercases A-Z only; escapes such as \065 were already decoded
// by the wire round trip, and bytes above 0x7f stay escaped.
func lowerASCII(s string) string {
	for i := 0; i < len(s); i++ {
		if c := s[i]; 'A' <= c && c <= 'Z' {
			b := []byte(s)
			for j := i; j < len(b); j++ {
				if 'A' <= b[j] && b[j] <= 'Z' {
					b[j] += 'a' - 'A'
				}
			}
			return string(b)
		}
	}
	return s
}
