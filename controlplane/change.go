package controlplane

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/miekg/dns"
	"github.com/waymark-dns/waymark/event"
	"github.com/waymark-dns/waymark/zonecfg"
)

// Limits on one change batch (ROUTE53.md §4.2).
const (
	// MaxBatchRecords is the number of record values a batch may carry,
	// an UPSERT's counting twice.
	MaxBatchRecords = 1000
	// MaxBatchChars is the number of characters of record values a batch
	// may carry, an UPSERT's counting twice.
	MaxBatchChars = 32000
	// MaxSetIdentifierLength bounds a record set's set identifier.
	MaxSetIdentifierLength = 128
)

// Action is what a change does to its record set. Callers must spell it
// exactly, in uppercase, as Route 53's XSD requires.
type Action string

// The change actions.
const (
	// ActionCreate creates a record set that must not exist yet.
	ActionCreate Action = "CREATE"
	// ActionDelete deletes a record set whose TTL and values must match
	// the live ones exactly (a compare-and-swap).
	ActionDelete Action = "DELETE"
	// ActionUpsert creates a record set or replaces it whole.
	ActionUpsert Action = "UPSERT"
)

// RRSetChange is one change of a batch. The record set is raw caller input:
// its name and type are canonicalised and its values validated by
// ChangeRRSets.
type RRSetChange struct {
	Action Action
	RRSet  zonecfg.RRSet
}

// ChangeBatch is a list of changes applied to one zone atomically.
type ChangeBatch struct {
	Comment string
	Changes []RRSetChange
}

// ChangeRRSets applies a change batch to a zone in one transaction and
// returns the change that publishes it.
//
// The changes are checked in order against a working copy of the zone, as
// Route 53 does (ROUTE53.md §4.1): a DELETE followed by a CREATE of the same
// record set is valid, deleting the same set twice is not. If any change
// fails, nothing is applied and the *Error (CodeInvalidChangeBatch) has one
// Detail per failing change. Batch-wide limits fail without details.
//
// Concurrent batches on one zone are serialised by a row lock on the zone;
// batches on different zones do not wait for each other.
func (s *Service) ChangeRRSets(ctx context.Context, tenantID, zoneID string, b ChangeBatch) (ChangeInfo, error) {
	id, ok := cleanID(zoneID)
	if !ok {
		return ChangeInfo{}, errNoSuchZone(displayID(zoneID))
	}
	if err := checkText("Comment", b.Comment, 0, MaxCommentLength); err != nil {
		return ChangeInfo{}, err
	}
	if len(b.Changes) == 0 {
		return ChangeInfo{}, Errorf(CodeInvalidInput, "A change batch must contain at least one change.")
	}
	if err := checkBatchLimits(b.Changes); err != nil {
		return ChangeInfo{}, err
	}
	changes := make([]preparedChange, len(b.Changes))
	var details []Detail
	for i, c := range b.Changes {
		var msg string
		changes[i], msg = prepareChange(c)
		if msg != "" {
			details = append(details, indexDetail(i, msg))
		}
	}
	return s.applyChanges(ctx, tenantID, id, b.Comment, changes, details, batchOptions{})
}

// GetChange returns the status of one of the tenant's changes.
func (s *Service) GetChange(ctx context.Context, tenantID, changeID string) (ChangeInfo, error) {
	return s.changeRow(ctx, s.pool, tenantID, changeID)
}

// checkBatchLimits applies Route 53's per-request limits: at most 1,000
// record values and 32,000 characters of values, UPSERTs counting twice.
func checkBatchLimits(changes []RRSetChange) error {
	if len(changes) > MaxBatchRecords {
		return Errorf(CodeInvalidChangeBatch, "Number of records limit of %d exceeded.", MaxBatchRecords)
	}
	records, chars := 0, 0
	for _, c := range changes {
		w := 1
		if c.Action == ActionUpsert {
			w = 2
		}
		if len(c.RRSet.Records) > MaxBatchRecords {
			return Errorf(CodeInvalidChangeBatch, "Number of records limit of %d exceeded.", MaxBatchRecords)
		}
		records += w * len(c.RRSet.Records)
		if records > MaxBatchRecords {
			return Errorf(CodeInvalidChangeBatch, "Number of records limit of %d exceeded.", MaxBatchRecords)
		}
		for _, v := range c.RRSet.Records {
			chars += w * utf8.RuneCountInString(v)
		}
		if chars > MaxBatchChars {
			return Errorf(CodeInvalidChangeBatch, "Number of characters limit of %d exceeded.", MaxBatchChars)
		}
	}
	return nil
}

// preparedChange is a change whose zone-independent checks are done: name
// and type canonical, values parsed. ok is false if they failed.
type preparedChange struct {
	action Action
	set    storedRRSet
	ok     bool
}

// prepareChange canonicalises and validates one change on its own, without
// the zone, and returns a Route 53-style message if it is invalid.
func prepareChange(c RRSetChange) (preparedChange, string) {
	p := preparedChange{action: c.Action}
	switch c.Action {
	case ActionCreate, ActionDelete, ActionUpsert:
	default:
		return p, fmt.Sprintf("Invalid action %q: expected one of [CREATE, DELETE, UPSERT]", truncate(string(c.Action)))
	}
	name, err := zonecfg.CanonicalName(c.RRSet.Name)
	if err != nil {
		return p, fmt.Sprintf("Invalid name: %v", err)
	}
	typ, _, err := zonecfg.ParseType(c.RRSet.Type)
	if err != nil {
		return p, fmt.Sprintf("Invalid type: %v", err)
	}
	rs := c.RRSet
	rs.Name, rs.Type = name, typ
	if rs.SetIdentifier != "" {
		if err := checkText("SetIdentifier", rs.SetIdentifier, 1, MaxSetIdentifierLength); err != nil {
			return p, err.(*Error).Message
		}
		if typ == "SOA" || typ == "NS" || typ == "DS" {
			return p, fmt.Sprintf("RRSet of type %s with DNS name %s cannot have a SetIdentifier: %s records use simple routing only.", typ, name, typ)
		}
	}
	if rs.TTL > zonecfg.MaxTTL {
		return p, fmt.Sprintf("Invalid TTL %d: must be between 0 and %d.", rs.TTL, zonecfg.MaxTTL)
	}
	if msg := prepareRouting(&rs, c.Action); msg != "" {
		return p, msg
	}
	for _, v := range rs.Records {
		if !utf8.ValidString(v) {
			return p, "Invalid Resource Record: values must be valid UTF-8; use \\DDD escapes for other bytes."
		}
	}
	rrs, err := rs.Parse()
	if err != nil {
		return p, fmt.Sprintf("Invalid Resource Record: %v", err)
	}
	if rs.Alias != nil {
		rs.Records = []string{}
	}
	rdata := make([]string, len(rrs))
	for i, rr := range rrs {
		rdata[i] = zonecfg.RData(rr)
	}
	p.set = storedRRSet{RRSet: rs, RData: rdata}
	p.ok = true
	return p, ""
}

// batchOptions adjust applyChanges for callers other than ChangeRRSets.
type batchOptions struct {
	// keepSOASerial makes an UPSERT of the apex SOA keep the live serial
	// (zone-file import: the file's serial means nothing here).
	keepSOASerial bool
	// lockTimeout bounds the wait for the zone's lock; zero means
	// zoneLockTimeout.
	lockTimeout time.Duration
}

// zoneLockTimeout is how long a batch waits for another batch on the same
// zone before it gives up with PriorRequestNotComplete, Route 53's answer
// to overlapping batches, which the AWS SDKs retry with backoff. Batches
// take milliseconds; only a large import holds a zone for longer.
const zoneLockTimeout = 10 * time.Second

// applyChanges checks prepared changes against the zone and, if they all
// pass, applies them in one transaction. details holds the failures of
// prepareChange, by index; changes that failed there are skipped here.
func (s *Service) applyChanges(ctx context.Context, tenantID, zoneID, comment string,
	changes []preparedChange, details []Detail, opt batchOptions) (ChangeInfo, error) {
	names := make([]string, 0, len(changes))
	seen := make(map[string]bool, len(changes))
	for _, c := range changes {
		if c.ok && !seen[c.set.Name] {
			seen[c.set.Name] = true
			names = append(names, c.set.Name)
		}
	}
	// Two round trips in all. The first carries BEGIN, the zone row lock
	// and (with a snapshot taken after the lock) every record set at the
	// names the batch touches, which is all that CREATE/DELETE checks and
	// CNAME exclusivity need. The second carries every write, the change
	// and outbox rows, and COMMIT.
	var zoneName string
	var version int64
	var count int
	var quota *int32
	var found bool
	var loaded []storedRRSet
	lockTimeout := opt.lockTimeout
	if lockTimeout <= 0 {
		lockTimeout = zoneLockTimeout
	}
	read := func(b *pgx.Batch) {
		b.Queue(`SELECT set_config('lock_timeout', $1, true)`, fmt.Sprintf("%dms", lockTimeout.Milliseconds()))
		b.Queue(`SELECT z.name, z.version, z.rrset_count, t.record_quota
		         FROM hosted_zone z JOIN tenant t ON t.id = z.tenant_id
		         WHERE z.id = $1 AND z.tenant_id = $2 FOR NO KEY UPDATE OF z`, zoneID, tenantID).
			QueryRow(func(row pgx.Row) error {
				err := row.Scan(&zoneName, &version, &count, &quota)
				if errors.Is(err, pgx.ErrNoRows) {
					return nil
				}
				found = err == nil
				return err
			})
		queueLoadRRSets(b, tenantID, zoneID, names, &loaded)
	}
	var info ChangeInfo
	write := func(q querier, wb *pgx.Batch) error {
		if !found {
			return errNoSuchZone(zoneID)
		}
		wc := newWorkingCopy(zoneName, loaded)
		for _, n := range names {
			wc.loaded[n] = true
		}
		for i, c := range changes {
			if !c.ok {
				continue
			}
			if msg := wc.apply(c, opt); msg != "" {
				details = append(details, indexDetail(i, msg))
			} else {
				wc.changeIndex[c.set.Key()] = i
			}
		}
		if len(details) > 0 {
			return changeBatchError(details)
		}
		// Aliases and references reach beyond the names the batch
		// touches: extra round trips, only for batches that need them.
		if wc.hasAliasWork() {
			ad, err := s.checkAliases(ctx, q, tenantID, zoneID, wc)
			if err != nil {
				return err
			}
			if len(ad) > 0 {
				return changeBatchError(ad)
			}
		}
		deletes, upserts, delta := wc.result()
		colls, err := routingRefs(ctx, q, tenantID, changes, upserts)
		if err != nil {
			return err
		}
		limit := s.cfg.DefaultRecordQuota
		if quota != nil {
			limit = int(*quota)
		}
		if newCount := count + delta; delta > 0 && newCount > limit {
			return Errorf(CodeTooManyRecords,
				"The hosted zone would hold %d record sets; the limit is %d.", newCount, limit)
		}
		// A change is one event, unless it is too large for one message
		// (an import, or a batch of 1,000 sets with long names): then
		// consecutive events, one version each, all in this transaction.
		// The change row goes with the last one, so the change is INSYNC
		// once all of them are applied.
		chunks := splitEvent(deletes, upserts)
		wb.Queue(`UPDATE hosted_zone SET version = $2, rrset_count = rrset_count + $3 WHERE id = $1`,
			zoneID, version+int64(len(chunks)), delta)
		for i, ch := range chunks {
			v := version + int64(i) + 1
			queueDeletes(wb, zoneID, ch.deletes)
			queueUpserts(wb, zoneID, v, ch.upserts)
			ev := event.ZoneEvent{
				Kind: event.ZoneUpdated, ZoneID: zoneID, ZoneName: zoneName,
				FromVersion: v - 1, ToVersion: v,
				Deletes: ch.deletes, Upserts: eventRRSets(ch.upserts),
				Continued: i < len(chunks)-1,
			}
			if i == 0 {
				ev.CIDRCollections = colls
			}
			if i < len(chunks)-1 {
				if err := s.queueEvent(wb, tenantID, ev); err != nil {
					return err
				}
				continue
			}
			var err error
			if info, err = s.queueChange(wb, tenantID, comment, ev); err != nil {
				return err
			}
		}
		return nil
	}
	if err := s.txInTwoTripsQ(ctx, read, write); err != nil {
		var pe *pgconn.PgError
		// lock_not_available, or a deadlock between two batches whose
		// aliases point at each other's zones: both retryable.
		if errors.As(err, &pe) && (pe.Code == "55P03" || pe.Code == "40P01") {
			return ChangeInfo{}, Errorf(CodePriorRequestNotComplete,
				"The request was rejected because a prior request for this hosted zone was still being processed.")
		}
		return ChangeInfo{}, err
	}
	s.wakeRelay()
	return info, nil
}

// changeBatchError builds the InvalidChangeBatch error: details in change
// order and, as Route 53 sends it, every message in one bracketed list.
func changeBatchError(details []Detail) *Error {
	slices.SortStableFunc(details, func(a, b Detail) int {
		ai, bi := -1, -1
		if a.Index != nil {
			ai = *a.Index
		}
		if b.Index != nil {
			bi = *b.Index
		}
		return ai - bi
	})
	msgs := make([]string, len(details))
	for i, d := range details {
		msgs[i] = d.Message
	}
	return &Error{Code: CodeInvalidChangeBatch, Message: "[" + strings.Join(msgs, ", ") + "]", Details: details}
}

func indexDetail(i int, msg string) Detail {
	return Detail{Index: &i, Message: msg}
}

// workingCopy is the part of a zone a batch touches, as the batch's changes
// see it one after the other.
type workingCopy struct {
	zone    string
	byName  map[string]map[zonecfg.Key]*storedRRSet
	orig    map[zonecfg.Key]bool
	touched []zonecfg.Key
	isTouch map[zonecfg.Key]bool
	// loaded holds the names whose record sets were all loaded: for them
	// the working copy is authoritative.
	loaded map[string]bool
	// changeIndex is the index of the last change that touched a key.
	changeIndex map[zonecfg.Key]int
}

// loadedName reports whether every record set at name is in the copy.
func (wc *workingCopy) loadedName(name string) bool { return wc.loaded[name] }

// hasAliasWork reports whether the batch may break an alias rule: it
// touches an alias, or it removes a record set (which an alias may
// target).
func (wc *workingCopy) hasAliasWork() bool {
	for _, k := range wc.touched {
		cur := wc.get(k)
		if cur == nil || cur.Alias != nil {
			return true
		}
	}
	return false
}

func newWorkingCopy(zone string, loaded []storedRRSet) *workingCopy {
	wc := &workingCopy{
		zone:    zone,
		byName:  make(map[string]map[zonecfg.Key]*storedRRSet),
		orig:    make(map[zonecfg.Key]bool, len(loaded)),
		isTouch: make(map[zonecfg.Key]bool),
		loaded:  make(map[string]bool),

		changeIndex: make(map[zonecfg.Key]int),
	}
	for i := range loaded {
		wc.put(&loaded[i])
		wc.orig[loaded[i].Key()] = true
	}
	return wc
}

func (wc *workingCopy) get(k zonecfg.Key) *storedRRSet { return wc.byName[k.Name][k] }

func (wc *workingCopy) put(rs *storedRRSet) {
	m := wc.byName[rs.Name]
	if m == nil {
		m = make(map[zonecfg.Key]*storedRRSet)
		wc.byName[rs.Name] = m
	}
	m[rs.Key()] = rs
}

func (wc *workingCopy) touch(k zonecfg.Key) {
	if !wc.isTouch[k] {
		wc.isTouch[k] = true
		wc.touched = append(wc.touched, k)
	}
}

// apply checks one change against the working copy and applies it there.
// It returns the reason the change is refused, or "".
func (wc *workingCopy) apply(c preparedChange, opt batchOptions) string {
	rs := c.set
	k := rs.Key()
	name, zone := k.Name, wc.zone
	if !zonecfg.IsSubdomain(name, zone) {
		return fmt.Sprintf("RRSet with DNS name %s is not permitted in zone %s", name, zone)
	}
	apex := name == zone
	switch {
	case k.Type == "SOA" && !apex:
		return fmt.Sprintf("RRSet of type SOA with DNS name %s is not permitted: SOA records are allowed only at the apex of zone %s", name, zone)
	case (k.Type == "CNAME" || k.Type == "DS") && apex:
		return fmt.Sprintf("RRSet of type %s with DNS name %s is not permitted at apex in zone %s", k.Type, name, zone)
	case k.Type == "NS" && zonecfg.IsWildcard(name):
		return fmt.Sprintf("RRSet of type NS with DNS name %s is not permitted: NS records cannot use a wildcard name", name)
	}
	cur := wc.get(k)
	switch c.action {
	case ActionCreate:
		if cur != nil {
			return fmt.Sprintf("Tried to create resource record set [%s] but it already exists", k)
		}
		if msg := wc.conflict(k); msg != "" {
			return msg
		}
		if msg := wc.policyConflict(&rs); msg != "" {
			return msg
		}
	case ActionUpsert:
		if msg := wc.conflict(k); msg != "" {
			return msg
		}
		if msg := wc.policyConflict(&rs); msg != "" {
			return msg
		}
		if opt.keepSOASerial && apex && k.Type == "SOA" && cur != nil {
			rs = withSOASerialOf(rs, cur)
		}
	case ActionDelete:
		if cur == nil {
			return fmt.Sprintf("Tried to delete resource record set [%s] but it was not found", k)
		}
		if !sameContent(cur, &rs) || !sameRouting(cur.RRSet, rs.RRSet) {
			return fmt.Sprintf("Tried to delete resource record set [%s] but the values provided do not match the current values", k)
		}
		if apex && k.Type == "SOA" {
			return "A HostedZone must contain exactly one SOA record."
		}
		if apex && k.Type == "NS" {
			return "A HostedZone must contain at least one NS record for the zone itself."
		}
		delete(wc.byName[name], k)
		wc.touch(k)
		return ""
	}
	wc.put(&rs)
	wc.touch(k)
	return ""
}

// conflict applies the rules between record sets at one name: CNAME is
// alone at its name (ROUTE53.md §4.5, Route 53's wording, two spaces
// included), and a name and type use either only simple record sets or
// only ones with a set identifier.
func (wc *workingCopy) conflict(k zonecfg.Key) string {
	var cnameHere, othersHere, mixed bool
	for o := range wc.byName[k.Name] {
		switch {
		case o.Type == k.Type:
			if o.SetIdentifier != k.SetIdentifier && (o.SetIdentifier == "") != (k.SetIdentifier == "") {
				mixed = true
			}
		case o.Type == "CNAME":
			cnameHere = true
		default:
			othersHere = true
		}
	}
	switch {
	case k.Type == "CNAME" && (othersHere || cnameHere):
		return fmt.Sprintf("RRSet of type CNAME with DNS name %s is not permitted as it conflicts with other records with the same DNS name in zone %s", k.Name, wc.zone)
	case cnameHere:
		return fmt.Sprintf("RRSet of type %s with DNS name %s is not permitted because a conflicting RRSet of type  CNAME with the same DNS name already exists in zone %s", k.Type, k.Name, wc.zone)
	case mixed && k.SetIdentifier == "":
		return fmt.Sprintf("RRSet with DNS name %s, type %s cannot be created without a SetIdentifier because record sets with the same name and type have one in zone %s", k.Name, k.Type, wc.zone)
	case mixed:
		return fmt.Sprintf("RRSet with DNS name %s, type %s and SetIdentifier %s cannot be created because a record set with the same name and type and no SetIdentifier exists in zone %s", k.Name, k.Type, k.SetIdentifier, wc.zone)
	}
	return ""
}

// result returns what the batch does to the stored zone: keys removed and
// not re-created, the final state of every other touched key (in listing
// order), and the change in the number of record sets.
func (wc *workingCopy) result() (deletes []zonecfg.Key, upserts []storedRRSet, delta int) {
	for _, k := range wc.touched {
		cur, was := wc.get(k), wc.orig[k]
		switch {
		case cur == nil && was:
			deletes = append(deletes, k)
			delta--
		case cur != nil:
			upserts = append(upserts, *cur)
			if !was {
				delta++
			}
		}
	}
	slices.SortFunc(deletes, compareKeys)
	slices.SortFunc(upserts, func(a, b storedRRSet) int { return compareKeys(a.Key(), b.Key()) })
	return deletes, upserts, delta
}

func compareKeys(a, b zonecfg.Key) int {
	switch {
	case a.Less(b):
		return -1
	case b.Less(a):
		return 1
	}
	return 0
}

// sameContent reports whether a DELETE's record set matches the live one:
// the same TTL and the same values, compared as a set of canonical RDATA.
func sameContent(live, given *storedRRSet) bool {
	if live.TTL != given.TTL || len(live.RData) != len(given.RData) {
		return false
	}
	a, b := slices.Clone(live.RData), slices.Clone(given.RData)
	slices.Sort(a)
	slices.Sort(b)
	if slices.Equal(a, b) {
		return true
	}
	// Names inside RDATA compare case-insensitively, as DNS compares them
	// ("10 MAIL.example.com." is "10 mail.example.com."): the slow path
	// parses both sides and matches records one to one.
	parse := func(rs *storedRRSet) []dns.RR {
		out := make([]dns.RR, 0, len(rs.RData))
		for _, v := range rs.RData {
			rr, _, err := zonecfg.ParseRecord(rs.Name, rs.Type, rs.TTL, v)
			if err != nil {
				return nil
			}
			out = append(out, rr)
		}
		return out
	}
	lrs, grs := parse(live), parse(given)
	if len(lrs) != len(live.RData) || len(grs) != len(given.RData) {
		return false
	}
	used := make([]bool, len(lrs))
next:
	for _, g := range grs {
		for i, l := range lrs {
			if !used[i] && dns.IsDuplicate(g, l) {
				used[i] = true
				continue next
			}
		}
		return false
	}
	return true
}

// withSOASerialOf returns rs (an apex SOA) with the serial of cur. SOA
// RDATA in canonical form is "mname rname serial refresh retry expire
// minimum".
func withSOASerialOf(rs storedRRSet, cur *storedRRSet) storedRRSet {
	if len(cur.RData) != 1 || len(rs.RData) != 1 {
		return rs
	}
	curFields, newFields := strings.Fields(cur.RData[0]), strings.Fields(rs.RData[0])
	if len(curFields) != 7 || len(newFields) != 7 {
		return rs
	}
	newFields[2] = curFields[2]
	v := strings.Join(newFields, " ")
	rs.RData = []string{v}
	rs.Records = []string{v}
	return rs
}

// truncate shortens a client-supplied value for an error message.
func truncate(v string) string {
	s := strings.ToValidUTF8(v, "?")
	if len(s) > 32 {
		s = s[:32]
	}
	return s
}

// queueChange queues the change row and the outbox event of a change on b,
// so that a change batch commits in two round trips. It does not wake the
// relay: the caller calls wakeRelay once the transaction has committed
// (outbox.go says why).
func (s *Service) queueChange(b *pgx.Batch, tenantID, comment string, ev event.ZoneEvent) (ChangeInfo, error) {
	id, err := s.newID(prefixChange)
	if err != nil {
		return ChangeInfo{}, err
	}
	now := s.now()
	ev.ChangeID = id
	ev.TenantID = tenantID
	ev.Committed = now
	payload, err := ev.Encode()
	if err != nil {
		return ChangeInfo{}, fmt.Errorf("encode zone event: %w", err)
	}
	b.Queue(`INSERT INTO change (id, tenant_id, zone_id, zone_version, status, comment, submitted_at)
	         VALUES ($1, $2, $3, $4, 'PENDING', $5, $6)`,
		id, tenantID, ev.ZoneID, ev.ToVersion, comment, now)
	b.Queue(`INSERT INTO outbox_event (zone_id, zone_version, change_id, payload, created_at)
	         VALUES ($1, $2, $3, $4, $5)`,
		ev.ZoneID, ev.ToVersion, id, payload, now)
	return ChangeInfo{
		ID: id, ZoneID: ev.ZoneID, ZoneVersion: ev.ToVersion,
		Status: StatusPending, Comment: comment, SubmittedAt: now,
	}, nil
}

// queueEvent queues an outbox event that belongs to no change row: a
// leading part of a change split by splitEvent. The change row goes with
// the last part, so that the relay marks the change INSYNC only when the
// whole of it is applied.
func (s *Service) queueEvent(b *pgx.Batch, tenantID string, ev event.ZoneEvent) error {
	ev.TenantID = tenantID
	ev.Committed = s.now()
	payload, err := ev.Encode()
	if err != nil {
		return fmt.Errorf("encode zone event: %w", err)
	}
	b.Queue(`INSERT INTO outbox_event (zone_id, zone_version, change_id, payload, created_at)
	         VALUES ($1, $2, NULL, $3, $4)`,
		ev.ZoneID, ev.ToVersion, payload, ev.Committed)
	return nil
}

// maxEventBytes bounds the estimated payload of one zone event, well under
// NATS's default max_payload of 1 MiB.
const maxEventBytes = 256 << 10

// eventChunk is one event's share of a change.
type eventChunk struct {
	deletes []zonecfg.Key
	upserts []storedRRSet
}

// splitEvent splits a change's deletes and upserts into events of at most
// maxEventBytes (estimated, assuming every character may need escaping).
// The keys of deletes and upserts are disjoint, so the parts may be applied
// in any order. Nearly every change fits in one event; imports and the
// largest batches (1,000 sets with long names) may not.
func splitEvent(deletes []zonecfg.Key, upserts []storedRRSet) []eventChunk {
	const overhead = 64
	keySize := func(k zonecfg.Key) int { return 2*(len(k.Name)+len(k.Type)+len(k.SetIdentifier)) + overhead }
	total := 0
	for _, k := range deletes {
		total += keySize(k)
	}
	setSize := func(rs storedRRSet) int {
		n := keySize(rs.Key())
		for _, v := range rs.RData {
			n += 2*len(v) + 4
		}
		return n
	}
	for _, rs := range upserts {
		total += setSize(rs)
	}
	if total <= maxEventBytes {
		return []eventChunk{{deletes: deletes, upserts: upserts}}
	}
	var chunks []eventChunk
	cur, size := eventChunk{}, 0
	flushIfFull := func(n int) {
		if size+n > maxEventBytes && (len(cur.deletes) > 0 || len(cur.upserts) > 0) {
			chunks = append(chunks, cur)
			cur, size = eventChunk{}, 0
		}
		size += n
	}
	for _, k := range deletes {
		flushIfFull(keySize(k))
		cur.deletes = append(cur.deletes, k)
	}
	for _, rs := range upserts {
		flushIfFull(setSize(rs))
		cur.upserts = append(cur.upserts, rs)
	}
	return append(chunks, cur)
}

// txInTwoTrips runs a read-decide-write transaction in two round trips:
// BEGIN and the statements read queues go in one batch; write then runs on
// their results and queues the writes, which are sent with COMMIT. An error
// from write (such as a business *Error) or from either batch rolls the
// transaction back. The pool discards a connection returned inside a
// transaction, so a failed rollback cannot leak one.
func (s *Service) txInTwoTrips(ctx context.Context, read func(*pgx.Batch), write func(*pgx.Batch) error) error {
	return s.txInTwoTripsQ(ctx, read, func(_ querier, wb *pgx.Batch) error { return write(wb) })
}

// txInTwoTripsQ is txInTwoTrips whose write may also query inside the
// transaction (each query one more round trip) before it queues writes.
func (s *Service) txInTwoTripsQ(ctx context.Context, read func(*pgx.Batch), write func(querier, *pgx.Batch) error) error {
	conn, err := s.pool.Acquire(ctx)
	if err != nil {
		return fmt.Errorf("acquire connection: %w", err)
	}
	defer conn.Release()
	rollback := func() {
		if conn.Conn().PgConn().TxStatus() == 'I' {
			return
		}
		rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		defer cancel()
		_, _ = conn.Exec(rctx, "ROLLBACK")
	}
	rb := &pgx.Batch{}
	rb.Queue("BEGIN")
	read(rb)
	if err := conn.SendBatch(ctx, rb).Close(); err != nil {
		rollback()
		return fmt.Errorf("read: %w", err)
	}
	wb := &pgx.Batch{}
	if err := write(conn, wb); err != nil {
		rollback()
		return err
	}
	wb.Queue("COMMIT")
	if err := conn.SendBatch(ctx, wb).Close(); err != nil {
		rollback()
		if e, ok := AsError(err); ok {
			return e
		}
		return fmt.Errorf("write: %w", err)
	}
	// A COMMIT of a transaction that failed earlier answers ROLLBACK
	// without an error; the batch would have reported that failure, but
	// check the state all the same.
	if st := conn.Conn().PgConn().TxStatus(); st != 'I' {
		rollback()
		return fmt.Errorf("write: transaction not committed (status %c)", st)
	}
	return nil
}
