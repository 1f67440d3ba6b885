package dataplane

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"reflect"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/waymark-dns/waymark/event"
	"github.com/waymark-dns/waymark/zonecfg"
)

// decodeAll runs decodeSnapshot with builders draining it, as install
// does, and returns the zones built.
func decodeAll(in string) (uint64, []*zone, error) {
	return decodeAllWindow(strings.NewReader(in), snapshotWindow)
}

// windows are the ways the tests feed the decoder: the body through the
// production window, and byte by byte through windows small enough that
// every token straddles a refill.
var windows = []struct {
	name   string
	window int
	reader func(string) io.Reader
}{
	{"whole", snapshotWindow, func(s string) io.Reader { return strings.NewReader(s) }},
	{"1-byte reads", 1, func(s string) io.Reader { return iotest.OneByteReader(strings.NewReader(s)) }},
	{"7-byte window", 7, func(s string) io.Reader { return iotest.HalfReader(strings.NewReader(s)) }},
}

// decodeAllWindow is decodeAll through a window of the given size.
func decodeAllWindow(r io.Reader, window int) (uint64, []*zone, error) {
	ch := make(chan *zoneStream)
	done := make(chan struct{})
	var zones []*zone
	var buildErr error
	go func() {
		defer close(done)
		for zs := range ch {
			z, err := zs.build()
			if z != nil {
				zones = append(zones, z)
			}
			if err != nil && !errors.Is(err, ErrSkippedRecords) && zs.err == nil && buildErr == nil {
				buildErr = err
			}
		}
	}()
	seq, err := decodeSnapshotWindow(r, ch, window)
	close(ch)
	<-done
	if err == nil {
		err = buildErr
	}
	return seq, zones, err
}

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
		{"rrsets null", `{"seq":1,"zones":[{"id":"Z1","name":"a.test.","rrsets":null}]}`, 1, 1, true},
		{"rrsets before id", `{"seq":1,"zones":[{"rrsets":[{"name":"a.test.","type":"A","ttl":1,"records":["192.0.2.1"]}],"id":"Z1","name":"a.test."}]}`, 1, 1, true},
		{"truncated", `{"seq":7,"zones":[{"id":"Z1","name":"a.test.","version":1,"rrsets":[]}`, 0, 0, false},
		{"truncated mid-zone", `{"seq":7,"zones":[{"id":"Z1","na`, 0, 0, false},
		{"truncated mid-rrsets", `{"seq":7,"zones":[{"id":"Z1","name":"a.test.","rrsets":[{"name":"a.test.","type":"A","ttl":1,"records":["192.0.2.1"]},`, 0, 0, false},
		{"no seq", `{"zones":[]}`, 0, 0, false},
		{"no zones", `{"seq":1}`, 0, 0, false},
		{"zone without id", `{"seq":1,"zones":[{"name":"a.test."}]}`, 0, 0, false},
		{"id changed after rrsets", `{"seq":1,"zones":[{"id":"Z1","name":"a.test.","rrsets":[],"id":"Z2"}]}`, 0, 0, false},
		{"rrsets twice", `{"seq":1,"zones":[{"id":"Z1","name":"a.test.","rrsets":[],"rrsets":[]}]}`, 0, 0, false},
		{"rrsets not an array", `{"seq":1,"zones":[{"id":"Z1","name":"a.test.","rrsets":{}}]}`, 0, 0, false},
		{"not an object", `[1,2]`, 0, 0, false},
		{"empty input", ``, 0, 0, false},
		{"bad seq", `{"seq":"x","zones":[]}`, 0, 0, false},
		{"zones not an array", `{"seq":1,"zones":{}}`, 0, 0, false},
		{"escaped keys", `{"s\u0065q":4,"zones":[{"\u0069d":"Z1","name":"a\u002etest.","rrsets":[{"n\u0061me":"a.test.","type":"A","ttl":1,"records":["192.0.2.1"]}]}]}`, 4, 1, true},
		{"white space everywhere", " {\n\t\"seq\" : 2 ,\r\"zones\" : [ { \"id\" : \"Z1\" , \"name\" : \"a.test.\" , \"rrsets\" : [ { \"name\" : \"a.test.\" , \"type\" : \"A\" , \"ttl\" : 1 , \"records\" : [ \"192.0.2.1\" ] } ] } ] } \n", 2, 1, true},
		{"trailing data ignored, as json.Decoder", `{"seq":1,"zones":[]} x`, 1, 0, true},
		{"unusual record set", `{"seq":1,"zones":[{"id":"Z1","name":"a.test.","rrsets":[{"name":"a.test.","type":"A","ttl":1,"records":["192.0.2.1"],"weight":null},null]}]}`, 1, 1, true},
		{"leading zero ttl", `{"seq":1,"zones":[{"id":"Z1","name":"a.test.","rrsets":[{"name":"a.test.","type":"A","ttl":01,"records":["192.0.2.1"]}]}]}`, 0, 0, false},
		{"trailing comma in rrsets", `{"seq":1,"zones":[{"id":"Z1","name":"a.test.","rrsets":[{"name":"a.test.","type":"A","ttl":1,"records":["192.0.2.1"]},]}]}`, 0, 0, false},
		{"trailing comma in zone", `{"seq":1,"zones":[{"id":"Z1","name":"a.test.",}]}`, 0, 0, false},
		{"trailing comma in zones", `{"seq":1,"zones":[{"id":"Z1","name":"a.test."},]}`, 0, 0, false},
		{"invalid unknown member", `{"seq":1,"x":[1,}],"zones":[]}`, 0, 0, false},
		{"invalid record set", `{"seq":1,"zones":[{"id":"Z1","name":"a.test.","rrsets":[{"name":"a.test.","type":"A","ttl":1,"records":["1"],"x":tru}]}]}`, 0, 0, false},
		{"missing colon", `{"seq" 1,"zones":[]}`, 0, 0, false},
		{"control character in id", "{\"seq\":1,\"zones\":[{\"id\":\"Z\x01\",\"name\":\"a.test.\"}]}", 0, 0, false},
		{"unterminated string", `{"seq":1,"zones":[{"id":"Z1`, 0, 0, false},
		{"rrsets nul", `{"seq":1,"zones":[{"id":"Z1","name":"a.test.","rrsets":nul}]}`, 0, 0, false},
		{"rrsets nullx", `{"seq":1,"zones":[{"id":"Z1","name":"a.test.","rrsets":nullx}]}`, 0, 0, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			for _, w := range windows {
				seq, zones, err := decodeAllWindow(w.reader(tc.in), w.window)
				if (err == nil) != tc.ok {
					t.Fatalf("%s: got error %v, want ok=%v", w.name, err, tc.ok)
				}
				if !tc.ok {
					continue
				}
				if seq != tc.seq || len(zones) != tc.zones {
					t.Fatalf("%s: got seq %d and %d zones, want %d and %d", w.name, seq, len(zones), tc.seq, tc.zones)
				}
			}
		})
	}
}

// streamedStates decodes in with decodeSnapshot and, separately, with
// json.Unmarshal and buildZone, and returns both results as zone states.
func streamedStates(t testing.TB, in string) (stream, whole map[string]string, ok bool) {
	_, zones, err := decodeAll(in)
	// The same through a tiny window, read byte by byte: the same result.
	_, small, serr := decodeAllWindow(iotest.OneByteReader(strings.NewReader(in)), 3)
	if (err == nil) != (serr == nil) || len(small) != len(zones) {
		t.Errorf("%q: a 3-byte window gives %d zones, %v; the full one %d, %v", in, len(small), serr, len(zones), err)
	}
	for i := range min(len(small), len(zones)) {
		a, _ := json.Marshal(zones[i].state())
		b, _ := json.Marshal(small[i].state())
		if string(a) != string(b) {
			t.Errorf("%q: a 3-byte window builds %s, the full one %s", in, b, a)
		}
	}
	var snap event.Snapshot
	// json.Decoder, not json.Unmarshal: like the scanner, it ignores what
	// follows the first value.
	jerr := json.NewDecoder(strings.NewReader(in)).Decode(&snap)
	if err == nil && jerr != nil {
		t.Errorf("%q: the scanner accepts what encoding/json refuses (%v)", in, jerr)
	}
	if err != nil || jerr != nil {
		return nil, nil, false
	}
	stream, whole = map[string]string{}, map[string]string{}
	for _, z := range zones {
		b, _ := json.Marshal(z.state())
		stream[z.id] = string(b)
	}
	for _, st := range snap.Zones {
		if z, _ := buildZone(st); z != nil {
			b, _ := json.Marshal(z.state())
			whole[z.id] = string(b)
		}
	}
	return stream, whole, true
}

func TestDecodeSnapshotMatchesUnmarshal(t *testing.T) {
	t.Parallel()
	// A zone larger than a chunk, the test zones, members in odd orders
	// and spellings.
	var big strings.Builder
	big.WriteString(`{"seq":9,"zones":[{"ID":"ZBIG","Name":"big.test.","version":4,"rrsets":[`)
	for i := range 3*zoneChunk + 5 {
		if i > 0 {
			big.WriteByte(',')
		}
		fmt.Fprintf(&big, `{"name":"h%d.big.test.","type":"A","ttl":60,"records":["192.0.2.%d"]}`, i, i%250)
	}
	big.WriteString(`],"tenant_id":"t9"}]}`)
	zones := cacheTestZones(t)
	zones[0].CIDRCollections = nil
	std, err := json.Marshal(event.Snapshot{Seq: 3, Zones: zones})
	if err != nil {
		t.Fatal(err)
	}
	for name, in := range map[string]string{
		"big":        big.String(),
		"test zones": string(std),
		"late header": `{"seq":1,"zones":[{"rrsets":[{"name":"www.a.test.","type":"TXT","ttl":5,"records":["\"x\""]}],` +
			`"cidr_collections":null,"version":7,"id":"Z1","name":"A.Test","tenant_id":"t"}]}`,
		"bad set skipped": `{"seq":1,"zones":[{"id":"Z1","name":"a.test.","rrsets":[{"name":"x.other.","type":"A","ttl":1,"records":["192.0.2.1"]},` +
			`{"name":"a.test.","type":"MX","ttl":1,"records":["10 mx.a.test."]}]}]}`,
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			stream, whole, ok := streamedStates(t, in)
			if !ok {
				t.Fatal("does not decode")
			}
			if len(stream) == 0 || fmt.Sprint(stream) != fmt.Sprint(whole) {
				t.Errorf("streamed decode differs from json.Unmarshal:\n got %v\nwant %v", stream, whole)
			}
		})
	}
}

// FuzzDecodeSnapshot checks that no input makes the decoder panic or hang,
// and that whatever it and json.Unmarshal both accept builds the same zones.
func FuzzDecodeSnapshot(f *testing.F) {
	f.Add(`{"seq":7,"zones":[{"id":"Z1","name":"a.test.","version":1,"rrsets":[{"name":"a.test.","type":"A","ttl":1,"records":["1.2.3.4"]}]}]}`)
	f.Add(`{"seq":0,"zones":[]}`)
	f.Add(`{"s\u0065q":4,"x":[{"a":"\"]"}],"zones":[{"ID":"Z1","name":"a.test.","rrsets":[{"name":"a.test.","type":"A","ttl":1,"records":["1.2.3.4"],"weight":1},null]}]} `)
	f.Add(`{"seq":1,"zones":[{"rrsets":[{"name":"a.test.","type":"MX","ttl":1,"records":["1 b.a.test."]}],"id":"Z","name":"a.test","version":2}]}`)
	f.Fuzz(func(t *testing.T, in string) {
		stream, whole, ok := streamedStates(t, in)
		if ok && fmt.Sprint(stream) != fmt.Sprint(whole) {
			t.Errorf("streamed decode differs from json.Unmarshal:\n got %v\nwant %v", stream, whole)
		}
	})
}

func TestDecodeRRSetMatchesUnmarshal(t *testing.T) {
	t.Parallel()
	for _, in := range []string{
		`{"name":"a.test.","type":"A","ttl":60,"records":["192.0.2.1"]}`,
		` { "name" : "a.test." , "type":"TXT","set_identifier":"x","ttl":0,"records":[ "\"a b\"" , "c" ] } `,
		`{"name":"a.test.","type":"A","ttl":60,"records":[]}`,
		`{"name":"a.test.","type":"A","ttl":60,"records":null}`,
		`{"name":"a.test.","type":"A","ttl":4294967295,"records":["1"]}`,
		`{"name":"a.test.","type":"A","ttl":4294967296,"records":["1"]}`,
		`{"name":"a.test.","type":"A","ttl":1e2,"records":["1"]}`,
		`{"name":"a.test.","type":"A","ttl":-1,"records":["1"]}`,
		`{"name":"a.test.","type":"A","ttl":1.5,"records":["1"]}`,
		`{"Name":"a.test.","type":"A","ttl":1,"records":["1"]}`,
		`{"name":"a.test.","name":"b.test.","type":"A","ttl":1,"records":["1"]}`,
		`{"name":"é.test.","type":"A","ttl":1,"records":["1"]}`,
		`{"name":"a.test.","type":"A","ttl":1,"records":["1"],"weight":3,"set_identifier":"w"}`,
		`{"name":"a.test.","type":"A","records":["1"]}`,
		`{"name":null,"type":"A","ttl":1,"records":["1"]}`,
		`{"name":"a.test.","type":"A","ttl":0,"records":["1"]}`,
		`{"name":"a.test.","type":"A","ttl":00,"records":["1"]}`,
		`{"name":"a.test.","type":"A","ttl":012,"records":["1"]}`,
		`{}`,
	} {
		var want zonecfg.RRSet
		wantErr := json.Unmarshal([]byte(in), &want)
		var got zonecfg.RRSet
		gotErr := decodeRRSet([]byte(in), &got)
		if (gotErr == nil) != (wantErr == nil) || !reflect.DeepEqual(got, want) {
			t.Errorf("%s: got %+v, %v; json.Unmarshal %+v, %v", in, got, gotErr, want, wantErr)
		}
	}
}

// FuzzDecodeRRSet checks the hand-written fast path against json.Unmarshal.
func FuzzDecodeRRSet(f *testing.F) {
	f.Add(`{"name":"a.test.","type":"A","ttl":60,"records":["192.0.2.1"]}`)
	f.Add(`{"name":"a.test.","type":"MX","set_identifier":"s","ttl":7,"records":["10 b.test.","20 c.test."]}`)
	f.Fuzz(func(t *testing.T, in string) {
		if !json.Valid([]byte(in)) {
			return // the decoder hands decodeRRSet valid values only
		}
		var want zonecfg.RRSet
		wantErr := json.Unmarshal([]byte(in), &want)
		var got zonecfg.RRSet
		gotErr := decodeRRSet([]byte(in), &got)
		if (gotErr == nil) != (wantErr == nil) || wantErr == nil && !reflect.DeepEqual(got, want) {
			t.Errorf("%s: got %+v, %v; json.Unmarshal %+v, %v", in, got, gotErr, want, wantErr)
		}
	})
}

// TestDecodeSnapshotReadError: a body that breaks off with an error fails
// the load with that error, wherever it breaks; a record set larger than
// the window still decodes.
func TestDecodeSnapshotReadError(t *testing.T) {
	t.Parallel()
	boom := errors.New("connection reset")
	full := `{"seq":7,"zones":[{"id":"Z1","name":"a.test.","version":1,"rrsets":[{"name":"a.test.","type":"A","ttl":1,"records":["192.0.2.1"]}]}]}`
	for cut := 0; cut < len(full)-1; cut++ {
		r := io.MultiReader(strings.NewReader(full[:cut]), iotest.ErrReader(boom))
		if _, _, err := decodeAllWindow(r, 4); !errors.Is(err, boom) {
			t.Fatalf("cut at %d: got %v, want the read error", cut, err)
		}
	}
	var big strings.Builder
	big.WriteString(`{"seq":1,"zones":[{"id":"Z1","name":"a.test.","rrsets":[{"name":"a.test.","type":"TXT","ttl":1,"records":[`)
	for i := range 300 {
		if i > 0 {
			big.WriteByte(',')
		}
		fmt.Fprintf(&big, `"\"%s %d\""`, strings.Repeat("x", 100), i)
	}
	big.WriteString(`]}]}]}`)
	_, zones, err := decodeAllWindow(iotest.HalfReader(strings.NewReader(big.String())), 64)
	if err != nil || len(zones) != 1 {
		t.Fatalf("got %d zones, %v", len(zones), err)
	}
	if st := zones[0].state(); len(st.RRSets) != 1 || len(st.RRSets[0].Records) != 300 {
		t.Fatalf("got %+v", st.RRSets)
	}
}

// BenchmarkDecodeSnapshot decodes and builds a snapshot of one zone of
// 100,000 A record sets through the streaming window, as a node's initial
// load does (no HTTP, no compression); allocations per record set are the
// figure to watch, being what the garbage collector pays for at start.
func BenchmarkDecodeSnapshot(b *testing.B) {
	const sets = 100000
	var sb strings.Builder
	sb.WriteString(`{"seq":1,"zones":[{"id":"ZB","name":"big.example.","tenant_id":"T","version":1,"rrsets":[`)
	sb.WriteString(`{"name":"big.example.","type":"SOA","ttl":300,"records":["ns1.big.example. hostmaster.big.example. 1 7200 900 1209600 300"]}`)
	for i := range sets - 1 {
		fmt.Fprintf(&sb, `,{"name":"h%d.big.example.","type":"A","ttl":300,"records":["10.%d.%d.%d"]}`, i, i>>16&255, i>>8&255, i&255)
	}
	sb.WriteString(`]}]}`)
	in := sb.String()
	b.SetBytes(int64(len(in)))
	b.ReportAllocs()
	for b.Loop() {
		if _, zones, err := decodeAll(in); err != nil || len(zones) != 1 {
			b.Fatal(len(zones), err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/sets, "ns/set")
}
