package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/waymark-dns/waymark/client"
)

// completeCommand is the hidden command the completion scripts call.
const completeCommand = "__complete"

// tree is the command tree. Leaves' flag variables live in closures, so
// each call builds a fresh tree.
func tree() *command {
	return &command{name: "waymark", subs: []*command{
		zonesCommand(),
		recordsCommand(),
		changesCommand(),
		healthChecksCommand(),
		keysCommand(),
		nameserversCommand(),
		testAnswerCommand(),
		cidrCommand(),
		dnssecCommand(),
		domainsCommand(),
		completionCommand(),
	}}
}

func zonesCommand() *command {
	var comment, callerRef string
	var wait bool
	var maxItems int
	return &command{name: "zones", summary: "hosted zones: list, create, get, update, delete, export, import",
		long: "ZONE is a zone's id (Z…) or its name (example.com).",
		subs: []*command{
			{name: "list", summary: "list the hosted zones", maxArgs: 0,
				flags: func(fs *flag.FlagSet) {
					fs.IntVar(&maxItems, "page-size", 0, "zones per request (default the server's)")
				},
				run: func(ctx context.Context, e *env, _ []string) error {
					c, err := e.Client()
					if err != nil {
						return err
					}
					zones := []client.HostedZone{}
					for z, err := range c.HostedZones(ctx, &client.ListHostedZonesInput{MaxItems: maxItems}) {
						if err != nil {
							return err
						}
						zones = append(zones, z)
					}
					return e.print(zones, func(w io.Writer) {
						row(w, "ID", "NAME", "RECORD SETS", "VERSION", "COMMENT")
						for _, z := range zones {
							row(w, z.ID, z.Name, z.RecordSetCount, z.Version, z.Comment)
						}
					})
				}},
			{name: "create", args: []string{"NAME"}, summary: "create a hosted zone (with its SOA and NS record sets)", minArgs: 1, maxArgs: 1,
				flags: func(fs *flag.FlagSet) {
					fs.StringVar(&comment, "comment", "", "the zone's comment")
					fs.StringVar(&callerRef, "caller-reference", "", "makes a retry safe (default: random)")
					fs.BoolVar(&wait, "wait", false, "wait until every nameserver serves the zone")
				},
				run: func(ctx context.Context, e *env, args []string) error {
					c, err := e.Client()
					if err != nil {
						return err
					}
					out, err := c.CreateHostedZone(ctx, client.CreateHostedZoneInput{Name: args[0], Comment: comment, CallerReference: callerRef})
					if err != nil {
						return err
					}
					if wait {
						done, err := e.waitChange(ctx, out.Change.ID)
						if done != nil {
							out.Change = done.Change
						}
						if err != nil {
							return err
						}
					}
					return e.print(out, func(w io.Writer) {
						printZone(w, out.HostedZone, &out.DelegationSet)
						row(w, "CHANGE", out.Change.ID+" "+out.Change.Status)
					})
				}},
			{name: "get", args: []string{"ZONE"}, summary: "show a hosted zone and its name servers", minArgs: 1, maxArgs: 1,
				run: func(ctx context.Context, e *env, args []string) error {
					c, id, err := e.zone(ctx, args[0])
					if err != nil {
						return err
					}
					out, err := c.GetHostedZone(ctx, id)
					if err != nil {
						return err
					}
					return e.print(out, func(w io.Writer) { printZone(w, out.HostedZone, out.DelegationSet) })
				}},
			{name: "update", args: []string{"ZONE"}, summary: "change a hosted zone's comment", minArgs: 1, maxArgs: 1,
				flags: func(fs *flag.FlagSet) { fs.StringVar(&comment, "comment", "", "the new comment") },
				run: func(ctx context.Context, e *env, args []string) error {
					c, id, err := e.zone(ctx, args[0])
					if err != nil {
						return err
					}
					out, err := c.UpdateHostedZone(ctx, id, client.UpdateHostedZoneInput{Comment: comment})
					if err != nil {
						return err
					}
					return e.print(out, func(w io.Writer) { printZone(w, out.HostedZone, out.DelegationSet) })
				}},
			{name: "delete", args: []string{"ZONE"}, summary: "delete a hosted zone (only its SOA and NS records may remain)", minArgs: 1, maxArgs: 1,
				flags: func(fs *flag.FlagSet) {
					fs.BoolVar(&wait, "wait", false, "wait until every nameserver has dropped the zone")
				},
				run: func(ctx context.Context, e *env, args []string) error {
					c, id, err := e.zone(ctx, args[0])
					if err != nil {
						return err
					}
					out, err := c.DeleteHostedZone(ctx, id)
					if err != nil {
						return err
					}
					return e.changeResult(ctx, out.Change, wait)
				}},
			{name: "export", args: []string{"ZONE"}, summary: "print the zone as an RFC 1035 master file", minArgs: 1, maxArgs: 1,
				run: func(ctx context.Context, e *env, args []string) error {
					c, id, err := e.zone(ctx, args[0])
					if err != nil {
						return err
					}
					b, err := c.ExportZone(ctx, id)
					if err != nil {
						return err
					}
					if e.output == "json" {
						return e.print(map[string]string{"zone_file": string(b)}, nil)
					}
					_, err = e.io.Stdout.Write(b)
					return err
				}},
			{name: "import", args: []string{"ZONE", "FILE|-"}, minArgs: 2, maxArgs: 2,
				summary: "replace the zone's records with a master file's, as one change batch",
				long:    "Records of the file are UPSERTed and records absent from it deleted (SOA and apex NS excepted).\nErrors are reported with their line numbers. FILE - reads standard input.",
				flags: func(fs *flag.FlagSet) {
					fs.BoolVar(&wait, "wait", false, "wait until every nameserver serves the import")
				},
				run: func(ctx context.Context, e *env, args []string) error {
					c, id, err := e.zone(ctx, args[0])
					if err != nil {
						return err
					}
					b, err := e.readInput(args[1])
					if err != nil {
						return err
					}
					stop := e.spinner(fmt.Sprintf("importing %s (%s)", displayName(args[1]), byteSize(len(b))))
					out, err := c.ImportZone(ctx, id, b)
					stop()
					if err != nil {
						return err
					}
					return e.changeResult(ctx, out.Change, wait)
				}},
		}}
}

func printZone(w io.Writer, z client.HostedZone, ds *client.DelegationSet) {
	row(w, "ID", z.ID)
	row(w, "NAME", z.Name)
	row(w, "RECORD SETS", z.RecordSetCount)
	row(w, "VERSION", z.Version)
	row(w, "COMMENT", z.Comment)
	row(w, "CALLER REFERENCE", z.CallerReference)
	row(w, "CREATED", stamp(z.CreatedAt))
	if ds != nil {
		row(w, "NAME SERVERS", strings.Join(ds.NameServers, " "))
	}
}

// zone resolves ZONE, an id or a name, to a zone id. A name has a dot; an
// id has none.
func (e *env) zone(ctx context.Context, ref string) (*client.Client, string, error) {
	c, err := e.Client()
	if err != nil {
		return nil, "", err
	}
	if !strings.Contains(ref, ".") {
		return c, ref, nil
	}
	name := canonical(ref)
	page, err := c.ListHostedZones(ctx, &client.ListHostedZonesInput{Name: name, MaxItems: 1})
	if err != nil {
		return nil, "", err
	}
	if len(page.HostedZones) == 0 || page.HostedZones[0].Name != name {
		return nil, "", lookupError{code: client.CodeNoSuchHostedZone, msg: "No hosted zone named " + name + " in this account."}
	}
	return c, page.HostedZones[0].ID, nil
}

// canonical lowercases a domain name and gives it its trailing dot.
func canonical(name string) string {
	name = strings.ToLower(name)
	if !strings.HasSuffix(name, ".") {
		name += "."
	}
	return name
}

// readInput reads a file, or standard input for "-".
func (e *env) readInput(path string) ([]byte, error) {
	if path == "-" {
		return io.ReadAll(e.io.Stdin)
	}
	b, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("%s: no such file", path)
	}
	return b, err
}

func displayName(path string) string {
	if path == "-" {
		return "standard input"
	}
	return path
}

func byteSize(n int) string {
	switch {
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.1f KiB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%d bytes", n)
}
