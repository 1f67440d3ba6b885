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
// notification (and each backstop tick) reads the status of every waited
// change in one query, waking the waiters whose change went INSYNC. The
// database therefore sees one query per notification however many waiters
// there are, instead of one poll per waiter. It runs only while someone
// waits (plus notifierLinger), on a connection of its own.
type changeNotifier struct {
	s *Service

	mu      sync.Mutex
	waiters map[string][]chan struct{} // by change id; closed when INSYNC
	running bool

	// queries counts the status queries the notifier made (tests).
	queries atomic.Int64
}

func newChangeNotifier(s *Service) *changeNotifier {
	return &changeNotifier{s: s, waiters: map[string][]chan struct{}{}}
}

// wait registers interest in change id; the channel is closed once the
// notifier sees it INSYNC. cancel must be called when the wait ends.
func (n *changeNotifier) wait(id string) (ch <-chan struct{}, cancel func()) {
	c := make(chan struct{})
	n.mu.Lock()
	n.waiters[id] = append(n.waiters[id], c)
	if !n.running {
		n.running = true
		go n.run()
	}
	n.mu.Unlock()
	return c, func() {
		n.mu.Lock()
		defer n.mu.Unlock()
		list := n.waiters[id]
		for i, w := range list {
			if w == c {
				list = append(list[:i:i], list[i+1:]...)
				break
			}
		}
		if len(list) == 0 {
			delete(n.waiters, id)
		} else {
			n.waiters[id] = list
		}
	}
}

// ids returns the waited change ids.
func (n *changeNotifier) ids() []string {
	n.mu.Lock()
	defer n.mu.Unlock()
	out := make([]string, 0, len(n.waiters))
	for id := range n.waiters {
		out = append(out, id)
	}
	return out
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
		select {
		case <-notified:
		case <-tick.C:
		}
		ids := n.ids()
		if len(ids) == 0 {
			if idleSince.IsZero() {
				idleSince = time.Now()
			}
			if time.Since(idleSince) >= notifierLinger {
				n.mu.Lock()
				if len(n.waiters) == 0 {
					n.running = false
					n.mu.Unlock()
					return
				}
				n.mu.Unlock()
			}
			continue
		}
		idleSince = time.Time{}
		n.check(ctx, ids)
	}
}

// check reads the status of ids in one query and wakes the waiters of
// those INSYNC. A failure is left to the next notification or tick; the
// waiters' own deadlines bound their wait.
func (n *changeNotifier) check(ctx context.Context, ids []string) {
	n.queries.Add(1)
	cctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	rows, err := n.s.pool.Query(cctx, `SELECT id FROM change WHERE id = ANY($1) AND status = 'INSYNC'`, ids)
	if err != nil {
		n.s.cfg.Logger.Debug("change notifier: read statuses", "err", err)
		return
	}
	done, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		n.s.cfg.Logger.Debug("change notifier: read statuses", "err", err)
		return
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	for _, id := range done {
		for _, c := range n.waiters[id] {
			close(c)
		}
		delete(n.waiters, id)
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
		n.s.cfg.Logger.Debug("change notifier: listen connection lost", "err", err)
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
