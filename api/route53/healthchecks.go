package route53

import (
	"context"
	"encoding/xml"
	"net/http"
	"strconv"

	"github.com/waymark-dns/waymark/controlplane"
	"github.com/waymark-dns/waymark/healthcfg"
)

// Health checks (ROUTE53.md §2.8, §6.2–6.4), on the control plane's
// health checks when the Service has them.

// healthCheckService is what these operations need; *controlplane.Service has it.
type healthCheckService interface {
	CreateHealthCheck(ctx context.Context, tenantID string, in controlplane.CreateHealthCheckInput) (controlplane.HealthCheck, error)
	GetHealthCheck(ctx context.Context, tenantID, id string) (controlplane.HealthCheck, error)
	ListHealthChecks(ctx context.Context, tenantID, marker string, maxItems int) (controlplane.HealthCheckPage, error)
	UpdateHealthCheck(ctx context.Context, tenantID, id string, in controlplane.UpdateHealthCheckInput) (controlplane.HealthCheck, error)
	DeleteHealthCheck(ctx context.Context, tenantID, id string) error
	HealthCheckStatus(ctx context.Context, tenantID, id string) (controlplane.HealthCheckStatus, error)
	HealthCheckCounts(ctx context.Context, tenantID string) (count, quota int, err error)
}

// healthCheckConfigXML is Route 53's HealthCheckConfig in model order.
type healthCheckConfigXML struct {
	IPAddress                string    `xml:"IPAddress,omitempty"`
	Port                     *int      `xml:"Port,omitempty"`
	Type                     string    `xml:"Type"`
	ResourcePath             string    `xml:"ResourcePath,omitempty"`
	FullyQualifiedDomainName string    `xml:"FullyQualifiedDomainName,omitempty"`
	SearchString             string    `xml:"SearchString,omitempty"`
	RequestInterval          *int      `xml:"RequestInterval,omitempty"`
	FailureThreshold         *int      `xml:"FailureThreshold,omitempty"`
	MeasureLatency           *bool     `xml:"MeasureLatency,omitempty"`
	Inverted                 *bool     `xml:"Inverted,omitempty"`
	Disabled                 *bool     `xml:"Disabled,omitempty"`
	HealthThreshold          *int      `xml:"HealthThreshold,omitempty"`
	ChildHealthChecks        *idList   `xml:"ChildHealthChecks,omitempty"`
	EnableSNI                *bool     `xml:"EnableSNI,omitempty"`
	Regions                  *regions  `xml:"Regions,omitempty"`
	AlarmIdentifier          *struct{} `xml:"AlarmIdentifier,omitempty"`
	RoutingControlArn        string    `xml:"RoutingControlArn,omitempty"`
}

type idList struct {
	IDs []string `xml:"ChildHealthCheck"`
}

type regions struct {
	Regions []string `xml:"Region"`
}

type healthCheckXML struct {
	ID                 string               `xml:"Id"`
	CallerReference    string               `xml:"CallerReference"`
	HealthCheckConfig  healthCheckConfigXML `xml:"HealthCheckConfig"`
	HealthCheckVersion int64                `xml:"HealthCheckVersion"`
}

func ptr[T any](v T) *T { return &v }

func toHealthCheckXML(hc controlplane.HealthCheck) healthCheckXML {
	c := hc.Config
	out := healthCheckConfigXML{
		IPAddress: c.IPAddress, Type: string(c.Type), ResourcePath: c.ResourcePath,
		FullyQualifiedDomainName: c.FQDN, SearchString: c.SearchString,
		Inverted: ptr(c.Inverted), Disabled: ptr(c.Disabled),
	}
	if c.Type == healthcfg.Calculated {
		out.HealthThreshold = ptr(c.HealthThreshold)
		out.ChildHealthChecks = &idList{IDs: c.ChildHealthChecks}
	} else {
		out.Port = ptr(c.Port)
		out.RequestInterval = ptr(c.RequestInterval)
		out.FailureThreshold = ptr(c.FailureThreshold)
		out.MeasureLatency = ptr(false)
		if len(c.Regions) > 0 {
			out.Regions = &regions{Regions: c.Regions}
		}
	}
	if c.Type.TLS() {
		out.EnableSNI = ptr(c.EnableSNI)
	}
	return healthCheckXML{ID: hc.ID, CallerReference: hc.CallerReference, HealthCheckConfig: out, HealthCheckVersion: hc.Version}
}

// fromHealthCheckConfigXML converts a create request's config; what the
// control plane does not offer is refused here.
func fromHealthCheckConfigXML(in healthCheckConfigXML) (healthcfg.Config, error) {
	if in.MeasureLatency != nil && *in.MeasureLatency {
		return healthcfg.Config{}, errInvalidInput("MeasureLatency is not supported by this service.")
	}
	if in.AlarmIdentifier != nil || in.RoutingControlArn != "" {
		return healthcfg.Config{}, errInvalidInput("CloudWatch alarm and recovery-control health checks are not supported by this service.")
	}
	out := healthcfg.Config{
		Type: healthcfg.Type(in.Type), IPAddress: in.IPAddress, FQDN: in.FullyQualifiedDomainName,
		ResourcePath: in.ResourcePath, SearchString: in.SearchString,
	}
	if in.Port != nil {
		out.Port = *in.Port
	}
	if in.RequestInterval != nil {
		out.RequestInterval = *in.RequestInterval
	}
	if in.FailureThreshold != nil {
		out.FailureThreshold = *in.FailureThreshold
	}
	if in.Inverted != nil {
		out.Inverted = *in.Inverted
	}
	if in.Disabled != nil {
		out.Disabled = *in.Disabled
	}
	if in.EnableSNI != nil {
		out.EnableSNI = *in.EnableSNI
	}
	if in.HealthThreshold != nil {
		out.HealthThreshold = *in.HealthThreshold
	}
	if in.ChildHealthChecks != nil {
		out.ChildHealthChecks = in.ChildHealthChecks.IDs
	}
	if in.Regions != nil {
		out.Regions = in.Regions.Regions
	}
	return out, nil
}

type createHealthCheckRequest struct {
	XMLName           xml.Name             `xml:"CreateHealthCheckRequest"`
	CallerReference   string               `xml:"CallerReference"`
	HealthCheckConfig healthCheckConfigXML `xml:"HealthCheckConfig"`
}

type healthCheckResponse struct {
	XMLName     xml.Name
	HealthCheck healthCheckXML `xml:"HealthCheck"`
}

func hcResponse(root string, hc controlplane.HealthCheck) healthCheckResponse {
	return healthCheckResponse{XMLName: xml.Name{Space: Namespace, Local: root}, HealthCheck: toHealthCheckXML(hc)}
}

// createHealthCheck is POST /healthcheck. A repeated CallerReference with
// the same settings returns the existing check (the control plane's rule).
func createHealthCheck(h *Handler, c *call) (int, any, error) {
	hs := h.svc
	var req createHealthCheckRequest
	if err := decodeXML(c.body, "CreateHealthCheckRequest", &req); err != nil {
		return 0, nil, err
	}
	cfg, err := fromHealthCheckConfigXML(req.HealthCheckConfig)
	if err != nil {
		return 0, nil, err
	}
	hc, err := hs.CreateHealthCheck(c.ctx, c.tenant, controlplane.CreateHealthCheckInput{CallerReference: req.CallerReference, Config: cfg})
	if err != nil {
		return 0, nil, err
	}
	c.location = h.baseURL(c.r) + Prefix + "/healthcheck/" + hc.ID
	return http.StatusCreated, hcResponse("CreateHealthCheckResponse", hc), nil
}

// getHealthCheck is GET /healthcheck/{Id}.
func getHealthCheck(h *Handler, c *call) (int, any, error) {
	hs := h.svc
	hc, err := hs.GetHealthCheck(c.ctx, c.tenant, c.params[0])
	if err != nil {
		return 0, nil, err
	}
	return http.StatusOK, hcResponse("GetHealthCheckResponse", hc), nil
}

type listHealthChecksResponse struct {
	XMLName      xml.Name         `xml:"https://route53.amazonaws.com/doc/2013-04-01/ ListHealthChecksResponse"`
	HealthChecks []healthCheckXML `xml:"HealthChecks>HealthCheck"`
	Marker       string           `xml:"Marker"`
	IsTruncated  bool             `xml:"IsTruncated"`
	NextMarker   string           `xml:"NextMarker,omitempty"`
	MaxItems     string           `xml:"MaxItems"`
}

// listHealthChecks is GET /healthcheck?marker&maxitems.
func listHealthChecks(h *Handler, c *call) (int, any, error) {
	hs := h.svc
	max, err := maxItems(c.query("maxitems"))
	if err != nil {
		return 0, nil, err
	}
	page, err := hs.ListHealthChecks(c.ctx, c.tenant, c.query("marker"), max)
	if err != nil {
		return 0, nil, err
	}
	out := listHealthChecksResponse{HealthChecks: make([]healthCheckXML, 0, len(page.HealthChecks)),
		Marker: c.query("marker"), IsTruncated: page.IsTruncated, NextMarker: page.NextMarker, MaxItems: strconv.Itoa(page.MaxItems)}
	for _, hc := range page.HealthChecks {
		out.HealthChecks = append(out.HealthChecks, toHealthCheckXML(hc))
	}
	return http.StatusOK, out, nil
}

type updateHealthCheckRequest struct {
	XMLName                  xml.Name  `xml:"UpdateHealthCheckRequest"`
	HealthCheckVersion       *int64    `xml:"HealthCheckVersion"`
	IPAddress                *string   `xml:"IPAddress"`
	Port                     *int      `xml:"Port"`
	ResourcePath             *string   `xml:"ResourcePath"`
	FullyQualifiedDomainName *string   `xml:"FullyQualifiedDomainName"`
	SearchString             *string   `xml:"SearchString"`
	FailureThreshold         *int      `xml:"FailureThreshold"`
	Inverted                 *bool     `xml:"Inverted"`
	Disabled                 *bool     `xml:"Disabled"`
	HealthThreshold          *int      `xml:"HealthThreshold"`
	ChildHealthChecks        *idList   `xml:"ChildHealthChecks"`
	EnableSNI                *bool     `xml:"EnableSNI"`
	Regions                  *regions  `xml:"Regions"`
	AlarmIdentifier          *struct{} `xml:"AlarmIdentifier"`
	ResetElements            []string  `xml:"ResetElements>ResettableElementName"`
}

// updateHealthCheck is POST /healthcheck/{Id}; HealthCheckVersion, when
// sent, must match (HealthCheckVersionMismatch).
func updateHealthCheck(h *Handler, c *call) (int, any, error) {
	hs := h.svc
	var req updateHealthCheckRequest
	if err := decodeXML(c.body, "UpdateHealthCheckRequest", &req); err != nil {
		return 0, nil, err
	}
	if req.AlarmIdentifier != nil {
		return 0, nil, errInvalidInput("CloudWatch alarm health checks are not supported by this service.")
	}
	in := controlplane.UpdateHealthCheckInput{
		Version: req.HealthCheckVersion, IPAddress: req.IPAddress, FQDN: req.FullyQualifiedDomainName, Port: req.Port,
		ResourcePath: req.ResourcePath, SearchString: req.SearchString, FailureThreshold: req.FailureThreshold,
		Inverted: req.Inverted, Disabled: req.Disabled, EnableSNI: req.EnableSNI, HealthThreshold: req.HealthThreshold,
		ResetElements: req.ResetElements,
	}
	if req.ChildHealthChecks != nil {
		in.ChildHealthChecks = &req.ChildHealthChecks.IDs
	}
	if req.Regions != nil {
		in.Regions = &req.Regions.Regions
	}
	hc, err := hs.UpdateHealthCheck(c.ctx, c.tenant, c.params[0], in)
	if err != nil {
		return 0, nil, err
	}
	return http.StatusOK, hcResponse("UpdateHealthCheckResponse", hc), nil
}

type emptyResponse struct {
	XMLName xml.Name
}

func empty(root string) emptyResponse {
	return emptyResponse{XMLName: xml.Name{Space: Namespace, Local: root}}
}

// deleteHealthCheck is DELETE /healthcheck/{Id}.
func deleteHealthCheck(h *Handler, c *call) (int, any, error) {
	hs := h.svc
	if err := hs.DeleteHealthCheck(c.ctx, c.tenant, c.params[0]); err != nil {
		return 0, nil, err
	}
	return http.StatusOK, empty("DeleteHealthCheckResponse"), nil
}

type observationXML struct {
	Region       string `xml:"Region"`
	StatusReport struct {
		Status      string `xml:"Status"`
		CheckedTime string `xml:"CheckedTime"`
	} `xml:"StatusReport"`
}

type observationsResponse struct {
	XMLName      xml.Name
	Observations []observationXML `xml:"HealthCheckObservations>HealthCheckObservation"`
}

// getHealthCheckStatus is GET /healthcheck/{Id}/status: each checker
// region's last observation.
func getHealthCheckStatus(h *Handler, c *call) (int, any, error) {
	return observations(h, c, "GetHealthCheckStatusResponse", false)
}

// getHealthCheckLastFailureReason is GET /healthcheck/{Id}/lastfailurereason:
// each region's most recent failure (regions that never failed are absent).
func getHealthCheckLastFailureReason(h *Handler, c *call) (int, any, error) {
	return observations(h, c, "GetHealthCheckLastFailureReasonResponse", true)
}

func observations(h *Handler, c *call, root string, failures bool) (int, any, error) {
	hs := h.svc
	st, err := hs.HealthCheckStatus(c.ctx, c.tenant, c.params[0])
	if err != nil {
		return 0, nil, err
	}
	out := observationsResponse{XMLName: xml.Name{Space: Namespace, Local: root}, Observations: []observationXML{}}
	for _, ck := range st.Checkers {
		var o observationXML
		o.Region = ck.Region
		switch {
		case failures:
			if ck.LastFailureAt == nil {
				continue
			}
			o.StatusReport.Status = "Failure: " + ck.LastFailureReason
			o.StatusReport.CheckedTime = r53Time(*ck.LastFailureAt)
		default:
			prefix := "Failure: "
			if ck.Healthy {
				prefix = "Success: "
			}
			o.StatusReport.Status = prefix + ck.Reason
			o.StatusReport.CheckedTime = r53Time(ck.CheckedAt)
		}
		out.Observations = append(out.Observations, o)
	}
	return http.StatusOK, out, nil
}

type getHealthCheckCountResponse struct {
	XMLName          xml.Name `xml:"https://route53.amazonaws.com/doc/2013-04-01/ GetHealthCheckCountResponse"`
	HealthCheckCount int      `xml:"HealthCheckCount"`
}

// getHealthCheckCount is GET /healthcheckcount.
func getHealthCheckCount(h *Handler, c *call) (int, any, error) {
	hs := h.svc
	n, _, err := hs.HealthCheckCounts(c.ctx, c.tenant)
	if err != nil {
		return 0, nil, err
	}
	return http.StatusOK, getHealthCheckCountResponse{HealthCheckCount: n}, nil
}

type getCheckerIPRangesResponse struct {
	XMLName         xml.Name `xml:"https://route53.amazonaws.com/doc/2013-04-01/ GetCheckerIpRangesResponse"`
	CheckerIPRanges []string `xml:"CheckerIpRanges>member"`
}

// getCheckerIPRanges is GET /checkeripranges: the operator's configured
// checker ranges (Config.CheckerIPRanges), which need no signature.
func getCheckerIPRanges(h *Handler, _ *call) (int, any, error) {
	return http.StatusOK, getCheckerIPRangesResponse{CheckerIPRanges: append([]string{}, h.cfg.CheckerIPRanges...)}, nil
}
