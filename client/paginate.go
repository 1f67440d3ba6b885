package client

import (
	"context"
	"iter"
)

// Iterators over every page of the list operations. Each fetches a page
// when the previous one is used up, starts where in says (nil: at the
// beginning; MaxItems sets the page size), and yields a non-nil error once,
// as its last pair, when a page cannot be fetched. Stopping the loop early
// fetches nothing more.

// HostedZones yields every hosted zone, by name then id.
func (c *Client) HostedZones(ctx context.Context, in *ListHostedZonesInput) iter.Seq2[HostedZone, error] {
	next := ListHostedZonesInput{}
	if in != nil {
		next = *in
	}
	return func(yield func(HostedZone, error) bool) {
		for {
			page, err := c.ListHostedZones(ctx, &next)
			if err != nil {
				yield(HostedZone{}, err)
				return
			}
			for _, z := range page.HostedZones {
				if !yield(z, nil) {
					return
				}
			}
			if !page.IsTruncated {
				return
			}
			next.Name, next.ZoneID = page.NextName, page.NextZoneID
		}
	}
}

// RRSets yields every record set of a zone in Route 53 order.
func (c *Client) RRSets(ctx context.Context, zoneID string, in *ListRRSetsInput) iter.Seq2[RRSet, error] {
	next := ListRRSetsInput{}
	if in != nil {
		next = *in
	}
	return func(yield func(RRSet, error) bool) {
		for {
			page, err := c.ListRRSets(ctx, zoneID, &next)
			if err != nil {
				yield(RRSet{}, err)
				return
			}
			for _, rs := range page.RRSets {
				if !yield(rs, nil) {
					return
				}
			}
			if !page.IsTruncated {
				return
			}
			next.Name, next.Type, next.Identifier = page.NextName, page.NextType, page.NextIdentifier
		}
	}
}

// HealthChecks yields every health check, by id.
func (c *Client) HealthChecks(ctx context.Context, in *ListHealthChecksInput) iter.Seq2[HealthCheck, error] {
	next := ListHealthChecksInput{}
	if in != nil {
		next = *in
	}
	return func(yield func(HealthCheck, error) bool) {
		for {
			page, err := c.ListHealthChecks(ctx, &next)
			if err != nil {
				yield(HealthCheck{}, err)
				return
			}
			for _, hc := range page.HealthChecks {
				if !yield(hc, nil) {
					return
				}
			}
			if !page.IsTruncated || page.NextMarker == "" {
				return
			}
			next.Marker = page.NextMarker
		}
	}
}

// HealthCheckTransitions yields every status transition of a check,
// newest first.
func (c *Client) HealthCheckTransitions(ctx context.Context, id string, in *GetHealthCheckHistoryInput) iter.Seq2[HealthTransition, error] {
	next := GetHealthCheckHistoryInput{}
	if in != nil {
		next = *in
	}
	return func(yield func(HealthTransition, error) bool) {
		for {
			page, err := c.GetHealthCheckHistory(ctx, id, &next)
			if err != nil {
				yield(HealthTransition{}, err)
				return
			}
			for _, t := range page.Transitions {
				if !yield(t, nil) {
					return
				}
			}
			if page.NextBefore == 0 {
				return
			}
			next.Before = page.NextBefore
		}
	}
}
