package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/waymark-dns/waymark/controlplane"
)

func runTenant(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("tenant", flag.ContinueOnError)
	dsn := fs.String("database-url", env("DATABASE_URL", defaultDatabaseURL), "PostgreSQL URL (DATABASE_URL)")
	fs.Usage = func() {
		fmt.Fprintln(fs.Output(), "usage: waymark tenant [flags] create NAME\n\nCreates a tenant and its first API key and prints them as JSON.\nNeeds WAYMARK_MASTER_KEY and WAYMARK_JWT_KEY.")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.Arg(0) != "create" || fs.NArg() != 2 {
		fs.Usage()
		return fmt.Errorf("expected: tenant create NAME")
	}
	sec, err := secretsFromEnv()
	if err != nil {
		return err
	}
	pool, err := pgxpool.New(ctx, *dsn)
	if err != nil {
		return err
	}
	defer pool.Close()
	svc, err := controlplane.New(pool, controlplane.Config{MasterKey: sec.MasterKey, JWTKey: sec.JWTKey})
	if err != nil {
		return err
	}
	t, key, err := svc.CreateTenant(ctx, fs.Arg(1))
	if err != nil {
		return err
	}
	enc := json.NewEncoder(os.Stdout)
	enc.SetIndent("", "  ")
	return enc.Encode(map[string]any{
		"tenant":  map[string]any{"id": t.ID, "name": t.Name, "created_at": t.CreatedAt},
		"api_key": map[string]any{"id": key.ID, "secret": key.Secret, "token": key.Token},
	})
}
