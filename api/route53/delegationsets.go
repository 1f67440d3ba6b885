package route53

import (
	"context"
	"encoding/xml"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/waymark-dns/waymark/controlplane"
)

// Reusable delegation sets (ROUTE53.md §1.1), on the control plane's
// reusable sets, the ones /v1/delegationsets serves (docs/delegation.md).

// delegationSetService is what the reusable delegation set operations
// need.
type delegationSetService interface {
	CreateDelegationSet(ctx context.Context, tenantID string, in controlplane.CreateDelegationSetInput) (controlplane.DelegationSet, error)
	GetDelegationSet(ctx context.Context, tenantID, setID string) (controlplane.DelegationSet, error)
	ListDelegationSets(ctx context.Context, tenantID string) ([]controlplane.DelegationSet, error)
	DeleteDelegationSet(ctx context.Context, tenantID, setID string) error
}

// maxDelegationSetPage is Route 53's largest (and default) page of
// ListReusableDelegationSets.
const maxDelegationSetPage = 100

// reusableSetXML is a reusable set as Route 53 lists it: with its id and
// caller reference, name servers without the trailing dot.
type reusableSetXML struct {
	ID              string   `xml:"Id"`
	CallerReference string   `xml:"CallerReference"`
	NameServers     []string `xml:"NameServers>NameServer"`
}

func toReusableSetXML(d controlplane.DelegationSet) reusableSetXML {
	ns := make([]string, len(d.NameServers))
	for i, n := range d.NameServers {
		ns[i] = strings.TrimSuffix(n, ".")
	}
	return reusableSetXML{ID: "/delegationset/" + d.ID, CallerReference: d.CallerReference, NameServers: ns}
}

type createReusableDelegationSetRequest struct {
	XMLName         xml.Name `xml:"CreateReusableDelegationSetRequest"`
	CallerReference string   `xml:"CallerReference"`
	HostedZoneID    string   `xml:"HostedZoneId"`
}

type delegationSetResponse struct {
	XMLName       xml.Name
	DelegationSet reusableSetXML `xml:"DelegationSet"`
}

// createReusableDelegationSet is POST /delegationset: a new set from the
// pool, or the set of HostedZoneId made reusable.
func createReusableDelegationSet(h *Handler, c *call) (int, any, error) {
	var req createReusableDelegationSetRequest
	if err := decodeXML(c.body, "CreateReusableDelegationSetRequest", &req); err != nil {
		return 0, nil, err
	}
	d, err := h.svc.CreateDelegationSet(c.ctx, c.tenant, controlplane.CreateDelegationSetInput{
		CallerReference: req.CallerReference, HostedZoneID: bareID(req.HostedZoneID),
	})
	if err != nil {
		return 0, nil, err
	}
	c.location = h.baseURL(c.r) + Prefix + "/delegationset/" + d.ID
	return http.StatusCreated, delegationSetResponse{
		XMLName:       xml.Name{Space: Namespace, Local: "CreateReusableDelegationSetResponse"},
		DelegationSet: toReusableSetXML(d),
	}, nil
}

// getReusableDelegationSet is GET /delegationset/{Id}; the id may come
// bare or /delegationset/-prefixed.
func getReusableDelegationSet(h *Handler, c *call) (int, any, error) {
	d, err := h.svc.GetDelegationSet(c.ctx, c.tenant, c.params[0])
	if err != nil {
		return 0, nil, err
	}
	return http.StatusOK, delegationSetResponse{
		XMLName:       xml.Name{Space: Namespace, Local: "GetReusableDelegationSetResponse"},
		DelegationSet: toReusableSetXML(d),
	}, nil
}

type listReusableDelegationSetsResponse struct {
	XMLName        xml.Name         `xml:"https://route53.amazonaws.com/doc/2013-04-01/ ListReusableDelegationSetsResponse"`
	DelegationSets []reusableSetXML `xml:"DelegationSets>DelegationSet"`
	Marker         string           `xml:"Marker"`
	IsTruncated    bool             `xml:"IsTruncated"`
	NextMarker     string           `xml:"NextMarker,omitempty"`
	MaxItems       string           `xml:"MaxItems"`
}

// listReusableDelegationSets is GET /delegationset?marker&maxitems. The
// marker is the id of the first set of the page, as in Route 53. A tenant
// has at most 100 reusable sets, so the page is cut from the whole list.
func listReusableDelegationSets(h *Handler, c *call) (int, any, error) {
	max, err := maxItems(c.query("maxitems"))
	if err != nil {
		return 0, nil, err
	}
	max = pageSize(max, maxDelegationSetPage)
	sets, err := h.svc.ListDelegationSets(c.ctx, c.tenant)
	if err != nil {
		return 0, nil, err
	}
	marker := c.query("marker")
	start := 0
	if marker != "" {
		id := bareID(marker)
		start = slices.IndexFunc(sets, func(d controlplane.DelegationSet) bool { return d.ID == id })
		if start < 0 {
			return 0, nil, errInvalidInput("The marker " + quoteShort(marker) + " is not valid (the delegation set it names no longer exists).")
		}
	}
	out := listReusableDelegationSetsResponse{Marker: marker, DelegationSets: []reusableSetXML{}, MaxItems: strconv.Itoa(max)}
	page := sets[start:]
	if len(page) > max {
		out.IsTruncated, out.NextMarker = true, page[max].ID
		page = page[:max]
	}
	for _, d := range page {
		out.DelegationSets = append(out.DelegationSets, toReusableSetXML(d))
	}
	return http.StatusOK, out, nil
}

// deleteReusableDelegationSet is DELETE /delegationset/{Id}: refused with
// DelegationSetInUse while zones are on the set.
func deleteReusableDelegationSet(h *Handler, c *call) (int, any, error) {
	if err := h.svc.DeleteDelegationSet(c.ctx, c.tenant, c.params[0]); err != nil {
		return 0, nil, err
	}
	return http.StatusOK, empty("DeleteReusableDelegationSetResponse"), nil
}
