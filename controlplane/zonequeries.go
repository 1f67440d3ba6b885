package controlplane

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/waymark-dns/waymark/event"
)

// The control plane's side of the per-zone query metrics: every API
// process consumes the nameservers' reports (event.ZoneQueryReport) from
// one shared durable consumer and adds them to zone_query_minute
// (IngestZoneQueryReport); one leader prunes what is older than the
// retention (RunMetricsRetention). QueryMetrics reads the rollups.

// DefaultMetricsLockKey is the session lock that elects the process
// pruning old metrics ("wmmetric" in ASCII).
const DefaultMetricsLockKey int64 = 0x776d6d6574726963

// ZoneQueryReportKeyRetention is how long ingest remembers a report it
// counted. It is longer than the stream keeps a report
// (event.ZoneQueriesMaxAge), so every redelivery is recognised; a report
// whose interval started before it is refused as too old to tell.
const ZoneQueryReportKeyRetention = 2 * event.ZoneQueriesMaxAge

// DefaultMetricsRetention is how long the per-minute rollups are kept.
const DefaultMetricsRetention = 15 * 24 * time.Hour

// zoneQueryConsumer is the durable consumer every API process pulls
// reports from: each report goes to one of them.
const zoneQueryConsumer = "waymark-zone-queries"

// IngestZoneQueryReport adds one nameserver report to the rollups, unless
// it was added before: the report's identity and its counts are written in
// one transaction. It reports whether the counts were added (false for a
// duplicate or a report too old to tell).
func (s *Service) IngestZoneQueryReport(ctx context.Context, rep event.ZoneQueryReport) (bool, error) {
	now := s.cfg.NowFunc().UTC()
	if rep.Start.Before(now.Add(-ZoneQueryReportKeyRetention)) {
		return false, nil
	}
	minute := rep.Start.UTC().Truncate(time.Minute)
	counts := make([]ZoneQueryCount, len(rep.Counts))
	for i, c := range rep.Counts {
		counts[i] = ZoneQueryCount{ZoneID: c.ZoneID, Minute: minute, Region: rep.Region, RCode: c.RCode, Queries: c.Queries}
	}
	added := false
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `INSERT INTO zone_query_report (node_id, interval_start, part, received_at)
		    VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING`, rep.NodeID, rep.Start, rep.Part, now)
		if err != nil {
			return fmt.Errorf("record report: %w", err)
		}
		if tag.RowsAffected() == 0 {
			return nil
		}
		added = true
		return recordZoneQueries(ctx, tx, counts)
	})
	if err != nil {
		return false, err
	}
	return added, nil
}

// RunZoneQueryIngest creates the report stream (with replicas) and its
// consumer if missing, then ingests reports as they come until ctx ends.
// A report that cannot be read is dropped; one that fails to ingest is
// redelivered after a pause.
func (s *Service) RunZoneQueryIngest(ctx context.Context, js jetstream.JetStream, replicas int) error {
	log := s.cfg.Logger.With("component", "zone-queries")
	var cons jetstream.Consumer
	for {
		var err error
		cons, err = s.zoneQueryConsumer(ctx, js, replicas)
		if err == nil {
			break
		}
		log.Warn("zone query stream not ready; retrying", "err", err)
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(2 * time.Second):
		}
	}
	for ctx.Err() == nil {
		batch, err := cons.Fetch(100, jetstream.FetchMaxWait(2*time.Second))
		if err != nil {
			if ctx.Err() == nil && !errors.Is(err, jetstream.ErrNoMessages) {
				log.Warn("fetching zone query reports", "err", err)
				select {
				case <-ctx.Done():
				case <-time.After(time.Second):
				}
			}
			continue
		}
		for m := range batch.Messages() {
			rep, err := event.DecodeZoneQueryReport(m.Data())
			if err != nil {
				log.Warn("dropping a malformed zone query report", "err", err)
				_ = m.Term()
				continue
			}
			if _, err := s.IngestZoneQueryReport(ctx, rep); err != nil {
				log.Warn("ingesting a zone query report; it will be redelivered", "node", rep.NodeID, "err", err)
				_ = m.NakWithDelay(2 * time.Second)
				continue
			}
			_ = m.Ack()
		}
		if err := batch.Error(); err != nil && ctx.Err() == nil && !errors.Is(err, jetstream.ErrNoMessages) &&
			!errors.Is(err, context.DeadlineExceeded) {
			log.Warn("fetching zone query reports", "err", err)
		}
	}
	return nil
}

func (s *Service) zoneQueryConsumer(ctx context.Context, js jetstream.JetStream, replicas int) (jetstream.Consumer, error) {
	cctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	st, err := js.CreateOrUpdateStream(cctx, event.ZoneQueriesStreamConfig(replicas))
	if err != nil {
		return nil, fmt.Errorf("zone query stream: %w", err)
	}
	return st.CreateOrUpdateConsumer(cctx, jetstream.ConsumerConfig{
		Durable:       zoneQueryConsumer,
		AckPolicy:     jetstream.AckExplicitPolicy,
		AckWait:       30 * time.Second,
		MaxAckPending: 1000,
		Replicas:      0,
	})
}

// PruneZoneQueryReports forgets the reports whose interval started before
// before. It returns how many rows went.
func (s *Service) PruneZoneQueryReports(ctx context.Context, before time.Time) (int64, error) {
	tag, err := s.pool.Exec(ctx, `DELETE FROM zone_query_report WHERE interval_start < $1`, before)
	if err != nil {
		return 0, fmt.Errorf("prune zone query reports: %w", err)
	}
	return tag.RowsAffected(), nil
}

// PruneMetricsOnce deletes the rollups older than retention and the report
// identities older than ZoneQueryReportKeyRetention, at the clock's now.
func (s *Service) PruneMetricsOnce(ctx context.Context, retention time.Duration) error {
	if retention <= 0 {
		retention = DefaultMetricsRetention
	}
	now := s.cfg.NowFunc().UTC()
	_, err1 := s.PruneMetrics(ctx, now.Add(-retention))
	_, err2 := s.PruneZoneQueryReports(ctx, now.Add(-ZoneQueryReportKeyRetention))
	return errors.Join(err1, err2)
}

// RunMetricsRetention prunes old metrics every interval (zero: 5 minutes)
// until ctx ends; run it under RunLeader(DefaultMetricsLockKey).
func (s *Service) RunMetricsRetention(ctx context.Context, retention, interval time.Duration) error {
	if interval <= 0 {
		interval = 5 * time.Minute
	}
	log := s.cfg.Logger.With("component", "metrics-retention")
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		if err := s.PruneMetricsOnce(ctx, retention); err != nil && ctx.Err() == nil {
			log.Warn("pruning metrics", "err", err)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-t.C:
		}
	}
}
