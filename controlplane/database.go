package controlplane

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
)

// Defaults for DatabaseOptions fields left zero. They bound how long any
// caller can wait on PostgreSQL: an API request must fail fast (503) when
// the database is stopped or unreachable, never hang for the outage.
const (
	DefaultConnectTimeout           = 2 * time.Second
	DefaultStatementTimeout         = 5 * time.Second
	DefaultLockTimeout              = 2 * time.Second
	DefaultIdleInTransactionTimeout = 10 * time.Second
)

// DatabaseOptions are the timeouts set on every connection of the control
// plane's pool. A DSN that sets one of the server parameters itself
// (statement_timeout=…) keeps its own value.
type DatabaseOptions struct {
	// ConnectTimeout bounds dialling and the startup handshake of one
	// connection (pgx connect_timeout). Default 2 s.
	ConnectTimeout time.Duration
	// StatementTimeout is PostgreSQL's statement_timeout: a statement
	// running longer is cancelled by the server. Default 5 s.
	StatementTimeout time.Duration
	// LockTimeout is PostgreSQL's lock_timeout: a statement waiting longer
	// for a row or table lock fails. Default 2 s.
	LockTimeout time.Duration
	// IdleInTransactionTimeout ends a session that sits idle inside a
	// transaction (a client that died mid-transaction holds locks until
	// then). Default 10 s.
	IdleInTransactionTimeout time.Duration
	// MaxConns is the pool size; zero keeps pgx's default (or the DSN's
	// pool_max_conns).
	MaxConns int32
}

func (o DatabaseOptions) withDefaults() DatabaseOptions {
	if o.ConnectTimeout <= 0 {
		o.ConnectTimeout = DefaultConnectTimeout
	}
	if o.StatementTimeout <= 0 {
		o.StatementTimeout = DefaultStatementTimeout
	}
	if o.LockTimeout <= 0 {
		o.LockTimeout = DefaultLockTimeout
	}
	if o.IdleInTransactionTimeout <= 0 {
		o.IdleInTransactionTimeout = DefaultIdleInTransactionTimeout
	}
	return o
}

// PoolConfig parses dsn and applies o (defaults for zero fields).
func PoolConfig(dsn string, o DatabaseOptions) (*pgxpool.Config, error) {
	cfg, err := pgxpool.ParseConfig(dsn)
	if err != nil {
		return nil, fmt.Errorf("database url: %w", err)
	}
	o = o.withDefaults()
	cc := cfg.ConnConfig
	if cc.ConnectTimeout <= 0 || cc.ConnectTimeout > o.ConnectTimeout {
		cc.ConnectTimeout = o.ConnectTimeout
	}
	if cc.RuntimeParams == nil {
		cc.RuntimeParams = map[string]string{}
	}
	setDefault := func(k string, d time.Duration) {
		if _, ok := cc.RuntimeParams[k]; !ok {
			cc.RuntimeParams[k] = strconv.FormatInt(d.Milliseconds(), 10)
		}
	}
	setDefault("statement_timeout", o.StatementTimeout)
	setDefault("lock_timeout", o.LockTimeout)
	setDefault("idle_in_transaction_session_timeout", o.IdleInTransactionTimeout)
	if o.MaxConns > 0 {
		cfg.MaxConns = o.MaxConns
	}
	return cfg, nil
}

// NewPool opens a pool on dsn with o's timeouts. It does not wait for a
// connection: a database that is down at start is reported by the first
// request (503) and by readiness, and the pool recovers by itself.
func NewPool(ctx context.Context, dsn string, o DatabaseOptions) (*pgxpool.Pool, error) {
	cfg, err := PoolConfig(dsn, o)
	if err != nil {
		return nil, err
	}
	return pgxpool.NewWithConfig(ctx, cfg)
}

// IsUnavailable reports whether err means the database could not be used
// at all — connection refused or lost, a timeout, the server shutting down
// or refusing connections, a statement or lock timeout — rather than a
// fault of the request. Callers answer such errors "try again later"
// (HTTP 503 with Retry-After), never as an internal error.
func IsUnavailable(err error) bool {
	if err == nil {
		return false
	}
	var ce *pgconn.ConnectError
	if errors.As(err, &ce) {
		return true
	}
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		switch {
		case len(pe.Code) == 5 && pe.Code[:2] == "08": // connection exception
			return true
		case pe.Code == "57P01", pe.Code == "57P02", pe.Code == "57P03": // shutdown, crash, cannot connect now
			return true
		case pe.Code == "57014": // query_canceled: statement_timeout
			return true
		case pe.Code == "55P03": // lock_not_available: lock_timeout
			return true
		case pe.Code == "53300": // too_many_connections
			return true
		case pe.Code == "25P03": // idle_in_transaction_session_timeout
			return true
		}
		return false
	}
	if errors.Is(err, ErrStreamUnavailable) {
		return true
	}
	if pgconn.Timeout(err) || errors.Is(err, context.DeadlineExceeded) {
		return true
	}
	var ne net.Error
	if errors.As(err, &ne) {
		return true
	}
	var oe *net.OpError
	if errors.As(err, &oe) {
		return true
	}
	return errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, net.ErrClosed)
}

// DescribeUnavailable says in a few words, without addresses or
// credentials, why a database check failed (timeout is the check's
// timeout), for a readiness probe to show.
func DescribeUnavailable(err error, timeout time.Duration) string {
	var ce *pgconn.ConnectError
	var pe *pgconn.PgError
	switch {
	case errors.Is(err, context.DeadlineExceeded) || pgconn.Timeout(err):
		return "database did not answer within " + timeout.String()
	case errors.As(err, &ce):
		return "cannot connect to the database"
	case errors.As(err, &pe):
		return "database refused: SQLSTATE " + pe.Code
	case IsUnavailable(err):
		return "database connection failed"
	}
	return "database check failed"
}
