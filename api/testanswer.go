package api

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/netip"
	"net/url"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/waymark-dns/waymark/controlplane"
	"github.com/waymark-dns/waymark/event"
	"github.com/waymark-dns/waymark/zonecfg"
)

// TestAnswerFunc asks a live nameserver for the answer it would give
// (event.RequestTestAnswer over NATS, wired by cmd/waymark). It returns an
// error wrapping event.ErrNoNameserver when none answers.
type TestAnswerFunc func(ctx context.Context, req event.TestAnswerRequest) (event.TestAnswerResponse, error)

// testAnswerTimeout bounds the wait for a nameserver's test answer.
const testAnswerTimeout = 5 * time.Second

// testAnswerResponse is the JSON of GET /v1/hostedzones/{id}/test-answer:
// Route 53's TestDNSAnswer response plus the nameserver's explanation.
type testAnswerResponse struct {
	Nameserver   string             `json:"nameserver"`
	ZoneVersion  int64              `json:"zone_version"`
	RecordName   string             `json:"record_name"`
	RecordType   string             `json:"record_type"`
	ClientIP     string             `json:"client_ip,omitempty"`
	ECS          string             `json:"ecs,omitempty"`
	Protocol     string             `json:"protocol"`
	ResponseCode string             `json:"response_code"`
	Records      []answerRecordJSON `json:"records"`
	Explanation  []string           `json:"explanation"`
}

type answerRecordJSON struct {
	Name string `json:"name"`
	Type string `json:"type"`
	TTL  int64  `json:"ttl"`
	Data string `json:"data"`
}

// testAnswer is GET /v1/hostedzones/{id}/test-answer?name=&type=&client_ip=&ecs=:
// the answer a live nameserver would give, and why. ecs is a prefix
// ("198.51.100.0/24") or an address (then /24 for IPv4, /56 for IPv6, as
// resolvers commonly send).
func (h *handler) testAnswer(w http.ResponseWriter, r *http.Request) error {
	release, err := h.expensive(w, r)
	if err != nil {
		return err
	}
	defer release()
	q := r.URL.Query()
	z, err := h.svc.GetZone(r.Context(), tenantID(r), chi.URLParam(r, "id"))
	if err != nil {
		return err
	}
	req, err := testAnswerRequest(z, q)
	if err != nil {
		return err
	}
	if h.cfg.TestAnswer == nil {
		return apiError(codeServiceUnavailable, "Test answers need a nameserver connection, which this API process does not have.")
	}
	ctx, cancel := context.WithTimeout(r.Context(), testAnswerTimeout)
	defer cancel()
	resp, err := h.cfg.TestAnswer(ctx, req)
	switch {
	case errors.Is(err, event.ErrNoNameserver):
		return apiError(codeServiceUnavailable, "No nameserver answered the test request; is any nameserver running and connected to NATS?")
	case err != nil:
		return fmt.Errorf("test answer: %w", err)
	case resp.Error != "" && resp.BadRequest:
		return apiError(controlplane.CodeInvalidInput, resp.Error)
	case resp.Error != "":
		return apiError(codeServiceUnavailable, "The nameserver could not answer: "+resp.Error)
	}
	out := testAnswerResponse{Nameserver: resp.NodeID, ZoneVersion: resp.ZoneVersion, RecordName: req.Name, RecordType: req.Type,
		ClientIP: req.ClientIP, ECS: req.ECS, Protocol: "UDP", ResponseCode: resp.Rcode,
		Records: make([]answerRecordJSON, 0, len(resp.Records)), Explanation: resp.Explanation}
	if out.Explanation == nil {
		out.Explanation = []string{}
	}
	for _, rec := range resp.Records {
		out.Records = append(out.Records, answerRecordJSON{Name: rec.Name, Type: rec.Type, TTL: int64(rec.TTL), Data: rec.Data})
	}
	h.writeJSON(w, http.StatusOK, out)
	return nil
}

// testAnswerRequest checks the query parameters of a test answer.
func testAnswerRequest(z controlplane.Zone, q url.Values) (event.TestAnswerRequest, error) {
	bad := func(format string, args ...any) (event.TestAnswerRequest, error) {
		return event.TestAnswerRequest{}, apiError(controlplane.CodeInvalidInput, fmt.Sprintf(format, args...))
	}
	rawName := q.Get("name")
	if rawName == "" {
		return bad("name is required")
	}
	name, err := zonecfg.CanonicalName(rawName)
	if err != nil {
		return bad("Invalid name: %v", err)
	}
	if !zonecfg.IsSubdomain(name, z.Name) {
		return bad("%s is not in the hosted zone %s", name, z.Name)
	}
	rawType := q.Get("type")
	if rawType == "" {
		return bad("type is required")
	}
	typ, _, err := zonecfg.ParseType(rawType)
	if err != nil {
		return bad("Invalid type: %v", err)
	}
	req := event.TestAnswerRequest{ZoneID: z.ID, ZoneName: z.Name, Name: name, Type: typ}
	if s := q.Get("client_ip"); s != "" {
		a, err := netip.ParseAddr(s)
		if err != nil || a.Zone() != "" {
			return bad("client_ip %q is not an IP address", s)
		}
		req.ClientIP = a.Unmap().String()
	}
	if s := q.Get("ecs"); s != "" {
		p, err := netip.ParsePrefix(s)
		if err != nil {
			a, aerr := netip.ParseAddr(s)
			if aerr != nil || a.Zone() != "" {
				return bad("ecs %q is not a prefix (198.51.100.0/24) or an address", s)
			}
			a = a.Unmap()
			bits := 24
			if a.Is6() {
				bits = 56
			}
			p = netip.PrefixFrom(a, bits)
		}
		req.ECS = p.Masked().String()
	}
	return req, nil
}
