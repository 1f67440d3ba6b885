package main

import (
	"encoding/hex"
	"fmt"
	"log/slog"
	"os"
	"strings"
)

// defaultDatabaseURL is the local PostgreSQL server of a developer machine.
const defaultDatabaseURL = "postgres://postgres@127.0.0.1:5432/waymark?sslmode=disable"

// env returns the environment variable key, or def when it is unset.
func env(key, def string) string {
	if v, ok := os.LookupEnv(key); ok && v != "" {
		return v
	}
	return def
}

// secrets are the keys every API process of one deployment must share.
type secrets struct {
	MasterKey  []byte // encrypts API key secrets at rest
	JWTKey     []byte // signs short-lived tokens
	AdminToken string // the operator's bearer token
}

// secretsFromEnv reads WAYMARK_MASTER_KEY and WAYMARK_JWT_KEY (hex, 32
// bytes each) and WAYMARK_ADMIN_TOKEN.
func secretsFromEnv() (secrets, error) {
	var s secrets
	var err error
	if s.MasterKey, err = hexKey("WAYMARK_MASTER_KEY"); err != nil {
		return s, err
	}
	if s.JWTKey, err = hexKey("WAYMARK_JWT_KEY"); err != nil {
		return s, err
	}
	s.AdminToken = os.Getenv("WAYMARK_ADMIN_TOKEN")
	if len(s.AdminToken) < 16 {
		return s, fmt.Errorf("WAYMARK_ADMIN_TOKEN must be set to at least 16 characters")
	}
	return s, nil
}

func hexKey(name string) ([]byte, error) {
	v := strings.TrimSpace(os.Getenv(name))
	if v == "" {
		return nil, fmt.Errorf("%s must be set (64 hex characters; `openssl rand -hex 32`)", name)
	}
	b, err := hex.DecodeString(v)
	if err != nil || len(b) != 32 {
		return nil, fmt.Errorf("%s must be 64 hex characters (32 bytes)", name)
	}
	return b, nil
}

// splitList splits a comma-separated setting, dropping empty items.
func splitList(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

// newLogger returns the process logger: text for a terminal, JSON when
// WAYMARK_LOG_FORMAT=json.
func newLogger() *slog.Logger {
	level := slog.LevelInfo
	if strings.EqualFold(os.Getenv("WAYMARK_LOG_LEVEL"), "debug") {
		level = slog.LevelDebug
	}
	opts := &slog.HandlerOptions{Level: level}
	if os.Getenv("WAYMARK_LOG_FORMAT") == "json" {
		return slog.New(slog.NewJSONHandler(os.Stderr, opts))
	}
	return slog.New(slog.NewTextHandler(os.Stderr, opts))
}
