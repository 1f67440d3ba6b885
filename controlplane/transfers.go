package controlplane

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/netip"
	"slices"

	"github.com/jackc/pgx/v5"

	"github.com/waymark-dns/waymark/dnssec"
	"github.com/waymark-dns/waymark/event"
	"github.com/waymark-dns/waymark/zonecfg"
)

// Outgoing zone transfers (docs/transfers.md). A zone's transfer
// configuration names who may transfer it (a TSIG key and source CIDRs)
// and whom to NOTIFY. Setting it is a change like any other: the zone's
// version goes up and the nameservers get the configuration, with the
// secrets of the keys it names wrapped under the fleet key (per zone, the
// zone id and key name as associated data), in the zone event, the
// snapshot and their cache.

// Limits of one zone's transfer configuration.
const (
	maxTransferACLs    = 20
	maxTransferCIDRs   = 50
	maxTransferNotify  = 20
	defaultNotifyPort  = 53
	transferStatusNote = "Routed record sets and aliases are transferred as the answer a client with no location gets when every health check is healthy (random choices fixed per name and type). A zone with aliases is sent in full to every IXFR: an alias follows its target without a change of its own."
)

// TransferConfig is a zone's transfer configuration as the tenant sets it.
type TransferConfig struct {
	Allow  []TransferAllow  `json:"allow"`
	Notify []TransferNotify `json:"notify"`
}

// TransferAllow lets requests signed with TSIGKey from CIDRs transfer.
type TransferAllow struct {
	TSIGKey string   `json:"tsig_key"`
	CIDRs   []string `json:"cidrs"`
}

// TransferNotify is a secondary that gets NOTIFY after each change.
type TransferNotify struct {
	Address string `json:"address"`
	Port    uint16 `json:"port"`
	TSIGKey string `json:"tsig_key,omitempty"`
}

// TransferStatus is what GET /v1/hostedzones/{id}/transfers shows.
type TransferStatus struct {
	Config TransferConfig
	// Version is the zone version, which is the SOA serial secondaries see.
	Version int64
	// Available is false when the zone cannot be transferred (Reason says
	// why: no allow entries, or the zone is signed).
	Available bool
	Reason    string
	// RoutedRRSets counts the zone's routed and alias record sets, which
	// are transferred as Note says.
	RoutedRRSets int
	Note         string
}

// PutTransfers replaces zone's transfer configuration.
func (s *Service) PutTransfers(ctx context.Context, tenantID, zoneID string, in TransferConfig) (TransferConfig, ChangeInfo, error) {
	in, err := normTransferConfig(in)
	if err != nil {
		return TransferConfig{}, ChangeInfo{}, err
	}
	id, ok := cleanID(zoneID)
	if !ok {
		return TransferConfig{}, ChangeInfo{}, errNoSuchZone(displayID(zoneID))
	}
	tx, err := s.pool.Begin(ctx)
	if err != nil {
		return TransferConfig{}, ChangeInfo{}, err
	}
	defer func() { _ = tx.Rollback(context.WithoutCancel(ctx)) }()
	if _, err := tx.Exec(ctx, `SELECT set_config('lock_timeout', $1, true)`,
		fmt.Sprintf("%dms", zoneLockTimeout.Milliseconds())); err != nil {
		return TransferConfig{}, ChangeInfo{}, err
	}
	var name, status string
	var version int64
	err = tx.QueryRow(ctx, `SELECT name, version, dnssec_status FROM hosted_zone WHERE id = $1 AND tenant_id = $2 FOR UPDATE`,
		id, tenantID).Scan(&name, &version, &status)
	if errors.Is(err, pgx.ErrNoRows) {
		return TransferConfig{}, ChangeInfo{}, errNoSuchZone(id)
	}
	if err != nil {
		return TransferConfig{}, ChangeInfo{}, lockError(err)
	}
	if len(in.Allow) > 0 && status != SigningStatusNotSigning {
		return TransferConfig{}, ChangeInfo{}, Errorf(CodeTransferNotAvailable,
			"The hosted zone is signed with DNSSEC; transfers of signed zones are not offered yet (docs/transfers.md).")
	}
	material := &zonecfg.Transfers{}
	keys := map[string]bool{}
	for _, a := range in.Allow {
		material.Allow = append(material.Allow, zonecfg.TransferACL{Key: a.TSIGKey, CIDRs: a.CIDRs})
		keys[a.TSIGKey] = true
	}
	for _, n := range in.Notify {
		material.Notify = append(material.Notify, zonecfg.NotifyTarget{Address: n.Address, Port: n.Port, Key: n.TSIGKey})
		if n.TSIGKey != "" {
			keys[n.TSIGKey] = true
		}
	}
	var b pgx.Batch
	b.Queue(`DELETE FROM zone_tsig_key WHERE zone_id = $1`, id)
	for _, k := range sortedKeys(keys) {
		alg, secret, err := s.tsigSecret(ctx, tx, tenantID, k)
		if err != nil {
			return TransferConfig{}, ChangeInfo{}, err
		}
		wrapped, err := dnssec.Seal(s.fleetKey(), secret, zonecfg.TSIGKeyAD(id, k), s.cfg.Rand)
		clear(secret)
		if err != nil {
			return TransferConfig{}, ChangeInfo{}, err
		}
		material.Keys = append(material.Keys, zonecfg.TSIGKey{Name: k, Algorithm: alg, Wrapped: wrapped})
		b.Queue(`INSERT INTO zone_tsig_key (zone_id, tenant_id, key_name) VALUES ($1, $2, $3)`, id, tenantID, k)
	}
	cfgJSON, err := json.Marshal(in)
	if err != nil {
		return TransferConfig{}, ChangeInfo{}, err
	}
	var stored []byte
	if len(material.Allow) > 0 || len(material.Notify) > 0 {
		if stored, err = json.Marshal(material); err != nil {
			return TransferConfig{}, ChangeInfo{}, err
		}
	}
	b.Queue(`UPDATE hosted_zone SET version = $2, transfer_config = $3, transfers = $4 WHERE id = $1`,
		id, version+1, cfgJSON, stored)
	if err := tx.SendBatch(ctx, &b).Close(); err != nil {
		return TransferConfig{}, ChangeInfo{}, fmt.Errorf("transfers: store: %w", err)
	}
	ev := event.ZoneEvent{Kind: event.ZoneUpdated, ZoneID: id, ZoneName: name,
		FromVersion: version, ToVersion: version + 1, Transfers: material}
	info, err := s.recordChange(ctx, tx, tenantID, "", ev)
	if err != nil {
		return TransferConfig{}, ChangeInfo{}, err
	}
	if err := tx.Commit(ctx); err != nil {
		return TransferConfig{}, ChangeInfo{}, err
	}
	return in, info, nil
}

// GetTransfers returns zone's transfer configuration and status.
func (s *Service) GetTransfers(ctx context.Context, tenantID, zoneID string) (TransferStatus, error) {
	id, ok := cleanID(zoneID)
	if !ok {
		return TransferStatus{}, errNoSuchZone(displayID(zoneID))
	}
	var raw []byte
	var st TransferStatus
	var status string
	err := s.pool.QueryRow(ctx,
		`SELECT z.version, z.dnssec_status, z.transfer_config,
		        (SELECT count(*) FROM rrset r WHERE r.zone_id = z.id AND (r.routing IS NOT NULL OR r.alias_target IS NOT NULL))
		   FROM hosted_zone z WHERE z.id = $1 AND z.tenant_id = $2`, id, tenantID).
		Scan(&st.Version, &status, &raw, &st.RoutedRRSets)
	if errors.Is(err, pgx.ErrNoRows) {
		return TransferStatus{}, errNoSuchZone(id)
	}
	if err != nil {
		return TransferStatus{}, err
	}
	st.Config = TransferConfig{Allow: []TransferAllow{}, Notify: []TransferNotify{}}
	if len(raw) > 0 {
		if err := json.Unmarshal(raw, &st.Config); err != nil {
			return TransferStatus{}, fmt.Errorf("transfers: stored configuration: %w", err)
		}
	}
	st.Note = transferStatusNote
	switch {
	case status != SigningStatusNotSigning:
		st.Reason = "The zone is signed with DNSSEC: transfer requests are refused (docs/transfers.md)."
	case len(st.Config.Allow) == 0:
		st.Reason = "No allow entries: every transfer request is refused."
	default:
		st.Available = true
	}
	return st, nil
}

// normTransferConfig checks a configuration and puts it in canonical form.
func normTransferConfig(in TransferConfig) (TransferConfig, error) {
	bad := func(f string, a ...any) (TransferConfig, error) {
		return TransferConfig{}, Errorf(CodeInvalidInput, f, a...)
	}
	if len(in.Allow) > maxTransferACLs || len(in.Notify) > maxTransferNotify {
		return bad("At most %d allow and %d notify entries.", maxTransferACLs, maxTransferNotify)
	}
	out := TransferConfig{Allow: []TransferAllow{}, Notify: []TransferNotify{}}
	for i, a := range in.Allow {
		k, err := zonecfg.CanonicalName(a.TSIGKey)
		if a.TSIGKey == "" || err != nil {
			return bad("allow[%d]: tsig_key must name a TSIG key (transfers are only offered to signed requests).", i)
		}
		if len(a.CIDRs) == 0 || len(a.CIDRs) > maxTransferCIDRs {
			return bad("allow[%d]: cidrs must list 1 to %d address ranges.", i, maxTransferCIDRs)
		}
		e := TransferAllow{TSIGKey: k}
		for _, c := range a.CIDRs {
			p, err := netip.ParsePrefix(c)
			if err != nil {
				return bad("allow[%d]: %q is not a CIDR range such as 192.0.2.0/24.", i, c)
			}
			e.CIDRs = append(e.CIDRs, p.Masked().String())
		}
		out.Allow = append(out.Allow, e)
	}
	for i, n := range in.Notify {
		a, err := netip.ParseAddr(n.Address)
		if err != nil || a.Zone() != "" {
			return bad("notify[%d]: address must be an IP address.", i)
		}
		e := TransferNotify{Address: a.Unmap().String(), Port: n.Port}
		if e.Port == 0 {
			e.Port = defaultNotifyPort
		}
		if n.TSIGKey != "" {
			if e.TSIGKey, err = zonecfg.CanonicalName(n.TSIGKey); err != nil {
				return bad("notify[%d]: tsig_key must name a TSIG key.", i)
			}
		}
		out.Notify = append(out.Notify, e)
	}
	return out, nil
}

// sortedKeys returns m's keys in order, so the same configuration always
// produces the same material.
func sortedKeys(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}
