package api

import (
	"context"
	"net/http"
	"net/url"

	"github.com/go-chi/chi/v5"
	"github.com/waymark-dns/waymark/controlplane"
)

// cidrService is what the CIDR collection endpoints need of the control
// plane; *controlplane.Service has it.
type cidrService interface {
	CreateCIDRCollection(ctx context.Context, tenantID, name, callerRef string) (controlplane.CIDRCollection, bool, error)
	ListCIDRCollections(ctx context.Context, tenantID string) ([]controlplane.CIDRCollection, error)
	GetCIDRCollection(ctx context.Context, tenantID, id string) (controlplane.CIDRCollection, []controlplane.CIDRLocation, error)
	DeleteCIDRCollection(ctx context.Context, tenantID, id string) error
	ChangeCIDRCollection(ctx context.Context, tenantID, id string, version *int64, changes []controlplane.CIDRChange) (controlplane.CIDRChangeResult, error)
	ListCIDRBlocks(ctx context.Context, tenantID, id, location string) ([]controlplane.CIDRBlock, error)
}

var _ cidrService = (*controlplane.Service)(nil)

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
