package event

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/nats-io/nats.go"
)

// TestAnswerSubject is the core NATS request/reply subject of test answers
// (Route 53's TestDNSAnswer): the API sends a TestAnswerRequest and one
// live nameserver replies with a TestAnswerResponse. Nameservers subscribe
// in the queue group TestAnswerQueue so that exactly one answers each
// request.
const (
	TestAnswerSubject = "waymark.testanswer"
	TestAnswerQueue   = "waymark-testanswer"
)

// TestAnswerRequest asks for the answer a nameserver would give to a query
// for Name and Type in zone ZoneID, sent from ClientIP (the resolver's
// address; empty means the nameserver picks a documented default) with the
// EDNS0 client subnet ECS ("192.0.2.0/24"; empty means none).
type TestAnswerRequest struct {
	ZoneID   string `json:"zone_id"`
	ZoneName string `json:"zone_name"`
	Name     string `json:"name"`
	Type     string `json:"type"`
	ClientIP string `json:"client_ip,omitempty"`
	ECS      string `json:"ecs,omitempty"`
}

// TestAnswerRecord is one answer record: owner name, type, TTL and RDATA
// in presentation format.
type TestAnswerRecord struct {
	Name string `json:"name"`
	Type string `json:"type"`
	TTL  uint32 `json:"ttl"`
	Data string `json:"data"`
}

// TestAnswerResponse is a nameserver's reply. Rcode is the DNS response
// code mnemonic (NOERROR, NXDOMAIN, REFUSED, SERVFAIL). Records is the
// answer section. Explanation says, one step per line, why: the policy and
// branch taken, the location or prefix that matched, the health inputs
// used, the aliases followed. Error is set instead when the nameserver
// cannot evaluate the request (zone not held yet, malformed request);
// the API then answers 503 or 400.
type TestAnswerResponse struct {
	NodeID      string             `json:"node_id"`
	ZoneVersion int64              `json:"zone_version"`
	Rcode       string             `json:"rcode"`
	Records     []TestAnswerRecord `json:"records"`
	Explanation []string           `json:"explanation"`
	// Error and BadRequest: BadRequest true means the request itself is
	// wrong (400), false means this nameserver cannot answer now (503).
	Error      string `json:"error,omitempty"`
	BadRequest bool   `json:"bad_request,omitempty"`
}

// Encode returns the wire form of r.
func (r TestAnswerRequest) Encode() ([]byte, error) { return json.Marshal(r) }

// DecodeTestAnswerRequest parses a test answer request.
func DecodeTestAnswerRequest(b []byte) (TestAnswerRequest, error) {
	var r TestAnswerRequest
	if err := json.Unmarshal(b, &r); err != nil {
		return r, fmt.Errorf("event: malformed test answer request: %v", err)
	}
	return r, nil
}

// Encode returns the wire form of r.
func (r TestAnswerResponse) Encode() ([]byte, error) { return json.Marshal(r) }

// DecodeTestAnswerResponse parses a test answer response.
func DecodeTestAnswerResponse(b []byte) (TestAnswerResponse, error) {
	var r TestAnswerResponse
	if err := json.Unmarshal(b, &r); err != nil {
		return r, fmt.Errorf("event: malformed test answer response: %v", err)
	}
	return r, nil
}

// ErrNoNameserver is returned by RequestTestAnswer when no nameserver
// listens on TestAnswerSubject (or none answered in time).
var ErrNoNameserver = errors.New("event: no nameserver answered the test answer request")

// RequestTestAnswer sends req to one live nameserver and returns its
// reply. It waits until ctx is done (callers set a deadline); with no
// nameserver subscribed it fails at once with ErrNoNameserver.
func RequestTestAnswer(ctx context.Context, nc *nats.Conn, req TestAnswerRequest) (TestAnswerResponse, error) {
	b, err := req.Encode()
	if err != nil {
		return TestAnswerResponse{}, err
	}
	msg, err := nc.RequestWithContext(ctx, TestAnswerSubject, b)
	if errors.Is(err, nats.ErrNoResponders) || errors.Is(err, context.DeadlineExceeded) || errors.Is(err, nats.ErrTimeout) {
		return TestAnswerResponse{}, fmt.Errorf("%w: %v", ErrNoNameserver, err)
	}
	if err != nil {
		return TestAnswerResponse{}, fmt.Errorf("event: test answer request: %w", err)
	}
	return DecodeTestAnswerResponse(msg.Data)
}

// ServeTestAnswer subscribes answer to test answer requests in the queue
// group TestAnswerQueue, so that each request gets one reply from one
// nameserver. A request that does not decode gets a BadRequest reply.
func ServeTestAnswer(nc *nats.Conn, answer func(TestAnswerRequest) TestAnswerResponse) (*nats.Subscription, error) {
	return nc.QueueSubscribe(TestAnswerSubject, TestAnswerQueue, func(m *nats.Msg) {
		req, err := DecodeTestAnswerRequest(m.Data)
		var resp TestAnswerResponse
		if err != nil {
			resp = TestAnswerResponse{Error: err.Error(), BadRequest: true}
		} else {
			resp = answer(req)
		}
		b, err := resp.Encode()
		if err != nil {
			return
		}
		_ = m.Respond(b)
	})
}
