package fleet

import (
	"fmt"
	"net"
	"sync"
	"syscall"
	"time"
)

// Link is the network between a region and the NATS cluster, as a TCP
// proxy on loopback: every byte is delivered Delay after it was sent, in
// each direction (so a round trip costs 2×Delay), and Cut stops all
// traffic until Heal, as a partition does: nothing is lost, senders see
// their writes stall and peers their reads go silent. The kernel here has
// no tc netem (docs/decisions.md), so the delay lives in this process.
type Link struct {
	// Delay is the one-way delay.
	Delay time.Duration

	ln       net.Listener
	upstream string

	mu    sync.Mutex
	cut   bool
	heal  chan struct{} // closed when a cut ends
	conns map[net.Conn]bool
	late  lateness
}

// NewLink listens on a free port of host (an address of this machine;
// "" is 127.0.0.1) and forwards to upstream.
func NewLink(host, upstream string, delay time.Duration) (*Link, error) {
	if host == "" {
		host = "127.0.0.1"
	}
	ln, err := net.Listen("tcp", net.JoinHostPort(host, "0"))
	if err != nil {
		return nil, err
	}
	l := &Link{Delay: delay, ln: ln, upstream: upstream, heal: make(chan struct{}), conns: map[net.Conn]bool{}}
	close(l.heal)
	go l.accept()
	return l, nil
}

// Addr is the address to dial instead of upstream.
func (l *Link) Addr() string { return l.ln.Addr().String() }

// Cut partitions the link: no byte passes, in either direction, and new
// connections wait, until Heal.
func (l *Link) Cut() {
	l.mu.Lock()
	defer l.mu.Unlock()
	if !l.cut {
		l.cut, l.heal = true, make(chan struct{})
	}
}

// Heal ends a Cut: what was held back flows again.
func (l *Link) Heal() {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.cut {
		l.cut = false
		close(l.heal)
	}
}

// Close stops the link and drops its connections.
func (l *Link) Close() {
	_ = l.ln.Close()
	l.Heal()
	l.mu.Lock()
	defer l.mu.Unlock()
	for c := range l.conns {
		_ = c.Close()
	}
}

// passable blocks while the link is cut.
func (l *Link) passable() {
	l.mu.Lock()
	h := l.heal
	l.mu.Unlock()
	<-h
}

func (l *Link) track(cs ...net.Conn) {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, c := range cs {
		l.conns[c] = true
	}
}

func (l *Link) accept() {
	for {
		c, err := l.ln.Accept()
		if err != nil {
			return
		}
		go func() {
			l.passable()
			u, err := net.DialTimeout("tcp", l.upstream, 5*time.Second)
			if err != nil {
				_ = c.Close()
				return
			}
			l.track(c, u)
			go l.pipe(c, u)
			go l.pipe(u, c)
		}()
	}
}

// chunk is bytes read at a time, due at due.
type chunk struct {
	b   []byte
	due time.Time
}

// pipe copies src to dst, each chunk Delay after it was read; a reader
// and a writer so that the delay costs latency, not throughput.
func (l *Link) pipe(src, dst net.Conn) {
	q := make(chan chunk, 1024)
	go func() {
		defer close(q)
		for {
			buf := make([]byte, 32<<10)
			n, err := src.Read(buf)
			if n > 0 {
				q <- chunk{b: buf[:n], due: time.Now().Add(l.Delay)}
			}
			if err != nil {
				return
			}
		}
	}()
	for c := range q {
		sleepUntil(c.due) // the link's delay itself
		l.passable()
		l.mu.Lock()
		l.late.add(time.Since(c.due))
		l.mu.Unlock()
		if _, err := dst.Write(c.b); err != nil {
			break
		}
	}
	// Closing both ends the reader; draining lets it exit.
	_ = dst.Close()
	_ = src.Close()
	for range q {
	}
}

// Lateness returns how much later than due the link has been handing
// chunks to the kernel since it started (or since the last call with
// reset): the delay the proxy adds beyond Delay, its timer's granularity
// and its goroutines' scheduling. A cut's hold-up counts too.
func (l *Link) Lateness(reset bool) Lateness {
	l.mu.Lock()
	defer l.mu.Unlock()
	out := l.late.summary()
	if reset {
		l.late = lateness{}
	}
	return out
}

// lateLimit is the longest lateness a link's histogram tells apart.
const lateLimit = 20 * time.Millisecond

// lateness is a histogram of chunks' lateness in 50 µs buckets up to
// lateLimit, the rest in the last one, and the largest seen; guarded by
// Link.mu.
type lateness struct {
	buckets [lateLimit / (50 * time.Microsecond)]int
	max     time.Duration
	n       int
}

func (h *lateness) add(d time.Duration) {
	d = max(d, 0)
	i := min(int(d/(50*time.Microsecond)), len(h.buckets)-1)
	h.buckets[i]++
	h.n++
	h.max = max(h.max, d)
}

// merge adds o's counts to h.
func (h *lateness) merge(o *lateness) {
	for i, c := range o.buckets {
		h.buckets[i] += c
	}
	h.n += o.n
	h.max = max(h.max, o.max)
}

func (h *lateness) summary() Lateness {
	q := func(p float64) time.Duration {
		if h.n == 0 {
			return 0
		}
		want, seen := int(p*float64(h.n-1))+1, 0
		for i, c := range h.buckets {
			if seen += c; seen >= want {
				return time.Duration(i+1) * 50 * time.Microsecond
			}
		}
		return h.max
	}
	return Lateness{Chunks: h.n, P50: q(0.5), P99: q(0.99), Max: h.max}
}

// Lateness summarises a link's lateness: the number of chunks, the
// upper bounds of the 50 µs buckets holding their median and 99th
// percentile, and the largest.
type Lateness struct {
	Chunks        int
	P50, P99, Max time.Duration
}

func (l Lateness) String() string {
	return fmt.Sprintf("p50 ≤%s p99 ≤%s max %s (%d chunks)", l.P50, l.P99, l.Max.Round(10*time.Microsecond), l.Chunks)
}

// sleepUntil returns at t, within tens of microseconds when the machine
// lets it. The runtime's timers alone wake up to a millisecond late (its
// poller waits in whole milliseconds: 0.55–0.65 ms at p50, 1.4–2 ms at
// p99 measured on these links), which would make every link that much
// longer than its Delay; so the runtime's timer covers all but the last
// 2 ms, and a nanosleep of the thread, precise to the kernel's timer
// slack (50 µs), the rest.
func sleepUntil(t time.Time) {
	if d := time.Until(t) - 2*time.Millisecond; d > 0 {
		time.Sleep(d)
	}
	d := time.Until(t)
	if d <= 0 {
		return
	}
	ts := syscall.NsecToTimespec(d.Nanoseconds())
	for syscall.Nanosleep(&ts, &ts) == syscall.EINTR {
	}
}

// WAN is everything between a region and the others: the links its leaf
// node dials the hub's nodes through, and the link its nameservers reach
// their API through, all with the same one-way delay. Cut partitions the
// region as a whole.
type WAN struct {
	// Delay is the links' one-way delay.
	Delay time.Duration
	// Host is the address the links listen on (NewLink).
	Host  string
	links []*Link
}

// Link adds a link of the WAN's delay to upstream and returns it.
func (w *WAN) Link(upstream string) (*Link, error) {
	l, err := NewLink(w.Host, upstream, w.Delay)
	if err != nil {
		return nil, err
	}
	w.links = append(w.links, l)
	return l, nil
}

// Cut partitions the region: every one of its links.
func (w *WAN) Cut() {
	for _, l := range w.links {
		l.Cut()
	}
}

// Heal ends a Cut.
func (w *WAN) Heal() {
	for _, l := range w.links {
		l.Heal()
	}
}

// Lateness is the lateness of all the WAN's links together.
func (w *WAN) Lateness(reset bool) Lateness {
	var all lateness
	for _, l := range w.links {
		l.mu.Lock()
		all.merge(&l.late)
		if reset {
			l.late = lateness{}
		}
		l.mu.Unlock()
	}
	return all.summary()
}

// Close closes every link.
func (w *WAN) Close() {
	for _, l := range w.links {
		l.Close()
	}
}
