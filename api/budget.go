package api

import (
	"net/http"
	"strconv"
	"sync"
)

// DefaultExpensivePerTenant is how many expensive requests (zone export,
// zone import, test answer) one tenant may have in flight at once.
const DefaultExpensivePerTenant = 2

// budgets bounds each tenant's expensive requests in flight: they hold a
// database connection, or a nameserver's attention, far longer than a
// GET, and the request rate limit cannot tell them apart.
type budgets struct {
	limit int

	mu    sync.Mutex
	inUse map[string]int // guarded by mu; entries at zero are deleted
}

func newBudgets(limit int) *budgets {
	return &budgets{limit: limit, inUse: map[string]int{}}
}

// acquire takes one of tenant's slots; release gives it back.
func (b *budgets) acquire(tenant string) (release func(), ok bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.inUse[tenant] >= b.limit {
		return nil, false
	}
	b.inUse[tenant]++
	return func() {
		b.mu.Lock()
		defer b.mu.Unlock()
		if b.inUse[tenant]--; b.inUse[tenant] <= 0 {
			delete(b.inUse, tenant)
		}
	}, true
}

// expensive takes a slot of the calling tenant's budget for an expensive
// request, or sets Retry-After and returns the 429 to answer.
func (h *handler) expensive(w http.ResponseWriter, r *http.Request) (release func(), err error) {
	release, ok := h.budget.acquire(tenantID(r))
	if !ok {
		h.rateLimited(r, limiterExpensive)
		w.Header().Set("Retry-After", "1")
		return nil, apiError(codeThrottling, "too many expensive requests (export, import, test answer) in flight for this tenant; at most "+
			strconv.Itoa(h.budget.limit)+", retry after 1s")
	}
	return release, nil
}
