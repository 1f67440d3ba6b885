package dataplane

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/waymark-dns/waymark/internal/retry"
)

// RoutingOptions are a nameserver's routing inputs: the files named by
// `waymark nameserver --geoip-db` and `--latency-table`, and who it is.
type RoutingOptions struct {
	// GeoIPPath is a MaxMind-format database (GeoLite2/GeoIP2 or DB-IP
	// lite, Country or City edition). Empty: no client locations.
	GeoIPPath string
	// LatencyTablePath is a latency table (see LatencyTable). Empty: none.
	LatencyTablePath string
	// NodeID names this nameserver in test-answer replies; Region is its
	// latency region (see Routing.Region).
	NodeID string
	Region string
	// RetryInterval is the delay between attempts to open the health
	// status bucket while NATS is unreachable. Default 1 s.
	RetryInterval time.Duration
	// HealthWait bounds how long StartRouting waits for the health
	// statuses' first load before returning. Default 2 s; negative: do
	// not wait. Waiting keeps a nameserver that starts while a check is
	// failing from answering the failed record (it becomes ready only
	// after StartRouting returns and its zones are synced); the bound
	// lets it start from its zone cache while NATS is away.
	HealthWait time.Duration
	// CacheDir, when set, keeps the last health statuses on disk there
	// (beside the zone cache): a nameserver starting while NATS is away
	// answers with them instead of every check healthy.
	CacheDir string
	// Logger receives the feed's trouble. Default: discard.
	Logger *slog.Logger
}

// StartRouting gives h its routing inputs: it opens the GeoIP database and
// latency table (an error there is returned: a flag names a bad file),
// sets h's Routing, answers test-answer requests over nc and follows the
// health status feed until ctx is done. It returns once the feed's first
// load is done, or after o.HealthWait; until that load every check counts
// as healthy. If NATS is unreachable it keeps retrying in the background,
// so the nameserver answers meanwhile. stop unsubscribes, stops following
// the feed and closes (unmaps) the database: call it only after the server
// has shut down, since a query still running would read unmapped memory.
func StartRouting(ctx context.Context, nc *nats.Conn, h *Handler, o RoutingOptions) (stop func(), err error) {
	log := o.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	retryEvery := o.RetryInterval
	if retryEvery <= 0 {
		retryEvery = time.Second
	}
	rt := Routing{Region: o.Region}
	if o.GeoIPPath != "" {
		if rt.GeoIP, err = OpenGeoDB(o.GeoIPPath); err != nil {
			return nil, err
		}
	}
	closeDB := func() {
		if rt.GeoIP != nil {
			_ = rt.GeoIP.Close()
		}
	}
	if o.LatencyTablePath != "" {
		if rt.Latency, err = LoadLatencyTable(o.LatencyTablePath); err != nil {
			closeDB()
			return nil, err
		}
	}
	health := NewNATSHealth()
	health.UseCache(o.CacheDir, log)
	rt.Health = health
	h.SetRouting(rt)
	sub, err := h.ServeTestAnswers(nc, o.NodeID)
	if err != nil {
		closeDB()
		return nil, fmt.Errorf("test answers: %w", err)
	}
	js, err := jetstream.New(nc)
	if err != nil {
		_ = sub.Unsubscribe()
		closeDB()
		return nil, fmt.Errorf("jetstream: %w", err)
	}
	fctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	loaded := make(chan struct{})
	go func() {
		defer close(done)
		for {
			// Start follows the feed in the background once loaded, until
			// fctx ends; jetstream bounds each of its calls by itself.
			err := health.Start(fctx, js)
			if err == nil || fctx.Err() != nil {
				if err == nil {
					close(loaded)
				}
				return
			}
			if !errors.Is(err, context.DeadlineExceeded) {
				log.Warn("health status feed unavailable; retrying", "err", err)
			}
			if !retry.Sleep(fctx, retryEvery) {
				return
			}
		}
	}()
	wait := o.HealthWait
	if wait == 0 {
		wait = 2 * time.Second
	}
	if wait > 0 {
		t := time.NewTimer(wait)
		select {
		case <-loaded:
		case <-t.C:
			if health.FromCache() {
				log.Warn("health status feed not loaded yet; starting with the cached statuses", "waited", wait)
			} else {
				log.Warn("health statuses not loaded yet; starting with every check healthy", "waited", wait)
			}
		case <-ctx.Done():
		}
		t.Stop()
	}
	return func() {
		cancel()
		<-done
		_ = sub.Unsubscribe()
		h.SetRouting(Routing{Region: o.Region})
		closeDB()
	}, nil
}
