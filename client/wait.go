package client

import (
	"context"
	"time"
)

// WaitOptions tune [Client.WaitInSync].
type WaitOptions struct {
	// PollTimeout is the timeout of each long poll (default 30 s, at most
	// 60 s, the server's limit). A poll answers as soon as the change is
	// INSYNC, so a short PollTimeout only means more frequent progress.
	PollTimeout time.Duration
	// OnProgress, when set, is called with each answer, the last included.
	OnProgress func(*GetChangeOutput)
}

// MaxPollTimeout is the longest long poll the server allows.
const MaxPollTimeout = 60 * time.Second

// WaitInSync waits until the change is INSYNC on every live nameserver,
// long-polling GET /v1/changes/{id}?wait=insync&timeout=…. It returns the
// INSYNC change, or ctx's error (with the last answer) when ctx ends
// first: bound the wait with a deadline.
func (c *Client) WaitInSync(ctx context.Context, changeID string, opts *WaitOptions) (*GetChangeOutput, error) {
	var o WaitOptions
	if opts != nil {
		o = *opts
	}
	if o.PollTimeout <= 0 {
		o.PollTimeout = 30 * time.Second
	}
	o.PollTimeout = min(o.PollTimeout, MaxPollTimeout)
	var last *GetChangeOutput
	for {
		in := &GetChangeInput{Wait: true, Timeout: o.PollTimeout}
		if dl, ok := ctx.Deadline(); ok {
			// Answer before the deadline, so that the last state is known.
			if left := time.Until(dl) - 100*time.Millisecond; left < in.Timeout {
				in.Timeout = left
			}
			if in.Timeout <= 0 {
				if last != nil {
					return last, context.DeadlineExceeded
				}
				in = nil // too close to wait: ask once how far it is
			}
		}
		out, err := c.GetChange(ctx, changeID, in)
		if err != nil {
			if ctx.Err() != nil && last != nil {
				return last, ctx.Err()
			}
			return last, err
		}
		last = out
		if o.OnProgress != nil {
			o.OnProgress(out)
		}
		if out.Change.Status == StatusInSync {
			return out, nil
		}
		if err := ctx.Err(); err != nil {
			return last, err
		}
		if in == nil {
			return last, context.DeadlineExceeded
		}
	}
}
