package event

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/waymark-dns/waymark/internal/natstest"
	"github.com/waymark-dns/waymark/internal/testkit"
)

// TestIntegrationHealthWatcher checks the nameservers' view of the status
// bucket: the full map at start, then changes and deletions.
func TestIntegrationHealthWatcher(t *testing.T) {
	t.Parallel()
	s := natstest.Run(t)
	nc, err := nats.Connect(s.ClientURL())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(nc.Close)
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	// The aggregator's bucket, with its settings, exists first.
	kv, err := js.CreateOrUpdateKeyValue(ctx, HealthStatusKVConfig(1))
	if err != nil {
		t.Fatal(err)
	}
	put := func(id string, healthy bool) {
		t.Helper()
		b, _ := HealthStatus{CheckID: id, Healthy: healthy, Changed: time.Now()}.Encode()
		if _, err := kv.Put(ctx, id, b); err != nil {
			t.Fatal(err)
		}
	}
	put("up", true)
	put("down", false)
	if _, err := kv.Put(ctx, "garbage", []byte("{")); err != nil {
		t.Fatal(err)
	}

	var mu sync.Mutex
	var changes []string
	w := NewHealthWatcher()
	w.OnChange = func(id string, healthy bool) {
		mu.Lock()
		defer mu.Unlock()
		if healthy {
			changes = append(changes, id+"+")
		} else {
			changes = append(changes, id+"-")
		}
	}
	if err := w.Start(ctx, js); err != nil {
		t.Fatal(err)
	}
	// Start returned: the current values are in, without OnChange calls.
	if !w.Healthy("up") || w.Healthy("down") || !w.Healthy("unknown") || len(w.Snapshot()) != 2 {
		t.Fatalf("initial map %v", w.Snapshot())
	}
	put("up", false)
	if err := kv.Delete(ctx, "down"); err != nil {
		t.Fatal(err)
	}
	var got []string
	testkit.Eventually(t, 10*time.Second, func() error {
		mu.Lock()
		got = append([]string(nil), changes...)
		mu.Unlock()
		if len(got) != 2 {
			return fmt.Errorf("changes %v", got)
		}
		return nil
	})
	if got[0] != "up-" || got[1] != "down+" {
		t.Fatalf("changes %v", got)
	}
	if w.Healthy("up") || !w.Healthy("down") || len(w.Snapshot()) != 1 {
		t.Errorf("map %v", w.Snapshot())
	}
	// Opening never reconfigures the aggregator's bucket.
	if _, err := OpenKeyValue(ctx, js, HealthStatusKVConfig(3)); err != nil {
		t.Errorf("open existing bucket: %v", err)
	}
}
