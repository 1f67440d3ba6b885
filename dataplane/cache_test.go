package dataplane

import (
	"bytes"
	"encoding/json"
	"errors"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"

	"github.com/waymark-dns/waymark/event"
	"github.com/waymark-dns/waymark/internal/dnstest"
)

// cacheNode returns a node with a cache in dir and a store holding zones;
// its NATS URL is never dialed by the cache functions.
func cacheNode(t *testing.T, dir string, zones []event.ZoneState) *Node {
	t.Helper()
	s := NewStore()
	for _, z := range zones {
		if err := s.ReplaceZone(z); err != nil && !errors.Is(err, ErrSkippedRecords) {
			t.Fatal(err)
		}
	}
	n, err := NewNode(NodeConfig{NodeID: "c", NATSURL: "nats://127.0.0.1:1", CacheDir: dir, Store: s})
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// storeStates is every zone's state, by id, for comparing stores.
func storeStates(s *Store) map[string]string {
	out := map[string]string{}
	for _, id := range s.ZoneIDs() {
		st, _ := s.ZoneState(id)
		b, _ := json.Marshal(st)
		out[id] = string(b)
	}
	return out
}

// cacheTestZones are the golden zones, the routing zones and an expired
// secondary zone (whose configuration, TSIG key and flag the cache keeps).
func cacheTestZones(t *testing.T) []event.ZoneState {
	sec, _ := secondaryState(t, true)
	return append(append(testZones(t), routingZones()...), sec)
}

func TestCacheRoundTrip(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	src := cacheNode(t, dir, cacheTestZones(t))
	src.mu.Lock()
	src.lastSeq = 42
	src.mu.Unlock()
	if err := src.writeCache(); err != nil {
		t.Fatal(err)
	}
	// The loading store holds a zone the cache does not: it goes.
	dst := cacheNode(t, dir, []event.ZoneState{{ID: "ZGONE", Name: "gone.test.", Version: 1}})
	seq, err := dst.loadCache()
	if err != nil {
		t.Fatal(err)
	}
	if seq != 42 || dst.AppliedSeq() != 42 {
		t.Errorf("seq %d, applied %d, want 42", seq, dst.AppliedSeq())
	}
	want, got := storeStates(src.Store()), storeStates(dst.Store())
	if len(got) != len(want) {
		t.Fatalf("%d zones from the cache, want %d", len(got), len(want))
	}
	for id, w := range want {
		if got[id] != w {
			t.Errorf("zone %s differs after the cache:\n got %s\nwant %s", id, got[id], w)
		}
	}
	// Every golden query is answered byte for byte the same.
	_, cases, err := dnstest.ReadCases("testdata/answers.golden")
	if err != nil {
		t.Fatal(err)
	}
	a, b := newGoldenHandlers(src.Store()), newGoldenHandlers(dst.Store())
	// The same seeded source on both sides: weighted answers match too.
	a.fast.SetRouting(Routing{Rand: rand.New(rand.NewPCG(1, 2))})
	b.fast.SetRouting(Routing{Rand: rand.New(rand.NewPCG(1, 2))})
	for _, c := range cases {
		q, err := dnstest.ParseQuery(c.Query)
		if err != nil {
			t.Fatal(err)
		}
		wire, err := q.Wire()
		if err != nil {
			t.Fatal(err)
		}
		if x, y := a.fast.ServeWire(nil, wire, testClient, q.TCP), b.fast.ServeWire(nil, wire, testClient, q.TCP); !bytes.Equal(x, y) {
			t.Errorf("%s: answer from the cached store differs:\n got %x\nwant %x", c.Name, y, x)
		}
	}
	dst.mu.Lock()
	dirty := dst.dirty
	dst.mu.Unlock()
	if dirty {
		t.Error("a store loaded from the cache is marked for rewriting")
	}
}

func TestCacheRefusesDamage(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	src := cacheNode(t, dir, cacheTestZones(t))
	if err := src.writeCache(); err != nil {
		t.Fatal(err)
	}
	good, err := os.ReadFile(filepath.Join(dir, cacheFile))
	if err != nil {
		t.Fatal(err)
	}
	flip := func(i int) []byte { b := append([]byte(nil), good...); b[i] ^= 0x40; return b }
	cases := map[string][]byte{
		"empty":          {},
		"half":           good[:len(good)/2],
		"no trailer":     good[:len(good)-8],
		"one byte short": good[:len(good)-1],
		"extra byte":     append(append([]byte(nil), good...), 0),
		"flipped header": flip(10),
		"flipped body":   flip(len(good) / 2),
		"flipped crc":    flip(len(good) - 6),
		"format":         flip(5),
	}
	for name, b := range cases {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			d := t.TempDir()
			if err := os.WriteFile(filepath.Join(d, cacheFile), b, 0o644); err != nil {
				t.Fatal(err)
			}
			n := cacheNode(t, d, []event.ZoneState{{ID: "ZKEEP", Name: "keep.test.", Version: 1}})
			if _, err := n.loadCache(); err == nil {
				t.Fatal("a damaged cache was accepted")
			}
			if ids := n.Store().ZoneIDs(); len(ids) != 1 || ids[0] != "ZKEEP" {
				t.Errorf("store changed by a refused cache: %v", ids)
			}
		})
	}
}

// TestCacheMissing: a node without a cache says so and installs nothing,
// so that it keeps waiting for a snapshot instead of serving empty zones.
func TestCacheMissing(t *testing.T) {
	t.Parallel()
	n := cacheNode(t, t.TempDir(), nil)
	if seq, err := n.loadCache(); err == nil || seq != 0 {
		t.Fatalf("empty cache directory: seq %d, %v; want an error", seq, err)
	}
	if n.Store().Len() != 0 || n.AppliedSeq() != 0 {
		t.Errorf("store changed by a missing cache: %d zones, seq %d", n.Store().Len(), n.AppliedSeq())
	}
}
