package controlplane

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/waymark-dns/waymark/internal/natstest"
	"github.com/waymark-dns/waymark/internal/pgtest"
	"github.com/waymark-dns/waymark/migrations"
)

// TestIntegrationSnapshotFromReplica reads full snapshots from a real
// streaming replica (Config.SnapshotPool) of a private primary: with the
// replica's WAL replay paused, a zone created on the primary is missing
// from the snapshot, which then carries the stream position of the
// replica's moment, not the primary's (the two are read in one
// transaction); one zone's refetch finds it (the primary); once replay
// resumes the snapshot has it at the new position.
func TestIntegrationSnapshotFromReplica(t *testing.T) {
	t.Parallel()
	rp := pgtest.Replica(t)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	if err := migrations.Up(ctx, rp.PrimaryURL, nil); err != nil {
		t.Fatal(err)
	}
	primary, err := pgxpool.New(ctx, rp.PrimaryURL)
	if err != nil {
		t.Fatal(err)
	}
	defer primary.Close()
	standby, err := pgxpool.New(ctx, rp.StandbyURL)
	if err != nil {
		t.Fatal(err)
	}
	defer standby.Close()
	svc, err := New(primary, Config{
		MasterKey:    []byte(strings.Repeat("m", 32)),
		JWTKey:       []byte(strings.Repeat("j", 32)),
		SnapshotPool: standby,
	})
	if err != nil {
		t.Fatal(err)
	}
	e := &propEnv{svc: svc, nats: natstest.Run(t), tenant: "TREPL"}
	if _, err := primary.Exec(ctx, `INSERT INTO tenant (id, name) VALUES ($1, $1)`, e.tenant); err != nil {
		t.Fatal(err)
	}
	_, js := e.connect(t)
	runRelay(t, e, js, RelayConfig{})
	// published waits until the relay has published every event and
	// returns the primary's stream position.
	published := func() int64 {
		t.Helper()
		var seq int64
		if err := awaitCond(ctx, func() error {
			n, err := e.unpublished(ctx)
			if err == nil && n > 0 {
				err = fmt.Errorf("%d events unpublished", n)
			}
			if err == nil {
				err = primary.QueryRow(ctx, `SELECT coalesce(max(stream_seq), 0) FROM outbox_event`).Scan(&seq)
			}
			return err
		}); err != nil {
			t.Fatal(err)
		}
		return seq
	}
	// snapshotHas waits until the replica's snapshot is at seq with
	// exactly these zones.
	snapshotHas := func(seq int64, ids ...string) {
		t.Helper()
		if err := awaitCond(ctx, func() error {
			snap, err := svc.Snapshot(ctx)
			if err != nil {
				return err
			}
			var got []string
			for _, z := range snap.Zones {
				got = append(got, z.ID)
			}
			if int64(snap.Seq) != seq || strings.Join(got, ",") != strings.Join(ids, ",") {
				return fmt.Errorf("snapshot at %d with %v, want %d with %v", snap.Seq, got, seq, ids)
			}
			var sb strings.Builder
			if err := svc.WriteSnapshot(ctx, &sb); err != nil {
				return err
			}
			if !strings.HasPrefix(sb.String(), fmt.Sprintf(`{"seq":%d,`, seq)) {
				return fmt.Errorf("streamed snapshot %.40s…, want seq %d", sb.String(), seq)
			}
			return nil
		}); err != nil {
			t.Fatal(err)
		}
	}

	e.createZone(t, "ZR1", "r1.test.")
	seq1 := published()
	snapshotHas(seq1, "ZR1")

	if _, err := standby.Exec(ctx, `SELECT pg_wal_replay_pause()`); err != nil {
		t.Fatal(err)
	}
	if err := awaitCond(ctx, func() error {
		var state string
		if err := standby.QueryRow(ctx, `SELECT pg_get_wal_replay_pause_state()`).Scan(&state); err != nil {
			return err
		}
		if state != "paused" {
			return fmt.Errorf("replay %s", state)
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	e.createZone(t, "ZR2", "r2.test.")
	e.upsert(t, "ZR1", "www.r1.test.", "192.0.2.1")
	seq2 := published()
	if seq2 <= seq1 {
		t.Fatalf("stream position %d after %d", seq2, seq1)
	}
	// The replica's moment: ZR1 alone at seq1, however long we look.
	snap, err := svc.Snapshot(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if int64(snap.Seq) != seq1 || len(snap.Zones) != 1 || snap.Zones[0].ID != "ZR1" || snap.Zones[0].Version != 1 {
		t.Fatalf("snapshot from the paused replica: seq %d, zones %+v; want seq %d and ZR1 at version 1", snap.Seq, snap.Zones, seq1)
	}
	z, err := svc.ZoneSnapshot(ctx, "ZR2")
	if err != nil || z.ID != "ZR2" {
		t.Fatalf("ZoneSnapshot(ZR2) = %+v, %v: a refetch must read the primary", z, err)
	}

	if _, err := standby.Exec(ctx, `SELECT pg_wal_replay_resume()`); err != nil {
		t.Fatal(err)
	}
	snapshotHas(seq2, "ZR1", "ZR2")
}

// awaitCond polls cond every 50 ms until it returns nil or ctx ends.
func awaitCond(ctx context.Context, cond func() error) error {
	for {
		err := cond()
		if err == nil {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("%w (last: %v)", ctx.Err(), err)
		case <-time.After(50 * time.Millisecond):
		}
	}
}
