package client

import (
	"context"
	"net/url"
	"time"
)

// ListAuditLogInput are listAuditLog's query parameters; zero fields
// select everything.
type ListAuditLogInput struct {
	MaxItems  int
	NextToken string // the previous page's NextToken
	Operation string
	KeyID     string
	API       string // "v1" or "route53"
	Target    string // a prefix of the request path
	Result    string // "success" or "failure"
	Since     time.Time
	Until     time.Time
}

// AuditLogOutput is a page of the audit log, newest first.
type AuditLogOutput struct {
	Entries []AuditEntry `json:"entries"`
	// NextToken, when set, is the NextToken of the next (older) page.
	NextToken string `json:"next_token,omitempty"`
}

// AuditEntry is one mutating call: who, from where, what, and its result.
type AuditEntry struct {
	ID            string    `json:"id"`
	Time          time.Time `json:"time"`
	KeyID         string    `json:"key_id"`
	SourceAddress string    `json:"source_address"`
	RequestID     string    `json:"request_id"`
	API           string    `json:"api"`
	Operation     string    `json:"operation"`
	Target        string    `json:"target"`
	Result        string    `json:"result"`
	Status        int       `json:"status,omitempty"`
}

// ListAuditLog returns one page of the tenant's audit log.
func (c *Client) ListAuditLog(ctx context.Context, in *ListAuditLogInput) (*AuditLogOutput, error) {
	if in == nil {
		in = &ListAuditLogInput{}
	}
	q := query{}.int("max_items", int64(in.MaxItems)).str("next_token", in.NextToken).
		str("operation", in.Operation).str("key_id", in.KeyID).str("api", in.API).
		str("target", in.Target).str("result", in.Result)
	if !in.Since.IsZero() {
		q = q.str("since", in.Since.UTC().Format(time.RFC3339))
	}
	if !in.Until.IsZero() {
		q = q.str("until", in.Until.UTC().Format(time.RFC3339))
	}
	return callOut[AuditLogOutput](ctx, c, request{op: opListAuditLog, query: url.Values(q)})
}
