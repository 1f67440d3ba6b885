package main

import (
	"context"
	"flag"
	"fmt"

	"github.com/waymark-dns/waymark/migrations"
)

func runMigrate(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("migrate", flag.ContinueOnError)
	dsn := fs.String("database-url", env("DATABASE_URL", defaultDatabaseURL), "PostgreSQL URL (DATABASE_URL)")
	fs.Usage = func() { fmt.Fprintln(fs.Output(), "usage: waymark migrate [flags] up|down|status"); fs.PrintDefaults() }
	if err := fs.Parse(args); err != nil {
		return err
	}
	switch fs.Arg(0) {
	case "up", "":
		if err := migrations.EnsureDatabase(ctx, *dsn); err != nil {
			return err
		}
		if err := migrations.Up(ctx, *dsn, newLogger()); err != nil {
			return err
		}
		fallthrough
	case "status":
		cur, latest, err := migrations.Status(ctx, *dsn)
		if err != nil {
			return err
		}
		fmt.Printf("schema version %d (latest %d)\n", cur, latest)
		return nil
	case "down":
		return migrations.Down(ctx, *dsn)
	default:
		fs.Usage()
		return fmt.Errorf("unknown migrate action %q", fs.Arg(0))
	}
}
