package controlplane

import (
	"context"
	"testing"
	"time"
)

// TestTenantRates: each tenant has its own export budget; a tenant whose
// budget is spent waits (here: its context ends first) while another is
// served at once; no limit when the rate is negative.
func TestTenantRates(t *testing.T) {
	r := newTenantRates(1000)
	ctx := context.Background()
	if err := r.wait(ctx, "A", 1000); err != nil {
		t.Fatalf("A's first 1000: %v", err)
	}
	short, cancel := context.WithTimeout(ctx, 10*time.Millisecond)
	defer cancel()
	if err := r.wait(short, "A", exportPageSets); err == nil {
		t.Error("A past its budget: not made to wait")
	}
	if err := r.wait(short, "B", 1000); err != nil {
		t.Errorf("B, with its own budget: %v", err)
	}
	if got := newTenantRates(-1); got != nil {
		t.Errorf("negative rate: %v, want no limit (nil)", got)
	}
	if err := (*tenantRates)(nil).wait(ctx, "A", 1<<20); err != nil {
		t.Errorf("no limit: %v", err)
	}
}

// TestTenantRatesPrune: buckets that are full again are dropped once the
// map reaches tenantRatesPrune, so it does not grow with every tenant that
// ever exported.
func TestTenantRatesPrune(t *testing.T) {
	r := newTenantRates(1000)
	ctx := context.Background()
	for i := range tenantRatesPrune {
		if err := r.wait(ctx, string(rune('a'+i%26))+string(rune(i)), 1); err != nil {
			t.Fatal(err)
		}
	}
	if err := r.wait(ctx, "new", 1); err != nil {
		t.Fatal(err)
	}
	if n := len(r.m); n >= tenantRatesPrune {
		t.Errorf("%d buckets after pruning, want fewer than %d", n, tenantRatesPrune)
	}
}
