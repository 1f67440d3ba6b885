package api

import (
	"context"
	"net/http"

	"github.com/go-chi/chi/v5"
	"github.com/waymark-dns/waymark/controlplane"
)

// tagService is what the tag endpoints need of the control plane;
// *controlplane.Service has it. The Route 53 API's tag operations use the
// same methods.
type tagService interface {
	ChangeTags(ctx context.Context, tenantID string, typ controlplane.TagResourceType, resourceID string, add []controlplane.Tag, remove []string) error
	ListTags(ctx context.Context, tenantID string, typ controlplane.TagResourceType, resourceID string) (controlplane.ResourceTags, error)
}

var _ tagService = (*controlplane.Service)(nil)

// tagRoutes registers the tags of hosted zones and health checks (see the
// package doc on route hooks).
func (h *handler) tagRoutes(r chi.Router) {
	ts, ok := h.svc.(tagService)
	if !ok {
		return
	}
	x := &tagHandler{handler: h, ts: ts}
	r.Group(func(r chi.Router) {
		r.Use(h.requireTenant, h.rateLimit, h.limitBody(h.cfg.MaxBodyBytes))
		r.Get("/v1/hostedzones/{id}/tags", x.list(controlplane.TagHostedZone))
		r.Post("/v1/hostedzones/{id}/tags", x.change(controlplane.TagHostedZone))
		r.Get("/v1/healthchecks/{id}/tags", x.list(controlplane.TagHealthCheck))
		r.Post("/v1/healthchecks/{id}/tags", x.change(controlplane.TagHealthCheck))
	})
}

type tagHandler struct {
	*handler
	ts tagService
}

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

// list is GET /v1/{hostedzones|healthchecks}/{id}/tags.
func (x *tagHandler) list(typ controlplane.TagResourceType) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		rt, err := x.ts.ListTags(r.Context(), tenantID(r), typ, chi.URLParam(r, "id"))
		if err != nil {
			x.writeError(w, r, err)
			return
		}
		x.writeJSON(w, http.StatusOK, toTagsResponse(rt))
	}
}

// change is POST /v1/{hostedzones|healthchecks}/{id}/tags {"add","remove"}:
// adds or overwrites, and removes, in one step; answers the tags after it.
func (x *tagHandler) change(typ controlplane.TagResourceType) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		var req changeTagsRequest
		if err := x.decodeJSON(r, &req); err != nil {
			x.writeError(w, r, err)
			return
		}
		add := make([]controlplane.Tag, 0, len(req.Add))
		for _, t := range req.Add {
			add = append(add, controlplane.Tag{Key: t.Key, Value: t.Value})
		}
		id := chi.URLParam(r, "id")
		if err := x.ts.ChangeTags(r.Context(), tenantID(r), typ, id, add, req.Remove); err != nil {
			x.writeError(w, r, err)
			return
		}
		rt, err := x.ts.ListTags(r.Context(), tenantID(r), typ, id)
		if err != nil {
			x.writeError(w, r, err)
			return
		}
		x.writeJSON(w, http.StatusOK, toTagsResponse(rt))
	}
}
