// Package rdap serves the Registration Data Access Protocol for a
// registry: the lookups of RFC 9082 (domain, nameserver, entity, help)
// answered in RFC 9083's JSON as application/rdap+json, EPP statuses mapped
// by RFC 8056, contacts redacted (RFC 9537) when they asked for privacy.
// RDAP is public: there is no authentication.
package rdap

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"net/netip"
	"strings"
	"time"
	"unicode"
)

// ContentType is RDAP's media type (RFC 9083 §1).
const ContentType = "application/rdap+json"

// ErrNotFound is returned by a Source for an object it does not hold.
var ErrNotFound = errors.New("rdap: object not found")

// Source is what the handler needs of a registry. Names are lower-case
// LDH without the final dot. A Source returns ErrNotFound for unknown
// objects; any other error is answered 500 without detail.
type Source interface {
	Domain(ctx context.Context, name string) (Domain, error)
	Nameserver(ctx context.Context, name string) (Nameserver, error)
	Entity(ctx context.Context, handle string) (Entity, error)
}

// Domain is a registered domain as RDAP shows it.
type Domain struct {
	Name   string
	Handle string
	// Status are EPP statuses (RFC 5731) and RGP statuses (RFC 3915).
	Status      []string
	Registered  time.Time
	Changed     time.Time
	Expires     time.Time
	Transferred time.Time
	Nameservers []Nameserver
	// DS must be the DS the TLD zone publishes for the name (none while
	// the delegation is withdrawn), so secureDNS says what resolvers see.
	DS []DS
	// Entities are the registrar and the contacts, each with its roles.
	Entities []Entity
}

// DS is a delegation signer record; Digest is hexadecimal.
type DS struct {
	KeyTag     uint16
	Algorithm  uint8
	DigestType uint8
	Digest     string
}

// Nameserver is a host object.
type Nameserver struct {
	Name   string
	Handle string
	Status []string
	Addrs  []netip.Addr
}

// Entity is a contact or a registrar.
type Entity struct {
	Handle string
	// Roles are RFC 9083 §10.2.4 roles: registrant, administrative,
	// technical, billing, registrar.
	Roles  []string
	Name   string
	Org    string
	Street []string
	City   string
	SP     string
	PC     string
	CC     string
	Voice  string
	Email  string
	// Private withholds everything but the handle and roles.
	Private bool
}

// Handler answers RDAP queries under its mount point (routes are
// relative: /domain/{name}, /nameserver/{name}, /entity/{handle}, /help).
type Handler struct {
	// Source answers the lookups.
	Source Source
	// BaseURL is the absolute URL the service is reached at, for the
	// self links (e.g. http://127.0.0.1:8080/rdap).
	BaseURL string
	// Now stamps "last update of RDAP database" (default time.Now).
	Now func() time.Time
	// Log receives Source failures (default slog.Default()).
	Log *slog.Logger
	// Terms is the help and terms-of-service notice text.
	Terms string
}

// ServeHTTP routes one query.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		h.fail(w, r, http.StatusMethodNotAllowed, "Method not allowed", "RDAP is read-only: GET or HEAD")
		return
	}
	path := strings.TrimPrefix(r.URL.Path, "/")
	kind, arg, _ := strings.Cut(path, "/")
	switch {
	case kind == "help" && arg == "":
		h.write(w, r, http.StatusOK, h.top(map[string]any{}))
	case kind == "domain" && arg != "":
		name, ok := ldh(arg)
		if !ok {
			h.fail(w, r, http.StatusBadRequest, "Bad request", "not a domain name in LDH form")
			return
		}
		d, err := h.Source.Domain(r.Context(), name)
		if h.lookupErr(w, r, err) {
			return
		}
		h.write(w, r, http.StatusOK, h.top(h.domain(d)))
	case kind == "nameserver" && arg != "":
		name, ok := ldh(arg)
		if !ok {
			h.fail(w, r, http.StatusBadRequest, "Bad request", "not a host name in LDH form")
			return
		}
		ns, err := h.Source.Nameserver(r.Context(), name)
		if h.lookupErr(w, r, err) {
			return
		}
		h.write(w, r, http.StatusOK, h.top(h.nameserver(ns)))
	case kind == "entity" && arg != "":
		e, err := h.Source.Entity(r.Context(), arg)
		if h.lookupErr(w, r, err) {
			return
		}
		h.write(w, r, http.StatusOK, h.top(h.entity(e)))
	case kind == "domains" || kind == "nameservers" || kind == "entities":
		// Searches (RFC 9082 §3.2) are not offered: they would list
		// registrants' data in bulk.
		h.fail(w, r, http.StatusNotImplemented, "Not implemented", "searches are not served")
	default:
		h.fail(w, r, http.StatusBadRequest, "Bad request", "unknown query")
	}
}

// ldh lower-cases a name and drops the final dot; it refuses anything but
// letters, digits, hyphens and dots (U-labels must be sent as A-labels).
func ldh(s string) (string, bool) {
	s = strings.TrimSuffix(strings.ToLower(s), ".")
	if s == "" || len(s) > 253 {
		return "", false
	}
	for _, l := range strings.Split(s, ".") {
		if l == "" || len(l) > 63 {
			return "", false
		}
		for _, c := range l {
			if c > unicode.MaxASCII || !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
				return "", false
			}
		}
	}
	return s, true
}

func (h *Handler) lookupErr(w http.ResponseWriter, r *http.Request, err error) bool {
	switch {
	case err == nil:
		return false
	case errors.Is(err, ErrNotFound):
		h.fail(w, r, http.StatusNotFound, "Not found", "")
	default:
		h.log().Error("rdap: lookup failed", "path", r.URL.Path, "err", err)
		h.fail(w, r, http.StatusInternalServerError, "Internal error", "")
	}
	return true
}

func (h *Handler) log() *slog.Logger {
	if h.Log != nil {
		return h.Log
	}
	return slog.Default()
}

func (h *Handler) now() time.Time {
	if h.Now != nil {
		return h.Now()
	}
	return time.Now()
}

// top adds the members every top-level response carries.
func (h *Handler) top(obj map[string]any) map[string]any {
	conf := []string{"rdap_level_0"}
	if _, ok := obj["redacted"]; ok {
		conf = append(conf, "redacted")
	}
	obj["rdapConformance"] = conf
	terms := h.Terms
	if terms == "" {
		terms = "Registration data of this registry, served without authentication. Contacts that asked for privacy are redacted."
	}
	obj["notices"] = []any{map[string]any{
		"title":       "Terms of Use",
		"description": []string{terms},
		"links":       []any{h.link("help", "help")},
	}}
	return obj
}

func (h *Handler) link(rel, path string) map[string]any {
	return map[string]any{"value": h.BaseURL + "/" + path, "rel": rel, "href": h.BaseURL + "/" + path, "type": ContentType}
}

func (h *Handler) write(w http.ResponseWriter, r *http.Request, code int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		h.log().Error("rdap: encoding", "err", err)
		code, b = http.StatusInternalServerError, []byte(`{"errorCode":500,"title":"Internal error"}`)
	}
	w.Header().Set("Content-Type", ContentType)
	w.Header().Set("Access-Control-Allow-Origin", "*") // RFC 7480 §5.6
	w.WriteHeader(code)
	if r.Method != http.MethodHead {
		_, _ = w.Write(b)
	}
}

func (h *Handler) fail(w http.ResponseWriter, r *http.Request, code int, title, desc string) {
	e := map[string]any{"errorCode": code, "title": title, "rdapConformance": []string{"rdap_level_0"}}
	if desc != "" {
		e["description"] = []string{desc}
	}
	h.write(w, r, code, e)
}

// Status maps an EPP or RGP status to RDAP's (RFC 8056 §2): ok is active,
// linked is associated, the rest are their camel-case words spaced
// ("clientTransferProhibited" → "client transfer prohibited",
// "redemptionPeriod" → "redemption period").
func Status(epp string) string {
	switch epp {
	case "ok":
		return "active"
	case "linked":
		return "associated"
	}
	var b strings.Builder
	for i, c := range epp {
		if unicode.IsUpper(c) {
			if i > 0 {
				b.WriteByte(' ')
			}
			c = unicode.ToLower(c)
		}
		b.WriteRune(c)
	}
	return b.String()
}

func statuses(ss []string) []string {
	out := make([]string, 0, len(ss))
	seen := map[string]bool{}
	for _, s := range ss {
		if m := Status(s); !seen[m] {
			seen[m] = true
			out = append(out, m)
		}
	}
	return out
}

func rdapTime(t time.Time) string { return t.UTC().Format(time.RFC3339) }

func (h *Handler) events(pairs ...any) []any {
	var out []any
	for i := 0; i < len(pairs); i += 2 {
		if t := pairs[i+1].(time.Time); !t.IsZero() {
			out = append(out, map[string]any{"eventAction": pairs[i].(string), "eventDate": rdapTime(t)})
		}
	}
	return append(out, map[string]any{"eventAction": "last update of RDAP database", "eventDate": rdapTime(h.now())})
}

func (h *Handler) domain(d Domain) map[string]any {
	obj := map[string]any{
		"objectClassName": "domain",
		"handle":          d.Handle,
		"ldhName":         d.Name,
		"status":          statuses(d.Status),
		"links":           []any{h.link("self", "domain/"+d.Name)},
		"events":          h.events("registration", d.Registered, "last changed", d.Changed, "expiration", d.Expires, "transfer", d.Transferred),
	}
	ns := make([]any, 0, len(d.Nameservers))
	for _, n := range d.Nameservers {
		ns = append(ns, h.nameserver(n))
	}
	obj["nameservers"] = ns
	sd := map[string]any{"delegationSigned": len(d.DS) > 0}
	if len(d.DS) > 0 {
		ds := make([]any, len(d.DS))
		for i, x := range d.DS {
			ds[i] = map[string]any{"keyTag": x.KeyTag, "algorithm": x.Algorithm, "digestType": x.DigestType, "digest": x.Digest}
		}
		sd["dsData"] = ds
	}
	obj["secureDNS"] = sd
	var ents []any
	var redacted []any
	for _, e := range d.Entities {
		ents = append(ents, h.entity(e))
		if e.Private {
			redacted = append(redacted, redactions(e)...)
		}
	}
	if ents != nil {
		obj["entities"] = ents
	}
	if redacted != nil {
		obj["redacted"] = redacted
	}
	return obj
}

func (h *Handler) nameserver(n Nameserver) map[string]any {
	obj := map[string]any{
		"objectClassName": "nameserver",
		"ldhName":         n.Name,
		"links":           []any{h.link("self", "nameserver/"+n.Name)},
	}
	if n.Handle != "" {
		obj["handle"] = n.Handle
	}
	if len(n.Status) > 0 {
		obj["status"] = statuses(n.Status)
	}
	var v4, v6 []string
	for _, a := range n.Addrs {
		if a.Is4() {
			v4 = append(v4, a.String())
		} else {
			v6 = append(v6, a.String())
		}
	}
	if v4 != nil || v6 != nil {
		ips := map[string]any{}
		if v4 != nil {
			ips["v4"] = v4
		}
		if v6 != nil {
			ips["v6"] = v6
		}
		obj["ipAddresses"] = ips
	}
	return obj
}

// entity is a jCard (RFC 7095) with the fields the contact allows.
func (h *Handler) entity(e Entity) map[string]any {
	card := []any{[]any{"version", map[string]any{}, "text", "4.0"}}
	if e.Private {
		// RFC 9537 "empty value": fn is required by jCard, so it stays,
		// empty; every other property is removed.
		card = append(card, []any{"fn", map[string]any{}, "text", ""})
	} else {
		card = append(card, []any{"fn", map[string]any{}, "text", e.Name})
		if e.Org != "" {
			card = append(card, []any{"org", map[string]any{}, "text", e.Org})
		}
		if e.City != "" || e.CC != "" || len(e.Street) > 0 {
			street := any(strings.Join(e.Street, "\n"))
			card = append(card, []any{"adr", map[string]any{}, "text", []any{"", "", street, e.City, e.SP, e.PC, e.CC}})
		}
		if e.Voice != "" {
			card = append(card, []any{"tel", map[string]any{"type": "voice"}, "uri", "tel:" + e.Voice})
		}
		if e.Email != "" {
			card = append(card, []any{"email", map[string]any{}, "text", e.Email})
		}
	}
	obj := map[string]any{
		"objectClassName": "entity",
		"handle":          e.Handle,
		"roles":           e.Roles,
		"vcardArray":      []any{"vcard", card},
		"links":           []any{h.link("self", "entity/"+e.Handle)},
	}
	if e.Private {
		obj["redacted"] = redactions(e)
	}
	return obj
}

// redactions are the RFC 9537 redacted members for a private contact,
// named by its first role.
func redactions(e Entity) []any {
	role := "Registrant"
	if len(e.Roles) > 0 && e.Roles[0] != "registrant" {
		role = strings.ToUpper(e.Roles[0][:1]) + e.Roles[0][1:]
	}
	var out []any
	for _, f := range []struct{ name, method string }{{"Name", "emptyValue"}, {"Organization", "removal"}, {"Street", "removal"}, {"City", "removal"}, {"Postal Code", "removal"}, {"Phone", "removal"}, {"Email", "removal"}} {
		out = append(out, map[string]any{
			"name":   map[string]any{"type": role + " " + f.name},
			"method": f.method,
			"reason": map[string]any{"description": "the contact asked for privacy"},
		})
	}
	return out
}
