package retry

import (
	"context"
	"testing"
	"time"
)

func TestBackoff(t *testing.T) {
	t.Parallel()
	b := NewBackoff(100*time.Millisecond, time.Second)
	want := []time.Duration{100, 200, 400, 800, 1000, 1000}
	for i, w := range want {
		if got := b.Next(); got != w*time.Millisecond {
			t.Fatalf("step %d: got %s, want %s", i, got, w*time.Millisecond)
		}
	}
	b.Reset()
	if got := b.Next(); got != 100*time.Millisecond {
		t.Fatalf("after Reset: got %s, want 100ms", got)
	}
}

func TestSleep(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(context.Background())
	if !Sleep(ctx, 0) || !Sleep(ctx, time.Millisecond) {
		t.Fatal("Sleep reported a live context as done")
	}
	cancel()
	// An hour: only the cancelled context can end it.
	if Sleep(ctx, time.Hour) || Sleep(ctx, 0) {
		t.Fatal("Sleep reported a cancelled context as live")
	}
}
