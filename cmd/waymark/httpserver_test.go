package main

import (
	"bufio"
	"io"
	"net"
	"net/http"
	"testing"
	"time"
)

// TestHTTPServerCutsSlowClients: a client that sends its headers or its
// body too slowly loses the connection at the read timeouts instead of
// holding it for as long as it likes.
func TestHTTPServerCutsSlowClients(t *testing.T) {
	t.Parallel()
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		w.WriteHeader(http.StatusNoContent)
	})
	srv := newHTTPServer(h, httpOptions{
		ReadHeaderTimeout: 200 * time.Millisecond, ReadTimeout: 300 * time.Millisecond,
		WriteTimeout: time.Second, IdleTimeout: 200 * time.Millisecond,
	}.withDefaults())
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(func() { _ = srv.Close() })

	for _, tc := range []struct{ name, send string }{
		{"slow headers", "POST / HTTP/1.1\r\nHost: x\r\n"},
		{"slow body", "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\nab"},
		{"idle keep-alive", "GET / HTTP/1.1\r\nHost: x\r\n\r\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			c, err := net.Dial("tcp", ln.Addr().String())
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			if _, err := io.WriteString(c, tc.send); err != nil {
				t.Fatal(err)
			}
			// The server must close the connection; the deadline only
			// bounds how long a broken server could keep the test waiting.
			_ = c.SetReadDeadline(time.Now().Add(10 * time.Second))
			rd := bufio.NewReader(c)
			for {
				_, err := rd.ReadString('\n')
				if err == io.EOF {
					return
				}
				if ne, ok := err.(net.Error); ok && ne.Timeout() {
					t.Fatal("the server kept the slow connection open")
				}
				if err != nil {
					return // reset: closed too
				}
			}
		})
	}
}
