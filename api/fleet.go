package api

import (
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/waymark-dns/waymark/controlplane"
)

// DefaultChangeWait is the long-poll timeout of GET /v1/changes/{id}?wait=insync
// when the request gives none.
const DefaultChangeWait = 30 * time.Second

// lazyWriter sends the 200 header only with the first byte of the body, so
// that an error before any output can still be answered properly.
type lazyWriter struct {
	w           http.ResponseWriter
	contentType string // "" is application/json
	started     bool
}

func (l *lazyWriter) Write(p []byte) (int, error) {
	if !l.started {
		l.started = true
		ct := l.contentType
		if ct == "" {
			ct = "application/json"
		}
		l.w.Header().Set("Content-Type", ct)
		l.w.WriteHeader(http.StatusOK)
	}
	return l.w.Write(p)
}

// snapshot is GET /v1/nameserver/snapshot?serve=ns1.x.,ns2.x.: every zone
// (or, with serve, those on delegation sets holding one of those pool
// names), streamed, as the JSON of event.Snapshot. A failure after the
// first byte leaves the JSON unterminated, which the nameserver rejects.
func (h *handler) snapshot(w http.ResponseWriter, r *http.Request) error {
	lw := &lazyWriter{w: w}
	if err := h.svc.WriteSnapshotServing(r.Context(), lw, splitComma(r.URL.Query().Get("serve"))); err != nil {
		if !lw.started {
			return err
		}
		h.log.WarnContext(r.Context(), "snapshot stream failed", "err", err)
	}
	return nil
}

// zoneSnapshot is GET /v1/nameserver/zones/{id}: one zone as event.ZoneState.
func (h *handler) zoneSnapshot(w http.ResponseWriter, r *http.Request) error {
	lw := &lazyWriter{w: w}
	if err := h.svc.WriteZoneSnapshot(r.Context(), chi.URLParam(r, "id"), lw); err != nil {
		if !lw.started {
			return err
		}
		h.log.WarnContext(r.Context(), "zone snapshot stream failed", "err", err)
	}
	return nil
}

// splitComma splits a comma-separated query value, dropping empty items.
func splitComma(v string) []string {
	var out []string
	for _, p := range strings.Split(v, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

type nameserverJSON struct {
	NodeID        string    `json:"node_id"`
	Region        string    `json:"region"`
	AppliedSeq    uint64    `json:"applied_seq"`
	Lag           uint64    `json:"lag"`
	Ready         bool      `json:"ready"`
	Live          bool      `json:"live"`
	Zones         int       `json:"zones"`
	Unservable    int       `json:"unservable_rrsets"`
	Serves        []string  `json:"serves"`
	FirstSeen     time.Time `json:"first_seen"`
	LastHeartbeat time.Time `json:"last_heartbeat"`
}

type listNameserversResponse struct {
	Nameservers []nameserverJSON `json:"nameservers"`
}

// listNameservers is GET /v1/nameservers: the fleet as the trackers see it.
func (h *handler) listNameservers(w http.ResponseWriter, r *http.Request) error {
	list, err := h.svc.ListNameservers(r.Context())
	if err != nil {
		return err
	}
	out := listNameserversResponse{Nameservers: make([]nameserverJSON, 0, len(list))}
	for _, n := range list {
		out.Nameservers = append(out.Nameservers, nameserverJSON{
			NodeID: n.NodeID, Region: n.Region, AppliedSeq: n.AppliedSeq, Lag: n.Lag,
			Ready: n.Ready, Live: n.Live, Zones: n.Zones, Unservable: n.Unservable, Serves: append([]string{}, n.Serves...),
			FirstSeen: n.FirstSeen.UTC(), LastHeartbeat: n.LastHeartbeat.UTC(),
		})
	}
	h.writeJSON(w, http.StatusOK, out)
	return nil
}

type propagationJSON struct {
	// LiveNameservers is the number of nameservers that gate INSYNC now;
	// AppliedNameservers how many of them have applied the change.
	LiveNameservers    int `json:"live_nameservers"`
	AppliedNameservers int `json:"applied_nameservers"`
}

type changeProgressResponse struct {
	Change      changeJSON      `json:"change"`
	Propagation propagationJSON `json:"propagation"`
}

// getChange is GET /v1/changes/{id}[?wait=insync[&timeout=30s]]: the
// change and how far it has spread through the live fleet.
// With wait=insync it answers once the change is INSYNC or when the
// timeout (default 30 s, at most 60 s) passes; a change still PENDING then
// is a normal 200 answer, not an error.
func (h *handler) getChange(w http.ResponseWriter, r *http.Request) error {
	id := chi.URLParam(r, "id")
	q := r.URL.Query()
	var c controlplane.ChangeInfo
	var p controlplane.Progress
	var err error
	switch wait := q.Get("wait"); wait {
	case "":
		c, p, err = h.svc.ChangeProgress(r.Context(), tenantID(r), id)
	case "insync", "INSYNC":
		timeout, terr := parseWaitTimeout(q.Get("timeout"))
		if terr != nil {
			return terr
		}
		c, p, err = h.svc.WaitChangeProgress(r.Context(), tenantID(r), id, timeout)
	default:
		return controlplane.Errorf(controlplane.CodeInvalidInput,
			"wait must be insync, not %q", wait)
	}
	if err != nil {
		return err
	}
	h.writeJSON(w, http.StatusOK, changeProgressResponse{
		Change:      toChangeJSON(c),
		Propagation: propagationJSON{LiveNameservers: p.Live, AppliedNameservers: p.Applied},
	})
	return nil
}

// parseWaitTimeout reads a Go duration ("30s", "1m") or a number of
// seconds; empty means DefaultChangeWait.
func parseWaitTimeout(s string) (time.Duration, error) {
	if s == "" {
		return DefaultChangeWait, nil
	}
	d, err := time.ParseDuration(s)
	if err != nil {
		n, nerr := strconv.ParseFloat(s, 64)
		if nerr != nil || !(n >= 0 && n <= controlplane.MaxChangeWait.Seconds()) {
			return 0, controlplane.Errorf(controlplane.CodeInvalidInput,
				"timeout must be a duration such as 30s, at most %s", controlplane.MaxChangeWait)
		}
		d = time.Duration(n * float64(time.Second))
	}
	if d < 0 || d > controlplane.MaxChangeWait {
		return 0, controlplane.Errorf(controlplane.CodeInvalidInput,
			"timeout must be between 0s and %s", controlplane.MaxChangeWait)
	}
	return d, nil
}
