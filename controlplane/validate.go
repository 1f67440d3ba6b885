package controlplane

import (
	"fmt"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/miekg/dns"
	"github.com/waymark-dns/waymark/zonecfg"
)

// This file is where a change batch is validated, in two passes: each
// change on its own (prepareChange: action, name, type, TTL, values, and
// the routing fields through prepareRouting in routing.go), then each
// change against the zone as the batch's earlier changes left it
// (workingCopy.apply: CREATE/DELETE rules, CNAME exclusivity, and the
// policy rules of workingCopy.policyConflict in routing.go). Aliases and
// references to health checks and CIDR collections, which reach beyond
// the names a batch touches, are checked by checkAliases and routingRefs
// (routing.go) inside the transaction (transaction.go). The basic field
// validators every operation uses are at the end.

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
	case actionRemove:
		if cur == nil {
			return ""
		}
		if apex && (k.Type == "SOA" || k.Type == "NS") {
			return fmt.Sprintf("The zone's apex %s cannot be removed.", k.Type)
		}
		delete(wc.byName[name], k)
		wc.touch(k)
		return ""
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

// checkText validates a free-text field: valid UTF-8 without NUL (which
// PostgreSQL refuses) and a length in characters within [min, max].
func checkText(field, v string, min, max int) error {
	if !utf8.ValidString(v) || strings.IndexByte(v, 0) >= 0 {
		return Errorf(CodeInvalidInput, "%s must be valid UTF-8 without NUL characters", field)
	}
	n := utf8.RuneCountInString(v)
	if n < min || n > max {
		if min > 0 {
			return Errorf(CodeInvalidInput, "%s must be %d to %d characters long", field, min, max)
		}
		return Errorf(CodeInvalidInput, "%s must be at most %d characters long", field, max)
	}
	return nil
}

// cleanID accepts an id as clients send it back: bare (Z123), prefixed
// (/hostedzone/Z123, /change/C123) or with any other /word/ prefix, and
// returns the bare id if it could be one of ours.
func cleanID(id string) (string, bool) {
	if i := strings.LastIndexByte(id, '/'); i >= 0 {
		id = id[i+1:]
	}
	if id == "" || len(id) > 64 {
		return "", false
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		if !('A' <= c && c <= 'Z' || '0' <= c && c <= '9') {
			return "", false
		}
	}
	return id, true
}

// displayID makes an untrusted id safe to echo in an error message.
func displayID(id string) string {
	if len(id) > 64 {
		id = id[:64]
	}
	return strings.ToValidUTF8(id, "?")
}
