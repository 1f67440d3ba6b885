package main

import (
	"bufio"
	"errors"
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
)

// genViews writes the data set of the views benchmark (bench/run.sh part
// 6): -zones zones of 10 records (SOA, NS, 8 A), each on a delegation set
// of -set of the -names pool names ns1.bench.test. … drawn at random (fixed
// seed), as production assigns them. Files in -out:
//
//	snapshot-views.json  every zone with its set (a node serving all names)
//	snapshot-one.json    the same zones on the one name ns1.bench.test. (one view)
//	snapshot-shard.json  only the zones on a set holding one of the first
//	                     -shard names: what the control plane sends a node
//	                     started with --serve ns1,…
//	zones/, knot-zones.conf  master files and the zone: list for Knot
//	queries-K.txt        dnsperf input for the address of name K (1-based):
//	                     60% A at existing names, 20% NXDOMAIN, 20% NODATA,
//	                     all in zones visible on name K
//	probe.txt            names (in zones on ns1, the last one included)
//	                     whose answers prove the whole data set is loaded
func genViews(args []string) error {
	fs := flag.NewFlagSet("genviews", flag.ContinueOnError)
	zones := fs.Int("zones", 100000, "zones of 10 records")
	names := fs.Int("names", 8, "pool names")
	set := fs.Int("set", 4, "names in a delegation set")
	shard := fs.Int("shard", 2, "names served by the sharded node (the first ones)")
	queries := fs.Int("queries", 50000, "queries per name's query file")
	out := fs.String("out", "", "output directory")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *out == "" || *zones < 1 || *set < 1 || *set > *names || *shard < 1 || *shard > *names {
		return errors.New("-out is required; need 1 <= -set, -shard <= -names, -zones >= 1")
	}
	pool := make([]string, *names)
	for i := range pool {
		pool[i] = fmt.Sprintf("ns%d.bench.test.", i+1)
	}
	zdir := filepath.Join(*out, "zones")
	if err := os.MkdirAll(zdir, 0o755); err != nil {
		return err
	}
	type file struct {
		f *os.File
		w *bufio.Writer
	}
	var files []file
	create := func(name string) (*bufio.Writer, error) {
		f, err := os.Create(filepath.Join(*out, name))
		if err != nil {
			return nil, err
		}
		w := bufio.NewWriterSize(f, 1<<20)
		files = append(files, file{f, w})
		return w, nil
	}
	views, err := create("snapshot-views.json")
	if err != nil {
		return err
	}
	one, err := create("snapshot-one.json")
	if err != nil {
		return err
	}
	shardw, err := create("snapshot-shard.json")
	if err != nil {
		return err
	}
	conf, err := create("knot-zones.conf")
	if err != nil {
		return err
	}
	probe, err := create("probe.txt")
	if err != nil {
		return err
	}
	for _, w := range []*bufio.Writer{views, one, shardw} {
		w.WriteString(`{"seq":1,"zones":[`)
	}
	fmt.Fprintln(conf, "zone:")
	rnd := rand.New(rand.NewPCG(9, 9))
	onName := make([][]int, *names) // zones visible on each name
	shardFirst := true
	var onFirst []int
	for z := range *zones {
		origin := fmt.Sprintf("z%d.example.", z)
		perm := rnd.Perm(*names)[:*set]
		var ns []string
		inShard := false
		for _, p := range perm {
			ns = append(ns, pool[p])
			onName[p] = append(onName[p], z)
			inShard = inShard || p < *shard
			if p == 0 {
				onFirst = append(onFirst, z)
			}
		}
		var body strings.Builder
		fmt.Fprintf(&body, `"tenant_id":"TBENCH","version":1,"rrsets":[`)
		fmt.Fprintf(&body, `{"name":%q,"type":"SOA","ttl":300,"records":["ns1.%s hostmaster.%s 1 7200 900 1209600 300"]},`, origin, origin, origin)
		fmt.Fprintf(&body, `{"name":%q,"type":"NS","ttl":300,"records":["ns1.%s"]}`, origin, origin)
		zf, err := os.Create(filepath.Join(zdir, origin+"zone"))
		if err != nil {
			return err
		}
		zw := bufio.NewWriter(zf)
		fmt.Fprintf(zw, "$ORIGIN %s\n$TTL 300\n@ IN SOA ns1.%s hostmaster.%s 1 7200 900 1209600 300\n@ IN NS ns1.%s\n", origin, origin, origin, origin)
		for i := range 8 {
			ip := fmt.Sprintf("10.%d.%d.%d", z>>16&255, z>>8&255, z&255)
			fmt.Fprintf(zw, "h%d IN A %s\n", i, ip)
			fmt.Fprintf(&body, `,{"name":"h%d.%s","type":"A","ttl":300,"records":[%q]}`, i, origin, ip)
		}
		body.WriteString("]}")
		if err := zw.Flush(); err != nil {
			return err
		}
		if err := zf.Close(); err != nil {
			return err
		}
		fmt.Fprintf(conf, "  - domain: %s\n", origin)
		id := fmt.Sprintf("ZBENCH%07d", z)
		sep := ","
		if z == 0 {
			sep = ""
		}
		fmt.Fprintf(views, `%s{"id":%q,"name":%q,"name_servers":["%s"],%s`, sep, id, origin, strings.Join(ns, `","`), body.String())
		fmt.Fprintf(one, `%s{"id":%q,"name":%q,"name_servers":[%q],%s`, sep, id, origin, pool[0], body.String())
		if inShard {
			sep = ","
			if shardFirst {
				sep, shardFirst = "", false
			}
			fmt.Fprintf(shardw, `%s{"id":%q,"name":%q,"name_servers":["%s"],%s`, sep, id, origin, strings.Join(ns, `","`), body.String())
		}
	}
	for _, w := range []*bufio.Writer{views, one, shardw} {
		w.WriteString("]}\n")
	}
	const probes = 100
	for i, z := range onFirst {
		if i%max(1, len(onFirst)/probes) == 0 || i == len(onFirst)-1 {
			fmt.Fprintf(probe, "h7.z%d.example.\n", z)
		}
	}
	for k, zs := range onName {
		w, err := create(fmt.Sprintf("queries-%d.txt", k+1))
		if err != nil {
			return err
		}
		for range *queries {
			z := zs[rnd.IntN(len(zs))]
			h := rnd.IntN(8)
			switch r := rnd.Float64(); {
			case r < 0.6:
				fmt.Fprintf(w, "h%d.z%d.example. A\n", h, z)
			case r < 0.8:
				fmt.Fprintf(w, "x%d.z%d.example. A\n", h, z)
			default:
				fmt.Fprintf(w, "h%d.z%d.example. AAAA\n", h, z)
			}
		}
	}
	for _, f := range files {
		if err := f.w.Flush(); err != nil {
			return err
		}
		if err := f.f.Close(); err != nil {
			return err
		}
	}
	fmt.Printf("nsmem genviews: %d zones on sets of %d of %d names in %s\n", *zones, *set, *names, *out)
	return nil
}
