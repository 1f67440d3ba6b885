package controlplane

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/waymark-dns/waymark/event"
)

// Limits of reading query logs (GET /v1/hostedzones/{id}/querylogs).
const (
	// DefaultQueryLogLimit and MaxQueryLogLimit bound the entries one
	// read without follow returns.
	DefaultQueryLogLimit = 1000
	MaxQueryLogLimit     = 10000
	// MaxQueryLogFollow is the longest one follow stream lasts; the
	// client then reads on with since= the last entry's time.
	MaxQueryLogFollow = 15 * time.Minute
	// queryLogSlack is how much earlier than since the stream is read
	// from: a batch is stored up to a nameserver's flush interval after
	// its entries' times, and entries are filtered by their own time.
	queryLogSlack = 2 * time.Second
	// queryLogIdle is how long a read without follow waits for the next
	// batch before it ends.
	queryLogIdle = 2 * time.Second
)

// ErrStreamUnavailable is wrapped by errors of reads from a NATS stream
// that is not reachable now (NATS down, no stream): IsUnavailable reports
// them, and the API answers 503.
var ErrStreamUnavailable = errors.New("controlplane: the NATS stream is unavailable")

// QueryLogQuery selects a zone's query log entries.
type QueryLogQuery struct {
	// Since keeps entries at or after it; zero: the oldest the stream
	// keeps, or with Follow only entries that arrive from now on.
	Since time.Time
	// Follow keeps the read going as entries arrive, until the context
	// ends or MaxQueryLogFollow has passed; without it the read ends once
	// it has caught up or after Limit entries.
	Follow bool
	// Limit is the most entries a read without Follow returns; 0 means
	// DefaultQueryLogLimit. Ignored with Follow.
	Limit int
	// Positioned, if set, is called once the read has its place in the
	// stream: with Follow and no Since, every entry published after it
	// is read.
	Positioned func()
}

// ReadQueryLogs calls emit with each of the zone's query log entries that
// q selects, oldest first, one NDJSON line each (no newline; valid until
// emit returns); more is true when further entries that arrived with this
// one follow at once (a follower flushes when it is false). An error from emit ends the read and is returned. The
// zone must be the tenant's; its logging need not be on now (entries of
// an earlier configuration are read until the stream's limits drop them).
func (s *Service) ReadQueryLogs(ctx context.Context, tenantID, zoneID string, q QueryLogQuery, emit func(line []byte, more bool) error) error {
	id, ok := cleanID(zoneID)
	if !ok {
		return errNoSuchZone(displayID(zoneID))
	}
	var one int
	err := s.pool.QueryRow(ctx, `SELECT 1 FROM hosted_zone WHERE id = $1 AND tenant_id = $2`, id, tenantID).Scan(&one)
	if errors.Is(err, pgx.ErrNoRows) {
		return errNoSuchZone(id)
	}
	if err != nil {
		return err
	}
	if q.Limit <= 0 {
		q.Limit = DefaultQueryLogLimit
	}
	q.Limit = min(q.Limit, MaxQueryLogLimit)
	js := s.cfg.QueryLogs
	if js == nil {
		return fmt.Errorf("%w: no query log stream configured", ErrStreamUnavailable)
	}
	cc := jetstream.OrderedConsumerConfig{
		FilterSubjects:    []string{event.QueryLogSubject(id)},
		DeliverPolicy:     jetstream.DeliverAllPolicy,
		InactiveThreshold: 30 * time.Second,
	}
	since := ""
	if q.Follow && q.Since.IsZero() {
		cc.DeliverPolicy = jetstream.DeliverNewPolicy
	}
	if !q.Since.IsZero() {
		start := q.Since.Add(-queryLogSlack)
		cc.DeliverPolicy, cc.OptStartTime = jetstream.DeliverByStartTimePolicy, &start
		since = q.Since.UTC().Format(event.QueryLogTimeLayout)
	}
	octx, cancel := context.WithTimeout(ctx, 10*time.Second)
	cons, err := js.OrderedConsumer(octx, event.QueryLogStreamName, cc)
	cancel()
	if err != nil {
		return fmt.Errorf("%w: %v", ErrStreamUnavailable, err)
	}
	if q.Positioned != nil {
		q.Positioned()
	}
	if !q.Follow && cons.CachedInfo().NumPending == 0 {
		return nil
	}
	fctx := ctx
	if q.Follow {
		var stop context.CancelFunc
		fctx, stop = context.WithTimeout(ctx, MaxQueryLogFollow)
		defer stop()
	}
	it, err := cons.Messages(jetstream.PullMaxMessages(64))
	if err != nil {
		return fmt.Errorf("%w: %v", ErrStreamUnavailable, err)
	}
	defer it.Stop()
	n := 0
	for {
		var msg jetstream.Msg
		if q.Follow {
			msg, err = it.Next(jetstream.NextContext(fctx))
		} else {
			msg, err = it.Next(jetstream.NextMaxWait(queryLogIdle))
		}
		switch {
		case ctx.Err() != nil:
			return ctx.Err() // the client went away
		case fctx.Err() != nil:
			return nil // MaxQueryLogFollow
		case errors.Is(err, nats.ErrTimeout):
			return nil // caught up
		case err != nil:
			return fmt.Errorf("%w: %v", ErrStreamUnavailable, err)
		}
		data := msg.Data()
		for len(data) > 0 {
			line, rest, _ := bytes.Cut(data, []byte("\n"))
			data = rest
			if at, ok := event.QueryLogLineTime(line); !ok || at < since {
				continue
			}
			if err := emit(line, len(data) > 0); err != nil {
				return err
			}
			if n++; !q.Follow && n >= q.Limit {
				return nil
			}
		}
		if md, err := msg.Metadata(); !q.Follow && err == nil && md.NumPending == 0 {
			return nil
		}
	}
}
