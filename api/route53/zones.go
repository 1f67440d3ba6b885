package route53

import (
	"encoding/xml"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/waymark-dns/waymark/controlplane"
)

// Hosted zones and changes (ROUTE53.md §2.3, §2.4, §2.7).

// timeFormat is Route 53's timestamp: ISO 8601 UTC with milliseconds.
const timeFormat = "2006-01-02T15:04:05.000Z"

func r53Time(t time.Time) string { return t.UTC().Format(timeFormat) }

type hostedZoneXML struct {
	ID                     string              `xml:"Id"`
	Name                   string              `xml:"Name"`
	CallerReference        string              `xml:"CallerReference"`
	Config                 hostedZoneConfigXML `xml:"Config"`
	ResourceRecordSetCount int                 `xml:"ResourceRecordSetCount"`
}

// hostedZoneConfigXML always carries PrivateZone: cert-manager reads it
// without a nil check.
type hostedZoneConfigXML struct {
	Comment     string `xml:"Comment,omitempty"`
	PrivateZone bool   `xml:"PrivateZone"`
}

type changeInfoXML struct {
	ID          string `xml:"Id"`
	Status      string `xml:"Status"`
	SubmittedAt string `xml:"SubmittedAt"`
	Comment     string `xml:"Comment,omitempty"`
}

type delegationSetXML struct {
	ID          string   `xml:"Id,omitempty"` // reusable sets only
	NameServers []string `xml:"NameServers>NameServer"`
}

func toHostedZoneXML(z controlplane.Zone) hostedZoneXML {
	return hostedZoneXML{
		ID: "/hostedzone/" + z.ID, Name: nameToR53(z.Name), CallerReference: z.CallerReference,
		Config:                 hostedZoneConfigXML{Comment: z.Comment},
		ResourceRecordSetCount: z.RRSetCount,
	}
}

func toChangeInfoXML(c controlplane.ChangeInfo) changeInfoXML {
	return changeInfoXML{ID: "/change/" + c.ID, Status: string(c.Status), SubmittedAt: r53Time(c.SubmittedAt), Comment: c.Comment}
}

// toDelegationSetXML lists the zone's name servers as Route 53 does,
// without the trailing dot.
func toDelegationSetXML(z controlplane.Zone) *delegationSetXML {
	ns := make([]string, len(z.NameServers))
	for i, n := range z.NameServers {
		ns[i] = strings.TrimSuffix(n, ".")
	}
	return &delegationSetXML{NameServers: ns}
}

type createHostedZoneRequest struct {
	XMLName          xml.Name  `xml:"CreateHostedZoneRequest"`
	Name             string    `xml:"Name"`
	CallerReference  string    `xml:"CallerReference"`
	VPC              *struct{} `xml:"VPC"`
	HostedZoneConfig *struct {
		Comment     string `xml:"Comment"`
		PrivateZone bool   `xml:"PrivateZone"`
	} `xml:"HostedZoneConfig"`
	DelegationSetID string `xml:"DelegationSetId"`
}

type createHostedZoneResponse struct {
	XMLName       xml.Name          `xml:"https://route53.amazonaws.com/doc/2013-04-01/ CreateHostedZoneResponse"`
	HostedZone    hostedZoneXML     `xml:"HostedZone"`
	ChangeInfo    changeInfoXML     `xml:"ChangeInfo"`
	DelegationSet *delegationSetXML `xml:"DelegationSet"`
}

// createHostedZone is POST /hostedzone.
func createHostedZone(h *Handler, c *call) (int, any, error) {
	var req createHostedZoneRequest
	if err := decodeXML(c.body, "CreateHostedZoneRequest", &req); err != nil {
		return 0, nil, err
	}
	if req.VPC != nil || (req.HostedZoneConfig != nil && req.HostedZoneConfig.PrivateZone) {
		return 0, nil, errInvalidInput("Private hosted zones are not supported by this service.")
	}
	in := controlplane.CreateZoneInput{Name: nameFromR53(req.Name), CallerReference: req.CallerReference, DelegationSetID: req.DelegationSetID}
	if req.HostedZoneConfig != nil {
		in.Comment = req.HostedZoneConfig.Comment
	}
	z, ch, err := h.svc.CreateZone(c.ctx, c.tenant, in)
	if err != nil {
		return 0, nil, err
	}
	c.location = h.baseURL(c.r) + Prefix + "/hostedzone/" + z.ID
	ds := toDelegationSetXML(z)
	if req.DelegationSetID != "" {
		// A zone on a reusable set names it, as in Route 53.
		ds.ID = "/delegationset/" + z.DelegationSetID
	}
	return http.StatusCreated, createHostedZoneResponse{
		HostedZone: toHostedZoneXML(z), ChangeInfo: toChangeInfoXML(ch), DelegationSet: ds,
	}, nil
}

type getHostedZoneResponse struct {
	XMLName       xml.Name          `xml:"https://route53.amazonaws.com/doc/2013-04-01/ GetHostedZoneResponse"`
	HostedZone    hostedZoneXML     `xml:"HostedZone"`
	DelegationSet *delegationSetXML `xml:"DelegationSet"`
}

// getHostedZone is GET /hostedzone/{Id}.
func getHostedZone(h *Handler, c *call) (int, any, error) {
	z, err := h.svc.GetZone(c.ctx, c.tenant, c.params[0])
	if err != nil {
		return 0, nil, err
	}
	return http.StatusOK, getHostedZoneResponse{HostedZone: toHostedZoneXML(z), DelegationSet: toDelegationSetXML(z)}, nil
}

type listHostedZonesResponse struct {
	XMLName     xml.Name        `xml:"https://route53.amazonaws.com/doc/2013-04-01/ ListHostedZonesResponse"`
	HostedZones []hostedZoneXML `xml:"HostedZones>HostedZone"`
	Marker      string          `xml:"Marker"`
	IsTruncated bool            `xml:"IsTruncated"`
	NextMarker  string          `xml:"NextMarker,omitempty"`
	MaxItems    string          `xml:"MaxItems"`
}

// listHostedZones is GET /hostedzone?marker&maxitems. The order is
// ListHostedZonesByName's; the marker is the id of the first zone of the
// page, as in Route 53.
func listHostedZones(h *Handler, c *call) (int, any, error) {
	max, err := maxItems(c.query("maxitems"))
	if err != nil {
		return 0, nil, err
	}
	if id := c.query("delegationsetid"); id != "" {
		return 0, nil, newError(http.StatusBadRequest, "NoSuchDelegationSet",
			"Reusable delegation sets are not supported by this service: "+quoteShort(id))
	}
	marker := c.query("marker")
	out := listHostedZonesResponse{Marker: marker, HostedZones: []hostedZoneXML{}}
	if c.query("hostedzonetype") == "PrivateHostedZone" {
		// There are no private zones.
		out.MaxItems = strconv.Itoa(pageSize(max, controlplane.DefaultZonePageSize))
		return http.StatusOK, out, nil
	}
	in := controlplane.ListZonesInput{MaxItems: max}
	if marker != "" {
		z, err := h.svc.GetZone(c.ctx, c.tenant, marker)
		if err != nil {
			if controlplane.IsCode(err, controlplane.CodeNoSuchHostedZone) {
				return 0, nil, errInvalidInput("The marker " + quoteShort(marker) + " is not valid (the zone it names no longer exists).")
			}
			return 0, nil, err
		}
		in.StartName, in.StartID = z.Name, z.ID
	}
	page, err := h.svc.ListZones(c.ctx, c.tenant, in)
	if err != nil {
		return 0, nil, err
	}
	for _, z := range page.Zones {
		out.HostedZones = append(out.HostedZones, toHostedZoneXML(z))
	}
	out.IsTruncated, out.MaxItems = page.IsTruncated, strconv.Itoa(page.MaxItems)
	if page.IsTruncated {
		out.NextMarker = page.NextID
	}
	return http.StatusOK, out, nil
}

type listHostedZonesByNameResponse struct {
	XMLName          xml.Name        `xml:"https://route53.amazonaws.com/doc/2013-04-01/ ListHostedZonesByNameResponse"`
	HostedZones      []hostedZoneXML `xml:"HostedZones>HostedZone"`
	DNSName          string          `xml:"DNSName,omitempty"`
	HostedZoneID     string          `xml:"HostedZoneId,omitempty"`
	IsTruncated      bool            `xml:"IsTruncated"`
	NextDNSName      string          `xml:"NextDNSName,omitempty"`
	NextHostedZoneID string          `xml:"NextHostedZoneId,omitempty"`
	MaxItems         string          `xml:"MaxItems"`
}

// listHostedZonesByName is GET /hostedzonesbyname?dnsname&hostedzoneid&maxitems:
// dnsname is a start position, not a filter.
func listHostedZonesByName(h *Handler, c *call) (int, any, error) {
	max, err := maxItems(c.query("maxitems"))
	if err != nil {
		return 0, nil, err
	}
	dnsName, zoneID := c.query("dnsname"), c.query("hostedzoneid")
	if dnsName == "" && zoneID != "" {
		return 0, nil, errInvalidInput("HostedZoneId can be specified only together with DNSName.")
	}
	in := controlplane.ListZonesInput{StartName: nameFromR53(dnsName), StartID: bareID(zoneID), MaxItems: max}
	page, err := h.svc.ListZones(c.ctx, c.tenant, in)
	if err != nil {
		if e, ok := controlplane.AsError(err); ok && e.Code == controlplane.CodeInvalidInput && dnsName != "" && strings.Contains(e.Message, "DNSName") {
			return 0, nil, newError(http.StatusBadRequest, "InvalidDomainName", e.Message)
		}
		return 0, nil, err
	}
	out := listHostedZonesByNameResponse{
		HostedZones: []hostedZoneXML{}, DNSName: dnsName, HostedZoneID: zoneID,
		IsTruncated: page.IsTruncated, MaxItems: strconv.Itoa(page.MaxItems),
	}
	for _, z := range page.Zones {
		out.HostedZones = append(out.HostedZones, toHostedZoneXML(z))
	}
	if page.IsTruncated {
		out.NextDNSName, out.NextHostedZoneID = nameToR53(page.NextName), page.NextID
	}
	return http.StatusOK, out, nil
}

type getHostedZoneCountResponse struct {
	XMLName         xml.Name `xml:"https://route53.amazonaws.com/doc/2013-04-01/ GetHostedZoneCountResponse"`
	HostedZoneCount int      `xml:"HostedZoneCount"`
}

// getHostedZoneCount is GET /hostedzonecount.
func getHostedZoneCount(h *Handler, c *call) (int, any, error) {
	n, err := h.svc.ZoneCounts(c.ctx, c.tenant)
	if err != nil {
		return 0, nil, err
	}
	return http.StatusOK, getHostedZoneCountResponse{HostedZoneCount: n.Zones}, nil
}

type updateHostedZoneCommentRequest struct {
	XMLName xml.Name `xml:"UpdateHostedZoneCommentRequest"`
	Comment string   `xml:"Comment"`
}

type updateHostedZoneCommentResponse struct {
	XMLName    xml.Name      `xml:"https://route53.amazonaws.com/doc/2013-04-01/ UpdateHostedZoneCommentResponse"`
	HostedZone hostedZoneXML `xml:"HostedZone"`
}

// updateHostedZoneComment is POST /hostedzone/{Id}; no Comment clears it.
func updateHostedZoneComment(h *Handler, c *call) (int, any, error) {
	var req updateHostedZoneCommentRequest
	if err := decodeXML(c.body, "UpdateHostedZoneCommentRequest", &req); err != nil {
		return 0, nil, err
	}
	z, err := h.svc.UpdateZoneComment(c.ctx, c.tenant, c.params[0], req.Comment)
	if err != nil {
		return 0, nil, err
	}
	return http.StatusOK, updateHostedZoneCommentResponse{HostedZone: toHostedZoneXML(z)}, nil
}

type changeInfoResponse struct {
	XMLName    xml.Name
	ChangeInfo changeInfoXML `xml:"ChangeInfo"`
}

func changeResponse(root string, ch controlplane.ChangeInfo) changeInfoResponse {
	return changeInfoResponse{XMLName: xml.Name{Space: Namespace, Local: root}, ChangeInfo: toChangeInfoXML(ch)}
}

// deleteHostedZone is DELETE /hostedzone/{Id}.
func deleteHostedZone(h *Handler, c *call) (int, any, error) {
	ch, err := h.svc.DeleteZone(c.ctx, c.tenant, c.params[0])
	if err != nil {
		return 0, nil, err
	}
	return http.StatusOK, changeResponse("DeleteHostedZoneResponse", ch), nil
}

// getChange is GET /change/{Id}; the id may come bare, prefixed or
// percent-encoded.
func getChange(h *Handler, c *call) (int, any, error) {
	ch, err := h.svc.GetChange(c.ctx, c.tenant, c.params[0])
	if err != nil {
		return 0, nil, err
	}
	return http.StatusOK, changeResponse("GetChangeResponse", ch), nil
}

// maxItems parses a maxitems parameter; "" is 0, the service's default.
func maxItems(s string) (int, error) {
	if s == "" {
		return 0, nil
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 1 {
		return 0, errInvalidInput("1 validation error detected: Value '" + truncate(s) + "' at 'maxItems' failed to satisfy constraint: Member must be a positive integer")
	}
	return n, nil
}

// pageSize is the page size a listing uses for a requested maximum.
func pageSize(requested, def int) int {
	if requested <= 0 || requested > def {
		return def
	}
	return requested
}

func truncate(s string) string {
	if len(s) > 64 {
		s = s[:64]
	}
	return strings.ToValidUTF8(s, "?")
}

// baseURL is the scheme and host the client used, for Location headers.
func (h *Handler) baseURL(r *http.Request) string {
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	return scheme + "://" + r.Host
}
