package controlplane

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/waymark-dns/waymark/internal/testkit"
)

// TestIntegrationChangeBatchIdempotencyKey: a batch retried with its key
// is answered the first attempt's change and applied once, even when the
// retry alone would fail (its CREATE exists now) and when both attempts
// run at once; the key with another batch is refused; keys are the
// tenant's own; a malformed key is refused before anything is read.
func TestIntegrationChangeBatchIdempotencyKey(t *testing.T) {
	t.Parallel()
	e := newZoneEnv(t)
	ctx := context.Background()
	tenant := testTenant(t, e.pool)
	other := testTenant(t, e.pool)
	z := e.mustZone(t, tenant, "idem.example")
	batch := func(key, ip string) ChangeBatch {
		return ChangeBatch{IdempotencyKey: key, Comment: "first",
			Changes: []RRSetChange{rrs(ActionCreate, "www.idem.example", "A", 60, ip)}}
	}

	first, err := e.s.ChangeRRSets(ctx, tenant, z.ID, batch("k-1", "192.0.2.1"))
	if err != nil {
		t.Fatal(err)
	}
	changes := e.count(t, `SELECT count(*) FROM change`)
	outbox := e.count(t, `SELECT count(*) FROM outbox_event`)
	again, err := e.s.ChangeRRSets(ctx, tenant, z.ID, batch("k-1", "192.0.2.1"))
	if err != nil {
		t.Fatalf("the retry: %v", err)
	}
	if again.ID != first.ID || again.ZoneVersion != first.ZoneVersion || !again.SubmittedAt.Equal(first.SubmittedAt.Truncate(time.Microsecond)) {
		t.Errorf("the retry answered %+v, the first %+v", again, first)
	}
	if e.count(t, `SELECT count(*) FROM change`) != changes || e.count(t, `SELECT count(*) FROM outbox_event`) != outbox {
		t.Error("the retry wrote a change or an event")
	}
	// Without the key, the same batch is a new one, and fails as one.
	_, err = e.s.ChangeRRSets(ctx, tenant, z.ID, batch("", "192.0.2.1"))
	wantErr(t, err, CodeInvalidChangeBatch, "already exists")

	// The key with another batch.
	_, err = e.s.ChangeRRSets(ctx, tenant, z.ID, batch("k-1", "192.0.2.9"))
	if e := wantErr(t, err, CodeIdempotencyKeyReused); !strings.Contains(e.Message, first.ID) {
		t.Errorf("the refusal does not name the key's change: %s", e.Message)
	}
	// Another tenant's key space is its own.
	oz := e.mustZone(t, other, "idem.example")
	if o, err := e.s.ChangeRRSets(ctx, other, oz.ID, batch("k-1", "192.0.2.1")); err != nil || o.ID == first.ID {
		t.Errorf("another tenant's batch with the key: %+v, %v", o, err)
	}

	// Two attempts at once: one applies, both answer its change.
	var wg sync.WaitGroup
	got := make([]ChangeInfo, 2)
	errs := make([]error, 2)
	for i := range got {
		wg.Go(func() {
			got[i], errs[i] = e.s.ChangeRRSets(ctx, tenant, z.ID, ChangeBatch{IdempotencyKey: "k-2",
				Changes: []RRSetChange{rrs(ActionCreate, "both.idem.example", "TXT", 60, `"once"`)}})
		})
	}
	wg.Wait()
	if errs[0] != nil || errs[1] != nil || got[0].ID != got[1].ID {
		t.Errorf("concurrent attempts: %+v %v, %+v %v", got[0], errs[0], got[1], errs[1])
	}
	if n := e.count(t, `SELECT count(*) FROM change WHERE idempotency_key = 'k-2'`); n != 1 {
		t.Errorf("%d changes hold k-2", n)
	}

	// The same batch on two zones at once: one applies, the other is
	// refused, whichever wrote first (the key's unique index).
	z2 := e.mustZone(t, tenant, "idem2.example")
	for i, zone := range [][2]string{{z.ID, "idem.example"}, {z2.ID, "idem2.example"}} {
		wg.Go(func() {
			got[i], errs[i] = e.s.ChangeRRSets(ctx, tenant, zone[0], ChangeBatch{IdempotencyKey: "k-3",
				Changes: []RRSetChange{rrs(ActionCreate, "twice."+zone[1], "TXT", 60, `"one of two"`)}})
		})
	}
	wg.Wait()
	if (errs[0] == nil) == (errs[1] == nil) {
		t.Errorf("the same key on two zones: %v and %v; want one refused", errs[0], errs[1])
	}
	for _, err := range errs {
		if err != nil {
			wantErr(t, err, CodeIdempotencyKeyReused)
		}
	}

	for _, key := range []string{strings.Repeat("k", MaxIdempotencyKeyLength+1), "with space", "tab\t", "é"} {
		_, err := e.s.ChangeRRSets(ctx, tenant, z.ID, batch(key, "192.0.2.1"))
		if e := wantErr(t, err, CodeInvalidInput); !strings.Contains(e.Message, "idempotency key") {
			t.Errorf("key %q: %s", key, e.Message)
		}
	}
	if _, err := e.s.ChangeRRSets(ctx, tenant, z.ID, ChangeBatch{IdempotencyKey: strings.Repeat("~", MaxIdempotencyKeyLength),
		Changes: []RRSetChange{rrs(ActionCreate, "long.idem.example", "A", 60, "192.0.2.7")}}); err != nil {
		t.Errorf("a key of the longest length: %v", err)
	}
}

// TestIntegrationChangeBatchIdempotencyKeyRace makes the key's unique
// index decide: another transaction holds an uncommitted change with the
// key while the batch looks it up (and finds nothing) and writes (and
// waits); once that commits, the batch is rolled back and refused, as the
// key now names another batch.
func TestIntegrationChangeBatchIdempotencyKeyRace(t *testing.T) {
	t.Parallel()
	e := newZoneEnv(t)
	ctx := context.Background()
	tenant := testTenant(t, e.pool)
	z := e.mustZone(t, tenant, "race.example")
	tx, err := e.pool.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback(ctx)
	if _, err := tx.Exec(ctx, `INSERT INTO change (id, tenant_id, zone_id, zone_version, status, idempotency_key, request_hash)
	        VALUES ('CRACEFIRST', $1, 'ZELSEWHERE', 1, 'INSYNC', 'k-race', '\x00')`, tenant); err != nil {
		t.Fatal(err)
	}
	var xid string
	if err := tx.QueryRow(ctx, `SELECT pg_current_xact_id()::xid::text`).Scan(&xid); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() {
		_, err := e.s.ChangeRRSets(ctx, tenant, z.ID, ChangeBatch{IdempotencyKey: "k-race",
			Changes: []RRSetChange{rrs(ActionCreate, "www.race.example", "A", 60, "192.0.2.1")}})
		done <- err
	}()
	testkit.Eventually(t, 10*time.Second, func() error {
		var waiting int
		if err := e.pool.QueryRow(ctx, `SELECT count(*) FROM pg_locks WHERE NOT granted AND locktype = 'transactionid' AND transactionid::text = $1`, xid).Scan(&waiting); err != nil {
			return err
		}
		if waiting == 0 {
			return errors.New("the batch does not wait on the other transaction's key yet")
		}
		return nil
	})
	if err := tx.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	if e := wantErr(t, <-done, CodeIdempotencyKeyReused); !strings.Contains(e.Message, "CRACEFIRST") {
		t.Errorf("refusal: %s", e.Message)
	}
	if n := e.count(t, `SELECT count(*) FROM change WHERE zone_id = '`+z.ID+`'`); n != 1 {
		t.Errorf("the zone has %d changes, want its creation only", n)
	}
}
