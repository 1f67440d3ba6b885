package api

import (
	"encoding/json"
	"net/http"
	"reflect"
	"strings"
	"testing"

	"github.com/waymark-dns/waymark/controlplane"
	"github.com/waymark-dns/waymark/zonecfg"
)

func TestDecodeChangeBatch(t *testing.T) {
	t.Parallel()
	ok := `{"comment":"c","changes":[{"action":"UPSERT","rrset":{"name":"a.example.","type":"A","ttl":60,"records":["192.0.2.1"]}},
		{"action":"DELETE","rrset":{"name":"b.example.","type":"TXT","set_identifier":"x","ttl":0,"records":["\"t\""]}}]}`
	got, err := decodeChangeBatch(strings.NewReader(ok))
	if err != nil {
		t.Fatal(err)
	}
	want := controlplane.ChangeBatch{Comment: "c", Changes: []controlplane.RRSetChange{
		{Action: "UPSERT", RRSet: zonecfg.RRSet{Name: "a.example.", Type: "A", TTL: 60, Records: []string{"192.0.2.1"}}},
		{Action: "DELETE", RRSet: zonecfg.RRSet{Name: "b.example.", Type: "TXT", SetIdentifier: "x", TTL: 0, Records: []string{`"t"`}}},
	}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got %+v\nwant %+v", got, want)
	}

	for _, tc := range []struct {
		name, body string
		details    int    // expected number of details, -1: don't care
		msg        string // part of the message
	}{
		{"missing rrset", `{"changes":[{"action":"CREATE"}]}`, 1, "1 problem"},
		{"missing ttl", `{"changes":[{"action":"CREATE","rrset":{"name":"a.","type":"A","records":["192.0.2.1"]}}]}`, 1, "1 problem"},
		{"negative ttl", `{"changes":[{"action":"CREATE","rrset":{"name":"a.","type":"A","ttl":-1,"records":["192.0.2.1"]}}]}`, 1, "problem"},
		{"huge ttl", `{"changes":[{"action":"CREATE","rrset":{"name":"a.","type":"A","ttl":4294967296,"records":["192.0.2.1"]}}]}`, 1, "problem"},
		{"two problems", `{"changes":[{"action":"CREATE"},{"action":"CREATE","rrset":{"ttl":null}}]}`, 2, "2 problem"},
		{"ttl as string", `{"changes":[{"action":"CREATE","rrset":{"name":"a.","type":"A","ttl":"60","records":["192.0.2.1"]}}]}`, 1, "changes.rrset.ttl"},
		{"fractional ttl", `{"changes":[{"action":"CREATE","rrset":{"name":"a.","type":"A","ttl":1.5,"records":["192.0.2.1"]}}]}`, 1, "ttl"},
		{"records not strings", `{"changes":[{"action":"CREATE","rrset":{"name":"a.","type":"A","ttl":1,"records":[1]}}]}`, 1, "records"},
		{"unknown nested field", `{"changes":[{"action":"CREATE","rrset":{"name":"a.","TTL":1}}]}`, 1, "unknown field"},
		{"trailing garbage", `{"changes":[]} x`, 0, "single JSON value"},
		{"null", `null`, -1, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := decodeChangeBatch(strings.NewReader(tc.body))
			if tc.name == "null" {
				if err != nil {
					t.Fatalf("null decodes to an empty batch for the service to refuse, got %v", err)
				}
				return
			}
			e, ok := controlplane.AsError(err)
			if !ok || e.Code != controlplane.CodeInvalidInput {
				t.Fatalf("got %v, want InvalidInput", err)
			}
			if tc.details >= 0 && len(e.Details) != tc.details {
				t.Errorf("got %d details %+v, want %d", len(e.Details), e.Details, tc.details)
			}
			if !strings.Contains(e.Message, tc.msg) {
				t.Errorf("message %q should contain %q", e.Message, tc.msg)
			}
			for _, d := range e.Details {
				if d.Field == "" || d.Message == "" {
					t.Errorf("detail without field or message: %+v", d)
				}
			}
		})
	}
}

// FuzzDecodeChangeBatch feeds arbitrary bytes to the change-batch decoder.
// It must never panic, must fail only with InvalidInput, and what it
// accepts must survive a round trip through the API's own JSON shape.
func FuzzDecodeChangeBatch(f *testing.F) {
	for _, s := range []string{
		`{"comment":"c","changes":[{"action":"UPSERT","rrset":{"name":"a.example.","type":"A","ttl":60,"records":["192.0.2.1"]}}]}`,
		`{"changes":[{"action":"DELETE","rrset":{"name":"b.","type":"TXT","set_identifier":"x","ttl":0,"records":["\"t\""]}}]}`,
		`{"changes":[{"action":"CREATE"}]}`,
		`{"changes":[{"rrset":{"ttl":-1}}]}`,
		`{"changes":null}`, `null`, `[]`, `{}`, `{"changes":[]}{}`, `{"x":1}`, ``, `{"changes":[{"rrset":{"ttl":1e99}}]}`,
		"{\"comment\":\"\\ud800\"}",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		b, err := decodeChangeBatch(strings.NewReader(string(data)))
		if err != nil {
			e, ok := controlplane.AsError(err)
			if !ok || e.Code != controlplane.CodeInvalidInput || e.Message == "" {
				t.Fatalf("got %#v, want an InvalidInput error", err)
			}
			if _, ok := httpStatus(e.Code); !ok {
				t.Fatalf("code %s has no status", e.Code)
			}
			return
		}
		// Round trip: encode b in the request shape, decode it again.
		req := changeBatchRequest{Comment: b.Comment, Changes: []changeInput{}}
		for _, c := range b.Changes {
			ttl := int64(c.RRSet.TTL)
			req.Changes = append(req.Changes, changeInput{Action: string(c.Action), RRSet: &rrsetInput{
				Name: c.RRSet.Name, Type: c.RRSet.Type, SetIdentifier: c.RRSet.SetIdentifier, TTL: &ttl, Records: c.RRSet.Records,
			}})
		}
		raw, err := json.Marshal(req)
		if err != nil {
			t.Fatal(err)
		}
		again, err := decodeChangeBatch(strings.NewReader(string(raw)))
		if err != nil {
			t.Fatalf("re-decoding %s: %v", raw, err)
		}
		if len(again.Changes) != len(b.Changes) || again.Comment != b.Comment {
			t.Fatalf("round trip changed the batch: %+v → %+v", b, again)
		}
		for i := range b.Changes {
			x, y := b.Changes[i], again.Changes[i]
			if x.Action != y.Action || x.RRSet.Name != y.RRSet.Name || x.RRSet.TTL != y.RRSet.TTL ||
				len(x.RRSet.Records) != len(y.RRSet.Records) {
				t.Fatalf("change %d: %+v → %+v", i, x, y)
			}
		}
	})
}

// TestIntegrationControlCharacters: NUL, other control characters and
// invalid UTF-8 in any string field, key, path or query parameter are 400
// InvalidInput, never 500.
func TestIntegrationControlCharacters(t *testing.T) {
	t.Parallel()
	a := newTestAPI(t, nil)
	_, tok := a.tenant("text")
	zone := a.zone(tok, "text.example.")
	for _, tc := range []req{
		{method: "POST", path: "/v1/apikeys", bearer: tok, body: `{"description":"a\u0000b"}`},
		{method: "POST", path: "/v1/apikeys", bearer: tok, body: "{\"description\":\"a\xffb\"}"},
		{method: "POST", path: "/v1/apikeys", bearer: tok, body: `{"description":"bell\u0007"}`},
		{method: "POST", path: "/v1/apikeys", bearer: tok, body: `{"description":"c1\u0085"}`},
		{method: "POST", path: "/v1/hostedzones", bearer: tok, body: `{"name":"nul.example.","caller_reference":"r\u0000"}`},
		{method: "PATCH", path: "/v1/hostedzones/" + zone, bearer: tok, body: `{"comment":"x\u0000"}`},
		{method: "POST", path: "/v1/hostedzones/" + zone + "/rrsets/changes", bearer: tok,
			body: `{"changes":[{"action":"UPSERT","rrset":{"name":"a.text.example.","type":"TXT","ttl":60,"records":["\"x\u0000\""]}}]}`},
		{method: "GET", path: "/v1/hostedzones/Z%00", bearer: tok},
		{method: "GET", path: "/v1/hostedzones?caller_reference=%00", bearer: tok},
		{method: "GET", path: "/v1/hostedzones/%FF", bearer: tok},
	} {
		r := a.do(tc)
		if r.status != http.StatusBadRequest {
			t.Errorf("%s %s %q: status %d, want 400: %s", tc.method, tc.path, tc.body, r.status, r.body)
			continue
		}
		if c := r.errorCode(t); c != string(controlplane.CodeInvalidInput) {
			t.Errorf("%s %s: code %s", tc.method, tc.path, c)
		}
	}
	// Plain text, non-ASCII included, is still accepted.
	a.must(http.StatusCreated, req{method: "POST", path: "/v1/apikeys", bearer: tok, body: `{"description":"clé déploiement ✓"}`})
}
