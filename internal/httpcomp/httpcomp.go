// Package httpcomp compresses the control plane's nameserver-facing
// responses on the wire and decodes them on the nameserver. A snapshot of
// a million record sets is about 80 MB of JSON; zstd at its fastest level
// cuts it to a fraction for little CPU on either side.
//
// Negotiation is plain HTTP (RFC 9110 §12.5.3): the client lists what it
// accepts in Accept-Encoding, the server picks zstd, else gzip, else
// sends the body as it is, and says which in Content-Encoding. A client
// that asks for nothing (or is older than this) gets identity; Go's
// default transport, which asks for gzip by itself, decodes gzip by
// itself.
package httpcomp

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"

	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/zstd"
)

// AcceptEncoding is what a nameserver sends in Accept-Encoding: the codings
// Decode understands, best first.
const AcceptEncoding = "zstd, gzip"

// The codings the server may choose.
const (
	Zstd     = "zstd"
	Gzip     = "gzip"
	Identity = ""
)

// Negotiate returns the coding to answer a request with, given its
// Accept-Encoding header values: zstd when acceptable, else gzip, else
// Identity. A coding is acceptable when it is listed (or "*" is) with a
// q-value above zero; malformed elements are ignored.
func Negotiate(accept []string) string {
	q := map[string]float64{}
	for _, line := range accept {
		for elem := range strings.SplitSeq(line, ",") {
			name, params, _ := strings.Cut(elem, ";")
			name = strings.ToLower(strings.TrimSpace(name))
			if name == "" {
				continue
			}
			weight := 1.0
			if params != "" {
				k, v, ok := strings.Cut(strings.TrimSpace(params), "=")
				if !ok || !strings.EqualFold(strings.TrimSpace(k), "q") {
					continue
				}
				f, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
				if err != nil || f < 0 || f > 1 {
					continue
				}
				weight = f
			}
			q[name] = weight
		}
	}
	acceptable := func(c string) bool {
		if w, ok := q[c]; ok {
			return w > 0
		}
		w, ok := q["*"]
		return ok && w > 0
	}
	switch {
	case acceptable(Zstd):
		return Zstd
	case acceptable(Gzip):
		return Gzip
	}
	return Identity
}

// Prefix compresses the successful responses of next to requests whose
// path starts with prefix, in the coding Negotiate picks. Other responses
// (errors included) pass through as they are.
func Prefix(prefix string, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !strings.HasPrefix(r.URL.Path, prefix) {
			next.ServeHTTP(w, r)
			return
		}
		w.Header().Add("Vary", "Accept-Encoding")
		coding := Negotiate(r.Header.Values("Accept-Encoding"))
		if coding == Identity {
			next.ServeHTTP(w, r)
			return
		}
		ew := &encodingWriter{ResponseWriter: w, coding: coding}
		defer ew.close()
		next.ServeHTTP(ew, r)
	})
}

// encodingWriter compresses a response body from its 200 header on.
type encodingWriter struct {
	http.ResponseWriter
	coding      string
	enc         io.WriteCloser // nil: passing through
	wroteHeader bool
}

func (e *encodingWriter) WriteHeader(code int) {
	if e.wroteHeader {
		e.ResponseWriter.WriteHeader(code) // net/http logs the mistake
		return
	}
	e.wroteHeader = true
	h := e.Header()
	if code == http.StatusOK && h.Get("Content-Encoding") == "" {
		h.Set("Content-Encoding", e.coding)
		h.Del("Content-Length")
		e.enc = newEncoder(e.coding, e.ResponseWriter)
	}
	e.ResponseWriter.WriteHeader(code)
}

func (e *encodingWriter) Write(p []byte) (int, error) {
	if !e.wroteHeader {
		e.WriteHeader(http.StatusOK)
	}
	if e.enc != nil {
		return e.enc.Write(p)
	}
	return e.ResponseWriter.Write(p)
}

// Unwrap lets http.ResponseController reach the connection.
func (e *encodingWriter) Unwrap() http.ResponseWriter { return e.ResponseWriter }

// close ends the compressed stream. A handler that failed midway has
// written a body its reader rejects (an unterminated snapshot); ending the
// compressed stream properly does not change that.
func (e *encodingWriter) close() {
	if e.enc != nil {
		_ = e.enc.Close()
	}
}

func newEncoder(coding string, w io.Writer) io.WriteCloser {
	if coding == Zstd {
		// The fastest level: on loopback or a LAN the CPU, not the wire,
		// is what a cold start waits for. Blocks are compressed on every
		// core while the handler goes on writing.
		enc, err := zstd.NewWriter(w, zstd.WithEncoderLevel(zstd.SpeedFastest), zstd.WithWindowSize(1<<20))
		if err == nil {
			return enc
		}
	}
	gz, _ := gzip.NewWriterLevel(w, gzip.BestSpeed) // a valid level: no error
	return gz
}

// Decode returns resp's body decoded as its Content-Encoding says (zstd,
// gzip or none). Closing it closes the body.
func Decode(resp *http.Response) (io.ReadCloser, error) {
	switch ce := strings.ToLower(strings.TrimSpace(resp.Header.Get("Content-Encoding"))); ce {
	case "", "identity":
		return resp.Body, nil
	case Zstd:
		d, err := zstd.NewReader(bufio.NewReaderSize(resp.Body, 64<<10), zstd.WithDecoderLowmem(true), zstd.WithDecoderMaxWindow(64<<20))
		if err != nil {
			resp.Body.Close()
			return nil, err
		}
		return &decoded{Reader: d, close: func() error { d.Close(); return resp.Body.Close() }}, nil
	case Gzip:
		g, err := gzip.NewReader(bufio.NewReaderSize(resp.Body, 64<<10))
		if err != nil {
			resp.Body.Close()
			return nil, fmt.Errorf("gzip body: %w", err)
		}
		return &decoded{Reader: g, close: func() error { return errors.Join(g.Close(), resp.Body.Close()) }}, nil
	default:
		resp.Body.Close()
		return nil, fmt.Errorf("unsupported Content-Encoding %q", ce)
	}
}

type decoded struct {
	io.Reader
	close func() error
}

func (d *decoded) Close() error { return d.close() }
