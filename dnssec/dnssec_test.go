package dnssec

import (
	"bytes"
	"crypto/rand"
	"errors"
	"testing"
	"time"

	"github.com/miekg/dns"
)

func TestSealOpen(t *testing.T) {
	key := bytes.Repeat([]byte{7}, 32)
	secret := []byte("0123456789abcdef0123456789abcdef")
	sealed, err := Seal(key, secret, KeyAD("Z1", "k1"), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(sealed, secret) {
		t.Fatal("sealed blob holds the plain text")
	}
	tests := []struct {
		name   string
		key    []byte
		ad     []byte
		sealed []byte
		ok     bool
	}{
		{"right", key, KeyAD("Z1", "k1"), sealed, true},
		{"other zone", key, KeyAD("Z2", "k1"), sealed, false},
		{"other key name", key, KeyAD("Z1", "k2"), sealed, false},
		{"other master key", bytes.Repeat([]byte{8}, 32), KeyAD("Z1", "k1"), sealed, false},
		{"truncated", key, KeyAD("Z1", "k1"), sealed[:10], false},
		{"tampered", key, KeyAD("Z1", "k1"), append(append([]byte{}, sealed[:len(sealed)-1]...), sealed[len(sealed)-1]^1), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Open(tt.key, tt.sealed, tt.ad)
			if tt.ok != (err == nil) {
				t.Fatalf("Open: err %v, want ok %v", err, tt.ok)
			}
			if tt.ok && !bytes.Equal(got, secret) {
				t.Fatal("Open returned other bytes")
			}
			if !tt.ok && !errors.Is(err, ErrUnseal) {
				t.Fatalf("err %v, want ErrUnseal", err)
			}
		})
	}
}

func TestSignDeterministicAndVerifies(t *testing.T) {
	for _, alg := range []uint8{ECDSAP256SHA256, ED25519} {
		raw, err := Generate(alg)
		if err != nil {
			t.Fatal(err)
		}
		k, err := ParseKey("Example.COM.", FlagZSK, alg, 3600, raw)
		if err != nil {
			t.Fatal(err)
		}
		a1, _ := dns.NewRR("www.example.com. 300 IN A 192.0.2.1")
		a2, _ := dns.NewRR("www.example.com. 300 IN A 192.0.2.2")
		now := time.Date(2026, 12, 1, 10, 30, 0, 0, time.UTC)
		inc, exp, refresh := DefaultTiming.Window(now, "www.example.com.", dns.TypeA)
		if !refresh.After(now) || int64(exp)-int64(inc) > int64((14*24*time.Hour)/time.Second) {
			t.Fatalf("window %d..%d refresh %v", inc, exp, refresh)
		}
		s1, err := k.Sign([]dns.RR{a1, a2}, inc, exp)
		if err != nil {
			t.Fatal(err)
		}
		s2, err := k.Sign([]dns.RR{a2, a1}, inc, exp)
		if err != nil {
			t.Fatal(err)
		}
		if s1.String() != s2.String() {
			t.Fatalf("alg %d: signatures differ:\n%s\n%s", alg, s1, s2)
		}
		if s1.Hdr.Name != "www.example.com." || s1.SignerName != "example.com." || s1.Labels != 3 {
			t.Fatalf("not canonical: %s", s1)
		}
		if err := s1.Verify(k.DNSKEY, []dns.RR{a1, a2}); err != nil {
			t.Fatalf("alg %d: verify: %v", alg, err)
		}
		if k.DS().Digest == "" || k.DS().DigestType != dns.SHA256 {
			t.Fatal("no SHA-256 DS")
		}
	}
}

func TestCompactDenial(t *testing.T) {
	nx := NXName("Nope.Example.com.", 60)
	if nx.Hdr.Name != "nope.example.com." || nx.NextDomain != `\000.nope.example.com.` {
		t.Fatalf("NXName: %s", nx)
	}
	if got := nx.TypeBitMap; len(got) != 3 || got[2] != TypeNXNAME {
		t.Fatalf("NXName bitmap %v", got)
	}
	nd := NoData("www.example.com.", 60, []uint16{dns.TypeTXT, dns.TypeA, dns.TypeA})
	want := []uint16{dns.TypeA, dns.TypeTXT, dns.TypeRRSIG, dns.TypeNSEC}
	if len(nd.TypeBitMap) != len(want) {
		t.Fatalf("NoData bitmap %v", nd.TypeBitMap)
	}
	for i := range want {
		if nd.TypeBitMap[i] != want[i] {
			t.Fatalf("NoData bitmap %v, want %v", nd.TypeBitMap, want)
		}
	}
	// The NSEC must pack and unpack (the \000 label is real).
	buf := make([]byte, 512)
	if _, err := dns.PackRR(nx, buf, 0, nil, false); err != nil {
		t.Fatal(err)
	}
}
