package controlplane

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/waymark-dns/waymark/event"
	"github.com/waymark-dns/waymark/zonecfg"
)

// Query logging (Route 53's query logging configs; docs/observability.md).
// A tenant turns logging on for a zone by creating its one configuration
// and off by deleting it. Either is a change of the zone like any other:
// the zone's version goes up and the nameservers get the setting
// (zonecfg.QueryLogging) in the zone event, the snapshot and their cache,
// so the change's INSYNC says when every nameserver logs (or has
// stopped). The entries themselves never touch PostgreSQL: nameservers
// publish them to the query log stream (event.QueryLogStreamConfig), and
// ReadQueryLogs reads them back from it (querylog_read.go).

// QueryLoggingConfig is a zone's query logging configuration.
type QueryLoggingConfig struct {
	ID           string
	HostedZoneID string
	CreatedAt    time.Time
}

// CreateQueryLoggingConfig turns query logging on for a zone. A zone has
// at most one configuration (QueryLoggingConfigAlreadyExists).
func (s *Service) CreateQueryLoggingConfig(ctx context.Context, tenantID, zoneID string) (QueryLoggingConfig, ChangeInfo, error) {
	id, err := newUUID(s.cfg.Rand)
	if err != nil {
		return QueryLoggingConfig{}, ChangeInfo{}, err
	}
	cfg := QueryLoggingConfig{ID: id, CreatedAt: s.now()}
	var info ChangeInfo
	err = s.queryLoggingChange(ctx, tenantID, zoneID, func(tx pgx.Tx, zone string) (*zonecfg.QueryLogging, error) {
		cfg.HostedZoneID = zone
		tag, err := tx.Exec(ctx, `INSERT INTO query_logging_config (id, tenant_id, zone_id, created_at)
			VALUES ($1, $2, $3, $4) ON CONFLICT (zone_id) DO NOTHING`, id, tenantID, zone, cfg.CreatedAt)
		if err != nil {
			return nil, err
		}
		if tag.RowsAffected() == 0 {
			return nil, Errorf(CodeQueryLoggingConfigAlreadyExists,
				"The hosted zone %s already has a query logging configuration.", zone)
		}
		return &zonecfg.QueryLogging{ConfigID: id}, nil
	}, &info)
	if err != nil {
		return QueryLoggingConfig{}, ChangeInfo{}, err
	}
	return cfg, info, nil
}

// DeleteQueryLoggingConfig turns query logging off for a zone. Entries
// already logged stay in the stream until its limits drop them.
func (s *Service) DeleteQueryLoggingConfig(ctx context.Context, tenantID, zoneID string) (ChangeInfo, error) {
	var info ChangeInfo
	err := s.queryLoggingChange(ctx, tenantID, zoneID, func(tx pgx.Tx, zone string) (*zonecfg.QueryLogging, error) {
		tag, err := tx.Exec(ctx, `DELETE FROM query_logging_config WHERE zone_id = $1`, zone)
		if err != nil {
			return nil, err
		}
		if tag.RowsAffected() == 0 {
			return nil, errNoSuchQueryLoggingConfig(zone)
		}
		return &zonecfg.QueryLogging{}, nil
	}, &info)
	return info, err
}

// GetQueryLoggingConfig returns a zone's query logging configuration.
func (s *Service) GetQueryLoggingConfig(ctx context.Context, tenantID, zoneID string) (QueryLoggingConfig, error) {
	id, ok := cleanID(zoneID)
	if !ok {
		return QueryLoggingConfig{}, errNoSuchZone(displayID(zoneID))
	}
	var cfg QueryLoggingConfig
	var cfgID *string
	var created *time.Time
	err := s.pool.QueryRow(ctx, `SELECT z.id, q.id, q.created_at
		FROM hosted_zone z LEFT JOIN query_logging_config q ON q.zone_id = z.id
		WHERE z.id = $1 AND z.tenant_id = $2`, id, tenantID).Scan(&cfg.HostedZoneID, &cfgID, &created)
	if errors.Is(err, pgx.ErrNoRows) {
		return QueryLoggingConfig{}, errNoSuchZone(id)
	}
	if err != nil {
		return QueryLoggingConfig{}, err
	}
	if cfgID == nil {
		return QueryLoggingConfig{}, errNoSuchQueryLoggingConfig(id)
	}
	cfg.ID, cfg.CreatedAt = *cfgID, created.UTC()
	return cfg, nil
}

// queryLoggingChange locks the tenant's zone, lets edit change the
// configuration rows and return the setting nameservers get, stores that
// setting and records the change, all in one (audited) transaction.
func (s *Service) queryLoggingChange(ctx context.Context, tenantID, zoneID string,
	edit func(tx pgx.Tx, zone string) (*zonecfg.QueryLogging, error), info *ChangeInfo) error {
	id, ok := cleanID(zoneID)
	if !ok {
		return errNoSuchZone(displayID(zoneID))
	}
	return s.inTx(ctx, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `SELECT set_config('lock_timeout', $1, true)`,
			fmt.Sprintf("%dms", zoneLockTimeout.Milliseconds())); err != nil {
			return err
		}
		var name string
		var version int64
		err := tx.QueryRow(ctx, `SELECT name, version FROM hosted_zone WHERE id = $1 AND tenant_id = $2 FOR UPDATE`,
			id, tenantID).Scan(&name, &version)
		if errors.Is(err, pgx.ErrNoRows) {
			return errNoSuchZone(id)
		}
		if err != nil {
			return lockError(err)
		}
		setting, err := edit(tx, id)
		if err != nil {
			return err
		}
		var stored []byte
		if setting.Enabled() {
			if stored, err = json.Marshal(setting); err != nil {
				return err
			}
		}
		if _, err := tx.Exec(ctx, `UPDATE hosted_zone SET version = $2, query_logging = $3 WHERE id = $1`,
			id, version+1, stored); err != nil {
			return fmt.Errorf("query logging: store: %w", err)
		}
		ev := event.ZoneEvent{Kind: event.ZoneUpdated, ZoneID: id, ZoneName: name,
			FromVersion: version, ToVersion: version + 1, QueryLogging: setting}
		*info, err = s.recordChange(ctx, tx, tenantID, "", ev)
		return err
	})
}

func errNoSuchQueryLoggingConfig(zoneID string) *Error {
	return Errorf(CodeNoSuchQueryLoggingConfig, "The hosted zone %s has no query logging configuration.", zoneID)
}
