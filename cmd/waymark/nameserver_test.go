package main

import (
	"fmt"
	"testing"

	"github.com/waymark-dns/waymark/nspool"
)

func TestNameserverPlan(t *testing.T) {
	withAddrs, err := nspool.Parse("ns1.w.test.=127.0.0.1/::1,ns2.w.test.=127.0.0.2,ns3.w.test.=127.0.0.3", 0)
	if err != nil {
		t.Fatal(err)
	}
	names, _ := nspool.Parse("ns1.w.test.,ns2.w.test.", 0)
	partial, _ := nspool.Parse("ns1.w.test.=127.0.0.1,ns2.w.test.", 0)
	for _, tc := range []struct {
		pool  nspool.Pool
		serve []string
		want  string
	}{
		{names, nil, "[] [{127.0.0.1:5300  0}]"},
		{names, []string{"ns1"}, "error: --serve needs the pool names' addresses in WAYMARK_NAMESERVERS"},
		{withAddrs, nil, "[ns1.w.test. ns2.w.test. ns3.w.test.] [{127.0.0.1:5300 ns1.w.test. 0} {[::1]:5300 ns1.w.test. 0} {127.0.0.2:5300 ns2.w.test. 1} {127.0.0.3:5300 ns3.w.test. 2}]"},
		{withAddrs, []string{"ns3", "ns2.w.test."}, "[ns2.w.test. ns3.w.test.] [{127.0.0.2:5300 ns2.w.test. 0} {127.0.0.3:5300 ns3.w.test. 1}]"},
		{withAddrs, []string{"ns9"}, `error: nspool: "ns9" is not a name of the pool (ns1.w.test., ns2.w.test., ns3.w.test.)`},
		{partial, nil, "error: pool name ns2.w.test. has no address to listen on"},
		{partial, []string{"ns1"}, "[ns1.w.test.] [{127.0.0.1:5300 ns1.w.test. 0}]"},
	} {
		o := nameserverOptions{Listen: "127.0.0.1:5300", Pool: tc.pool, Serve: tc.serve}
		served, ls, err := o.plan()
		got := fmt.Sprint(served.Names(), " ", ls)
		if err != nil {
			got = "error: " + err.Error()
		}
		if got != tc.want {
			t.Errorf("plan(%s, %v) =\n%s\nwant\n%s", tc.pool, tc.serve, got, tc.want)
		}
	}
}

func TestDevPool(t *testing.T) {
	p, err := devPool("127.0.0.1", 3)
	if err != nil || p.String() != "ns1.waymark.test.=127.0.0.1,ns2.waymark.test.=127.0.0.2,ns3.waymark.test.=127.0.0.3" || p.SetSize != 3 {
		t.Errorf("devPool = %s (sets of %d), %v", p, p.SetSize, err)
	}
	if _, err := devPool("192.0.2.1", 8); err == nil {
		t.Error("a non-loopback dev pool was accepted")
	}
	if _, err := devPool("127.255.255.254", 8); err == nil {
		t.Error("a dev pool past 127/8 was accepted")
	}
}
