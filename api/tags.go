package api

import (
	"net/http"

	"github.com/go-chi/chi/v5"
	"github.com/waymark-dns/waymark/controlplane"
)

// Tags of hosted zones and health checks (TagService). The Route 53 API's
// tag operations use the same control-plane methods.

type tagJSON struct {
	Key   string `json:"key"`
	Value string `json:"value"`
}

type tagsResponse struct {
	ResourceType string    `json:"resource_type"`
	ResourceID   string    `json:"resource_id"`
	Tags         []tagJSON `json:"tags"`
}

type changeTagsRequest struct {
	Add    []tagJSON `json:"add"`
	Remove []string  `json:"remove"`
}

func toTagsResponse(rt controlplane.ResourceTags) tagsResponse {
	out := tagsResponse{ResourceType: string(rt.Type), ResourceID: rt.ID, Tags: make([]tagJSON, 0, len(rt.Tags))}
	for _, t := range rt.Tags {
		out.Tags = append(out.Tags, tagJSON{Key: t.Key, Value: t.Value})
	}
	return out
}

// listTags is GET /v1/{hostedzones|healthchecks}/{id}/tags.
func (h *handler) listTags(typ controlplane.TagResourceType) handlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		rt, err := h.svc.ListTags(r.Context(), tenantID(r), typ, chi.URLParam(r, "id"))
		if err != nil {
			return err
		}
		h.writeJSON(w, http.StatusOK, toTagsResponse(rt))
		return nil
	}
}

// changeTags is POST /v1/{hostedzones|healthchecks}/{id}/tags {"add","remove"}:
// adds or overwrites, and removes, in one step; answers the tags after it.
func (h *handler) changeTags(typ controlplane.TagResourceType) handlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		var req changeTagsRequest
		if err := h.decodeJSON(r, &req); err != nil {
			return err
		}
		add := make([]controlplane.Tag, 0, len(req.Add))
		for _, t := range req.Add {
			add = append(add, controlplane.Tag{Key: t.Key, Value: t.Value})
		}
		id := chi.URLParam(r, "id")
		if err := h.svc.ChangeTags(r.Context(), tenantID(r), typ, id, add, req.Remove); err != nil {
			return err
		}
		rt, err := h.svc.ListTags(r.Context(), tenantID(r), typ, id)
		if err != nil {
			return err
		}
		h.writeJSON(w, http.StatusOK, toTagsResponse(rt))
		return nil
	}
}
