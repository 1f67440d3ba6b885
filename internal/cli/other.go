package cli

import (
	"context"
	"flag"
	"fmt"
	"io"
	"strings"

	"github.com/waymark-dns/waymark/client"
)

func healthChecksCommand() *command {
	var cfg client.HealthCheckConfig
	var regions, children, callerRef string
	var threshold int
	oneID := func(name, summary string, run func(ctx context.Context, e *env, c *client.Client, id string) error) *command {
		return &command{name: name, args: []string{"ID"}, summary: summary, minArgs: 1, maxArgs: 1,
			run: func(ctx context.Context, e *env, args []string) error {
				c, err := e.Client()
				if err != nil {
					return err
				}
				return run(ctx, e, c, args[0])
			}}
	}
	return &command{name: "healthchecks", summary: "health checks: list, create, get, update, delete, status, history",
		subs: []*command{
			{name: "list", summary: "list the health checks", maxArgs: 0,
				run: func(ctx context.Context, e *env, _ []string) error {
					c, err := e.Client()
					if err != nil {
						return err
					}
					checks := []client.HealthCheck{}
					for hc, err := range c.HealthChecks(ctx, nil) {
						if err != nil {
							return err
						}
						checks = append(checks, hc)
					}
					return e.print(checks, func(w io.Writer) {
						row(w, "ID", "TYPE", "TARGET", "STATUS", "SINCE")
						for _, hc := range checks {
							row(w, hc.ID, hc.Config.Type, target(hc.Config), hc.Status, stamp(hc.StatusChangedAt))
						}
					})
				}},
			{name: "create", summary: "create a health check", maxArgs: 0,
				long: "For example: waymark healthchecks create --type HTTP --ip 192.0.2.1 --port 80 --path /health",
				flags: func(fs *flag.FlagSet) {
					fs.StringVar(&cfg.Type, "type", "HTTP", "HTTP, HTTPS, HTTP_STR_MATCH, HTTPS_STR_MATCH, TCP or CALCULATED")
					fs.StringVar(&cfg.IPAddress, "ip", "", "the address to probe (without it, --fqdn is resolved)")
					fs.StringVar(&cfg.FQDN, "fqdn", "", "the Host header and SNI name; the target without --ip")
					fs.IntVar(&cfg.Port, "port", 0, "the port (default 80 or 443; required for TCP)")
					fs.StringVar(&cfg.ResourcePath, "path", "", "the HTTP path")
					fs.StringVar(&cfg.SearchString, "search", "", "*_STR_MATCH: the string the body must contain")
					fs.IntVar(&cfg.RequestInterval, "interval", 0, "seconds between probes: 10 or 30 (default 30)")
					fs.IntVar(&cfg.FailureThreshold, "failure-threshold", 0, "failures before the status changes (default 3)")
					fs.BoolVar(&cfg.Inverted, "inverted", false, "report the opposite of what the probes see")
					fs.BoolVar(&cfg.EnableSNI, "sni", false, "send SNI (HTTPS)")
					fs.StringVar(&regions, "regions", "", "comma-separated regions that probe (default every region)")
					fs.StringVar(&children, "children", "", "CALCULATED: comma-separated child health check ids")
					fs.IntVar(&threshold, "health-threshold", -1, "CALCULATED: healthy children needed")
					fs.StringVar(&callerRef, "caller-reference", "", "makes a retry safe (default: random)")
				},
				run: func(ctx context.Context, e *env, _ []string) error {
					c, err := e.Client()
					if err != nil {
						return err
					}
					cfg.Type = strings.ToUpper(cfg.Type)
					cfg.Regions, cfg.ChildHealthChecks = splitComma(regions), splitComma(children)
					if threshold >= 0 {
						cfg.HealthThreshold = client.Ptr(threshold)
					}
					out, err := c.CreateHealthCheck(ctx, client.CreateHealthCheckInput{CallerReference: callerRef, Config: cfg})
					if err != nil {
						return err
					}
					return e.print(out, func(w io.Writer) { printHealthCheck(w, out.HealthCheck) })
				}},
			oneID("get", "show a health check", func(ctx context.Context, e *env, c *client.Client, id string) error {
				out, err := c.GetHealthCheck(ctx, id)
				if err != nil {
					return err
				}
				return e.print(out, func(w io.Writer) { printHealthCheck(w, out.HealthCheck) })
			}),
			updateHealthCheckCommand(),
			oneID("delete", "delete a health check (not while a record set uses it)", func(ctx context.Context, e *env, c *client.Client, id string) error {
				if err := c.DeleteHealthCheck(ctx, id); err != nil {
					return err
				}
				return e.print(map[string]string{"deleted": id}, func(w io.Writer) { row(w, "DELETED", id) })
			}),
			oneID("status", "show a check's status and each region's last observation", func(ctx context.Context, e *env, c *client.Client, id string) error {
				out, err := c.GetHealthCheckStatus(ctx, id)
				if err != nil {
					return err
				}
				return e.print(out, func(w io.Writer) {
					row(w, "STATUS", out.Status, "since "+stamp(out.StatusChangedAt), "")
					row(w, "REGION", "STATUS", "CHECKED", "REASON")
					for _, k := range out.Checkers {
						row(w, k.Region, k.Status, stamp(k.CheckedAt), k.Reason)
					}
				})
			}),
			oneID("history", "list a check's status transitions, newest first", func(ctx context.Context, e *env, c *client.Client, id string) error {
				list := []client.HealthTransition{}
				for tr, err := range c.HealthCheckTransitions(ctx, id, nil) {
					if err != nil {
						return err
					}
					list = append(list, tr)
				}
				return e.print(list, func(w io.Writer) {
					row(w, "AT", "STATUS", "REASON")
					for _, tr := range list {
						row(w, stamp(tr.At), tr.Status, tr.Reason)
					}
				})
			}),
		}}
}

func target(c client.HealthCheckConfig) string {
	if c.Type == client.HealthCheckCalculated {
		return fmt.Sprintf("%d children", len(c.ChildHealthChecks))
	}
	host := firstNonEmpty(c.IPAddress, c.FQDN)
	if strings.Contains(host, ":") {
		host = "[" + host + "]"
	}
	s := host
	if c.Port != 0 {
		s += fmt.Sprintf(":%d", c.Port)
	}
	return s + c.ResourcePath
}

func printHealthCheck(w io.Writer, hc client.HealthCheck) {
	row(w, "ID", hc.ID)
	row(w, "TYPE", hc.Config.Type)
	row(w, "TARGET", target(hc.Config))
	row(w, "STATUS", hc.Status)
	row(w, "SINCE", stamp(hc.StatusChangedAt))
	row(w, "VERSION", hc.Version)
	row(w, "INTERVAL", hc.Config.RequestInterval)
	row(w, "FAILURE THRESHOLD", hc.Config.FailureThreshold)
	if len(hc.Config.Regions) > 0 {
		row(w, "REGIONS", strings.Join(hc.Config.Regions, " "))
	}
}

func splitComma(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

func keysCommand() *command {
	var description string
	return &command{name: "keys", summary: "API keys: list, create, delete, token",
		subs: []*command{
			{name: "list", summary: "list the API keys (without secrets)", maxArgs: 0,
				run: func(ctx context.Context, e *env, _ []string) error {
					c, err := e.Client()
					if err != nil {
						return err
					}
					out, err := c.ListAPIKeys(ctx)
					if err != nil {
						return err
					}
					return e.print(out.APIKeys, func(w io.Writer) {
						row(w, "ID", "DESCRIPTION", "CREATED", "LAST USED")
						for _, k := range out.APIKeys {
							used := "-"
							if k.LastUsedAt != nil {
								used = stamp(*k.LastUsedAt)
							}
							row(w, k.ID, k.Description, stamp(k.CreatedAt), used)
						}
					})
				}},
			{name: "create", summary: "create an API key and print its token (shown only once)", maxArgs: 0,
				flags: func(fs *flag.FlagSet) { fs.StringVar(&description, "description", "", "what the key is for") },
				run: func(ctx context.Context, e *env, _ []string) error {
					c, err := e.Client()
					if err != nil {
						return err
					}
					out, err := c.CreateAPIKey(ctx, client.CreateAPIKeyInput{Description: description})
					if err != nil {
						return err
					}
					return e.print(out, func(w io.Writer) {
						row(w, "ID", out.APIKey.ID)
						row(w, "DESCRIPTION", out.APIKey.Description)
						row(w, "TOKEN", out.APIKey.Token)
					})
				}},
			{name: "token", summary: "issue a short-lived bearer token (a JWT) for the key in use", maxArgs: 0,
				run: func(ctx context.Context, e *env, _ []string) error {
					c, err := e.Client()
					if err != nil {
						return err
					}
					out, err := c.CreateToken(ctx)
					if err != nil {
						return err
					}
					return e.print(out, func(w io.Writer) {
						row(w, "TOKEN", out.Token)
						row(w, "EXPIRES", stamp(out.ExpiresAt))
					})
				}},
			{name: "delete", args: []string{"ID"}, summary: "delete an API key and revoke its tokens (not the last one)", minArgs: 1, maxArgs: 1,
				run: func(ctx context.Context, e *env, args []string) error {
					c, err := e.Client()
					if err != nil {
						return err
					}
					if err := c.DeleteAPIKey(ctx, args[0]); err != nil {
						return err
					}
					return e.print(map[string]string{"deleted": args[0]}, func(w io.Writer) { row(w, "DELETED", args[0]) })
				}},
		}}
}

func nameserversCommand() *command {
	return &command{name: "nameservers", summary: "the nameserver fleet (operator token: WAYMARK_ADMIN_TOKEN)",
		subs: []*command{
			{name: "list", summary: "list the nameservers as the fleet trackers see them", maxArgs: 0,
				long: "Needs the operator's token: WAYMARK_ADMIN_TOKEN (dev.env sets it) or --api-key.",
				run: func(ctx context.Context, e *env, _ []string) error {
					e.admin = true
					c, err := e.Client()
					if err != nil {
						return err
					}
					out, err := c.ListNameservers(ctx)
					if err != nil {
						return err
					}
					return e.print(out.Nameservers, func(w io.Writer) {
						row(w, "NODE", "REGION", "LIVE", "READY", "APPLIED", "LAG", "ZONES", "LAST HEARTBEAT")
						for _, n := range out.Nameservers {
							row(w, n.NodeID, n.Region, n.Live, n.Ready, n.AppliedSeq, n.Lag, n.Zones, stamp(n.LastHeartbeat))
						}
					})
				}},
		}}
}

func testAnswerCommand() *command {
	var clientIP, ecs string
	return &command{name: "test-answer", args: []string{"ZONE", "NAME", "TYPE"}, minArgs: 3, maxArgs: 3,
		summary: "ask a nameserver what it would answer, and why",
		flags: func(fs *flag.FlagSet) {
			fs.StringVar(&clientIP, "client-ip", "", "the resolver's address")
			fs.StringVar(&ecs, "ecs", "", "an EDNS client subnet (a prefix, or an address)")
		},
		run: func(ctx context.Context, e *env, args []string) error {
			c, id, err := e.zone(ctx, args[0])
			if err != nil {
				return err
			}
			zoneName, err := e.zoneName(ctx, c, args[0], id)
			if err != nil {
				return err
			}
			out, err := c.TestAnswer(ctx, id, client.TestAnswerInput{Name: absolute(args[1], zoneName), Type: strings.ToUpper(args[2]), ClientIP: clientIP, ECS: ecs})
			if err != nil {
				return err
			}
			return e.print(out, func(w io.Writer) {
				fmt.Fprintf(w, "%s %s: %s from %s (zone version %d)\n", out.RecordName, out.RecordType, out.ResponseCode, out.Nameserver, out.ZoneVersion)
				for _, r := range out.Records {
					row(w, r.Name, r.TTL, "IN", r.Type, r.Data)
				}
				if len(out.Explanation) > 0 {
					fmt.Fprintln(w, "why:")
					for _, x := range out.Explanation {
						fmt.Fprintf(w, "  %s\n", x)
					}
				}
			})
		}}
}

// updateHealthCheckCommand is `healthchecks update ID`: the flags given
// change, the others stay (an UpdateHealthCheck of only those fields).
func updateHealthCheckCommand() *command {
	var in client.UpdateHealthCheckInput
	var version int64
	var ip, fqdn, path, search, regions, children, reset string
	var port, failures, threshold int
	var inverted, disabled, sni bool
	var fs *flag.FlagSet
	return &command{name: "update", args: []string{"ID"}, summary: "change a health check's settings (only the flags given)", minArgs: 1, maxArgs: 1,
		long: "type, interval and whether the check has an --ip cannot change.",
		flags: func(f *flag.FlagSet) {
			fs = f
			f.Int64Var(&version, "version", 0, "apply only at this version")
			f.StringVar(&ip, "ip", "", "the address to probe")
			f.StringVar(&fqdn, "fqdn", "", "the Host header and SNI name")
			f.IntVar(&port, "port", 0, "the port")
			f.StringVar(&path, "path", "", "the HTTP path")
			f.StringVar(&search, "search", "", "the string the body must contain")
			f.IntVar(&failures, "failure-threshold", 0, "failures before the status changes")
			f.BoolVar(&inverted, "inverted", false, "report the opposite of what the probes see")
			f.BoolVar(&disabled, "disabled", false, "stop probing (the status stays healthy)")
			f.BoolVar(&sni, "sni", false, "send SNI (HTTPS)")
			f.StringVar(&regions, "regions", "", "comma-separated regions that probe")
			f.StringVar(&children, "children", "", "CALCULATED: comma-separated child health check ids")
			f.IntVar(&threshold, "health-threshold", 0, "CALCULATED: healthy children needed")
			f.StringVar(&reset, "reset", "", "comma-separated fields back to their defaults: fqdn, regions, resource_path, child_health_checks")
		},
		run: func(ctx context.Context, e *env, args []string) error {
			c, err := e.Client()
			if err != nil {
				return err
			}
			fs.Visit(func(f *flag.Flag) {
				switch f.Name {
				case "version":
					in.Version = client.Ptr(version)
				case "ip":
					in.IPAddress = client.Ptr(ip)
				case "fqdn":
					in.FQDN = client.Ptr(fqdn)
				case "port":
					in.Port = client.Ptr(port)
				case "path":
					in.ResourcePath = client.Ptr(path)
				case "search":
					in.SearchString = client.Ptr(search)
				case "failure-threshold":
					in.FailureThreshold = client.Ptr(failures)
				case "inverted":
					in.Inverted = client.Ptr(inverted)
				case "disabled":
					in.Disabled = client.Ptr(disabled)
				case "sni":
					in.EnableSNI = client.Ptr(sni)
				case "regions":
					in.Regions = client.Ptr(splitComma(regions))
				case "children":
					in.ChildHealthChecks = client.Ptr(splitComma(children))
				case "health-threshold":
					in.HealthThreshold = client.Ptr(threshold)
				case "reset":
					in.ResetElements = splitComma(reset)
				}
			})
			out, err := c.UpdateHealthCheck(ctx, args[0], in)
			if err != nil {
				return err
			}
			return e.print(out, func(w io.Writer) { printHealthCheck(w, out.HealthCheck) })
		}}
}
