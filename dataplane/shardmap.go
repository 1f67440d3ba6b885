package dataplane

import (
	"hash/maphash"
	"maps"
)

// shardMap is an immutable map from string to V split into a power of two
// of Go maps. A change copies only the shards it touches, so that replacing
// one of 100,000 zones, or one record of a million-name zone, does not copy
// the whole map. Readers see a shardMap that never changes.
type shardMap[V any] struct {
	seed   maphash.Seed
	shards []map[string]V
	n      int
}

// newShardMap returns an empty map with room planned for about size keys.
func newShardMap[V any](size int) *shardMap[V] {
	return newShardMapSeeded[V](maphash.MakeSeed(), shardCount(size), size)
}

// newShardMapSeeded makes the shards with room for size keys in all, so
// that a bulk build does not rehash as it goes.
func newShardMapSeeded[V any](seed maphash.Seed, shards, size int) *shardMap[V] {
	m := &shardMap[V]{seed: seed, shards: make([]map[string]V, shards)}
	for i := range m.shards {
		m.shards[i] = make(map[string]V, size/shards)
	}
	return m
}

// keysPerShard is the target shard size: a change copies at most about
// this many entries.
const keysPerShard = 1024

// shardCount picks a power of two so that shards hold about keysPerShard
// keys, between 1 and 4096 shards.
func shardCount(size int) int {
	n := 1
	for n < 4096 && n*keysPerShard < size {
		n *= 2
	}
	return n
}

func (m *shardMap[V]) shardOf(k string) int {
	if len(m.shards) == 1 {
		return 0
	}
	return int(maphash.String(m.seed, k) & uint64(len(m.shards)-1))
}

// get returns the value for k.
func (m *shardMap[V]) get(k string) (V, bool) {
	v, ok := m.shards[m.shardOf(k)][k]
	return v, ok
}

// len returns the number of keys.
func (m *shardMap[V]) len() int { return m.n }

// all calls f for every entry, in no particular order.
func (m *shardMap[V]) all(f func(k string, v V)) {
	for _, s := range m.shards {
		for k, v := range s {
			f(k, v)
		}
	}
}

// mapWriter derives a new shardMap from an old one. The old map is left
// untouched; shards are cloned on their first write.
type mapWriter[V any] struct {
	m      *shardMap[V]
	copied []bool
}

// edit starts a derived copy of m. If m has grown far past its shard plan
// the copy is re-sharded, which costs one full copy now and then.
func (m *shardMap[V]) edit() *mapWriter[V] {
	if want := shardCount(m.n); want > 2*len(m.shards) {
		out := newShardMapSeeded[V](m.seed, want, m.n)
		m.all(func(k string, v V) { out.shards[out.shardOf(k)][k] = v })
		out.n = m.n
		return &mapWriter[V]{m: out, copied: allTrue(want)}
	}
	out := &shardMap[V]{seed: m.seed, shards: make([]map[string]V, len(m.shards)), n: m.n}
	copy(out.shards, m.shards)
	return &mapWriter[V]{m: out, copied: make([]bool, len(m.shards))}
}

func allTrue(n int) []bool {
	b := make([]bool, n)
	for i := range b {
		b[i] = true
	}
	return b
}

func (w *mapWriter[V]) get(k string) (V, bool) { return w.m.get(k) }

func (w *mapWriter[V]) writable(k string) map[string]V {
	i := w.m.shardOf(k)
	if !w.copied[i] {
		w.m.shards[i] = maps.Clone(w.m.shards[i])
		if w.m.shards[i] == nil {
			w.m.shards[i] = map[string]V{}
		}
		w.copied[i] = true
	}
	return w.m.shards[i]
}

func (w *mapWriter[V]) set(k string, v V) {
	s := w.writable(k)
	if _, ok := s[k]; !ok {
		w.m.n++
	}
	s[k] = v
}

func (w *mapWriter[V]) del(k string) {
	if _, ok := w.get(k); !ok {
		return
	}
	delete(w.writable(k), k)
	w.m.n--
}

// done returns the new map; the writer must not be used afterwards.
func (w *mapWriter[V]) done() *shardMap[V] { return w.m }

// newMapWriter starts a fresh map planned for about size keys.
func newMapWriter[V any](size int) *mapWriter[V] {
	m := newShardMap[V](size)
	return &mapWriter[V]{m: m, copied: allTrue(len(m.shards))}
}
