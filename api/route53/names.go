package route53

import (
	"strconv"
	"strings"

	"github.com/miekg/dns"
)

// Names and values in Route 53's notation (ROUTE53.md §4.3, §4.8). Route
// 53 writes a byte as \ddd in OCTAL (\052 is '*'), where the control
// plane, like every zone file, uses decimal (\042 is '*'). These functions
// translate at the edge so that the control plane keeps one notation.

// nameFromR53 turns a name as a Route 53 client sends it into the control
// plane's presentation form: \ddd octal escapes become the byte they name
// (written as a decimal escape unless it is a plain character); anything
// else passes through for the control plane to validate.
func nameFromR53(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	var b strings.Builder
	b.Grow(len(s))
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c == '\\' && isOctal3(s[i+1:]) {
			v := (s[i+1]-'0')*64 + (s[i+2]-'0')*8 + (s[i+3] - '0')
			writeNameByte(&b, v)
			i += 3
			continue
		}
		if c == '\\' && i+1 < len(s) {
			// Another escape (\. or a decimal one that is not octal):
			// keep it as the control plane reads it.
			b.WriteByte(c)
			b.WriteByte(s[i+1])
			i++
			continue
		}
		b.WriteByte(c)
	}
	return b.String()
}

// isOctal3 reports whether s starts with three octal digits whose value
// fits a byte.
func isOctal3(s string) bool {
	if len(s) < 3 {
		return false
	}
	for i := 0; i < 3; i++ {
		if s[i] < '0' || s[i] > '7' {
			return false
		}
	}
	return s[0] <= '3'
}

// writeNameByte writes one byte of a label in the control plane's form.
func writeNameByte(b *strings.Builder, v byte) {
	if 'a' <= v && v <= 'z' || 'A' <= v && v <= 'Z' || '0' <= v && v <= '9' || v == '-' || v == '_' || v == '*' {
		b.WriteByte(v)
		return
	}
	b.WriteByte('\\')
	d := strconv.Itoa(int(v))
	b.WriteString(strings.Repeat("0", 3-len(d)))
	b.WriteString(d)
}

// nameToR53 writes a canonical name as Route 53 returns it: every byte
// outside a-z 0-9 - _ as a three-digit octal escape, so that the wildcard
// label is \052.
func nameToR53(name string) string {
	if name == "." || name == "" {
		return name
	}
	labels := dns.SplitDomainName(name)
	var b strings.Builder
	b.Grow(len(name) + 8)
	for _, l := range labels {
		for _, v := range labelBytes(l) {
			if 'a' <= v && v <= 'z' || '0' <= v && v <= '9' || v == '-' || v == '_' {
				b.WriteByte(v)
				continue
			}
			if 'A' <= v && v <= 'Z' {
				b.WriteByte(v + 'a' - 'A')
				continue
			}
			b.WriteByte('\\')
			b.WriteByte('0' + v>>6)
			b.WriteByte('0' + (v>>3)&7)
			b.WriteByte('0' + v&7)
		}
		b.WriteByte('.')
	}
	return b.String()
}

// labelBytes decodes the escapes of one label in presentation form
// (\DDD decimal, \c the character c).
func labelBytes(l string) []byte {
	out := make([]byte, 0, len(l))
	for i := 0; i < len(l); i++ {
		c := l[i]
		if c != '\\' || i+1 >= len(l) {
			out = append(out, c)
			continue
		}
		if i+3 < len(l) && isDigit(l[i+1]) && isDigit(l[i+2]) && isDigit(l[i+3]) {
			v := int(l[i+1]-'0')*100 + int(l[i+2]-'0')*10 + int(l[i+3]-'0')
			if v <= 255 {
				out = append(out, byte(v))
				i += 3
				continue
			}
		}
		out = append(out, l[i+1])
		i++
	}
	return out
}

func isDigit(c byte) bool { return '0' <= c && c <= '9' }

// quotedTypes are the record types whose values hold character strings,
// where Route 53 writes bytes as octal escapes too.
func quotedType(t string) bool {
	switch t {
	case "TXT", "SPF", "CAA", "NAPTR":
		return true
	}
	return false
}

// valueFromR53 converts the octal escapes (\ddd) of a character-string
// value to the decimal ones the control plane parses. \" and \\ stay.
func valueFromR53(typ, v string) string {
	if !quotedType(typ) || !strings.Contains(v, `\`) {
		return v
	}
	var b strings.Builder
	for i := 0; i < len(v); i++ {
		c := v[i]
		if c == '\\' && isOctal3(v[i+1:]) {
			n := int(v[i+1]-'0')*64 + int(v[i+2]-'0')*8 + int(v[i+3]-'0')
			d := strconv.Itoa(n)
			b.WriteByte('\\')
			b.WriteString(strings.Repeat("0", 3-len(d)))
			b.WriteString(d)
			i += 3
			continue
		}
		if c == '\\' && i+1 < len(v) {
			b.WriteByte(c)
			b.WriteByte(v[i+1])
			i++
			continue
		}
		b.WriteByte(c)
	}
	return b.String()
}

// valueToR53 is the inverse of valueFromR53 for values the control plane
// returns: decimal escapes become octal. A TXT or SPF value stored without
// quotes (through /v1) is returned quoted, one string per quoted part, as
// Route 53 always lists them.
func valueToR53(typ, v string) string {
	if !quotedType(typ) {
		return v
	}
	if (typ == "TXT" || typ == "SPF") && !strings.HasPrefix(v, `"`) {
		if rr, err := dns.NewRR(". 0 IN TXT " + v); err == nil {
			if t, ok := rr.(*dns.TXT); ok {
				parts := make([]string, len(t.Txt))
				for i, s := range t.Txt {
					parts[i] = `"` + s + `"`
				}
				v = strings.Join(parts, " ")
			}
		}
	}
	if !strings.Contains(v, `\`) {
		return v
	}
	var b strings.Builder
	for i := 0; i < len(v); i++ {
		c := v[i]
		if c == '\\' && i+3 < len(v) && isDigit(v[i+1]) && isDigit(v[i+2]) && isDigit(v[i+3]) {
			n := int(v[i+1]-'0')*100 + int(v[i+2]-'0')*10 + int(v[i+3]-'0')
			if n <= 255 {
				b.WriteByte('\\')
				b.WriteByte(byte('0' + n>>6))
				b.WriteByte(byte('0' + (n>>3)&7))
				b.WriteByte(byte('0' + n&7))
				i += 3
				continue
			}
		}
		if c == '\\' && i+1 < len(v) {
			b.WriteByte(c)
			b.WriteByte(v[i+1])
			i++
			continue
		}
		b.WriteByte(c)
	}
	return b.String()
}

// bareID strips any /word/ prefix from an id a client sends back
// (/hostedzone/Z1, /change/C1); the SDKs do not all strip it.
func bareID(id string) string {
	if i := strings.LastIndexByte(id, '/'); i >= 0 {
		return id[i+1:]
	}
	return id
}
