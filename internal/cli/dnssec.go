package cli

import (
	"context"
	"flag"
	"io"

	"github.com/waymark-dns/waymark/client"
)

// dnssecCommand is `waymark dnssec`: a zone's signing and keys
// (docs/dnssec.md).
func dnssecCommand() *command {
	var wait bool
	var status, callerRef string
	waitFlag := func(fs *flag.FlagSet) {
		fs.BoolVar(&wait, "wait", false, "wait until every nameserver has the change")
	}
	zoneChange := func(op func(c *client.Client, ctx context.Context, id string) (*client.ChangeOutput, error)) func(context.Context, *env, []string) error {
		return func(ctx context.Context, e *env, args []string) error {
			c, id, err := e.zone(ctx, args[0])
			if err != nil {
				return err
			}
			out, err := op(c, ctx, id)
			if err != nil {
				return err
			}
			return e.changeResult(ctx, out.Change, wait)
		}
	}
	kskChange := func(op func(c *client.Client, ctx context.Context, id, name string) (*client.ChangeOutput, error)) func(context.Context, *env, []string) error {
		return func(ctx context.Context, e *env, args []string) error {
			c, id, err := e.zone(ctx, args[0])
			if err != nil {
				return err
			}
			out, err := op(c, ctx, id, args[1])
			if err != nil {
				return err
			}
			return e.changeResult(ctx, out.Change, wait)
		}
	}
	return &command{name: "dnssec", summary: "DNSSEC: status, enable, disable, key-signing keys, ZSK rollover",
		long: "ZONE is a zone's id (Z…) or its name. What to give the registrar is the ds_record that `dnssec get` shows.",
		subs: []*command{
			{name: "get", args: []string{"ZONE"}, summary: "the signing status and the keys", minArgs: 1, maxArgs: 1,
				run: func(ctx context.Context, e *env, args []string) error {
					c, id, err := e.zone(ctx, args[0])
					if err != nil {
						return err
					}
					out, err := c.GetDNSSEC(ctx, id)
					if err != nil {
						return err
					}
					return e.print(out, func(w io.Writer) {
						row(w, "SIGNING", out.Status.ServeSignature)
						row(w, "KIND", "NAME", "TAG", "STATUS", "DS RECORD")
						for _, k := range out.KeySigningKeys {
							row(w, "KSK", k.Name, k.KeyTag, k.Status, k.DSRecord)
						}
						for _, k := range out.ZoneSigningKeys {
							row(w, "ZSK", k.Name, k.KeyTag, k.Status, "")
						}
					})
				}},
			{name: "enable", args: []string{"ZONE"}, summary: "sign the zone (makes a key-signing key if it has none)", minArgs: 1, maxArgs: 1,
				flags: waitFlag, run: zoneChange((*client.Client).EnableDNSSEC)},
			{name: "disable", args: []string{"ZONE"}, summary: "stop signing the zone", minArgs: 1, maxArgs: 1,
				flags: waitFlag, run: zoneChange((*client.Client).DisableDNSSEC)},
			{name: "zsk-rollover", args: []string{"ZONE"}, summary: "start a zone-signing key rollover now", minArgs: 1, maxArgs: 1,
				flags: waitFlag, run: zoneChange((*client.Client).RollZSK)},
			{name: "ksk-create", args: []string{"ZONE", "NAME"}, summary: "add a key-signing key (at most 2)", minArgs: 2, maxArgs: 2,
				flags: func(fs *flag.FlagSet) {
					fs.StringVar(&status, "status", "ACTIVE", "ACTIVE or INACTIVE")
					fs.StringVar(&callerRef, "caller-reference", "", "a unique string, for safe retries")
					waitFlag(fs)
				},
				run: func(ctx context.Context, e *env, args []string) error {
					c, id, err := e.zone(ctx, args[0])
					if err != nil {
						return err
					}
					out, err := c.CreateKeySigningKey(ctx, id, client.CreateKeySigningKeyInput{Name: args[1], Status: status, CallerReference: callerRef})
					if err != nil {
						return err
					}
					if wait {
						if _, err := e.waitChange(ctx, out.Change.ID); err != nil {
							return err
						}
					}
					return e.print(out, func(w io.Writer) {
						row(w, "NAME", "TAG", "STATUS", "DS RECORD", "CHANGE")
						row(w, out.KeySigningKey.Name, out.KeySigningKey.KeyTag, out.KeySigningKey.Status, out.KeySigningKey.DSRecord, out.Change.ID)
					})
				}},
			{name: "ksk-activate", args: []string{"ZONE", "NAME"}, summary: "activate a key-signing key", minArgs: 2, maxArgs: 2,
				flags: waitFlag, run: kskChange((*client.Client).ActivateKeySigningKey)},
			{name: "ksk-deactivate", args: []string{"ZONE", "NAME"}, summary: "deactivate a key-signing key", minArgs: 2, maxArgs: 2,
				flags: waitFlag, run: kskChange((*client.Client).DeactivateKeySigningKey)},
			{name: "ksk-delete", args: []string{"ZONE", "NAME"}, summary: "delete an inactive key-signing key", minArgs: 2, maxArgs: 2,
				flags: waitFlag, run: kskChange((*client.Client).DeleteKeySigningKey)},
		}}
}
