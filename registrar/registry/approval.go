package registry

import (
	"context"
	"slices"
)

// Poll message kinds of a create that waited for the operator
// (Policy.CreateApproval); regepp sends them as panData.
const (
	PollCreateApproved = "createApproved"
	PollCreateRejected = "createRejected"
)

// DecideCreate is the operator's decision on a create that waits for
// approval (Policy.CreateApproval): approved, the domain leaves
// pendingCreate and its delegation is published; rejected, it is
// released. Either way its registrar gets a poll message naming the
// create's clTRID. A domain not pendingCreate is ErrStatusProhibits.
func (r *Registry) DecideCreate(ctx context.Context, name string, approve bool, reason string) error {
	_, err := r.Do(ctx, func(ctx context.Context, tx *Tx) error {
		d, err := r.domain(ctx, tx.zt.Tx(), name, true)
		if err != nil {
			return err
		}
		if !slices.Contains(d.Statuses, StatusPendingCreate) {
			return errorf(ErrStatusProhibits, "%s is not waiting for approval", d.Name)
		}
		var cl string
		if err := tx.zt.Tx().QueryRow(ctx, `SELECT create_cltrid FROM registry_domain WHERE name = $1`, d.Name).Scan(&cl); err != nil {
			return err
		}
		kind, msg := PollCreateApproved, "the registry approved the create"
		if approve {
			if err := tx.SetStatus(ctx, d.Name, StatusPendingCreate, false); err != nil {
				return err
			}
		} else {
			kind, msg = PollCreateRejected, "the registry rejected the create"
			if err := tx.Release(ctx, d.Name); err != nil {
				return err
			}
		}
		if reason != "" {
			msg += ": " + reason
		}
		_, err = tx.zt.Tx().Exec(ctx, `INSERT INTO registry_poll (registrar_id, domain, kind, message, created_at, cl_trid) VALUES ($1, $2, $3, $4, $5, $6)`,
			d.RegistrarID, d.Name, kind, msg, r.Now(), cl)
		return err
	})
	return err
}
