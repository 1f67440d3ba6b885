package zonecfg

import (
	"errors"
	"fmt"
	"slices"

	"github.com/miekg/dns"
)

// AppendRData packs rr and appends its RDLENGTH and RDATA — the bytes a
// nameserver stores and answers — to dst. tmp is scratch space (it may be
// nil or too small; the grown buffer is returned for reuse). The packed
// record must also unpack: what a resolver cannot decode is not served.
//
// It is the one packing path of both planes: the control plane accepts a
// value only if it packs here (ParseRecord, RRSet.Parse), and the
// nameservers load record sets through RRSet.Pack, which calls it, so the
// two cannot disagree on what is servable.
func AppendRData(dst []byte, rr dns.RR, tmp []byte) ([]byte, []byte, error) {
	if len(tmp) < 4096 {
		tmp = make([]byte, 4096) // most records; larger ones grow it below
	}
	end, err := dns.PackRR(rr, tmp, 0, nil, false)
	if errors.Is(err, dns.ErrBuf) {
		tmp = make([]byte, 2*dns.MaxMsgSize) // a record of up to 64 KiB
		end, err = dns.PackRR(rr, tmp, 0, nil, false)
	}
	if err != nil {
		return dst, tmp, fmt.Errorf("does not pack: %v", dnsErrText(err))
	}
	rdlen := int(rr.Header().Rdlength)
	start := end - rdlen - 2
	if rdlen > 0xffff || start < 0 {
		return dst, tmp, errors.New("record data is too long")
	}
	if _, _, err := dns.UnpackRR(tmp[:end], 0); err != nil {
		return dst, tmp, fmt.Errorf("packed form does not unpack: %v", dnsErrText(err))
	}
	return append(dst, tmp[start:end]...), tmp, nil
}

// dnsErrText is miekg's message without its "dns: " prefix.
func dnsErrText(err error) string {
	s := err.Error()
	if len(s) > 5 && s[:5] == "dns: " {
		return s[5:]
	}
	return s
}

// checkSVCB applies RFC 9460's rules on SvcParams that miekg's parser and
// packer do not: every key named by "mandatory" is present (§8), and
// "mandatory" names neither itself nor a key twice; "no-default-alpn"
// comes with "alpn" (§7.1.1). Resolvers reject answers that break them
// (dig: FORMERR).
func checkSVCB(params []dns.SVCBKeyValue) error {
	present := make(map[dns.SVCBKey]bool, len(params))
	for _, p := range params {
		if present[p.Key()] {
			return fmt.Errorf("key %s appears twice", p.Key())
		}
		present[p.Key()] = true
	}
	for _, p := range params {
		m, ok := p.(*dns.SVCBMandatory)
		if !ok {
			continue
		}
		if len(m.Code) == 0 {
			return errors.New("mandatory lists no keys")
		}
		seen := make([]dns.SVCBKey, 0, len(m.Code))
		for _, k := range m.Code {
			switch {
			case k == dns.SVCB_MANDATORY:
				return errors.New("mandatory must not list itself")
			case slices.Contains(seen, k):
				return fmt.Errorf("mandatory lists %s twice", k)
			case !present[k]:
				return fmt.Errorf("mandatory lists %s, which is absent", k)
			}
			seen = append(seen, k)
		}
	}
	if present[dns.SVCB_NO_DEFAULT_ALPN] && !present[dns.SVCB_ALPN] {
		return errors.New("no-default-alpn needs an alpn key")
	}
	return nil
}
