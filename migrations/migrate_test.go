package migrations

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net/url"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// testURL is the test database (internal/pgtest.URL, which this package
// cannot import: pgtest imports it).
func testURL() string {
	if u := os.Getenv("TEST_DATABASE_URL"); u != "" {
		return u
	}
	return "postgres://postgres@127.0.0.1:5432/waymark_test?sslmode=disable"
}

// freshDatabase returns a DSN naming a database that does not exist yet
// on the test server, and drops that database when t ends.
func freshDatabase(t *testing.T) string {
	t.Helper()
	u, err := url.Parse(testURL())
	if err != nil {
		t.Fatal(err)
	}
	var b [6]byte
	_, _ = rand.Read(b[:])
	name := "waymark_race_" + hex.EncodeToString(b[:])
	u.Path = "/" + name
	cfg, err := pgx.ParseConfig(u.String())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		admin := cfg.Copy()
		admin.Database = "postgres"
		c, err := pgx.ConnectConfig(ctx, admin)
		if err != nil {
			t.Logf("drop database %s: %v", name, err)
			return
		}
		defer c.Close(ctx)
		if _, err := c.Exec(ctx, "DROP DATABASE IF EXISTS "+pgx.Identifier{name}.Sanitize()+" WITH (FORCE)"); err != nil {
			t.Logf("drop database %s: %v", name, err)
		}
	})
	return u.String()
}

// TestIntegrationEnsureDatabaseRace is what every test package does at
// once on a fresh clone: many callers create one missing database at the
// same moment. Every one of them must succeed (before the fix, the losers
// failed with 23505 unique_violation on pg_database).
func TestIntegrationEnsureDatabaseRace(t *testing.T) {
	t.Parallel()
	const rounds, callers = 10, 12
	for round := range rounds {
		dsn := freshDatabase(t)
		ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
		start := make(chan struct{})
		errs := make([]error, callers)
		var wg sync.WaitGroup
		for i := range callers {
			wg.Go(func() {
				<-start
				errs[i] = EnsureDatabase(ctx, dsn)
			})
		}
		close(start)
		wg.Wait()
		cancel()
		for i, err := range errs {
			if err != nil {
				t.Errorf("round %d, caller %d: %v", round, i, err)
			}
		}
		c, err := pgx.Connect(context.Background(), dsn)
		if err != nil {
			t.Fatalf("round %d: the database was not created: %v", round, err)
		}
		_ = c.Close(context.Background())
	}
}

// TestIntegrationOutboxPayloadBytea migrates a database holding outbox
// rows written as jsonb to bytea (00006): the relay must publish the same
// bytes it published before, and the way down restores jsonb.
func TestIntegrationOutboxPayloadBytea(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	dsn := freshDatabase(t)
	if err := EnsureDatabase(ctx, dsn); err != nil {
		t.Fatal(err)
	}
	db, err := open(dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	p, err := provider(db)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.UpTo(ctx, 5); err != nil {
		t.Fatal(err)
	}
	const written = `{"kind": "zone.updated", "zone_id": "Z1", "upserts": [{"name": "a.example.", "ttl": 60}]}`
	if _, err := db.ExecContext(ctx, `INSERT INTO outbox_event (zone_id, zone_version, payload) VALUES ('Z1', 2, $1)`, written); err != nil {
		t.Fatal(err)
	}
	var before string
	if err := db.QueryRowContext(ctx, `SELECT payload::text FROM outbox_event`).Scan(&before); err != nil {
		t.Fatal(err)
	}
	if _, err := p.UpTo(ctx, 6); err != nil {
		t.Fatal(err)
	}
	var typ string
	var after []byte
	if err := db.QueryRowContext(ctx, `SELECT pg_typeof(payload)::text, payload FROM outbox_event`).Scan(&typ, &after); err != nil {
		t.Fatal(err)
	}
	if typ != "bytea" || string(after) != before {
		t.Errorf("after 00006: %s %q, want bytea %q", typ, after, before)
	}
	if _, err := p.DownTo(ctx, 5); err != nil {
		t.Fatal(err)
	}
	var back string
	if err := db.QueryRowContext(ctx, `SELECT pg_typeof(payload)::text || ' ' || payload::text FROM outbox_event`).Scan(&back); err != nil {
		t.Fatal(err)
	}
	if back != "jsonb "+before {
		t.Errorf("after the way down: %q, want jsonb %q", back, before)
	}
}
