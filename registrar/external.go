package registrar

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/waymark-dns/waymark/registrar/epp"
	"github.com/waymark-dns/waymark/registrar/registry"
	"github.com/waymark-dns/waymark/zonecfg"
)

// ExternalTLD is a TLD run by another registry, which the registrar sells
// through its EPP client (registrar/epp). The password and the private
// key of the client certificate are sealed at rest and never part of it.
type ExternalTLD struct {
	TLD string
	// EPPAddress is the registry's EPP server, host:port.
	EPPAddress string
	// ClientID is the registrar's login at the registry.
	ClientID string
	// ClientCertPEM is the registrar's client certificate (public).
	ClientCertPEM string
	// CAPEM are the certificates the registry's server certificate is
	// checked against; "" is the system's roots.
	CAPEM string
	// Prices are what tenants pay, in the registrar's currency.
	Prices    registry.Prices
	CreatedAt time.Time
	UpdatedAt time.Time
}

// ExternalInput configures an external TLD. On a TLD already configured,
// an empty Password or ClientKeyPEM keeps the stored secret (an operator
// who moves the address need not send the secrets again).
type ExternalInput struct {
	EPPAddress    string
	ClientID      string
	Password      string
	ClientCertPEM string
	ClientKeyPEM  string
	CAPEM         string
	Prices        registry.Prices
}

// externalSecrets are sealed together in registry_external.sealed.
type externalSecrets struct {
	Password     string `json:"password"`
	ClientKeyPEM string `json:"client_key_pem"`
}

// externalAD binds a sealed login to its TLD's row.
func externalAD(tld string) string { return "registry_external/" + tld }

const externalColumns = `tld, epp_address, client_id, client_cert_pem, ca_pem, currency, registration, renewal, transfer, restoration, created_at, updated_at`

func scanExternal(row pgx.Row, extra ...any) (ExternalTLD, error) {
	var t ExternalTLD
	err := row.Scan(append([]any{&t.TLD, &t.EPPAddress, &t.ClientID, &t.ClientCertPEM, &t.CAPEM, &t.Prices.Currency, &t.Prices.Register,
		&t.Prices.Renew, &t.Prices.Transfer, &t.Prices.Restore, &t.CreatedAt, &t.UpdatedAt}, extra...)...)
	return t, err
}

// externalTLDName canonicalises an external TLD's name.
func externalTLDName(name string) (string, error) {
	tld, err := zonecfg.CanonicalName(name)
	if err != nil || tld == "." {
		return "", errorf(CodeInvalidInput, "%q is not a valid TLD", name)
	}
	return tld, nil
}

// ConfigureExternal creates or changes the configuration of a TLD run by
// another registry; created says which. The certificate must match the
// key and the CA certificates must parse, so that a login that cannot
// work is refused here rather than by the first registration.
func (s *Service) ConfigureExternal(ctx context.Context, name string, in ExternalInput) (t ExternalTLD, created bool, err error) {
	tld, err := externalTLDName(name)
	if err != nil {
		return ExternalTLD{}, false, err
	}
	if host, port, err := net.SplitHostPort(in.EPPAddress); err != nil || host == "" {
		return ExternalTLD{}, false, errorf(CodeInvalidInput, "epp_address must be host:port")
	} else if p, err := strconv.Atoi(port); err != nil || p < 1 || p > 65535 {
		return ExternalTLD{}, false, errorf(CodeInvalidInput, "epp_address must be host:port with a port of 1 to 65535")
	}
	// RFC 5730's clIDType and pwType.
	if n := len(in.ClientID); n < 3 || n > 16 || strings.ContainsAny(in.ClientID, " \t\r\n") {
		return ExternalTLD{}, false, errorf(CodeInvalidInput, "client_id must be 3 to 16 characters without spaces (RFC 5730)")
	}
	if n := len(in.Password); in.Password != "" && (n < 6 || n > 16) {
		return ExternalTLD{}, false, errorf(CodeInvalidInput, "password must be 6 to 16 characters (RFC 5730)")
	}
	if in.CAPEM != "" && !x509.NewCertPool().AppendCertsFromPEM([]byte(in.CAPEM)) {
		return ExternalTLD{}, false, errorf(CodeInvalidInput, "ca_pem holds no PEM certificate")
	}
	if in.Prices.Currency == "" {
		in.Prices.Currency = "USD"
	}
	p := in.Prices
	if len(p.Currency) != 3 || p.Register < 0 || p.Renew < 0 || p.Transfer < 0 || p.Restore < 0 {
		return ExternalTLD{}, false, errorf(CodeInvalidInput, "prices must be non-negative with a three-letter currency")
	}
	tx, err := s.db.Begin(ctx)
	if err != nil {
		return ExternalTLD{}, false, err
	}
	defer func() { _ = tx.Rollback(context.WithoutCancel(ctx)) }()
	// A TLD is the built-in registry's or an external one's: the built-in
	// registry's row is read FOR SHARE so that it is not created meanwhile.
	var builtIn bool
	if err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM registry_tld WHERE tld = $1 FOR SHARE)`, tld).Scan(&builtIn); err != nil {
		return ExternalTLD{}, false, err
	}
	if builtIn {
		return ExternalTLD{}, false, errorf(CodeTLDRulesViolation, "%s is run by the built-in registry; it cannot be an external registry's too", tld)
	}
	var sealed []byte
	_, err = scanExternal(tx.QueryRow(ctx, `SELECT `+externalColumns+`, sealed FROM registry_external WHERE tld = $1 FOR UPDATE`, tld), &sealed)
	created = errors.Is(err, pgx.ErrNoRows)
	if err != nil && !created {
		return ExternalTLD{}, false, err
	}
	var sec externalSecrets
	if !created {
		raw, err := s.cp.OpenSecret(externalAD(tld), sealed)
		if err != nil {
			return ExternalTLD{}, false, err
		}
		if err := json.Unmarshal(raw, &sec); err != nil {
			return ExternalTLD{}, false, fmt.Errorf("sealed login of %s: %w", tld, err)
		}
	}
	if in.Password != "" {
		sec.Password = in.Password
	}
	if in.ClientKeyPEM != "" {
		sec.ClientKeyPEM = in.ClientKeyPEM
	}
	if sec.Password == "" || sec.ClientKeyPEM == "" || in.ClientCertPEM == "" {
		return ExternalTLD{}, false, errorf(CodeInvalidInput, "a new external TLD needs password, client_cert_pem and client_key_pem")
	}
	if _, err := tls.X509KeyPair([]byte(in.ClientCertPEM), []byte(sec.ClientKeyPEM)); err != nil {
		return ExternalTLD{}, false, errorf(CodeInvalidInput, "client_cert_pem and client_key_pem are not a certificate and its key: %v", err)
	}
	raw, err := json.Marshal(sec)
	if err != nil {
		return ExternalTLD{}, false, err
	}
	if sealed, err = s.cp.SealSecret(externalAD(tld), raw); err != nil {
		return ExternalTLD{}, false, err
	}
	now := s.reg.Now()
	t, err = scanExternal(tx.QueryRow(ctx, `INSERT INTO registry_external (tld, epp_address, client_id, client_cert_pem, ca_pem, sealed,
		    currency, registration, renewal, transfer, restoration, created_at, updated_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $12)
		ON CONFLICT (tld) DO UPDATE SET epp_address = EXCLUDED.epp_address, client_id = EXCLUDED.client_id,
		    client_cert_pem = EXCLUDED.client_cert_pem, ca_pem = EXCLUDED.ca_pem, sealed = EXCLUDED.sealed,
		    currency = EXCLUDED.currency, registration = EXCLUDED.registration, renewal = EXCLUDED.renewal,
		    transfer = EXCLUDED.transfer, restoration = EXCLUDED.restoration, updated_at = EXCLUDED.updated_at
		RETURNING `+externalColumns, tld, in.EPPAddress, in.ClientID, in.ClientCertPEM, in.CAPEM, sealed,
		p.Currency, p.Register, p.Renew, p.Transfer, p.Restore, now))
	if err != nil {
		return ExternalTLD{}, false, err
	}
	return t, created, tx.Commit(ctx)
}

// ExternalTLDByName returns an external TLD's configuration; NoSuchTLD
// when there is none.
func (s *Service) ExternalTLDByName(ctx context.Context, name string) (ExternalTLD, error) {
	tld, err := externalTLDName(name)
	if err != nil {
		return ExternalTLD{}, err
	}
	t, err := scanExternal(s.db.QueryRow(ctx, `SELECT `+externalColumns+` FROM registry_external WHERE tld = $1`, tld))
	if errors.Is(err, pgx.ErrNoRows) {
		return ExternalTLD{}, errorf(CodeNoSuchTLD, "%s is not an external registry's TLD", tld)
	}
	return t, err
}

// ExternalTLDs lists the external TLDs by name.
func (s *Service) ExternalTLDs(ctx context.Context) ([]ExternalTLD, error) {
	rows, err := s.db.Query(ctx, `SELECT `+externalColumns+` FROM registry_external ORDER BY tld`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []ExternalTLD{}
	for rows.Next() {
		t, err := scanExternal(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, t)
	}
	return out, rows.Err()
}

// DeleteExternal removes an external TLD's configuration and its sealed
// login. Domains registered through it are refused: they would be left
// without a registry to renew, update or delete them at.
func (s *Service) DeleteExternal(ctx context.Context, name string) error {
	tld, err := externalTLDName(name)
	if err != nil {
		return err
	}
	var n int
	if err := s.db.QueryRow(ctx, `SELECT count(*) FROM registrar_domain WHERE right(name, length($1) + 1) = '.' || $1`, tld).Scan(&n); err != nil {
		return err
	}
	if n > 0 {
		return errorf(CodeTLDRulesViolation, "%s has %d domains registered through it", tld, n)
	}
	tag, err := s.db.Exec(ctx, `DELETE FROM registry_external WHERE tld = $1`, tld)
	if err != nil {
		return err
	}
	if tag.RowsAffected() == 0 {
		return errorf(CodeNoSuchTLD, "%s is not an external registry's TLD", tld)
	}
	return nil
}

// externalFor returns the external TLD name falls under (the longest
// suffix configured) and the name's one label below it; ok false when
// no external TLD covers name.
func (s *Service) externalFor(ctx context.Context, name string) (t ExternalTLD, label string, ok bool, err error) {
	var suffixes []string
	for i := 0; i < len(name)-1; i++ {
		if i == 0 || name[i-1] == '.' {
			suffixes = append(suffixes, name[i:])
		}
	}
	t, err = scanExternal(s.db.QueryRow(ctx, `SELECT `+externalColumns+` FROM registry_external
		WHERE tld = ANY($1) ORDER BY length(tld) DESC LIMIT 1`, suffixes))
	if errors.Is(err, pgx.ErrNoRows) {
		return ExternalTLD{}, "", false, nil
	}
	if err != nil {
		return ExternalTLD{}, "", false, err
	}
	return t, strings.TrimSuffix(name, "."+t.TLD), true, nil
}

// dialExternal opens a logged-in EPP session with t's registry. The
// caller logs out.
func (s *Service) dialExternal(ctx context.Context, t ExternalTLD) (*epp.Client, error) {
	var sealed []byte
	if err := s.db.QueryRow(ctx, `SELECT sealed FROM registry_external WHERE tld = $1`, t.TLD).Scan(&sealed); err != nil {
		return nil, err
	}
	raw, err := s.cp.OpenSecret(externalAD(t.TLD), sealed)
	if err != nil {
		return nil, err
	}
	var sec externalSecrets
	if err := json.Unmarshal(raw, &sec); err != nil {
		return nil, fmt.Errorf("sealed login of %s: %w", t.TLD, err)
	}
	cert, err := tls.X509KeyPair([]byte(t.ClientCertPEM), []byte(sec.ClientKeyPEM))
	if err != nil {
		return nil, fmt.Errorf("client certificate of %s: %w", t.TLD, err)
	}
	host, _, _ := net.SplitHostPort(t.EPPAddress)
	cfg := &tls.Config{Certificates: []tls.Certificate{cert}, ServerName: host, MinVersion: tls.VersionTLS12}
	if t.CAPEM != "" {
		cfg.RootCAs = x509.NewCertPool()
		cfg.RootCAs.AppendCertsFromPEM([]byte(t.CAPEM))
	}
	c, err := epp.Dial(ctx, t.EPPAddress, cfg, "wm-")
	if err != nil {
		return nil, fmt.Errorf("registry of %s at %s: %w", t.TLD, t.EPPAddress, err)
	}
	if err := c.Login(ctx, t.ClientID, sec.Password, ""); err != nil {
		c.Close()
		return nil, fmt.Errorf("login at the registry of %s: %w", t.TLD, err)
	}
	return c, nil
}

// externalAvailability checks name at its external registry (EPP domain
// check) and prices it with the registrar's prices.
func (s *Service) externalAvailability(ctx context.Context, name, label string, t ExternalTLD) (registry.Check, error) {
	if !validLabel(label) {
		return registry.Check{Name: name, Availability: registry.InvalidNameForTLD,
			Reason: fmt.Sprintf("%s is not a registrable name in %s: one label of letters, digits and hyphens", name, t.TLD)}, nil
	}
	c, err := s.dialExternal(ctx, t)
	if err != nil {
		return registry.Check{}, &Error{Code: CodeRegistryUnavailable, Message: err.Error()}
	}
	defer c.Close()
	defer func() { _ = c.Logout(context.WithoutCancel(ctx)) }()
	checks, err := c.CheckDomains(ctx, strings.TrimSuffix(name, "."))
	if err != nil || len(checks) != 1 {
		return registry.Check{}, &Error{Code: CodeRegistryUnavailable, Message: fmt.Sprintf("check at the registry of %s: %v", t.TLD, err)}
	}
	out := registry.Check{Name: name, Availability: registry.Available, Price: t.Prices.Register, Currency: t.Prices.Currency}
	if !checks[0].Avail {
		out.Availability, out.Reason = registry.Unavailable, checks[0].Reason
		if out.Reason == "" {
			out.Reason = "not available at the registry of " + t.TLD
		}
	}
	return out, nil
}

// validLabel: one label of letters, digits and hyphens, not starting or
// ending with a hyphen (as the built-in registry asks).
func validLabel(l string) bool {
	if l == "" || len(l) > 63 || l[0] == '-' || l[len(l)-1] == '-' {
		return false
	}
	for i := 0; i < len(l); i++ {
		c := l[i]
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-') {
			return false
		}
	}
	return true
}
