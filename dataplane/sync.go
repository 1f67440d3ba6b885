package dataplane

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"runtime"
	"strings"
	"sync"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/waymark-dns/waymark/event"
	"github.com/waymark-dns/waymark/internal/httpcomp"
	"github.com/waymark-dns/waymark/internal/retry"
	"github.com/waymark-dns/waymark/zonecfg"
)

// errStreamGap means the stream no longer holds the next sequence the node
// needs (it was purged or aged out): only a full snapshot can heal that.
var errStreamGap = errors.New("zone stream no longer holds the next event")

// initialLoad fills the store, retrying until it can; it reports false if
// ctx ended first.
//
// A node with a cache starts from it and fetches only what changed while
// it was away: the stream's events since the cache's sequence (catchUp),
// as it would have consumed them running. Only when the stream no longer
// holds them (or cannot be reached) does it load the whole snapshot; when
// the control plane is unreachable too, it serves the cache and catches up
// once they are back. A node without a usable cache, or serving only some
// pool names, loads the snapshot first.
func (n *Node) initialLoad(ctx context.Context, nc *nats.Conn) bool {
	triedCache := false
	// A node serving only some pool names (Serves) does not start from
	// its cache while the control plane can be asked: the cache does not
	// record which names it was filtered for, nor which zones were left
	// out, and the names may have changed since.
	if n.cfg.CacheDir != "" && len(n.cfg.Serves) == 0 {
		triedCache = true
		seq, err := n.loadCache()
		if err == nil {
			n.log.Info("loaded the zone cache", "seq", seq, "zones", n.store.Len())
			applied, err := n.catchUp(ctx, nc, seq)
			if err == nil {
				n.log.Info("caught up from the zone stream", "from", seq, "events", applied, "seq", n.AppliedSeq())
				return true
			}
			if ctx.Err() != nil {
				return false
			}
			n.log.Warn("cannot catch up from the zone stream; loading the snapshot", "from", seq, "err", err)
			if n.cfg.SnapshotURL == "" {
				return true
			}
			err = n.loadSnapshot(ctx)
			switch {
			case err == nil:
				n.log.Info("loaded the control-plane snapshot", "seq", n.AppliedSeq(), "zones", n.store.Len())
			case ctx.Err() != nil:
				return false
			default:
				// The consumer keeps trying the stream, and a gap there
				// the snapshot, once they are back.
				n.log.Warn("control-plane snapshot unavailable; serving the cache", "err", err)
			}
			return true
		}
		n.log.Warn("zone cache unavailable", "err", err)
	}
	backoff := retry.NewBackoff(n.cfg.RetryInterval/4, 8*n.cfg.RetryInterval)
	for {
		if n.cfg.SnapshotURL != "" {
			err := n.loadSnapshot(ctx)
			if err == nil {
				n.log.Info("loaded the control-plane snapshot", "seq", n.AppliedSeq(), "zones", n.store.Len())
				return true
			}
			if ctx.Err() != nil {
				return false
			}
			n.log.Warn("control-plane snapshot unavailable", "err", err)
		}
		if !triedCache && n.cfg.CacheDir != "" {
			triedCache = true
			seq, err := n.loadCache()
			if err == nil {
				n.log.Info("loaded the zone cache", "seq", seq, "zones", n.store.Len())
				return true
			}
			n.log.Warn("zone cache unavailable", "err", err)
		}
		if !retry.Sleep(ctx, backoff.Next()) {
			return false
		}
	}
}

// catchUp applies the stream's events after from, up to the stream's last
// sequence when it starts, and returns how many it applied. It fails with
// errStreamGap when the stream no longer holds them all (aged out,
// purged, or a new stream whose sequences start again below from), and
// with any other error when the stream cannot be read: no answer, or no
// event, within CatchUpTimeout. Zones whose events do not apply are marked stale, as in
// steady state, and re-fetched alone once the node runs.
func (n *Node) catchUp(ctx context.Context, nc *nats.Conn, from uint64) (int, error) {
	cctx, cancel := context.WithTimeout(ctx, n.cfg.CatchUpTimeout)
	defer cancel()
	js, err := jetstream.New(nc)
	if err != nil {
		return 0, err
	}
	st, err := js.Stream(cctx, event.StreamName)
	if err != nil {
		return 0, fmt.Errorf("zone stream: %w", err)
	}
	state := st.CachedInfo().State
	switch {
	case state.LastSeq < from:
		return 0, fmt.Errorf("%w: the stream ends at %d, the cache is at %d", errStreamGap, state.LastSeq, from)
	case state.LastSeq == from:
		return 0, nil
	case state.FirstSeq > from+1:
		return 0, fmt.Errorf("%w: the stream starts at %d, the cache is at %d", errStreamGap, state.FirstSeq, from)
	}
	cons, err := js.OrderedConsumer(cctx, event.StreamName, jetstream.OrderedConsumerConfig{
		FilterSubjects: []string{event.ZoneSubjectAll},
		DeliverPolicy:  jetstream.DeliverByStartSequencePolicy,
		OptStartSeq:    from + 1,
	})
	if err != nil {
		return 0, fmt.Errorf("create consumer: %w", err)
	}
	it, err := cons.Messages(jetstream.PullMaxMessages(1000))
	if err != nil {
		return 0, fmt.Errorf("consume: %w", err)
	}
	// In the background, as in consume: Stop can wait out the ordered
	// consumer's reset backoff, which would delay the snapshot fallback.
	defer func() { go it.Stop() }()
	stop := context.AfterFunc(ctx, it.Stop)
	defer stop()
	// A long catch-up (a day of events) may take longer than the timeout;
	// the stream falling silent for that long may not.
	idle := time.AfterFunc(n.cfg.CatchUpTimeout, it.Stop)
	defer idle.Stop()
	applied := 0
	for {
		n.mu.Lock()
		last := n.lastSeq
		n.mu.Unlock()
		if last >= state.LastSeq {
			return applied, nil
		}
		msg, err := it.Next()
		if err != nil {
			if ctx.Err() == nil {
				err = fmt.Errorf("no event for %s at %d of %d: %w", n.cfg.CatchUpTimeout, last, state.LastSeq, err)
			}
			return applied, err
		}
		idle.Reset(n.cfg.CatchUpTimeout)
		ok, err := n.applyMsg(msg)
		if err != nil {
			return applied, err
		}
		if ok {
			applied++
		}
	}
}

// apiURLs are the control-plane base URLs, in the order they are tried.
func (n *Node) apiURLs() []string {
	return append([]string{n.cfg.SnapshotURL}, n.cfg.FallbackURLs...)
}

// loadSnapshot fetches the control plane's snapshot and installs it, from
// the first API that serves it whole.
func (n *Node) loadSnapshot(ctx context.Context) error {
	start := time.Now()
	path := "/v1/nameserver/snapshot"
	if len(n.cfg.Serves) > 0 {
		path += "?serve=" + url.QueryEscape(strings.Join(n.cfg.Serves, ","))
	}
	var errs []error
	for _, base := range n.apiURLs() {
		err := n.loadSnapshotFrom(ctx, base, path, start)
		if err == nil {
			return nil
		}
		errs = append(errs, fmt.Errorf("%s: %w", base, err))
		if ctx.Err() != nil {
			break
		}
	}
	return errors.Join(errs...)
}

func (n *Node) loadSnapshotFrom(ctx context.Context, base, path string, start time.Time) error {
	body, err := n.getFrom(ctx, base, path)
	if err != nil {
		return err
	}
	defer body.Close()
	seq, err := n.install(body)
	if err != nil {
		return fmt.Errorf("read snapshot: %w", err)
	}
	n.mu.Lock()
	n.lastSeq = seq
	clear(n.stale)
	n.dirty = true
	n.mu.Unlock()
	n.releaseDue(-1)
	n.loaded(false, start)
	return nil
}

// install reads a snapshot (from the control plane or the cache) from r
// and installs its zones, then drops the zones it does not list.
//
// One goroutine reads the body and scans its JSON once, decoding record
// sets one at a time (no slice of a million record sets); it hands them
// to the zone's builder in chunks as they come. The body is read through
// a window as it arrives, never held whole. Builders run on
// several workers, so on more than one core packing and building overlap
// with the download and the decoding, and small zones build in parallel.
func (n *Node) install(r io.Reader) (uint64, error) {
	n.applyMu.Lock()
	defer n.applyMu.Unlock()
	zones := make(chan *zoneStream, 64)
	// Built zones are published in batches: one copy of the zone index
	// per batch rather than per zone.
	const batch = 1024
	var mu sync.Mutex // guards seen and built
	seen := map[string]bool{}
	var built []*zone
	var workers sync.WaitGroup
	for range max(1, runtime.GOMAXPROCS(0)) {
		workers.Go(func() {
			for zs := range zones {
				z, err := zs.build()
				if z == nil {
					// A zone cut short fails the whole load (the decoder
					// says why); an unbuildable one is left out, as
					// ReplaceZone would.
					if zs.err == nil {
						n.log.Warn("zone not installed", "zone", zs.id, "err", err)
					}
					continue
				}
				if err != nil {
					n.log.Error("zone installed with problems; names of unservable record sets answer SERVFAIL", "zone", z.id, "err", err)
				}
				mu.Lock()
				seen[z.id] = true
				built = append(built, z)
				var full []*zone
				if len(built) >= batch {
					full, built = built, nil
				}
				mu.Unlock()
				n.store.putNewer(full)
			}
		})
	}
	seq, err := decodeSnapshot(r, zones)
	close(zones)
	workers.Wait()
	n.store.putNewer(built)
	if err != nil {
		return 0, err
	}
	for _, id := range n.store.ZoneIDs() {
		if !seen[id] {
			n.store.RemoveZone(id)
		}
	}
	return seq, nil
}

// zoneChunk is how many record sets the decoder hands a builder at once.
const zoneChunk = 1024

// zoneStream is one zone of a snapshot on its way from the decoder to a
// builder: the record sets come on chunks; once it is closed, final holds
// the zone's other members, or err why the zone is not to be installed.
type zoneStream struct {
	id, name string // known before the first chunk
	chunks   chan []zonecfg.RRSet
	final    event.ZoneState // without RRSets; valid once chunks is closed
	err      error
}

// build consumes the stream and builds the zone. It returns nil when the
// zone is not to be installed; an error wrapping ErrSkippedRecords comes
// with a zone.
func (zs *zoneStream) build() (*zone, error) {
	b, err := newZoneBuilder(zs.id, zs.name, 0)
	// The sets are packed as they come and put in the zone's map at the
	// end, when their number is known: the map is then sharded and sized
	// for it at once.
	type packed struct {
		owner string
		set   rrset
	}
	var parts [][]packed // one per chunk: no copying as they add up
	total := 0
	for chunk := range zs.chunks {
		if err != nil {
			continue // drain
		}
		part := make([]packed, 0, len(chunk))
		for _, rs := range chunk {
			if owner, set, ok := b.pack(rs); ok {
				part = append(part, packed{owner, set})
			}
		}
		parts = append(parts, part)
		total += len(part)
	}
	if err != nil || zs.err != nil {
		return nil, firstError(zs.err, err)
	}
	f := zs.final
	if f.ID != zs.id || f.Name != zs.name {
		return nil, errors.New("zone id or name changed mid-zone")
	}
	b.z.tenant, b.z.version, b.z.servers = f.TenantID, f.Version, f.NameServers
	b.setCIDR(f.CIDRCollections)
	b.setDNSSEC(f.DNSSEC)
	b.setTransfers(f.Transfers)
	b.setQueryLogging(f.QueryLogging)
	b.setSecondary(f.Secondary)
	b.w = newMapWriter[node](total + total/4)
	b.w.set(b.z.name, node{})
	for _, part := range parts {
		for _, p := range part {
			b.put(p.owner, p.set)
		}
	}
	return b.finish()
}

// get performs an authenticated GET on the control plane: on each API in
// turn until one answers. A 404 is reported as errNotFound.
func (n *Node) get(ctx context.Context, path string) (io.ReadCloser, error) {
	var errs []error
	for _, base := range n.apiURLs() {
		body, err := n.getFrom(ctx, base, path)
		if err == nil || errors.Is(err, errNotFound) {
			return body, err
		}
		errs = append(errs, fmt.Errorf("%s: %w", base, err))
		if ctx.Err() != nil {
			break
		}
	}
	return nil, errors.Join(errs...)
}

// getFrom performs the GET on the API at base.
func (n *Node) getFrom(ctx context.Context, base, path string) (io.ReadCloser, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, base+path, nil)
	if err != nil {
		return nil, err
	}
	if n.cfg.AdminToken != "" {
		req.Header.Set("Authorization", "Bearer "+n.cfg.AdminToken)
	}
	// Asked for explicitly, so decoded here (the transport decodes only
	// the gzip it asks for itself): a control plane that does not
	// compress answers as it is.
	req.Header.Set("Accept-Encoding", httpcomp.AcceptEncoding)
	resp, err := n.http.Do(req)
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
		resp.Body.Close()
		if resp.StatusCode == http.StatusNotFound {
			return nil, fmt.Errorf("%w: GET %s: %s", errNotFound, path, b)
		}
		return nil, fmt.Errorf("GET %s: %s: %s", path, resp.Status, b)
	}
	body, err := httpcomp.Decode(resp)
	if err != nil {
		return nil, fmt.Errorf("GET %s: %w", path, err)
	}
	return body, nil
}

var errNotFound = errors.New("not found")

// consumeLoop consumes the zone stream from the last consumed sequence,
// recreating the consumer when it fails and re-snapshotting when the
// stream lost what the node needs.
func (n *Node) consumeLoop(ctx context.Context, nc *nats.Conn) {
	backoff := retry.NewBackoff(n.cfg.RetryInterval/4, 8*n.cfg.RetryInterval)
	for ctx.Err() == nil {
		n.mu.Lock()
		start := n.lastSeq + 1
		n.mu.Unlock()
		err := n.consume(ctx, nc, start)
		if ctx.Err() != nil {
			return
		}
		n.mu.Lock()
		progressed := n.lastSeq >= start
		n.mu.Unlock()
		if progressed {
			// The backoff is for a consumer that cannot be had, not for
			// one recreated now and then over a long life.
			backoff.Reset()
		}
		if errors.Is(err, errLeaderElected) {
			// The new leader is there now: recreate the consumer at once.
			n.mu.Lock()
			from := n.lastSeq + 1
			n.mu.Unlock()
			n.log.Info("zone stream has a new leader; recreating the consumer", "from", from)
			continue
		}
		if errors.Is(err, errStreamGap) {
			n.log.Warn("zone stream lost events the node needs; re-loading the snapshot", "from", start)
			if err := n.loadSnapshot(ctx); err != nil {
				n.log.Warn("snapshot unavailable; serving what we have", "err", err)
				if !retry.Sleep(ctx, backoff.Next()) {
					return
				}
				continue
			}
			n.signalReport()
		} else {
			n.mu.Lock()
			from := n.lastSeq + 1
			n.mu.Unlock()
			n.log.Warn("zone stream consumer stopped; recreating it", "err", err, "from", from)
		}
		if !retry.Sleep(ctx, backoff.Next()) {
			return
		}
	}
}

// consume runs one ordered consumer from start until it fails, or until
// the node decides to recreate it. The ordered consumer is an R1 consumer
// on one NATS node, usually the zone stream's leader; when that node dies
// nats.go notices only after missed heartbeats, and the fleet tests saw
// its own reset never deliver again (the node applied nothing after the
// stream's leader was killed). So the node recreates the consumer itself:
// at once when the stream elects a leader (JetStream's advisory), and
// when the consumer has delivered nothing for StallCheck while the stream
// holds events the node has not applied.
func (n *Node) consume(ctx context.Context, nc *nats.Conn, start uint64) error {
	js, err := jetstream.New(nc)
	if err != nil {
		return err
	}
	elected := make(chan struct{}, 1)
	adv, err := nc.Subscribe(streamLeaderElected, func(*nats.Msg) {
		select {
		case elected <- struct{}{}:
		default:
		}
	})
	if err != nil {
		return fmt.Errorf("subscribe %s: %w", streamLeaderElected, err)
	}
	defer func() { _ = adv.Unsubscribe() }()
	cctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	cons, err := js.OrderedConsumer(cctx, event.StreamName, jetstream.OrderedConsumerConfig{
		FilterSubjects: []string{event.ZoneSubjectAll},
		DeliverPolicy:  jetstream.DeliverByStartSequencePolicy,
		OptStartSeq:    start,
	})
	cancel()
	if err != nil {
		return fmt.Errorf("create consumer: %w", err)
	}
	it, err := cons.Messages(jetstream.PullMaxMessages(1000), jetstream.PullExpiry(pullExpiry))
	if err != nil {
		return fmt.Errorf("consume: %w", err)
	}
	// Stopped in the background: Stop waits for the ordered consumer's
	// own reset, which holds its lock through a backoff of up to 10 s
	// while the stream cannot be reached (nats.go 1.55), and a region
	// back from a partition waited that long for its new consumer. The
	// reader below drops whatever the old one still delivers.
	defer func() { go it.Stop() }()
	stop := context.AfterFunc(ctx, it.Stop)
	defer stop()
	// Only this goroutine applies messages; the reader hands them over and
	// drops what arrives after consume has returned (a recreated consumer
	// delivers them again, in order).
	msgs, errc, quit := make(chan jetstream.Msg), make(chan error, 1), make(chan struct{})
	defer close(quit)
	go func() {
		for {
			msg, err := it.Next()
			if err != nil {
				errc <- err
				return
			}
			select {
			case msgs <- msg:
			case <-quit:
				return
			}
		}
	}()
	check := time.NewTicker(n.cfg.StallCheck)
	defer check.Stop()
	lastDelivery := time.Now()
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case err := <-errc:
			return err
		case <-elected:
			return errLeaderElected
		case <-check.C:
			if time.Since(lastDelivery) < n.cfg.StallCheck {
				continue
			}
			behind, last, err := n.streamAhead(ctx, js)
			if behind {
				return fmt.Errorf("%w: nothing delivered for %s, the stream is at %d", errConsumerStalled,
					time.Since(lastDelivery).Round(time.Millisecond), last)
			}
			// A stream that cannot be read (a region cut off from the
			// hub: no responders) is asked again sooner, so that the
			// consumer is recreated within a fraction of StallCheck of
			// the link's return rather than up to a whole one.
			if err != nil {
				check.Reset(n.cfg.StallCheck / 10)
			} else {
				check.Reset(n.cfg.StallCheck)
			}
		case msg := <-msgs:
			lastDelivery = time.Now()
			ok, err := n.applyMsg(msg)
			if err != nil {
				return err
			}
			switch {
			case ok && caughtUp(msg):
				n.signalReportNow()
			case ok:
				// The reporter sends at once, or coalesces within a burst.
				n.signalReport()
			}
		}
	}
}

// pullExpiry is how long each pull request of the zone stream consumer
// lasts. When one expires the client asks again, and for that round trip
// to the stream's leader no request is open: an event published then
// waits for the next request to arrive, one more round trip on its way to
// a far region. nats.go's default (30 s) left 1% of a far region's events
// (300 ms round trip) that much later; ten minutes makes it 0.05%. The
// consumer's idle heartbeats (5 s, nats.go's default for ordered
// consumers) still notice a silent server.
const pullExpiry = 10 * time.Minute

// caughtUp reports whether msg was the last the stream held for the
// consumer when it was delivered.
func caughtUp(msg jetstream.Msg) bool {
	md, err := msg.Metadata()
	return err == nil && md.NumPending == 0
}

// streamLeaderElected is JetStream's advisory of a new zone stream leader.
const streamLeaderElected = "$JS.EVENT.ADVISORY.STREAM.LEADER_ELECTED." + event.StreamName

var (
	errLeaderElected   = errors.New("the zone stream elected a leader")
	errConsumerStalled = errors.New("zone stream consumer stalled")
)

// streamAhead reports whether the zone stream holds events after the
// last one the node applied, and the stream's last sequence. A stream it
// cannot read (the error) is not ahead: the consumer is left alone.
func (n *Node) streamAhead(ctx context.Context, js jetstream.JetStream) (bool, uint64, error) {
	ictx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	st, err := js.Stream(ictx, event.StreamName)
	if err != nil {
		return false, 0, err
	}
	last := st.CachedInfo().State.LastSeq
	n.mu.Lock()
	applied := n.lastSeq
	n.mu.Unlock()
	return last > applied, last, nil
}

// applyMsg applies one message of the zone stream in order: it reports
// false for one already applied, and errStreamGap when the message is not
// the next one.
func (n *Node) applyMsg(msg jetstream.Msg) (bool, error) {
	md, err := msg.Metadata()
	if err != nil {
		return false, nil
	}
	seq := md.Sequence.Stream
	n.mu.Lock()
	last := n.lastSeq
	n.mu.Unlock()
	switch {
	case seq <= last:
		return false, nil // delivered again after a consumer reset
	case seq > last+1:
		return false, fmt.Errorf("%w: got %d after %d", errStreamGap, seq, last)
	}
	n.handle(msg.Subject(), msg.Data(), seq)
	n.mu.Lock()
	n.lastSeq = seq
	n.dirty = true
	n.sync.LagMessages, n.sync.LagSeconds = md.NumPending, max(time.Since(md.Timestamp).Seconds(), 0)
	n.mu.Unlock()
	return true, nil
}

// handle applies one stream event; a zone it cannot be applied to is
// marked stale and re-fetched by the resync loop.
func (n *Node) handle(subject string, data []byte, seq uint64) {
	ev, err := event.DecodeZoneEvent(data)
	if err != nil {
		if id, ok := event.ZoneIDFromSubject(subject); ok {
			n.log.Warn("undecodable zone event; re-fetching the zone", "zone", id, "seq", seq, "err", err)
			n.markStale(id, seq)
		}
		return
	}
	if n.skipUnserved(ev) {
		return
	}
	n.applyMu.Lock()
	res, err := n.store.Apply(ev)
	n.applyMu.Unlock()
	n.releaseDue(len(ev.Deletes) + len(ev.Upserts))
	switch {
	case res == Gap, res == UnknownZone, res == 0:
		n.log.Debug("zone needs a re-fetch", "zone", ev.ZoneID, "seq", seq, "result", res, "err", err)
		n.markStale(ev.ZoneID, seq)
	case err != nil:
		n.log.Error("zone event applied with problems; names of unservable record sets answer SERVFAIL", "zone", ev.ZoneID, "seq", seq, "err", err)
	}
}

// skipUnserved reports whether ev belongs to a zone on delegation sets of
// none of the names this node serves (Serves). Such zones are never
// loaded: a zone.created event says whose it is; an update of a zone the
// node does not know is fetched once (resyncZone) and, if not served,
// remembered by id only.
func (n *Node) skipUnserved(ev event.ZoneEvent) bool {
	if len(n.cfg.Serves) == 0 {
		return false
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	switch {
	case ev.Kind == event.ZoneCreated && !n.store.Serves(ev.NameServers):
		n.unserved[ev.ZoneID] = struct{}{}
		return true
	case ev.Kind == event.ZoneDeleted:
		if _, ok := n.unserved[ev.ZoneID]; ok {
			delete(n.unserved, ev.ZoneID)
			return true
		}
	default:
		_, ok := n.unserved[ev.ZoneID]
		return ok
	}
	return false
}

func (n *Node) markStale(zoneID string, seq uint64) {
	n.mu.Lock()
	s, ok := n.stale[zoneID]
	if !ok {
		s.first = seq
	}
	s.last = seq
	n.stale[zoneID] = s
	n.mu.Unlock()
	select {
	case n.resyncWake <- struct{}{}:
	default:
	}
}

// resyncLoop re-fetches stale zones; failures are retried every
// RetryInterval while the node keeps serving.
func (n *Node) resyncLoop(ctx context.Context) {
	tick := time.NewTicker(n.cfg.RetryInterval)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-n.resyncWake:
		case <-tick.C:
		}
		n.mu.Lock()
		ids := make([]string, 0, len(n.stale))
		for id := range n.stale {
			ids = append(ids, id)
		}
		n.mu.Unlock()
		healed, again := false, false
		for _, id := range ids {
			if ctx.Err() != nil {
				return
			}
			ok, err := n.resyncZone(ctx, id)
			if err != nil {
				n.log.Warn("zone re-fetch failed; will retry", "zone", id, "err", err)
				continue
			}
			healed = healed || ok
			again = again || !ok
		}
		if healed {
			n.signalReport()
		}
		if again {
			// Events newer than the fetch marked the zone meanwhile:
			// fetch it once more, now.
			select {
			case n.resyncWake <- struct{}{}:
			default:
			}
		}
	}
}

// resyncZone fetches one zone and installs it. It reports whether the
// zone stopped being stale.
func (n *Node) resyncZone(ctx context.Context, zoneID string) (bool, error) {
	// Every event consumed so far was committed before this fetch starts,
	// so the fetched zone contains it.
	n.mu.Lock()
	covered := n.lastSeq
	n.mu.Unlock()
	var z event.ZoneState
	gone := false
	body, err := n.get(ctx, "/v1/nameserver/zones/"+url.PathEscape(zoneID))
	switch {
	case errors.Is(err, errNotFound):
		gone = true
	case err != nil:
		return false, err
	default:
		err = json.NewDecoder(body).Decode(&z)
		body.Close()
		if err != nil {
			return false, fmt.Errorf("decode zone %s: %w", zoneID, err)
		}
		if z.ID != zoneID {
			return false, fmt.Errorf("asked for zone %s, got %q", zoneID, z.ID)
		}
	}
	n.applyMu.Lock()
	if !gone && !n.store.Serves(z.NameServers) {
		// Not this node's: remember it so that its events are skipped.
		n.mu.Lock()
		n.unserved[zoneID] = struct{}{}
		n.mu.Unlock()
		gone = true
	}
	if gone {
		n.store.RemoveZone(zoneID)
	} else if v, ok := n.store.Version(zoneID); !ok || v < z.Version {
		if err := n.store.ReplaceZone(z); err != nil {
			n.log.Error("zone installed with problems; names of unservable record sets answer SERVFAIL", "zone", zoneID, "err", err)
		}
	}
	n.applyMu.Unlock()
	n.releaseDue(len(z.RRSets))
	n.mu.Lock()
	defer n.mu.Unlock()
	n.dirty = true
	if s, ok := n.stale[zoneID]; ok && s.last <= covered {
		delete(n.stale, zoneID)
		return true, nil
	}
	return false, nil
}
