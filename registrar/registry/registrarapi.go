package registry

import (
	"context"
	"errors"
	"net/netip"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/waymark-dns/waymark/zonecfg"
)

// This file holds the commands the registrar's HTTP API needs beyond EPP's
// create, renew, delete and restore: auth code rotation, glue changes of
// an existing host, and the operator's list of reserved and premium names.

// SetAuthInfo replaces a domain's transfer password (EPP domain:update
// chg authInfo); empty draws a random one. It returns the new code.
func (tx *Tx) SetAuthInfo(ctx context.Context, clID, name, auth string) (string, error) {
	d, err := tx.sponsored(ctx, clID, name)
	if err != nil {
		return "", err
	}
	if auth == "" {
		if auth, err = tx.r.newToken(12); err != nil {
			return "", err
		}
	}
	if len(auth) < 6 || len(auth) > 64 {
		return "", errorf(ErrParameterPolicy, "an auth code has 6 to 64 characters")
	}
	_, err = tx.zt.Tx().Exec(ctx, `UPDATE registry_domain SET auth_info = $2, updated_at = $3 WHERE name = $1`, d.Name, auth, tx.r.Now())
	return auth, err
}

// SetHostAddrs replaces the addresses (glue) of a subordinate host of
// registrar clID and republishes its domain (EPP host:update).
func (tx *Tx) SetHostAddrs(ctx context.Context, clID, raw string, addrs []netip.Addr) error {
	name, err := zonecfg.CanonicalName(raw)
	if err != nil {
		return errorf(ErrParameterPolicy, "%q is not a valid host name", raw)
	}
	q := tx.zt.Tx()
	var owner string
	var dom *string
	err = q.QueryRow(ctx, `SELECT registrar_id, domain FROM registry_host WHERE name = $1 FOR UPDATE`, name).Scan(&owner, &dom)
	if errors.Is(err, pgx.ErrNoRows) {
		return errorf(ErrObjectDoesNotExist, "no host %s", name)
	}
	if err != nil {
		return err
	}
	if owner != clID {
		return errorf(ErrAuthorization, "host %s is sponsored by another registrar", name)
	}
	if dom == nil {
		if len(addrs) > 0 {
			return errorf(ErrParameterPolicy, "host %s is outside this registry's domains: no addresses", name)
		}
		return nil
	}
	if len(addrs) == 0 {
		return errorf(ErrParameterPolicy, "host %s is inside %s and needs its addresses (glue)", name, *dom)
	}
	strs := make([]string, 0, len(addrs))
	for _, a := range addrs {
		if !a.IsValid() || a.IsUnspecified() || a.IsMulticast() {
			return errorf(ErrParameterPolicy, "%v is not a host address", a)
		}
		strs = append(strs, a.Unmap().String())
	}
	if _, err := q.Exec(ctx, `UPDATE registry_host SET addrs = $2, updated_at = $3 WHERE name = $1`, name, strs, tx.r.Now()); err != nil {
		return err
	}
	return tx.publish(ctx, *dom)
}

// NameRules lists a TLD's reserved and premium labels by label.
func (r *Registry) NameRules(ctx context.Context, name string) ([]NameRule, error) {
	tld, err := r.TLD(ctx, name)
	if err != nil {
		return nil, err
	}
	rows, err := r.db.Query(ctx, `SELECT tld, label, kind, coalesce(price, 0) FROM registry_name_rule WHERE tld = $1 ORDER BY label`, tld.Name)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, func(row pgx.CollectableRow) (NameRule, error) {
		var n NameRule
		return n, row.Scan(&n.TLD, &n.Label, &n.Kind, &n.Price)
	})
}

// ValidLabel reports whether l is one registrable label: letters, digits
// and inner hyphens, at most 63 characters (lower case).
func ValidLabel(l string) bool { return validLabel(strings.ToLower(l)) }
