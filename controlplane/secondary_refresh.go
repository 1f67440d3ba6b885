package controlplane

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/netip"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/jackc/pgx/v5"
	"github.com/miekg/dns"
	"github.com/nats-io/nats.go"

	"github.com/waymark-dns/waymark/dnssec"
	"github.com/waymark-dns/waymark/event"
	"github.com/waymark-dns/waymark/xfrin"
	"github.com/waymark-dns/waymark/zonecfg"
)

// This file is the secondary zones' refresh leader (docs/transfers.md,
// "Secondary zones"). One API process at a time (DefaultSecondaryLockKey)
// keeps every secondary zone up to date with its primaries:
//
//   - it checks each zone's primaries on the zone's SOA timers (refresh
//     after a success, retry after a failure, RFC 1035 §3.3.13), at once
//     when a nameserver passes on a NOTIFY from a primary (RFC 1996,
//     event.SecondaryNotify) or the tenant asks for a refresh, and at
//     once for a zone it has not seen yet;
//   - it transfers what changed (xfrin: IXFR from the serial held, AXFR
//     when it holds nothing) and applies the difference as one change,
//     through the same transaction as a change batch, so the outbox, the
//     relay and INSYNC work as for any change;
//   - it publishes what the nameservers need to know of the zone
//     (zonecfg.Secondary: the primaries NOTIFY is accepted from, their
//     keys wrapped, and Expired) whenever Expired flips; the zone's
//     creation published it first (zone.go). A zone never transferred,
//     or past its SOA expire without a successful refresh, is Expired:
//     the nameservers answer SERVFAIL for it, as a secondary that is not
//     authoritative must.
//
// The content the leader holds (the primary's last version) is memory
// only; a new leader starts from the database (the zone's record sets at
// the serial recorded with them) and checks every zone once at start.

// SecondaryOptions configure RunSecondaries.
type SecondaryOptions struct {
	// Poll is how often the leader looks for new zones and refresh
	// requests in the database. Default 1 s.
	Poll time.Duration
	// Rescan is how often it lists every secondary zone again, to forget
	// deleted ones. Default 30 s.
	Rescan time.Duration
	// Timeout bounds each exchange with a primary. Default 10 s.
	Timeout time.Duration
	// Workers bounds the zones refreshed at once. Default 4.
	Workers int
	// NATS, if set, delivers the NOTIFYs the nameservers pass on
	// (event.SecondaryNotifySubject). Without it, NOTIFY waits for the
	// zone's refresh timer.
	NATS *nats.Conn
}

func (o SecondaryOptions) withDefaults() SecondaryOptions {
	if o.Poll <= 0 {
		o.Poll = time.Second
	}
	if o.Rescan <= 0 {
		o.Rescan = 30 * time.Second
	}
	if o.Timeout <= 0 {
		o.Timeout = 10 * time.Second
	}
	if o.Workers <= 0 {
		o.Workers = 4
	}
	return o
}

// defaultSecondaryTimers schedule a zone whose SOA the leader has not
// seen: retry soon, never expire (it is not being served yet anyway).
var defaultSecondaryTimers = xfrin.Timers{Refresh: time.Minute, Retry: 10 * time.Second, Expire: 1<<63 - 1}

// secZone is the leader's state of one secondary zone. Only the leader's
// loop touches it; a refresh works on a copy (refreshJob) and reports a
// refreshResult.
type secZone struct {
	id, tenant, name string
	// have is the primary's version last applied (nil: none known to
	// this leader); the next refresh asks IXFR from it.
	have   *xfrin.Zone
	timers xfrin.Timers
	lastOK time.Time // the last successful check (zero: never)
	next   time.Time // when to check next
	// published is the Expired last published (nil: never published).
	published *bool
	inFlight  bool
	again     bool // a NOTIFY or request arrived during the refresh
}

type refreshJob struct {
	id, tenant, name string
	have             *xfrin.Zone
	lastOK           time.Time
	timers           xfrin.Timers
	published        *bool
}

type refreshResult struct {
	id     string
	have   *xfrin.Zone // the version now applied (nil: unchanged from the job's)
	ok     bool
	at     time.Time
	timers xfrin.Timers
	// published is the Expired now published, nil if unchanged.
	published *bool
	gone      bool // the zone no longer exists
}

// RunSecondaries refreshes the secondary zones until ctx ends; run it on
// one leader (RunLeader with DefaultSecondaryLockKey).
func (s *Service) RunSecondaries(ctx context.Context, opt SecondaryOptions) error {
	opt = opt.withDefaults()
	log := s.cfg.Logger.With("component", "secondary")
	notified := make(chan string, 1024)
	if opt.NATS != nil {
		sub, err := opt.NATS.Subscribe(event.SecondaryNotifySubject, func(m *nats.Msg) {
			n, err := event.DecodeSecondaryNotify(m.Data)
			if err != nil {
				log.Debug("ignoring a malformed secondary notify", "err", err)
				return
			}
			select {
			case notified <- n.ZoneID:
			default: // the zone's timer still refreshes it
			}
		})
		if err != nil {
			return fmt.Errorf("secondary: subscribe: %w", err)
		}
		defer func() { _ = sub.Unsubscribe() }()
	}

	zones := map[string]*secZone{}
	results := make(chan refreshResult, opt.Workers)
	var wg sync.WaitGroup
	defer wg.Wait()
	inFlight := 0
	lastRescan := time.Time{}
	poll := time.NewTicker(opt.Poll)
	defer poll.Stop()
	due := time.NewTimer(0)
	defer due.Stop()

	refreshNow := func(id string) bool {
		z := zones[id]
		if z == nil {
			return false
		}
		if z.inFlight {
			z.again = true
		} else {
			z.next = s.now()
		}
		return true
	}
	scan := func() {
		now := s.now()
		full := now.Sub(lastRescan) >= opt.Rescan
		found, requested, err := s.listSecondaries(ctx, full)
		if err != nil {
			if ctx.Err() == nil {
				log.Warn("cannot list secondary zones", "err", err)
			}
			return
		}
		if full {
			lastRescan = now
			seen := map[string]bool{}
			for _, f := range found {
				seen[f.id] = true
			}
			for id, z := range zones {
				if !seen[id] && !z.inFlight {
					delete(zones, id)
				}
			}
		}
		for _, f := range found {
			if zones[f.id] == nil {
				f.next, f.timers = now, defaultSecondaryTimers
				zones[f.id] = f
			}
		}
		for _, id := range requested {
			refreshNow(id)
		}
	}
	scan()
	for {
		now := s.now()
		var earliest time.Time
		for _, z := range zones {
			if z.inFlight {
				continue
			}
			if !z.next.After(now) && inFlight < opt.Workers {
				z.inFlight, z.again = true, false
				inFlight++
				job := refreshJob{id: z.id, tenant: z.tenant, name: z.name, have: z.have,
					lastOK: z.lastOK, timers: z.timers, published: z.published}
				wg.Add(1)
				go func() {
					defer wg.Done()
					results <- s.refreshSecondary(ctx, job, opt, log)
				}()
				continue
			}
			if earliest.IsZero() || z.next.Before(earliest) {
				earliest = z.next
			}
		}
		if !earliest.IsZero() {
			due.Reset(max(earliest.Sub(now), time.Millisecond))
		}
		select {
		case <-ctx.Done():
			return nil
		case id := <-notified:
			if !refreshNow(id) {
				scan() // a zone created since the last poll
				refreshNow(id)
			}
		case <-poll.C:
			scan()
		case <-due.C:
		case r := <-results:
			inFlight--
			z := zones[r.id]
			if z == nil {
				continue
			}
			z.inFlight = false
			if r.gone {
				delete(zones, r.id)
				continue
			}
			if r.have != nil {
				z.have = r.have
			}
			if r.published != nil {
				z.published = r.published
			}
			z.timers = r.timers
			if r.ok {
				z.lastOK = r.at
				z.next = r.at.Add(z.timers.Refresh)
			} else {
				z.next = r.at.Add(z.timers.Retry)
				if !z.lastOK.IsZero() {
					// Check again when the zone would expire, so that
					// it stops being served on time.
					z.next = minTime(z.next, z.lastOK.Add(z.timers.Expire))
				}
			}
			if z.again {
				z.next = r.at
			}
		}
	}
}

func minTime(a, b time.Time) time.Time {
	if b.Before(a) {
		return b
	}
	return a
}

// listSecondaries returns the secondary zones: all of them when full,
// otherwise only the ones never transferred (new zones among them), and the ids of
// zones whose refresh was requested (RequestSecondaryRefresh), clearing
// the requests.
func (s *Service) listSecondaries(ctx context.Context, full bool) (found []*secZone, requested []string, err error) {
	rows, err := s.pool.Query(ctx, `SELECT id, tenant_id, name, secondary_success_at,
	                CASE WHEN secondary_state IS NOT NULL THEN COALESCE((secondary_state->>'expired')::boolean, false) END
	         FROM hosted_zone WHERE secondary IS NOT NULL AND ($1 OR secondary_state IS NULL OR secondary_serial IS NULL)`, full)
	if err != nil {
		return nil, nil, err
	}
	found, err = pgx.CollectRows(rows, func(row pgx.CollectableRow) (*secZone, error) {
		z := &secZone{}
		var ok *time.Time
		var expired *bool
		if err := row.Scan(&z.id, &z.tenant, &z.name, &ok, &expired); err != nil {
			return nil, err
		}
		if ok != nil {
			z.lastOK = *ok
		}
		z.published = expired
		return z, nil
	})
	if err != nil {
		return nil, nil, err
	}
	rows, err = s.pool.Query(ctx, `UPDATE hosted_zone SET secondary_refresh_requested = NULL
	         WHERE secondary IS NOT NULL AND secondary_refresh_requested IS NOT NULL RETURNING id`)
	if err != nil {
		return nil, nil, err
	}
	requested, err = pgx.CollectRows(rows, pgx.RowTo[string])
	return found, requested, err
}

// secondaryZoneRow is what a refresh reads of its zone.
type secondaryZoneRow struct {
	cfg       *SecondaryConfig
	serial    *int64
	primaries []xfrin.Primary
	// state is what the nameservers are to know, keys freshly wrapped;
	// its Expired is set by the refresh.
	state *zonecfg.Secondary
}

// refreshSecondary checks one zone's primaries and applies what changed.
func (s *Service) refreshSecondary(ctx context.Context, j refreshJob, opt SecondaryOptions, log interface {
	Info(string, ...any)
	Warn(string, ...any)
}) refreshResult {
	res := refreshResult{id: j.id, timers: j.timers}
	row, err := s.readSecondary(ctx, j)
	res.at = s.now()
	if errors.Is(err, pgx.ErrNoRows) {
		res.gone = true
		return res
	}
	if err != nil {
		s.recordSecondaryError(ctx, j.id, err.Error())
		return res
	}
	have := j.have
	if have == nil && row.serial != nil {
		// A new leader: the record sets stored with the serial are the
		// version to ask the difference from, and their SOA has the
		// timers.
		if stored, err := s.secondaryContent(ctx, j.id, j.name); err == nil && stored.SOA != nil {
			res.timers = xfrin.TimersOf(stored.SOA)
			if int64(stored.SOA.Serial) == *row.serial {
				have = stored
				res.have = stored
			}
		}
	}
	var fetched xfrin.Result
	var ferrs []string
	for _, p := range row.primaries {
		fetched, err = xfrin.Fetch(ctx, p, j.name, have, opt.Timeout)
		if errors.Is(err, xfrin.ErrMalformed) && have != nil {
			// An IXFR that does not apply to what is held: start over.
			fetched, err = xfrin.Fetch(ctx, p, j.name, nil, opt.Timeout)
		}
		if err == nil {
			break
		}
		ferrs = append(ferrs, fmt.Sprintf("%s: %v", p.Addr, err))
	}
	res.at = s.now()
	if err != nil {
		msg := strings.Join(ferrs, "; ")
		expired := j.lastOK.IsZero() || res.at.Sub(j.lastOK) >= res.timers.Expire
		switch {
		case j.lastOK.IsZero():
			msg = "not transferred yet, so not served: " + msg
		case expired:
			msg = fmt.Sprintf("past the SOA expire (%s) without a successful refresh since %s, so not served: %s",
				res.timers.Expire, j.lastOK.Format(time.RFC3339), msg)
		}
		if j.published == nil || *j.published != expired {
			row.state.Expired = expired
			if err := s.applySecondary(ctx, j, nil, nil, &secondaryWrite{errText: msg, state: row.state}); err != nil {
				log.Warn("cannot publish a secondary zone's state", "zone", j.id, "err", err)
				return res
			}
			res.published = &expired
			if expired && !j.lastOK.IsZero() {
				log.Warn("secondary zone expired: no longer served", "zone", j.id, "err", msg)
			}
			return res
		}
		s.recordSecondaryError(ctx, j.id, msg)
		return res
	}
	newZone := fetched.Zone
	res.timers = xfrin.TimersOf(newZone.SOA)
	sw := &secondaryWrite{serial: int64(newZone.SOA.Serial), successAt: &res.at}
	if j.published == nil || *j.published {
		row.state.Expired = false
		sw.state = row.state
	}
	if have != nil && newZone == have && sw.state == nil {
		// Up to date: the status alone.
		s.recordSecondarySuccess(ctx, j.id, res.at)
		res.ok, res.have = true, have
		return res
	}
	base := have
	if base == nil {
		// What the database holds (at first Waymark's own apex SOA and NS).
		if base, err = s.secondaryContent(ctx, j.id, j.name); err != nil {
			s.recordSecondaryError(ctx, j.id, err.Error())
			return res
		}
	}
	deletes, upserts := xfrin.Diff(base, newZone)
	sw.errText = skippedText(&upserts)
	if len(deletes) == 0 && len(upserts) == 0 && sw.state == nil {
		var b pgx.Batch
		sw.queue(&b, j.id)
		if err := s.pool.SendBatch(ctx, &b).Close(); err != nil {
			s.recordSecondaryError(ctx, j.id, err.Error())
			return res
		}
		res.ok, res.have = true, newZone
		return res
	}
	if err := s.applySecondary(ctx, j, deletes, upserts, sw); err != nil {
		s.recordSecondaryError(ctx, j.id, err.Error())
		return res
	}
	if sw.state != nil {
		f := false
		res.published = &f
	}
	res.ok, res.have = true, newZone
	kind := "AXFR"
	if fetched.Incremental {
		kind = "IXFR"
	}
	log.Info("secondary zone refreshed", "zone", j.id, "serial", newZone.SOA.Serial, "transfer", kind,
		"bytes", fetched.Bytes, "deletes", len(deletes), "upserts", len(upserts))
	return res
}

// readSecondary reads a zone's configuration and opens its keys.
func (s *Service) readSecondary(ctx context.Context, j refreshJob) (*secondaryZoneRow, error) {
	tx, err := s.pool.Begin(ctx)
	if err != nil {
		return nil, err
	}
	defer func() { _ = tx.Rollback(context.WithoutCancel(ctx)) }()
	var raw []byte
	row := &secondaryZoneRow{}
	if err := tx.QueryRow(ctx, `SELECT secondary, secondary_serial FROM hosted_zone
	         WHERE id = $1 AND tenant_id = $2 AND secondary IS NOT NULL`, j.id, j.tenant).Scan(&raw, &row.serial); err != nil {
		return nil, err
	}
	if row.cfg, err = scanSecondary(raw); err != nil {
		return nil, err
	}
	for _, p := range row.cfg.Primaries {
		alg, secret, err := s.tsigSecret(ctx, tx, j.tenant, p.TSIGKey)
		if err != nil {
			return nil, fmt.Errorf("primary %s: %w", p.Address, err)
		}
		row.primaries = append(row.primaries, xfrin.Primary{Addr: p.Address, KeyName: p.TSIGKey,
			Algorithm: alg, Secret: base64.StdEncoding.EncodeToString(secret)})
		clear(secret)
	}
	row.state, err = s.secondaryState(j.id, row.cfg, func(name string) (string, []byte, error) {
		return s.tsigSecret(ctx, tx, j.tenant, name)
	})
	return row, err
}

// sealedTSIGKey is a tsig_key row's key material.
type sealedTSIGKey struct {
	algorithm string
	sealed    []byte
}

// secondaryState is what the nameservers are to know of secondary zone
// id configured as cfg: its primaries' addresses and their keys, wrapped
// under the fleet key; open returns a key's algorithm and secret.
func (s *Service) secondaryState(id string, cfg *SecondaryConfig, open func(name string) (string, []byte, error)) (*zonecfg.Secondary, error) {
	state := &zonecfg.Secondary{}
	for _, p := range cfg.Primaries {
		ap, _ := netip.ParseAddrPort(p.Address)
		state.Primaries = append(state.Primaries, zonecfg.NotifySource{Address: ap.Addr().String(), Key: p.TSIGKey})
	}
	for _, name := range secondaryKeys(cfg) {
		alg, secret, err := open(name)
		if err != nil {
			return nil, fmt.Errorf("tsig key %s: %w", name, err)
		}
		w, err := dnssec.Seal(s.fleetKey(), secret, zonecfg.TSIGKeyAD(id, name), s.cfg.Rand)
		clear(secret)
		if err != nil {
			return nil, err
		}
		state.Keys = append(state.Keys, zonecfg.TSIGKey{Name: name, Algorithm: alg, Wrapped: w})
	}
	return state, nil
}

// secondaryContent reads the zone's record sets as a transferred zone.
func (s *Service) secondaryContent(ctx context.Context, id, name string) (*xfrin.Zone, error) {
	rows, err := s.pool.Query(ctx, `SELECT `+rrsetColumns+` FROM rrset WHERE zone_id = $1`, id)
	if err != nil {
		return nil, err
	}
	sets, err := pgx.CollectRows(rows, scanStoredRRSet)
	if err != nil {
		return nil, err
	}
	z := &xfrin.Zone{Name: name, RRSets: map[xfrin.Key][]dns.RR{}}
	for _, rs := range sets {
		rrs, err := rs.RRSet.Parse()
		if err != nil {
			return nil, fmt.Errorf("zone %s: record set %s: %w", id, rs.Key(), err)
		}
		for _, rr := range rrs {
			if soa, ok := rr.(*dns.SOA); ok && rs.Name == name {
				z.SOA = soa
				continue
			}
			k := xfrin.Key{Name: rs.Name, Type: rr.Header().Rrtype}
			z.RRSets[k] = append(z.RRSets[k], rr)
		}
	}
	return z, nil
}

// secondaryWrite is what a refresh writes besides the record sets.
type secondaryWrite struct {
	serial    int64      // 0: unchanged
	successAt *time.Time // nil: unchanged
	errText   string
	// state, when set, is stored and sent to the nameservers.
	state *zonecfg.Secondary
}

// queue queues the zone's status columns on b.
func (sw *secondaryWrite) queue(b *pgx.Batch, zoneID string) {
	var state []byte
	if sw.state != nil {
		state, _ = json.Marshal(sw.state)
	}
	var serial *int64
	if sw.serial != 0 {
		serial = &sw.serial
	}
	b.Queue(`UPDATE hosted_zone SET secondary_serial = COALESCE($2, secondary_serial),
	             secondary_success_at = COALESCE($3, secondary_success_at),
	             secondary_error = $4, secondary_state = COALESCE($5, secondary_state)
	         WHERE id = $1`, zoneID, serial, sw.successAt, truncateError(sw.errText), state)
}

// applySecondary applies a refresh as one change: deletes and upserts
// (either may be empty, for a change of state alone) with the status.
func (s *Service) applySecondary(ctx context.Context, j refreshJob, deletes []zonecfg.Key, upserts []zonecfg.RRSet, sw *secondaryWrite) error {
	changes := make([]preparedChange, 0, len(deletes)+len(upserts))
	for _, k := range deletes {
		changes = append(changes, preparedChange{action: actionRemove, ok: true,
			set: storedRRSet{RRSet: zonecfg.RRSet{Name: k.Name, Type: k.Type}}})
	}
	for _, rs := range upserts {
		p, _ := prepareChange(RRSetChange{Action: ActionUpsert, RRSet: rs}) // skippedText kept the valid ones
		changes = append(changes, p)
	}
	comment := "secondary zone: state"
	if sw.serial != 0 {
		comment = fmt.Sprintf("secondary zone: serial %d from the primary", sw.serial)
	}
	_, err := s.applyChanges(ctx, j.tenant, j.id, comment, changes, nil, batchOptions{secondary: sw})
	return err
}

// skippedText removes from upserts the record sets Waymark cannot serve
// (types it does not support, such as a signed primary's RRSIG and NSEC,
// or values it refuses) and says which, for the zone's status.
func skippedText(upserts *[]zonecfg.RRSet) string {
	kept := (*upserts)[:0]
	var skipped []string
	for _, rs := range *upserts {
		chars := 0
		for _, v := range rs.Records {
			chars += utf8.RuneCountInString(v)
		}
		_, msg := prepareChange(RRSetChange{Action: ActionUpsert, RRSet: rs})
		if msg == "" && chars > MaxBatchChars {
			msg = fmt.Sprintf("more than %d characters of values", MaxBatchChars)
		}
		if msg != "" {
			skipped = append(skipped, rs.Name+" "+rs.Type+": "+msg)
			continue
		}
		kept = append(kept, rs)
	}
	*upserts = kept
	n := len(skipped)
	if n == 0 {
		return ""
	}
	const shown = 5
	more := ""
	if n > shown {
		more = fmt.Sprintf(" and %d more", n-shown)
		skipped = skipped[:shown]
	}
	return fmt.Sprintf("%d record sets from the primary are not served: %s%s", n, strings.Join(skipped, "; "), more)
}

// recordSecondaryError records a failed refresh that changes nothing the
// nameservers know.
func (s *Service) recordSecondaryError(ctx context.Context, id, msg string) {
	_, _ = s.pool.Exec(ctx, `UPDATE hosted_zone SET secondary_error = $2 WHERE id = $1`, id, truncateError(msg))
}

// recordSecondarySuccess records a check that found the zone up to date.
func (s *Service) recordSecondarySuccess(ctx context.Context, id string, at time.Time) {
	_, _ = s.pool.Exec(ctx, `UPDATE hosted_zone SET secondary_success_at = $2, secondary_error = '' WHERE id = $1`, id, at)
}

// truncateError bounds a stored error message.
func truncateError(msg string) string {
	const maxLen = 1000
	if len(msg) <= maxLen {
		return msg
	}
	for i := maxLen; i > 0; i-- {
		if utf8.RuneStart(msg[i]) {
			return msg[:i] + "…"
		}
	}
	return ""
}

// RequestSecondaryRefresh asks the refresh leader to check one of the
// tenant's secondary zones now (within its poll interval), as a NOTIFY
// from a primary would.
func (s *Service) RequestSecondaryRefresh(ctx context.Context, tenantID, zoneID string) (Zone, error) {
	id, ok := cleanID(zoneID)
	if !ok {
		return Zone{}, errNoSuchZone(displayID(zoneID))
	}
	tag, err := s.pool.Exec(ctx, `UPDATE hosted_zone SET secondary_refresh_requested = $3
	         WHERE id = $1 AND tenant_id = $2 AND secondary IS NOT NULL`, id, tenantID, s.now())
	if err != nil {
		return Zone{}, err
	}
	z, err := s.GetZone(ctx, tenantID, id)
	if err != nil {
		return Zone{}, err
	}
	if tag.RowsAffected() == 0 {
		return Zone{}, Errorf(CodeInvalidInput, "The hosted zone %s is not a secondary zone.", id)
	}
	return z, nil
}
