package healthcheck

import (
	"fmt"
	"testing"
	"time"

	"github.com/waymark-dns/waymark/event"
)

func TestRuleHealthy(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		healthy, total int
		want           bool
	}{
		{0, 0, false}, {0, 3, false}, {1, 3, true}, {1, 5, true}, // 20% > 18%
		{1, 6, false},  // 16.7%
		{2, 11, true},  // 18.2%
		{9, 50, false}, // exactly 18%: not more
		{10, 50, true}, {3, 16, true}, {2, 16, false}, {8, 8, true},
	} {
		if got := RuleHealthy(tc.healthy, tc.total); got != tc.want {
			t.Errorf("%d of %d: got %v, want %v", tc.healthy, tc.total, got, tc.want)
		}
	}
}

func TestStep(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		threshold int
		results   string // + pass, - fail
		want      string // the view after each result: H or U
	}{
		{1, "-+-", "UHU"},
		{3, "--+---", "HHHHHU"},   // a pass resets the streak
		{3, "---+-++", "HHUUUUU"}, // passes count too: three to come back
		{3, "---+++", "HHUUUH"},
		{0, "-", "U"}, // a threshold below 1 acts as 1
		{10, "---------", "HHHHHHHHH"},
	} {
		t.Run(fmt.Sprintf("%d%s", tc.threshold, tc.results), func(t *testing.T) {
			st := &event.HealthRegionState{Healthy: true}
			got := ""
			for _, r := range tc.results {
				Step(st, r == '+', tc.threshold)
				if st.Healthy {
					got += "H"
				} else {
					got += "U"
				}
			}
			if got != tc.want {
				t.Errorf("got %s, want %s", got, tc.want)
			}
		})
	}
}

func TestCalculated(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		healthy, threshold int
		want               bool
	}{
		{0, 0, true}, {2, 2, true}, {1, 2, false}, {2, 3, false},
	} {
		if got := Calculated(tc.healthy, tc.threshold); got != tc.want {
			t.Errorf("%d healthy, threshold %d: got %v", tc.healthy, tc.threshold, got)
		}
	}
}

// TestOwnerSpread checks that rendezvous hashing gives every live checker
// a share and that a checker leaving moves only its own checks.
func TestOwnerSpread(t *testing.T) {
	t.Parallel()
	now := time.Now()
	three := &Checker{cfg: Config{NodeID: "a"}, peers: map[string]time.Time{"b": now, "c": now}}
	two := &Checker{cfg: Config{NodeID: "a"}, peers: map[string]time.Time{"b": now}}
	counts := map[string]int{}
	for i := 0; i < 3000; i++ {
		id := fmt.Sprintf("check-%d", i)
		o3, o2 := three.owner(id), two.owner(id)
		counts[o3]++
		if o3 != "c" && o2 != o3 {
			t.Fatalf("%s moved from %s to %s though %s stayed", id, o3, o2, o3)
		}
	}
	for _, n := range []string{"a", "b", "c"} {
		if counts[n] < 800 || counts[n] > 1200 {
			t.Errorf("uneven shares: %v", counts)
		}
	}
}
