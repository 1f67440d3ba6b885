// Package metrics holds what every Waymark process shares for its
// Prometheus exposition: a registry with the Go runtime and process
// collectors, the /metrics handler, a listener for processes without an
// HTTP API, and gauges of connection state. Each component registers its
// own collectors on the registry it is given (no global registry), with
// low-cardinality labels only: never a zone or a name.
package metrics

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// NewRegistry returns a registry with the Go runtime and process
// collectors, labelled by role (api, nameserver, healthchecker, dev) in
// waymark_build_info.
func NewRegistry(role string) *prometheus.Registry {
	reg := prometheus.NewRegistry()
	reg.MustRegister(
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name:        "waymark_up",
			Help:        "1 while the process runs; the role label says which Waymark role it is.",
			ConstLabels: prometheus.Labels{"role": role},
		}, func() float64 { return 1 }),
	)
	return reg
}

// Handler serves reg in the Prometheus text format.
func Handler(reg *prometheus.Registry) http.Handler {
	return promhttp.HandlerFor(reg, promhttp.HandlerOpts{Registry: reg})
}

// Serve listens on addr and serves reg at /metrics until ctx ends: for
// the nameserver and the health checker, which have no HTTP API. It
// returns the bound address once listening.
func Serve(ctx context.Context, addr string, reg *prometheus.Registry, log *slog.Logger) (string, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return "", err
	}
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", Handler(reg))
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	go func() {
		<-ctx.Done()
		sctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		_ = srv.Shutdown(sctx)
	}()
	go func() {
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			log.Error("metrics listener failed", "addr", addr, "err", err)
		}
	}()
	return ln.Addr().String(), nil
}

// Connected registers a gauge that is 1 while up reports true: the state
// of a connection (NATS, PostgreSQL) read at each scrape.
func Connected(reg prometheus.Registerer, name, help string, up func() bool) {
	reg.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: name, Help: help}, func() float64 {
		if up() {
			return 1
		}
		return 0
	}))
}
