package main

import (
	"crypto/rand"
	"time"

	"github.com/miekg/dns"

	"github.com/waymark-dns/waymark/dnssec"
	"github.com/waymark-dns/waymark/zonecfg"
)

// signingMaterial makes what the control plane would send for a signed
// zone at origin (a KSK, an active ZSK wrapped under fleetKey), as
// controlplane.signingMaterial does, for benchmarks without a control
// plane.
func signingMaterial(zoneID, origin string, fleetKey []byte) (*zonecfg.DNSSEC, error) {
	const ttl = 3600
	kraw, err := dnssec.Generate(dnssec.ECDSAP256SHA256)
	if err != nil {
		return nil, err
	}
	ksk, err := dnssec.ParseKey(origin, dnssec.FlagKSK, dnssec.ECDSAP256SHA256, ttl, kraw)
	if err != nil {
		return nil, err
	}
	zraw, err := dnssec.Generate(dnssec.ECDSAP256SHA256)
	if err != nil {
		return nil, err
	}
	zsk, err := dnssec.ParseKey(origin, dnssec.FlagZSK, dnssec.ECDSAP256SHA256, ttl, zraw)
	if err != nil {
		return nil, err
	}
	wrapped, err := dnssec.Seal(fleetKey, zraw, dnssec.KeyAD(zoneID, "zsk"), rand.Reader)
	if err != nil {
		return nil, err
	}
	inc, exp, _ := dnssec.DefaultTiming.Window(time.Now(), origin, dns.TypeDNSKEY)
	sig, err := ksk.Sign([]dns.RR{ksk.DNSKEY, zsk.DNSKEY}, inc, exp)
	if err != nil {
		return nil, err
	}
	return &zonecfg.DNSSEC{
		DNSKEYTTL:  ttl,
		DNSKEYs:    []string{zonecfg.RData(ksk.DNSKEY), zonecfg.RData(zsk.DNSKEY)},
		DNSKEYSigs: []string{zonecfg.RData(sig)},
		ZSKs:       []zonecfg.ZSK{{Name: "zsk", KeyTag: zsk.KeyTag(), Algorithm: dnssec.ECDSAP256SHA256, Active: true, Wrapped: wrapped}},
	}, nil
}
