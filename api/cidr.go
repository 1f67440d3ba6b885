package api

import (
	"net/http"
	"net/url"

	"github.com/go-chi/chi/v5"
	"github.com/waymark-dns/waymark/controlplane"
)

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
func (h *handler) createCIDRCollection(w http.ResponseWriter, r *http.Request) error {
	var req createCIDRCollectionRequest
	if err := h.decodeJSON(r, &req); err != nil {
		return err
	}
	c, created, err := h.svc.CreateCIDRCollection(r.Context(), tenantID(r), req.Name, req.CallerReference)
	if err != nil {
		return err
	}
	status := http.StatusOK
	if created {
		status = http.StatusCreated
		w.Header().Set("Location", "/v1/cidrcollections/"+url.PathEscape(c.ID))
	}
	h.writeJSON(w, status, cidrCollectionResponse{Collection: toCIDRCollectionJSON(c)})
	return nil
}

// list is GET /v1/cidrcollections.
func (h *handler) listCIDRCollections(w http.ResponseWriter, r *http.Request) error {
	cs, err := h.svc.ListCIDRCollections(r.Context(), tenantID(r))
	if err != nil {
		return err
	}
	out := cidrCollectionListResponse{CIDRCollections: make([]cidrCollectionJSON, 0, len(cs))}
	for _, c := range cs {
		out.CIDRCollections = append(out.CIDRCollections, toCIDRCollectionJSON(c))
	}
	h.writeJSON(w, http.StatusOK, out)
	return nil
}

// get is GET /v1/cidrcollections/{id}: the collection and its locations.
func (h *handler) getCIDRCollection(w http.ResponseWriter, r *http.Request) error {
	c, locs, err := h.svc.GetCIDRCollection(r.Context(), tenantID(r), chi.URLParam(r, "id"))
	if err != nil {
		return err
	}
	h.writeJSON(w, http.StatusOK, cidrCollectionResponse{Collection: toCIDRCollectionJSON(c), Locations: toCIDRLocationsJSON(locs)})
	return nil
}

// delete is DELETE /v1/cidrcollections/{id}.
func (h *handler) deleteCIDRCollection(w http.ResponseWriter, r *http.Request) error {
	if err := h.svc.DeleteCIDRCollection(r.Context(), tenantID(r), chi.URLParam(r, "id")); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// change is POST /v1/cidrcollections/{id}/changes.
func (h *handler) changeCIDRCollection(w http.ResponseWriter, r *http.Request) error {
	var req changeCIDRCollectionRequest
	if err := h.decodeJSON(r, &req); err != nil {
		return err
	}
	changes := make([]controlplane.CIDRChange, 0, len(req.Changes))
	for _, c := range req.Changes {
		changes = append(changes, controlplane.CIDRChange{LocationName: c.LocationName,
			Action: controlplane.CIDRChangeAction(c.Action), Blocks: c.CIDRList})
	}
	res, err := h.svc.ChangeCIDRCollection(r.Context(), tenantID(r), chi.URLParam(r, "id"), req.CollectionVersion, changes)
	if err != nil {
		return err
	}
	out := changeCIDRCollectionResponse{Collection: toCIDRCollectionJSON(res.Collection), Changes: make([]zoneChangeJSON, 0, len(res.Changes))}
	for _, c := range res.Changes {
		out.Changes = append(out.Changes, zoneChangeJSON{HostedZoneID: c.ZoneID, changeJSON: toChangeJSON(c)})
	}
	h.writeJSON(w, http.StatusOK, out)
	return nil
}

// locations is GET /v1/cidrcollections/{id}/locations.
func (h *handler) listCIDRLocations(w http.ResponseWriter, r *http.Request) error {
	_, locs, err := h.svc.GetCIDRCollection(r.Context(), tenantID(r), chi.URLParam(r, "id"))
	if err != nil {
		return err
	}
	h.writeJSON(w, http.StatusOK, cidrLocationListResponse{Locations: toCIDRLocationsJSON(locs)})
	return nil
}

// blocks is GET /v1/cidrcollections/{id}/blocks?location=.
func (h *handler) listCIDRBlocks(w http.ResponseWriter, r *http.Request) error {
	bs, err := h.svc.ListCIDRBlocks(r.Context(), tenantID(r), chi.URLParam(r, "id"), r.URL.Query().Get("location"))
	if err != nil {
		return err
	}
	out := cidrBlockListResponse{Blocks: make([]cidrBlockJSON, 0, len(bs))}
	for _, b := range bs {
		out.Blocks = append(out.Blocks, cidrBlockJSON{CIDR: b.CIDR.String(), LocationName: b.Location})
	}
	h.writeJSON(w, http.StatusOK, out)
	return nil
}
