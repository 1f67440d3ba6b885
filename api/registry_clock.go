package api

import (
	"net/http"
	"time"

	"github.com/waymark-dns/waymark/controlplane"
)

// The registry's test clock (`waymark dev`, tests): the operator moves
// the domain lifecycle forward (expiry, redemption, transfers, contact
// verification; docs/registrar.md) by advancing it. Without a test clock
// (Config.RegistryClock nil, every production process) the routes are
// 404, like any path that does not exist.

type registryClockRequest struct {
	// Advance is a Go duration ("720h", "90m"), positive and at most ten
	// years.
	Advance string `json:"advance"`
}

type registryClockJSON struct {
	Now time.Time `json:"now"`
}

// registryClock is GET /v1/registry/clock.
func (h *handler) registryClock(w http.ResponseWriter, r *http.Request) error {
	c := h.cfg.RegistryClock
	if c == nil {
		return errNoEndpoint(r)
	}
	h.writeJSON(w, http.StatusOK, registryClockJSON{Now: c.Now().UTC()})
	return nil
}

// advanceRegistryClock is POST /v1/registry/clock.
func (h *handler) advanceRegistryClock(w http.ResponseWriter, r *http.Request) error {
	c := h.cfg.RegistryClock
	if c == nil {
		return errNoEndpoint(r)
	}
	var req registryClockRequest
	if err := h.decodeJSON(r, &req); err != nil {
		return err
	}
	d, err := time.ParseDuration(req.Advance)
	if err != nil {
		return apiError(controlplane.CodeInvalidInput, `advance must be a duration such as "720h"`)
	}
	now, err := c.Advance(d)
	if err != nil {
		return apiError(controlplane.CodeInvalidInput, "advance must be positive and at most ten years")
	}
	h.writeJSON(w, http.StatusOK, registryClockJSON{Now: now.UTC()})
	return nil
}
