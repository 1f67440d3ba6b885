package route53

import (
	"context"
	"encoding/xml"
	"errors"
	"fmt"
	"net/http"
	"net/netip"
	"strconv"

	"github.com/waymark-dns/waymark/controlplane"
	"github.com/waymark-dns/waymark/event"
	"github.com/waymark-dns/waymark/zonecfg"
)

// Limits, geolocations, test answers and CIDR collections.

type limitXML struct {
	Type  string `xml:"Type"`
	Value int    `xml:"Value"`
}

type limitResponse struct {
	XMLName xml.Name
	Limit   limitXML `xml:"Limit"`
	Count   int      `xml:"Count"`
}

// getAccountLimit is GET /accountlimit/{Type}.
func getAccountLimit(h *Handler, c *call) (int, any, error) {
	typ := c.params[0]
	out := limitResponse{XMLName: xml.Name{Space: Namespace, Local: "GetAccountLimitResponse"}, Limit: limitXML{Type: typ}}
	switch typ {
	case "MAX_HOSTED_ZONES_BY_OWNER":
		n, err := h.svc.ZoneCounts(c.ctx, c.tenant)
		if err != nil {
			return 0, nil, err
		}
		out.Limit.Value, out.Count = n.ZoneQuota, n.Zones
	case "MAX_HEALTH_CHECKS_BY_OWNER":
		n, q, err := h.svc.HealthCheckCounts(c.ctx, c.tenant)
		if err != nil {
			return 0, nil, err
		}
		out.Limit.Value, out.Count = q, n
	case "MAX_REUSABLE_DELEGATION_SETS_BY_OWNER", "MAX_TRAFFIC_POLICIES_BY_OWNER", "MAX_TRAFFIC_POLICY_INSTANCES_BY_OWNER":
		// Features this service does not offer: none allowed, none used.
	default:
		return 0, nil, errInvalidInput("Value '" + truncate(typ) + "' at 'type' failed to satisfy constraint: Member must satisfy enum value set: [MAX_HEALTH_CHECKS_BY_OWNER, MAX_HOSTED_ZONES_BY_OWNER, MAX_TRAFFIC_POLICY_INSTANCES_BY_OWNER, MAX_REUSABLE_DELEGATION_SETS_BY_OWNER, MAX_TRAFFIC_POLICIES_BY_OWNER]")
	}
	return http.StatusOK, out, nil
}

// getHostedZoneLimit is GET /hostedzonelimit/{Id}/{Type}.
func getHostedZoneLimit(h *Handler, c *call) (int, any, error) {
	typ := c.params[1]
	switch typ {
	case "MAX_RRSETS_BY_ZONE", "MAX_VPCS_ASSOCIATED_BY_ZONE":
	default:
		return 0, nil, errInvalidInput("Value '" + truncate(typ) + "' at 'type' failed to satisfy constraint: Member must satisfy enum value set: [MAX_RRSETS_BY_ZONE, MAX_VPCS_ASSOCIATED_BY_ZONE]")
	}
	z, err := h.svc.GetZone(c.ctx, c.tenant, c.params[0])
	if err != nil {
		return 0, nil, err
	}
	if typ == "MAX_VPCS_ASSOCIATED_BY_ZONE" {
		return 0, nil, newError(http.StatusBadRequest, "HostedZoneNotPrivate", "The specified hosted zone is a public hosted zone.")
	}
	n, err := h.svc.ZoneCounts(c.ctx, c.tenant)
	if err != nil {
		return 0, nil, err
	}
	return http.StatusOK, limitResponse{XMLName: xml.Name{Space: Namespace, Local: "GetHostedZoneLimitResponse"},
		Limit: limitXML{Type: typ, Value: n.RecordQuota}, Count: z.RRSetCount}, nil
}

// geoLocationDetailsXML is Route 53's GeoLocationDetails. Country and
// subdivision names are left out: the control plane keeps codes only.
type geoLocationDetailsXML struct {
	ContinentCode   string `xml:"ContinentCode,omitempty"`
	ContinentName   string `xml:"ContinentName,omitempty"`
	CountryCode     string `xml:"CountryCode,omitempty"`
	CountryName     string `xml:"CountryName,omitempty"`
	SubdivisionCode string `xml:"SubdivisionCode,omitempty"`
}

// geoLocations lists every location in Route 53's ListGeoLocations
// order: continents, then countries by code ("*", the default, first),
// each country's subdivisions right after it.
func geoLocations() []geoLocationDetailsXML {
	var out []geoLocationDetailsXML
	for _, c := range zonecfg.Continents() {
		out = append(out, geoLocationDetailsXML{ContinentCode: c, ContinentName: zonecfg.ContinentName(c)})
	}
	out = append(out, geoLocationDetailsXML{CountryCode: zonecfg.GeoDefault, CountryName: "Default"})
	for _, cc := range zonecfg.Countries() {
		out = append(out, geoLocationDetailsXML{CountryCode: cc})
		for _, s := range zonecfg.Subdivisions(cc) {
			out = append(out, geoLocationDetailsXML{CountryCode: cc, SubdivisionCode: s})
		}
	}
	return out
}

type getGeoLocationResponse struct {
	XMLName            xml.Name              `xml:"https://route53.amazonaws.com/doc/2013-04-01/ GetGeoLocationResponse"`
	GeoLocationDetails geoLocationDetailsXML `xml:"GeoLocationDetails"`
}

// getGeoLocation is GET /geolocation?continentcode&countrycode&subdivisioncode.
func getGeoLocation(_ *Handler, c *call) (int, any, error) {
	want := geoLocationDetailsXML{ContinentCode: c.query("continentcode"), CountryCode: c.query("countrycode"), SubdivisionCode: c.query("subdivisioncode")}
	if want.ContinentCode != "" && (want.CountryCode != "" || want.SubdivisionCode != "") {
		return 0, nil, errInvalidInput("ContinentCode cannot be specified together with CountryCode or SubdivisionCode.")
	}
	if want.SubdivisionCode != "" && want.CountryCode == "" {
		return 0, nil, errInvalidInput("SubdivisionCode requires CountryCode.")
	}
	for _, g := range geoLocations() {
		if g.ContinentCode == want.ContinentCode && g.CountryCode == want.CountryCode && g.SubdivisionCode == want.SubdivisionCode &&
			(want.ContinentCode != "" || want.CountryCode != "") {
			return http.StatusOK, getGeoLocationResponse{GeoLocationDetails: g}, nil
		}
	}
	return 0, nil, newError(http.StatusNotFound, "NoSuchGeoLocation", "The specified geo location does not exist.")
}

type listGeoLocationsResponse struct {
	XMLName                xml.Name                `xml:"https://route53.amazonaws.com/doc/2013-04-01/ ListGeoLocationsResponse"`
	GeoLocationDetailsList []geoLocationDetailsXML `xml:"GeoLocationDetailsList>GeoLocationDetails"`
	IsTruncated            bool                    `xml:"IsTruncated"`
	NextContinentCode      string                  `xml:"NextContinentCode,omitempty"`
	NextCountryCode        string                  `xml:"NextCountryCode,omitempty"`
	NextSubdivisionCode    string                  `xml:"NextSubdivisionCode,omitempty"`
	MaxItems               string                  `xml:"MaxItems"`
}

// listGeoLocations is GET /geolocations?startcontinentcode&startcountrycode&startsubdivisioncode&maxitems.
func listGeoLocations(_ *Handler, c *call) (int, any, error) {
	max, err := maxItems(c.query("maxitems"))
	if err != nil {
		return 0, nil, err
	}
	max = pageSize(max, 100)
	all := geoLocations()
	i := 0
	if sc, sn, ss := c.query("startcontinentcode"), c.query("startcountrycode"), c.query("startsubdivisioncode"); sc != "" || sn != "" || ss != "" {
		i = -1
		for j, g := range all {
			if g.ContinentCode == sc && g.CountryCode == sn && g.SubdivisionCode == ss {
				i = j
				break
			}
		}
		if i < 0 {
			return 0, nil, errInvalidInput("The start location is not a valid geo location.")
		}
	}
	end := min(i+max, len(all))
	out := listGeoLocationsResponse{GeoLocationDetailsList: all[i:end], MaxItems: strconv.Itoa(max)}
	if end < len(all) {
		n := all[end]
		out.IsTruncated = true
		out.NextContinentCode, out.NextCountryCode, out.NextSubdivisionCode = n.ContinentCode, n.CountryCode, n.SubdivisionCode
	}
	return http.StatusOK, out, nil
}

type testDNSAnswerResponse struct {
	XMLName      xml.Name `xml:"https://route53.amazonaws.com/doc/2013-04-01/ TestDNSAnswerResponse"`
	Nameserver   string   `xml:"Nameserver"`
	RecordName   string   `xml:"RecordName"`
	RecordType   string   `xml:"RecordType"`
	RecordData   []string `xml:"RecordData>RecordDataEntry"`
	ResponseCode string   `xml:"ResponseCode"`
	Protocol     string   `xml:"Protocol"`
}

// testDNSAnswer is GET /testdnsanswer?hostedzoneid&recordname&recordtype&resolverip&edns0clientsubnetip&edns0clientsubnetmask:
// the answer a live nameserver gives, as /v1's test-answer.
func testDNSAnswer(h *Handler, c *call) (int, any, error) {
	z, err := h.svc.GetZone(c.ctx, c.tenant, c.query("hostedzoneid"))
	if err != nil {
		return 0, nil, err
	}
	name, err := zonecfg.CanonicalName(nameFromR53(c.query("recordname")))
	if err != nil {
		return 0, nil, errInvalidInput("Invalid RecordName: " + err.Error())
	}
	if !zonecfg.IsSubdomain(name, z.Name) {
		return 0, nil, errInvalidInput(fmt.Sprintf("%s is not in the hosted zone %s", nameToR53(name), nameToR53(z.Name)))
	}
	typ, _, err := zonecfg.ParseType(c.query("recordtype"))
	if err != nil {
		return 0, nil, errInvalidInput("Invalid RecordType: " + err.Error())
	}
	req := event.TestAnswerRequest{ZoneID: z.ID, ZoneName: z.Name, Name: name, Type: typ}
	if s := c.query("resolverip"); s != "" {
		a, err := netip.ParseAddr(s)
		if err != nil || a.Zone() != "" {
			return 0, nil, errInvalidInput("ResolverIP " + quoteShort(s) + " is not an IP address.")
		}
		req.ClientIP = a.Unmap().String()
	}
	if s := c.query("edns0clientsubnetip"); s != "" {
		a, err := netip.ParseAddr(s)
		if err != nil || a.Zone() != "" {
			return 0, nil, errInvalidInput("EDNS0ClientSubnetIP " + quoteShort(s) + " is not an IP address.")
		}
		a = a.Unmap()
		bits := 24
		if a.Is6() {
			bits = 64
		}
		if m := c.query("edns0clientsubnetmask"); m != "" {
			n, err := strconv.Atoi(m)
			if err != nil || n < 0 || n > a.BitLen() {
				return 0, nil, errInvalidInput("EDNS0ClientSubnetMask " + quoteShort(m) + " is not a valid prefix length.")
			}
			bits = n
		}
		req.ECS = netip.PrefixFrom(a, bits).Masked().String()
	}
	if h.cfg.TestAnswer == nil {
		return 0, nil, newError(http.StatusServiceUnavailable, "ServiceUnavailable", "Test answers need a nameserver connection, which this API process does not have.")
	}
	ctx, cancel := context.WithTimeout(c.ctx, testAnswerTimeout)
	defer cancel()
	resp, err := h.cfg.TestAnswer(ctx, req)
	switch {
	case errors.Is(err, event.ErrNoNameserver):
		return 0, nil, newError(http.StatusServiceUnavailable, "ServiceUnavailable", "No nameserver answered the test request.")
	case err != nil:
		return 0, nil, fmt.Errorf("test answer: %w", err)
	case resp.Error != "" && resp.BadRequest:
		return 0, nil, errInvalidInput(resp.Error)
	case resp.Error != "":
		return 0, nil, newError(http.StatusServiceUnavailable, "ServiceUnavailable", "The nameserver could not answer: "+resp.Error)
	}
	out := testDNSAnswerResponse{Nameserver: resp.NodeID, RecordName: nameToR53(name), RecordType: typ,
		RecordData: make([]string, 0, len(resp.Records)), ResponseCode: resp.Rcode, Protocol: "UDP"}
	for _, rec := range resp.Records {
		out.RecordData = append(out.RecordData, valueToR53(rec.Type, rec.Data))
	}
	return http.StatusOK, out, nil
}

// CIDR collections (ROUTE53.md §1.1, docs/routing.md).

// cidrService is what the CIDR collection operations need.
type cidrService interface {
	CreateCIDRCollection(ctx context.Context, tenantID, name, callerRef string) (controlplane.CIDRCollection, bool, error)
	ListCIDRCollections(ctx context.Context, tenantID string) ([]controlplane.CIDRCollection, error)
	GetCIDRCollection(ctx context.Context, tenantID, id string) (controlplane.CIDRCollection, []controlplane.CIDRLocation, error)
	DeleteCIDRCollection(ctx context.Context, tenantID, id string) error
	ChangeCIDRCollection(ctx context.Context, tenantID, id string, version *int64, changes []controlplane.CIDRChange) (controlplane.CIDRChangeResult, error)
	ListCIDRBlocks(ctx context.Context, tenantID, id, location string) ([]controlplane.CIDRBlock, error)
}

type collectionXML struct {
	Arn     string `xml:"Arn"`
	ID      string `xml:"Id"`
	Name    string `xml:"Name"`
	Version int64  `xml:"Version"`
}

func toCollectionXML(c controlplane.CIDRCollection) collectionXML {
	return collectionXML{Arn: "arn:aws:route53:::cidrcollection/" + c.ID, ID: c.ID, Name: c.Name, Version: c.Version}
}

type createCidrCollectionRequest struct {
	XMLName         xml.Name `xml:"CreateCidrCollectionRequest"`
	Name            string   `xml:"Name"`
	CallerReference string   `xml:"CallerReference"`
}

type createCidrCollectionResponse struct {
	XMLName    xml.Name      `xml:"https://route53.amazonaws.com/doc/2013-04-01/ CreateCidrCollectionResponse"`
	Collection collectionXML `xml:"Collection"`
}

// createCidrCollection is POST /cidrcollection.
func createCidrCollection(h *Handler, c *call) (int, any, error) {
	cs := h.svc
	var req createCidrCollectionRequest
	if err := decodeXML(c.body, "CreateCidrCollectionRequest", &req); err != nil {
		return 0, nil, err
	}
	col, _, err := cs.CreateCIDRCollection(c.ctx, c.tenant, req.Name, req.CallerReference)
	if err != nil {
		return 0, nil, err
	}
	c.location = h.baseURL(c.r) + Prefix + "/cidrcollection/" + col.ID
	return http.StatusCreated, createCidrCollectionResponse{Collection: toCollectionXML(col)}, nil
}

type listCidrCollectionsResponse struct {
	XMLName         xml.Name        `xml:"https://route53.amazonaws.com/doc/2013-04-01/ ListCidrCollectionsResponse"`
	CidrCollections []collectionXML `xml:"CidrCollections>member"`
}

// listCidrCollections is GET /cidrcollection: one page (at most 5
// collections per tenant).
func listCidrCollections(h *Handler, c *call) (int, any, error) {
	cs := h.svc
	list, err := cs.ListCIDRCollections(c.ctx, c.tenant)
	if err != nil {
		return 0, nil, err
	}
	out := listCidrCollectionsResponse{CidrCollections: make([]collectionXML, 0, len(list))}
	for _, col := range list {
		out.CidrCollections = append(out.CidrCollections, toCollectionXML(col))
	}
	return http.StatusOK, out, nil
}

type changeCidrCollectionRequest struct {
	XMLName           xml.Name `xml:"ChangeCidrCollectionRequest"`
	CollectionVersion *int64   `xml:"CollectionVersion"`
	Changes           []struct {
		LocationName string   `xml:"LocationName"`
		Action       string   `xml:"Action"`
		CidrList     []string `xml:"CidrList>Cidr"`
	} `xml:"Changes>member"`
}

type changeCidrCollectionResponse struct {
	XMLName xml.Name `xml:"https://route53.amazonaws.com/doc/2013-04-01/ ChangeCidrCollectionResponse"`
	ID      string   `xml:"Id"`
}

// changeCidrCollection is POST /cidrcollection/{Id}. The returned Id is
// the change of the first hosted zone whose records use the collection
// (GetChange tells when the nameservers serve it), empty when none does.
func changeCidrCollection(h *Handler, c *call) (int, any, error) {
	cs := h.svc
	var req changeCidrCollectionRequest
	if err := decodeXML(c.body, "ChangeCidrCollectionRequest", &req); err != nil {
		return 0, nil, err
	}
	changes := make([]controlplane.CIDRChange, 0, len(req.Changes))
	for _, ch := range req.Changes {
		changes = append(changes, controlplane.CIDRChange{LocationName: ch.LocationName,
			Action: controlplane.CIDRChangeAction(ch.Action), Blocks: ch.CidrList})
	}
	res, err := cs.ChangeCIDRCollection(c.ctx, c.tenant, c.params[0], req.CollectionVersion, changes)
	if err != nil {
		return 0, nil, err
	}
	out := changeCidrCollectionResponse{}
	if len(res.Changes) > 0 {
		out.ID = res.Changes[0].ID
	}
	return http.StatusOK, out, nil
}

type listCidrLocationsResponse struct {
	XMLName       xml.Name `xml:"https://route53.amazonaws.com/doc/2013-04-01/ ListCidrLocationsResponse"`
	CidrLocations []struct {
		LocationName string `xml:"LocationName"`
	} `xml:"CidrLocations>member"`
}

// listCidrLocations is GET /cidrcollection/{Id}.
func listCidrLocations(h *Handler, c *call) (int, any, error) {
	cs := h.svc
	_, locs, err := cs.GetCIDRCollection(c.ctx, c.tenant, c.params[0])
	if err != nil {
		return 0, nil, err
	}
	var out listCidrLocationsResponse
	for _, l := range locs {
		out.CidrLocations = append(out.CidrLocations, struct {
			LocationName string `xml:"LocationName"`
		}{l.Name})
	}
	return http.StatusOK, out, nil
}

type cidrBlockXML struct {
	CidrBlock    string `xml:"CidrBlock"`
	LocationName string `xml:"LocationName"`
}

type listCidrBlocksResponse struct {
	XMLName    xml.Name       `xml:"https://route53.amazonaws.com/doc/2013-04-01/ ListCidrBlocksResponse"`
	CidrBlocks []cidrBlockXML `xml:"CidrBlocks>member"`
}

// listCidrBlocks is GET /cidrcollection/{Id}/cidrblocks?location.
func listCidrBlocks(h *Handler, c *call) (int, any, error) {
	cs := h.svc
	bs, err := cs.ListCIDRBlocks(c.ctx, c.tenant, c.params[0], c.query("location"))
	if err != nil {
		return 0, nil, err
	}
	out := listCidrBlocksResponse{CidrBlocks: make([]cidrBlockXML, 0, len(bs))}
	for _, b := range bs {
		out.CidrBlocks = append(out.CidrBlocks, cidrBlockXML{CidrBlock: b.CIDR.String(), LocationName: b.Location})
	}
	return http.StatusOK, out, nil
}

// deleteCidrCollection is DELETE /cidrcollection/{Id}.
func deleteCidrCollection(h *Handler, c *call) (int, any, error) {
	cs := h.svc
	if err := cs.DeleteCIDRCollection(c.ctx, c.tenant, c.params[0]); err != nil {
		return 0, nil, err
	}
	return http.StatusOK, empty("DeleteCidrCollectionResponse"), nil
}
