package cli

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"strings"

	"github.com/waymark-dns/waymark/client"
)

// rrsetFlags are the flags of records set and delete.
type rrsetFlags struct {
	ttl           int64
	setIdentifier string
	weight        int
	failover      string
	healthCheck   string
	comment       string
	wait          bool
}

func (f *rrsetFlags) declare(fs *flag.FlagSet, set bool) {
	if set {
		fs.Int64Var(&f.ttl, "ttl", 300, "TTL in seconds")
		fs.IntVar(&f.weight, "weight", -1, "weighted routing: the weight, 0-255 (needs --set-identifier)")
		fs.StringVar(&f.failover, "failover", "", "failover routing: PRIMARY or SECONDARY (needs --set-identifier)")
		fs.StringVar(&f.healthCheck, "health-check", "", "the health check id the record set follows")
	}
	fs.StringVar(&f.setIdentifier, "set-identifier", "", "the set identifier of a routed record set")
	fs.StringVar(&f.comment, "comment", "", "the change batch's comment")
	fs.BoolVar(&f.wait, "wait", false, "wait until every nameserver serves the change, showing their progress")
}

func recordsCommand() *command {
	var start, startType string
	var pageSize int
	var set, del rrsetFlags
	return &command{name: "records", summary: "record sets: list, set, delete",
		long: "NAME may be relative to the zone (www, @ for the apex) or absolute (www.example.com).\nA set or delete is one change batch.",
		subs: []*command{
			{name: "list", args: []string{"ZONE"}, summary: "list a zone's record sets in Route 53 order", minArgs: 1, maxArgs: 1,
				flags: func(fs *flag.FlagSet) {
					fs.StringVar(&start, "start-name", "", "start at this name (Route 53 order)")
					fs.StringVar(&startType, "start-type", "", "with --start-name, start at this type")
					fs.IntVar(&pageSize, "page-size", 0, "record sets per request (default the server's)")
				},
				run: func(ctx context.Context, e *env, args []string) error {
					c, id, err := e.zone(ctx, args[0])
					if err != nil {
						return err
					}
					in := &client.ListRRSetsInput{Type: strings.ToUpper(startType), MaxItems: pageSize}
					if start != "" {
						zoneName, err := e.zoneName(ctx, c, args[0], id)
						if err != nil {
							return err
						}
						in.Name = absolute(start, zoneName)
					}
					rrsets := []client.RRSet{}
					for rs, err := range c.RRSets(ctx, id, in) {
						if err != nil {
							return err
						}
						rrsets = append(rrsets, rs)
					}
					return e.print(rrsets, func(w io.Writer) {
						row(w, "NAME", "TYPE", "TTL", "ROUTING", "VALUE")
						for _, rs := range rrsets {
							ttl := "-"
							if rs.TTL != nil {
								ttl = fmt.Sprint(*rs.TTL)
							}
							row(w, rs.Name, rs.Type, ttl, routing(rs), value(rs))
						}
					})
				}},
			{name: "set", args: []string{"ZONE", "NAME", "TYPE", "VALUE…"}, minArgs: 4, maxArgs: -1,
				summary: "create or replace a record set (UPSERT)",
				long:    "Each VALUE is one record's RDATA, e.g. 192.0.2.1 or \"10 mail.example.com.\". A TXT or SPF value\nwithout quotes is quoted for you (and split into 255-byte strings): v=spf1 -all.",
				flags:   func(fs *flag.FlagSet) { set.declare(fs, true) },
				run: func(ctx context.Context, e *env, args []string) error {
					c, id, err := e.zone(ctx, args[0])
					if err != nil {
						return err
					}
					zoneName, err := e.zoneName(ctx, c, args[0], id)
					if err != nil {
						return err
					}
					typ := strings.ToUpper(args[2])
					rs := client.RRSet{Name: absolute(args[1], zoneName), Type: typ, TTL: client.Ptr(set.ttl),
						Records: rdata(typ, args[3:]), SetIdentifier: set.setIdentifier, Failover: strings.ToUpper(set.failover), HealthCheckID: set.healthCheck}
					if set.weight >= 0 {
						rs.Weight = client.Ptr(set.weight)
					}
					out, err := c.ChangeRRSets(ctx, id, client.ChangeBatch{Comment: set.comment,
						Changes: []client.RRSetChange{{Action: client.ActionUpsert, RRSet: rs}}})
					if err != nil {
						return err
					}
					return e.changeResult(ctx, out.Change, set.wait)
				}},
			{name: "delete", args: []string{"ZONE", "NAME", "TYPE", "[VALUE…]"}, minArgs: 3, maxArgs: -1,
				summary: "delete a record set",
				long:    "Without VALUEs the record set as it is now is deleted; with them, only if they (and --ttl) match it.",
				flags: func(fs *flag.FlagSet) {
					del.declare(fs, false)
					fs.Int64Var(&del.ttl, "ttl", -1, "with VALUEs: the TTL (default: the record set's)")
				},
				run: func(ctx context.Context, e *env, args []string) error {
					c, id, err := e.zone(ctx, args[0])
					if err != nil {
						return err
					}
					zoneName, err := e.zoneName(ctx, c, args[0], id)
					if err != nil {
						return err
					}
					name, typ := absolute(args[1], zoneName), strings.ToUpper(args[2])
					current, err := findRRSet(ctx, c, id, name, typ, del.setIdentifier)
					if err != nil {
						return err
					}
					rs := current
					if len(args) > 3 {
						rs.Records = rdata(typ, args[3:])
						if del.ttl >= 0 {
							rs.TTL = client.Ptr(del.ttl)
						}
					}
					out, err := c.ChangeRRSets(ctx, id, client.ChangeBatch{Comment: del.comment,
						Changes: []client.RRSetChange{{Action: client.ActionDelete, RRSet: rs}}})
					if err != nil {
						return err
					}
					return e.changeResult(ctx, out.Change, del.wait)
				}},
		}}
}

// findRRSet returns the record set name/type/identifier of the zone, or
// a NoSuchRRSet lookupError.
func findRRSet(ctx context.Context, c *client.Client, zoneID, name, typ, ident string) (client.RRSet, error) {
	page, err := c.ListRRSets(ctx, zoneID, &client.ListRRSetsInput{Name: name, Type: typ, Identifier: ident, MaxItems: 1})
	if err != nil {
		return client.RRSet{}, err
	}
	if len(page.RRSets) == 1 {
		rs := page.RRSets[0]
		if strings.EqualFold(rs.Name, name) && rs.Type == typ && rs.SetIdentifier == ident {
			return rs, nil
		}
	}
	what := name + " " + typ
	if ident != "" {
		what += " (set identifier " + ident + ")"
	}
	return client.RRSet{}, lookupError{code: "NoSuchRRSet", msg: "No record set " + what + " in this zone."}
}

// zoneName returns the zone's canonical name: ref itself when it is a
// name, else the zone's.
func (e *env) zoneName(ctx context.Context, c *client.Client, ref, id string) (string, error) {
	if strings.Contains(ref, ".") {
		return canonical(ref), nil
	}
	z, err := c.GetHostedZone(ctx, id)
	if err != nil {
		return "", err
	}
	return z.HostedZone.Name, nil
}

// absolute makes a record name absolute: "@" is the apex, a name in the
// zone (with or without its trailing dot) stays, anything else is relative
// to the zone.
func absolute(name, zone string) string {
	if name == "@" {
		return zone
	}
	c := canonical(name)
	if c == zone || strings.HasSuffix(c, "."+zone) || strings.HasSuffix(name, ".") {
		return c
	}
	return strings.ToLower(name) + "." + zone
}

// routing describes a record set's routing policy for tables.
func routing(rs client.RRSet) string {
	var p []string
	switch {
	case rs.Weight != nil:
		p = append(p, fmt.Sprintf("weight=%d", *rs.Weight))
	case rs.Region != "":
		p = append(p, "latency="+rs.Region)
	case rs.Failover != "":
		p = append(p, "failover="+rs.Failover)
	case rs.Geolocation != nil:
		g := rs.Geolocation
		p = append(p, "geo="+strings.Trim(strings.Join([]string{g.ContinentCode, g.CountryCode, g.SubdivisionCode}, "/"), "/"))
	case rs.MultiValueAnswer:
		p = append(p, "multivalue")
	case rs.CIDRRouting != nil:
		p = append(p, "cidr="+rs.CIDRRouting.LocationName)
	}
	if rs.SetIdentifier != "" {
		p = append(p, "id="+rs.SetIdentifier)
	}
	if rs.HealthCheckID != "" {
		p = append(p, "hc="+rs.HealthCheckID)
	}
	if len(p) == 0 {
		return "simple"
	}
	return strings.Join(p, " ")
}

func value(rs client.RRSet) string {
	if a := rs.AliasTarget; a != nil {
		return "ALIAS " + a.DNSName
	}
	return strings.Join(rs.Records, ", ")
}

func changesCommand() *command {
	var wait bool
	var key string
	return &command{name: "changes", summary: "change batches: get, wait, submit",
		subs: []*command{
			{name: "get", args: []string{"CHANGE"}, summary: "show a change's status and how many nameservers have it", minArgs: 1, maxArgs: 1,
				run: func(ctx context.Context, e *env, args []string) error {
					c, err := e.Client()
					if err != nil {
						return err
					}
					out, err := c.GetChange(ctx, args[0], nil)
					if err != nil {
						return err
					}
					return e.print(out, func(w io.Writer) { printChange(w, out) })
				}},
			{name: "wait", args: []string{"CHANGE"}, summary: "wait until a change is INSYNC (at most 5 minutes, or --timeout)", minArgs: 1, maxArgs: 1,
				run: func(ctx context.Context, e *env, args []string) error {
					out, err := e.waitChange(ctx, args[0])
					if err != nil {
						return err
					}
					return e.print(out, func(w io.Writer) { printChange(w, out) })
				}},
			{name: "submit", args: []string{"ZONE", "FILE|-"}, minArgs: 2, maxArgs: 2,
				summary: "apply a change batch read from a JSON file (- for standard input)",
				long: `The file is the API's change batch: {"comment": "…", "changes": [{"action": "UPSERT", "rrset": {…}}, …]}.
The batch goes with an idempotency key, random unless --idempotency-key names one: a script
that may run the same submit twice (after a timeout, say) gives each batch a key of its own,
and the second run is answered the first run's change instead of failing or applying twice.`,
				flags: func(fs *flag.FlagSet) {
					fs.BoolVar(&wait, "wait", false, "wait until every nameserver serves the change")
					fs.StringVar(&key, "idempotency-key", "", "the batch's `KEY` (1 to 255 visible ASCII characters; default: a random one)")
				},
				run: func(ctx context.Context, e *env, args []string) error {
					c, id, err := e.zone(ctx, args[0])
					if err != nil {
						return err
					}
					b, err := e.readInput(args[1])
					if err != nil {
						return err
					}
					var batch client.ChangeBatch
					dec := json.NewDecoder(strings.NewReader(string(b)))
					dec.DisallowUnknownFields()
					if err := dec.Decode(&batch); err != nil {
						return fmt.Errorf("%s: not a change batch: %v", displayName(args[1]), err)
					}
					batch.IdempotencyKey = key
					out, err := c.ChangeRRSets(ctx, id, batch)
					if err != nil {
						return err
					}
					return e.changeResult(ctx, out.Change, wait)
				}},
		}}
}

func printChange(w io.Writer, out *client.GetChangeOutput) {
	ch := out.Change
	row(w, "ID", ch.ID)
	row(w, "STATUS", ch.Status)
	row(w, "COMMENT", ch.Comment)
	row(w, "SUBMITTED", stamp(ch.SubmittedAt))
	if ch.InSyncAt != nil {
		row(w, "INSYNC", stamp(*ch.InSyncAt))
	}
	if p := out.Propagation; p != nil {
		row(w, "NAMESERVERS", fmt.Sprintf("%d of %d live nameservers have applied it", p.AppliedNameservers, p.LiveNameservers))
	}
}

// rdata returns the records of a record set given on the command line. A
// TXT or SPF value that is not already quoted is made one record of quoted
// strings of at most 255 bytes each (RFC 1035 §3.3.14), with quotes and
// backslashes escaped, so that `v=spf1 -all` needs no shell gymnastics.
func rdata(typ string, values []string) []string {
	if typ != "TXT" && typ != "SPF" {
		return values
	}
	out := make([]string, 0, len(values))
	for _, v := range values {
		if strings.HasPrefix(v, `"`) {
			out = append(out, v)
			continue
		}
		var parts []string
		for {
			n := min(len(v), 255)
			parts = append(parts, `"`+strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(v[:n])+`"`)
			if v = v[n:]; v == "" {
				break
			}
		}
		out = append(out, strings.Join(parts, " "))
	}
	return out
}
