// Command waymark runs every part of Waymark, a managed authoritative DNS
// service: the API, the nameservers, the database migrations and the
// operator commands. `waymark dev` runs all of it in one process. The
// tenant commands (zones, records, changes, …) are the command line of
// internal/cli, a client of the API.
package main

import (
	"context"
	"fmt"
	"maps"
	"os"
	"os/signal"
	"slices"
	"syscall"

	"github.com/waymark-dns/waymark/internal/cli"
)

const usageFormat = `usage: waymark <command> [flags]

commands:
  dev          run everything in one process for a laptop (API, relay, embedded NATS, nameservers)
  api          run the API server (with the outbox relay and the fleet tracker)
  nameserver   run an authoritative nameserver fed over NATS JetStream
  registry     serve the built-in registry to registrars: EPP over TLS and RDAP
  healthchecker  probe health checks from one region and publish what it sees
  migrate      apply database migrations: migrate up|down|status
  tenant       operator commands: tenant create NAME

tenant commands (clients of the API at $WAYMARK_API with $WAYMARK_API_KEY;
source .waymark/dev.env after make run):
%s
Run 'waymark <command> -h' for a command's flags. Settings come from flags
and WAYMARK_* environment variables (see README.md).
`

func main() {
	usage := fmt.Sprintf(usageFormat, cli.Usage())
	if len(os.Args) < 2 {
		fmt.Fprint(os.Stderr, usage)
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	cmds := map[string]func(context.Context, []string) error{
		"dev":           runDev,
		"api":           runAPI,
		"nameserver":    runNameserver,
		"registry":      runRegistry,
		"healthchecker": runHealthchecker,
		"migrate":       runMigrate,
		"tenant":        runTenant,
	}
	name, args := os.Args[1], os.Args[2:]
	if name == "-h" || name == "--help" || name == "help" {
		fmt.Print(usage)
		return
	}
	if cli.Handles(name) {
		os.Exit(cli.Main(ctx, os.Args[1:], cli.SystemIO(), slices.Sorted(maps.Keys(cmds))))
	}
	cmd, ok := cmds[name]
	if !ok {
		fmt.Fprintf(os.Stderr, "waymark: unknown command %q\n\n%s", name, usage)
		os.Exit(2)
	}
	if err := cmd(ctx, args); err != nil {
		fmt.Fprintf(os.Stderr, "waymark %s: %v\n", name, err)
		os.Exit(1)
	}
}
