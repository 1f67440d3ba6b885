package route53

import (
	"encoding/xml"
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/waymark-dns/waymark/controlplane"
	"github.com/waymark-dns/waymark/zonecfg"
)

// Record sets (ROUTE53.md §2.5, §2.6, §4, §5). The XML is converted to and
// from zonecfg.RRSet here; every rule about record sets is the control
// plane's.

// rrsetXML is Route 53's ResourceRecordSet, in the model's element order.
type rrsetXML struct {
	Name                    string          `xml:"Name"`
	Type                    string          `xml:"Type"`
	SetIdentifier           string          `xml:"SetIdentifier,omitempty"`
	Weight                  *int64          `xml:"Weight,omitempty"`
	Region                  string          `xml:"Region,omitempty"`
	GeoLocation             *geoLocationXML `xml:"GeoLocation,omitempty"`
	Failover                string          `xml:"Failover,omitempty"`
	MultiValueAnswer        *bool           `xml:"MultiValueAnswer,omitempty"`
	TTL                     *int64          `xml:"TTL,omitempty"`
	ResourceRecords         *valuesXML      `xml:"ResourceRecords,omitempty"`
	AliasTarget             *aliasTargetXML `xml:"AliasTarget,omitempty"`
	HealthCheckID           string          `xml:"HealthCheckId,omitempty"`
	TrafficPolicyInstanceID string          `xml:"TrafficPolicyInstanceId,omitempty"`
	CidrRoutingConfig       *cidrRoutingXML `xml:"CidrRoutingConfig,omitempty"`
	GeoProximityLocation    *struct{}       `xml:"GeoProximityLocation,omitempty"`
}

// valuesXML wraps the values; a pointer, so that an alias lists no
// ResourceRecords element at all (encoding/xml writes the parent of an
// empty a>b list).
type valuesXML struct {
	Values []valueXML `xml:"ResourceRecord"`
}

type valueXML struct {
	Value string `xml:"Value"`
}

type geoLocationXML struct {
	ContinentCode   string `xml:"ContinentCode,omitempty"`
	CountryCode     string `xml:"CountryCode,omitempty"`
	SubdivisionCode string `xml:"SubdivisionCode,omitempty"`
}

// aliasTargetXML is an alias target; EvaluateTargetHealth is required in
// requests, hence the pointer.
type aliasTargetXML struct {
	HostedZoneID         string `xml:"HostedZoneId"`
	DNSName              string `xml:"DNSName"`
	EvaluateTargetHealth *bool  `xml:"EvaluateTargetHealth"`
}

type cidrRoutingXML struct {
	CollectionID string `xml:"CollectionId"`
	LocationName string `xml:"LocationName"`
}

// toRRSetXML converts a record set for a listing: the name in Route 53's
// escaping, values as stored (character strings in octal escapes), and
// no TTL or records for an alias.
func toRRSetXML(rs zonecfg.RRSet) rrsetXML {
	out := rrsetXML{Name: nameToR53(rs.Name), Type: rs.Type, SetIdentifier: rs.SetIdentifier,
		Region: rs.Region, Failover: rs.Failover, HealthCheckID: rs.HealthCheckID}
	if rs.Weight != nil {
		w := int64(*rs.Weight)
		out.Weight = &w
	}
	if g := rs.Geo; g != nil {
		out.GeoLocation = &geoLocationXML{ContinentCode: g.ContinentCode, CountryCode: g.CountryCode, SubdivisionCode: g.SubdivisionCode}
	}
	if rs.MultiValue {
		t := true
		out.MultiValueAnswer = &t
	}
	if c := rs.CIDR; c != nil {
		out.CidrRoutingConfig = &cidrRoutingXML{CollectionID: c.CollectionID, LocationName: c.LocationName}
	}
	if a := rs.Alias; a != nil {
		eth := a.EvaluateTargetHealth
		out.AliasTarget = &aliasTargetXML{HostedZoneID: a.HostedZoneID, DNSName: nameToR53(a.DNSName), EvaluateTargetHealth: &eth}
		return out
	}
	ttl := int64(rs.TTL)
	out.TTL = &ttl
	out.ResourceRecords = &valuesXML{Values: make([]valueXML, len(rs.Records))}
	for i, v := range rs.Records {
		out.ResourceRecords.Values[i] = valueXML{Value: valueToR53(rs.Type, v)}
	}
	return out
}

// fromRRSetXML converts a record set of a change. It checks only what the
// XML shape decides (which of alias / TTL+records is present, ranges of
// numbers); everything else is the control plane's to validate.
func fromRRSetXML(in rrsetXML, action string) (zonecfg.RRSet, string) {
	var rs zonecfg.RRSet
	rs.Name, rs.Type, rs.SetIdentifier = nameFromR53(in.Name), strings.TrimSpace(in.Type), in.SetIdentifier
	where := fmt.Sprintf("in Change with [Action=%s, Name=%s, Type=%s, SetIdentifier=%s]",
		truncate(action), truncate(in.Name), truncate(in.Type), truncate(in.SetIdentifier))
	hasData := in.TTL != nil || in.ResourceRecords != nil
	n := 0
	for _, b := range []bool{in.AliasTarget != nil, hasData, in.TrafficPolicyInstanceID != ""} {
		if b {
			n++
		}
	}
	switch {
	case n == 0:
		return rs, "Invalid request: Expected exactly one of [AliasTarget, all of [TTL, and ResourceRecords], or TrafficPolicyInstanceId], but found none " + where
	case n > 1:
		return rs, "Invalid request: Expected exactly one of [AliasTarget, all of [TTL, and ResourceRecords], or TrafficPolicyInstanceId], but found more than one " + where
	case in.TrafficPolicyInstanceID != "":
		return rs, "Traffic policy instances are not supported by this service " + where
	case in.GeoProximityLocation != nil:
		return rs, "Geoproximity routing is not supported by this service " + where
	}
	if hasData {
		if in.TTL == nil {
			return rs, "Invalid request: Expected exactly one of [AliasTarget, all of [TTL, and ResourceRecords], or TrafficPolicyInstanceId], but found none " + where
		}
		if *in.TTL < 0 || *in.TTL > zonecfg.MaxTTL {
			return rs, fmt.Sprintf("Invalid TTL %d: must be between 0 and %d %s", *in.TTL, zonecfg.MaxTTL, where)
		}
		rs.TTL = uint32(*in.TTL)
		var values []valueXML
		if in.ResourceRecords != nil {
			values = in.ResourceRecords.Values
		}
		rs.Records = make([]string, len(values))
		for i, v := range values {
			rs.Records[i] = valueFromR53(strings.ToUpper(rs.Type), v.Value)
		}
	}
	if in.Weight != nil {
		if *in.Weight < 0 || *in.Weight > 255 {
			return rs, fmt.Sprintf("Invalid Weight %d: must be between 0 and 255 %s", *in.Weight, where)
		}
		w := uint8(*in.Weight)
		rs.Weight = &w
	}
	rs.Region, rs.Failover, rs.HealthCheckID = in.Region, in.Failover, in.HealthCheckID
	if in.MultiValueAnswer != nil && *in.MultiValueAnswer {
		rs.MultiValue = true
	}
	if g := in.GeoLocation; g != nil {
		rs.Geo = &zonecfg.GeoLocation{ContinentCode: g.ContinentCode, CountryCode: g.CountryCode, SubdivisionCode: g.SubdivisionCode}
	}
	if c := in.CidrRoutingConfig; c != nil {
		rs.CIDR = &zonecfg.CIDRRouting{CollectionID: c.CollectionID, LocationName: c.LocationName}
	}
	if a := in.AliasTarget; a != nil {
		if a.EvaluateTargetHealth == nil {
			return rs, "Invalid request: AliasTarget requires EvaluateTargetHealth " + where
		}
		rs.Alias = &zonecfg.AliasTarget{HostedZoneID: bareID(a.HostedZoneID), DNSName: nameFromR53(a.DNSName),
			EvaluateTargetHealth: *a.EvaluateTargetHealth}
	}
	return rs, ""
}

type changeResourceRecordSetsRequest struct {
	XMLName     xml.Name `xml:"ChangeResourceRecordSetsRequest"`
	ChangeBatch *struct {
		Comment string `xml:"Comment"`
		Changes []struct {
			Action            string    `xml:"Action"`
			ResourceRecordSet *rrsetXML `xml:"ResourceRecordSet"`
		} `xml:"Changes>Change"`
	} `xml:"ChangeBatch"`
}

// decodeChangeBatch reads a ChangeResourceRecordSets body. It is a pure
// function (FuzzDecodeChangeBatch). Shape problems of several changes are
// reported together, as Route 53 does.
func decodeChangeBatch(body []byte) (controlplane.ChangeBatch, error) {
	req, ok := decodeCRRSFast(body)
	if !ok {
		req = changeResourceRecordSetsRequest{}
		if err := decodeXML(body, "ChangeResourceRecordSetsRequest", &req); err != nil {
			return controlplane.ChangeBatch{}, err
		}
	}
	if req.ChangeBatch == nil {
		return controlplane.ChangeBatch{}, errInvalidInput("Invalid request: ChangeBatch is required.")
	}
	if len(req.ChangeBatch.Changes) == 0 {
		return controlplane.ChangeBatch{}, errInvalidInput("1 validation error detected: Value null at 'changeBatch.changes' failed to satisfy constraint: Member must not be null")
	}
	b := controlplane.ChangeBatch{Comment: req.ChangeBatch.Comment, Changes: make([]controlplane.RRSetChange, 0, len(req.ChangeBatch.Changes))}
	var problems []string
	for _, ch := range req.ChangeBatch.Changes {
		switch ch.Action {
		case "CREATE", "DELETE", "UPSERT":
		default:
			problems = append(problems, fmt.Sprintf("Value '%s' is not facet-valid with respect to enumeration '[CREATE, DELETE, UPSERT]'", truncate(ch.Action)))
			continue
		}
		if ch.ResourceRecordSet == nil {
			problems = append(problems, "Invalid request: ResourceRecordSet is required in Change with [Action="+ch.Action+"]")
			continue
		}
		rs, msg := fromRRSetXML(*ch.ResourceRecordSet, ch.Action)
		if msg != "" {
			problems = append(problems, msg)
			continue
		}
		b.Changes = append(b.Changes, controlplane.RRSetChange{Action: controlplane.Action(ch.Action), RRSet: rs})
	}
	if len(problems) == 1 {
		return controlplane.ChangeBatch{}, errInvalidInput(problems[0])
	}
	if len(problems) > 1 {
		return controlplane.ChangeBatch{}, errInvalidInput("[" + strings.Join(problems, ", ") + "]")
	}
	return b, nil
}

// changeResourceRecordSets is POST /hostedzone/{Id}/rrset (and rrset/).
func changeResourceRecordSets(h *Handler, c *call) (int, any, error) {
	b, err := decodeChangeBatch(c.body)
	if err != nil {
		return 0, nil, err
	}
	ch, err := h.svc.ChangeRRSets(c.ctx, c.tenant, c.params[0], b)
	if err != nil {
		return 0, nil, err
	}
	return http.StatusOK, changeResponse("ChangeResourceRecordSetsResponse", ch), nil
}

type listResourceRecordSetsResponse struct {
	XMLName              xml.Name   `xml:"https://route53.amazonaws.com/doc/2013-04-01/ ListResourceRecordSetsResponse"`
	ResourceRecordSets   []rrsetXML `xml:"ResourceRecordSets>ResourceRecordSet"`
	IsTruncated          bool       `xml:"IsTruncated"`
	NextRecordName       string     `xml:"NextRecordName,omitempty"`
	NextRecordType       string     `xml:"NextRecordType,omitempty"`
	NextRecordIdentifier string     `xml:"NextRecordIdentifier,omitempty"`
	MaxItems             string     `xml:"MaxItems"`
}

// listResourceRecordSets is GET /hostedzone/{Id}/rrset?name&type&identifier&maxitems.
func listResourceRecordSets(h *Handler, c *call) (int, any, error) {
	max, err := maxItems(c.query("maxitems"))
	if err != nil {
		return 0, nil, err
	}
	page, err := h.svc.ListRRSets(c.ctx, c.tenant, c.params[0], controlplane.ListRRSetsInput{
		Name: nameFromR53(c.query("name")), Type: c.query("type"), Identifier: c.query("identifier"), MaxItems: max,
	})
	if err != nil {
		return 0, nil, err
	}
	out := listResourceRecordSetsResponse{ResourceRecordSets: make([]rrsetXML, 0, len(page.RRSets)),
		IsTruncated: page.IsTruncated, MaxItems: strconv.Itoa(page.MaxItems)}
	for _, rs := range page.RRSets {
		out.ResourceRecordSets = append(out.ResourceRecordSets, toRRSetXML(rs))
	}
	if page.IsTruncated {
		out.NextRecordName, out.NextRecordType, out.NextRecordIdentifier = nameToR53(page.NextName), page.NextType, page.NextIdentifier
	}
	return http.StatusOK, out, nil
}
