package fleet

import (
	"net"
	"sync"
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
}

// NewLink listens on a free loopback port and forwards to upstream.
func NewLink(upstream string, delay time.Duration) (*Link, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
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
		if d := time.Until(c.due); d > 0 {
			time.Sleep(d) // the link's delay itself
		}
		l.passable()
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

// WAN is everything between a region and the others: the links its leaf
// node dials the hub's nodes through, and the link its nameservers reach
// their API through, all with the same one-way delay. Cut partitions the
// region as a whole.
type WAN struct {
	// Delay is the links' one-way delay.
	Delay time.Duration
	links []*Link
}

// Link adds a link of the WAN's delay to upstream and returns it.
func (w *WAN) Link(upstream string) (*Link, error) {
	l, err := NewLink(upstream, w.Delay)
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

// Close closes every link.
func (w *WAN) Close() {
	for _, l := range w.links {
		l.Close()
	}
}
