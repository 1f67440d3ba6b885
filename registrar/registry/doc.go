// Package registry is Waymark's built-in domain registry: the TLDs an
// operator runs, and in each the EPP objects of RFC 5731-5733 (domains,
// hosts, contacts), DS records (RFC 5910), RGP states (RFC 3915),
// transfers and each registrar's poll queue, all in PostgreSQL.
//
// Each TLD's zone is a hosted zone of the registry's own tenant, on a
// delegation set of its own (controlplane.ZoneTx.CreateTLDZone), served by
// the same fleet as every tenant zone. Every registry command that changes
// what the TLD publishes (NS, glue, DS of a domain) changes the TLD zone in
// the same transaction, so a registration is resolvable as soon as that
// change is INSYNC, typically within a second.
//
// The Go API, for the registrar (registrar/) and the EPP server and RDAP
// (registrar/epp, registrar/rdap):
//
//   - Registry.Do runs commands in a transaction of its own;
//     Registry.Bind attaches them to a controlplane.ZoneTx a caller holds
//     (the registrar's registration, which also creates the tenant's zone).
//   - Tx's methods are the commands: CheckDomain, CreateDomain, Domain,
//     SetNameservers, RenewDomain, DeleteDomain, RestoreDomain, CreateHost,
//     Host, CreateContact, Contact, AddDS, RemoveDS, Poll, Ack. Each takes
//     the acting registrar's id (EPP clID) and refuses objects of another
//     registrar with ErrAuthorization.
//   - Errors are *Error with a Code that maps one to one to an EPP result
//     code (Code.EPP).
//
// TLD policy (prices, reserved and premium names, grace and lock periods,
// negative TTL) is operator configuration: ConfigureTLD, TLDs, SetNameRule.
package registry
