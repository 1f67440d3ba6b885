package api

import (
	"io"
	"net/http"
	"net/url"
	"strconv"

	"github.com/go-chi/chi/v5"
	"github.com/waymark-dns/waymark/controlplane"
)

// createZone is POST /v1/hostedzones.
func (h *handler) createZone(w http.ResponseWriter, r *http.Request) error {
	var req createZoneRequest
	if err := h.decodeJSON(r, &req); err != nil {
		return err
	}
	z, ch, err := h.svc.CreateZone(r.Context(), tenantID(r), controlplane.CreateZoneInput{
		Name: req.Name, CallerReference: req.CallerReference, Comment: req.Comment,
		DelegationSetID: req.DelegationSetID, Secondary: fromSecondaryRequest(req.Secondary),
	})
	if err != nil {
		return err
	}
	w.Header().Set("Location", "/v1/hostedzones/"+url.PathEscape(z.ID))
	h.writeJSON(w, http.StatusCreated, createZoneResponse{
		HostedZone: toHostedZoneJSON(z), Change: toChangeJSON(ch), DelegationSet: toDelegationSetJSON(z),
	})
	return nil
}

// listZones is GET /v1/hostedzones?name=&zone_id=&max_items=.
func (h *handler) listZones(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	maxItems, err := maxItemsParam(q)
	if err != nil {
		return err
	}
	page, err := h.svc.ListZones(r.Context(), tenantID(r), controlplane.ListZonesInput{
		StartName: q.Get("name"), StartID: q.Get("zone_id"), MaxItems: maxItems,
	})
	if err != nil {
		return err
	}
	h.writeJSON(w, http.StatusOK, toListZonesResponse(page))
	return nil
}

// getZone is GET /v1/hostedzones/{id}.
func (h *handler) getZone(w http.ResponseWriter, r *http.Request) error {
	z, err := h.svc.GetZone(r.Context(), tenantID(r), chi.URLParam(r, "id"))
	if err != nil {
		return err
	}
	ds := toDelegationSetJSON(z)
	h.writeJSON(w, http.StatusOK, zoneResponse{HostedZone: toHostedZoneJSON(z), DelegationSet: &ds})
	return nil
}

// updateZone is PATCH /v1/hostedzones/{id} {"comment"}.
func (h *handler) updateZone(w http.ResponseWriter, r *http.Request) error {
	var req updateZoneRequest
	if err := h.decodeJSON(r, &req); err != nil {
		return err
	}
	if req.Comment == nil {
		return &controlplane.Error{Code: controlplane.CodeInvalidInput, Message: "comment is required",
			Details: []controlplane.Detail{{Field: "comment", Message: "required"}}}
	}
	z, err := h.svc.UpdateZoneComment(r.Context(), tenantID(r), chi.URLParam(r, "id"), *req.Comment)
	if err != nil {
		return err
	}
	h.writeJSON(w, http.StatusOK, zoneResponse{HostedZone: toHostedZoneJSON(z)})
	return nil
}

// deleteZone is DELETE /v1/hostedzones/{id}.
func (h *handler) deleteZone(w http.ResponseWriter, r *http.Request) error {
	ch, err := h.svc.DeleteZone(r.Context(), tenantID(r), chi.URLParam(r, "id"))
	if err != nil {
		return err
	}
	h.writeJSON(w, http.StatusOK, changeResponse{Change: toChangeJSON(ch)})
	return nil
}

// changeRRSets is POST /v1/hostedzones/{id}/rrsets/changes.
func (h *handler) changeRRSets(w http.ResponseWriter, r *http.Request) error {
	if err := requireMediaType(r, "application/json"); err != nil {
		return err
	}
	b, err := decodeChangeBatch(r.Body)
	if err != nil {
		return err
	}
	b.IdempotencyKey = r.Header.Get("Idempotency-Key")
	ch, err := h.svc.ChangeRRSets(r.Context(), tenantID(r), chi.URLParam(r, "id"), b)
	if err != nil {
		return err
	}
	h.writeJSON(w, http.StatusOK, changeResponse{Change: toChangeJSON(ch)})
	return nil
}

// listRRSets is GET /v1/hostedzones/{id}/rrsets?name=&type=&identifier=&max_items=.
func (h *handler) listRRSets(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	maxItems, err := maxItemsParam(q)
	if err != nil {
		return err
	}
	page, err := h.svc.ListRRSets(r.Context(), tenantID(r), chi.URLParam(r, "id"), controlplane.ListRRSetsInput{
		Name: q.Get("name"), Type: q.Get("type"), Identifier: q.Get("identifier"), MaxItems: maxItems,
	})
	if err != nil {
		return err
	}
	h.writeJSON(w, http.StatusOK, toListRRSetsResponse(page))
	return nil
}

// exportZone is GET /v1/hostedzones/{id}/export: the zone as an RFC 1035
// master file, streamed as the control plane reads it. An error after the
// first byte cannot become a status any more: the response is cut off
// (no final chunk), so the client sees a broken transfer, never a short
// file that looks whole.
func (h *handler) exportZone(w http.ResponseWriter, r *http.Request) error {
	release, err := h.expensive(w, r)
	if err != nil {
		return err
	}
	defer release()
	lw := &lazyWriter{w: w, contentType: "text/dns; charset=utf-8"}
	if err := h.svc.ExportZone(r.Context(), tenantID(r), chi.URLParam(r, "id"), lw); err != nil {
		if !lw.started {
			return err
		}
		h.log.WarnContext(r.Context(), "zone export cut off", "err", err)
		panic(http.ErrAbortHandler)
	}
	return nil
}

// importZone is POST /v1/hostedzones/{id}/import with a master file as
// the body (text/dns or text/plain): one change batch that makes the
// zone's records those of the file. Parse errors come back by line in
// the error's details.
func (h *handler) importZone(w http.ResponseWriter, r *http.Request) error {
	if err := requireMediaType(r, "text/dns", "text/plain"); err != nil {
		return err
	}
	release, err := h.expensive(w, r)
	if err != nil {
		return err
	}
	defer release()
	body, err := io.ReadAll(r.Body)
	if err != nil {
		return err
	}
	ch, err := h.svc.ImportZone(r.Context(), tenantID(r), chi.URLParam(r, "id"), string(body))
	if err != nil {
		return err
	}
	h.writeJSON(w, http.StatusOK, changeResponse{Change: toChangeJSON(ch)})
	return nil
}

// maxItemsParam parses the optional max_items query parameter; 0 means
// "the service's default".
func maxItemsParam(q url.Values) (int, error) {
	s := q.Get("max_items")
	if s == "" {
		return 0, nil
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 1 {
		return 0, &controlplane.Error{Code: controlplane.CodeInvalidInput,
			Message: "max_items must be a positive integer",
			Details: []controlplane.Detail{{Field: "max_items", Message: "must be a positive integer"}}}
	}
	return n, nil
}
