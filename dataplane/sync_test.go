package dataplane

import (
	"encoding/json"
	"strings"
	"testing"
)

func TestDecodeSnapshot(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name  string
		in    string
		seq   uint64
		zones int
		ok    bool
	}{
		{"empty", `{"seq":0,"zones":[]}`, 0, 0, true},
		{"two zones", `{"seq":7,"zones":[{"id":"Z1","name":"a.test.","version":1,"rrsets":[]},{"id":"Z2","name":"b.test.","version":3,"rrsets":[]}]}`, 7, 2, true},
		{"unknown member skipped", `{"seq":7,"extra":{"x":[1]},"zones":[]}`, 7, 0, true},
		{"zones before seq", `{"zones":[],"seq":3}`, 3, 0, true},
		{"truncated", `{"seq":7,"zones":[{"id":"Z1","name":"a.test.","version":1,"rrsets":[]}`, 0, 0, false},
		{"truncated mid-zone", `{"seq":7,"zones":[{"id":"Z1","na`, 0, 0, false},
		{"no seq", `{"zones":[]}`, 0, 0, false},
		{"no zones", `{"seq":1}`, 0, 0, false},
		{"zone without id", `{"seq":1,"zones":[{"name":"a.test."}]}`, 0, 0, false},
		{"not an object", `[1,2]`, 0, 0, false},
		{"empty input", ``, 0, 0, false},
		{"bad seq", `{"seq":"x","zones":[]}`, 0, 0, false},
		{"zones not an array", `{"seq":1,"zones":{}}`, 0, 0, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ch := make(chan json.RawMessage, 10)
			seq, err := decodeSnapshot(strings.NewReader(tc.in), ch)
			close(ch)
			n := len(ch)
			for raw := range ch {
				if _, zerr := decodeZone(raw); zerr != nil && err == nil {
					err = zerr
				}
			}
			if (err == nil) != tc.ok {
				t.Fatalf("got error %v, want ok=%v", err, tc.ok)
			}
			if !tc.ok {
				return
			}
			if seq != tc.seq || n != tc.zones {
				t.Fatalf("got seq %d and %d zones, want %d and %d", seq, n, tc.seq, tc.zones)
			}
		})
	}
}

// FuzzDecodeSnapshot checks that no input makes the decoder panic or hang.
func FuzzDecodeSnapshot(f *testing.F) {
	f.Add(`{"seq":7,"zones":[{"id":"Z1","name":"a.test.","version":1,"rrsets":[{"name":"a.test.","type":"A","ttl":1,"records":["1.2.3.4"]}]}]}`)
	f.Add(`{"seq":0,"zones":[]}`)
	f.Fuzz(func(t *testing.T, in string) {
		ch := make(chan json.RawMessage, 1)
		go func() {
			for raw := range ch {
				_, _ = decodeZone(raw)
			}
		}()
		_, _ = decodeSnapshot(strings.NewReader(in), ch)
		close(ch)
	})
}
