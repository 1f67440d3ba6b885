package controlplane

import (
	"encoding/json"
	"reflect"
	"testing"
)

// TestDecodeStrings: the fast path and the fallback give what
// json.Unmarshal gives, and invalid input is an error.
func TestDecodeStrings(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want []string
		fast bool
	}{
		{`["192.0.2.1"]`, []string{"192.0.2.1"}, true},
		{`["a", "b","c" ]`, []string{"a", "b", "c"}, true},
		{` [ ] `, []string{}, true},
		{`[""]`, []string{""}, true},
		{`["\"v=spf1 -all\""]`, []string{`"v=spf1 -all"`}, false},
		{`["é"]`, []string{"é"}, false},
		{`null`, nil, false},
	} {
		got, err := decodeStrings([]byte(tc.in))
		if err != nil || !reflect.DeepEqual(got, tc.want) {
			t.Errorf("decodeStrings(%s) = %q, %v; want %q", tc.in, got, err, tc.want)
		}
		if _, ok := decodeSimpleStrings([]byte(tc.in)); ok != tc.fast {
			t.Errorf("decodeSimpleStrings(%s) handled: %v, want %v", tc.in, ok, tc.fast)
		}
	}
	for _, in := range []string{``, `[`, `["a"`, `["a",]`, `["a"] x`, `[1]`, `{"a":1}`, `["a" "b"]`} {
		if got, err := decodeStrings([]byte(in)); err == nil {
			t.Errorf("decodeStrings(%s) = %q, want an error", in, got)
		}
	}
}

// FuzzDecodeStrings: decodeStrings agrees with json.Unmarshal on every
// input, error or not.
func FuzzDecodeStrings(f *testing.F) {
	for _, s := range []string{`["192.0.2.1"]`, `["a", "b"]`, `[]`, `["\"x\""]`, `[1]`, `["a",]`, ` ["a"] `, `null`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		var want []string
		werr := json.Unmarshal(b, &want)
		got, err := decodeStrings(b)
		if (err != nil) != (werr != nil) {
			t.Fatalf("decodeStrings(%q): error %v, json.Unmarshal %v", b, err, werr)
		}
		if err == nil && !reflect.DeepEqual(got, want) {
			t.Fatalf("decodeStrings(%q) = %q, json.Unmarshal %q", b, got, want)
		}
	})
}

// BenchmarkDecodeStrings: one A record set's rdata, fast path vs
// json.Unmarshal.
func BenchmarkDecodeStrings(b *testing.B) {
	raw := []byte(`["192.0.2.1", "192.0.2.2"]`)
	b.Run("fast", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := decodeStrings(raw); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("json", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			var out []string
			if err := json.Unmarshal(raw, &out); err != nil {
				b.Fatal(err)
			}
		}
	})
}
