// Command natsnode runs one NATS server as its own process, for the fleet
// harness (internal/fleet): a node of the hub's JetStream cluster
// (-cluster, -routes, -store, and -leaf-listen for the regions' leaf
// nodes), or a region's leaf node (-leaf-remote: no JetStream, no
// cluster; its clients reach the hub's JetStream through it). It is the
// nats-server of go.mod, so that the harness tests the server version the
// tests embed (Debian's nats-server is older, 2.9).
package main

import (
	"flag"
	"fmt"
	"net"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/nats-io/nats-server/v2/server"
)

func main() {
	name := flag.String("name", "n1", "server name, unique in the cluster")
	listen := flag.String("listen", "127.0.0.1:4222", "client address")
	cluster := flag.String("cluster", "127.0.0.1:6222", "route address")
	routes := flag.String("routes", "", "route addresses of the other nodes, comma-separated host:port")
	store := flag.String("store", "", "JetStream storage directory")
	leafListen := flag.String("leaf-listen", "", "address the hub node accepts leaf node connections on (host:port)")
	leafRemote := flag.String("leaf-remote", "", "run as a leaf node of the hub at these leaf addresses, comma-separated host:port (no JetStream, no cluster)")
	domain := flag.String("js-domain", "", "the hub's JetStream domain, which leaf nodes' clients reach it by (-leaf-remote's -js-domain names it)")
	ping := flag.Duration("ping-interval", 0, "interval of the server's pings to its connections, leaf connections included (0: nats-server's 2 min); two unanswered close the connection")
	flag.Parse()
	o := node{name: *name, listen: *listen, cluster: *cluster, routes: *routes, store: *store,
		leafListen: *leafListen, leafRemote: *leafRemote, domain: *domain, ping: *ping}
	if err := o.run(); err != nil {
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

// node is one server's settings (the flags).
type node struct {
	name, listen, cluster, routes, store string
	leafListen, leafRemote, domain       string
	ping                                 time.Duration
}

// urls parses comma-separated host:port addresses into URLs of scheme.
func urls(scheme, list string) []*url.URL {
	var out []*url.URL
	for _, r := range strings.Split(list, ",") {
		if r = strings.TrimSpace(r); r != "" {
			out = append(out, &url.URL{Scheme: scheme, Host: r})
		}
	}
	return out
}

func (o node) options() (*server.Options, error) {
	h, p, err := hostPort(o.listen)
	if err != nil {
		return nil, fmt.Errorf("-listen: %w", err)
	}
	opts := &server.Options{
		ServerName: o.name,
		Host:       h,
		Port:       p,
		Logtime:    true, // the fault tests read when elections and disconnections happened
	}
	if o.ping > 0 {
		opts.PingInterval, opts.MaxPingsOut = o.ping, 2
	}
	if o.leafRemote != "" {
		// A region's leaf node: its clients' JetStream API requests and
		// subscriptions go to the hub over the one leaf connection; it
		// keeps no state of its own, so a region cut off from the hub
		// has nothing to elect.
		if o.store != "" || o.routes != "" || o.leafListen != "" {
			return nil, fmt.Errorf("-leaf-remote runs a leaf node: no -store, -routes or -leaf-listen")
		}
		if o.domain == "" {
			return nil, fmt.Errorf("-leaf-remote needs the hub's -js-domain")
		}
		// A leaf node without JetStream denies its clients the JetStream
		// API over the leaf connection unless told where JetStream is:
		// the default domain maps their $JS.API.> to $JS.<domain>.API.>,
		// which the hub answers, so clients need no domain of their own.
		opts.JsAccDefaultDomain = map[string]string{server.DEFAULT_GLOBAL_ACCOUNT: o.domain}
		opts.LeafNode = server.LeafNodeOpts{
			ReconnectInterval: time.Second,
			Remotes:           []*server.RemoteLeafOpts{{URLs: urls("nats-leaf", o.leafRemote)}},
		}
		return opts, nil
	}
	if o.store == "" {
		return nil, fmt.Errorf("-store is required")
	}
	ch, cp, err := hostPort(o.cluster)
	if err != nil {
		return nil, fmt.Errorf("-cluster: %w", err)
	}
	opts.JetStream, opts.StoreDir, opts.JetStreamDomain = true, o.store, o.domain
	// NoAdvertise: a client given one node (through a region's link)
	// must not learn the others' addresses and bypass the link.
	opts.Cluster = server.ClusterOpts{Name: "waymark-fleet", Host: ch, Port: cp, NoAdvertise: true}
	opts.Routes = urls("nats-route", o.routes)
	if o.leafListen != "" {
		lh, lp, err := hostPort(o.leafListen)
		if err != nil {
			return nil, fmt.Errorf("-leaf-listen: %w", err)
		}
		// NoAdvertise for the same reason: a leaf node must reach the
		// hub through its region's links only.
		opts.LeafNode = server.LeafNodeOpts{Host: lh, Port: lp, NoAdvertise: true}
	}
	return opts, nil
}

func (o node) run() error {
	opts, err := o.options()
	if err != nil {
		return err
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
