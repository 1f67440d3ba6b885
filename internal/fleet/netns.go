package fleet

import (
	"context"
	"errors"
	"fmt"
	"math"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// A regionNet is a far region's own network namespace, joined to the
// machine's by a veth pair on test addresses of 10.213.0.0/16 that it
// creates: the region's processes (its leaf node, nameserver and health
// checker) run inside it, where the only way out is the veth, and the
// hub's servers and APIs are reached through the region's links, which
// listen on the host's end of it. So a region's traffic cannot go
// around its links, whatever a server advertises.
type regionNet struct {
	// Name is the namespace's name (ip netns).
	Name string
	// HostIP is the machine's end of the veth, RegionIP the region's.
	HostIP, RegionIP string
	hostIf, peerIf   string
}

// netnsPrefix starts the name of every namespace a fleet creates,
// followed by the creating process's pid and the region's index.
const netnsPrefix = "wmfleet-"

// newRegionNet creates region i's namespace and veth pair, after deleting
// those left by fleets whose process is gone.
func newRegionNet(ctx context.Context, i int) (*regionNet, error) {
	removeStaleNets(ctx)
	pid := os.Getpid()
	// One /30 per process and region: pid%4000 leaves 4,000 processes
	// apart before two fleets could pick the same one, and that is
	// checked below.
	k := (pid%4000)*4 + i
	base := k * 4
	n := &regionNet{
		Name:     fmt.Sprintf("%s%d-%d", netnsPrefix, pid, i),
		HostIP:   fmt.Sprintf("10.213.%d.%d", base/256, base%256+1),
		RegionIP: fmt.Sprintf("10.213.%d.%d", base/256, base%256+2),
		hostIf:   fmt.Sprintf("wmf%dh%d", pid%100000, i),
		peerIf:   fmt.Sprintf("wmf%dr%d", pid%100000, i),
	}
	peerIf := n.peerIf
	if out, err := ipCmd(ctx, "-4", "-o", "addr", "show", "to", n.HostIP+"/30"); err != nil || out != "" {
		return nil, fmt.Errorf("region network %s: %s/30 is in use or cannot be checked: %q %v", n.Name, n.HostIP, out, err)
	}
	steps := [][]string{
		{"netns", "add", n.Name},
		{"link", "add", n.hostIf, "type", "veth", "peer", "name", peerIf},
		{"link", "set", peerIf, "netns", n.Name},
		{"addr", "add", n.HostIP + "/30", "dev", n.hostIf},
		{"link", "set", n.hostIf, "up"},
		{"netns", "exec", n.Name, "ip", "addr", "add", n.RegionIP + "/30", "dev", peerIf},
		{"netns", "exec", n.Name, "ip", "link", "set", peerIf, "up"},
		{"netns", "exec", n.Name, "ip", "link", "set", "lo", "up"},
	}
	for _, s := range steps {
		if out, err := ipCmd(ctx, s...); err != nil {
			n.Close()
			return nil, fmt.Errorf("region network %s: ip %s: %v: %s", n.Name, strings.Join(s, " "), err, out)
		}
	}
	return n, nil
}

// Close deletes the namespace, and with it the veth pair.
func (n *regionNet) Close() {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	_, _ = ipCmd(ctx, "netns", "delete", n.Name)
	_, _ = ipCmd(ctx, "link", "delete", n.hostIf) // gone with its peer, unless the namespace was not made
}

// regionDNSPort is the port a far region's nameserver answers on, at the
// region's address.
const regionDNSPort = 5300

// SetLoss makes region i's WAN drop share (0 to 1, to a thousandth) of its
// packets each way, at random, until it is set again (0 ends it). The
// region's own TCP connections (its leaf node's, its nameserver's API
// calls) retransmit, as they would over a lossy WAN; DNS questions to the
// region's nameserver are spared. It needs the regions in namespaces
// (Options.LinkDelays, as root).
func (f *Fleet) SetLoss(ctx context.Context, i int, share float64) error {
	if i < 0 || i >= len(f.nets) {
		return fmt.Errorf("fleet: region %d has no network of its own (Options.LinkDelays)", i)
	}
	return f.nets[i].setLoss(ctx, int(math.Round(share*1000)), regionDNSPort)
}

// Dropped returns how many packets region i's loss has seen and dropped,
// out of the region and into it.
func (f *Fleet) Dropped(ctx context.Context, i int) (out, in lossCount, err error) {
	if i < 0 || i >= len(f.nets) {
		return out, in, fmt.Errorf("fleet: region %d has no network of its own (Options.LinkDelays)", i)
	}
	return f.nets[i].dropped(ctx)
}

// lossTable is the nftables table of a region's packet loss.
const lossTable = "waymark_fleet_loss"

// setLoss drops perMille of every thousand packets that cross the veth,
// each way, at random, by nftables in the region's namespace (the kernel
// has no netem); 0 ends the loss. Packets to and from port spare (the
// nameserver's DNS port) are kept: the tests' DNS questions stand for the
// region's own clients, which do not cross the WAN.
func (n *regionNet) setLoss(ctx context.Context, perMille, spare int) error {
	if perMille < 0 || perMille > 1000 {
		return fmt.Errorf("region network %s: loss of %d per mille", n.Name, perMille)
	}
	// Declaring the table first makes the delete succeed on the first call.
	script := fmt.Sprintf("table inet %[1]s\ndelete table inet %[1]s\n", lossTable)
	if perMille > 0 {
		script += fmt.Sprintf(`table inet %[1]s {
	chain out {
		type filter hook output priority 0;
		oifname %[2]q th sport != %[3]d counter
		oifname %[2]q th sport != %[3]d numgen random mod 1000 < %[4]d counter drop
	}
	chain in {
		type filter hook input priority 0;
		iifname %[2]q th dport != %[3]d counter
		iifname %[2]q th dport != %[3]d numgen random mod 1000 < %[4]d counter drop
	}
}
`, lossTable, n.peerIf, spare, perMille)
	}
	cmd := exec.CommandContext(ctx, "ip", "netns", "exec", n.Name, "nft", "-f", "-")
	cmd.Stdin = strings.NewReader(script)
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("region network %s: nft: %v: %s", n.Name, err, strings.TrimSpace(string(out)))
	}
	return nil
}

// lossCount is what a region's loss rules have counted in one direction.
type lossCount struct{ Packets, Dropped int }

// dropped returns what the loss rules have counted (their counters) out
// of the region and into it, so a test can show the loss was real.
func (n *regionNet) dropped(ctx context.Context) (out, in lossCount, err error) {
	cmd := exec.CommandContext(ctx, "ip", "netns", "exec", n.Name, "nft", "list", "table", "inet", lossTable)
	b, err := cmd.CombinedOutput()
	if err != nil {
		return out, in, fmt.Errorf("region network %s: nft list: %v: %s", n.Name, err, strings.TrimSpace(string(b)))
	}
	c := &out
	for _, line := range strings.Split(string(b), "\n") {
		f := strings.Fields(line)
		if len(f) >= 2 && f[0] == "chain" {
			c = &out
			if f[1] == "in" {
				c = &in
			}
		}
		i := slices.Index(f, "packets")
		if i < 0 || i+1 >= len(f) {
			continue
		}
		v, _ := strconv.Atoi(f[i+1])
		if slices.Contains(f, "drop") {
			c.Dropped += v
		} else {
			c.Packets += v
		}
	}
	return out, in, nil
}

// wrap returns bin and args as a command that runs them inside n.
func (n *regionNet) wrap(bin string, args []string) (string, []string) {
	return "ip", append([]string{"netns", "exec", n.Name, bin}, args...)
}

// removeStaleNets deletes the namespaces of fleets whose process has
// exited (killed tests leave theirs behind).
func removeStaleNets(ctx context.Context) {
	out, err := ipCmd(ctx, "netns", "list")
	if err != nil {
		return
	}
	for _, line := range strings.Split(out, "\n") {
		name, _, _ := strings.Cut(strings.TrimSpace(line), " ")
		rest, ok := strings.CutPrefix(name, netnsPrefix)
		if !ok {
			continue
		}
		pidText, _, _ := strings.Cut(rest, "-")
		pid, err := strconv.Atoi(pidText)
		if err != nil || pid == os.Getpid() || processAlive(pid) {
			continue
		}
		_, _ = ipCmd(ctx, "netns", "delete", name)
	}
}

// processAlive reports whether pid is a running process.
func processAlive(pid int) bool {
	err := syscall.Kill(pid, 0)
	return err == nil || errors.Is(err, syscall.EPERM)
}

// ipCmd runs ip(8) with args and returns its trimmed output.
func ipCmd(ctx context.Context, args ...string) (string, error) {
	out, err := exec.CommandContext(ctx, "ip", args...).CombinedOutput()
	return strings.TrimSpace(string(out)), err
}
