package controlplane

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/waymark-dns/waymark/event"
)

// The methods in this file are the PostgreSQL store of the health check
// aggregator (healthcheck.Store): they speak in event types so that
// neither package imports the other.

// HealthConfigChanges returns the checks written since revision since
// (0: every live check, as a Full delta) with their current status, and
// the checks deleted since.
func (s *Service) HealthConfigChanges(ctx context.Context, since int64) (event.HealthConfigDelta, error) {
	var d event.HealthConfigDelta
	// One snapshot for the rows and the revision they bring us to.
	err := pgx.BeginTxFunc(ctx, s.pool, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly}, func(tx pgx.Tx) error {
		d = event.HealthConfigDelta{Full: since <= 0, Revision: max(since, 0)}
		rows, err := tx.Query(ctx, `SELECT id, type, config::text, version, revision, healthy, status_changed_at, deleted_at IS NOT NULL
		    FROM health_check WHERE revision > $1 AND (deleted_at IS NULL OR $1 > 0) ORDER BY revision`, d.Revision)
		if err != nil {
			return fmt.Errorf("read health check changes: %w", err)
		}
		defer rows.Close()
		for rows.Next() {
			var id, typ, cfg string
			var version, rev int64
			var healthy, deleted bool
			var changed time.Time
			if err := rows.Scan(&id, &typ, &cfg, &version, &rev, &healthy, &changed, &deleted); err != nil {
				return fmt.Errorf("read health check changes: %w", err)
			}
			d.Revision = max(d.Revision, rev)
			if deleted {
				d.Deleted = append(d.Deleted, id)
				continue
			}
			c, err := loadConfig(typ, cfg)
			if err != nil {
				return fmt.Errorf("decode health check %s: %w", id, err)
			}
			d.Checks = append(d.Checks, event.HealthCheck{ID: id, Version: version, Config: c})
			d.Status = append(d.Status, event.HealthStatus{CheckID: id, Healthy: healthy, Changed: changed.UTC()})
		}
		if err := rows.Err(); err != nil {
			return fmt.Errorf("read health check changes: %w", err)
		}
		if d.Full {
			// Later polls start after the newest revision, deleted ones included.
			if err := tx.QueryRow(ctx, `SELECT coalesce(max(revision), 0) FROM health_check`).Scan(&d.Revision); err != nil {
				return fmt.Errorf("read health check revision: %w", err)
			}
		}
		return nil
	})
	return d, err
}

// HealthRegionStates returns every region's view of every live check.
func (s *Service) HealthRegionStates(ctx context.Context) ([]event.HealthRegionState, error) {
	rows, err := s.pool.Query(ctx, `SELECT c.check_id, c.region, c.healthy, c.streak, c.last_ok, c.node_id, c.checked_at,
	        c.reason, c.last_failure_at, c.last_failure_reason
	    FROM health_check_checker c JOIN health_check h ON h.id = c.check_id AND h.deleted_at IS NULL`)
	if err != nil {
		return nil, fmt.Errorf("read health check regions: %w", err)
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (event.HealthRegionState, error) {
		var st event.HealthRegionState
		var failed *time.Time
		err := r.Scan(&st.CheckID, &st.Region, &st.Healthy, &st.Streak, &st.LastOK, &st.NodeID, &st.CheckedAt,
			&st.Reason, &failed, &st.LastFailureReason)
		st.CheckedAt = st.CheckedAt.UTC()
		if failed != nil {
			st.LastFailureAt = failed.UTC()
		}
		return st, err
	})
}

// SaveHealth stores region views (a view never replaces a newer one),
// status transitions, in order, and per-minute rollups of observations
// (added to the stored ones: health_check_minute), in one transaction. A
// transition of a check that is deleted, or that already has that status,
// is skipped; every other one updates the check's status and adds a
// history row. Rollups of deleted checks are dropped.
func (s *Service) SaveHealth(ctx context.Context, regions []event.HealthRegionState, transitions []event.HealthStatus, minutes []event.HealthMinute) error {
	if len(regions) == 0 && len(transitions) == 0 && len(minutes) == 0 {
		return nil
	}
	n := len(regions)
	ids, regs, nodes, reasons, freasons := make([]string, n), make([]string, n), make([]string, n), make([]string, n), make([]string, n)
	healthy, lastOK := make([]bool, n), make([]bool, n)
	streaks := make([]int32, n)
	checked := make([]time.Time, n)
	failed := make([]*time.Time, n)
	for i, r := range regions {
		ids[i], regs[i], nodes[i], reasons[i], freasons[i] = r.CheckID, r.Region, r.NodeID, r.Reason, r.LastFailureReason
		healthy[i], lastOK[i], streaks[i], checked[i] = r.Healthy, r.LastOK, int32(r.Streak), r.CheckedAt
		if !r.LastFailureAt.IsZero() {
			t := r.LastFailureAt
			failed[i] = &t
		}
	}
	return retryConflicts(ctx, s.pool, func(tx pgx.Tx) error {
		b := &pgx.Batch{}
		if n > 0 {
			b.Queue(`INSERT INTO health_check_checker AS c (check_id, region, healthy, streak, last_ok, node_id, checked_at,
			        reason, last_failure_at, last_failure_reason)
			    SELECT v.* FROM unnest($1::text[], $2::text[], $3::bool[], $4::int[], $5::bool[], $6::text[],
			            $7::timestamptz[], $8::text[], $9::timestamptz[], $10::text[])
			        AS v(check_id, region, healthy, streak, last_ok, node_id, checked_at, reason, last_failure_at, last_failure_reason)
			    JOIN health_check h ON h.id = v.check_id AND h.deleted_at IS NULL
			    ON CONFLICT (check_id, region) DO UPDATE SET
			        healthy = excluded.healthy, streak = excluded.streak, last_ok = excluded.last_ok,
			        node_id = excluded.node_id, checked_at = excluded.checked_at, reason = excluded.reason,
			        last_failure_at = excluded.last_failure_at, last_failure_reason = excluded.last_failure_reason
			    WHERE c.checked_at <= excluded.checked_at`,
				ids, regs, healthy, streaks, lastOK, nodes, checked, reasons, failed, freasons)
		}
		if len(minutes) > 0 {
			queueHealthMinutes(b, minutes)
		}
		for _, t := range transitions {
			b.Queue(`WITH u AS (
			        UPDATE health_check SET healthy = $2, status_changed_at = $3
			         WHERE id = $1 AND deleted_at IS NULL AND healthy <> $2 RETURNING id)
			    INSERT INTO health_check_transition (check_id, healthy, at, reason) SELECT id, $2, $3, $4 FROM u`,
				t.CheckID, t.Healthy, t.Changed, t.Reason)
		}
		if err := tx.SendBatch(ctx, b).Close(); err != nil {
			return fmt.Errorf("save health: %w", err)
		}
		return nil
	})
}

// queueHealthMinutes adds the rollups to b's transaction. The aggregator
// sends them in key order, so two writers lock rows in the same order.
func queueHealthMinutes(b *pgx.Batch, minutes []event.HealthMinute) {
	n := len(minutes)
	ids, regions, at := make([]string, n), make([]string, n), make([]time.Time, n)
	samples, healthy, cn, tn := make([]int64, n), make([]int64, n), make([]int64, n), make([]int64, n)
	cs, ts := make([]float64, n), make([]float64, n)
	for i, m := range minutes {
		ids[i], regions[i], at[i] = m.CheckID, m.Region, m.Minute.UTC().Truncate(time.Minute)
		samples[i], healthy[i] = m.Samples, m.Healthy
		cs[i], cn[i], ts[i], tn[i] = m.ConnectMSSum, m.ConnectCount, m.FirstByteMSSum, m.FirstByteCount
	}
	b.Queue(`INSERT INTO health_check_minute AS m (check_id, minute, region, samples, healthy_samples,
	        connect_ms_sum, connect_count, ttfb_ms_sum, ttfb_count)
	    SELECT v.check_id, v.minute, v.region, sum(v.samples), sum(v.healthy),
	           sum(v.cs), sum(v.cn), sum(v.ts), sum(v.tn)
	      FROM unnest($1::text[], $2::timestamptz[], $3::text[], $4::bigint[], $5::bigint[],
	                  $6::float8[], $7::bigint[], $8::float8[], $9::bigint[])
	           AS v(check_id, minute, region, samples, healthy, cs, cn, ts, tn)
	      JOIN health_check h ON h.id = v.check_id AND h.deleted_at IS NULL
	     GROUP BY v.check_id, v.minute, v.region
	     ORDER BY v.check_id, v.minute, v.region
	    ON CONFLICT (check_id, minute, region) DO UPDATE SET
	        samples = m.samples + excluded.samples, healthy_samples = m.healthy_samples + excluded.healthy_samples,
	        connect_ms_sum = m.connect_ms_sum + excluded.connect_ms_sum, connect_count = m.connect_count + excluded.connect_count,
	        ttfb_ms_sum = m.ttfb_ms_sum + excluded.ttfb_ms_sum, ttfb_count = m.ttfb_count + excluded.ttfb_count`,
		ids, at, regions, samples, healthy, cs, cn, ts, tn)
}
