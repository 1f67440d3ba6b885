package dataplane

import (
	"encoding/binary"
	"fmt"
	"net/netip"
	"strings"

	"github.com/miekg/dns"
	"github.com/nats-io/nats.go"

	"github.com/waymark-dns/waymark/event"
	"github.com/waymark-dns/waymark/zonecfg"
)

// TestAnswer evaluates a test-answer request (Route 53's TestDNSAnswer)
// exactly as a query would be answered now, with the same zones, health
// statuses, GeoIP database and latency table, and explains the answer:
// the policy and branch taken, where the client was located or which
// prefix matched, the health checks consulted and the aliases followed.
//
// Without ClientIP the client's address is unknown: geolocation answers
// its default record (or NODATA), latency routing measures from this
// nameserver's region, IP-based routing answers "*". With ECS the subnet
// decides, as for a real query.
func (h *Handler) TestAnswer(req event.TestAnswerRequest, nodeID string) event.TestAnswerResponse {
	resp := event.TestAnswerResponse{NodeID: nodeID, Records: []event.TestAnswerRecord{}, Explanation: []string{}}
	bad := func(format string, args ...any) event.TestAnswerResponse {
		resp.Error, resp.BadRequest = fmt.Sprintf(format, args...), true
		return resp
	}
	name, err := zonecfg.CanonicalName(req.Name)
	if err != nil {
		return bad("name: %v", err)
	}
	qtype, ok := dns.StringToType[strings.ToUpper(req.Type)]
	if !ok || !isPlainType(qtype) {
		return bad("type %q is not a record type", req.Type)
	}
	lname, err := wireName(name)
	if err != nil {
		return bad("name: %v", err)
	}
	cl := client{rt: h.routing.Load()}
	if req.ClientIP != "" {
		a, err := netip.ParseAddr(req.ClientIP)
		if err != nil || a.Zone() != "" {
			return bad("client_ip %q is not an IP address", req.ClientIP)
		}
		cl.addr = a.Unmap()
	}
	if req.ECS != "" {
		p, err := netip.ParsePrefix(req.ECS)
		if err != nil {
			a, aerr := netip.ParseAddr(req.ECS)
			if aerr != nil {
				return bad("ecs %q is not a subnet (192.0.2.0/24)", req.ECS)
			}
			p = netip.PrefixFrom(a, a.BitLen())
		}
		cl.ecs = p.Masked()
	}
	if !h.Ready() {
		resp.Error = "the nameserver has not finished its initial sync"
		return resp
	}
	held, known := h.store.zoneByID(req.ZoneID)
	if !known {
		resp.Error = fmt.Sprintf("zone %s is not held by this nameserver (yet)", req.ZoneID)
		return resp
	}
	// Answered as on the addresses of the first of the zone's pool names
	// this nameserver serves.
	zs := h.store.load().view(h.store.viewOfZone(held))
	z := zs.find(lname)
	switch {
	case !isSubName(lname, held.name):
		return bad("%s is not in zone %s", name, held.origin)
	case z != held:
		resp.Explanation = append(resp.Explanation, fmt.Sprintf("note: %s is answered from zone %s (%s), not %s", name, z.origin, z.id, req.ZoneID))
	}
	resp.ZoneVersion = held.version
	trace := []string{fmt.Sprintf("zone %s (%s) at version %d", held.origin, held.id, held.version)}
	switch {
	case cl.ecs.IsValid():
		trace = append(trace, fmt.Sprintf("client subnet (ECS) %s decides; resolver %s", cl.ecs, orDash(req.ClientIP)))
	case cl.addr.IsValid():
		trace = append(trace, fmt.Sprintf("resolver address %s, no ECS", cl.addr))
	default:
		trace = append(trace, "no resolver address or ECS: the client's location is unknown")
	}
	if cl.rt == nil || cl.rt.Health == nil {
		trace = append(trace, "no health feed configured: every check counts as healthy")
	}
	cl.trace = &trace
	before := len(trace)
	res := &result{}
	lookup(zs, lname, qtype, cl, res)
	if len(trace) == before {
		trace = append(trace, "no routing policy or alias on the way: simple routing")
	}
	resp.Rcode = dns.RcodeToString[res.rcode]
	if res.rcode == dns.RcodeSuccess && len(res.answer) == 0 {
		trace = append(trace, "no records of the type (NODATA)")
	}
	if cl.ecs.IsValid() {
		trace = append(trace, fmt.Sprintf("ECS scope prefix length in the answer: %d", res.scope))
	}
	for _, a := range res.answer {
		owner := presentationName(a.owner)
		a.set.records(func(rdata string) {
			resp.Records = append(resp.Records, event.TestAnswerRecord{Name: owner, Type: dns.TypeToString[a.set.typ],
				TTL: a.ttl, Data: rdataText(a.owner, a.set.typ, rdata)})
		})
	}
	resp.Explanation = append(resp.Explanation, trace...)
	return resp
}

// rdataText formats packed RDATA in presentation form.
func rdataText(owner string, typ uint16, rdata string) string {
	buf := make([]byte, 0, len(owner)+10+len(rdata))
	buf = append(buf, owner...)
	buf = binary.BigEndian.AppendUint16(buf, typ)
	buf = binary.BigEndian.AppendUint16(buf, dns.ClassINET)
	buf = binary.BigEndian.AppendUint32(buf, 0)
	buf = binary.BigEndian.AppendUint16(buf, uint16(len(rdata)))
	buf = append(buf, rdata...)
	rr, _, err := dns.UnpackRR(buf, 0)
	if err != nil {
		return fmt.Sprintf("\\# %d %x", len(rdata), rdata)
	}
	return zonecfg.RData(rr)
}

// zoneByID returns the zone held under id.
func (s *Store) zoneByID(id string) (*zone, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	z, ok := s.byID[id]
	return z, ok
}

// ServeTestAnswers answers test-answer requests on event.TestAnswerSubject
// in the queue group event.TestAnswerQueue (one nameserver answers each).
// Malformed requests get a BadRequest reply. The subscription lasts until
// it is drained or nc closes.
func (h *Handler) ServeTestAnswers(nc *nats.Conn, nodeID string) (*nats.Subscription, error) {
	return event.ServeTestAnswer(nc, func(req event.TestAnswerRequest) event.TestAnswerResponse {
		return h.TestAnswer(req, nodeID)
	})
}
