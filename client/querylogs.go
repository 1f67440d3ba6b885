package client

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"time"
)

// Query logging operations (docs/observability.md, "Query logging").
var (
	opCreateQueryLoggingConfig = operation{"createQueryLoggingConfig", "POST", "/v1/hostedzones/{id}/querylogging"}
	opGetQueryLoggingConfig    = operation{"getQueryLoggingConfig", "GET", "/v1/hostedzones/{id}/querylogging"}
	opDeleteQueryLoggingConfig = operation{"deleteQueryLoggingConfig", "DELETE", "/v1/hostedzones/{id}/querylogging"}
	opGetQueryLogs             = operation{"getQueryLogs", "GET", "/v1/hostedzones/{id}/querylogs"}
)

func queryLogOperations() []operation {
	return []operation{opCreateQueryLoggingConfig, opGetQueryLoggingConfig, opDeleteQueryLoggingConfig, opGetQueryLogs}
}

// QueryLoggingConfig is a zone's query logging configuration.
type QueryLoggingConfig struct {
	ID           string    `json:"id"`
	HostedZoneID string    `json:"hosted_zone_id"`
	CreatedAt    time.Time `json:"created_at"`
}

// QueryLoggingConfigOutput is the answer of CreateQueryLoggingConfig
// (with the change that turns logging on) and GetQueryLoggingConfig.
type QueryLoggingConfigOutput struct {
	QueryLoggingConfig QueryLoggingConfig `json:"query_logging_config"`
	Change             *Change            `json:"change,omitempty"`
}

// QueryLogEntry is one answer a nameserver gave from the zone.
type QueryLogEntry struct {
	Time             time.Time `json:"time"`
	HostedZoneID     string    `json:"hosted_zone_id"`
	QueryName        string    `json:"query_name"`
	QueryType        string    `json:"query_type"`
	ResponseCode     string    `json:"response_code"`
	Protocol         string    `json:"protocol"`
	Nameserver       string    `json:"nameserver"`
	Region           string    `json:"region"`
	Resolver         string    `json:"resolver"`
	EDNSClientSubnet string    `json:"edns_client_subnet,omitempty"`
}

// GetQueryLogsInput selects entries: since a time (zero: the oldest
// kept), at most Limit of them (0: the server's default), or, with
// Follow, on and on as they arrive.
type GetQueryLogsInput struct {
	Since  time.Time
	Follow bool
	Limit  int
}

// CreateQueryLoggingConfig turns query logging on for a zone; the
// returned change is INSYNC once every nameserver logs.
func (c *Client) CreateQueryLoggingConfig(ctx context.Context, zoneID string) (*QueryLoggingConfigOutput, error) {
	return callOut[QueryLoggingConfigOutput](ctx, c, request{op: opCreateQueryLoggingConfig, pathArgs: []string{zoneID}})
}

// GetQueryLoggingConfig returns a zone's query logging configuration (an
// *Error with code NoSuchQueryLoggingConfig when logging is off).
func (c *Client) GetQueryLoggingConfig(ctx context.Context, zoneID string) (*QueryLoggingConfigOutput, error) {
	return callOut[QueryLoggingConfigOutput](ctx, c, request{op: opGetQueryLoggingConfig, pathArgs: []string{zoneID}})
}

// DeleteQueryLoggingConfig turns query logging off for a zone.
func (c *Client) DeleteQueryLoggingConfig(ctx context.Context, zoneID string) (*ChangeOutput, error) {
	return callOut[ChangeOutput](ctx, c, request{op: opDeleteQueryLoggingConfig, pathArgs: []string{zoneID}})
}

// GetQueryLogs calls fn with each of the zone's query log entries that in
// selects, oldest first, as the server streams them; an error from fn
// ends the read and is returned. With in.Follow it returns when ctx ends
// (ctx's error) or the server ends the stream (nil; read on with Since
// the last entry's time). It is not retried.
func (c *Client) GetQueryLogs(ctx context.Context, zoneID string, in *GetQueryLogsInput, fn func(QueryLogEntry) error) error {
	target, err := opGetQueryLogs.url(c.base.String(), []string{zoneID})
	if err != nil {
		return err
	}
	q := url.Values{}
	if in != nil {
		if !in.Since.IsZero() {
			q.Set("since", in.Since.UTC().Format(time.RFC3339Nano))
		}
		if in.Follow {
			q.Set("follow", "true")
		}
		if in.Limit > 0 {
			q.Set("limit", strconv.Itoa(in.Limit))
		}
	}
	if len(q) > 0 {
		target += "?" + q.Encode()
	}
	req, err := http.NewRequestWithContext(ctx, "GET", target, nil)
	if err != nil {
		return err
	}
	req.Header.Set("Accept", "application/x-ndjson, application/json;q=0.9")
	req.Header.Set("User-Agent", c.userAgent)
	if c.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	res, err := c.http.Do(req)
	if err != nil {
		return fmt.Errorf("waymark: %s: %w", opGetQueryLogs.ID, err)
	}
	defer res.Body.Close()
	if res.StatusCode < 200 || res.StatusCode >= 300 {
		b, _ := io.ReadAll(io.LimitReader(res.Body, 1<<20))
		return newError(opGetQueryLogs.ID, response{status: res.StatusCode, header: res.Header, body: b}, c.now())
	}
	sc := bufio.NewScanner(res.Body)
	sc.Buffer(make([]byte, 0, 4096), 1<<20)
	for sc.Scan() {
		var e QueryLogEntry
		if err := json.Unmarshal(sc.Bytes(), &e); err != nil {
			return fmt.Errorf("waymark: %s: decode entry: %w", opGetQueryLogs.ID, err)
		}
		if err := fn(e); err != nil {
			return err
		}
	}
	if err := sc.Err(); err != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		return fmt.Errorf("waymark: %s: %w", opGetQueryLogs.ID, err)
	}
	return ctx.Err()
}
