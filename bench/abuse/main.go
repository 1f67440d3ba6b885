// Command abuse attacks a DNS server on loopback the way issue 16 measured
// Waymark and Knot, and prints one result line:
//
//	abuse idle  -target ADDR -conns 5000 -duration 15s
//	    holds CONNS idle TCP connections (reopening each one the server
//	    closes) from -src addresses while a legitimate client at 127.0.0.1
//	    opens a new connection every -probe-interval and asks one query;
//	    prints the share of those answered within -probe-timeout.
//	abuse slow  -target ADDR -conns 1100 -every 8s -duration 15s
//	    the same with connections that each send one query every EVERY.
//	abuse flood -target ADDR -src 127.0.0.99 -rate 50000 -duration 10s
//	    sends RATE queries per second for -qname/-qtype from the "spoofed"
//	    source address and counts what comes back to it: full answers,
//	    truncated ones and octets, per second.
//	abuse legit -target ADDR -src 127.0.0.99 -rate 50000 -duration 10s
//	    floods random names under -qname's zone from -src while a
//	    legitimate client at 127.0.1.1 (another /24) asks 200 queries/s
//	    for existing names (h<N>.<zone>); prints its p50 and p99 latency
//	    and the share it lost.
//
// Every mode stops by itself after -duration. Loopback only.
package main

import (
	"context"
	"encoding/binary"
	"errors"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"os"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/miekg/dns"
)

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: abuse idle|slow|flood [flags]")
		os.Exit(2)
	}
	mode := os.Args[1]
	fs := flag.NewFlagSet(mode, flag.ExitOnError)
	target := fs.String("target", "127.0.0.1:16001", "server address")
	conns := fs.Int("conns", 5000, "attacking TCP connections (idle, slow)")
	srcs := fs.String("src", "127.0.0.2", "comma-separated source addresses of the attack")
	duration := fs.Duration("duration", 15*time.Second, "how long to measure")
	every := fs.Duration("every", 8*time.Second, "slow: a query per connection this often")
	probeEvery := fs.Duration("probe-interval", 100*time.Millisecond, "idle, slow: a new legitimate TCP query this often")
	probeTimeout := fs.Duration("probe-timeout", 2*time.Second, "idle, slow: time a legitimate query may take")
	qname := fs.String("qname", "h1.bench.example.", "query name")
	qtypeS := fs.String("qtype", "A", "query type")
	rate := fs.Int("rate", 50000, "flood: queries per second")
	_ = fs.Parse(os.Args[2:])
	qtype, ok := dns.StringToType[strings.ToUpper(*qtypeS)]
	if !ok {
		fmt.Fprintf(os.Stderr, "unknown type %s\n", *qtypeS)
		os.Exit(2)
	}
	var err error
	switch mode {
	case "idle", "slow":
		slowEvery := time.Duration(0)
		if mode == "slow" {
			slowEvery = *every
		}
		err = connAttack(mode, *target, strings.Split(*srcs, ","), *conns, slowEvery, *duration, *probeEvery, *probeTimeout, *qname, qtype)
	case "flood":
		err = flood(*target, strings.Split(*srcs, ",")[0], *rate, *duration, *qname, qtype)
	case "legit":
		err = legit(*target, strings.Split(*srcs, ",")[0], *rate, *duration, *qname)
	default:
		err = fmt.Errorf("unknown mode %q", mode)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "abuse:", err)
		os.Exit(1)
	}
}

func query(name string, qtype uint16, id uint16) []byte {
	m := new(dns.Msg)
	m.SetQuestion(name, qtype)
	m.Id = id
	m.SetEdns0(1232, false)
	b, _ := m.Pack()
	return b
}

func framed(b []byte) []byte {
	return append(binary.BigEndian.AppendUint16(nil, uint16(len(b))), b...)
}

// connAttack holds conns connections from srcs, idle or sending a query
// every slowEvery, and probes with new connections from 127.0.0.1.
func connAttack(mode, target string, srcs []string, conns int, slowEvery, duration, probeEvery, probeTimeout time.Duration, qname string, qtype uint16) error {
	ctx, cancel := context.WithTimeout(context.Background(), duration+30*time.Second)
	defer cancel()
	var open, reopened atomic.Int64
	var wg sync.WaitGroup
	q := framed(query(qname, qtype, 1))
	for i := range conns {
		src := net.ParseIP(srcs[i%len(srcs)])
		wg.Go(func() {
			d := net.Dialer{LocalAddr: &net.TCPAddr{IP: src}, Timeout: 5 * time.Second}
			first := true
			for ctx.Err() == nil {
				c, err := d.DialContext(ctx, "tcp", target)
				if err != nil {
					select {
					case <-ctx.Done():
					case <-time.After(50 * time.Millisecond):
					}
					continue
				}
				if !first {
					reopened.Add(1)
				}
				first = false
				open.Add(1)
				stop := context.AfterFunc(ctx, func() { _ = c.Close() })
				if slowEvery > 0 {
					// Answers are read and discarded; the writer sends a
					// query every slowEvery, starting at a random point.
					go func() {
						t := time.NewTicker(slowEvery)
						defer t.Stop()
						time.Sleep(time.Duration(i) * slowEvery / time.Duration(conns))
						for {
							if _, err := c.Write(q); err != nil {
								return
							}
							select {
							case <-ctx.Done():
								return
							case <-t.C:
							}
						}
					}()
				}
				_, _ = io.Copy(io.Discard, c) // until the server closes it
				stop()
				_ = c.Close()
				open.Add(-1)
			}
		})
	}
	// Let the attack build up: every connection opened once, or 10 s.
	for t := time.Now(); open.Load() < int64(conns) && time.Since(t) < 10*time.Second; {
		time.Sleep(50 * time.Millisecond)
	}
	heldAtStart := open.Load()
	var sent, answered atomic.Int64
	var pwg sync.WaitGroup
	tick := time.NewTicker(probeEvery)
	end := time.After(duration)
loop:
	for id := uint16(1); ; id++ {
		select {
		case <-end:
			break loop
		case <-tick.C:
		}
		sent.Add(1)
		pwg.Go(func() {
			if probe(target, qname, qtype, id, probeTimeout) == nil {
				answered.Add(1)
			}
		})
	}
	tick.Stop()
	pwg.Wait()
	heldAtEnd := open.Load()
	cancel()
	wg.Wait()
	s, a := sent.Load(), answered.Load()
	fmt.Printf("%s conns=%d held_at_start=%d held_at_end=%d reconnects=%d probes=%d answered=%d pct=%.1f\n",
		mode, conns, heldAtStart, heldAtEnd, reopened.Load(), s, a, 100*float64(a)/float64(max(s, 1)))
	return nil
}

// probe asks one query on a new connection from 127.0.0.1.
func probe(target, qname string, qtype, id uint16, timeout time.Duration) error {
	d := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1)}, Timeout: timeout}
	c, err := d.Dial("tcp", target)
	if err != nil {
		return err
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(timeout))
	if _, err := c.Write(framed(query(qname, qtype, id))); err != nil {
		return err
	}
	var l [2]byte
	if _, err := io.ReadFull(c, l[:]); err != nil {
		return err
	}
	b := make([]byte, binary.BigEndian.Uint16(l[:]))
	if _, err := io.ReadFull(c, b); err != nil {
		return err
	}
	m := new(dns.Msg)
	if err := m.Unpack(b); err != nil {
		return err
	}
	if m.Id != id || m.Rcode != dns.RcodeSuccess || len(m.Answer) == 0 {
		return errors.New("bad answer")
	}
	return nil
}

// flood sends rate queries per second from src for duration and counts
// the answers that come back to src.
func flood(target, src string, rate int, duration time.Duration, qname string, qtype uint16) error {
	raddr, err := net.ResolveUDPAddr("udp", target)
	if err != nil {
		return err
	}
	pc, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.ParseIP(src)})
	if err != nil {
		return err
	}
	defer pc.Close()
	_ = pc.SetReadBuffer(8 << 20)
	var full, tc, octets atomic.Int64
	done := make(chan struct{})
	go func() {
		defer close(done)
		buf := make([]byte, 65536)
		for {
			n, err := pc.Read(buf)
			if err != nil {
				return
			}
			if n < 12 {
				continue
			}
			octets.Add(int64(n))
			if buf[2]&0x02 != 0 {
				tc.Add(1)
			} else {
				full.Add(1)
			}
		}
	}()
	q := query(qname, qtype, 0)
	start := time.Now()
	sent := 0
	// Paced in 1 ms steps, so both servers see the same offered load.
	for time.Since(start) < duration {
		want := int(time.Since(start).Seconds() * float64(rate))
		for ; sent < want; sent++ {
			binary.BigEndian.PutUint16(q, uint16(sent))
			_, _ = pc.WriteToUDP(q, raddr)
		}
		time.Sleep(time.Millisecond)
	}
	elapsed := time.Since(start).Seconds()
	time.Sleep(500 * time.Millisecond) // the last answers in flight
	_ = pc.Close()
	<-done
	fmt.Printf("flood src=%s sent_per_s=%.0f answers_per_s=%.1f truncated_per_s=%.1f octets_per_s=%.0f amplification=%.2f\n",
		src, float64(sent)/elapsed, float64(full.Load())/elapsed, float64(tc.Load())/elapsed,
		float64(octets.Load())/elapsed, float64(octets.Load())/float64(max(sent*len(q), 1)))
	return nil
}

// legit runs a random-name flood from src and measures a legitimate
// client's latency meanwhile.
func legit(target, src string, rate int, duration time.Duration, qname string) error {
	zone := qname[strings.IndexByte(qname, '.')+1:]
	raddr, err := net.ResolveUDPAddr("udp", target)
	if err != nil {
		return err
	}
	fc, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.ParseIP(src)})
	if err != nil {
		return err
	}
	defer fc.Close()
	go func() { // the flood's answers are read and dropped
		buf := make([]byte, 65536)
		for {
			if _, err := fc.Read(buf); err != nil {
				return
			}
		}
	}()
	lc, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 1, 1)})
	if err != nil {
		return err
	}
	defer lc.Close()
	const legitRate = 200
	n := int(duration.Seconds() * legitRate)
	sentAt := make([]time.Time, n)
	lat := make([]time.Duration, n)
	var mu sync.Mutex
	done := make(chan struct{})
	go func() {
		defer close(done)
		buf := make([]byte, 65536)
		for {
			k, err := lc.Read(buf)
			if err != nil {
				return
			}
			if k < 12 {
				continue
			}
			id := int(binary.BigEndian.Uint16(buf))
			mu.Lock()
			if id < n && lat[id] == 0 && !sentAt[id].IsZero() {
				lat[id] = time.Since(sentAt[id])
			}
			mu.Unlock()
		}
	}()
	stop := make(chan struct{})
	var fwg sync.WaitGroup
	fwg.Go(func() {
		start := time.Now()
		sent := 0
		for {
			select {
			case <-stop:
				return
			default:
			}
			want := int(time.Since(start).Seconds() * float64(rate))
			for ; sent < want; sent++ {
				q := query(fmt.Sprintf("r%d-%d.%s", sent, rand.Uint32(), zone), dns.TypeA, uint16(sent))
				_, _ = fc.WriteToUDP(q, raddr)
			}
			time.Sleep(time.Millisecond)
		}
	})
	tick := time.NewTicker(time.Second / legitRate)
	for i := range n {
		<-tick.C
		q := query(fmt.Sprintf("h%d.%s", rand.IntN(90000), zone), dns.TypeA, uint16(i))
		mu.Lock()
		sentAt[i] = time.Now()
		mu.Unlock()
		_, _ = lc.WriteToUDP(q, raddr)
	}
	tick.Stop()
	time.Sleep(time.Second) // answers still on their way
	close(stop)
	fwg.Wait()
	_ = lc.Close()
	<-done
	var got []time.Duration
	for _, l := range lat {
		if l > 0 {
			got = append(got, l)
		}
	}
	slices.Sort(got)
	q := func(p float64) time.Duration {
		if len(got) == 0 {
			return 0
		}
		return got[min(len(got)-1, int(p*float64(len(got))))]
	}
	fmt.Printf("legit flood_rate=%d queries=%d answered=%d lost_pct=%.2f p50_us=%d p99_us=%d\n",
		rate, n, len(got), 100*float64(n-len(got))/float64(n), q(0.50).Microseconds(), q(0.99).Microseconds())
	return nil
}
