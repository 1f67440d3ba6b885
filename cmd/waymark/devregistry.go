package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/waymark-dns/waymark/nspool"
	"github.com/waymark-dns/waymark/registrar/rdap"
	"github.com/waymark-dns/waymark/registrar/registry"
	"github.com/waymark-dns/waymark/registrar/regrdap"
)

// devTLD is the TLD the development registry runs.
const devTLD = "test."

// devRegistryPrices are the development TLD's yearly prices (USD cents).
var devRegistryPrices = registry.Prices{Currency: "USD", Register: 1000, Renew: 1000, Transfer: 1000, Restore: 4000}

// startDevRDAP opens the built-in registry on the control plane's
// database, makes sure it runs devTLD, and serves RDAP for it on listen,
// without authentication (RDAP is public, RFC 7481). It returns the RDAP
// base URL and the server, which the caller closes.
func startDevRDAP(ctx context.Context, cp *controlPlane, pool nspool.Pool, listen string, log *slog.Logger) (string, *http.Server, error) {
	reg, err := registry.Open(ctx, cp.pool, cp.Service, registry.Config{Pool: pool})
	if err != nil {
		return "", nil, err
	}
	if _, err := reg.ConfigureTLD(ctx, devTLD, devRegistryPrices, registry.DefaultPolicy()); err != nil {
		return "", nil, fmt.Errorf("registry TLD %s: %w", devTLD, err)
	}
	ln, err := net.Listen("tcp", listen)
	if err != nil {
		return "", nil, fmt.Errorf("--rdap: %w", err)
	}
	base := "http://" + ln.Addr().String() + "/rdap"
	mux := http.NewServeMux()
	mux.Handle("/rdap/", http.StripPrefix("/rdap", &rdap.Handler{
		Source: &regrdap.Source{Registry: reg}, BaseURL: base, Log: log.With("component", "rdap"),
		Terms: "Waymark development registry for " + devTLD + ": test data only.",
	}))
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second, ReadTimeout: 10 * time.Second, WriteTimeout: 10 * time.Second, IdleTimeout: time.Minute}
	go func() {
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			log.Error("rdap server stopped", "err", err)
		}
	}()
	return base, srv, nil
}
