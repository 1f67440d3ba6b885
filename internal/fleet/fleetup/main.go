// Command fleetup is `make fleet`: it builds the binaries, starts the
// fleet of internal/fleet (three NATS nodes, two API processes, three
// nameservers and three health checkers in three regions) in
// .waymark/fleet, prints the addresses and runs until Ctrl-C.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"
	"time"

	"github.com/waymark-dns/waymark/internal/fleet"
)

func main() {
	dir := flag.String("dir", ".waymark/fleet", "directory for the data directories and logs (emptied first)")
	base := flag.Int("port-base", 28000, "first port; the fleet takes about a dozen from here")
	flag.Parse()
	if err := run(*dir, *base); err != nil {
		fmt.Fprintf(os.Stderr, "fleet: %v\n", err)
		os.Exit(1)
	}
}

func run(dir string, base int) error {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	dir, err := filepath.Abs(dir)
	if err != nil {
		return err
	}
	if err := os.RemoveAll(dir); err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Join(dir, "bin"), 0o755); err != nil {
		return err
	}
	bin, err := fleet.Build(ctx, filepath.Join(dir, "bin"))
	if err != nil {
		return err
	}
	start := time.Now()
	f, err := fleet.Start(ctx, fleet.Options{Bin: bin, Dir: dir, PortBase: base})
	if err != nil {
		return err
	}
	defer f.Close()
	fmt.Printf("fleet up in %s\n%s\nCtrl-C stops it.\n", time.Since(start).Round(time.Millisecond), f.Describe())
	<-ctx.Done()
	return nil
}
