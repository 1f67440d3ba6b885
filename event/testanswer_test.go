package event

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/waymark-dns/waymark/internal/natstest"
)

// TestIntegrationTestAnswer checks the request/reply contract: no
// nameserver means ErrNoNameserver at once; with two in the queue group
// exactly one replies; a malformed request gets a BadRequest reply.
func TestIntegrationTestAnswer(t *testing.T) {
	t.Parallel()
	s := natstest.Run(t)
	nc, err := nats.Connect(s.ClientURL())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(nc.Close)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	req := TestAnswerRequest{ZoneID: "Z1", ZoneName: "example.com.", Name: "www.example.com.", Type: "A", ClientIP: "192.0.2.1", ECS: "198.51.100.0/24"}
	if _, err := RequestTestAnswer(ctx, nc, req); !errors.Is(err, ErrNoNameserver) {
		t.Fatalf("without a nameserver: %v", err)
	}
	for _, node := range []string{"ns1", "ns2"} {
		sub, err := ServeTestAnswer(nc, func(r TestAnswerRequest) TestAnswerResponse {
			return TestAnswerResponse{NodeID: node, Rcode: "NOERROR", ZoneVersion: 7,
				Records:     []TestAnswerRecord{{Name: r.Name, Type: r.Type, TTL: 60, Data: "192.0.2.10"}},
				Explanation: []string{"ecs " + r.ECS}}
		})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = sub.Unsubscribe() })
	}
	if err := nc.Flush(); err != nil {
		t.Fatal(err)
	}
	resp, err := RequestTestAnswer(ctx, nc, req)
	if err != nil || resp.Rcode != "NOERROR" || len(resp.Records) != 1 || resp.Records[0].Name != req.Name ||
		resp.Explanation[0] != "ecs 198.51.100.0/24" || (resp.NodeID != "ns1" && resp.NodeID != "ns2") {
		t.Fatalf("got %+v, %v", resp, err)
	}
	msg, err := nc.RequestWithContext(ctx, TestAnswerSubject, []byte("{"))
	if err != nil {
		t.Fatal(err)
	}
	bad, err := DecodeTestAnswerResponse(msg.Data)
	if err != nil || !bad.BadRequest || bad.Error == "" {
		t.Fatalf("malformed request: %+v, %v", bad, err)
	}
}
