package api

import (
	"net/http"
	"strings"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/waymark-dns/waymark/controlplane"
	"github.com/waymark-dns/waymark/registrar/registry"
)

// The operator's configuration of the built-in registry, /v1/registry/…
// with the operator token: TLDs with their prices and policy, reserved and
// premium names. Durations are whole seconds.

type policyJSON struct {
	AddGraceSeconds       int64  `json:"add_grace_seconds"`
	RenewGraceSeconds     int64  `json:"renew_grace_seconds"`
	AutoRenewGraceSeconds int64  `json:"auto_renew_grace_seconds"`
	TransferGraceSeconds  int64  `json:"transfer_grace_seconds"`
	RedemptionSeconds     int64  `json:"redemption_seconds"`
	PendingDeleteSeconds  int64  `json:"pending_delete_seconds"`
	TransferLockSeconds   int64  `json:"transfer_lock_seconds"`
	TransferWaitSeconds   int64  `json:"transfer_wait_seconds"`
	NegativeTTL           uint32 `json:"negative_ttl"`
	DelegationTTL         uint32 `json:"delegation_ttl"`
	CreateApproval        bool   `json:"create_approval"`
}

func secs(d time.Duration) int64 { return int64(d / time.Second) }

func toPolicyJSON(p registry.Policy) policyJSON {
	return policyJSON{AddGraceSeconds: secs(p.AddGrace), RenewGraceSeconds: secs(p.RenewGrace), AutoRenewGraceSeconds: secs(p.AutoRenewGrace),
		TransferGraceSeconds: secs(p.TransferGrace), RedemptionSeconds: secs(p.Redemption), PendingDeleteSeconds: secs(p.PendingDelete),
		TransferLockSeconds: secs(p.TransferLock), TransferWaitSeconds: secs(p.TransferWait), NegativeTTL: p.NegativeTTL, DelegationTTL: p.DelegationTTL,
		CreateApproval: p.CreateApproval}
}

type tldJSON struct {
	TLD          string     `json:"tld"`
	HostedZoneID string     `json:"hosted_zone_id"`
	Prices       pricesJSON `json:"prices"`
	Policy       policyJSON `json:"policy"`
	NameServers  []string   `json:"name_servers"`
	DS           []string   `json:"ds"`
	CreatedAt    time.Time  `json:"created_at"`
}

func toTLDJSON(t registry.TLD) tldJSON {
	ns := t.NameServers
	if ns == nil {
		ns = []string{}
	}
	ds := t.DS
	if ds == nil {
		ds = []string{}
	}
	return tldJSON{TLD: t.Name, HostedZoneID: t.ZoneID, Prices: toPricesJSON(t.Prices), Policy: toPolicyJSON(t.Policy),
		NameServers: ns, DS: ds, CreatedAt: t.CreatedAt.UTC()}
}

type tldResponse struct {
	TLD tldJSON `json:"tld"`
}

type listTLDsResponse struct {
	TLDs []tldJSON `json:"tlds"`
}

// putPricesJSON and putPolicyJSON are a TLD's configuration in a PUT:
// fields left out keep their value (a new TLD's defaults, DefaultPolicy).
type putPricesJSON struct {
	Currency     *string `json:"currency"`
	Registration *int64  `json:"registration"`
	Renewal      *int64  `json:"renewal"`
	Transfer     *int64  `json:"transfer"`
	Restoration  *int64  `json:"restoration"`
}

type putPolicyJSON struct {
	AddGraceSeconds       *int64  `json:"add_grace_seconds"`
	RenewGraceSeconds     *int64  `json:"renew_grace_seconds"`
	AutoRenewGraceSeconds *int64  `json:"auto_renew_grace_seconds"`
	TransferGraceSeconds  *int64  `json:"transfer_grace_seconds"`
	RedemptionSeconds     *int64  `json:"redemption_seconds"`
	PendingDeleteSeconds  *int64  `json:"pending_delete_seconds"`
	TransferLockSeconds   *int64  `json:"transfer_lock_seconds"`
	TransferWaitSeconds   *int64  `json:"transfer_wait_seconds"`
	NegativeTTL           *uint32 `json:"negative_ttl"`
	DelegationTTL         *uint32 `json:"delegation_ttl"`
	CreateApproval        *bool   `json:"create_approval"`
}

type putTLDRequest struct {
	Prices putPricesJSON `json:"prices"`
	Policy putPolicyJSON `json:"policy"`
	// DNSSEC true signs the TLD's zone; a signed TLD stays signed.
	DNSSEC *bool `json:"dnssec"`
}

type nameRuleJSON struct {
	Label string `json:"label"`
	Kind  string `json:"kind"`
	Price int64  `json:"price,omitempty"`
}

type putNameRuleRequest struct {
	Kind  string `json:"kind"`
	Price int64  `json:"price"`
}

type nameRuleResponse struct {
	Name nameRuleJSON `json:"name"`
}

type listNameRulesResponse struct {
	Names []nameRuleJSON `json:"names"`
}

// noSuchTLD: on the operator's paths a TLD the registry does not run is
// a missing resource (404), not an unsupported name.
func noSuchTLD(err error) error {
	e := asAPIError(err)
	if controlplane.IsCode(e, codeUnsupportedTLD) {
		return apiError(codeNoSuchTLD, e.(*controlplane.Error).Message)
	}
	return e
}

// listTLDs is GET /v1/registry/tlds.
func (h *handler) listTLDs(w http.ResponseWriter, r *http.Request, rs RegistrarService) error {
	list, err := rs.TLDs(r.Context())
	if err != nil {
		return err
	}
	out := listTLDsResponse{TLDs: make([]tldJSON, 0, len(list))}
	for _, t := range list {
		out.TLDs = append(out.TLDs, toTLDJSON(t))
	}
	h.writeJSON(w, http.StatusOK, out)
	return nil
}

// getTLD is GET /v1/registry/tlds/{tld}.
func (h *handler) getTLD(w http.ResponseWriter, r *http.Request, rs RegistrarService) error {
	t, err := rs.TLD(r.Context(), chi.URLParam(r, "tld"))
	if err != nil {
		return noSuchTLD(err)
	}
	h.writeJSON(w, http.StatusOK, tldResponse{TLD: toTLDJSON(t)})
	return nil
}

// putTLD is PUT /v1/registry/tlds/{tld}: creates the TLD (with its zone)
// or changes its prices and policy; 201 when created.
func (h *handler) putTLD(w http.ResponseWriter, r *http.Request, rs RegistrarService) error {
	var req putTLDRequest
	if err := h.decodeJSON(r, &req); err != nil {
		return err
	}
	name := chi.URLParam(r, "tld")
	status := http.StatusOK
	cur, err := rs.TLD(r.Context(), name)
	switch {
	case controlplane.IsCode(asAPIError(err), codeUnsupportedTLD):
		status, cur = http.StatusCreated, registry.TLD{Prices: registry.Prices{Currency: "USD"}, Policy: registry.DefaultPolicy()}
	case err != nil:
		return err
	}
	if req.DNSSEC != nil && !*req.DNSSEC && len(cur.DS) > 0 {
		return invalidInput("a signed TLD stays signed: its DS is the trust anchor resolvers are configured with")
	}
	p, pol := cur.Prices, cur.Policy
	setS := func(dst *string, v *string) {
		if v != nil {
			*dst = *v
		}
	}
	setI := func(dst *int64, v *int64) {
		if v != nil {
			*dst = *v
		}
	}
	setD := func(dst *time.Duration, v *int64) {
		if v != nil {
			*dst = time.Duration(*v) * time.Second
		}
	}
	setU := func(dst *uint32, v *uint32) {
		if v != nil {
			*dst = *v
		}
	}
	setS(&p.Currency, req.Prices.Currency)
	setI(&p.Register, req.Prices.Registration)
	setI(&p.Renew, req.Prices.Renewal)
	setI(&p.Transfer, req.Prices.Transfer)
	setI(&p.Restore, req.Prices.Restoration)
	q := req.Policy
	for _, v := range []*int64{q.AddGraceSeconds, q.RenewGraceSeconds, q.AutoRenewGraceSeconds, q.TransferGraceSeconds,
		q.RedemptionSeconds, q.PendingDeleteSeconds, q.TransferLockSeconds, q.TransferWaitSeconds} {
		if v != nil && (*v < 0 || *v > 10*365*86400) {
			return invalidInput("policy periods are 0 to 315360000 seconds")
		}
	}
	setD(&pol.AddGrace, q.AddGraceSeconds)
	setD(&pol.RenewGrace, q.RenewGraceSeconds)
	setD(&pol.AutoRenewGrace, q.AutoRenewGraceSeconds)
	setD(&pol.TransferGrace, q.TransferGraceSeconds)
	setD(&pol.Redemption, q.RedemptionSeconds)
	setD(&pol.PendingDelete, q.PendingDeleteSeconds)
	setD(&pol.TransferLock, q.TransferLockSeconds)
	setD(&pol.TransferWait, q.TransferWaitSeconds)
	setU(&pol.NegativeTTL, q.NegativeTTL)
	setU(&pol.DelegationTTL, q.DelegationTTL)
	if q.CreateApproval != nil {
		pol.CreateApproval = *q.CreateApproval
	}
	t, err := rs.ConfigureTLD(r.Context(), name, p, pol)
	if err != nil {
		return err
	}
	if req.DNSSEC != nil && *req.DNSSEC {
		if t, err = rs.SignTLD(r.Context(), name); err != nil {
			return err
		}
	}
	h.writeJSON(w, status, tldResponse{TLD: toTLDJSON(t)})
	return nil
}

// listNameRules is GET /v1/registry/tlds/{tld}/names.
func (h *handler) listNameRules(w http.ResponseWriter, r *http.Request, rs RegistrarService) error {
	list, err := rs.NameRules(r.Context(), chi.URLParam(r, "tld"))
	if err != nil {
		return noSuchTLD(err)
	}
	out := listNameRulesResponse{Names: make([]nameRuleJSON, 0, len(list))}
	for _, n := range list {
		out.Names = append(out.Names, nameRuleJSON{Label: n.Label, Kind: n.Kind, Price: n.Price})
	}
	h.writeJSON(w, http.StatusOK, out)
	return nil
}

// putNameRule is PUT /v1/registry/tlds/{tld}/names/{label}: reserve a
// label or make it premium.
func (h *handler) putNameRule(w http.ResponseWriter, r *http.Request, rs RegistrarService) error {
	var req putNameRuleRequest
	if err := h.decodeJSON(r, &req); err != nil {
		return err
	}
	if req.Kind == "" {
		return invalidInput("kind is required: reserved or premium")
	}
	rule := registry.NameRule{TLD: chi.URLParam(r, "tld"), Label: chi.URLParam(r, "label"), Kind: req.Kind, Price: req.Price}
	if err := rs.SetNameRule(r.Context(), rule); err != nil {
		return noSuchTLD(err)
	}
	rule.Label = strings.ToLower(rule.Label)
	if rule.Kind != "premium" {
		rule.Price = 0
	}
	h.writeJSON(w, http.StatusOK, nameRuleResponse{Name: nameRuleJSON{Label: rule.Label, Kind: rule.Kind, Price: rule.Price}})
	return nil
}

// deleteNameRule is DELETE /v1/registry/tlds/{tld}/names/{label}.
func (h *handler) deleteNameRule(w http.ResponseWriter, r *http.Request, rs RegistrarService) error {
	if err := rs.SetNameRule(r.Context(), registry.NameRule{TLD: chi.URLParam(r, "tld"), Label: chi.URLParam(r, "label")}); err != nil {
		return noSuchTLD(err)
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}
