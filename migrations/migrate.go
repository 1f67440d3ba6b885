package migrations

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/stdlib"
	"github.com/pressly/goose/v3"
)

// Up applies every pending migration to the database at dsn. It is safe to
// run concurrently from several processes: goose takes a session advisory
// lock while it migrates.
func Up(ctx context.Context, dsn string, log *slog.Logger) error {
	db, err := open(dsn)
	if err != nil {
		return err
	}
	defer db.Close()
	p, err := provider(db)
	if err != nil {
		return err
	}
	res, err := p.Up(ctx)
	if err != nil {
		return fmt.Errorf("migrate up: %w", err)
	}
	if log != nil {
		for _, r := range res {
			log.Info("applied migration", "version", r.Source.Version, "path", r.Source.Path, "took", r.Duration)
		}
	}
	return nil
}

// Status returns the applied version of the schema and the newest version
// these migrations know.
func Status(ctx context.Context, dsn string) (current, latest int64, err error) {
	db, err := open(dsn)
	if err != nil {
		return 0, 0, err
	}
	defer db.Close()
	p, err := provider(db)
	if err != nil {
		return 0, 0, err
	}
	current, err = p.GetDBVersion(ctx)
	if err != nil {
		return 0, 0, fmt.Errorf("migrate status: %w", err)
	}
	srcs := p.ListSources()
	if len(srcs) > 0 {
		latest = srcs[len(srcs)-1].Version
	}
	return current, latest, nil
}

// Down rolls back the newest applied migration.
func Down(ctx context.Context, dsn string) error {
	db, err := open(dsn)
	if err != nil {
		return err
	}
	defer db.Close()
	p, err := provider(db)
	if err != nil {
		return err
	}
	if _, err := p.Down(ctx); err != nil {
		return fmt.Errorf("migrate down: %w", err)
	}
	return nil
}

// createDatabaseLockKey is the session advisory lock, taken in the
// server's "postgres" database, that serialises EnsureDatabase's creators
// ("wmcrdb" in ASCII).
const createDatabaseLockKey int64 = 0x776d63726462

// EnsureDatabase creates the database named in dsn if it does not exist,
// connecting to the server's "postgres" database to do so. Any number of
// callers may race to create the same database (every test package does
// on a fresh clone): they take turns on an advisory lock, and a creator
// that loses a race all the same (one that does not take the lock) is
// told so by PostgreSQL with 42P04 or, when both inserted into
// pg_database at once, 23505; both mean the database exists.
func EnsureDatabase(ctx context.Context, dsn string) error {
	cfg, err := pgx.ParseConfig(dsn)
	if err != nil {
		return fmt.Errorf("parse database url: %w", err)
	}
	name := cfg.Database
	conn, err := pgx.ConnectConfig(ctx, cfg)
	if err == nil {
		return conn.Close(ctx)
	}
	var pgErr *pgconn.PgError
	if !errors.As(err, &pgErr) || pgErr.Code != "3D000" { // invalid_catalog_name
		return fmt.Errorf("connect to %s: %w", cfg.Host, err)
	}
	admin := cfg.Copy()
	admin.Database = "postgres"
	conn, err = pgx.ConnectConfig(ctx, admin)
	if err != nil {
		return fmt.Errorf("connect to create database %s: %w", name, err)
	}
	defer conn.Close(ctx) // ends the session, releasing the lock
	if _, err := conn.Exec(ctx, `SELECT pg_advisory_lock($1)`, createDatabaseLockKey); err != nil {
		return fmt.Errorf("lock to create database %s: %w", name, err)
	}
	_, err = conn.Exec(ctx, "CREATE DATABASE "+pgx.Identifier{name}.Sanitize())
	if err != nil && !(errors.As(err, &pgErr) && (pgErr.Code == "42P04" || pgErr.Code == "23505")) {
		// 42P04 duplicate_database, 23505 unique_violation: a concurrent
		// creator won.
		return fmt.Errorf("create database %s: %w", name, err)
	}
	return nil
}

func open(dsn string) (*sql.DB, error) {
	cfg, err := pgx.ParseConfig(dsn)
	if err != nil {
		return nil, fmt.Errorf("parse database url: %w", err)
	}
	return stdlib.OpenDB(*cfg), nil
}

func provider(db *sql.DB) (*goose.Provider, error) {
	p, err := goose.NewProvider(goose.DialectPostgres, db, FS, goose.WithLogger(goose.NopLogger()))
	if err != nil {
		return nil, fmt.Errorf("load migrations: %w", err)
	}
	return p, nil
}
