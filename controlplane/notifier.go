package controlplane

import (
	"context"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/waymark-dns/waymark/internal/retry"
)

// Timing of the change notifier.
const (
	// notifierBackstop is how often the notifier looks at the waited
	// changes even without a notification: it covers a NOTIFY lost while
	// the LISTEN connection was down.
	notifierBackstop = time.Second
	// notifierLinger keeps the LISTEN connection this long after the last
	// waiter leaves, so that consecutive long polls do not reconnect.
	notifierLinger = 2 * time.Second
)

// changeNotifier is the one watcher of change status per Service that
// every long poll (WaitChange) shares. It LISTENs on insyncChannel, which
// the trackers notify when they flip changes INSYNC, and on each
// notification (and each backstop tick) reads every waited change with its
// fleet progress in one query, keeps what it read, and wakes the waiters
// whose change went INSYNC. A waiter that ends, woken or timed out, answers
// from that reading when it is newer than the waiter's own first read, so
// a long poll costs the database one read of its own (when it starts)
// however long it waits, and the notifier's one query per tick is shared by
// all. It runs only while someone waits (plus notifierLinger), on a
// connection of its own.
type changeNotifier struct {
	s *Service

	mu      sync.Mutex
	watches map[string]*watch // by change id
	running bool

	// queries counts the status queries the notifier made, notified
	// those made on a notification rather than a backstop tick (tests).
	queries, notified atomic.Int64
}

// watch is one waited change: its waiters and what the notifier last read
// of it.
type watch struct {
	waiters []chan struct{} // closed when the change is seen INSYNC
	insync  bool
	seen    changeState // zero until the first reading
}

// changeState is one reading of a change and its fleet progress.
type changeState struct {
	info     ChangeInfo
	progress Progress
	at       time.Time // when the reading started (wall clock)
}

func newChangeNotifier(s *Service) *changeNotifier {
	return &changeNotifier{s: s, watches: map[string]*watch{}}
}

// wait registers interest in change id; the channel is closed once the
// notifier sees it INSYNC. latest returns the notifier's newest reading of
// the change if it started after since (false otherwise). cancel must be
// called when the wait ends.
func (n *changeNotifier) wait(id string) (ch <-chan struct{}, latest func(since time.Time) (changeState, bool), cancel func()) {
	c := make(chan struct{})
	n.mu.Lock()
	w := n.watches[id]
	if w == nil {
		w = &watch{}
		n.watches[id] = w
	}
	if w.insync {
		close(c)
	}
	w.waiters = append(w.waiters, c)
	if !n.running {
		n.running = true
		go n.run()
	}
	n.mu.Unlock()
	latest = func(since time.Time) (changeState, bool) {
		n.mu.Lock()
		defer n.mu.Unlock()
		st := w.seen
		return st, !st.at.IsZero() && !st.at.Before(since)
	}
	return c, latest, func() {
		n.mu.Lock()
		defer n.mu.Unlock()
		list := w.waiters
		for i, x := range list {
			if x == c {
				list = append(list[:i:i], list[i+1:]...)
				break
			}
		}
		w.waiters = list
		if len(list) == 0 && n.watches[id] == w {
			delete(n.watches, id)
		}
	}
}

// ids returns the waited change ids.
func (n *changeNotifier) ids() []string {
	n.mu.Lock()
	defer n.mu.Unlock()
	out := make([]string, 0, len(n.watches))
	for id := range n.watches {
		out = append(out, id)
	}
	return out
}

// waiting returns how many waiters are registered (tests).
func (n *changeNotifier) waiting() int {
	n.mu.Lock()
	defer n.mu.Unlock()
	total := 0
	for _, w := range n.watches {
		total += len(w.waiters)
	}
	return total
}

// run serves the waiters until there have been none for notifierLinger.
func (n *changeNotifier) run() {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	notified := make(chan struct{}, 1)
	go n.listen(ctx, notified)
	tick := time.NewTicker(notifierBackstop)
	defer tick.Stop()
	idleSince := time.Time{}
	for {
		byNotify := false
		select {
		case <-notified:
			byNotify = true
		case <-tick.C:
		}
		ids := n.ids()
		if len(ids) == 0 {
			if idleSince.IsZero() {
				idleSince = time.Now()
			}
			if time.Since(idleSince) >= notifierLinger {
				n.mu.Lock()
				if len(n.watches) == 0 {
					n.running = false
					n.mu.Unlock()
					return
				}
				n.mu.Unlock()
			}
			continue
		}
		idleSince = time.Time{}
		if byNotify {
			n.notified.Add(1)
		}
		n.check(ctx, ids)
	}
}

// check reads ids with their progress in one query, keeps the readings and
// wakes the waiters of those INSYNC. A failure is left to the next
// notification or tick; the waiters' own deadlines bound their wait, and
// one that finds no fresh reading reads the change itself.
func (n *changeNotifier) check(ctx context.Context, ids []string) {
	n.queries.Add(1)
	cctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	at := time.Now()
	states, err := n.s.readChanges(cctx, "", ids)
	if err != nil {
		n.s.log.Debug("change notifier: read statuses", "err", err)
		return
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	for _, st := range states {
		w := n.watches[st.info.ID]
		if w == nil {
			continue // every waiter left meanwhile
		}
		st.at = at
		w.seen = st
		if st.info.Status == StatusInSync && !w.insync {
			w.insync = true
			for _, c := range w.waiters {
				close(c)
			}
		}
	}
}

// listen holds a LISTEN connection while ctx lasts and signals notified on
// every notification (coalesced), reconnecting with backoff.
func (n *changeNotifier) listen(ctx context.Context, notified chan<- struct{}) {
	backoff := retry.NewBackoff(100*time.Millisecond, 5*time.Second)
	for ctx.Err() == nil {
		err := n.listenOnce(ctx, notified, backoff)
		if ctx.Err() != nil {
			return
		}
		n.s.log.Debug("change notifier: listen connection lost", "err", err)
		if !retry.Sleep(ctx, backoff.Next()) {
			return
		}
	}
}

func (n *changeNotifier) listenOnce(ctx context.Context, notified chan<- struct{}, backoff *retry.Backoff) error {
	conn, err := pgx.ConnectConfig(ctx, n.s.pool.Config().ConnConfig.Copy())
	if err != nil {
		return err
	}
	defer func() {
		cctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		_ = conn.Close(cctx)
	}()
	if _, err := conn.Exec(ctx, `LISTEN `+insyncChannel); err != nil {
		return err
	}
	backoff.Reset()
	// A change may have gone INSYNC while no connection listened.
	select {
	case notified <- struct{}{}:
	default:
	}
	for {
		if _, err := conn.WaitForNotification(ctx); err != nil {
			return err
		}
		select {
		case notified <- struct{}{}:
		default:
		}
	}
}
