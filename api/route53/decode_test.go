package route53

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"flag"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/waymark-dns/waymark/zonecfg"
)

var update = flag.Bool("update", false, "rewrite the golden files")

// golden compares got with testdata/<name>, or rewrites it with -update.
func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run with -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from the golden file:\n--- got\n%s\n--- want\n%s", name, got, want)
	}
}

// TestGoldenChangeBatchRequests decodes ChangeResourceRecordSets bodies as
// real clients send them (shared/route53-wire: Go v2 in its own element
// order with &#34; quotes, JS v3 with a prolog and a Comment after
// Changes, boto3 and the AWS CLI) and one with every routing field, and
// compares the control-plane batch each becomes with a golden file.
func TestGoldenChangeBatchRequests(t *testing.T) {
	t.Parallel()
	files, err := filepath.Glob("testdata/requests/*.xml")
	if err != nil || len(files) < 5 {
		t.Fatalf("request samples: %v %v", files, err)
	}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			body, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			b, err := decodeChangeBatch(body)
			if err != nil {
				t.Fatalf("decode: %v", err)
			}
			out, err := json.MarshalIndent(b, "", "  ")
			if err != nil {
				t.Fatal(err)
			}
			golden(t, "requests/"+strings.TrimSuffix(filepath.Base(f), ".xml")+".json", append(out, '\n'))
			// Every record set the control plane gets must be valid for
			// it, names and values included.
			for _, c := range b.Changes {
				if c.RRSet.Alias == nil {
					if _, err := c.RRSet.Parse(); err != nil {
						t.Errorf("%+v: %v", c.RRSet, err)
					}
				}
			}
		})
	}
}

func TestDecodeChangeBatchErrors(t *testing.T) {
	t.Parallel()
	wrap := func(rs string) string {
		return `<ChangeResourceRecordSetsRequest xmlns="https://route53.amazonaws.com/doc/2013-04-01/"><ChangeBatch><Changes><Change><Action>CREATE</Action>` +
			rs + `</Change></Changes></ChangeBatch></ChangeResourceRecordSetsRequest>`
	}
	for _, tc := range []struct{ name, body, code, msg string }{
		{"not xml", "<oops", "MalformedInput", "expected ChangeResourceRecordSetsRequest"},
		{"wrong root", "<CreateHostedZoneRequest/>", "MalformedInput", "expected ChangeResourceRecordSetsRequest"},
		{"empty", "", "MalformedInput", ""},
		{"no batch", "<ChangeResourceRecordSetsRequest/>", "InvalidInput", "ChangeBatch"},
		{"no changes", "<ChangeResourceRecordSetsRequest><ChangeBatch/></ChangeResourceRecordSetsRequest>", "InvalidInput", "changes"},
		{"bad action", strings.Replace(wrap(`<ResourceRecordSet><Name>a.</Name><Type>A</Type><TTL>1</TTL><ResourceRecords><ResourceRecord><Value>192.0.2.1</Value></ResourceRecord></ResourceRecords></ResourceRecordSet>`), "CREATE", "PUT", 1), "InvalidInput", "[CREATE, DELETE, UPSERT]"},
		{"no data", wrap(`<ResourceRecordSet><Name>a.</Name><Type>A</Type></ResourceRecordSet>`), "InvalidInput", "but found none"},
		{"alias and data", wrap(`<ResourceRecordSet><Name>a.</Name><Type>A</Type><TTL>1</TTL><AliasTarget><HostedZoneId>Z</HostedZoneId><DNSName>b.</DNSName><EvaluateTargetHealth>false</EvaluateTargetHealth></AliasTarget></ResourceRecordSet>`), "InvalidInput", "more than one"},
		{"records without ttl", wrap(`<ResourceRecordSet><Name>a.</Name><Type>A</Type><ResourceRecords><ResourceRecord><Value>192.0.2.1</Value></ResourceRecord></ResourceRecords></ResourceRecordSet>`), "InvalidInput", "found none"},
		{"ttl range", wrap(`<ResourceRecordSet><Name>a.</Name><Type>A</Type><TTL>-1</TTL><ResourceRecords><ResourceRecord><Value>192.0.2.1</Value></ResourceRecord></ResourceRecords></ResourceRecordSet>`), "InvalidInput", "TTL"},
		{"ttl not a number", wrap(`<ResourceRecordSet><Name>a.</Name><Type>A</Type><TTL>x</TTL></ResourceRecordSet>`), "InvalidInput", ""},
		{"weight range", wrap(`<ResourceRecordSet><Name>a.</Name><Type>A</Type><SetIdentifier>x</SetIdentifier><Weight>256</Weight><TTL>1</TTL><ResourceRecords><ResourceRecord><Value>192.0.2.1</Value></ResourceRecord></ResourceRecords></ResourceRecordSet>`), "InvalidInput", "Weight"},
		{"alias without eth", wrap(`<ResourceRecordSet><Name>a.</Name><Type>A</Type><AliasTarget><HostedZoneId>Z</HostedZoneId><DNSName>b.</DNSName></AliasTarget></ResourceRecordSet>`), "InvalidInput", "EvaluateTargetHealth"},
		{"traffic policy", wrap(`<ResourceRecordSet><Name>a.</Name><Type>A</Type><TrafficPolicyInstanceId>t</TrafficPolicyInstanceId></ResourceRecordSet>`), "InvalidInput", "not supported"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := decodeChangeBatch([]byte(tc.body))
			e, ok := toR53Error(err)
			if !ok || e.Code != tc.code || !strings.Contains(e.Message, tc.msg) || e.Status != 400 {
				t.Fatalf("got %v, want %s containing %q", err, tc.code, tc.msg)
			}
		})
	}
}

func TestNames(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ in, canonical, out string }{
		{"www.example.com", "www.example.com.", "www.example.com."},
		{"*.Example.com.", "*.example.com.", `\052.example.com.`},
		{`\052.example.com.`, "*.example.com.", `\052.example.com.`},
		{`a\056b.example.`, `a\.b.example.`, `a\056b.example.`},
		{`\101bc.example.`, "abc.example.", "abc.example."},
		{`sp\040ace.example.`, `sp\ ace.example.`, `sp\040ace.example.`},
		{"_dmarc.ex-ample.", "_dmarc.ex-ample.", "_dmarc.ex-ample."},
		{"a!b.example.", "a!b.example.", `a\041b.example.`},
		{`\377.example.`, `\255.example.`, `\377.example.`},
	} {
		c, err := zonecfg.CanonicalName(nameFromR53(tc.in))
		if err != nil || c != tc.canonical {
			t.Errorf("%q → %q %v, want %q", tc.in, c, err, tc.canonical)
			continue
		}
		if got := nameToR53(c); got != tc.out {
			t.Errorf("%q out: %q, want %q", c, got, tc.out)
		}
	}
	for _, tc := range []struct{ typ, in, stored, out string }{
		{"TXT", `"a b"`, `"a b"`, `"a b"`},
		{"TXT", `"\101\042"`, `"\065\034"`, `"\101\042"`},
		{"TXT", `"x\\y" "q\"q"`, `"x\\y" "q\"q"`, `"x\\y" "q\"q"`},
		{"TXT", `unquoted words`, `unquoted words`, `"unquoted" "words"`},
		{"A", `192.0.2.1`, `192.0.2.1`, `192.0.2.1`},
		{"CAA", `0 issue "ca\056example"`, `0 issue "ca\046example"`, `0 issue "ca\056example"`},
	} {
		if got := valueFromR53(tc.typ, tc.in); got != tc.stored {
			t.Errorf("%s %q in: %q, want %q", tc.typ, tc.in, got, tc.stored)
		}
		if got := valueToR53(tc.typ, tc.stored); got != tc.out {
			t.Errorf("%s %q out: %q, want %q", tc.typ, tc.stored, got, tc.out)
		}
	}
}

// FuzzDecodeChangeBatch feeds arbitrary bodies to the XML decoder: it must
// return a batch or a Route 53 error (never panic, never an unmapped
// error), and names it passes on must survive the round trip to Route
// 53's notation.
func FuzzDecodeChangeBatch(f *testing.F) {
	files, _ := filepath.Glob("testdata/requests/*.xml")
	for _, p := range files {
		b, _ := os.ReadFile(p)
		f.Add(b)
	}
	f.Add([]byte("<ChangeResourceRecordSetsRequest><ChangeBatch><Changes><Change/></Changes></ChangeBatch></ChangeResourceRecordSetsRequest>"))
	f.Fuzz(func(t *testing.T, body []byte) {
		b, err := decodeChangeBatch(body)
		if err != nil {
			if _, ok := toR53Error(err); !ok {
				t.Fatalf("unmapped error %v", err)
			}
			return
		}
		for _, c := range b.Changes {
			n, err := zonecfg.CanonicalName(c.RRSet.Name)
			if err != nil {
				continue
			}
			back, err := zonecfg.CanonicalName(nameFromR53(nameToR53(n)))
			if err != nil || back != n {
				t.Fatalf("name %q → %q → %q (%v)", n, nameToR53(n), back, err)
			}
		}
	})
}

// FuzzDecodeCRRSFast checks the tokenizer-only decoder against
// encoding/xml's: whenever the fast one accepts a body, the reflective
// one must accept it too and read exactly the same request.
func FuzzDecodeCRRSFast(f *testing.F) {
	files, _ := filepath.Glob("testdata/requests/*.xml")
	for _, p := range files {
		b, _ := os.ReadFile(p)
		f.Add(b)
	}
	f.Add([]byte(benchBatch(3)))
	f.Add([]byte(`<ChangeResourceRecordSetsRequest><ChangeBatch><Changes><Change><Action>CREATE</Action><ResourceRecordSet><Name>a&amp;b.</Name><TTL> 5 </TTL><ResourceRecords/></ResourceRecordSet></Change></Changes></ChangeBatch></ChangeResourceRecordSetsRequest>`))
	f.Fuzz(func(t *testing.T, body []byte) {
		fast, ok := decodeCRRSFast(body)
		if !ok {
			return
		}
		var slow changeResourceRecordSetsRequest
		if err := xml.Unmarshal(body, &slow); err != nil {
			t.Fatalf("fast accepted what encoding/xml refuses (%v): %q", err, body)
		}
		slow.XMLName = xml.Name{}
		if !reflect.DeepEqual(fast, slow) {
			t.Fatalf("decoders differ on %q:\nfast %+v\nslow %+v", body, fast, slow)
		}
	})
}

// TestDecodeCRRSFastAgrees runs the differential check on the samples and
// checks that the fast path is taken for the bodies SDKs send.
func TestDecodeCRRSFastAgrees(t *testing.T) {
	t.Parallel()
	for _, name := range []string{"go-crrs.xml", "js-crrs.xml", "boto3-crrs.xml", "awscli-crrs.xml"} {
		body, err := os.ReadFile(filepath.Join("testdata/requests", name))
		if err != nil {
			t.Fatal(err)
		}
		fast, ok := decodeCRRSFast(body)
		if !ok {
			t.Fatalf("%s: not taken by the fast decoder", name)
		}
		var slow changeResourceRecordSetsRequest
		if err := xml.Unmarshal(body, &slow); err != nil {
			t.Fatal(err)
		}
		slow.XMLName = xml.Name{}
		if !reflect.DeepEqual(fast, slow) {
			t.Fatalf("%s: fast %+v\nslow %+v", name, fast, slow)
		}
	}
	if _, ok := decodeCRRSFast([]byte(benchBatch(100))); !ok {
		t.Fatal("the benchmark batch is not taken by the fast decoder")
	}
	// The routing sample falls back (routing fields, aliases).
	body, _ := os.ReadFile("testdata/requests/routing-crrs.xml")
	if _, ok := decodeCRRSFast(body); ok {
		t.Fatal("routing fields went through the fast decoder")
	}
}
