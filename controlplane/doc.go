// Package controlplane holds Waymark's business rules and its PostgreSQL
// store: tenants and API keys, hosted zones, record sets and atomic change
// batches, change status, and the outbox relay and fleet tracker that carry
// committed changes to the nameservers.
//
// Every method that writes opens exactly one transaction: it validates,
// applies, bumps the zone's version and writes the change row and the
// outbox event together, so that a committed change is never lost and an
// uncommitted one is never published (DESIGN.md §3, §4).
//
// Errors returned to callers are *[Error] values carrying a stable [Code];
// the api package maps codes to HTTP statuses in one place. Anything else
// is an internal failure.
package controlplane
