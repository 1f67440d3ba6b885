package dataplane

import (
	"context"
	"time"
)

// Memory after a load. Decoding a snapshot or a cache leaves garbage
// about the size of the zones themselves (decoded record sets, read
// buffers, the builders' staging), and the Go runtime keeps the heap it
// grew to: with the default GOGC it collects when the heap doubles and
// gives pages back to the operating system only slowly. A nameserver is
// quiet after its load, so without help it would sit at its peak for
// good. The node therefore asks the runtime to collect and return what is
// free (NodeConfig.ReleaseMemory, debug.FreeOSMemory) once the initial
// sync is done and after large changes, in the background and only once
// things have been quiet for ReleaseDelay, so that a burst of changes
// costs one collection and the first answers are not held back.

// releaseDue records that sets record sets were installed or changed
// (negative: a release is due regardless, as after the initial sync) and
// wakes the memory loop when a release is due.
func (n *Node) releaseDue(sets int) {
	if n.cfg.ReleaseAfter < 0 {
		return
	}
	n.mu.Lock()
	if sets < 0 {
		n.churn = n.cfg.ReleaseAfter
	} else {
		n.churn += sets
	}
	due := n.churn >= n.cfg.ReleaseAfter
	n.mu.Unlock()
	if due {
		select {
		case n.releaseWake <- struct{}{}:
		default:
		}
	}
}

// memoryLoop runs due releases once the node has been quiet (no further
// large work) for ReleaseDelay.
func (n *Node) memoryLoop(ctx context.Context) {
	for {
		select {
		case <-ctx.Done():
			return
		case <-n.releaseWake:
		}
		quiet := time.NewTimer(n.cfg.ReleaseDelay)
	wait:
		for {
			select {
			case <-ctx.Done():
				quiet.Stop()
				return
			case <-n.releaseWake:
				quiet.Reset(n.cfg.ReleaseDelay)
			case <-quiet.C:
				break wait
			}
		}
		n.mu.Lock()
		n.churn = 0
		n.mu.Unlock()
		n.cfg.ReleaseMemory()
		n.log.Debug("returned free memory to the operating system")
	}
}
