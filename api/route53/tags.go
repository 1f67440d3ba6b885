package route53

import (
	"context"
	"encoding/xml"
	"net/http"

	"github.com/waymark-dns/waymark/controlplane"
)

// Tags on hosted zones and health checks (ROUTE53.md §8): the resource id
// is the bare id, which the SDKs do not strip, so a /hostedzone/ prefix is
// accepted too.

// tagService is what the tag operations need.
type tagService interface {
	ChangeTags(ctx context.Context, tenantID string, typ controlplane.TagResourceType, resourceID string, add []controlplane.Tag, remove []string) error
	ListTagsForResources(ctx context.Context, tenantID string, typ controlplane.TagResourceType, resourceIDs []string) ([]controlplane.ResourceTags, error)
}

type tagXML struct {
	Key   string `xml:"Key"`
	Value string `xml:"Value"`
}

type resourceTagSetXML struct {
	ResourceType string   `xml:"ResourceType"`
	ResourceID   string   `xml:"ResourceId"`
	Tags         []tagXML `xml:"Tags>Tag"`
}

func toResourceTagSetXML(rt controlplane.ResourceTags) resourceTagSetXML {
	out := resourceTagSetXML{ResourceType: string(rt.Type), ResourceID: rt.ID, Tags: make([]tagXML, 0, len(rt.Tags))}
	for _, t := range rt.Tags {
		out.Tags = append(out.Tags, tagXML{Key: t.Key, Value: t.Value})
	}
	return out
}

type changeTagsForResourceRequest struct {
	XMLName       xml.Name `xml:"ChangeTagsForResourceRequest"`
	AddTags       []tagXML `xml:"AddTags>Tag"`
	RemoveTagKeys []string `xml:"RemoveTagKeys>Key"`
}

// changeTagsForResource is POST /tags/{ResourceType}/{ResourceId}.
func changeTagsForResource(h *Handler, c *call) (int, any, error) {
	ts := h.svc
	var req changeTagsForResourceRequest
	if err := decodeXML(c.body, "ChangeTagsForResourceRequest", &req); err != nil {
		return 0, nil, err
	}
	add := make([]controlplane.Tag, 0, len(req.AddTags))
	for _, t := range req.AddTags {
		add = append(add, controlplane.Tag{Key: t.Key, Value: t.Value})
	}
	if err := ts.ChangeTags(c.ctx, c.tenant, controlplane.TagResourceType(c.params[0]), c.params[1], add, req.RemoveTagKeys); err != nil {
		return 0, nil, err
	}
	return http.StatusOK, empty("ChangeTagsForResourceResponse"), nil
}

type listTagsForResourceResponse struct {
	XMLName        xml.Name          `xml:"https://route53.amazonaws.com/doc/2013-04-01/ ListTagsForResourceResponse"`
	ResourceTagSet resourceTagSetXML `xml:"ResourceTagSet"`
}

// listTagsForResource is GET /tags/{ResourceType}/{ResourceId}.
func listTagsForResource(h *Handler, c *call) (int, any, error) {
	ts := h.svc
	sets, err := ts.ListTagsForResources(c.ctx, c.tenant, controlplane.TagResourceType(c.params[0]), []string{c.params[1]})
	if err != nil {
		return 0, nil, err
	}
	return http.StatusOK, listTagsForResourceResponse{ResourceTagSet: toResourceTagSetXML(sets[0])}, nil
}

type listTagsForResourcesRequest struct {
	XMLName     xml.Name `xml:"ListTagsForResourcesRequest"`
	ResourceIDs []string `xml:"ResourceIds>ResourceId"`
}

type listTagsForResourcesResponse struct {
	XMLName         xml.Name            `xml:"https://route53.amazonaws.com/doc/2013-04-01/ ListTagsForResourcesResponse"`
	ResourceTagSets []resourceTagSetXML `xml:"ResourceTagSets>ResourceTagSet"`
}

// listTagsForResources is POST /tags/{ResourceType} with up to 10 ids.
func listTagsForResources(h *Handler, c *call) (int, any, error) {
	ts := h.svc
	var req listTagsForResourcesRequest
	if err := decodeXML(c.body, "ListTagsForResourcesRequest", &req); err != nil {
		return 0, nil, err
	}
	sets, err := ts.ListTagsForResources(c.ctx, c.tenant, controlplane.TagResourceType(c.params[0]), req.ResourceIDs)
	if err != nil {
		return 0, nil, err
	}
	out := listTagsForResourcesResponse{ResourceTagSets: make([]resourceTagSetXML, 0, len(sets))}
	for _, s := range sets {
		out.ResourceTagSets = append(out.ResourceTagSets, toResourceTagSetXML(s))
	}
	return http.StatusOK, out, nil
}
