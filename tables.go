// The flat tables Resolve reads after hashing a key: keys by their hash,
// and an environment's published event types by name. Each is one array,
// open-addressed and probed linearly, built once and only read. A Go map
// reaches an entry through its header, its groups and, for string keys,
// the bytes of every key it compares, each a cache miss on a large
// snapshot; here a lookup reads one slot, or a few neighbours, and then
// only what the answer needs.

package nahook

import (
	"encoding/binary"
	"hash/maphash"

	"github.com/nahook/nahook/store"
)

// keyTable finds the route of an active environment key by its hash. The
// hash is a SHA-256 digest, uniformly random whoever picks the keys, so
// the table indexes by its bytes as they are instead of hashing them
// again. A slot, one cache line (TestKeySlotLayout), holds the whole
// digest, compared in full, the key's route, and the table of its
// environment's types: routing an event looks its type up in that table
// as soon as the slot is read, while the route is read alongside.
type keyTable []keySlot // a power of two long, at most three quarters full

type keySlot struct {
	hash  store.KeyHash
	types typeTable // route.env.types
	route *keyRoute // nil in an empty slot
}

// newKeyTable returns a table holding the given slots; of two with the
// same hash, the later wins.
func newKeyTable(slots []keySlot) keyTable {
	if len(slots) == 0 {
		return nil
	}
	t := make(keyTable, tableSize(len(slots)))
	for _, s := range slots {
		i := t.home(&s.hash)
		for t[i].route != nil && t[i].hash != s.hash {
			i = (i + 1) & (len(t) - 1)
		}
		t[i] = s
	}
	return t
}

// home is the slot a hash is looked for from. The snapshot shards keys on
// the hash's first byte, so the index comes from the bytes after it.
func (t keyTable) home(h *store.KeyHash) int {
	return int(binary.LittleEndian.Uint64(h[1:9]) & uint64(len(t)-1))
}

// find returns the slot of the key with hash h, or nil. The slot is the
// table's own.
func (t keyTable) find(h *store.KeyHash) *keySlot {
	if len(t) == 0 {
		return nil
	}
	for i := t.home(h); ; i = (i + 1) & (len(t) - 1) {
		switch s := &t[i]; {
		case s.route == nil:
			return nil
		case sameHash(&s.hash, h):
			return s
		}
	}
}

// sameHash is s == h, compared a word at a time in line: == on two arrays
// of 32 bytes is a call to the runtime's memequal.
func sameHash(s, h *store.KeyHash) bool {
	le := binary.LittleEndian
	return le.Uint64(s[0:]) == le.Uint64(h[0:]) && le.Uint64(s[8:]) == le.Uint64(h[8:]) &&
		le.Uint64(s[16:]) == le.Uint64(h[16:]) && le.Uint64(s[24:]) == le.Uint64(h[24:])
}

// each calls fn for every slot in use.
func (t keyTable) each(fn func(keySlot)) {
	for _, s := range t {
		if s.route != nil {
			fn(s)
		}
	}
}

// typeTable holds the routes of the event types published in one
// environment, found by name. Names are chosen by customers, so they are
// hashed with a seed no one outside the process knows: a workspace cannot
// make its types collide on purpose to slow every lookup into its
// environment. Each slot is a whole typeRoute, so that a lookup reads the
// route where it finds it, and a slot's hash, in its first bytes, lets a
// probe pass another type without reading that type's name.
type typeTable []typeRoute // a power of two long, at most three quarters full

// typeSeed seeds the hash of event type names, for the life of the
// process: tables built at different times are read with the same hash.
var typeSeed = maphash.MakeSeed()

// typeHash is the hash of an event type name in a typeTable: never 0,
// which marks an empty slot.
func typeHash(name string) uint64 {
	return maphash.String(typeSeed, name) | 1
}

// newTypeTable indexes routes by name.
func newTypeTable(routes map[string]*typeRoute) typeTable {
	if len(routes) == 0 {
		return nil
	}
	t := make(typeTable, tableSize(len(routes)))
	for name, tr := range routes {
		h := typeHash(name)
		i := int(h>>1) & (len(t) - 1)
		for t[i].hash != 0 {
			i = (i + 1) & (len(t) - 1)
		}
		t[i] = *tr
		t[i].hash, t[i].name = h, name
		copy(t[i].head[:], name)
	}
	return t
}

// find returns the route of the named type, or nil if it is not published
// in the environment. The route is the table's own.
func (t typeTable) find(name string) *typeRoute {
	if len(t) == 0 {
		return nil
	}
	h := typeHash(name)
	for i := int(h>>1) & (len(t) - 1); ; i = (i + 1) & (len(t) - 1) {
		switch tr := &t[i]; {
		case tr.hash == 0:
			return nil
		case tr.hash == h && tr.sameName(name):
			return tr
		}
	}
}

// sameName reports whether the slot's type is called name, reading the
// bytes of tr.name, a load that must wait for the slot's, only for a
// name longer than head.
func (tr *typeRoute) sameName(name string) bool {
	if len(name) != len(tr.name) {
		return false
	}
	if len(name) <= len(tr.head) {
		return string(tr.head[:len(name)]) == name
	}
	return string(tr.head[:]) == name[:len(tr.head)] && tr.name[len(tr.head):] == name[len(tr.head):]
}

// tableSize is the length of a table for n entries: the power of two that
// keeps it at most three quarters full, so that probes stay short and
// always end at an empty slot.
func tableSize(n int) int {
	size := 2
	for size < n+n/3+1 {
		size *= 2
	}
	return size
}
