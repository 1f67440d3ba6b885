package httpcomp

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func TestNegotiate(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		accept []string
		want   string
	}{
		{nil, Identity},
		{[]string{""}, Identity},
		{[]string{"zstd"}, Zstd},
		{[]string{"gzip"}, Gzip},
		{[]string{"gzip, zstd"}, Zstd},
		{[]string{"ZSTD;q=0.5, gzip;q=1"}, Zstd},
		{[]string{"zstd;q=0, gzip"}, Gzip},
		{[]string{"zstd;q=0", "gzip;q=0"}, Identity},
		{[]string{"br, deflate"}, Identity},
		{[]string{"*"}, Zstd},
		{[]string{"*;q=0"}, Identity},
		{[]string{"*, zstd;q=0"}, Gzip},
		{[]string{"gzip;q=2"}, Identity},
		{[]string{"gzip;q=abc"}, Identity},
		{[]string{"gzip;level=1"}, Identity},
		{[]string{" , ,gzip ; q = 0.3 "}, Gzip},
		{[]string{"identity"}, Identity},
	} {
		if got := Negotiate(tc.accept); got != tc.want {
			t.Errorf("Negotiate(%q) = %q, want %q", tc.accept, got, tc.want)
		}
	}
}

// FuzzNegotiate: any header gives one of the three codings, and never a
// coding the header does not name (directly or through "*").
func FuzzNegotiate(f *testing.F) {
	for _, s := range []string{"zstd, gzip", "gzip;q=0.5", "*;q=0", "zstd;q=0,*", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, h string) {
		got := Negotiate([]string{h})
		l := strings.ToLower(h)
		switch got {
		case Identity:
		case Zstd, Gzip:
			if !strings.Contains(l, got) && !strings.Contains(l, "*") {
				t.Fatalf("%q: chose %q", h, got)
			}
		default:
			t.Fatalf("%q: chose %q", h, got)
		}
	})
}

// body is large enough to span several compressed blocks.
var body = strings.Repeat(`{"name":"h1.big.example.","type":"A","ttl":300,"records":["10.0.0.1"]},`, 50000)

func testServer(t *testing.T) *httptest.Server {
	t.Helper()
	mux := http.NewServeMux()
	mux.HandleFunc("/v1/nameserver/snapshot", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		for i := 0; i < len(body); i += 4096 {
			_, _ = io.WriteString(w, body[i:min(i+4096, len(body))])
		}
	})
	mux.HandleFunc("/v1/nameserver/zones/missing", func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, `{"error":"no such zone"}`, http.StatusNotFound)
	})
	mux.HandleFunc("/v1/other", func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.WriteString(w, body)
	})
	srv := httptest.NewServer(Prefix("/v1/nameserver/", mux))
	t.Cleanup(srv.Close)
	return srv
}

func TestPrefixRoundTrip(t *testing.T) {
	t.Parallel()
	srv := testServer(t)
	// DisableCompression: the transport neither asks for gzip by itself
	// nor decodes it, so the test sees what went over the wire.
	raw := &http.Client{Transport: &http.Transport{DisableCompression: true}}
	for _, tc := range []struct {
		name, path, accept string
		status             int
		coding             string
	}{
		{"an old client", "/v1/nameserver/snapshot", "", 200, ""},
		{"a nameserver", "/v1/nameserver/snapshot", AcceptEncoding, 200, Zstd},
		{"gzip only", "/v1/nameserver/snapshot", "gzip", 200, Gzip},
		{"nothing acceptable", "/v1/nameserver/snapshot", "br", 200, ""},
		{"errors pass as they are", "/v1/nameserver/zones/missing", AcceptEncoding, 404, ""},
		{"outside the prefix", "/v1/other", AcceptEncoding, 200, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			req, _ := http.NewRequest(http.MethodGet, srv.URL+tc.path, nil)
			if tc.accept != "" {
				req.Header.Set("Accept-Encoding", tc.accept)
			}
			resp, err := raw.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			if resp.StatusCode != tc.status || resp.Header.Get("Content-Encoding") != tc.coding {
				t.Fatalf("got %d with Content-Encoding %q, want %d and %q", resp.StatusCode, resp.Header.Get("Content-Encoding"), tc.status, tc.coding)
			}
			wire := &countingReader{r: resp.Body}
			resp.Body = struct {
				io.Reader
				io.Closer
			}{wire, resp.Body}
			rc, err := Decode(resp)
			if err != nil {
				t.Fatal(err)
			}
			got, err := io.ReadAll(rc)
			rc.Close()
			if err != nil {
				t.Fatal(err)
			}
			if tc.status == 200 && string(got) != body {
				t.Fatalf("decoded %d bytes, want the %d sent", len(got), len(body))
			}
			if tc.coding != "" && wire.n > len(body)/5 {
				t.Fatalf("%d bytes on the wire for %d: not compressed", wire.n, len(body))
			}
			if tc.status == 404 && !strings.Contains(string(got), "no such zone") {
				t.Fatalf("got %q", got)
			}
		})
	}
	// Go's default transport asks for gzip itself and decodes it: an
	// unmodified client keeps working.
	resp, err := http.Get(srv.URL + "/v1/nameserver/snapshot")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	got, err := io.ReadAll(resp.Body)
	if err != nil || string(got) != body || !resp.Uncompressed {
		t.Fatalf("default client: %d bytes, %v, uncompressed by the transport %v", len(got), err, resp.Uncompressed)
	}
}

func TestDecodeRefuses(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		coding, body string
		openErr      bool
	}{
		{"br", "x", true},
		{"gzip", "not gzip", true},
		{"zstd", "not zstd at all", false}, // found out on the first read
	} {
		resp := &http.Response{Header: http.Header{"Content-Encoding": {tc.coding}}, Body: io.NopCloser(strings.NewReader(tc.body))}
		rc, err := Decode(resp)
		if tc.openErr {
			if err == nil {
				t.Errorf("%s: Decode accepted %q", tc.coding, tc.body)
			}
			continue
		}
		if err != nil {
			t.Errorf("%s: %v", tc.coding, err)
			continue
		}
		if _, err := io.ReadAll(rc); err == nil {
			t.Errorf("%s: read %q without an error", tc.coding, tc.body)
		}
		rc.Close()
	}
}

type countingReader struct {
	r io.Reader
	n int
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += n
	return n, err
}
