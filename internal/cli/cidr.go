package cli

import (
	"context"
	"flag"
	"io"

	"github.com/waymark-dns/waymark/client"
)

func cidrCommand() *command {
	var location, callerRef string
	var version int64
	withClient := func(run func(ctx context.Context, e *env, c *client.Client, args []string) error) func(context.Context, *env, []string) error {
		return func(ctx context.Context, e *env, args []string) error {
			c, err := e.Client()
			if err != nil {
				return err
			}
			return run(ctx, e, c, args)
		}
	}
	change := func(action string) func(ctx context.Context, e *env, c *client.Client, args []string) error {
		return func(ctx context.Context, e *env, c *client.Client, args []string) error {
			in := client.ChangeCidrCollectionInput{Changes: []client.CidrChange{{LocationName: args[1], Action: action, CIDRList: args[2:]}}}
			if version > 0 {
				in.CollectionVersion = client.Ptr(version)
			}
			out, err := c.ChangeCidrCollection(ctx, args[0], in)
			if err != nil {
				return err
			}
			return e.print(out, func(w io.Writer) {
				row(w, "COLLECTION", out.Collection.ID, out.Collection.Name, "version", out.Collection.Version)
				for _, z := range out.Changes {
					row(w, "ZONE CHANGE", z.HostedZoneID, z.ID, z.Status, "")
				}
			})
		}
	}
	versionFlag := func(fs *flag.FlagSet) {
		fs.Int64Var(&version, "version", 0, "apply only at this collection version")
	}
	printCollection := func(w io.Writer, out *client.CidrCollectionOutput) {
		row(w, "ID", out.Collection.ID)
		row(w, "NAME", out.Collection.Name)
		row(w, "VERSION", out.Collection.Version)
		for _, l := range out.Locations {
			row(w, "LOCATION", l.LocationName, l.BlockCount, "blocks")
		}
	}
	return &command{name: "cidr", summary: "CIDR collections for IP-based routing: list, create, get, delete, put, remove, blocks",
		subs: []*command{
			{name: "list", summary: "list the CIDR collections", maxArgs: 0,
				run: withClient(func(ctx context.Context, e *env, c *client.Client, _ []string) error {
					out, err := c.ListCidrCollections(ctx)
					if err != nil {
						return err
					}
					return e.print(out.CidrCollections, func(w io.Writer) {
						row(w, "ID", "NAME", "VERSION")
						for _, cc := range out.CidrCollections {
							row(w, cc.ID, cc.Name, cc.Version)
						}
					})
				})},
			{name: "create", args: []string{"NAME"}, summary: "create a CIDR collection", minArgs: 1, maxArgs: 1,
				flags: func(fs *flag.FlagSet) {
					fs.StringVar(&callerRef, "caller-reference", "", "makes a retry safe (default: random)")
				},
				run: withClient(func(ctx context.Context, e *env, c *client.Client, args []string) error {
					out, err := c.CreateCidrCollection(ctx, client.CreateCidrCollectionInput{Name: args[0], CallerReference: callerRef})
					if err != nil {
						return err
					}
					return e.print(out, func(w io.Writer) { printCollection(w, out) })
				})},
			{name: "get", args: []string{"ID"}, summary: "show a collection and its locations", minArgs: 1, maxArgs: 1,
				run: withClient(func(ctx context.Context, e *env, c *client.Client, args []string) error {
					out, err := c.GetCidrCollection(ctx, args[0])
					if err != nil {
						return err
					}
					return e.print(out, func(w io.Writer) { printCollection(w, out) })
				})},
			{name: "delete", args: []string{"ID"}, summary: "delete a collection no record set uses", minArgs: 1, maxArgs: 1,
				run: withClient(func(ctx context.Context, e *env, c *client.Client, args []string) error {
					if err := c.DeleteCidrCollection(ctx, args[0]); err != nil {
						return err
					}
					return e.print(map[string]string{"deleted": args[0]}, func(w io.Writer) { row(w, "DELETED", args[0]) })
				})},
			{name: "put", args: []string{"ID", "LOCATION", "CIDR…"}, summary: "add blocks to a location (creating it)", minArgs: 3, maxArgs: -1,
				flags: versionFlag, run: withClient(change(client.CidrActionPut))},
			{name: "remove", args: []string{"ID", "LOCATION", "CIDR…"}, summary: "remove blocks from a location (a location without blocks is gone)", minArgs: 3, maxArgs: -1,
				flags: versionFlag, run: withClient(change(client.CidrActionDeleteIfExists))},
			{name: "blocks", args: []string{"ID"}, summary: "list a collection's blocks", minArgs: 1, maxArgs: 1,
				flags: func(fs *flag.FlagSet) { fs.StringVar(&location, "location", "", "only this location's blocks") },
				run: withClient(func(ctx context.Context, e *env, c *client.Client, args []string) error {
					out, err := c.ListCidrBlocks(ctx, args[0], &client.ListCidrBlocksInput{Location: location})
					if err != nil {
						return err
					}
					return e.print(out.Blocks, func(w io.Writer) {
						row(w, "LOCATION", "CIDR")
						for _, b := range out.Blocks {
							row(w, b.LocationName, b.CIDR)
						}
					})
				})},
		}}
}
