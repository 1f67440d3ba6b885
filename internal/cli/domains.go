package cli

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"

	"github.com/waymark-dns/waymark/client"
)

// domainsCommand is `waymark domains`: domain registration, transfers and
// registrar operations (docs/registrar.md).
func domainsCommand() *command {
	var (
		years, maxItems, currentYear            int
		hostedZone, callerRef, authCode, to, pw string
		wait, noPrivacy, noAutoRenew, sign      bool
		maxPrice                                int64
		cf                                      contactFlags
	)
	waitFlag := func(fs *flag.FlagSet) {
		fs.BoolVar(&wait, "wait", false, "wait until the operation is done (exit 1 if it FAILED, 3 on timeout)")
		fs.StringVar(&callerRef, "caller-reference", "", "a unique string, for safe retries (the same one returns the first operation)")
	}
	regFlags := func(fs *flag.FlagSet) {
		fs.IntVar(&years, "years", 1, "years, 1 to 10")
		cf.add(fs)
		fs.BoolVar(&noPrivacy, "no-privacy", false, "publish the contacts (privacy is on by default)")
		fs.BoolVar(&noAutoRenew, "no-auto-renew", false, "do not renew at expiry (on by default)")
		waitFlag(fs)
	}
	opResult := func(ctx context.Context, e *env, op client.Operation) error {
		if wait && !op.Done() {
			out, err := e.waitOperation(ctx, op.OperationID)
			if err != nil {
				return err
			}
			op = *out
		}
		if err := e.printOperation(op); err != nil {
			return err
		}
		if wait {
			return opFailed(op)
		}
		return nil
	}
	nameOp := func(call func(c *client.Client, ctx context.Context, name string) (*client.OperationOutput, error)) func(context.Context, *env, []string) error {
		return func(ctx context.Context, e *env, args []string) error {
			c, err := e.Client()
			if err != nil {
				return err
			}
			out, err := call(c, ctx, args[0])
			if err != nil {
				return err
			}
			return opResult(ctx, e, out.Operation)
		}
	}
	return &command{name: "domains", summary: "domain registration: check, register, list, get, renew, nameservers, ds, transfer, operations",
		long: "NAME is a domain name (example.test). Mutations are operations: --wait waits for them; `domains operations wait ID` later.",
		subs: []*command{
			{name: "check", args: []string{"NAME"}, summary: "whether NAME can be registered, and its price", minArgs: 1, maxArgs: 1,
				run: func(ctx context.Context, e *env, args []string) error {
					c, err := e.Client()
					if err != nil {
						return err
					}
					out, err := c.CheckDomainAvailability(ctx, args[0])
					if err != nil {
						return err
					}
					return e.print(out, func(w io.Writer) {
						row(w, "NAME", "AVAILABILITY", "PRICE", "PREMIUM")
						row(w, out.Name, out.Availability, price(out.Price, out.Currency), out.Premium)
					})
				}},
			{name: "register", args: []string{"NAME"}, summary: "register NAME, with a hosted zone (--hosted-zone create|ID) or nameservers (--ns)", minArgs: 1, maxArgs: 1,
				long: "Contacts come from --contacts FILE (JSON: {\"registrant\": {\"name\":…, \"city\":…, \"country_code\":…, \"email\":…}, \"admin\": …}; - reads standard input) or from the registrant flags; admin, tech and billing default to the registrant.",
				flags: func(fs *flag.FlagSet) {
					regFlags(fs)
					fs.StringVar(&hostedZone, "hosted-zone", "", `"create" (a new zone, delegated in the same transaction) or the id of a zone of the same name`)
					fs.BoolVar(&sign, "dnssec", false, `with --hosted-zone create: sign the new zone in the same transaction, its DS in the TLD zone with the delegation`)
					fs.Var(&cf.ns, "ns", "a nameserver, name or name=ip,ip for glue (repeatable)")
					fs.Int64Var(&maxPrice, "max-price", 0, "refuse if it costs more, in minor units (1000 USD is $10.00)")
				},
				run: func(ctx context.Context, e *env, args []string) error {
					contacts, err := cf.contacts(e)
					if err != nil {
						return err
					}
					if hostedZone == "" && len(cf.ns) == 0 {
						return usagef("give --hosted-zone create|ID or --ns")
					}
					c, err := e.Client()
					if err != nil {
						return err
					}
					out, err := c.RegisterDomain(ctx, client.RegisterDomainInput{Name: args[0], DurationInYears: years, Contacts: contacts,
						Privacy: not(noPrivacy), AutoRenew: not(noAutoRenew), MaxPrice: maxPrice, Nameservers: cf.ns,
						HostedZone: hostedZone, DNSSEC: sign, CallerReference: callerRef})
					if err != nil {
						return err
					}
					return opResult(ctx, e, out.Operation)
				}},
			{name: "list", summary: "list the account's domains", maxArgs: 0,
				flags: func(fs *flag.FlagSet) {
					fs.IntVar(&maxItems, "page-size", 0, "domains per request (default the server's)")
				},
				run: func(ctx context.Context, e *env, _ []string) error {
					c, err := e.Client()
					if err != nil {
						return err
					}
					var all []client.DomainSummary
					in := &client.ListDomainsInput{MaxItems: maxItems}
					for {
						page, err := c.ListDomains(ctx, in)
						if err != nil {
							return err
						}
						all = append(all, page.Domains...)
						if page.NextMarker == "" {
							break
						}
						in.Marker = page.NextMarker
					}
					return e.print(all, func(w io.Writer) {
						row(w, "NAME", "EXPIRES", "AUTO-RENEW", "LOCKED", "HOSTED ZONE", "STATUSES")
						for _, d := range all {
							row(w, d.Name, stamp(d.ExpiresAt), d.AutoRenew, d.TransferLock, dash(d.HostedZoneID), dash(strings.Join(d.Statuses, ",")))
						}
					})
				}},
			{name: "get", args: []string{"NAME"}, summary: "a domain's settings, nameservers, statuses and DS", minArgs: 1, maxArgs: 1,
				run: func(ctx context.Context, e *env, args []string) error {
					c, err := e.Client()
					if err != nil {
						return err
					}
					out, err := c.GetDomain(ctx, args[0])
					if err != nil {
						return err
					}
					d := out.Domain
					return e.print(out, func(w io.Writer) {
						row(w, "NAME", d.Name)
						row(w, "EXPIRES", stamp(d.ExpiresAt))
						row(w, "AUTO-RENEW", d.AutoRenew)
						row(w, "TRANSFER LOCK", d.TransferLock)
						row(w, "PRIVACY", d.Privacy)
						row(w, "HOSTED ZONE", dash(d.HostedZoneID))
						row(w, "STATUSES", dash(strings.Join(d.Statuses, ",")))
						for _, ns := range d.Nameservers {
							row(w, "NAMESERVER", nsText(ns))
						}
						for _, ds := range d.DS {
							row(w, "DS", ds.ID, fmt.Sprintf("%d %d %d %s", ds.KeyTag, ds.Algorithm, ds.DigestType, ds.Digest))
						}
					})
				}},
			{name: "renew", args: []string{"NAME"}, summary: "renew a domain (the current expiry year is read first unless given)", minArgs: 1, maxArgs: 1,
				flags: func(fs *flag.FlagSet) {
					fs.IntVar(&years, "years", 1, "years to add, 1 to 10")
					fs.IntVar(&currentYear, "current-expiry-year", 0, "the year it expires now; a mismatch is refused, so a repeated renewal never renews twice")
					waitFlag(fs)
				},
				run: func(ctx context.Context, e *env, args []string) error {
					c, err := e.Client()
					if err != nil {
						return err
					}
					if currentYear == 0 {
						d, err := c.GetDomain(ctx, args[0])
						if err != nil {
							return err
						}
						currentYear = d.Domain.ExpiresAt.UTC().Year()
					}
					out, err := c.RenewDomain(ctx, args[0], client.RenewDomainInput{DurationInYears: years, CurrentExpiryYear: currentYear, CallerReference: callerRef})
					if err != nil {
						return err
					}
					return opResult(ctx, e, out.Operation)
				}},
			{name: "nameservers", args: []string{"NAME", "NS…"}, summary: "replace a domain's nameservers (NS: name, or name=ip,ip for glue)", minArgs: 2, maxArgs: -1,
				flags: waitFlag,
				run: func(ctx context.Context, e *env, args []string) error {
					var ns nsList
					for _, a := range args[1:] {
						if err := ns.Set(a); err != nil {
							return usagef("%v", err)
						}
					}
					c, err := e.Client()
					if err != nil {
						return err
					}
					out, err := c.UpdateDomainNameservers(ctx, args[0], client.UpdateDomainNameserversInput{Nameservers: ns, CallerReference: callerRef})
					if err != nil {
						return err
					}
					return opResult(ctx, e, out.Operation)
				}},
			{name: "ds", summary: "a domain's DS records: list, add, remove", subs: []*command{
				{name: "list", args: []string{"NAME"}, summary: "the DS records with their ids", minArgs: 1, maxArgs: 1,
					run: func(ctx context.Context, e *env, args []string) error {
						c, err := e.Client()
						if err != nil {
							return err
						}
						out, err := c.ListDomainDS(ctx, args[0])
						if err != nil {
							return err
						}
						return e.print(out, func(w io.Writer) {
							row(w, "ID", "KEY TAG", "ALGORITHM", "DIGEST TYPE", "DIGEST")
							for _, d := range out.DS {
								row(w, d.ID, d.KeyTag, d.Algorithm, d.DigestType, d.Digest)
							}
						})
					}},
				{name: "add", args: []string{"NAME", "KEYTAG", "ALGORITHM", "DIGESTTYPE", "DIGEST"}, summary: "add a DS record (as `dnssec get` shows it)", minArgs: 5, maxArgs: 5,
					flags: waitFlag,
					run: func(ctx context.Context, e *env, args []string) error {
						var n [3]int
						for i, s := range args[1:4] {
							v, err := strconv.Atoi(s)
							if err != nil {
								return usagef("%s must be a number, not %q", []string{"KEYTAG", "ALGORITHM", "DIGESTTYPE"}[i], s)
							}
							n[i] = v
						}
						c, err := e.Client()
						if err != nil {
							return err
						}
						out, err := c.AddDomainDS(ctx, args[0], client.AddDomainDSInput{CallerReference: callerRef,
							Records: []client.DSInput{{KeyTag: &n[0], Algorithm: n[1], DigestType: n[2], Digest: args[4]}}})
						if err != nil {
							return err
						}
						return opResult(ctx, e, out.Operation)
					}},
				{name: "remove", args: []string{"NAME", "ID"}, summary: "remove a DS record by its id", minArgs: 2, maxArgs: 2,
					flags: waitFlag,
					run: func(ctx context.Context, e *env, args []string) error {
						c, err := e.Client()
						if err != nil {
							return err
						}
						out, err := c.RemoveDomainDS(ctx, args[0], args[1], callerRef)
						if err != nil {
							return err
						}
						return opResult(ctx, e, out.Operation)
					}},
			}},
			{name: "authcode", args: []string{"NAME"}, summary: "the domain's transfer auth code (--rotate draws a new one)", minArgs: 1, maxArgs: 1,
				flags: func(fs *flag.FlagSet) {
					fs.BoolVar(&wait, "rotate", false, "draw a new auth code; the old one stops working")
				},
				run: func(ctx context.Context, e *env, args []string) error {
					c, err := e.Client()
					if err != nil {
						return err
					}
					call := c.GetDomainAuthCode
					if wait {
						call = c.RotateDomainAuthCode
					}
					out, err := call(ctx, args[0])
					if err != nil {
						return err
					}
					return e.print(out, func(w io.Writer) { row(w, out.AuthCode) })
				}},
			{name: "transfer", summary: "transfers: in, out (to another account), accept, reject, cancel, list", subs: []*command{
				{name: "in", args: []string{"NAME"}, summary: "transfer NAME in from another registrar with its auth code", minArgs: 1, maxArgs: 1,
					flags: func(fs *flag.FlagSet) {
						regFlags(fs)
						fs.StringVar(&authCode, "auth-code", "", "the domain's auth code from its current registrar (required)")
					},
					run: func(ctx context.Context, e *env, args []string) error {
						if authCode == "" {
							return usagef("--auth-code is required")
						}
						contacts, err := cf.contacts(e)
						if err != nil {
							return err
						}
						c, err := e.Client()
						if err != nil {
							return err
						}
						out, err := c.TransferDomainIn(ctx, client.TransferDomainInInput{Name: args[0], AuthCode: authCode, DurationInYears: years,
							Contacts: contacts, Privacy: not(noPrivacy), AutoRenew: not(noAutoRenew), CallerReference: callerRef})
						if err != nil {
							return err
						}
						return opResult(ctx, e, out.Operation)
					}},
				{name: "out", args: []string{"NAME"}, summary: "offer NAME to another account (--to TENANT); prints the password it accepts with", minArgs: 1, maxArgs: 1,
					flags: func(fs *flag.FlagSet) {
						fs.StringVar(&to, "to", "", "the receiving account's tenant id (required)")
						fs.StringVar(&callerRef, "caller-reference", "", "a unique string, for safe retries (a retry shows no password)")
					},
					run: func(ctx context.Context, e *env, args []string) error {
						if to == "" {
							return usagef("--to is required")
						}
						c, err := e.Client()
						if err != nil {
							return err
						}
						out, err := c.TransferDomainToAccount(ctx, args[0], client.TransferDomainToAccountInput{ToAccount: to, CallerReference: callerRef})
						if err != nil {
							return err
						}
						return e.print(out, func(w io.Writer) {
							row(w, "OPERATION", "STATUS", "FLAG", "PASSWORD")
							row(w, out.Operation.OperationID, out.Operation.Status, dash(out.Operation.StatusFlag), dash(out.Password))
						})
					}},
				{name: "accept", args: []string{"NAME"}, summary: "accept an offer from another account (--password), or approve a transfer to another registrar", minArgs: 1, maxArgs: 1,
					flags: func(fs *flag.FlagSet) {
						fs.StringVar(&pw, "password", "", "the password of an offer from another account")
						waitFlag(fs)
					},
					run: func(ctx context.Context, e *env, args []string) error {
						c, err := e.Client()
						if err != nil {
							return err
						}
						out, err := c.AcceptDomainTransfer(ctx, args[0], client.AcceptDomainTransferInput{Password: pw, CallerReference: callerRef})
						if err != nil {
							return err
						}
						return opResult(ctx, e, out.Operation)
					}},
				{name: "reject", args: []string{"NAME"}, summary: "reject an offer from another account, or a transfer to another registrar", minArgs: 1, maxArgs: 1,
					flags: waitFlag,
					run: nameOp(func(c *client.Client, ctx context.Context, name string) (*client.OperationOutput, error) {
						return c.RejectDomainTransfer(ctx, name, client.CallerReferenceInput{CallerReference: callerRef})
					})},
				{name: "cancel", args: []string{"NAME"}, summary: "withdraw this account's offer or transfer in", minArgs: 1, maxArgs: 1,
					flags: waitFlag,
					run: nameOp(func(c *client.Client, ctx context.Context, name string) (*client.OperationOutput, error) {
						return c.CancelDomainTransfer(ctx, name, client.CallerReferenceInput{CallerReference: callerRef})
					})},
				{name: "list", summary: "the pending transfers that involve this account", maxArgs: 0,
					run: func(ctx context.Context, e *env, _ []string) error {
						c, err := e.Client()
						if err != nil {
							return err
						}
						out, err := c.ListDomainTransfers(ctx, "")
						if err != nil {
							return err
						}
						return e.print(out, func(w io.Writer) {
							row(w, "DOMAIN", "DIRECTION", "OPERATION", "FROM", "TO", "ACT BY")
							for _, p := range out.Transfers {
								row(w, p.Domain, p.Direction, dash(p.OperationID), dash(p.FromAccount+p.LosingRegistrar), dash(p.ToAccount+p.GainingRegistrar), stamp(p.ActBy))
							}
						})
					}},
			}},
			{name: "operations", summary: "registrar operations: list, get, wait", subs: []*command{
				{name: "list", summary: "the newest operations", maxArgs: 0,
					flags: func(fs *flag.FlagSet) { fs.IntVar(&maxItems, "max-items", 20, "at most this many") },
					run: func(ctx context.Context, e *env, _ []string) error {
						c, err := e.Client()
						if err != nil {
							return err
						}
						out, err := c.ListOperations(ctx, &client.ListOperationsInput{MaxItems: maxItems})
						if err != nil {
							return err
						}
						return e.print(out, func(w io.Writer) {
							row(w, "OPERATION", "DOMAIN", "TYPE", "STATUS", "SUBMITTED")
							for _, o := range out.Operations {
								row(w, o.OperationID, o.Domain, o.Type, o.Status, stamp(o.SubmittedAt))
							}
						})
					}},
				{name: "get", args: []string{"ID"}, summary: "one operation", minArgs: 1, maxArgs: 1,
					run: func(ctx context.Context, e *env, args []string) error {
						c, err := e.Client()
						if err != nil {
							return err
						}
						out, err := c.GetOperation(ctx, args[0], nil)
						if err != nil {
							return err
						}
						return e.printOperation(out.Operation)
					}},
				{name: "wait", args: []string{"ID"}, summary: "wait until an operation is done (exit 1 if it FAILED, 3 on timeout)", minArgs: 1, maxArgs: 1,
					run: func(ctx context.Context, e *env, args []string) error {
						op, err := e.waitOperation(ctx, args[0])
						if err != nil {
							return err
						}
						if err := e.printOperation(*op); err != nil {
							return err
						}
						return opFailed(*op)
					}},
			}},
			{name: "verification", args: []string{"NAME"}, summary: "whether the registrant verified their email (--resend mails a new token)", minArgs: 1, maxArgs: 1,
				flags: func(fs *flag.FlagSet) { fs.BoolVar(&wait, "resend", false, "mail the registrant a new token") },
				run: func(ctx context.Context, e *env, args []string) error {
					c, err := e.Client()
					if err != nil {
						return err
					}
					call := c.GetContactVerification
					if wait {
						call = c.ResendContactVerification
					}
					out, err := call(ctx, args[0])
					if err != nil {
						return err
					}
					return e.print(out, func(w io.Writer) {
						row(w, "DOMAIN", "EMAIL", "STATUS", "DUE")
						due := "-"
						if out.DueAt != nil {
							due = stamp(*out.DueAt)
						}
						row(w, out.Domain, dash(out.Email), out.Status, due)
					})
				}},
			{name: "verify", args: []string{"TOKEN"}, summary: "verify a registrant address with the token its mail carried", minArgs: 1, maxArgs: 1,
				run: func(ctx context.Context, e *env, args []string) error {
					c, err := e.Client()
					if err != nil {
						return err
					}
					out, err := c.VerifyContact(ctx, client.VerifyContactInput{Token: args[0]})
					if err != nil {
						return err
					}
					return e.print(out, func(w io.Writer) {
						row(w, "EMAIL", "RELEASED")
						row(w, out.Email, dash(strings.Join(out.ReleasedDomains, ",")))
					})
				}},
		}}
}

// contactFlags are the registrant's flags, or a JSON file of contacts by
// role; and the nameservers of a registration.
type contactFlags struct {
	file                                                              string
	name, org, street, city, state, postalCode, country, phone, email string
	ns                                                                nsList
}

func (f *contactFlags) add(fs *flag.FlagSet) {
	fs.StringVar(&f.file, "contacts", "", "a JSON file of contacts by role (- for standard input)")
	fs.StringVar(&f.name, "name", "", "the registrant's name")
	fs.StringVar(&f.org, "organization", "", "the registrant's organization")
	fs.StringVar(&f.street, "street", "", "the registrant's street address")
	fs.StringVar(&f.city, "city", "", "the registrant's city")
	fs.StringVar(&f.state, "state", "", "the registrant's state or province")
	fs.StringVar(&f.postalCode, "postal-code", "", "the registrant's postal code")
	fs.StringVar(&f.country, "country", "", "the registrant's country, ISO 3166 alpha-2 (GB)")
	fs.StringVar(&f.phone, "phone", "", "the registrant's phone, +CC.NUMBER")
	fs.StringVar(&f.email, "email", "", "the registrant's email address (it gets a verification mail)")
}

// contacts reads --contacts, or builds the registrant from the flags.
func (f *contactFlags) contacts(e *env) (client.Contacts, error) {
	var out client.Contacts
	if f.file != "" {
		var b []byte
		var err error
		if f.file == "-" {
			b, err = io.ReadAll(e.io.Stdin)
		} else {
			b, err = os.ReadFile(f.file)
		}
		if err != nil {
			return out, err
		}
		dec := json.NewDecoder(strings.NewReader(string(b)))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&out); err != nil {
			return out, usagef("--contacts %s: %v", f.file, err)
		}
		if out.Registrant == nil {
			return out, usagef("--contacts %s has no registrant", f.file)
		}
		return out, nil
	}
	if f.name == "" || f.email == "" || f.city == "" || f.country == "" {
		return out, usagef("give --contacts FILE, or the registrant's --name, --email, --city and --country")
	}
	r := &client.Contact{Name: f.name, Organization: f.org, City: f.city, State: f.state, PostalCode: f.postalCode,
		CountryCode: f.country, Voice: f.phone, Email: f.email}
	if f.street != "" {
		r.Street = []string{f.street}
	}
	out.Registrant = r
	return out, nil
}

// nsList is repeated nameservers: name, or name=ip,ip with glue.
type nsList []client.DomainNameserver

func (l *nsList) String() string {
	var s []string
	for _, ns := range *l {
		s = append(s, nsText(ns))
	}
	return strings.Join(s, " ")
}

func (l *nsList) Set(v string) error {
	name, ips, glued := strings.Cut(v, "=")
	if name == "" || strings.ContainsAny(name, " ,") {
		return fmt.Errorf("nameserver %q: want name or name=ip,ip", v)
	}
	ns := client.DomainNameserver{Name: name}
	if glued {
		for _, ip := range strings.Split(ips, ",") {
			if ip = strings.TrimSpace(ip); ip != "" {
				ns.GlueIPs = append(ns.GlueIPs, ip)
			}
		}
	}
	*l = append(*l, ns)
	return nil
}

func nsText(ns client.DomainNameserver) string {
	if len(ns.GlueIPs) == 0 {
		return ns.Name
	}
	return ns.Name + "=" + strings.Join(ns.GlueIPs, ",")
}

// not is a pointer to !b, for the SDK's optional booleans.
func not(b bool) *bool {
	v := !b
	return &v
}

// price formats minor units: 1000 USD is "10.00 USD".
func price(minor int64, currency string) string {
	if currency == "" {
		return strconv.FormatInt(minor, 10)
	}
	return fmt.Sprintf("%d.%02d %s", minor/100, minor%100, currency)
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// printOperation prints one registrar operation.
func (e *env) printOperation(op client.Operation) error {
	return e.print(client.OperationOutput{Operation: op}, func(w io.Writer) {
		row(w, "OPERATION", "DOMAIN", "TYPE", "STATUS", "FLAG", "MESSAGE")
		row(w, op.OperationID, op.Domain, op.Type, op.Status, dash(op.StatusFlag), dash(op.Message))
	})
}

// waitOperation waits until an operation is done: DefaultWait unless the
// command has a --timeout; a wait that ends first is a timeoutError.
func (e *env) waitOperation(ctx context.Context, id string) (*client.Operation, error) {
	c, err := e.Client()
	if err != nil {
		return nil, err
	}
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, DefaultWait)
		defer cancel()
	}
	line := e.statusLine("waiting for operation " + id)
	defer line.stop()
	start := e.io.Now()
	op, err := c.WaitOperation(ctx, id)
	if ctx.Err() != nil && (err == nil || errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled)) {
		msg := fmt.Sprintf("operation %s is not done after %s", id, e.io.Now().Sub(start).Round(1e9))
		if op != nil {
			msg += ": " + op.Status
		}
		return nil, timeoutError{msg}
	}
	return op, err
}

// opFailed is the error of an operation that ended FAILED or ERROR.
func opFailed(op client.Operation) error {
	if op.Status == client.OperationFailed || op.Status == client.OperationError {
		return fmt.Errorf("operation %s %s: %s", op.OperationID, op.Status, op.Message)
	}
	return nil
}
