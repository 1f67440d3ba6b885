package event

import "testing"

// FuzzDecodeSecondaryNotify checks that decoding never panics, that what
// it accepts has the version and a zone, and that an accepted message
// survives a round trip unchanged: what a nameserver publishes is what the
// control plane's refresh leader reads.
func FuzzDecodeSecondaryNotify(f *testing.F) {
	seed, err := SecondaryNotify{ZoneID: "Z1", Serial: 2026120201, From: "192.0.2.53", Node: "ns1"}.Encode()
	if err != nil {
		f.Fatal(err)
	}
	f.Add(seed)
	f.Add([]byte(`{"v":1,"zone_id":"Z1"}`))
	f.Add([]byte(`{"v":1,"zone_id":""}`))
	f.Add([]byte(`{"v":2,"zone_id":"Z1","serial":1}`))
	f.Add([]byte(`{"v":1,"zone_id":"Z1","serial":-1}`))
	f.Add([]byte(`{"v":1,"zone_id":"Z1","serial":4294967296}`))
	f.Add([]byte(`null`))
	f.Fuzz(func(t *testing.T, data []byte) {
		n, err := DecodeSecondaryNotify(data)
		if err != nil {
			return
		}
		if n.V != Version || n.ZoneID == "" {
			t.Fatalf("accepted %q as %+v", data, n)
		}
		again, err := n.Encode()
		if err != nil {
			t.Fatalf("encode a decoded notify: %v", err)
		}
		n2, err := DecodeSecondaryNotify(again)
		if err != nil || n2 != n {
			t.Fatalf("round trip of %+v gave %+v, %v", n, n2, err)
		}
	})
}
