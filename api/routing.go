package api

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/netip"
	"net/url"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/waymark-dns/waymark/controlplane"
	"github.com/waymark-dns/waymark/event"
	"github.com/waymark-dns/waymark/zonecfg"
)

// TestAnswerFunc asks a live nameserver for the answer it would give
// (event.RequestTestAnswer over NATS, wired by cmd/waymark). It returns an
// error wrapping event.ErrNoNameserver when none answers.
type TestAnswerFunc func(ctx context.Context, req event.TestAnswerRequest) (event.TestAnswerResponse, error)

// testAnswerTimeout bounds the wait for a nameserver's test answer.
const testAnswerTimeout = 5 * time.Second

// cidrService is what the CIDR collection endpoints need of the control
// plane; *controlplane.Service (and so *controlplane.HealthChecks) has it.
type cidrService interface {
	CreateCIDRCollection(ctx context.Context, tenantID, name, callerRef string) (controlplane.CIDRCollection, bool, error)
	ListCIDRCollections(ctx context.Context, tenantID string) ([]controlplane.CIDRCollection, error)
	GetCIDRCollection(ctx context.Context, tenantID, id string) (controlplane.CIDRCollection, []controlplane.CIDRLocation, error)
	DeleteCIDRCollection(ctx context.Context, tenantID, id string) error
	ChangeCIDRCollection(ctx context.Context, tenantID, id string, version *int64, changes []controlplane.CIDRChange) (controlplane.CIDRChangeResult, error)
	ListCIDRBlocks(ctx context.Context, tenantID, id, location string) ([]controlplane.CIDRBlock, error)
}

var (
	_ cidrService = (*controlplane.Service)(nil)
	_ cidrService = (*controlplane.HealthChecks)(nil)
)

// routingRoutes registers the CIDR collection endpoints (when the Service
// has them) and the test-answer endpoint (see the package doc on route
// hooks).
func (h *handler) routingRoutes(r chi.Router) {
	r.Group(func(r chi.Router) {
		r.Use(h.requireTenant, h.rateLimit, h.limitBody(h.cfg.MaxBodyBytes))
		r.Get("/v1/hostedzones/{id}/test-answer", h.testAnswer)
		cs, ok := h.svc.(cidrService)
		if !ok {
			return
		}
		x := &cidrHandler{handler: h, cs: cs}
		r.Post("/v1/cidrcollections", x.create)
		r.Get("/v1/cidrcollections", x.list)
		r.Get("/v1/cidrcollections/{id}", x.get)
		r.Delete("/v1/cidrcollections/{id}", x.delete)
		r.Post("/v1/cidrcollections/{id}/changes", x.change)
		r.Get("/v1/cidrcollections/{id}/locations", x.locations)
		r.Get("/v1/cidrcollections/{id}/blocks", x.blocks)
	})
}

type cidrHandler struct {
	*handler
	cs cidrService
}

// JSON shapes of the CIDR collection endpoints.

type cidrCollectionJSON struct {
	ID      string `json:"id"`
	Name    string `json:"name"`
	Version int64  `json:"version"`
}

type createCIDRCollectionRequest struct {
	Name            string `json:"name"`
	CallerReference string `json:"caller_reference"`
}

type cidrCollectionResponse struct {
	Collection cidrCollectionJSON `json:"collection"`
	Locations  []cidrLocationJSON `json:"locations,omitempty"`
}

type cidrCollectionListResponse struct {
	CIDRCollections []cidrCollectionJSON `json:"cidr_collections"`
}

type cidrLocationJSON struct {
	LocationName string `json:"location_name"`
	BlockCount   int    `json:"block_count"`
}

type cidrLocationListResponse struct {
	Locations []cidrLocationJSON `json:"locations"`
}

type cidrBlockJSON struct {
	CIDR         string `json:"cidr"`
	LocationName string `json:"location_name"`
}

type cidrBlockListResponse struct {
	Blocks []cidrBlockJSON `json:"blocks"`
}

type cidrChangeJSON struct {
	LocationName string   `json:"location_name"`
	Action       string   `json:"action"`
	CIDRList     []string `json:"cidr_list"`
}

type changeCIDRCollectionRequest struct {
	CollectionVersion *int64           `json:"collection_version"`
	Changes           []cidrChangeJSON `json:"changes"`
}

type changeCIDRCollectionResponse struct {
	Collection cidrCollectionJSON `json:"collection"`
	// Changes are the zone changes that carry the new content to the
	// nameservers, one per hosted zone using the collection.
	Changes []zoneChangeJSON `json:"changes"`
}

type zoneChangeJSON struct {
	HostedZoneID string `json:"hosted_zone_id"`
	changeJSON
}

func toCIDRCollectionJSON(c controlplane.CIDRCollection) cidrCollectionJSON {
	return cidrCollectionJSON{ID: c.ID, Name: c.Name, Version: c.Version}
}

func toCIDRLocationsJSON(ls []controlplane.CIDRLocation) []cidrLocationJSON {
	out := make([]cidrLocationJSON, 0, len(ls))
	for _, l := range ls {
		out = append(out, cidrLocationJSON{LocationName: l.Name, BlockCount: l.Blocks})
	}
	return out
}

// create is POST /v1/cidrcollections: 201 with Location, or 200 with the
// existing collection for a retry with the same caller reference.
func (x *cidrHandler) create(w http.ResponseWriter, r *http.Request) {
	var req createCIDRCollectionRequest
	if err := x.decodeJSON(r, &req); err != nil {
		x.writeError(w, r, err)
		return
	}
	c, created, err := x.cs.CreateCIDRCollection(r.Context(), tenantID(r), req.Name, req.CallerReference)
	if err != nil {
		x.writeError(w, r, err)
		return
	}
	status := http.StatusOK
	if created {
		status = http.StatusCreated
		w.Header().Set("Location", "/v1/cidrcollections/"+url.PathEscape(c.ID))
	}
	x.writeJSON(w, status, cidrCollectionResponse{Collection: toCIDRCollectionJSON(c)})
}

// list is GET /v1/cidrcollections.
func (x *cidrHandler) list(w http.ResponseWriter, r *http.Request) {
	cs, err := x.cs.ListCIDRCollections(r.Context(), tenantID(r))
	if err != nil {
		x.writeError(w, r, err)
		return
	}
	out := cidrCollectionListResponse{CIDRCollections: make([]cidrCollectionJSON, 0, len(cs))}
	for _, c := range cs {
		out.CIDRCollections = append(out.CIDRCollections, toCIDRCollectionJSON(c))
	}
	x.writeJSON(w, http.StatusOK, out)
}

// get is GET /v1/cidrcollections/{id}: the collection and its locations.
func (x *cidrHandler) get(w http.ResponseWriter, r *http.Request) {
	c, locs, err := x.cs.GetCIDRCollection(r.Context(), tenantID(r), chi.URLParam(r, "id"))
	if err != nil {
		x.writeError(w, r, err)
		return
	}
	x.writeJSON(w, http.StatusOK, cidrCollectionResponse{Collection: toCIDRCollectionJSON(c), Locations: toCIDRLocationsJSON(locs)})
}

// delete is DELETE /v1/cidrcollections/{id}.
func (x *cidrHandler) delete(w http.ResponseWriter, r *http.Request) {
	if err := x.cs.DeleteCIDRCollection(r.Context(), tenantID(r), chi.URLParam(r, "id")); err != nil {
		x.writeError(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// change is POST /v1/cidrcollections/{id}/changes.
func (x *cidrHandler) change(w http.ResponseWriter, r *http.Request) {
	var req changeCIDRCollectionRequest
	if err := x.decodeJSON(r, &req); err != nil {
		x.writeError(w, r, err)
		return
	}
	changes := make([]controlplane.CIDRChange, 0, len(req.Changes))
	for _, c := range req.Changes {
		changes = append(changes, controlplane.CIDRChange{LocationName: c.LocationName,
			Action: controlplane.CIDRChangeAction(c.Action), Blocks: c.CIDRList})
	}
	res, err := x.cs.ChangeCIDRCollection(r.Context(), tenantID(r), chi.URLParam(r, "id"), req.CollectionVersion, changes)
	if err != nil {
		x.writeError(w, r, err)
		return
	}
	out := changeCIDRCollectionResponse{Collection: toCIDRCollectionJSON(res.Collection), Changes: make([]zoneChangeJSON, 0, len(res.Changes))}
	for _, c := range res.Changes {
		out.Changes = append(out.Changes, zoneChangeJSON{HostedZoneID: c.ZoneID, changeJSON: toChangeJSON(c)})
	}
	x.writeJSON(w, http.StatusOK, out)
}

// locations is GET /v1/cidrcollections/{id}/locations.
func (x *cidrHandler) locations(w http.ResponseWriter, r *http.Request) {
	_, locs, err := x.cs.GetCIDRCollection(r.Context(), tenantID(r), chi.URLParam(r, "id"))
	if err != nil {
		x.writeError(w, r, err)
		return
	}
	x.writeJSON(w, http.StatusOK, cidrLocationListResponse{Locations: toCIDRLocationsJSON(locs)})
}

// blocks is GET /v1/cidrcollections/{id}/blocks?location=.
func (x *cidrHandler) blocks(w http.ResponseWriter, r *http.Request) {
	bs, err := x.cs.ListCIDRBlocks(r.Context(), tenantID(r), chi.URLParam(r, "id"), r.URL.Query().Get("location"))
	if err != nil {
		x.writeError(w, r, err)
		return
	}
	out := cidrBlockListResponse{Blocks: make([]cidrBlockJSON, 0, len(bs))}
	for _, b := range bs {
		out.Blocks = append(out.Blocks, cidrBlockJSON{CIDR: b.CIDR.String(), LocationName: b.Location})
	}
	x.writeJSON(w, http.StatusOK, out)
}

// testAnswerResponse is the JSON of GET /v1/hostedzones/{id}/test-answer:
// Route 53's TestDNSAnswer response plus the nameserver's explanation.
type testAnswerResponse struct {
	Nameserver   string             `json:"nameserver"`
	ZoneVersion  int64              `json:"zone_version"`
	RecordName   string             `json:"record_name"`
	RecordType   string             `json:"record_type"`
	ClientIP     string             `json:"client_ip,omitempty"`
	ECS          string             `json:"ecs,omitempty"`
	Protocol     string             `json:"protocol"`
	ResponseCode string             `json:"response_code"`
	Records      []answerRecordJSON `json:"records"`
	Explanation  []string           `json:"explanation"`
}

type answerRecordJSON struct {
	Name string `json:"name"`
	Type string `json:"type"`
	TTL  int64  `json:"ttl"`
	Data string `json:"data"`
}

// testAnswer is GET /v1/hostedzones/{id}/test-answer?name=&type=&client_ip=&ecs=:
// the answer a live nameserver would give, and why. ecs is a prefix
// ("198.51.100.0/24") or an address (then /24 for IPv4, /56 for IPv6, as
// resolvers commonly send).
func (h *handler) testAnswer(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	z, err := h.svc.GetZone(r.Context(), tenantID(r), chi.URLParam(r, "id"))
	if err != nil {
		h.writeError(w, r, err)
		return
	}
	req, err := testAnswerRequest(z, q)
	if err != nil {
		h.writeError(w, r, err)
		return
	}
	if h.cfg.TestAnswer == nil {
		h.writeError(w, r, apiError(codeServiceUnavailable, "Test answers need a nameserver connection, which this API process does not have."))
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), testAnswerTimeout)
	defer cancel()
	resp, err := h.cfg.TestAnswer(ctx, req)
	switch {
	case errors.Is(err, event.ErrNoNameserver):
		h.writeError(w, r, apiError(codeServiceUnavailable, "No nameserver answered the test request; is any nameserver running and connected to NATS?"))
		return
	case err != nil:
		h.writeError(w, r, fmt.Errorf("test answer: %w", err))
		return
	case resp.Error != "" && resp.BadRequest:
		h.writeError(w, r, apiError(controlplane.CodeInvalidInput, resp.Error))
		return
	case resp.Error != "":
		h.writeError(w, r, apiError(codeServiceUnavailable, "The nameserver could not answer: "+resp.Error))
		return
	}
	out := testAnswerResponse{Nameserver: resp.NodeID, ZoneVersion: resp.ZoneVersion, RecordName: req.Name, RecordType: req.Type,
		ClientIP: req.ClientIP, ECS: req.ECS, Protocol: "UDP", ResponseCode: resp.Rcode,
		Records: make([]answerRecordJSON, 0, len(resp.Records)), Explanation: resp.Explanation}
	if out.Explanation == nil {
		out.Explanation = []string{}
	}
	for _, rec := range resp.Records {
		out.Records = append(out.Records, answerRecordJSON{Name: rec.Name, Type: rec.Type, TTL: int64(rec.TTL), Data: rec.Data})
	}
	h.writeJSON(w, http.StatusOK, out)
}

// testAnswerRequest checks the query parameters of a test answer.
func testAnswerRequest(z controlplane.Zone, q url.Values) (event.TestAnswerRequest, error) {
	bad := func(format string, args ...any) (event.TestAnswerRequest, error) {
		return event.TestAnswerRequest{}, apiError(controlplane.CodeInvalidInput, fmt.Sprintf(format, args...))
	}
	rawName := q.Get("name")
	if rawName == "" {
		return bad("name is required")
	}
	name, err := zonecfg.CanonicalName(rawName)
	if err != nil {
		return bad("Invalid name: %v", err)
	}
	if !zonecfg.IsSubdomain(name, z.Name) {
		return bad("%s is not in the hosted zone %s", name, z.Name)
	}
	rawType := q.Get("type")
	if rawType == "" {
		return bad("type is required")
	}
	typ, _, err := zonecfg.ParseType(rawType)
	if err != nil {
		return bad("Invalid type: %v", err)
	}
	req := event.TestAnswerRequest{ZoneID: z.ID, ZoneName: z.Name, Name: name, Type: typ}
	if s := q.Get("client_ip"); s != "" {
		a, err := netip.ParseAddr(s)
		if err != nil || a.Zone() != "" {
			return bad("client_ip %q is not an IP address", s)
		}
		req.ClientIP = a.Unmap().String()
	}
	if s := q.Get("ecs"); s != "" {
		p, err := netip.ParsePrefix(s)
		if err != nil {
			a, aerr := netip.ParseAddr(s)
			if aerr != nil || a.Zone() != "" {
				return bad("ecs %q is not a prefix (198.51.100.0/24) or an address", s)
			}
			a = a.Unmap()
			bits := 24
			if a.Is6() {
				bits = 56
			}
			p = netip.PrefixFrom(a, bits)
		}
		req.ECS = p.Masked().String()
	}
	return req, nil
}
