// Package healthcheck is Waymark's health checking: the probers (HTTP,
// HTTPS, string match, TCP) with Route 53's timeouts, the per-region
// [Checker] that schedules probes and publishes observations, and the
// [Aggregator] that applies Route 53's rules and publishes statuses.
//
// The flow, all over NATS (package event has the contract):
//
//	control plane (PostgreSQL) ──Aggregator mirrors configs──► KV waymark_healthchecks
//	KV waymark_healthchecks ──watch──► Checker (per region, N per region share the work)
//	Checker ──probe──► endpoint; ──observation──► waymark.health.observed.<id>
//	Aggregator ◄── observations: failure threshold per region, 18% rule across
//	           regions, inverted, disabled, calculated ──► KV waymark_health (status)
//	           and PostgreSQL (region views, current status, transitions)
//	nameservers ──watch──► KV waymark_health (event.HealthWatcher)
//
// Wiring (cmd/waymark):
//
//	// every API process: one of them leads the aggregation
//	agg, _ := healthcheck.NewAggregator(healthcheck.AggregatorConfig{NATS: nc, Store: svc})
//	go svc.RunLeader(ctx, controlplane.DefaultHealthLockKey, agg.Run)
//
//	// waymark healthchecker --region R (no database)
//	c, _ := healthcheck.NewChecker(healthcheck.Config{Region: "eu-west-1", NodeID: host, NATS: nc})
//	c.Run(ctx)
//
// Checkers never open PostgreSQL; the aggregator reaches it only through
// the [Store] interface, which *controlplane.Service implements.
package healthcheck
