package controlplane

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"
)

// Every PostgreSQL advisory lock the control plane takes is listed here.
// waymark_lock_key (migration 00005) scopes each key to the current schema,
// so deployments sharing one database in different schemas never contend.
//
// Session locks are held on a connection of their own for as long as a
// process leads (leader.go); no transaction ever waits on them, so they
// cannot deadlock with the locks below.
//
// Transaction locks are released at commit. Zone creation takes several
// of the first class, in the order queueZoneLocks gives (zone.go); a
// transaction that must take locks of several classes takes them in the
// order below, after the row locks of its statements (tenant, hosted_zone,
// cidr_collection and health_check rows, FOR UPDATE or FOR SHARE):
//
//  1. zoneLockClass, per name: zone creation and its delegation set
//     assignment, the name's own key exclusively after its ancestors'
//     shared, from the top down (queueZoneLocks in zone.go, delegation.go).
//  2. healthCheckLockClass: every health check write (healthcheck.go).
//  3. insyncLockKey: the relay and the trackers recording INSYNC
//     (relay.go, fleet.go).
//  4. tagLockClass, per tagged resource: tag changes (tags.go).
const (
	// DefaultRelayLockKey is the session lock that elects the relay
	// leader ("wmrelay" in ASCII).
	DefaultRelayLockKey int64 = 0x776d72656c6179
	// DefaultHealthLockKey is the session lock that elects the health
	// check aggregator among the API processes ("wmhealth" in ASCII).
	DefaultHealthLockKey int64 = 0x776d6865616c7468
	// DefaultSecondaryLockKey is the session lock that elects the
	// secondary zones' refresh leader ("wmsecond" in ASCII).
	DefaultSecondaryLockKey int64 = 0x776d7365636f6e64

	// healthCheckLockClass is the first key of the transaction lock that
	// serialises every write to health checks ("WHCK"); see
	// lockHealthChecks.
	healthCheckLockClass int32 = 0x5748434b
	// zoneLockClass is the first key of the transaction lock that makes
	// the overlap check and delegation set assignment of zone creation
	// race-free; the second is zoneLockKey(name) ("WZON").
	zoneLockClass int32 = 0x575a4f4e
	// insyncLockKey serialises the two writers of INSYNC: trackers
	// (recording applied sequences) and the relay (recording stream
	// sequences). Without it, each could commit while the other's
	// statement still saw the old data, and a change both had made ready
	// would wait for the next heartbeat.
	insyncLockKey int64 = DefaultRelayLockKey + 1
	// tagLockClass is the first key of the transaction lock that
	// serialises the tag changes of one resource, so that its tag count
	// limit holds; the second is the hash of the resource id ("WTAG").
	tagLockClass int32 = 0x57544147
)

// lockInSyncSQL takes insyncLockKey ($1) in a transaction; the tracker
// and the relay queue it in the batch of their write.
const lockInSyncSQL = `SELECT pg_advisory_xact_lock(waymark_lock_key($1))`

// lockHealthChecks serialises health check writes, all tenants together.
// Writes are rare, and the lock buys two things: a tenant's quota and
// caller references are checked without races, and revisions (taken from
// a sequence inside the lock) become visible in their order, so the
// aggregator's "revision > last seen" poll never skips a write that
// committed late.
func lockHealthChecks(ctx context.Context, tx pgx.Tx) error {
	if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock(waymark_lock_key($1))`, healthCheckLockClass); err != nil {
		return fmt.Errorf("lock health checks: %w", err)
	}
	return nil
}

// lockTags serialises tag changes of the resource id in tx.
func lockTags(ctx context.Context, tx pgx.Tx, id string) error {
	if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock(waymark_lock_key($1, hashtext($2)))`, tagLockClass, id); err != nil {
		return fmt.Errorf("lock tags: %w", err)
	}
	return nil
}
