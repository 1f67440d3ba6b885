package controlplane_test

import (
	"bytes"
	"context"
	"testing"
	"time"

	"github.com/waymark-dns/waymark/controlplane"
	"github.com/waymark-dns/waymark/internal/pgtest"
)

// TestIntegrationLeadersAreSchemaScoped checks that two deployments sharing
// one database in different schemas each elect their own leader: advisory
// locks are per database, the keys are scoped to the schema.
func TestIntegrationLeadersAreSchemaScoped(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	leading := make(chan string, 4)
	for _, name := range []string{"a", "b"} {
		pool, _ := pgtest.Schema(t)
		svc, err := controlplane.New(pool, controlplane.Config{
			MasterKey: bytes.Repeat([]byte{1}, 32), JWTKey: bytes.Repeat([]byte{2}, 32)})
		if err != nil {
			t.Fatal(err)
		}
		go func() {
			_ = svc.RunLeader(ctx, controlplane.DefaultHealthLockKey, func(ctx context.Context) error {
				leading <- name
				<-ctx.Done()
				return nil
			})
		}()
	}
	got := map[string]bool{}
	for len(got) < 2 {
		select {
		case n := <-leading:
			got[n] = true
		case <-ctx.Done():
			t.Fatalf("leaders: got %v, want both schemas to lead at once", got)
		}
	}
}
