// Command natsnode runs one node of a NATS JetStream cluster as its own
// process, for the fleet harness (internal/fleet): the nats-server of
// go.mod, so that the harness tests the server version the tests embed
// (Debian's nats-server is older, 2.9).
package main

import (
	"flag"
	"fmt"
	"net"
	"net/url"
	"os"
	"strconv"
	"strings"

	"github.com/nats-io/nats-server/v2/server"
)

func main() {
	name := flag.String("name", "n1", "server name, unique in the cluster")
	listen := flag.String("listen", "127.0.0.1:4222", "client address")
	cluster := flag.String("cluster", "127.0.0.1:6222", "route address")
	routes := flag.String("routes", "", "route addresses of the other nodes, comma-separated host:port")
	store := flag.String("store", "", "JetStream storage directory")
	flag.Parse()
	if err := run(*name, *listen, *cluster, *routes, *store); err != nil {
		fmt.Fprintf(os.Stderr, "natsnode: %v\n", err)
		os.Exit(1)
	}
}

func hostPort(addr string) (string, int, error) {
	h, p, err := net.SplitHostPort(addr)
	if err != nil {
		return "", 0, err
	}
	n, err := strconv.Atoi(p)
	return h, n, err
}

func run(name, listen, cluster, routes, store string) error {
	if store == "" {
		return fmt.Errorf("-store is required")
	}
	h, p, err := hostPort(listen)
	if err != nil {
		return fmt.Errorf("-listen: %w", err)
	}
	ch, cp, err := hostPort(cluster)
	if err != nil {
		return fmt.Errorf("-cluster: %w", err)
	}
	var rs []*url.URL
	for _, r := range strings.Split(routes, ",") {
		if r = strings.TrimSpace(r); r != "" {
			rs = append(rs, &url.URL{Scheme: "nats-route", Host: r})
		}
	}
	opts := &server.Options{
		ServerName: name,
		Host:       h,
		Port:       p,
		JetStream:  true,
		StoreDir:   store,
		// NoAdvertise: a client given one node (through a region's link)
		// must not learn the others' addresses and bypass the link.
		Cluster: server.ClusterOpts{Name: "waymark-fleet", Host: ch, Port: cp, NoAdvertise: true},
		Routes:  rs,
		Logtime: true, // the fault tests read when elections happened
	}
	s, err := server.NewServer(opts)
	if err != nil {
		return err
	}
	s.ConfigureLogger()
	// Run handles SIGINT/SIGTERM (a clean shutdown); the harness's kill -9
	// is the crash.
	if err := server.Run(s); err != nil {
		return err
	}
	s.WaitForShutdown()
	return nil
}
