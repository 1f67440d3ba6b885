package main

import (
	"context"
	"crypto/sha256"
	"crypto/tls"
	"encoding/json"
	"encoding/pem"
	"errors"
	"flag"
	"fmt"
	"net"
	"net/http"
	"os"
	"time"

	"github.com/waymark-dns/waymark/controlplane"
	"github.com/waymark-dns/waymark/migrations"
	"github.com/waymark-dns/waymark/registrar/epp"
	"github.com/waymark-dns/waymark/registrar/rdap"
	"github.com/waymark-dns/waymark/registrar/regepp"
	"github.com/waymark-dns/waymark/registrar/registry"
	"github.com/waymark-dns/waymark/registrar/regrdap"
)

// registrarAccount is one registrar of the --registrars file: its EPP
// login (clID and password) and the client certificates it may log in
// with (PEM files).
type registrarAccount struct {
	ID           string   `json:"id"`
	Name         string   `json:"name"`
	Password     string   `json:"password"`
	Certificates []string `json:"certificates"`
}

// runRegistry is `waymark registry`: the built-in registry's public faces
// as a process of their own, over the database the API writes (the TLDs
// are the operator's /v1/registry/… configuration there): EPP over TLS
// for registrars (RFC 5730–5734) and, unless --rdap-listen is empty, RDAP
// over HTTP without authentication. The registrar accounts of
// --registrars are created or updated at start. The TLD zones' changes go
// out through the API's outbox relay.
func runRegistry(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("registry", flag.ContinueOnError)
	dsn := fs.String("database-url", env("DATABASE_URL", defaultDatabaseURL), "PostgreSQL URL (DATABASE_URL)")
	eppListen := fs.String("epp-listen", env("WAYMARK_EPP_LISTEN", "127.0.0.1:7000"), "EPP over TLS listen address (WAYMARK_EPP_LISTEN; IANA's port is 700)")
	eppCert := fs.String("epp-cert", env("WAYMARK_EPP_SERVER_CERT", ""), "the EPP server's certificate chain, PEM (WAYMARK_EPP_SERVER_CERT)")
	eppKey := fs.String("epp-key", env("WAYMARK_EPP_SERVER_KEY", ""), "its private key, PEM (WAYMARK_EPP_SERVER_KEY)")
	accounts := fs.String("registrars", env("WAYMARK_REGISTRARS", ""),
		`JSON file of the registrar accounts: [{"id", "name", "password", "certificates": [PEM files]}] (WAYMARK_REGISTRARS)`)
	serverID := fs.String("server-id", env("WAYMARK_EPP_SERVER_ID", "waymark-registry"), "the EPP greeting's svID (WAYMARK_EPP_SERVER_ID)")
	rdapListen := fs.String("rdap-listen", env("WAYMARK_RDAP_LISTEN", "127.0.0.1:8081"), "RDAP listen address, empty for none (WAYMARK_RDAP_LISTEN)")
	rdapBase := fs.String("rdap-base-url", env("WAYMARK_RDAP_BASE_URL", ""), "RDAP base URL in links (WAYMARK_RDAP_BASE_URL; default http://LISTEN/rdap)")
	poolCfg := poolFlags(fs)
	dbOpts, _ := timeoutFlags(fs)
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *eppCert == "" || *eppKey == "" {
		return errors.New("--epp-cert and --epp-key are required")
	}
	cert, err := tls.LoadX509KeyPair(*eppCert, *eppKey)
	if err != nil {
		return fmt.Errorf("EPP server certificate: %w", err)
	}
	regs, certs, err := loadRegistrars(*accounts)
	if err != nil {
		return err
	}
	sec, err := secretsFromEnv()
	if err != nil {
		return err
	}
	pool, err := poolCfg.pool()
	if err != nil {
		return err
	}
	log := newLogger()
	if err := migrations.EnsureDatabase(ctx, *dsn); err != nil {
		return err
	}
	if err := migrations.Up(ctx, *dsn, log.With("component", "migrate")); err != nil {
		return err
	}
	db, err := controlplane.NewPool(ctx, *dsn, *dbOpts)
	if err != nil {
		return fmt.Errorf("database: %w", err)
	}
	defer db.Close()
	svc, err := controlplane.New(db, controlplane.Config{Pool: pool, MasterKey: sec.MasterKey, JWTKey: sec.JWTKey, FleetKey: sec.FleetKey,
		ReservedNames: splitList(*poolCfg.reserved), AllowedNames: splitList(*poolCfg.allowed), Logger: log})
	if err != nil {
		return err
	}
	reg, err := registry.Open(ctx, db, svc, registry.Config{Pool: pool})
	if err != nil {
		return fmt.Errorf("registry: %w", err)
	}
	for _, a := range regs {
		if err := reg.EnsureRegistrar(ctx, a.ID, a.Name, a.Password); err != nil {
			return fmt.Errorf("registrar %s: %w", a.ID, err)
		}
	}

	eln, err := net.Listen("tcp", *eppListen)
	if err != nil {
		return fmt.Errorf("--epp-listen: %w", err)
	}
	eppSrv := &epp.Server{
		Registry: &regepp.Registry{Registry: reg, Certs: certs},
		ServerID: *serverID,
		TLS:      &tls.Config{Certificates: []tls.Certificate{cert}, ClientAuth: tls.RequireAnyClientCert, MinVersion: tls.VersionTLS12},
		Log:      log.With("component", "epp"),
	}
	done := make(chan error, 2)
	go func() { done <- eppSrv.Serve(eln) }()
	defer eppSrv.Close()
	attrs := []any{"epp", eln.Addr().String(), "registrars", len(regs)}

	if *rdapListen != "" {
		rln, err := net.Listen("tcp", *rdapListen)
		if err != nil {
			return fmt.Errorf("--rdap-listen: %w", err)
		}
		base := *rdapBase
		if base == "" {
			base = "http://" + rln.Addr().String() + "/rdap"
		}
		mux := http.NewServeMux()
		mux.Handle("/rdap/", http.StripPrefix("/rdap", &rdap.Handler{Source: &regrdap.Source{Registry: reg}, BaseURL: base, Log: log.With("component", "rdap")}))
		rdapSrv := &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second, ReadTimeout: 10 * time.Second, WriteTimeout: 10 * time.Second, IdleTimeout: time.Minute}
		go func() { done <- rdapSrv.Serve(rln) }()
		defer rdapSrv.Close()
		attrs = append(attrs, "rdap", base)
	}
	log.Info("registry listening", attrs...)
	select {
	case <-ctx.Done():
		return nil
	case err := <-done:
		if errors.Is(err, epp.ErrServerClosed) || errors.Is(err, http.ErrServerClosed) {
			return nil
		}
		return err
	}
}

// loadRegistrars reads the --registrars file: the accounts, and per
// registrar the fingerprints of its client certificates.
func loadRegistrars(path string) ([]registrarAccount, map[string][][sha256.Size]byte, error) {
	certs := map[string][][sha256.Size]byte{}
	if path == "" {
		return nil, certs, nil // no registrar can log in until some are configured
	}
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, nil, fmt.Errorf("--registrars: %w", err)
	}
	var regs []registrarAccount
	if err := json.Unmarshal(raw, &regs); err != nil {
		return nil, nil, fmt.Errorf("--registrars %s: %w", path, err)
	}
	for _, a := range regs {
		if a.ID == "" || a.Password == "" || len(a.Certificates) == 0 {
			return nil, nil, fmt.Errorf("--registrars %s: registrar %q needs an id, a password and at least one certificate", path, a.ID)
		}
		for _, f := range a.Certificates {
			b, err := os.ReadFile(f)
			if err != nil {
				return nil, nil, fmt.Errorf("registrar %s: %w", a.ID, err)
			}
			n := 0
			for blk, rest := pem.Decode(b); blk != nil; blk, rest = pem.Decode(rest) {
				if blk.Type == "CERTIFICATE" {
					certs[a.ID] = append(certs[a.ID], regepp.Fingerprint(blk.Bytes))
					n++
				}
			}
			if n == 0 {
				return nil, nil, fmt.Errorf("registrar %s: no certificate in %s", a.ID, f)
			}
		}
	}
	return regs, certs, nil
}
