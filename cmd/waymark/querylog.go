package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"strconv"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/waymark-dns/waymark/dataplane"
	"github.com/waymark-dns/waymark/event"
	"github.com/waymark-dns/waymark/internal/retry"
)

// queryLogLimits bound the query log stream (event.QueryLogStreamConfig).
type queryLogLimits struct {
	MaxBytes int64
	MaxAge   time.Duration
}

// queryLogFlags adds --querylog-max-bytes and --querylog-max-age to fs;
// the returned function reads them once fs is parsed.
func queryLogFlags(fs *flag.FlagSet) func() (queryLogLimits, error) {
	size := fs.String("querylog-max-bytes", env("WAYMARK_QUERYLOG_MAX_BYTES", "1GiB"),
		"most the query log stream keeps, as 512MiB or 2GiB; the oldest entries go first (WAYMARK_QUERYLOG_MAX_BYTES)")
	age := fs.Duration("querylog-max-age", envDuration("WAYMARK_QUERYLOG_MAX_AGE", event.DefaultQueryLogMaxAge),
		"longest the query log stream keeps an entry (WAYMARK_QUERYLOG_MAX_AGE)")
	return func() (queryLogLimits, error) {
		n, err := parseMemoryLimit(*size)
		if err != nil {
			return queryLogLimits{}, fmt.Errorf("--querylog-max-bytes: %w", err)
		}
		if *age < time.Minute {
			return queryLogLimits{}, errors.New("--querylog-max-age: at least 1m")
		}
		return queryLogLimits{MaxBytes: n, MaxAge: *age}, nil
	}
}

// ensureQueryLogStream creates or updates the query log stream, retrying
// until it succeeds or ctx ends: while NATS is down, reads answer 503 and
// nameservers' batches are lost (and counted).
func ensureQueryLogStream(ctx context.Context, js jetstream.JetStream, cfg jetstream.StreamConfig, log *slog.Logger) {
	b := retry.NewBackoff(500*time.Millisecond, 30*time.Second)
	for {
		cctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		_, err := js.CreateOrUpdateStream(cctx, cfg)
		cancel()
		if err == nil {
			return
		}
		log.Warn("cannot create the query log stream; retrying", "err", err)
		if !retry.Sleep(ctx, b.Next()) {
			return
		}
	}
}

// entriesHeader carries a batch's entry count, for the count of entries
// lost when NATS refuses the batch after it was sent.
const entriesHeader = "Waymark-Entries"

// startQueryLog makes the nameserver's query log: entries published to
// the query log stream in asynchronous batches, whose failures are
// counted. It runs until ctx ends.
func startQueryLog(ctx context.Context, nc *nats.Conn, nodeID, region string, queue int, log *slog.Logger) (*dataplane.QueryLog, error) {
	var ql *dataplane.QueryLog
	js, err := jetstream.New(nc,
		jetstream.WithPublishAsyncMaxPending(256),
		jetstream.WithPublishAsyncErrHandler(func(_ jetstream.JetStream, m *nats.Msg, err error) {
			n, _ := strconv.Atoi(m.Header.Get(entriesHeader))
			ql.PublishFailed(n, err)
		}))
	if err != nil {
		return nil, fmt.Errorf("jetstream: %w", err)
	}
	ql = dataplane.NewQueryLog(dataplane.QueryLogConfig{
		NodeID: nodeID, Region: region, QueueSize: queue, Logger: log,
		Publish: func(subject string, data []byte, entries int) error {
			// The batch's buffer is reused: the message gets its own copy.
			m := nats.NewMsg(subject)
			m.Data = append([]byte(nil), data...)
			m.Header.Set(entriesHeader, strconv.Itoa(entries))
			_, err := js.PublishMsgAsync(m)
			return err
		},
	})
	go ql.Run(ctx)
	return ql, nil
}
